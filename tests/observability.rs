//! Operations: Prometheus metrics on their own address, request ids on every response and log
//! line, internal errors that quote the request id.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use gazette_api::persisted::sha256_hex;
use gazette_tests::{Db, TestApp, on_both_databases, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const APPLE: &str =
    "facing-sales-slump-apple-cuts-iphone-16-pro-prices-ahead-of-chinas-618-festival";

/// One sample: metric name and its labels, sorted.
pub(crate) type Series = (String, BTreeMap<String, String>);

/// Parses Prometheus text exposition: `name{a="x",b="y"} value` lines; comments skipped.
fn parse_prometheus(text: &str) -> BTreeMap<Series, f64> {
    let mut samples = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("a value");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split("\",")
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').expect("label=value");
                (k.to_owned(), v.trim_matches('"').to_owned())
            })
            .collect();
        samples.insert((name.to_owned(), labels), value.parse().expect("number"));
    }
    samples
}

/// The value of `name` with exactly `labels` (0 when absent).
pub(crate) fn value(samples: &BTreeMap<Series, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples
        .get(&(name.to_owned(), labels))
        .copied()
        .unwrap_or(0.0)
}

pub(crate) async fn scrape(app: &TestApp) -> BTreeMap<Series, f64> {
    let addr = app.metrics_addr.expect("metrics listener configured");
    let response = app
        .client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    parse_prometheus(&response.text().await.unwrap())
}

/// A server with its metrics listener on and the response cache off: these tests count what
/// running an operation records (a response cache hit runs nothing; `response_cache.rs`
/// counts those).
async fn metrics_app(db: Db) -> TestApp {
    spawn_app_with(db, |args| {
        args.ops.metrics_addr = Some("127.0.0.1:0".to_owned());
        args.response_cache.response_cache_bytes = 0;
        args.views.trending_cache_ms = 60_000;
        args.views.related_cache_secs = 60;
    })
    .await
}

async fn post_gql(app: &TestApp, body: Value) -> Value {
    app.client
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON")
}

on_both_databases!(
    scrapes_count_requests_operations_rejections_caches_and_flushes,
    |db| async move {
        let app = metrics_app(db).await;
        gazette_persistence::seed_sample_content(&app.store, 0, chrono::Utc::now())
            .await
            .expect("seed");
        let before = scrape(&app).await;

        let named = "query LatestSlugs { articles(first: 1) { edges { node { slug } } } }";
        for _ in 0..3 {
            app.gql_ok(named, json!({})).await;
        }
        // Refused documents: one the schema does not have, one nested past the depth limit.
        let (status, _) = app.gql("{ noSuchField }", json!({})).await;
        assert_eq!(status, 400);
        let deep = format!(
            r#"{{ topic(slug: "world") {}slug{} }}"#,
            "{ children ".repeat(14),
            " }".repeat(14)
        );
        let (status, body) = app.gql(&deep, json!({})).await;
        assert_eq!(status, 400, "{body}");
        // Routes are labelled by pattern, never by the URI asked for.
        assert_eq!(app.get("/v1/topics/world").await.status(), 200);
        assert_eq!(app.get("/no/such/route").await.status(), 404);
        // Cache lookups: trending and related twice each (a miss, then a hit), a persisted
        // query asked by hash before and after it is registered.
        let page = format!(
            r#"{{ article(slug: "{APPLE}") {{ related(first: 3) {{ slug }} }} trending(first: 3) {{ article {{ slug }} }} }}"#
        );
        app.gql_ok(&page, json!({})).await;
        app.gql_ok(&page, json!({})).await;
        let apq = "{ topics(first: 5) { edges { node { slug } } } }";
        let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(apq) } });
        let not_found = post_gql(&app, json!({ "extensions": ext })).await;
        assert_eq!(
            not_found["errors"][0]["extensions"]["code"],
            "PERSISTED_QUERY_NOT_FOUND"
        );
        post_gql(&app, json!({ "query": apq, "extensions": ext })).await;
        let found = post_gql(&app, json!({ "extensions": ext })).await;
        assert!(found["data"]["topics"]["edges"].is_array(), "{found}");
        // A counted view, flushed by the background task.
        let beacon = app
            .client
            .post(app.url("/v1/views"))
            .json(&json!({ "slug": APPLE }))
            .send()
            .await
            .unwrap();
        assert_eq!(beacon.status(), 202);

        // Poll until the flush shows (flushes are batched), then check every family.
        let deadline = Instant::now() + Duration::from_secs(20);
        let after = loop {
            let now = scrape(&app).await;
            if value(&now, "gazette_view_flushes_total", &[("outcome", "ok")])
                > value(&before, "gazette_view_flushes_total", &[("outcome", "ok")])
            {
                break now;
            }
            assert!(Instant::now() < deadline, "no view flush was recorded");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let delta = |name: &str, labels: &[(&str, &str)]| {
            value(&after, name, labels) - value(&before, name, labels)
        };
        let graphql_ok = [("method", "POST"), ("route", "/graphql"), ("status", "200")];
        assert!(delta("gazette_http_requests_total", &graphql_ok) >= 5.0);
        assert!(
            delta(
                "gazette_http_requests_total",
                &[
                    ("method", "GET"),
                    ("route", "/v1/topics/{slug}"),
                    ("status", "200")
                ]
            ) >= 1.0
        );
        assert!(
            delta(
                "gazette_http_requests_total",
                &[("method", "GET"), ("route", "unmatched"), ("status", "404")]
            ) >= 1.0
        );
        assert!(
            after.keys().all(|(_, labels)| labels
                .values()
                .all(|v| !v.contains("world") && !v.contains("no/such"))),
            "a raw URI became a label"
        );
        // Latency histograms have buckets, and count every request.
        let post_graphql = [("method", "POST"), ("route", "/graphql")];
        assert!(delta("gazette_http_request_duration_seconds_count", &post_graphql) >= 5.0);
        assert!(
            value(
                &after,
                "gazette_http_request_duration_seconds_bucket",
                &[("method", "POST"), ("route", "/graphql"), ("le", "+Inf")]
            ) >= 5.0
        );
        assert!(
            delta(
                "gazette_graphql_operations_total",
                &[("operation", "LatestSlugs"), ("outcome", "ok")]
            ) >= 3.0
        );
        assert!(
            delta(
                "gazette_graphql_operations_total",
                &[("operation", "unnamed"), ("outcome", "invalid")]
            ) >= 2.0
        );
        assert!(
            delta(
                "gazette_graphql_operation_duration_seconds_count",
                &[("operation", "LatestSlugs")]
            ) >= 3.0
        );
        assert!(
            delta(
                "gazette_graphql_documents_rejected_total",
                &[("limit", "GRAPHQL_VALIDATION_FAILED")]
            ) >= 1.0
        );
        assert!(
            delta(
                "gazette_graphql_documents_rejected_total",
                &[("limit", "QUERY_TOO_DEEP")]
            ) >= 1.0
        );
        // The named query's document was parsed once and reused (`graphql_document`).
        for cache in ["trending", "related", "persisted_query", "graphql_document"] {
            assert!(
                delta(
                    "gazette_cache_lookups_total",
                    &[("cache", cache), ("result", "miss")]
                ) >= 1.0,
                "{cache} miss"
            );
            assert!(
                delta(
                    "gazette_cache_lookups_total",
                    &[("cache", cache), ("result", "hit")]
                ) >= 1.0,
                "{cache} hit"
            );
        }
        assert!(value(&after, "gazette_view_flush_views_sum", &[]) >= 1.0);
        assert!(value(&after, "gazette_view_flush_duration_seconds_count", &[]) >= 1.0);
        // The pool, sampled at the scrape: the test server's 8 connections at most.
        assert_eq!(value(&after, "gazette_db_pool_max_connections", &[]), 8.0);
        let in_use = value(&after, "gazette_db_pool_in_use", &[]);
        assert!((0.0..=8.0).contains(&in_use), "{in_use}");
        assert_eq!(value(&after, "gazette_db_pool_waiting", &[]), 0.0);
        assert_eq!(value(&after, "gazette_db_reachable", &[]), 1.0);
        assert!(after.contains_key(&("gazette_views_pending".to_owned(), BTreeMap::new())));
    }
);

#[tokio::test]
async fn metrics_are_not_served_on_the_public_address() {
    let app = metrics_app(Db::Sqlite).await;
    assert_eq!(app.get("/metrics").await.status(), 404);
    let private = app.metrics_addr.expect("metrics listener");
    assert_ne!(private, app.addr);
    let response = app
        .client
        .get(format!("http://{private}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Without a metrics address, nothing listens for them at all.
    let plain = spawn_app(Db::Sqlite).await;
    assert!(plain.metrics_addr.is_none());
    assert_eq!(plain.get("/metrics").await.status(), 404);
}

#[tokio::test]
async fn a_metrics_token_is_required_when_configured() {
    let app = spawn_app_with(Db::Sqlite, |args| {
        args.ops.metrics_addr = Some("127.0.0.1:0".to_owned());
        args.ops.metrics_token = Some("scraper-secret-0123456789".to_owned());
    })
    .await;
    let url = format!("http://{}/metrics", app.metrics_addr.unwrap());
    for authorization in [
        None,
        Some("Bearer wrong"),
        Some("scraper-secret-0123456789"),
    ] {
        let mut request = app.client.get(&url);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{authorization:?}");
        assert!(response.headers().contains_key("www-authenticate"));
    }
    let response = app
        .client
        .get(&url)
        .bearer_auth("scraper-secret-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("gazette_"));
}

fn request_id(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .expect("x-request-id on the response")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn request_ids_are_echoed_when_sane_and_replaced_when_hostile() {
    let app = spawn_app(Db::Sqlite).await;
    // Made up when absent, a new one each time, on every kind of response.
    let first = request_id(&app.get("/healthz").await);
    let second = request_id(&app.get("/healthz").await);
    assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
    assert_ne!(first, second);
    assert!(uuid::Uuid::parse_str(&request_id(&app.get("/no/such/route").await)).is_ok());
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", "https://example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-request-id")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    // Browsers may send their own id, and read ours.
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(
        allowed.to_ascii_lowercase().contains("x-request-id"),
        "{allowed}"
    );
    let cross_origin = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://example.com")
        .send()
        .await
        .unwrap();
    let exposed = cross_origin.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(
        exposed.to_ascii_lowercase().contains("x-request-id"),
        "{exposed}"
    );
    assert!(uuid::Uuid::parse_str(&request_id(&preflight)).is_ok());

    let send = |value: String| {
        let request = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", value);
        async move { request.send().await.unwrap() }
    };
    for sane in [
        "abc-123",
        "0190a5e2-7d1c-7f3e-9b1a-2c3d4e5f6a7b",
        "Root=1-5759e988:x/y+z",
    ] {
        assert_eq!(request_id(&send(sane.to_owned()).await), sane);
    }
    for hostile in [
        "a".repeat(129),
        "tab\tinside".to_owned(),
        "with space".to_owned(),
        "<script>alert(1)</script>".to_owned(),
        "quote\"d".to_owned(),
        "semi;colon".to_owned(),
    ] {
        let echoed = request_id(&send(hostile.clone()).await);
        assert_ne!(echoed, hostile);
        assert!(
            uuid::Uuid::parse_str(&echoed).is_ok(),
            "{hostile:?} became {echoed}"
        );
    }
    // Two ids: neither is trusted.
    let twice = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "one")
        .header("x-request-id", "two")
        .send()
        .await
        .unwrap();
    assert!(uuid::Uuid::parse_str(&request_id(&twice)).is_ok());
}

/// Breaks the topics table so that reading topics is a fault of ours, not of the client.
async fn break_topics_table(app: &TestApp) {
    use sea_orm::ConnectionTrait as _;
    app.store
        .connection()
        .execute_unprepared("ALTER TABLE topics RENAME TO topics_gone")
        .await
        .expect("rename");
}

on_both_databases!(internal_errors_quote_the_request_id, |db| async move {
    let app = spawn_app(db).await;
    break_topics_table(&app).await;

    let response = app
        .client
        .get(app.url("/v1/topics"))
        .header("x-request-id", "support-ticket-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(request_id(&response), "support-ticket-42");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "INTERNAL");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("support-ticket-42"), "{detail}");
    assert!(
        !detail.contains("topics_gone") && !detail.contains("topics"),
        "{detail}"
    );

    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ topics(first: 5) { edges { node { slug } } } }" }))
        .send()
        .await
        .unwrap();
    let id = request_id(&response);
    let body: Value = response.json().await.unwrap();
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "INTERNAL", "{body}");
    assert!(
        error["message"].as_str().unwrap().contains(&id),
        "{body} {id}"
    );
});

/// A log file the server's JSON subscriber writes to, read back after the request.
struct LogFile(std::path::PathBuf);

impl Drop for LogFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// One thread: the server, the client and the test share it, so the thread's own subscriber
// (no process-wide one is installed) sees every line the request logs.
#[tokio::test(flavor = "current_thread")]
async fn every_log_line_of_a_request_names_its_id() {
    let path = std::env::temp_dir().join(format!("gazette-log-{}.jsonl", uuid::Uuid::now_v7()));
    let log = LogFile(path.clone());
    let file = std::sync::Arc::new(std::fs::File::create(&log.0).unwrap());
    let logging = gazette_server::LogArgs {
        log: "info,gazette::access=debug".to_owned(),
        log_format: gazette_server::LogFormat::Json,
    };
    let _guard = tracing::subscriber::set_default(logging.subscriber(file, false));

    let app = spawn_app(Db::Sqlite).await;
    break_topics_table(&app).await;
    let response = app
        .client
        .get(app.url("/v1/topics"))
        .header("x-request-id", "trace-me-7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    drop(app);

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|line: &Value| line["span"]["request_id"] == "trace-me-7")
        .collect();
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert!(messages.contains(&"internal error"), "{text}");
    assert!(messages.contains(&"request answered"), "{text}");
    for line in &lines {
        assert_eq!(line["span"]["route"], "/v1/topics", "{line}");
        assert_eq!(line["span"]["method"], "GET", "{line}");
    }
    let access = lines
        .iter()
        .find(|l| l["message"] == "request answered")
        .unwrap();
    assert_eq!(access["span"]["status"], 500, "{access}");
    assert!(access["span"]["latency_ms"].as_f64().is_some(), "{access}");
    // The internal error's own line names the id, and the cause stays in the log.
    let internal = lines
        .iter()
        .find(|l| l["message"] == "internal error")
        .unwrap();
    assert_eq!(internal["request_id"], "trace-me-7");
    assert!(
        internal["error"].as_str().unwrap().contains("topics"),
        "{internal}"
    );
}
