//! `make bench`: Gazette's speed figures, measured against the real `gazette` binary.
//!
//! - `beacon`: the release server over a fresh SQLite file, hammered with view beacons over
//!   keep-alive connections for a while; throughput, latency percentiles, database write
//!   transactions a second, and a check that every counted view reached the database after a
//!   SIGTERM.
//! - `trending`: 100,000 articles and 10,000,000 views (Zipf-distributed over articles, spread
//!   over the last 30 days) in SQLite, then the trending read measured uncached, straight from
//!   storage and through GraphQL over HTTP.
//! - `abuse` (`abuse.rs`): a reader fetching the sample article page alone, then while every
//!   kind of hostile request of issue 14 runs; the reader's latency in both, and how fast each
//!   hostile request was answered.
//! - `reads` (`reads.rs`): read throughput under 32 connections (`wrk`) on SQLite and
//!   PostgreSQL, each row against the server's own floor (`{ __typename }`), plus one client's
//!   latency, memory under the page load and cold start.
//! - `push` (`push.rs`): SSE streams held open and webhook subscriptions served while stories
//!   are published: memory per idle stream, delivery lag of both, and that every stream gets
//!   every story once and every subscription every story at least once, signed.
//!
//! Figures are printed as Markdown; BENCHMARKS.md records them with the machine they came from.

mod abuse;
mod push;
mod reads;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::{Parser, Subcommand};
use gazette_domain::trending::{TrendingWindow, bucket_hour};
use gazette_persistence::{Store, StoreOptions, ViewCount};
use sea_orm::ConnectionTrait as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type Failure = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
#[command(about = "Gazette benchmarks")]
struct Cli {
    #[command(subcommand)]
    bench: Option<Bench>,
}

#[derive(Subcommand, Clone)]
enum Bench {
    /// The view beacon under load.
    Beacon {
        /// Seconds of load.
        #[arg(long, env = "BENCH_SECONDS", default_value_t = 10)]
        seconds: u64,
        /// Concurrent keep-alive connections.
        #[arg(long, env = "BENCH_CONNECTIONS", default_value_t = 32)]
        connections: usize,
    },
    /// Trending over many articles and views.
    Trending {
        /// Articles to create.
        #[arg(long, env = "BENCH_ARTICLES", default_value_t = 100_000)]
        articles: usize,
        /// Views to spread over them.
        #[arg(long, env = "BENCH_VIEWS", default_value_t = 10_000_000)]
        views: u64,
        /// Run on PostgreSQL instead of SQLite: the server's admin URL (a fresh database is
        /// made on it and dropped afterwards), e.g. postgres://postgres@127.0.0.1:5432/postgres.
        #[arg(long, env = "BENCH_PG_URL")]
        postgres: Option<String>,
    },
    /// Search and related articles over many articles.
    Search {
        /// Articles to create.
        #[arg(long, env = "BENCH_ARTICLES", default_value_t = 100_000)]
        articles: usize,
        /// Run on PostgreSQL (admin URL), as for `trending`.
        #[arg(long, env = "BENCH_PG_URL")]
        postgres: Option<String>,
    },
    /// A reader of the sample page, alone and while hostile requests run (issue 14).
    Abuse {
        /// Seconds the reader reads, alone and then under attack (more than the server's
        /// 10 s header timeout, so slow clients are cut).
        #[arg(long, env = "BENCH_SECONDS", default_value_t = 20)]
        seconds: u64,
        /// Requests a second each hostile client sends at most (0: back to back). The default
        /// makes 50 a second in all, what one address may send under the default rate limit.
        #[arg(long, env = "BENCH_RATE", default_value_t = 5)]
        rate: u32,
        /// Slow-header clients.
        #[arg(long, env = "BENCH_SLOW_CLIENTS", default_value_t = 300)]
        slow_clients: usize,
        /// Hostile kinds to send, by tag (comma-separated): fragments, nested, aliases,
        /// topics, batch, apq, preview, etag, views, introspection; all by default.
        #[arg(long, env = "BENCH_KINDS", value_delimiter = ',')]
        kinds: Vec<String>,
    },
    /// Read throughput on SQLite and PostgreSQL (issue 17), with `wrk`.
    Reads {
        /// Generated articles to seed (plus the samples).
        #[arg(long, env = "BENCH_ARTICLES", default_value_t = 20_000)]
        articles: usize,
        /// Seconds of load per row.
        #[arg(long, env = "BENCH_SECONDS", default_value_t = 5)]
        seconds: u64,
        /// Concurrent keep-alive connections.
        #[arg(long, env = "BENCH_CONNECTIONS", default_value_t = 32)]
        connections: usize,
        /// The PostgreSQL server's admin URL (a fresh database is made on it and dropped).
        #[arg(
            long,
            env = "BENCH_PG_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/postgres"
        )]
        postgres: String,
    },
    /// Live streams and webhooks under a burst of publications (issue 19): memory per idle
    /// stream, delivery lag, nothing lost.
    Push {
        /// SSE streams to hold open.
        #[arg(long, env = "BENCH_CLIENTS", default_value_t = 1_000)]
        clients: usize,
        /// Webhook subscriptions (one partner, a receiver each; at most 1,000, 0: none).
        #[arg(long, env = "BENCH_SUBSCRIBERS", default_value_t = 100)]
        subscribers: usize,
        /// Stories to publish.
        #[arg(long, env = "BENCH_PUBLICATIONS", default_value_t = 1_000)]
        publications: usize,
        /// Seconds after the last publication before what has not arrived counts as lost (the
        /// wait ends as soon as everything has arrived). A debug build sent about 500
        /// webhook deliveries a second on 2 shared cores: 100,000 need room.
        #[arg(long, env = "BENCH_DRAIN_SECS", default_value_t = 300)]
        drain_secs: u64,
    },
    /// Everything, with default sizes, on SQLite.
    All,
}

fn gazette_binary() -> Result<PathBuf, Failure> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name("gazette");
    if !path.exists() {
        return Err(format!(
            "{} not found: build it first (cargo build --release -p gazette-server)",
            path.display()
        )
        .into());
    }
    Ok(path)
}

fn free_port() -> Result<u16, Failure> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A `gazette serve` child process.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(db_url: &str, env: &[(&str, &str)]) -> Result<Self, Failure> {
        Self::start_with(db_url, env, Stdio::null()).await
    }

    /// As [`Server::start`], with the server's log (its standard output) written to `log`.
    async fn start_logging_to(
        db_url: &str,
        env: &[(&str, &str)],
        log: std::fs::File,
    ) -> Result<Self, Failure> {
        Self::start_with(db_url, env, Stdio::from(log)).await
    }

    async fn start_with(
        db_url: &str,
        env: &[(&str, &str)],
        stdout: Stdio,
    ) -> Result<Self, Failure> {
        let port = free_port()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let mut command = Command::new(gazette_binary()?);
        command
            .arg("serve")
            .env("DATABASE_URL", db_url)
            .env("GAZETTE_ADDR", addr.to_string())
            .env("RUST_LOG", "warn")
            // Every request comes from this one address: the per-address limit would refuse it.
            .env("GAZETTE_RATE_ANONYMOUS", "0")
            .stdout(stdout)
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn()?;
        let server = Self { child, addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(mut stream) = TcpStream::connect(addr).await
                && let Ok((status, _)) =
                    request(&mut stream, b"GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n").await
                && status == 200
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err("server did not become healthy".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then wait for a graceful exit.
    fn stop(mut self) -> Result<(), Failure> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        if !status.success() {
            return Err("kill -TERM failed".into());
        }
        let exit = self.child.wait()?;
        if !exit.success() {
            return Err(format!("gazette exited with {exit}").into());
        }
        Ok(())
    }
}

/// A benchmark that fails part-way still stops its server.
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends one HTTP/1.1 request on a keep-alive connection; returns the status and body.
async fn request(stream: &mut TcpStream, raw: &[u8]) -> Result<(u16, Vec<u8>), Failure> {
    stream.write_all(raw).await?;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 2048];
    let (head_end, length) = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err("connection closed".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end])?;
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            break (end + 4, length);
        }
    };
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err("connection closed mid-body".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let status = std::str::from_utf8(&buf[9..12])?.parse()?;
    Ok((status, buf[head_end..head_end + length].to_vec()))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn temp_db(name: &str) -> (PathBuf, String) {
    let path = std::env::temp_dir().join(format!(
        "gazette-bench-{name}-{}.db",
        uuid::Uuid::now_v7().simple()
    ));
    let url = format!("sqlite://{}", path.display());
    (path, url)
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

async fn scalar(store: &Store, sql: &str) -> Result<i64, Failure> {
    let conn = store.connection();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql,
        ))
        .await?
        .ok_or("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn beacon(seconds: u64, connections: usize) -> Result<(), Failure> {
    let (path, url) = temp_db("beacon");
    let seed = Command::new(gazette_binary()?)
        .args(["seed", "--generated", "1000"])
        .env("DATABASE_URL", &url)
        .stdout(Stdio::null())
        .status()?;
    if !seed.success() {
        return Err("seed failed".into());
    }
    let store = Store::connect(&url, &StoreOptions::default()).await?;
    let slugs: Vec<String> = {
        let conn = store.connection();
        conn.query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT slug FROM articles ORDER BY published_at DESC LIMIT 200",
        ))
        .await?
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?
    };
    let server = Server::start(&url, &[("GAZETTE_BEACON_RATE", "0")]).await?;
    let flushes_before = scalar(&store, "SELECT flushes FROM trending_state").await?;
    let slugs = Arc::new(slugs);
    let started = Instant::now();
    let stop_at = started + Duration::from_secs(seconds);
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..connections {
        let slugs = Arc::clone(&slugs);
        let addr = server.addr;
        workers.spawn(async move {
            let mut stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let mut latencies = Vec::with_capacity(400_000);
            let (mut sent, mut counted) = (0u64, 0u64);
            while Instant::now() < stop_at {
                let body = format!(
                    r#"{{"slug":"{}","visitorId":"w{w}-{sent}"}}"#,
                    slugs[(sent as usize * 7 + w) % slugs.len()]
                );
                let raw = format!(
                    "POST /v1/views HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let t0 = Instant::now();
                let (status, answer) = request(&mut stream, raw.as_bytes()).await?;
                latencies.push(t0.elapsed());
                if status != 202 {
                    return Err(format!("beacon answered {status}").into());
                }
                sent += 1;
                if answer.windows(14).any(|w| w == b"\"counted\":true") {
                    counted += 1;
                }
            }
            Ok::<_, Failure>((latencies, sent, counted))
        });
    }
    let mut latencies = Vec::new();
    let (mut sent, mut counted) = (0u64, 0u64);
    while let Some(done) = workers.join_next().await {
        let (l, s, c) = done??;
        latencies.extend(l);
        sent += s;
        counted += c;
    }
    let elapsed = started.elapsed();
    let flushes_during =
        scalar(&store, "SELECT flushes FROM trending_state").await? - flushes_before;
    server.stop()?;
    let stored = store.total_views().await?;
    latencies.sort_unstable();
    let rate = sent as f64 / elapsed.as_secs_f64();
    println!("### View beacon (`POST /v1/views`), SQLite\n");
    println!("| measure | value |\n| --- | --- |");
    println!(
        "| load | {connections} keep-alive connections, {seconds} s, one unique visitor per request, 200 articles |"
    );
    println!("| beacons answered | {sent} (all 202) |");
    println!("| throughput | **{rate:.0} beacons/s** |");
    println!(
        "| latency p50 / p90 / p99 / max | {} / {} / **{}** / {} |",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(percentile(&latencies, 99.0)),
        ms(percentile(&latencies, 100.0))
    );
    println!(
        "| database write transactions during the load | {flushes_during} ({:.1}/s; each is one flush: 2 multi-row upserts and 1 state update) |",
        flushes_during as f64 / elapsed.as_secs_f64()
    );
    println!("| views counted / stored after SIGTERM | {counted} / {stored} |");
    println!();
    store.close().await;
    remove_db(&path);
    if i64::try_from(counted)? != stored {
        return Err(format!("lost views: counted {counted}, stored {stored}").into());
    }
    Ok(())
}

/// xorshift64*: deterministic data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Where a benchmark's data lives, removed afterwards.
enum Scratch {
    Sqlite(PathBuf),
    Postgres { admin: String, name: String },
}

impl Scratch {
    async fn new(postgres: Option<&str>) -> Result<(Self, String), Failure> {
        match postgres {
            None => {
                let (path, url) = temp_db("trending");
                Ok((Self::Sqlite(path), url))
            }
            Some(admin) => {
                let name = format!("gazette_bench_{}", uuid::Uuid::now_v7().simple());
                let conn = sea_orm::Database::connect(admin).await?;
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await?;
                conn.close().await?;
                // The scratch database replaces the URL's database; its options (`?sslmode=…`)
                // are kept.
                let (base, options) = admin.split_once('?').unwrap_or((admin, ""));
                let cut = base
                    .rfind('/')
                    .ok_or("the PostgreSQL URL needs a database path")?;
                let url = if options.is_empty() {
                    format!("{}/{name}", &base[..cut])
                } else {
                    format!("{}/{name}?{options}", &base[..cut])
                };
                Ok((
                    Self::Postgres {
                        admin: admin.to_owned(),
                        name,
                    },
                    url,
                ))
            }
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres { .. } => "PostgreSQL",
        }
    }

    async fn remove(self) -> Result<(), Failure> {
        match self {
            Self::Sqlite(path) => remove_db(&path),
            Self::Postgres { admin, name } => {
                let conn = sea_orm::Database::connect(&admin).await?;
                conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                conn.close().await?;
            }
        }
        Ok(())
    }
}

async fn trending(articles: usize, views: u64, postgres: Option<&str>) -> Result<(), Failure> {
    let (scratch, url) = Scratch::new(postgres).await?;
    let store = Store::connect(&url, &StoreOptions::default()).await?;
    store.migrate().await?;
    let now = Utc::now();
    let t0 = Instant::now();
    gazette_persistence::seed_sample_content(&store, articles, now).await?;
    let seeded_in = t0.elapsed();
    store
        .init_trending(chrono::Duration::hours(24), now)
        .await?;
    let ids: Vec<uuid::Uuid> = {
        let conn = store.connection();
        conn.query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT id FROM articles ORDER BY slug",
        ))
        .await?
        .iter()
        .map(|r| r.try_get_by_index::<uuid::Uuid>(0))
        .collect::<Result<_, _>>()?
    };
    // Zipf(1.1) over a shuffled article order; each article's views spread over up to 720
    // hourly buckets of the last 30 days.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut order: Vec<usize> = (0..ids.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    let weights: Vec<f64> = (0..ids.len())
        .map(|r| 1.0 / ((r + 1) as f64).powf(1.1))
        .collect();
    let total_weight: f64 = weights.iter().sum();
    let mut per_article: Vec<u64> = weights
        .iter()
        .map(|w| (views as f64 * w / total_weight).floor() as u64)
        .collect();
    let assigned: u64 = per_article.iter().sum();
    per_article[0] += views - assigned;
    let hour_now = bucket_hour(now);
    let t1 = Instant::now();
    let mut batch = Vec::with_capacity(50_000);
    let mut buckets = 0u64;
    for (rank, &count) in per_article.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let id = ids[order[rank]];
        let spread = count.min(720);
        let base = count / spread;
        let extra = count % spread;
        let offset = rng.next() % 720;
        for j in 0..spread {
            let hour = hour_now - chrono::Duration::hours(((offset + j * 7) % 720) as i64);
            batch.push(ViewCount {
                article_id: id,
                hour,
                views: i64::try_from(base + u64::from(j < extra))?,
            });
            buckets += 1;
            if batch.len() == 50_000 {
                store.record_views(&batch, now).await?;
                batch.clear();
            }
        }
    }
    store.record_views(&batch, now).await?;
    let loaded_in = t1.elapsed();
    let stored = store.total_views().await?;

    println!(
        "### Trending, {}, {articles} articles, {stored} views\n",
        scratch.label()
    );
    println!(
        "Data: {articles} generated articles (seeded in {:.1} s) and {stored} views in {buckets} hourly buckets, Zipf(1.1) over articles, spread over 30 days (loaded through the flush path in {:.1} s).\n",
        seeded_in.as_secs_f64(),
        loaded_in.as_secs_f64()
    );
    println!("| read (uncached, 10 items) | p50 | p90 | p99 |\n| --- | --- | --- | --- |");
    let topic = gazette_domain::Slug::parse("markets")?;
    for (label, window, topic) in [
        ("storage: week", TrendingWindow::Week, None),
        ("storage: day", TrendingWindow::Day, None),
        ("storage: month", TrendingWindow::Month, None),
        (
            "storage: week, topic `markets`",
            TrendingWindow::Week,
            Some(&topic),
        ),
    ] {
        let mut samples = Vec::with_capacity(500);
        for _ in 0..500 {
            let t = Instant::now();
            let list = store.trending(window, topic, 10, Utc::now()).await?;
            samples.push(t.elapsed());
            if list.len() != 10 {
                return Err(format!("{label}: {} items", list.len()).into());
            }
        }
        samples.sort_unstable();
        println!(
            "| {label} | **{}** | {} | {} |",
            ms(percentile(&samples, 50.0)),
            ms(percentile(&samples, 90.0)),
            ms(percentile(&samples, 99.0))
        );
    }
    store.close().await;

    // The whole request: GraphQL over HTTP with the trending cache off.
    let server = Server::start(&url, &[("GAZETTE_TRENDING_CACHE_MS", "0")]).await?;
    let body = r#"{"query":"{ trending(first: 10) { score views article { slug headline publishedAt primaryTopic { name } } } }"}"#;
    let raw = format!(
        "POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(server.addr).await?;
    let mut samples = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let t = Instant::now();
        let (status, answer) = request(&mut stream, raw.as_bytes()).await?;
        samples.push(t.elapsed());
        if status != 200 || answer.windows(8).any(|w| w == b"\"errors\"") {
            return Err(format!("GraphQL answered {status}").into());
        }
    }
    samples.sort_unstable();
    println!(
        "| HTTP: `POST /graphql` trending with article fields, cache off | **{}** | {} | {} |",
        ms(percentile(&samples, 50.0)),
        ms(percentile(&samples, 90.0)),
        ms(percentile(&samples, 99.0))
    );
    drop(stream);
    server.stop()?;
    println!();
    scratch.remove().await
}

async fn timed<F, Fut>(n: usize, mut call: F) -> Result<Vec<Duration>, Failure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        call().await?;
        samples.push(t.elapsed());
    }
    samples.sort_unstable();
    Ok(samples)
}

fn row(label: &str, samples: &[Duration]) {
    println!(
        "| {label} | **{}** | {} | {} |",
        ms(percentile(samples, 50.0)),
        ms(percentile(samples, 90.0)),
        ms(percentile(samples, 99.0))
    );
}

async fn graphql(stream: &mut TcpStream, query: &str) -> Result<(), Failure> {
    let body = format!("{{\"query\":{}}}", json_string(query));
    let raw = format!(
        "POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, answer) = request(stream, raw.as_bytes()).await?;
    if status != 200 || answer.windows(8).any(|w| w == b"\"errors\"") {
        return Err(format!(
            "GraphQL answered {status}: {}",
            String::from_utf8_lossy(&answer)
        )
        .into());
    }
    Ok(())
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

async fn search(articles: usize, postgres: Option<&str>) -> Result<(), Failure> {
    let (scratch, url) = Scratch::new(postgres).await?;
    let store = Store::connect(&url, &StoreOptions::default()).await?;
    store.migrate().await?;
    let t0 = Instant::now();
    gazette_persistence::seed_sample_content(&store, articles, Utc::now()).await?;
    let seeded_in = t0.elapsed();
    if postgres.is_some() {
        // As after any bulk import: give the planner statistics (autovacuum would, later).
        store.connection().execute_unprepared("ANALYZE").await?;
    }
    println!(
        "### Search and related, {}, {articles} generated articles + 9 samples\n",
        scratch.label()
    );
    println!(
        "Seeded in {:.1} s (the full-text index is written in the same transactions).\n",
        seeded_in.as_secs_f64()
    );
    println!("| read (uncached) | p50 | p90 | p99 |\n| --- | --- | --- | --- |");
    for (label, q) in [
        ("storage search: rare word `pyongyang`", "pyongyang"),
        (
            "storage search: two common words `grain shipments`",
            "grain shipments",
        ),
        (
            "storage search: phrase `\"rail freight\"`",
            "\"rail freight\"",
        ),
        ("storage search: prefix `semicon*`", "semicon*"),
    ] {
        let query = gazette_domain::search::SearchQuery::parse("q", q)?;
        let filter = gazette_persistence::SearchFilter::default();
        let samples = timed(300, || {
            let (store, query, filter) = (&store, &query, &filter);
            async move {
                store
                    .search(
                        query,
                        filter,
                        0,
                        10,
                        gazette_domain::Visibility::PublicAt(Utc::now()),
                    )
                    .await?;
                Ok(())
            }
        })
        .await?;
        row(label, &samples);
    }
    // An editor's save re-indexes the article's text in the same transaction.
    let mut ids = Vec::with_capacity(100);
    for n in 0..100 {
        let slug = gazette_domain::Slug::parse(&format!(
            "brief-{:06}",
            (n * 7919 + 13) % articles.max(1)
        ))?;
        if let Some(article) = store
            .article_by_slug(&slug, gazette_domain::Visibility::Everything)
            .await?
        {
            ids.push(article.id);
        }
    }
    let mut samples = Vec::with_capacity(ids.len());
    for (n, id) in ids.iter().enumerate() {
        let t = Instant::now();
        store
            .save_article(
                *id,
                gazette_persistence::Save {
                    editor: "bench",
                    action: gazette_domain::RevisionAction::Update,
                    expected_version: None,
                    substantive: false,
                    now: Utc::now(),
                },
                |state| {
                    let mut next = state.clone();
                    next.headline = gazette_domain::Headline::parse(&format!("Revised brief {n}"))?;
                    Ok(next)
                },
            )
            .await?;
        samples.push(t.elapsed());
    }
    samples.sort_unstable();
    row("storage save: edit a headline (text re-indexed)", &samples);
    store.close().await;
    let server = Server::start(
        &url,
        &[
            ("GAZETTE_RELATED_CACHE_SECS", "0"),
            ("GAZETTE_TRENDING_CACHE_MS", "0"),
            // The rows are "uncached": the response cache would answer every repeat.
            ("GAZETTE_RESPONSE_CACHE_BYTES", "0"),
        ],
    )
    .await?;
    let mut stream = TcpStream::connect(server.addr).await?;
    let brief = |n: usize| format!("brief-{:06}", (n * 7919) % articles.max(1));
    for (label, make) in [
        (
            "HTTP: GraphQL `search` (two common words) with highlights",
            Box::new(|_: usize| {
                "{ search(query: \"grain shipments\", first: 10) { edges { node { score article { slug headline } highlights { headline { html } body { html } } } } } }".to_owned()
            }) as Box<dyn Fn(usize) -> String>,
        ),
        (
            "HTTP: GraphQL article + `related(first: 5)`, cache off",
            Box::new(move |n| {
                format!(
                    "{{ article(slug: \"{}\") {{ related(first: 5) {{ slug headline }} }} }}",
                    brief(n)
                )
            }),
        ),
        (
            "HTTP: GraphQL sample article + `related(first: 5)`, cache off",
            Box::new(|_| {
                "{ article(slug: \"putins-north-korea-visit-could-reshape-regional-security\") { related(first: 5) { slug } } }".to_owned()
            }),
        ),
        (
            "HTTP: GraphQL article alone (baseline for the two above)",
            Box::new(move |n| format!("{{ article(slug: \"{}\") {{ slug }} }}", brief(n))),
        ),
    ] {
        let mut samples = Vec::with_capacity(300);
        for n in 0..300 {
            let query = make(n);
            let t = Instant::now();
            graphql(&mut stream, &query).await?;
            samples.push(t.elapsed());
        }
        samples.sort_unstable();
        row(label, &samples);
    }
    drop(stream);
    server.stop()?;
    println!();
    scratch.remove().await
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let cli = Cli::parse();
    println!(
        "Machine: {} cores, {}; `gazette` release build; {}.\n",
        std::thread::available_parallelism().map_or(0, usize::from),
        std::env::consts::OS,
        Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    match cli.bench.unwrap_or(Bench::All) {
        Bench::Beacon {
            seconds,
            connections,
        } => beacon(seconds, connections).await,
        Bench::Trending {
            articles,
            views,
            postgres,
        } => trending(articles, views, postgres.as_deref()).await,
        Bench::Search { articles, postgres } => search(articles, postgres.as_deref()).await,
        Bench::Abuse {
            seconds,
            rate,
            slow_clients,
            kinds,
        } => abuse::abuse(seconds, rate, slow_clients, &kinds).await,
        Bench::Reads {
            articles,
            seconds,
            connections,
            postgres,
        } => reads::reads(articles, seconds, connections, &postgres).await,
        Bench::Push {
            clients,
            subscribers,
            publications,
            drain_secs,
        } => {
            push::push(
                clients,
                subscribers,
                publications,
                Duration::from_secs(drain_secs),
            )
            .await
        }
        Bench::All => {
            beacon(10, 32).await?;
            trending(100_000, 10_000_000, None).await?;
            search(100_000, None).await?;
            abuse::abuse(20, 5, 300, &[]).await
        }
    }
}
