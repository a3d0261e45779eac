//! `make bench BENCH=reads` (issue 17): read throughput at the server's own floor and above it.
//!
//! In one run, on SQLite and then on a fresh PostgreSQL database (dropped afterwards), over
//! 20,000 generated articles (`gazette seed --generated`) with rate limits off: `wrk` drives 32
//! keep-alive HTTP/1.1 connections at each request for a fixed time and reports req/s, p50 and
//! p99; each row's ratio is to `{ __typename }` measured on the same server in the same run.
//! Then one client alone (latest 20), the server's resident memory under the page load
//! (`/proc/PID/status`), and on SQLite the cold start of a migrated, seeded database (process
//! start to the first 200 on `/readyz`).
//!
//! `wrk` is Debian's (`apt-get install -y wrk`); the bench stops with that hint without it.

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait as _;
use tokio::net::TcpStream;

use super::{Failure, Scratch, Server, gazette_binary, ms, request};

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";

const LATEST: &str =
    "{ articles(first: 20) { edges { node { slug headline publishedAt topics { slug name } } } } }";

/// The sample article page (/work/shared/reference): the article with its byline, topics, body
/// and related stories, "Hot this week" and the topic box.
fn page() -> String {
    format!(
        "{{ article(slug: \"{SAMPLE}\") {{ slug headline dek source publishedAt readingTimeMinutes \
         authors {{ slug name }} topics {{ slug name }} \
         body {{ __typename ... on ParagraphBlock {{ text }} ... on QuoteBlock {{ text attribution }} }} \
         related(first: 5) {{ slug headline dek }} }} \
         trending(first: 10) {{ article {{ slug headline dek }} }} \
         topics(first: 20) {{ edges {{ node {{ slug name }} }} }} }}"
    )
}

fn lone_article() -> String {
    format!(
        "{{ article(slug: \"{SAMPLE}\") {{ slug headline dek source publishedAt authors {{ name }} topics {{ slug name }} }} }}"
    )
}

const SEARCH: &str = "{ search(query: \"grain shipments\", first: 10) { edges { node { article { slug headline publishedAt } } } } }";

/// One request shape the load generator repeats.
#[derive(Clone)]
enum Shape {
    Graphql(String),
    Get(&'static str),
}

impl Shape {
    fn lua(&self) -> String {
        match self {
            Self::Graphql(query) => format!(
                "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[{}]==]\n",
                serde_json::json!({ "query": query })
            ),
            Self::Get(path) => format!("wrk.method = \"GET\"\nwrk.path = \"{path}\"\n"),
        }
    }

    fn raw(&self) -> Vec<u8> {
        match self {
            Self::Graphql(query) => {
                let body = serde_json::json!({ "query": query }).to_string();
                format!(
                    "POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            }
            Self::Get(path) => format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n").into_bytes(),
        }
    }
}

/// What `wrk` measured.
struct Load {
    rate: f64,
    p50: Duration,
    p99: Duration,
    failed: u64,
}

fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, scale) = if let Some(v) = text.strip_suffix("us") {
        (v, 1e-6)
    } else if let Some(v) = text.strip_suffix("ms") {
        (v, 1e-3)
    } else if let Some(v) = text.strip_suffix("m") {
        (v, 60.0)
    } else if let Some(v) = text.strip_suffix('s') {
        (v, 1.0)
    } else {
        return None;
    };
    Some(Duration::from_secs_f64(
        number.trim().parse::<f64>().ok()? * scale,
    ))
}

fn parse_wrk(out: &str) -> Result<Load, Failure> {
    let mut load = Load {
        rate: 0.0,
        p50: Duration::ZERO,
        p99: Duration::ZERO,
        failed: 0,
    };
    for line in out.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            load.rate = v.trim().parse()?;
        } else if let Some(v) = line.strip_prefix("50%") {
            load.p50 = parse_duration(v).ok_or("wrk: bad p50")?;
        } else if let Some(v) = line.strip_prefix("99%") {
            load.p99 = parse_duration(v).ok_or("wrk: bad p99")?;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            load.failed += v.trim().parse::<u64>()?;
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            // connect N, read N, write N, timeout N
            load.failed += v
                .split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    if load.rate == 0.0 {
        return Err(format!("wrk printed no rate:\n{out}").into());
    }
    Ok(load)
}

/// Checks one answer (200, no GraphQL errors), then loads the server with `wrk`.
async fn measure(
    server: &Server,
    shape: &Shape,
    connections: usize,
    seconds: u64,
) -> Result<Load, Failure> {
    let mut stream = TcpStream::connect(server.addr).await?;
    let (status, body) = request(&mut stream, &shape.raw()).await?;
    if status != 200 || body.windows(9).any(|w| w == b"\"errors\":") {
        return Err(format!(
            "the bench's request failed ({status}): {}",
            String::from_utf8_lossy(&body)
        )
        .into());
    }
    drop(stream);
    let script = std::env::temp_dir().join(format!(
        "gazette-bench-reads-{}.lua",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::write(&script, shape.lua())?;
    let path = match shape {
        Shape::Graphql(_) => "/graphql",
        Shape::Get(path) => path,
    };
    let threads = connections.min(2);
    let out = Command::new("wrk")
        .args([
            "--latency",
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "-s",
        ])
        .arg(&script)
        .arg(format!("http://{}{path}", server.addr))
        .stderr(Stdio::inherit())
        .output();
    let _ = std::fs::remove_file(&script);
    let out = out?;
    if !out.status.success() {
        return Err(format!("wrk exited with {}", out.status).into());
    }
    // Failed answers (non-2xx) and socket errors are counted and shown, not fatal.
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

/// Resident memory of a process, current and peak (KiB), from `/proc/PID/status`.
pub(crate) fn resident(pid: u32) -> Result<(u64, u64), Failure> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

pub(crate) fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

/// Process start to the first 200 on `/readyz`, over an existing, migrated database.
async fn cold_start(url: &str) -> Result<Duration, Failure> {
    let addr = format!("127.0.0.1:{}", super::free_port()?);
    let started = Instant::now();
    let mut child = Command::new(gazette_binary()?)
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("GAZETTE_ADDR", &addr)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let result = loop {
        if let Ok(mut stream) = TcpStream::connect(&addr).await
            && let Ok((status, _)) =
                request(&mut stream, b"GET /readyz HTTP/1.1\r\nHost: b\r\n\r\n").await
            && status == 200
        {
            break Ok(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(60) {
            break Err("no 200 on /readyz within 60 s".into());
        }
        if let Ok(Some(exit)) = child.try_wait() {
            break Err(format!("gazette exited with {exit}").into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    result
}

struct Row {
    label: String,
    load: Load,
}

fn table(title: &str, rows: &[Row], floor: f64) -> String {
    let mut out = format!(
        "{title}\n\n| request (32 connections) | req/s | p50 | p99 | × `{{ __typename }}` | failed |\n| --- | --- | --- | --- | --- | --- |\n"
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | **{:.0}** | {} | {} | {:.3} | {} |",
            row.label,
            row.load.rate,
            ms(row.load.p50),
            ms(row.load.p99),
            row.load.rate / floor,
            row.load.failed
        );
    }
    out
}

async fn one_database(
    postgres: Option<&str>,
    articles: usize,
    seconds: u64,
    connections: usize,
) -> Result<(), Failure> {
    let (scratch, url) = Scratch::new(postgres).await?;
    let label = scratch.label();
    let t0 = Instant::now();
    let seed = Command::new(gazette_binary()?)
        .args(["seed", "--generated", &articles.to_string()])
        .env("DATABASE_URL", &url)
        .stdout(Stdio::null())
        .status()?;
    if !seed.success() {
        scratch.remove().await?;
        return Err("seed failed".into());
    }
    let seeded_in = t0.elapsed();
    if postgres.is_some() {
        // As after any bulk import: give the planner statistics (autovacuum would, later).
        let conn = sea_orm::Database::connect(&url).await?;
        conn.execute_unprepared("ANALYZE").await?;
        conn.close().await?;
    }
    let result = async {
        // Connection options change the figures (TLS to PostgreSQL, BENCHMARKS.md): shown.
        let options = url
            .split_once('?')
            .map(|(_, o)| format!(" (`?{o}`)"))
            .unwrap_or_default();
        println!(
            "### Reads, {label}{options}, {articles} generated articles + the samples (seeded in {:.0} s)\n",
            seeded_in.as_secs_f64()
        );
        let typename = Shape::Graphql("{ __typename }".to_owned());
        let mut rows = Vec::new();
        let mut page_memory = None;
        let mut one_client = None;
        let mut cached_memory = None;
        // The floor and every uncached row on a server with the response cache off (so
        // `{ __typename }` is executed, not replayed); then the cached rows on one with it on.
        for (cache, env) in [
            ("off", &[("GAZETTE_RESPONSE_CACHE_BYTES", "0")][..]),
            ("on", &[][..]),
        ] {
            let server = Server::start(&url, env).await?;
            let mut row = async |label: &str, shape: &Shape, clients: usize| {
                let load = measure(&server, shape, clients, seconds).await?;
                rows.push(Row {
                    label: label.to_owned(),
                    load,
                });
                Ok::<_, Failure>(())
            };
            if cache == "off" {
                row("`{ __typename }` (the floor)", &typename, connections).await?;
                row(
                    "latest 20 with `slug headline publishedAt topics { slug name }`, uncached",
                    &Shape::Graphql(LATEST.into()),
                    connections,
                )
                .await?;
                let pid = server.child.id();
                let before = resident(pid)?;
                row(
                    "the sample page, response cache off (`GAZETTE_RESPONSE_CACHE_BYTES=0`)",
                    &Shape::Graphql(page()),
                    connections,
                )
                .await?;
                let after = resident(pid)?;
                page_memory = Some((before, after));
                row(
                    "`article(slug)` alone (authors, topics, no body), uncached",
                    &Shape::Graphql(lone_article()),
                    connections,
                )
                .await?;
                row(
                    "search `grain shipments`, first 10, uncached",
                    &Shape::Graphql(SEARCH.into()),
                    connections,
                )
                .await?;
                row(
                    "REST `GET /v1/articles`, uncached",
                    &Shape::Get("/v1/articles"),
                    connections,
                )
                .await?;
                one_client =
                    Some(measure(&server, &Shape::Graphql(LATEST.into()), 1, seconds).await?);
            } else {
                row(
                    "the sample page from the response cache",
                    &Shape::Graphql(page()),
                    connections,
                )
                .await?;
                row(
                    "latest 20 from the response cache",
                    &Shape::Graphql(LATEST.into()),
                    connections,
                )
                .await?;
                let pid = server.child.id();
                cached_memory = Some(resident(pid)?);
            }
            server.stop()?;
        }
        let floor = rows[0].load.rate;
        print!("{}", table("", &rows, floor).trim_start());
        println!();
        let mut extra = String::from("| measure | value |\n| --- | --- |\n");
        if let Some(one) = one_client {
            let _ = writeln!(
                extra,
                "| one client (1 connection), latest 20 | p50 **{}**, p99 {}, {:.0} req/s |",
                ms(one.p50),
                ms(one.p99),
                one.rate
            );
        }
        if let Some(((rss0, _), (rss1, hwm1))) = page_memory {
            let _ = writeln!(
                extra,
                "| server memory, uncached page load | resident {} before, {} after, peak (VmHWM) **{}** |",
                mib(rss0),
                mib(rss1),
                mib(hwm1)
            );
        }
        if let Some((rss, hwm)) = cached_memory {
            let _ = writeln!(
                extra,
                "| server memory after the cached rows | resident {}, peak (VmHWM) **{}** |",
                mib(rss),
                mib(hwm)
            );
        }
        if postgres.is_none() {
            let mut starts = Vec::new();
            for _ in 0..5 {
                starts.push(cold_start(&url).await?);
            }
            starts.sort_unstable();
            let _ = writeln!(
                extra,
                "| cold start, migrated database (process start → first 200 on `/readyz`), 5 starts | median **{}**, max {} |",
                ms(starts[2]),
                ms(starts[4])
            );
        }
        println!("{extra}");
        Ok::<_, Failure>(())
    }
    .await;
    scratch.remove().await?;
    result
}

/// The whole bench: SQLite, then PostgreSQL at `postgres` (an admin URL).
pub async fn reads(
    articles: usize,
    seconds: u64,
    connections: usize,
    postgres: &str,
) -> Result<(), Failure> {
    if Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        return Err("the reads bench needs wrk: apt-get install -y wrk".into());
    }
    println!(
        "Load: `wrk` ({} threads, {connections} keep-alive HTTP/1.1 connections, {seconds} s a row) on the same machine; rate limits off; trending and related caches at their defaults.\n",
        connections.min(2)
    );
    one_database(None, articles, seconds, connections).await?;
    one_database(Some(postgres), articles, seconds, connections).await
}
