//! What one request may take: its share of the database pool, a bounded wait for a
//! connection when the pool is saturated, and a deadline (request and statement) answered
//! with a coded error rather than a dropped connection.
//!
//! Slow statements are real: the test holds a lock from a connection of its own (SQLite's
//! write lock, or a PostgreSQL table lock) and the server's statements wait behind it.

use std::time::Duration;

use gazette_tests::{
    DatabaseLock, Db, LockKind, TestApp, eventually, on_both_databases, spawn_app_with, token,
};
use serde_json::{Value, json};

const CREATE: &str = r#"
mutation Create($input: CreateArticleInput!) {
  createArticle(input: $input) { id slug }
}"#;

/// A query whose ten root fields each send their own statements, all at once.
fn ten_lookups() -> String {
    let fields: String = (0..10)
        .map(|i| format!("a{i}: article(slug: \"no-such-story-{i}\") {{ id }} "))
        .collect();
    format!("{{ {fields}}}")
}

fn draft(slug: &str) -> Value {
    json!({ "input": {
        "headline": "A story written while the database was busy",
        "slug": slug,
        "dek": "It waited for a lock.",
        "body": [{ "type": "paragraph", "text": "Some text." }]
    }})
}

/// Sends `createArticle` for `slug` as an editor; returns status and body.
async fn create(app: &TestApp, slug: &str) -> (u16, Value) {
    app.gql_as(&token("editor", "alice"), CREATE, draft(slug))
        .await
}

/// Whether a story with `slug` exists (as an editor sees it).
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

on_both_databases!(
    one_request_holds_at_most_its_share_of_the_pool,
    |db| async move {
        // The measure keeps the most statements one request had admitted at once since the
        // store opened: never above the request's share, however the request's lookups
        // overlap. How much they overlap is up to scheduling (on a busy machine, or when its
        // DataLoader batches them, not at all), so this checks the cap over several tries;
        // that the measure does see a request holding its whole share is proved with the
        // statements held behind a lock, in the PostgreSQL test below.
        const TRIES: usize = 5;
        for share in [2, 8] {
            let app = spawn_app_with(db, |args| {
                args.db.db_max_connections = 8;
                args.pool.db_request_share = share;
            })
            .await;
            for _ in 0..TRIES {
                let data = app.gql_ok(&ten_lookups(), json!({})).await;
                assert!(data["a0"].is_null() && data["a9"].is_null(), "{data}");
            }
            let stats = app.store.pool_stats();
            assert!(
                (1..=share).contains(&stats.most_held_by_one_request),
                "share {share}: {stats:?}"
            );
        }
    }
);

/// PostgreSQL only: SQLite readers cannot be made to wait (WAL), so only here can one
/// request's reads be seen holding connections while another client is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_request_leaves_the_rest_of_the_pool_to_others() {
    let app = spawn_app_with(Db::Postgres, |args| {
        args.db.db_max_connections = 6;
        args.pool.db_request_share = 2;
        args.pool.db_statement_timeout_ms = 60_000;
        args.serving.request_timeout_ms = 60_000;
    })
    .await;
    app.settle().await;
    let lock = DatabaseLock::take(&app, LockKind::Everything).await;
    let stalled = {
        let (client, url) = (app.client.clone(), app.url("/graphql"));
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({ "query": ten_lookups() }))
                .send()
                .await
                .expect("sent")
                .status()
                .as_u16()
        })
    };
    let store = app.store.clone();
    eventually(
        "the stalled request holds its share",
        Duration::from_secs(20),
        || store.pool_stats().in_use == 2,
    )
    .await;
    // Ten statements are waiting behind the lock, yet only two connections are taken: other
    // readers are served from the rest of the pool.
    for _ in 0..3 {
        let response = app.get("/v1/topics").await;
        assert_eq!(response.status(), 200);
        let data = app
            .gql_ok(
                "{ topics(first: 5) { edges { node { slug } } } }",
                json!({}),
            )
            .await;
        assert!(data["topics"]["edges"].is_array());
    }
    assert_eq!(
        app.store.pool_stats().in_use,
        2,
        "{:?}",
        app.store.pool_stats()
    );
    lock.release().await;
    assert_eq!(stalled.await.expect("stalled request ends"), 200);
    assert_eq!(app.store.pool_stats().most_held_by_one_request, 2);
}

on_both_databases!(a_saturated_pool_sheds_new_work_at_once, |db| async move {
    // Three connections, one per request, nobody may queue for one, and a wait long enough
    // that a queued request would outlive the test client's timeout: only shedding answers.
    let app = spawn_app_with(db, |args| {
        args.db.db_max_connections = 3;
        args.pool.db_request_share = 1;
        args.pool.db_max_waiting = 0;
        args.pool.db_acquire_timeout_ms = 120_000;
        args.pool.db_statement_timeout_ms = 120_000;
        args.serving.request_timeout_ms = 120_000;
        // A periodic view flush would take a fourth connection (and then wait on the lock),
        // shedding one of the writers: only the flush at start runs.
        args.views.view_flush_ms = 600_000;
    })
    .await;
    app.settle_after_flushes(1).await;
    let lock = DatabaseLock::take(&app, LockKind::Writes).await;
    let writers: Vec<_> = (0..3)
        .map(|i| {
            let app_client = app.client.clone();
            let url = app.url("/graphql");
            tokio::spawn(async move {
                let response = app_client
                    .post(url)
                    .bearer_auth(token("editor", "alice"))
                    .json(&json!({ "query": CREATE, "variables": draft(&format!("busy-{i}")) }))
                    .send()
                    .await
                    .expect("sent");
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.expect("JSON"))
            })
        })
        .collect();
    let store = app.store.clone();
    eventually(
        "three writers hold the pool",
        Duration::from_secs(20),
        || store.pool_stats().in_use == 3,
    )
    .await;

    let (status, body) = app
        .gql("{ articles(first: 1) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{body}"
    );
    let response = app.get("/v1/articles?first=1").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "UNAVAILABLE");

    // The writers were only waiting: once the lock goes, each of them is saved.
    lock.release().await;
    for writer in writers {
        let (status, body) = writer.await.expect("writer ends");
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
    }
    for i in 0..3 {
        assert!(exists(&app, &format!("busy-{i}")).await);
    }
});

on_both_databases!(
    a_request_past_its_deadline_gets_a_timeout_error,
    |db| async move {
        let app = spawn_app_with(db, |args| {
            args.serving.request_timeout_ms = 300;
            args.pool.db_statement_timeout_ms = 120_000;
        })
        .await;
        app.settle().await;
        let lock = DatabaseLock::take(&app, LockKind::Writes).await;
        let response = app
            .gql_authorized(
                Some(&format!("Bearer {}", token("editor", "alice"))),
                CREATE,
                draft("too-slow"),
            )
            .await;
        assert_eq!(response.status(), 504);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/graphql-response+json")
        );
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT", "{body}");
        assert!(body.get("data").is_none(), "{body}");
        lock.release().await;
        // The write was abandoned with its request: nothing was saved.
        assert!(!exists(&app, "too-slow").await);
    }
);

on_both_databases!(a_statement_past_its_limit_is_stopped, |db| async move {
    // PostgreSQL cancels the INSERT waiting for the lock (statement_timeout); SQLite gives up
    // waiting for the write lock (busy timeout). Either way the editor is told TIMEOUT.
    let app = spawn_app_with(db, |args| {
        args.pool.db_statement_timeout_ms = 200;
        args.serving.request_timeout_ms = 60_000;
    })
    .await;
    app.settle().await;
    let lock = DatabaseLock::take(&app, LockKind::Writes).await;
    let (status, body) = create(&app, "statement-too-slow").await;
    lock.release().await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT", "{body}");
    assert!(status == 200 || status == 504, "{status} {body}");
    assert!(!exists(&app, "statement-too-slow").await);
    // The store is not left thinking the database is gone.
    let (status, body) = create(&app, "statement-in-time").await;
    assert_eq!(status, 200, "{body}");
});

/// PostgreSQL only (a blocked read): a REST route past its deadline answers a problem body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_request_past_its_deadline_gets_a_problem() {
    let app = spawn_app_with(Db::Postgres, |args| {
        args.serving.request_timeout_ms = 300;
        args.pool.db_statement_timeout_ms = 120_000;
    })
    .await;
    app.settle().await;
    let lock = DatabaseLock::take(&app, LockKind::Everything).await;
    let response = app.get("/v1/articles?first=1").await;
    assert_eq!(response.status(), 504);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "TIMEOUT", "{problem}");
    assert_eq!(problem["status"], 504);
    lock.release().await;
    assert_eq!(app.get("/v1/articles?first=1").await.status(), 200);
}
