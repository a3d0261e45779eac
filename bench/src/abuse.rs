//! `make bench BENCH=abuse` (issue 14): a normal reader fetches the sample article page, first
//! alone, then while hostile clients send every kind of request the issue found harmful. The
//! reader's latency in both phases, and how fast and how each hostile request was answered.
//!
//! Every client speaks raw HTTP/1.1 over its own keep-alive TCP connection. Each hostile kind
//! is one client sending its request at a bounded rate (each request waits for the previous
//! answer); slow clients trickle one header byte a second. The server logs every request's
//! own latency (its access line, JSON), so the hostile requests, which carry a request id
//! naming their kind, are timed on both sides: by the client (the whole exchange) and by the
//! server.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::{Failure, Server, gazette_binary, ms, percentile, remove_db, temp_db};

/// The sample article page in one query, as README.md shows it.
const ARTICLE_PAGE: &str = "query ArticlePage($slug: String!) {
  article(slug: $slug) {
    id headline dek source publishedAt readingTimeMinutes bodyHtml
    primaryTopic { slug name }
    topics { slug name }
    authors { name }
    body {
      __typename
      ... on ParagraphBlock { text }
      ... on QuoteBlock { text attribution }
    }
  }
  latest: articles(first: 5) { edges { node { slug headline dek } } }
  topics(first: 20) { edges { node { slug name } } }
}";

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";

/// graphql-js 16's `getIntrospectionQuery()`, what GraphiQL and codegen tools send.
const INTROSPECTION: &str =
    include_str!("../../tests/fixtures/graphql-js-16-introspection.graphql");

/// The bench server's secret for editor tokens (a draft and its preview token are made with one).
pub(crate) const JWT_SECRET: &str = "abuse-bench-secret-0123456789abcdef0123";

/// The ETag limit the bench server runs with: below the largest anonymous answer the document
/// limits allow (about 1 MB, see [`largest_get`]), which the default (8 MiB) is not.
const ETAG_LIMIT: usize = 256 * 1024;

/// Longest any one exchange may take before the client gives up on it.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest response the clients read.
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// A parsed HTTP/1.1 response.
pub(crate) struct Answer {
    pub(crate) status: u16,
    head: String,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.head, name)
    }

    fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Sends one request and reads its response (`Content-Length` or chunked), within
/// [`EXCHANGE_TIMEOUT`] and [`MAX_RESPONSE`].
pub(crate) async fn exchange(stream: &mut TcpStream, raw: &[u8]) -> Result<Answer, Failure> {
    tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        stream.write_all(raw).await?;
        read_answer(stream).await
    })
    .await
    .map_err(|_| "no answer within 30 s")?
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), Failure> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err("connection closed".into());
    }
    if buf.len() + n > MAX_RESPONSE {
        return Err("response too large".into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

async fn read_answer(stream: &mut TcpStream) -> Result<Answer, Failure> {
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        fill(stream, &mut buf).await?;
    };
    let head = String::from_utf8(buf[..head_end].to_vec())?;
    let status: u16 = head.get(9..12).ok_or("short status line")?.parse()?;
    let mut rest = buf.split_off(head_end + 4);
    let chunked = header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
                    break end;
                }
                fill(stream, &mut rest).await?;
            };
            let size_text = std::str::from_utf8(&rest[..line_end])?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
            // The chunk, then its CRLF (after the last, empty one: the end of the trailers).
            while rest.len() < line_end + 2 + size + 2 {
                fill(stream, &mut rest).await?;
            }
            body.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest.drain(..line_end + 2 + size + 2);
            if size == 0 {
                break body;
            }
            if body.len() > MAX_RESPONSE {
                return Err("response too large".into());
            }
        }
    } else {
        let length: usize = header(&head, "content-length").map_or(Ok(0), str::parse)?;
        if length > MAX_RESPONSE {
            return Err("response too large".into());
        }
        while rest.len() < length {
            fill(stream, &mut rest).await?;
        }
        rest.truncate(length);
        rest
    };
    Ok(Answer { status, head, body })
}

pub(crate) fn post(path: &str, body: &str, headers: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nAccept: application/graphql-response+json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn get(path_and_query: &str, headers: &str) -> Vec<u8> {
    format!(
        "GET {path_and_query} HTTP/1.1\r\nHost: bench\r\nAccept: application/graphql-response+json\r\n{headers}\r\n"
    )
    .into_bytes()
}

pub(crate) fn graphql_body(query: &str, variables: &serde_json::Value) -> String {
    serde_json::json!({ "query": query, "variables": variables }).to_string()
}

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `levels` fragments, each spreading the previous one twice: 2^levels fields.
fn fragment_bomb(levels: usize, n: u64) -> String {
    let mut document =
        format!("query Bomb{n} {{ ...F{levels} }}\nfragment F0 on Query {{ __typename }}\n");
    for level in 1..=levels {
        let _ = writeln!(
            document,
            "fragment F{level} on Query {{ ...F{p} ...F{p} }}",
            p = level - 1
        );
    }
    document
}

/// `count` aliased `trending(topic:)` with made-up topics: `xN` for each alias `N`, with the
/// request's number `n` too when one is given (new topics each time).
fn aliased_trending(count: usize, n: Option<u64>) -> String {
    let mut document = String::from("{");
    for i in 0..count {
        let _ = match n {
            Some(n) => write!(document, " a{i}: trending(topic: \"x{n}-{i}\") {{ score }}"),
            None => write!(document, " a{i}: trending(topic: \"x{i}\") {{ score }}"),
        };
    }
    document.push_str(" }");
    document
}

/// The largest answer an anonymous GET can have within the default document limits: the
/// alias limit's 15 pages of the newest 24 articles' HTML (a body is charged as 50 fields, so
/// 25 would cost over the 20,000 limit).
fn largest_get() -> String {
    let mut document = String::from("{");
    for i in 0..15 {
        let _ = write!(
            document,
            " a{i}: articles(first: 24) {{ edges {{ node {{ slug headline dek bodyHtml }} }} }}"
        );
    }
    document.push_str(" }");
    document
}

/// What a kind's answers look like beyond their status.
#[derive(Clone, Copy, PartialEq)]
enum Note {
    Nothing,
    /// `Cache-Control` and whether an ETag came.
    Caching,
    /// How many views the answers said were counted.
    Counted,
}

/// Makes the raw request, the `n`th of its kind, given its `x-request-id` header line.
type MakeRequest = Box<dyn Fn(u64, &str) -> Vec<u8> + Send + Sync>;

/// One kind of hostile request.
struct Kind {
    label: &'static str,
    /// Its name for `--kinds`.
    tag: &'static str,
    note: Note,
    make: MakeRequest,
}

fn kinds(preview_token: &str) -> Vec<Kind> {
    let preview_query =
        format!("{{ preview(token: \"{preview_token}\") {{ headline bodyHtml }} }}");
    let preview_path = format!("/graphql?query={}", url_encode(&preview_query));
    let largest_path = format!("/graphql?query={}", url_encode(&largest_get()));
    let nested = graphql_body(
        "{ articles(first: 100) { edges { node { related(first: 20) { related(first: 20) { related(first: 20) { slug } } } } } } }",
        &serde_json::json!({}),
    );
    let many_aliases = graphql_body(&aliased_trending(5500, None), &serde_json::json!({}));
    let introspection = graphql_body(INTROSPECTION, &serde_json::json!({}));
    let batch = serde_json::Value::Array(
        (0..1000)
            .map(|_| serde_json::json!({ "query": "{ articles(first: 100) { edges { node { slug headline } } } }" }))
            .collect(),
    )
    .to_string();
    vec![
        Kind {
            label: "fragment expansion: 24 fragments each spreading the previous twice (2^24 fields)",
            tag: "fragments",
            note: Note::Nothing,
            make: Box::new(|n, id| {
                post(
                    "/graphql",
                    &graphql_body(&fragment_bomb(24, n), &serde_json::json!({})),
                    id,
                )
            }),
        },
        Kind {
            label: "three nested `related(first: 20)` under `articles(first: 100)`",
            tag: "nested",
            note: Note::Nothing,
            make: Box::new(move |_, id| post("/graphql", &nested, id)),
        },
        Kind {
            label: "5,500 aliased `trending(topic: \"xN\")` with made-up topics",
            tag: "aliases",
            note: Note::Nothing,
            make: Box::new(move |_, id| post("/graphql", &many_aliases, id)),
        },
        Kind {
            label: "15 aliased `trending(topic: \"xN\")` (the alias limit), new made-up topics each time",
            tag: "topics",
            note: Note::Nothing,
            make: Box::new(|n, id| {
                post(
                    "/graphql",
                    &graphql_body(&aliased_trending(15, Some(n)), &serde_json::json!({})),
                    id,
                )
            }),
        },
        Kind {
            label: "a batch of 1,000 `articles(first: 100)` operations (batching on)",
            tag: "batch",
            note: Note::Nothing,
            make: Box::new(move |_, id| post("/graphql", &batch, id)),
        },
        Kind {
            label: "automatic persisted query: a new 250 KB document (mostly a comment) with its true hash",
            tag: "apq",
            note: Note::Nothing,
            make: Box::new(|n, id| {
                let document = apq_garbage(n);
                let body = serde_json::json!({
                    "query": document,
                    "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(&document) } }
                })
                .to_string();
                post("/graphql", &body, id)
            }),
        },
        Kind {
            label: "`preview(token:)` over GET, anonymous",
            tag: "preview",
            note: Note::Caching,
            make: Box::new(move |_, id| get(&preview_path, id)),
        },
        Kind {
            label: "anonymous GET of the largest answer the limits allow (15 × 24 articles' HTML), over the ETag limit",
            tag: "etag",
            note: Note::Caching,
            make: Box::new(move |_, id| get(&largest_path, id)),
        },
        Kind {
            label: "view flood from one address: `POST /v1/views` of one story, a new visitor id each time",
            tag: "views",
            note: Note::Counted,
            make: Box::new(|n, id| {
                post(
                    "/v1/views",
                    &format!(r#"{{"slug":"{SAMPLE}","visitorId":"flood-{n}"}}"#),
                    id,
                )
            }),
        },
        Kind {
            label: "introspection flood: graphql-js 16's introspection query",
            tag: "introspection",
            note: Note::Nothing,
            make: Box::new(move |_, id| post("/graphql", &introspection, id)),
        },
    ]
}

/// A document of about 250,000 bytes: an unknown field and a comment, new for each `n`.
fn apq_garbage(n: u64) -> String {
    let mut document = format!("query Garbage{n} {{ nonsense{n} }} #");
    document.push_str(&"x".repeat(250_000 - document.len()));
    document
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// What one hostile kind got.
#[derive(Default)]
struct Tally {
    sent: u64,
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, u64>,
    codes: BTreeSet<String>,
    failures: BTreeMap<String, u64>,
    request_bytes: usize,
    answer_bytes: usize,
    caching: BTreeSet<String>,
    counted: u64,
}

/// Error codes named in a body (`"code":"…"`), from its first 64 KiB.
fn codes(body: &[u8], into: &mut BTreeSet<String>) {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    for piece in text.split("\"code\":\"").skip(1) {
        if let Some(end) = piece.find('"') {
            into.insert(piece[..end].to_owned());
        }
    }
}

/// Sends `kind` at up to `rate` requests a second (each after the previous answer) until
/// `until`; reconnects after a closed connection.
async fn hostile(
    addr: SocketAddr,
    kind: Arc<Kind>,
    index: usize,
    rate: u32,
    until: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate.max(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stream: Option<TcpStream> = None;
    let mut n = 0u64;
    while Instant::now() < until {
        if rate > 0 {
            tick.tick().await;
        }
        let id = format!("x-request-id: abuse-{index}-{n}\r\n");
        let raw = (kind.make)(n, &id);
        n += 1;
        tally.sent = n;
        tally.request_bytes = tally.request_bytes.max(raw.len());
        if stream.is_none() {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                Err(e) => {
                    *tally.failures.entry(format!("connect: {e}")).or_default() += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
        }
        let Some(s) = stream.as_mut() else { continue };
        let t0 = Instant::now();
        match exchange(s, &raw).await {
            Ok(answer) => {
                tally.latencies.push(t0.elapsed());
                *tally.statuses.entry(answer.status).or_default() += 1;
                codes(&answer.body, &mut tally.codes);
                tally.answer_bytes = tally.answer_bytes.max(answer.body.len());
                match kind.note {
                    Note::Nothing => {}
                    Note::Caching => {
                        let cache = answer.header("cache-control").unwrap_or("none");
                        let etag = if answer.header("etag").is_some() {
                            "an ETag"
                        } else {
                            "no ETag"
                        };
                        tally
                            .caching
                            .insert(format!("`Cache-Control: {cache}`, {etag}"));
                    }
                    Note::Counted => {
                        if answer.body.windows(14).any(|w| w == b"\"counted\":true") {
                            tally.counted += 1;
                        }
                    }
                }
                if answer.closes() {
                    stream = None;
                }
            }
            Err(e) => {
                *tally.failures.entry(e.to_string()).or_default() += 1;
                stream = None;
            }
        }
    }
    tally
}

/// What the slow clients got.
#[derive(Default)]
struct Slow {
    /// How long each cut connection had been open.
    cuts: Vec<Duration>,
    /// Clients cut at least once.
    clients_cut: usize,
    connect_failures: u64,
}

/// A client that opens a request and sends one more header byte a second until the server
/// closes the connection (then opens another) or `until` passes; how long each connection
/// lasted before the server cut it.
async fn slow_client(addr: SocketAddr, until: Instant) -> (Vec<Duration>, u64) {
    let mut cuts = Vec::new();
    let mut failures = 0;
    while Instant::now() < until {
        let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr)).await
        else {
            failures += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let opened = Instant::now();
        let (mut reader, mut writer) = stream.into_split();
        if writer
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
            .await
            .is_err()
        {
            cuts.push(opened.elapsed());
            continue;
        }
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        let mut buf = [0u8; 1024];
        loop {
            tokio::select! {
                read = reader.read(&mut buf) => {
                    if matches!(read, Ok(0) | Err(_)) {
                        cuts.push(opened.elapsed());
                        break;
                    }
                }
                _ = tick.tick() => {
                    if Instant::now() >= until {
                        return (cuts, failures);
                    }
                    if writer.write_all(b"a").await.is_err() {
                        cuts.push(opened.elapsed());
                        break;
                    }
                }
            }
        }
    }
    (cuts, failures)
}

/// What the reader got.
struct Reading {
    latencies: Vec<Duration>,
    failed: u64,
    first_failure: Option<String>,
}

/// Fetches the sample article page in a closed loop on one keep-alive connection until
/// `until`; a failed fetch (not a 200 with `data` and no `errors`) is counted, not timed.
async fn reader(addr: SocketAddr, until: Instant) -> Reading {
    let raw = post(
        "/graphql",
        &graphql_body(ARTICLE_PAGE, &serde_json::json!({ "slug": SAMPLE })),
        "",
    );
    let mut reading = Reading {
        latencies: Vec::with_capacity(100_000),
        failed: 0,
        first_failure: None,
    };
    let mut stream: Option<TcpStream> = None;
    while Instant::now() < until {
        if stream.is_none() {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                Err(e) => {
                    reading.failed += 1;
                    reading.first_failure.get_or_insert(e.to_string());
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(s) = stream.as_mut() else { continue };
        let t0 = Instant::now();
        let outcome = exchange(s, &raw).await;
        let elapsed = t0.elapsed();
        match outcome {
            Ok(answer)
                if answer.status == 200 && !answer.body.windows(8).any(|w| w == b"\"errors\"") =>
            {
                reading.latencies.push(elapsed);
                if answer.closes() {
                    stream = None;
                }
            }
            Ok(answer) => {
                reading.failed += 1;
                reading.first_failure.get_or_insert(format!(
                    "{}: {}",
                    answer.status,
                    String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)])
                ));
                stream = None;
            }
            Err(e) => {
                reading.failed += 1;
                reading.first_failure.get_or_insert(e.to_string());
                stream = None;
            }
        }
    }
    reading.latencies.sort_unstable();
    reading
}

/// The server's resident memory, from /proc (Linux).
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// CPU time the server has used so far (user + system), from /proc (Linux; USER_HZ is 100).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Server-side latencies of the hostile requests, by kind index, from the access log.
fn server_latencies(log: &std::path::Path) -> Result<HashMap<usize, Vec<Duration>>, Failure> {
    let mut by_kind: HashMap<usize, Vec<Duration>> = HashMap::new();
    for line in std::fs::read_to_string(log)?.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let span = &entry["span"];
        let (Some(id), Some(latency)) = (span["request_id"].as_str(), span["latency_ms"].as_f64())
        else {
            continue;
        };
        let Some(kind) = id
            .strip_prefix("abuse-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|k| k.parse::<usize>().ok())
        else {
            continue;
        };
        by_kind
            .entry(kind)
            .or_default()
            .push(Duration::from_secs_f64(latency / 1000.0));
    }
    for samples in by_kind.values_mut() {
        samples.sort_unstable();
    }
    Ok(by_kind)
}

/// An editor token minted by `gazette token` with the bench server's secret.
pub(crate) fn editor_token() -> Result<String, Failure> {
    token("editor", "abuse-bench")
}

/// A one-hour token for `role` and `sub`, minted by `gazette token` with [`JWT_SECRET`].
pub(crate) fn token(role: &str, sub: &str) -> Result<String, Failure> {
    let output = Command::new(gazette_binary()?)
        .args(["token", "--role", role, "--sub", sub, "--ttl", "1h"])
        .env("GAZETTE_JWT_SECRET", JWT_SECRET)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err("gazette token failed".into());
    }
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// POSTs a GraphQL operation as `bearer` (a header line); its `data`, or the error.
async fn call(
    stream: &mut TcpStream,
    bearer: &str,
    query: &str,
    variables: &serde_json::Value,
) -> Result<serde_json::Value, Failure> {
    let answer = exchange(
        stream,
        &post("/graphql", &graphql_body(query, variables), bearer),
    )
    .await?;
    let body: serde_json::Value = serde_json::from_slice(&answer.body)?;
    if answer.status != 200 || body.get("errors").is_some() {
        return Err(format!("{}: {body}", answer.status).into());
    }
    Ok(body["data"].clone())
}

/// A draft and a preview token for it, made through the API as an editor.
async fn preview_token(addr: SocketAddr) -> Result<String, Failure> {
    let bearer = format!("Authorization: Bearer {}\r\n", editor_token()?);
    let mut stream = TcpStream::connect(addr).await?;
    let created = call(
        &mut stream,
        &bearer,
        r#"mutation { createArticle(input: { headline: "A draft under embargo", body: [{ type: "paragraph", text: "Not for readers yet." }] }) { id } }"#,
        &serde_json::json!({}),
    )
    .await?;
    let minted = call(
        &mut stream,
        &bearer,
        "mutation($id: ID!) { createPreviewToken(articleId: $id) { token } }",
        &serde_json::json!({ "id": created["createArticle"]["id"] }),
    )
    .await?;
    Ok(minted["createPreviewToken"]["token"]
        .as_str()
        .ok_or("no preview token")?
        .to_owned())
}

fn statuses(tally: &Tally) -> String {
    let mut out: Vec<String> = tally
        .statuses
        .iter()
        .map(|(status, count)| format!("{status} ×{count}"))
        .collect();
    out.extend(
        tally
            .failures
            .iter()
            .map(|(e, count)| format!("no answer ({e}) ×{count}")),
    );
    out.join(", ")
}

fn bytes(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{:.2} MiB", n as f64 / (1024.0 * 1024.0))
    } else if n >= 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

fn ratio(attack: Duration, quiet: Duration) -> f64 {
    attack.as_secs_f64() / quiet.as_secs_f64().max(1e-9)
}

pub(crate) async fn abuse(
    seconds: u64,
    rate: u32,
    slow_clients: usize,
    only: &[String],
) -> Result<(), Failure> {
    let (path, url) = temp_db("abuse");
    let log_path = path.with_extension("log");
    let seed = Command::new(gazette_binary()?)
        .args(["seed", "--generated", "200"])
        .env("DATABASE_URL", &url)
        .stdout(Stdio::null())
        .status()?;
    if !seed.success() {
        return Err("seed failed".into());
    }
    let etag_limit = ETAG_LIMIT.to_string();
    let server = Server::start_logging_to(
        &url,
        &[
            ("GAZETTE_JWT_SECRET", JWT_SECRET),
            ("GAZETTE_ALLOW_BATCHING", "true"),
            ("GAZETTE_CACHE_MAX_ETAG_BYTES", &etag_limit),
            // Every request's own latency, in JSON, for the hostile requests' server time.
            ("GAZETTE_LOG_FORMAT", "json"),
            // (The request span is at info level: without it the access line names no request.)
            (
                "RUST_LOG",
                "warn,gazette::access=debug,gazette_api::http::observe=info",
            ),
        ],
        std::fs::File::create(&log_path)?,
    )
    .await?;
    let addr = server.addr;
    let pid = server.child.id();
    let kinds: Vec<Arc<Kind>> = kinds(&preview_token(addr).await?)
        .into_iter()
        .filter(|k| only.is_empty() || only.iter().any(|tag| tag == k.tag))
        .map(Arc::new)
        .collect();
    if let Some(unknown) = only.iter().find(|tag| !kinds.iter().any(|k| &k.tag == tag)) {
        return Err(format!("no hostile kind is tagged {unknown}").into());
    }
    let phase = Duration::from_secs(seconds);

    // Warm up, then the reader alone.
    reader(addr, Instant::now() + Duration::from_secs(2)).await;
    let rss_before = rss_mib(pid);
    let cpu_0 = cpu_seconds(pid);
    let quiet = reader(addr, Instant::now() + phase).await;
    let cpu_1 = cpu_seconds(pid);

    // The attack: it starts a second before the reader reads through it and ends a second
    // after.
    let attack_until = Instant::now() + phase + Duration::from_secs(2);
    let mut slow = tokio::task::JoinSet::new();
    for _ in 0..slow_clients {
        slow.spawn(slow_client(addr, attack_until));
    }
    let mut hostiles = tokio::task::JoinSet::new();
    for (index, kind) in kinds.iter().enumerate() {
        let kind = Arc::clone(kind);
        hostiles
            .spawn(async move { (index, hostile(addr, kind, index, rate, attack_until).await) });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu_2 = cpu_seconds(pid);
    let attacked = reader(addr, Instant::now() + phase).await;
    let cpu_3 = cpu_seconds(pid);
    let mut tallies: Vec<Option<Tally>> = kinds.iter().map(|_| None).collect();
    while let Some(done) = hostiles.join_next().await {
        let (index, mut tally) = done?;
        tally.latencies.sort_unstable();
        tallies[index] = Some(tally);
    }
    let mut slow_result = Slow::default();
    while let Some(done) = slow.join_next().await {
        let (cuts, failures) = done?;
        slow_result.clients_cut += usize::from(!cuts.is_empty());
        slow_result.cuts.extend(cuts);
        slow_result.connect_failures += failures;
    }
    slow_result.cuts.sort_unstable();
    let rss_after = rss_mib(pid);

    // Was any garbage document kept? Ask for the last one by its hash alone.
    let last = kinds
        .iter()
        .position(|k| k.tag == "apq")
        .and_then(|i| tallies[i].as_ref())
        .map_or(0, |t| t.sent);
    let probe = serde_json::json!({
        "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(&apq_garbage(last.saturating_sub(1))) } }
    })
    .to_string();
    let mut stream = TcpStream::connect(addr).await?;
    let mut apq_kept = BTreeSet::new();
    codes(
        &exchange(&mut stream, &post("/graphql", &probe, ""))
            .await?
            .body,
        &mut apq_kept,
    );
    drop(stream);
    server.stop()?;
    let server_times = server_latencies(&log_path)?;
    remove_db(&path);
    let _ = std::fs::remove_file(&log_path);

    println!("### Abuse: a reader while hostile requests run, SQLite\n");
    println!(
        "Reader: one keep-alive connection fetching the sample article page (README's `ArticlePage` query) back to back, {seconds} s alone, then {seconds} s while {} hostile kinds (each one client on its own connection, {}, the next sent after the answer) and {slow_clients} slow-header clients (one header byte a second, reconnecting when cut) run. Server: the release binary over SQLite with 209 seeded articles; default settings except `GAZETTE_RATE_ANONYMOUS=0` (one address sends everything), `GAZETTE_ALLOW_BATCHING=true`, `GAZETTE_CACHE_MAX_ETAG_BYTES={ETAG_LIMIT}` and a JSON access log. Server time is the server's own latency of each request (its access log line: from the first layer to the response head); client time is the whole exchange.\n",
        kinds.len(),
        if rate == 0 {
            "back to back".to_owned()
        } else {
            format!("at most {rate} requests/s")
        }
    );
    println!(
        "| reader | fetches | failed | p50 | p90 | p99 | max |\n| --- | --- | --- | --- | --- | --- | --- |"
    );
    for (label, reading) in [("quiet", &quiet), ("under attack", &attacked)] {
        println!(
            "| {label} | {} | {} | {} | {} | **{}** | {} |",
            reading.latencies.len(),
            reading.failed,
            ms(percentile(&reading.latencies, 50.0)),
            ms(percentile(&reading.latencies, 90.0)),
            ms(percentile(&reading.latencies, 99.0)),
            ms(percentile(&reading.latencies, 100.0)),
        );
    }
    let p99_ratio = ratio(
        percentile(&attacked.latencies, 99.0),
        percentile(&quiet.latencies, 99.0),
    );
    println!(
        "| under attack ÷ quiet | | | {:.2}× | {:.2}× | **{p99_ratio:.2}×** (target ≤ 2×) | |\n",
        ratio(
            percentile(&attacked.latencies, 50.0),
            percentile(&quiet.latencies, 50.0)
        ),
        ratio(
            percentile(&attacked.latencies, 90.0),
            percentile(&quiet.latencies, 90.0)
        ),
    );
    for (label, reading) in [("quiet", &quiet), ("under attack", &attacked)] {
        if let Some(failure) = &reading.first_failure {
            println!("First failed fetch ({label}): {failure}\n");
        }
    }
    println!(
        "| hostile request | request | answers (status ×count) | codes, headers | server time: median / max (target < 50 ms); all answers | client time: median / max |\n| --- | --- | --- | --- | --- | --- |"
    );
    let mut worst_server = Duration::ZERO;
    let mut worst_client = Duration::ZERO;
    for (index, (kind, tally)) in kinds.iter().zip(&tallies).enumerate() {
        let Some(tally) = tally else { continue };
        let mut notes: Vec<String> = tally.codes.iter().map(|c| format!("`{c}`")).collect();
        notes.extend(tally.caching.iter().cloned());
        if kind.note == Note::Counted {
            notes.push(format!("{} counted", tally.counted));
        }
        if tally.answer_bytes > 0 {
            notes.push(format!("answer up to {}", bytes(tally.answer_bytes)));
        }
        let server = server_times.get(&index).map_or(&[][..], Vec::as_slice);
        worst_server = worst_server.max(percentile(server, 100.0));
        worst_client = worst_client.max(percentile(&tally.latencies, 100.0));
        println!(
            "| {} | {} | {} | {} | {} / **{}**; {:.2} s | {} / {} |",
            kind.label,
            bytes(tally.request_bytes),
            statuses(tally),
            notes.join(", "),
            ms(percentile(server, 50.0)),
            ms(percentile(server, 100.0)),
            server.iter().sum::<Duration>().as_secs_f64(),
            ms(percentile(&tally.latencies, 50.0)),
            ms(percentile(&tally.latencies, 100.0)),
        );
    }
    let cut = &slow_result.cuts;
    println!(
        "| {slow_clients} slow-header clients, one header byte a second | | **{} of {slow_clients} cut** by the header timeout ({} cuts in all{}) | | | connection open when cut: median {:.1} s, max {:.1} s |\n",
        slow_result.clients_cut,
        cut.len(),
        if slow_result.connect_failures > 0 {
            format!(", {} connects failed", slow_result.connect_failures)
        } else {
            String::new()
        },
        percentile(cut, 50.0).as_secs_f64(),
        percentile(cut, 100.0).as_secs_f64(),
    );
    let cpu = |from: Option<f64>, to: Option<f64>| match (from, to) {
        (Some(from), Some(to)) => format!(
            "{:.1} s ({:.2} cores)",
            to - from,
            (to - from) / phase.as_secs_f64()
        ),
        _ => "n/a".to_owned(),
    };
    println!(
        "Server CPU (user + system) while the reader read: {} alone, {} under attack.\n",
        cpu(cpu_0, cpu_1),
        cpu(cpu_2, cpu_3)
    );
    let rss = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |m| format!("{m:.0} MiB"));
    println!(
        "Worst hostile answer: {} server time, {} client time. Reader p99 under attack: {p99_ratio:.2}× quiet. Server memory (RSS): {} before the attack, {} after it. The last garbage persisted query asked for by hash alone: {}.\n",
        ms(worst_server),
        ms(worst_client),
        rss(rss_before),
        rss(rss_after),
        apq_kept.iter().cloned().collect::<Vec<_>>().join(", "),
    );
    Ok(())
}
