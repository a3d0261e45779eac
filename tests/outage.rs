//! PostgreSQL going away under load: the server answers only 503s with `Retry-After` while it
//! is gone, says so on `/readyz`, serves again as soon as it is back (no restart), and loses
//! neither a committed write nor a counted view.
//!
//! The outage is real but local: the server reaches PostgreSQL through a TCP proxy the test
//! controls, which refuses new connections and cuts open ones while "down", so the shared
//! PostgreSQL keeps running for the other tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gazette_tests::{Db, TestApp, pg_admin_url, spawn_app_with, token};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";
const READ: &str = "query($s: String!) { article(slug: $s) { headline topics { slug } } }";
const CREATE: &str = "mutation($i: CreateArticleInput!) { createArticle(input: $i) { slug } }";
/// How long the test waits for anything to happen before failing (a liveness bound).
const PATIENCE: Duration = Duration::from_secs(30);

/// A TCP proxy to PostgreSQL that can be taken down and brought back on the same port.
pub(crate) struct Proxy {
    pub(crate) addr: SocketAddr,
    up: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub(crate) async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (up, mut state) = watch::channel(true);
        let task = tokio::spawn(async move {
            let mut listener = Some(listener);
            loop {
                let serving = match listener.take() {
                    Some(listener) => listener,
                    None => rebind(addr).await,
                };
                let mut pipes = JoinSet::new();
                loop {
                    tokio::select! {
                        accepted = serving.accept() => {
                            if let Ok((client, _)) = accepted {
                                pipes.spawn(pipe(client, upstream));
                            }
                        }
                        changed = state.changed() => {
                            if changed.is_err() { return; }
                            if !*state.borrow_and_update() { break; }
                        }
                        Some(_) = pipes.join_next(), if !pipes.is_empty() => {}
                    }
                }
                // Down: no listener (connections are refused) and every open one is cut.
                drop(serving);
                pipes.shutdown().await;
                while !*state.borrow_and_update() {
                    if state.changed().await.is_err() {
                        return;
                    }
                }
            }
        });
        Self { addr, up, task }
    }

    pub(crate) fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn rebind(addr: SocketAddr) -> TcpListener {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(error) => {
                assert!(Instant::now() < deadline, "cannot rebind {addr}: {error}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn pipe(mut client: TcpStream, upstream: SocketAddr) {
    if let Ok(mut server) = TcpStream::connect(upstream).await {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}

/// `host:port` of a PostgreSQL URL (`postgres://user@host:port/db`).
pub(crate) fn host_port(url: &str) -> SocketAddr {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let authority = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:5432")
    };
    let authority = authority.replace("localhost", "127.0.0.1");
    authority.parse().expect("a host:port PostgreSQL URL")
}

/// `url` with its host and port replaced by `addr`.
pub(crate) fn via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, rest) = match rest.rsplit_once('@') {
        Some((user, rest)) => (format!("{user}@"), rest),
        None => (String::new(), rest),
    };
    let path = rest.find(['/', '?']).map_or("", |at| &rest[at..]);
    format!("{scheme}://{user}{addr}{path}")
}

/// What a request during the test got.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: bool,
}

async fn answer(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status().as_u16(),
        retry_after: response.headers().contains_key("retry-after"),
    }
}

/// Readers that keep reading (GraphQL and REST) until told to stop; what they got.
fn readers(app: &TestApp, stop: &Arc<AtomicBool>) -> Vec<tokio::task::JoinHandle<Vec<Answer>>> {
    (0..3)
        .map(|i| {
            let (client, stop) = (app.client.clone(), Arc::clone(stop));
            let (graphql, rest) = (app.url("/graphql"), app.url("/v1/articles?first=5"));
            tokio::spawn(async move {
                let mut answers = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let response = if i % 2 == 0 {
                        client
                            .post(&graphql)
                            .json(&json!({ "query": READ, "variables": { "s": SAMPLE } }))
                            .send()
                            .await
                    } else {
                        client.get(&rest).send().await
                    };
                    answers.push(answer(response.expect("every request is answered")).await);
                    // A steady reader, not a flood.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                answers
            })
        })
        .collect()
}

async fn beacon(app: &TestApp) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/v1/views"))
        .json(&json!({ "slug": SAMPLE }))
        .send()
        .await
        .expect("beacon sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn create(app: &TestApp, slug: &str) -> Answer {
    let response = app
        .gql_authorized(
            Some(&format!("Bearer {}", token("editor", "alice"))),
            CREATE,
            json!({ "i": { "headline": "Filed around an outage", "slug": slug } }),
        )
        .await;
    answer(response).await
}

async fn exists(app: &TestApp, slug: &str) -> bool {
    let data = app
        .gql_ok_as(
            &token("editor", "alice"),
            "query($s: String!) { article(slug: $s) { id } }",
            json!({ "s": slug }),
        )
        .await;
    !data["article"].is_null()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_gives_503s_and_ends_without_a_restart() {
    let proxy = Proxy::start(host_port(&pg_admin_url())).await;
    let proxy_addr = proxy.addr;
    let app = spawn_app_with(Db::Postgres, move |args| {
        args.db.database_url = via(&args.db.database_url, proxy_addr);
        args.pool.db_acquire_timeout_ms = 1_000;
    })
    .await;
    gazette_persistence::seed_sample_content(&app.store, 0, chrono::Utc::now())
        .await
        .expect("seed");
    assert_eq!(create(&app, "filed-before").await.status, 200);
    let mut counted = 0;
    for _ in 0..3 {
        let (status, body) = beacon(&app).await;
        assert_eq!(status, 202);
        counted += i64::from(body["counted"] == true);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let load = readers(&app, &stop);

    proxy.set_up(false);
    let deadline = Instant::now() + PATIENCE;
    while app.get("/readyz").await.status() != 503 {
        assert!(
            Instant::now() < deadline,
            "/readyz never reported the outage"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // While it is down, whatever needs the database is answered 503 with Retry-After, and
    // readiness says so.
    let mut slowest = Duration::ZERO;
    for i in 0..10 {
        // The store knows the database is gone: statements are refused without waiting for a
        // connection that cannot be made.
        assert!(!app.store.pool_stats().reachable);
        let mut timed = Vec::new();
        for request in 0..4 {
            let started = Instant::now();
            let got = match request {
                0 => {
                    answer(
                        app.client
                            .post(app.url("/graphql"))
                            .json(&json!({ "query": READ, "variables": { "s": SAMPLE } }))
                            .send()
                            .await
                            .unwrap(),
                    )
                    .await
                }
                1 => answer(app.get("/v1/articles?first=5").await).await,
                2 => create(&app, &format!("filed-during-{i}")).await,
                _ => answer(app.get("/readyz").await).await,
            };
            slowest = slowest.max(started.elapsed());
            timed.push(got);
        }
        for got in timed {
            assert_eq!(got.status, 503, "{got:?}");
            assert!(got.retry_after, "{got:?}");
        }
        // A beacon for an article looked up moments ago is still counted in memory.
        let (status, body) = beacon(&app).await;
        assert!(status == 202 || status == 503, "{status} {body}");
        counted += i64::from(status == 202 && body["counted"] == true);
    }
    eprintln!("slowest answer while the database was down: {slowest:?}");

    proxy.set_up(true);
    let back = Instant::now();
    loop {
        let response = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": READ, "variables": { "s": SAMPLE } }))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            break;
        }
        assert!(back.elapsed() < PATIENCE, "never served again");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!(
        "served again {:?} after the database came back",
        back.elapsed()
    );
    stop.store(true, Ordering::Relaxed);
    let mut answers = Vec::new();
    for reader in load {
        answers.extend(reader.await.expect("reader ends"));
    }
    // Under load, through the whole outage: only answers, only 200s and 503s, every 503 with
    // Retry-After.
    assert!(
        answers.iter().any(|a| a.status == 503),
        "the load never saw the outage"
    );
    for got in &answers {
        assert!(
            got.status == 200 || (got.status == 503 && got.retry_after),
            "{got:?}"
        );
    }

    assert_eq!(app.get("/readyz").await.status(), 200);
    assert!(
        exists(&app, "filed-before").await,
        "a committed write was lost"
    );
    for i in 0..10 {
        assert!(!exists(&app, &format!("filed-during-{i}")).await);
    }
    assert_eq!(create(&app, "filed-after").await.status, 200);
    // Views counted before and during the outage are all written once it is over.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let stored = app.store.total_views().await.expect("count views");
        if stored == counted {
            break;
        }
        assert!(stored < counted, "{stored} views stored, {counted} counted");
        assert!(
            Instant::now() < deadline,
            "{stored} views stored, {counted} counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
