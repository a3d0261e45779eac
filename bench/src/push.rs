//! `push` (issue 19): live streams and partner webhooks under a burst of publications. One
//! release server over a fresh SQLite file; `subscribers` webhook subscriptions, made over
//! GraphQL by one partner token, each to its own receiver (an HTTP server in this process on
//! 127.0.0.1, a port per subscription, as separate partners would be); `clients` SSE streams on
//! `GET /v1/live` (raw HTTP/1.1, one connection each); the server's resident memory before and
//! after the streams open (memory per idle stream); then `publications` stories created and
//! published one after another by an editor.
//!
//! Streams: for every stream and story the time from sending the publish mutation to the
//! story's `change` event arriving (delivery lag), and whether every stream got every story
//! exactly once. A stream the server ends (a slow consumer) reconnects with `Last-Event-ID`, as
//! a browser's `EventSource` does; reconnections are counted.
//!
//! Webhooks: each receiver checks every request's Standard Webhooks signature with the
//! specification's own library (`standardwebhooks`; a request that fails is answered 401 and
//! counted) and answers 204. For every subscription and story, the first `article.published`
//! delivery's arrival less the publish mutation's send time is its lag; a later delivery of the
//! same pair is a duplicate (at least once allows them; counted, and how many repeated a
//! `webhook-id`); a pair with none by the drain deadline is lost. The sender's concurrency,
//! places per subscription, batch and poll default to 64, 16, 256 and 200 ms here
//! (`GAZETTE_WEBHOOK_CONCURRENCY`, `_PER_SUBSCRIPTION`, `_BATCH`, `_POLL_MS` in the environment
//! override them).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::serve::ListenerExt as _;
use standardwebhooks::Webhook;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::abuse::{editor_token, exchange, graphql_body, post, token};
use super::reads::{mib, resident};
use super::{Failure, Server, gazette_binary, ms, percentile, remove_db, temp_db};

/// What the streams received: per story number, per stream, the arrival instant.
#[derive(Default)]
struct Received {
    arrivals: HashMap<usize, Vec<Instant>>,
    duplicates: usize,
    reconnects: usize,
}

/// Opens `/v1/live` (resuming after `last_id`) and reads up to the `ready` event; returns the
/// stream and what it read after that event.
async fn open(
    addr: std::net::SocketAddr,
    last_id: Option<&str>,
) -> Result<(TcpStream, Vec<u8>), Failure> {
    let mut stream = TcpStream::connect(addr).await?;
    let resume = last_id.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
    stream
        .write_all(
            format!(
                "GET /v1/live HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n{resume}\r\n"
            )
            .as_bytes(),
        )
        .await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut chunk))
            .await
            .map_err(|_| "no ready event within 30 s")??;
        if n == 0 {
            return Err("stream closed before its ready event".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = find(&buf, b"ready\n")
            && let Some(end) = find(&buf[at..], b"\n\n")
        {
            let rest = buf.split_off(at + end + 2);
            return Ok((stream, rest));
        }
        if !buf.starts_with(b"HTTP/1.1 200") && buf.len() >= 12 {
            return Err(
                format!("/v1/live answered {}", String::from_utf8_lossy(&buf[..12])).into(),
            );
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one stream's events until `total` stories arrived or the stream is dropped; records
/// arrivals; reconnects with `Last-Event-ID` when the server ends the stream.
async fn follow(
    addr: std::net::SocketAddr,
    mut stream: TcpStream,
    mut buf: Vec<u8>,
    total: usize,
    received: Arc<Mutex<Received>>,
) -> Result<(), Failure> {
    let mut seen = vec![false; total];
    let mut count = 0;
    let mut last_id: Option<String> = None;
    let mut chunk = vec![0u8; 16 * 1024];
    while count < total {
        // Whole events only (chunked framing lines are skipped by what they do not contain).
        while let Some(end) = find(&buf, b"\n\n") {
            let event: Vec<u8> = buf.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&event);
            if !text
                .lines()
                .any(|l| l.starts_with("event:") && l.trim_end().ends_with("change"))
            {
                continue;
            }
            if let Some(id) = text.lines().find_map(|l| l.strip_prefix("id:")) {
                last_id = Some(id.trim().to_owned());
            }
            let Some(n) = text
                .split("\"slug\":\"push-")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            let now = Instant::now();
            let mut received = received
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if n < total && !seen[n] {
                seen[n] = true;
                count += 1;
                received.arrivals.entry(n).or_default().push(now);
            } else {
                received.duplicates += 1;
            }
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            // Ended by the server: resume where it left off.
            let (again, rest) = open(addr, last_id.as_deref()).await?;
            stream = again;
            buf = rest;
            received
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .reconnects += 1;
            continue;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

/// What the webhook receivers got.
struct Inbox {
    publications: usize,
    /// Each subscription's signature check, set once the subscriptions are made (before the
    /// first publication).
    verifiers: OnceLock<Vec<Webhook>>,
    /// Connections the receivers accepted (the sender's connection reuse).
    connections: AtomicUsize,
    hooked: Mutex<Hooked>,
}

#[derive(Default)]
struct Hooked {
    /// Per subscription and story (`subscription * publications + story`), the first arrival.
    first: Vec<Option<Instant>>,
    delivered: usize,
    requests: usize,
    /// Deliveries of a pair that had already arrived, and of those, how many repeated a
    /// `webhook-id` (a retry of one message rather than a second message).
    duplicates: usize,
    repeated_ids: usize,
    bad_signatures: usize,
    /// Signed deliveries of anything but a bench story's publication, by event type.
    other: BTreeMap<String, usize>,
    ids: HashSet<String>,
}

impl Inbox {
    fn hooked(&self) -> MutexGuard<'_, Hooked> {
        self.hooked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One subscription's endpoint.
struct Endpoint {
    inbox: Arc<Inbox>,
    subscription: usize,
}

async fn hook(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let now = Instant::now();
    let inbox = &endpoint.inbox;
    let verified = inbox
        .verifiers
        .get()
        .and_then(|all| all.get(endpoint.subscription))
        .is_some_and(|webhook| webhook.verify(&body, &headers).is_ok());
    let mut guard = inbox.hooked();
    let hooked = &mut *guard;
    hooked.requests += 1;
    if !verified {
        hooked.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let repeated = !hooked.ids.insert(id.to_owned());
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let kind = event["type"].as_str().unwrap_or("(no type)");
    let story = event["article"]["slug"]
        .as_str()
        .and_then(|slug| slug.strip_prefix("push-"))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| kind == "article.published" && *n < inbox.publications);
    let Some(n) = story else {
        *hooked.other.entry(kind.to_owned()).or_default() += 1;
        return StatusCode::NO_CONTENT;
    };
    let slot = &mut hooked.first[endpoint.subscription * inbox.publications + n];
    if slot.is_none() {
        *slot = Some(now);
        hooked.delivered += 1;
    } else {
        hooked.duplicates += 1;
        hooked.repeated_ids += usize::from(repeated);
    }
    StatusCode::NO_CONTENT
}

/// Starts `count` receivers on 127.0.0.1, each on its own port; their addresses and tasks.
async fn receivers(
    inbox: &Arc<Inbox>,
    count: usize,
) -> Result<(Vec<SocketAddr>, Vec<JoinHandle<()>>), Failure> {
    let mut addrs = Vec::with_capacity(count);
    let mut tasks = Vec::with_capacity(count);
    for subscription in 0..count {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        addrs.push(listener.local_addr()?);
        let counted = Arc::clone(inbox);
        let listener = listener.tap_io(move |_| {
            counted.connections.fetch_add(1, Ordering::Relaxed);
        });
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(Arc::new(Endpoint {
                inbox: Arc::clone(inbox),
                subscription,
            }));
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        }));
    }
    Ok((addrs, tasks))
}

/// Makes one subscription per receiver as `partner`; their signature checks, in order.
async fn subscribe(
    server: SocketAddr,
    partner: &str,
    receivers: &[SocketAddr],
) -> Result<Vec<Webhook>, Failure> {
    let bearer = format!("Authorization: Bearer {partner}\r\n");
    let mut stream = TcpStream::connect(server).await?;
    let mut verifiers = Vec::with_capacity(receivers.len());
    for addr in receivers {
        let create = graphql_body(
            "mutation($input: WebhookSubscriptionInput!) { \
             createWebhookSubscription(input: $input) { secret subscription { id } } }",
            &serde_json::json!({ "input": { "url": format!("http://{addr}/hook") } }),
        );
        let answer = exchange(&mut stream, &post("/graphql", &create, &bearer)).await?;
        let body: serde_json::Value = serde_json::from_slice(&answer.body)?;
        let secret = body["data"]["createWebhookSubscription"]["secret"]
            .as_str()
            .ok_or_else(|| format!("createWebhookSubscription: {body}"))?;
        verifiers.push(Webhook::new(secret)?);
    }
    Ok(verifiers)
}

/// A webhook sender setting: the environment's when set, else the bench's.
fn setting(name: &str, bench: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| bench.to_owned())
}

pub async fn push(
    clients: usize,
    subscribers: usize,
    publications: usize,
    drain: Duration,
) -> Result<(), Failure> {
    if subscribers > 1_000 {
        return Err("at most 1,000 subscribers (GAZETTE_WEBHOOK_MAX_PER_PARTNER's limit)".into());
    }
    let (path, url) = temp_db("push");
    let seed = std::process::Command::new(gazette_binary()?)
        .args(["seed", "--generated", "0"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .status()?;
    if !seed.success() {
        return Err("gazette seed failed".into());
    }
    let slots = (clients + 8).to_string();
    // Each stream holds a connection: room for them and the editor's.
    let connections = (clients + 64).to_string();
    let per_partner = subscribers.to_string();
    let concurrency = setting("GAZETTE_WEBHOOK_CONCURRENCY", "64");
    let per_subscription = setting("GAZETTE_WEBHOOK_PER_SUBSCRIPTION", "16");
    let batch = setting("GAZETTE_WEBHOOK_BATCH", "256");
    let poll = setting("GAZETTE_WEBHOOK_POLL_MS", "200");
    let mut env: Vec<(&str, &str)> = vec![
        ("GAZETTE_JWT_SECRET", super::abuse::JWT_SECRET),
        ("GAZETTE_LIVE_MAX_SUBSCRIBERS", slots.as_str()),
        ("GAZETTE_LIVE_MAX_PER_CLIENT", slots.as_str()),
        ("GAZETTE_MAX_CONNECTIONS", connections.as_str()),
    ];
    if subscribers > 0 {
        env.extend([
            ("GAZETTE_WEBHOOK_MAX_PER_PARTNER", per_partner.as_str()),
            ("GAZETTE_WEBHOOK_ALLOW_HOSTS", "127.0.0.1"),
            ("GAZETTE_WEBHOOK_CONCURRENCY", concurrency.as_str()),
            (
                "GAZETTE_WEBHOOK_PER_SUBSCRIPTION",
                per_subscription.as_str(),
            ),
            ("GAZETTE_WEBHOOK_BATCH", batch.as_str()),
            ("GAZETTE_WEBHOOK_POLL_MS", poll.as_str()),
        ]);
    }
    let server = Server::start(&url, &env).await?;
    let pid = server.child.id();

    // The subscriptions first: they start at the log's head, before the first publication.
    let inbox = Arc::new(Inbox {
        publications,
        verifiers: OnceLock::new(),
        connections: AtomicUsize::new(0),
        hooked: Mutex::new(Hooked {
            first: vec![None; subscribers * publications],
            ..Hooked::default()
        }),
    });
    let (hook_addrs, hook_tasks) = receivers(&inbox, subscribers).await?;
    if subscribers > 0 {
        let partner = token("partner", "push-bench")?;
        let verifiers = subscribe(server.addr, &partner, &hook_addrs).await?;
        let _ = inbox.verifiers.set(verifiers);
    }

    let (idle_before, _) = resident(pid)?;
    let mut opened = Vec::with_capacity(clients);
    let opening = Instant::now();
    for _ in 0..clients {
        opened.push(open(server.addr, None).await?);
    }
    let open_time = opening.elapsed();
    // Let the server settle its allocations before reading its memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (idle_after, _) = resident(pid)?;
    let per_stream = (idle_after.saturating_sub(idle_before) * 1024) as f64 / clients.max(1) as f64;

    let received = Arc::new(Mutex::new(Received::default()));
    let followers: Vec<_> = opened
        .into_iter()
        .map(|(stream, rest)| {
            tokio::spawn(follow(
                server.addr,
                stream,
                rest,
                publications,
                Arc::clone(&received),
            ))
        })
        .collect();

    let bearer = format!("Authorization: Bearer {}\r\n", editor_token()?);
    let mut editor = TcpStream::connect(server.addr).await?;
    let mut sent = Vec::with_capacity(publications);
    let publishing = Instant::now();
    for n in 0..publications {
        let create = graphql_body(
            "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id } }",
            &serde_json::json!({ "input": {
                "headline": format!("Push bench story {n}"),
                "slug": format!("push-{n}"),
                "body": [{ "type": "paragraph", "text": "Breaking." }],
            }}),
        );
        let answer = exchange(&mut editor, &post("/graphql", &create, &bearer)).await?;
        let body: serde_json::Value = serde_json::from_slice(&answer.body)?;
        let id = body["data"]["createArticle"]["id"]
            .as_str()
            .ok_or_else(|| format!("createArticle: {body}"))?
            .to_owned();
        let publish = graphql_body(
            "mutation($id: ID!) { publishArticle(id: $id) { id } }",
            &serde_json::json!({ "id": id }),
        );
        sent.push(Instant::now());
        let answer = exchange(&mut editor, &post("/graphql", &publish, &bearer)).await?;
        if answer.status != 200 || answer.body.windows(8).any(|w| w == b"\"errors\"") {
            return Err(
                format!("publishArticle: {}", String::from_utf8_lossy(&answer.body)).into(),
            );
        }
    }
    let publish_time = publishing.elapsed();
    let published = Instant::now();
    let (busy, peak) = resident(pid)?;

    // Streams and webhooks share one deadline, `drain` after the last publication.
    let deadline = tokio::time::Instant::now() + drain;
    let mut failed = 0;
    for follower in followers {
        match tokio::time::timeout_at(deadline, follower).await {
            Ok(Ok(Ok(()))) => {}
            _ => failed += 1,
        }
    }
    let hook_expected = subscribers * publications;
    while inbox.hooked().delivered < hook_expected && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, peak_after_drain) = resident(pid)?;

    let received = received
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut lags: Vec<Duration> = Vec::with_capacity(clients * publications);
    for (n, arrivals) in &received.arrivals {
        lags.extend(
            arrivals
                .iter()
                .map(|at| at.saturating_duration_since(sent[*n])),
        );
    }
    lags.sort_unstable();
    let expected = clients * publications;
    println!(
        "### Push: {clients} SSE streams, {subscribers} webhook subscriptions, {publications} publications (SQLite)\n"
    );
    println!("| measure | value |\n| --- | --- |");
    println!(
        "| streams opened (one after another) | {clients} in {:.2} s |",
        open_time.as_secs_f64()
    );
    println!(
        "| server resident memory, before / after opening them | {} / {} |",
        mib(idle_before),
        mib(idle_after)
    );
    println!(
        "| memory per idle stream | **{:.1} KiB** |",
        per_stream / 1024.0
    );
    println!(
        "| publications (create + publish, one editor, back to back) | {publications} in {:.2} s |",
        publish_time.as_secs_f64()
    );
    println!(
        "| events delivered / expected | {} / {expected} ({} duplicates, {} streams short at the deadline) |",
        lags.len(),
        received.duplicates,
        failed
    );
    println!(
        "| reconnections (`Last-Event-ID`) | {} |",
        received.reconnects
    );
    println!(
        "| delivery lag (publish sent → event read), p50 / p99 / max | {} / **{}** / {} |",
        ms(percentile(&lags, 50.0)),
        ms(percentile(&lags, 99.0)),
        ms(lags.last().copied().unwrap_or_default())
    );
    println!(
        "| server resident memory after the burst, current / peak | {} / {} |",
        mib(busy),
        mib(peak)
    );
    println!();
    let streams_ok = lags.len() == expected;
    drop(received);

    let hooks_ok = if subscribers > 0 {
        webhook_report(
            &inbox,
            &sent,
            published,
            drain,
            [
                concurrency.as_str(),
                per_subscription.as_str(),
                batch.as_str(),
                poll.as_str(),
            ],
            peak_after_drain,
        )
    } else {
        true
    };
    for task in hook_tasks {
        task.abort();
    }
    server.stop()?;
    remove_db(&path);
    if !streams_ok {
        return Err(format!("{} of {expected} events arrived", lags.len()).into());
    }
    if !hooks_ok {
        return Err("webhook deliveries lost or badly signed".into());
    }
    Ok(())
}

/// Prints the webhook section; whether every pair arrived, every signature verified.
fn webhook_report(
    inbox: &Inbox,
    sent: &[Instant],
    published: Instant,
    drain: Duration,
    [concurrency, per_subscription, batch, poll]: [&str; 4],
    peak: u64,
) -> bool {
    let hooked = inbox.hooked();
    let publications = inbox.publications.max(1);
    let subscribers = hooked.first.len() / publications;
    let mut lags: Vec<Duration> = Vec::with_capacity(hooked.first.len());
    let mut last: Option<Instant> = None;
    for (pair, arrival) in hooked.first.iter().enumerate() {
        if let Some(at) = arrival {
            lags.push(at.saturating_duration_since(sent[pair % publications]));
            last = last.max(Some(*at));
        }
    }
    lags.sort_unstable();
    let expected = hooked.first.len();
    let lost = expected - lags.len();
    let since_first = last
        .zip(sent.first())
        .map_or(Duration::ZERO, |(last, first)| {
            last.saturating_duration_since(*first)
        });
    println!("#### Webhooks: {subscribers} subscriptions, one receiver each on 127.0.0.1\n");
    println!("| measure | value |\n| --- | --- |");
    println!(
        "| sender settings | concurrency {concurrency}, {per_subscription} per subscription, batch {batch}, poll {poll} ms |"
    );
    println!(
        "| deliveries (subscription × story) / expected | {} / {expected} |",
        lags.len()
    );
    println!(
        "| lost (never delivered within {} s of the last publication) | **{lost}** |",
        drain.as_secs()
    );
    println!(
        "| duplicates (a pair delivered again), of them a repeated `webhook-id` | {} ({}) |",
        hooked.duplicates, hooked.repeated_ids
    );
    println!(
        "| bad signatures (answered 401) | **{}** |",
        hooked.bad_signatures
    );
    if !hooked.other.is_empty() {
        println!("| other signed deliveries, by type | {:?} |", hooked.other);
    }
    println!(
        "| requests received / connections accepted | {} / {} |",
        hooked.requests,
        inbox.connections.load(Ordering::Relaxed)
    );
    println!(
        "| delivery lag (publish sent → request received), p50 / p99 / max | {} / **{}** / {} |",
        ms(percentile(&lags, 50.0)),
        ms(percentile(&lags, 99.0)),
        ms(lags.last().copied().unwrap_or_default())
    );
    println!(
        "| last delivery after the last publication | {} |",
        ms(last.map_or(Duration::ZERO, |at| at.saturating_duration_since(published)))
    );
    println!(
        "| throughput (first publication sent → last delivery) | {:.0} deliveries/s |",
        lags.len() as f64 / since_first.as_secs_f64().max(f64::EPSILON)
    );
    println!(
        "| server peak resident memory after the drain | {} |",
        mib(peak)
    );
    println!();
    lost == 0 && hooked.bad_signatures == 0
}
