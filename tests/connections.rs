//! Connections are bounded in time, number and size: slow and idle clients are cut while
//! readers are served, oversized heads and tokens are refused before they are read or
//! verified, and shutdown drains within its deadline and still writes the last views.
//!
//! The connection tests speak raw TCP (a client that trickles a header byte at a time cannot
//! be made with an HTTP client); they run on SQLite only, as nothing in them depends on the
//! database. The shutdown tests write views and run on both.

use std::net::SocketAddr;
use std::time::Duration;

use gazette_domain::{Slug, Visibility};
use gazette_tests::{
    DatabaseLock, Db, LockKind, TestApp, eventually, on_both_databases, spawn_app_with, token,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";

/// Longest any client here waits for the server to close its connection.
const CLOSE_WAIT: Duration = Duration::from_secs(30);

/// Reads until the server closes the connection (end of stream or reset); whether it did
/// within [`CLOSE_WAIT`].
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(CLOSE_WAIT, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// A client that starts a request and then sends one more header byte every 100 ms (or
/// nothing at all) until the server closes the connection; whether it did.
async fn slow_client(addr: SocketAddr, trickle: bool) -> bool {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    if !trickle {
        return closed_by_server(&mut stream).await;
    }
    let (mut reader, mut writer) = stream.into_split();
    let trickling = async move {
        let _ = writer
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: gazette\r\nX-Slow: ")
            .await;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            if writer.write_all(b"a").await.is_err() {
                return;
            }
        }
    };
    let closed = async move {
        let mut buf = [0u8; 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(CLOSE_WAIT, async {
        tokio::select! {
            () = closed => {},
            () = trickling => {},
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_clients_are_cut_while_readers_are_served() {
    let app = spawn_app_with(Db::Sqlite, |args| {
        args.serving.header_timeout_ms = 4_000;
        args.serving.keepalive_timeout_secs = 600;
    })
    .await;
    gazette_persistence::seed_sample_content(&app.store, 0, chrono::Utc::now())
        .await
        .expect("seed");
    let clients: Vec<_> = (0..220)
        .map(|i| tokio::spawn(slow_client(app.addr, i < 200)))
        .collect();
    let connections = app.connections.clone();
    eventually("hundreds of slow clients connected", CLOSE_WAIT, || {
        connections.open() >= 200
    })
    .await;
    // A reader is served while they hold their connections.
    let data = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { headline } }",
            json!({ "s": SAMPLE }),
        )
        .await;
    assert!(data["article"]["headline"].is_string());
    assert!(app.connections.open() >= 200);
    // And every slow client is cut by the header timeout, none left hanging.
    for client in clients {
        assert!(
            client.await.expect("client ends"),
            "a slow client stayed connected"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    // The header timeout is longer than the client waits: only the keep-alive timer closes.
    let app = spawn_app_with(Db::Sqlite, |args| {
        args.serving.header_timeout_ms = 120_000;
        args.serving.keepalive_timeout_secs = 1;
    })
    .await;
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gazette\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&response).contains("\"ok\"") {
        let n = stream.read(&mut buf).await.expect("response");
        assert!(n > 0, "closed before answering");
        response.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&response).starts_with("HTTP/1.1 200"));
    assert!(
        closed_by_server(&mut stream).await,
        "idle connection kept open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let app = spawn_app_with(Db::Sqlite, |args| {
        args.serving.max_connections = 4;
        args.serving.header_timeout_ms = 1_000;
    })
    .await;
    let silent: Vec<_> = (0..12)
        .map(|_| tokio::spawn(slow_client(app.addr, false)))
        .collect();
    // Queued behind the silent ones, a reader is served once header timeouts free slots.
    assert_eq!(app.get("/healthz").await.status(), 200);
    for client in silent {
        assert!(client.await.expect("client ends"));
    }
    assert!(
        app.connections.most_open() <= 4,
        "{} connections were open at once",
        app.connections.most_open()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_tokens_and_heads_are_refused_unread() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let query = "{ articles(first: 1) { edges { cursor } } }";
    // An 8 KiB token (far over the 4 KiB cap) is refused before it is decoded.
    let long = format!("Bearer {}", "a".repeat(8 * 1024));
    let response = app.gql_authorized(Some(&long), query, json!({})).await;
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("longer than 4096 bytes"),
        "{body}"
    );
    let response = app
        .client
        .get(app.url("/v1/articles"))
        .header("authorization", &long)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "UNAUTHENTICATED");
    // A real token still passes.
    app.gql_ok_as(&token("editor", "alice"), query, json!({}))
        .await;
    // A head over 16 KiB is refused by the HTTP layer with 431.
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-padding", "p".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 431);
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// Sends a view beacon over a connection of its own (closed afterwards).
async fn beacon(app: &TestApp) -> Value {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let response = client
        .post(app.url("/v1/views"))
        .json(&json!({ "slug": SAMPLE }))
        .send()
        .await
        .expect("beacon sent");
    assert_eq!(response.status(), 202);
    response.json().await.expect("JSON")
}

on_both_databases!(
    shutdown_cuts_a_half_sent_request_at_its_deadline_and_keeps_the_views,
    |db| async move {
        // Neither the header timeout nor the keep-alive timer would close the half-sent
        // request before the test gives up: only the shutdown deadline can.
        let mut app = spawn_app_with(db, |args| {
            args.serving.shutdown_deadline_secs = 1;
            args.serving.header_timeout_ms = 600_000;
            args.serving.keepalive_timeout_secs = 600;
            args.views.view_flush_ms = 600_000;
        })
        .await;
        gazette_persistence::seed_sample_content(&app.store, 0, chrono::Utc::now())
            .await
            .expect("seed");
        for _ in 0..3 {
            assert_eq!(beacon(&app).await["counted"], true);
        }
        // Once the test client's pooled connection has gone, the half-sent request is the only
        // connection, and it is being read (not waiting in the backlog) when shutdown begins.
        let connections = app.connections.clone();
        eventually("other connections closed", CLOSE_WAIT, || {
            connections.open() == 0
        })
        .await;
        let mut half_sent = TcpStream::connect(app.addr).await.expect("connect");
        half_sent
            .write_all(b"POST /graphql HTTP/1.1\r\nHost: gazette\r\nContent-Le")
            .await
            .unwrap();
        eventually("the half-sent request is being read", CLOSE_WAIT, || {
            connections.open() == 1
        })
        .await;
        app.begin_shutdown();
        assert!(
            app.wait_stopped(Duration::from_secs(60)).await,
            "a half-sent request kept shutdown waiting"
        );
        assert!(closed_by_server(&mut half_sent).await);
        // The views were still in memory (flushes every 10 minutes here): the final flush
        // wrote them.
        assert_eq!(app.store.total_views().await.unwrap(), 3);
    }
);

on_both_databases!(shutdown_lets_requests_in_flight_finish, |db| async move {
    let mut app = spawn_app_with(db, |args| {
        args.serving.shutdown_deadline_secs = 60;
        args.pool.db_statement_timeout_ms = 120_000;
    })
    .await;
    app.settle().await;
    let lock = DatabaseLock::take(&app, LockKind::Writes).await;
    let writer = {
        let (client, url) = (app.client.clone(), app.url("/graphql"));
        tokio::spawn(async move {
            let query = "mutation($i: CreateArticleInput!) { createArticle(input: $i) { slug } }";
            let response = client
                .post(url)
                .bearer_auth(token("editor", "alice"))
                .json(&json!({ "query": query, "variables": { "i": {
                    "headline": "Filed as the server was stopping", "slug": "filed-at-shutdown"
                }}}))
                .send()
                .await
                .expect("sent");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("JSON"))
        })
    };
    let store = app.store.clone();
    eventually("the write is waiting for the lock", CLOSE_WAIT, || {
        let stats = store.pool_stats();
        stats.in_use >= 1 && stats.most_held_by_one_request >= 1
    })
    .await;
    app.begin_shutdown();
    // Shutting down: no new connection is accepted...
    let deadline = std::time::Instant::now() + CLOSE_WAIT;
    while TcpStream::connect(app.addr).await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "still accepting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...but the request in flight is finished and answered.
    lock.release().await;
    let (status, body) = writer.await.expect("writer ends");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["createArticle"]["slug"], "filed-at-shutdown");
    assert!(app.wait_stopped(Duration::from_secs(60)).await);
    let saved = app
        .store
        .article_by_slug(
            &Slug::parse("filed-at-shutdown").unwrap(),
            Visibility::Everything,
        )
        .await
        .unwrap();
    assert!(saved.is_some());
});
