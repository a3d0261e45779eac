//! Several `gazette serve` processes on one database behave as one service: a persisted query
//! registered with one node runs on any node (the registry is in the database, bounded in
//! rows), and with a Redis the rate limits are one budget across nodes (per process without
//! it, and per process again while Redis does not answer).

use std::time::Instant;

use gazette_api::persisted::sha256_hex;
use gazette_server::ServeArgs;
use gazette_tests::{Db, TestApp, on_both_databases, spawn_app_with};
use serde_json::{Value, json};

const LATEST: &str = "query Latest { articles(first: 2) { edges { node { slug } } } }";

fn apq(hash: &str) -> String {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string()
}

/// `GET /graphql` by hash (and the document, when given).
async fn get_by_hash(app: &TestApp, hash: &str, query: Option<&str>) -> (u16, Value) {
    let mut params = vec![("extensions", apq(hash))];
    if let Some(query) = query {
        params.push(("query", query.to_owned()));
    }
    let response = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .query(&params)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

on_both_databases!(
    a_query_registered_with_one_node_runs_by_hash_on_another,
    |db| async move {
        let a = spawn_app_with(db, |_| {}).await;
        gazette_persistence::seed_sample_content(&a.store, 2, chrono::Utc::now())
            .await
            .expect("seed");
        let b = a.spawn_sibling().await;
        let hash = sha256_hex(LATEST);
        let (status, body) = get_by_hash(&b, &hash, None).await;
        assert_eq!(
            (status, code(&body)),
            (200, "PERSISTED_QUERY_NOT_FOUND"),
            "{body}"
        );
        // Registered with node A…
        let (status, registered) = a.post_persisted(&hash, Some(LATEST)).await;
        assert_eq!(status, 200, "{registered}");
        assert!(registered["data"]["articles"]["edges"][0]["node"]["slug"].is_string());
        // …it runs by hash on node B, by GET and by POST.
        let (status, by_get) = get_by_hash(&b, &hash, None).await;
        assert_eq!(status, 200, "{by_get}");
        assert_eq!(by_get["data"], registered["data"]);
        let (status, by_post) = b.post_persisted(&hash, None).await;
        assert_eq!(status, 200, "{by_post}");
        assert_eq!(by_post["data"], registered["data"]);
        // A document that does not hash to its hash is still refused, on either node.
        let other = sha256_hex("{ __typename }");
        for node in [&a, &b] {
            let (status, body) = node.post_persisted(&other, Some(LATEST)).await;
            assert_eq!(
                (status, code(&body)),
                (400, "PERSISTED_QUERY_HASH_MISMATCH"),
                "{body}"
            );
            let (status, body) = get_by_hash(node, "0123", None).await;
            assert_eq!((status, code(&body)), (400, "BAD_REQUEST"), "{body}");
        }
        // A document that does not validate is registered nowhere.
        let invalid = "{ nonsense }";
        let (status, _) = a.post_persisted(&sha256_hex(invalid), Some(invalid)).await;
        assert_eq!(status, 400);
        let (_, body) = b.post_persisted(&sha256_hex(invalid), None).await;
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
        assert_eq!(a.store.persisted_query_count().await.unwrap(), 1);
        b.stop().await;
        a.stop().await;
    }
);

on_both_databases!(
    the_shared_registry_keeps_at_most_its_bound_least_recently_used_out,
    |db| async move {
        let bounded = |args: &mut ServeArgs| args.graphql.apq_max_queries = 3;
        let a = spawn_app_with(db, bounded).await;
        let b = a.spawn_sibling_with(bounded).await;
        let query = |n: usize| format!("query Q{n} {{ __typename }}");
        // Anonymous clients register six queries, alternating nodes: three rows stay.
        for n in 0..6 {
            let node = if n % 2 == 0 { &a } else { &b };
            let (status, body) = node
                .post_persisted(&sha256_hex(&query(n)), Some(&query(n)))
                .await;
            assert_eq!(status, 200, "{body}");
            assert!(a.store.persisted_query_count().await.unwrap() <= 3);
        }
        assert_eq!(a.store.persisted_query_count().await.unwrap(), 3);
        // A third node knows only what the database kept: the newest three.
        let c = a.spawn_sibling_with(bounded).await;
        for n in 0..6 {
            let (status, body) = get_by_hash(&c, &sha256_hex(&query(n)), None).await;
            if n < 3 {
                assert_eq!(
                    (status, code(&body)),
                    (200, "PERSISTED_QUERY_NOT_FOUND"),
                    "{n}: {body}"
                );
            } else {
                assert_eq!(
                    (status, &body["data"]["__typename"]),
                    (200, &json!("Query")),
                    "{n}: {body}"
                );
            }
        }
        // An evicted query comes back the protocol's way: registered again.
        let (status, body) = get_by_hash(&c, &sha256_hex(&query(0)), Some(&query(0))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(a.store.persisted_query_count().await.unwrap(), 3);
        let (status, body) = get_by_hash(&a, &sha256_hex(&query(0)), None).await;
        assert_eq!(status, 200, "{body}");
        c.stop().await;
        b.stop().await;
        a.stop().await;
    }
);

/// A budget of `burst` requests (and one more each second) per anonymous address, counted in
/// the local Redis under `prefix`, or in `url`.
fn limited(url: &str, prefix: &str, burst: u32) -> impl Fn(&mut ServeArgs) {
    let url = url.to_owned();
    let prefix = prefix.to_owned();
    move |args: &mut ServeArgs| {
        args.delivery.rate_anonymous = 1;
        args.delivery.rate_anonymous_burst = burst;
        args.delivery.redis_url = Some(url.clone());
        args.delivery.redis_prefix = prefix.clone();
        // Generous for a shared CI box; a slower answer falls back to the local count.
        args.delivery.redis_timeout_ms = 2_000;
    }
}

async fn typename(app: &TestApp) -> reqwest::Response {
    app.client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap()
}

fn remaining(response: &reqwest::Response) -> u64 {
    response.headers()["ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_two_nodes_share_one_budget() {
    let prefix = format!("gazette-test:{}", uuid::Uuid::now_v7());
    let config = limited("redis://127.0.0.1:6379", &prefix, 10);
    let a = spawn_app_with(Db::Sqlite, &config).await;
    let b = a.spawn_sibling_with(&config).await;
    let started = Instant::now();
    // One node's answer counts the other's requests.
    let first = typename(&a).await;
    assert_eq!(first.status(), 200);
    let second = typename(&b).await;
    assert_eq!(second.status(), 200);
    assert!(remaining(&second) < remaining(&first));
    // Twenty requests split across both: one budget of ten (plus one a second), not two.
    let mut allowed = 2;
    for n in 0..18 {
        let response = typename(if n % 2 == 0 { &a } else { &b }).await;
        match response.status().as_u16() {
            200 => allowed += 1,
            429 => assert!(response.headers().contains_key("retry-after")),
            other => panic!("status {other}"),
        }
    }
    let refill = started.elapsed().as_secs() + 1;
    assert!(
        (10..=10 + refill).contains(&allowed),
        "{allowed} allowed in {refill} s"
    );
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_leaves_each_node_its_own_limit() {
    // Nothing listens on port 1: every node counts in its own memory.
    let config = limited("redis://127.0.0.1:1", "gazette-test", 3);
    let a = spawn_app_with(Db::Sqlite, &config).await;
    let started = Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = typename(&a).await;
        assert!(response.headers().contains_key("ratelimit-limit"));
        statuses.push(response.status().as_u16());
    }
    let allowed = statuses.iter().filter(|s| **s == 200).count() as u64;
    let refill = started.elapsed().as_secs() + 1;
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    assert!((3..=3 + refill).contains(&allowed), "{statuses:?}");
    assert_eq!(statuses[0], 200);
    a.stop().await;
}
