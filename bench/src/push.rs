//! `push` (issue 19): live streams under a burst of publications. One release server over a
//! fresh SQLite file; `clients` SSE streams on `GET /v1/live` (raw HTTP/1.1, one connection
//! each); the server's resident memory before and after they open (memory per idle stream);
//! then `publications` stories created and published one after another by an editor, and for
//! every stream and story the time from sending the publish mutation to the story's `change`
//! event arriving (delivery lag), and whether every stream got every story exactly once. A
//! stream the server ends (a slow consumer) reconnects with `Last-Event-ID`, as a browser's
//! `EventSource` does; reconnections are counted.
//!
//! Not measured here: webhook deliveries (the subscriptions of part 1 of the issue).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::abuse::{editor_token, exchange, graphql_body, post};
use super::reads::{mib, resident};
use super::{Failure, Server, gazette_binary, ms, percentile, remove_db, temp_db};

/// How long the bench waits for the last event after the last publication.
const DRAIN: Duration = Duration::from_secs(60);

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

pub async fn push(clients: usize, publications: usize) -> Result<(), Failure> {
    let (path, url) = temp_db("push");
    let seed = std::process::Command::new(gazette_binary()?)
        .args(["seed", "--generated", "0"])
        .env("DATABASE_URL", &url)
        .status()?;
    if !seed.success() {
        return Err("gazette seed failed".into());
    }
    let slots = (clients + 8).to_string();
    let server = Server::start(
        &url,
        &[
            ("GAZETTE_JWT_SECRET", super::abuse::JWT_SECRET),
            ("GAZETTE_LIVE_MAX_SUBSCRIBERS", &slots),
            ("GAZETTE_LIVE_MAX_PER_CLIENT", &slots),
        ],
    )
    .await?;
    let pid = server.child.id();
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
    let per_stream = (idle_after.saturating_sub(idle_before) * 1024) as f64 / clients as f64;

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

    let token = editor_token()?;
    let bearer = format!("Authorization: Bearer {token}\r\n");
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
    let (busy, peak) = resident(pid)?;

    let deadline = tokio::time::Instant::now() + DRAIN;
    let mut failed = 0;
    for follower in followers {
        match tokio::time::timeout_at(deadline, follower).await {
            Ok(Ok(Ok(()))) => {}
            _ => failed += 1,
        }
    }
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
    println!("### Push: {clients} SSE streams, {publications} publications (SQLite)\n");
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
    drop(received);
    server.stop()?;
    remove_db(&path);
    if lags.len() != expected {
        return Err(format!("{} of {expected} events arrived", lags.len()).into());
    }
    Ok(())
}
