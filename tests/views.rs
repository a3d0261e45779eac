//! The view beacon and trending: views are counted once per visitor, only for public articles,
//! written in batches without losing any (also across two processes and shutdown), and ranked.

use std::time::{Duration, Instant};

use gazette_tests::{TestApp, on_both_databases, spawn_app_with, spawn_seeded_app, token};
use serde_json::{Value, json};

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";
const APPLE: &str =
    "facing-sales-slump-apple-cuts-iphone-16-pro-prices-ahead-of-chinas-618-festival";

async fn beacon(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/v1/views"))
        .json(&body)
        .send()
        .await
        .expect("beacon sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Waits until the database holds `expected` views in all (flushes are batched).
async fn wait_for_views(app: &TestApp, expected: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // Right after an outage the store refuses statements until its probe has reached the
        // database again (a few hundred milliseconds): keep polling.
        let stored = match app.store.total_views().await {
            Ok(stored) => stored,
            Err(gazette_persistence::StoreError::Unavailable(_)) => -1,
            Err(error) => panic!("count views: {error}"),
        };
        if stored == expected {
            return;
        }
        assert!(
            stored < expected,
            "more views stored ({stored}) than sent ({expected})"
        );
        assert!(
            Instant::now() < deadline,
            "views never reached {expected} (stored {stored})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn id_of(app: &TestApp, slug: &str) -> String {
    let data = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { id } }",
            json!({ "s": slug }),
        )
        .await;
    data["article"]["id"].as_str().unwrap().to_owned()
}

on_both_databases!(beacons_are_counted_in_batches, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let id = id_of(&app, SAMPLE).await;
    for _ in 0..5 {
        let (status, body) = beacon(&app, json!({ "slug": SAMPLE })).await;
        assert_eq!(status, 202);
        assert_eq!(body, json!({ "counted": true }));
    }
    for _ in 0..3 {
        assert_eq!(beacon(&app, json!({ "articleId": id })).await.0, 202);
    }
    let data = app
        .gql_ok(
            "mutation($s: String!) { recordView(slug: $s) { counted reason } }",
            json!({ "s": SAMPLE }),
        )
        .await;
    assert_eq!(data["recordView"]["counted"], true);
    wait_for_views(&app, 9).await;
});

on_both_databases!(a_visitor_counts_once_per_article, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let first = beacon(&app, json!({ "slug": SAMPLE, "visitorId": "v-1" })).await;
    assert_eq!(first.1["counted"], true);
    let again = beacon(&app, json!({ "slug": SAMPLE, "visitorId": "v-1" })).await;
    assert_eq!(again.0, 202);
    assert_eq!(again.1["counted"], false);
    assert!(again.1["reason"].as_str().unwrap().contains("repeat"));
    // Another article, or another visitor, counts.
    assert_eq!(
        beacon(&app, json!({ "slug": APPLE, "visitorId": "v-1" }))
            .await
            .1["counted"],
        true
    );
    assert_eq!(
        beacon(&app, json!({ "slug": SAMPLE, "visitorId": "v-2" }))
            .await
            .1["counted"],
        true
    );
    wait_for_views(&app, 3).await;
});

on_both_databases!(only_public_articles_collect_views, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let draft = app
        .gql_ok_as(
            &token("editor", "desk"),
            r#"mutation { createArticle(input: { headline: "Unreleased", body: [{ type: "paragraph", text: "Soon." }] }) { id } }"#,
            json!({}),
        )
        .await;
    let draft = draft["createArticle"]["id"].as_str().unwrap().to_owned();
    for body in [
        json!({ "articleId": draft }),
        json!({ "slug": "unreleased" }),
        json!({ "articleId": uuid::Uuid::now_v7().to_string() }),
        json!({ "slug": "no-such-story" }),
    ] {
        let (status, answer) = beacon(&app, body).await;
        assert_eq!(status, 202);
        assert_eq!(answer["counted"], false, "{answer}");
    }
    assert_eq!(
        beacon(&app, json!({ "slug": SAMPLE })).await.1["counted"],
        true
    );
    wait_for_views(&app, 1).await;
});

on_both_databases!(bad_beacons_get_problem_responses, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let send_raw = |body: String| {
        let request = app.client.post(app.url("/v1/views")).body(body);
        async move { request.send().await.unwrap() }
    };
    let problem = |response: reqwest::Response, status: u16| async move {
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        response.json::<Value>().await.unwrap()
    };
    let body = problem(send_raw("not json".to_owned()).await, 400).await;
    assert_eq!(body["code"], "BAD_REQUEST");
    let huge = json!({ "slug": SAMPLE, "visitorId": "x".repeat(10_000) }).to_string();
    problem(send_raw(huge).await, 413).await;
    for (bad, field) in [
        (json!({}), "articleId"),
        (json!({ "visitorId": "v" }), "articleId"),
        (json!({ "articleId": "not-a-uuid" }), "articleId"),
        (json!({ "slug": "Not A Slug" }), "slug"),
        (
            json!({ "slug": SAMPLE, "articleId": uuid::Uuid::now_v7().to_string() }),
            "articleId",
        ),
        (
            json!({ "slug": SAMPLE, "visitorId": "v".repeat(201) }),
            "visitorId",
        ),
    ] {
        let body = problem(send_raw(bad.to_string()).await, 400).await;
        assert_eq!(body["code"], "BAD_USER_INPUT");
        assert_eq!(body["field"], field, "{bad}");
    }
    // None of it stops a good view from counting.
    assert_eq!(
        beacon(&app, json!({ "slug": SAMPLE })).await.1["counted"],
        true
    );
    wait_for_views(&app, 1).await;
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_address_is_rate_limited() {
    let app = spawn_app_with(gazette_tests::Db::Sqlite, |args| {
        args.views.beacon_rate = 5;
        args.views.beacon_burst = 5;
    })
    .await;
    gazette_persistence::seed_sample_content(&app.store, 0, chrono::Utc::now())
        .await
        .unwrap();
    let mut limited = None;
    for _ in 0..30 {
        let response = app
            .client
            .post(app.url("/v1/views"))
            .json(&json!({ "slug": SAMPLE }))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), 202);
    }
    let limited = limited.expect("a flood gets 429");
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED");
    let (_, body) = app
        .gql(
            "mutation($s: String!) { recordView(slug: $s) { counted } }",
            json!({ "s": SAMPLE }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // Reads are not limited by the beacon's budget.
    app.gql_ok("{ trending { views } }", json!({})).await;
}

const TRENDING: &str = r#"query($topic: String, $first: Int) {
  trending(topic: $topic, first: $first) { score views article { slug primaryTopic { slug } } }
}"#;

on_both_databases!(
    a_burst_of_views_makes_a_believable_hot_list,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let bursts = [
            (SAMPLE, 30),
            (APPLE, 20),
            (
                "nasdaq-gains-4-4-as-tech-shares-lead-broad-market-surge",
                12,
            ),
            (
                "rust-bulges-and-hidden-toxins-how-to-spot-dangerous-canned-goods",
                5,
            ),
        ];
        let mut sent = 0;
        for (slug, n) in bursts {
            for v in 0..n {
                let (_, body) = beacon(
                    &app,
                    json!({ "slug": slug, "visitorId": format!("{slug}-{v}") }),
                )
                .await;
                assert_eq!(body["counted"], true);
                sent += 1;
            }
        }
        wait_for_views(&app, sent).await;

        let hot = app.gql_ok(TRENDING, json!({ "first": 3 })).await;
        let hot = hot["trending"].as_array().unwrap().clone();
        assert_eq!(hot.len(), 3);
        assert_eq!(hot[0]["article"]["slug"], SAMPLE);
        assert_eq!(hot[0]["views"], 30);
        assert_eq!(hot[1]["article"]["slug"], APPLE);
        assert!(
            hot.windows(2)
                .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64())
        );
        // Fresh views weigh almost fully.
        let score = hot[0]["score"].as_f64().unwrap();
        assert!(score > 29.0 && score <= 30.0, "{score}");

        // Per topic: only that topic's stories.
        let topic = app
            .gql_ok(
                TRENDING,
                json!({ "topic": "korean-peninsula", "first": 10 }),
            )
            .await;
        let slugs: Vec<&str> = topic["trending"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["article"]["slug"].as_str().unwrap())
            .collect();
        assert_eq!(slugs.first(), Some(&SAMPLE));
        assert!(!slugs.contains(&APPLE), "{slugs:?}");
        let nested = app
        .gql_ok(
            r#"{ topic(slug: "korean-peninsula") { trending(window: WEEK) { article { slug } } } }"#,
            json!({}),
        )
        .await;
        let nested: Vec<&str> = nested["topic"]["trending"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["article"]["slug"].as_str().unwrap())
            .collect();
        assert_eq!(nested, slugs);

        // REST gives the same list.
        let rest: Value = app
            .get("/v1/trending?window=week&first=3")
            .await
            .json()
            .await
            .unwrap();
        let rest_slugs: Vec<&str> = rest["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["article"]["slug"].as_str().unwrap())
            .collect();
        let gql_slugs: Vec<&str> = hot
            .iter()
            .map(|t| t["article"]["slug"].as_str().unwrap())
            .collect();
        assert_eq!(rest_slugs, gql_slugs);
        assert_eq!(rest["items"][0]["views"], 30);

        // Bad input.
        let (_, body) = app.gql(TRENDING, json!({ "first": 51 })).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "first");
        for (query, status) in [
            ("/v1/trending?first=51", 400),
            ("/v1/trending?window=year", 400),
            ("/v1/trending?first=ten", 400),
            ("/v1/trending?topic=no-such-topic", 404),
        ] {
            let response = app.get(query).await;
            assert_eq!(response.status().as_u16(), status, "{query}");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
        }
    }
);

/// How many views the two-process test sends (half through each process).
fn views_to_send() -> usize {
    std::env::var("GAZETTE_TEST_VIEWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

async fn send_views(app: &TestApp, slugs: Vec<String>, count: usize) -> usize {
    let mut tasks = tokio::task::JoinSet::new();
    let workers = 16;
    for w in 0..workers {
        let client = app.client.clone();
        let url = app.url("/v1/views");
        let slugs = slugs.clone();
        let share = count / workers + usize::from(w < count % workers);
        tasks.spawn(async move {
            let mut counted = 0;
            for i in 0..share {
                let slug = &slugs[(w + i) % slugs.len()];
                let response = client
                    .post(&url)
                    .json(&json!({ "slug": slug }))
                    .send()
                    .await
                    .expect("beacon");
                assert_eq!(response.status(), 202);
                let body: Value = response.json().await.unwrap();
                counted += usize::from(body["counted"] == true);
            }
            counted
        });
    }
    let mut counted = 0;
    while let Some(done) = tasks.join_next().await {
        counted += done.unwrap();
    }
    counted
}

on_both_databases!(two_processes_lose_no_view, |db| async move {
    let mut app = spawn_seeded_app(db, 0).await;
    let sibling = app.spawn_sibling().await;
    let slugs: Vec<String> = app
        .gql_ok(
            "{ articles(first: 9) { edges { node { slug } } } }",
            json!({}),
        )
        .await["articles"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap().to_owned())
        .collect();
    let total = views_to_send();
    let (a, b) = tokio::join!(
        send_views(&app, slugs.clone(), total / 2),
        send_views(&sibling, slugs, total - total / 2)
    );
    assert_eq!(a + b, total, "every view was accepted");
    // Graceful stops write what each process still holds.
    sibling.stop().await;
    let store = app.store.clone();
    let stored_before_stop = store.total_views().await.unwrap();
    assert!(stored_before_stop <= total as i64);
    app.stop_server().await;
    assert_eq!(store.total_views().await.unwrap(), total as i64);
    // The trending accumulators agree with the buckets.
    let hot = store
        .trending(
            gazette_domain::trending::TrendingWindow::Week,
            None,
            50,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(hot.iter().map(|c| c.views).sum::<i64>(), total as i64);
});

/// A database outage: flushes fail, the counts stay in memory, and they are written once the
/// database is back. (PostgreSQL lets a test refuse and cut connections to one database.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_counted_during_an_outage_are_written_when_it_ends() {
    let app = spawn_seeded_app(gazette_tests::Db::Postgres, 0).await;
    let name = app.postgres_database().unwrap().to_owned();
    let admin = gazette_tests::pg_admin_url();
    for _ in 0..5 {
        assert_eq!(
            beacon(&app, json!({ "slug": SAMPLE })).await.1["counted"],
            true
        );
    }
    wait_for_views(&app, 5).await;

    gazette_tests::admin_exec(
        &admin,
        &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
    )
    .await;
    gazette_tests::admin_exec(
        &admin,
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get("/readyz").await.status() != 503 {
        assert!(Instant::now() < deadline, "the outage never showed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The article lookup is still cached, so beacons keep being counted in memory.
    for _ in 0..7 {
        let (status, body) = beacon(&app, json!({ "slug": SAMPLE })).await;
        assert_eq!(status, 202);
        assert_eq!(body["counted"], true);
    }
    // Let the flusher (every 50 ms in tests) fail a few times.
    tokio::time::sleep(Duration::from_millis(300)).await;

    gazette_tests::admin_exec(
        &admin,
        &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"),
    )
    .await;
    wait_for_views(&app, 12).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
}

on_both_databases!(
    running_scores_equal_the_definition_as_windows_move,
    |db| async move {
        use chrono::{Duration as Span, Utc};
        use gazette_domain::trending::{Bucket, TrendingWindow, bucket_hour, score};
        use gazette_persistence::ViewCount;

        let app = spawn_seeded_app(db, 0).await;
        let ids: Vec<uuid::Uuid> = app
            .gql_ok(
                "{ articles(first: 4) { edges { node { id } } } }",
                json!({}),
            )
            .await["articles"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().parse().unwrap())
            .collect();
        let now = Utc::now();
        let mut buckets = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            for (age_hours, views) in [(1, 5), (10, 7), (30, 11), (200, 13), (700, 17)] {
                buckets.push(Bucket {
                    article_id: *id,
                    hour: bucket_hour(now - Span::hours(age_hours + i as i64)),
                    views: views * (i as i64 + 1),
                });
            }
        }
        let counts: Vec<ViewCount> = buckets
            .iter()
            .map(|b| ViewCount {
                article_id: b.article_id,
                hour: b.hour,
                views: b.views,
            })
            .collect();
        app.store.record_views(&counts, now).await.unwrap();

        let half_life = Span::hours(24);
        // Windows move on as time passes; what left each window leaves its scores.
        for later in [0, 5, 20, 30, 24 * 8] {
            let at = now + Span::hours(later);
            app.store.expire_trending(at).await.unwrap();
            for window in TrendingWindow::ALL {
                let ranked = app.store.trending(window, None, 10, at).await.unwrap();
                for id in &ids {
                    let mine: Vec<Bucket> = buckets
                        .iter()
                        .filter(|b| b.article_id == *id)
                        .copied()
                        .collect();
                    let (expected, views) = score(&mine, window, at, half_life);
                    let got = ranked.iter().find(|c| c.article_id == *id);
                    match got {
                        None => assert_eq!(views, 0, "{window:?} +{later}h: {id} missing"),
                        Some(c) => {
                            assert_eq!(c.views, views, "{window:?} +{later}h views");
                            assert!(
                                (c.score - expected).abs() <= 1e-9 * expected.max(1.0),
                                "{window:?} +{later}h: score {} vs {expected}",
                                c.score
                            );
                        }
                    }
                }
            }
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_dedupe_memory_counts_rather_than_grows() {
    let app = spawn_app_with(gazette_tests::Db::Sqlite, |args| {
        args.views.view_dedupe_capacity = 2;
    })
    .await;
    gazette_persistence::seed_sample_content(&app.store, 0, chrono::Utc::now())
        .await
        .unwrap();
    let counted = |visitor: &'static str| {
        let app = &app;
        async move {
            beacon(app, json!({ "slug": SAMPLE, "visitorId": visitor }))
                .await
                .1["counted"]
                == true
        }
    };
    assert!(counted("a").await);
    assert!(counted("b").await);
    assert!(!counted("a").await, "remembered while there is room");
    // Full: a new visitor is counted but not remembered, so memory stays bounded.
    assert!(counted("c").await);
    assert!(counted("c").await);
    wait_for_views(&app, 4).await;
}
