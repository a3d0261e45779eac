//! Trending cannot be bought from one address: views without a visitor id count once per
//! address and article, views with invented visitor ids at most the configured cap, IPv6
//! clients are known by their /64, and both rules go with `GAZETTE_BEACON_RATE=0`. On both
//! databases, through the REST beacon and the GraphQL mutation alike.

use std::time::{Duration, Instant};

use gazette_tests::{TestApp, on_both_databases, spawn_app_with};
use serde_json::{Value, json};

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";
const CAP: u32 = 5;

/// A beacon from `address` (as the trusted proxy in front names it); whether it counted.
async fn beacon(app: &TestApp, address: &str, visitor: Option<String>) -> bool {
    let mut body = json!({ "slug": SAMPLE });
    if let Some(visitor) = visitor {
        body["visitorId"] = json!(visitor);
    }
    let response = app
        .client
        .post(app.url("/v1/views"))
        .header("x-forwarded-for", address)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let answer: Value = response.json().await.unwrap();
    answer["counted"] == true
}

/// The same through GraphQL's `recordView`.
async fn record_view(app: &TestApp, address: &str, visitor: String) -> bool {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", address)
        .json(&json!({
            "query": "mutation($s: String!, $v: String) { recordView(slug: $s, visitorId: $v) { counted } }",
            "variables": { "s": SAMPLE, "v": visitor }
        }))
        .send()
        .await
        .unwrap();
    let answer: Value = response.json().await.unwrap();
    answer["data"]["recordView"]["counted"] == true
}

async fn seeded(db: gazette_tests::Db, beacon_rate: u32) -> TestApp {
    let app = spawn_app_with(db, |args| {
        args.delivery.trusted_proxy_hops = 1;
        args.views.beacon_rate = beacon_rate;
        args.views.beacon_burst = beacon_rate;
        args.guards.view_address_cap = CAP;
    })
    .await;
    gazette_persistence::seed_sample_content(&app.store, 0, chrono::Utc::now())
        .await
        .expect("seed");
    app
}

/// Waits until the database holds exactly `expected` views (flushes are batched).
async fn wait_for_views(app: &TestApp, expected: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stored = app.store.total_views().await.unwrap();
        assert!(
            stored <= expected,
            "{stored} views stored, at most {expected} allowed"
        );
        if stored == expected {
            return;
        }
        assert!(Instant::now() < deadline, "views never reached {expected}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_both_databases!(
    a_flood_from_one_address_moves_an_article_by_at_most_the_cap,
    |db| async move {
        let app = seeded(db, 10_000).await;
        let mut counted = 0;
        // One IPv4 address: anonymous repeats, then invented visitor ids, through both doors.
        for i in 0..40 {
            counted += u32::from(beacon(&app, "203.0.113.7", None).await);
            counted += u32::from(beacon(&app, "203.0.113.7", Some(format!("rest-{i}"))).await);
            counted += u32::from(record_view(&app, "203.0.113.7", format!("gql-{i}")).await);
        }
        assert_eq!(counted, CAP, "one address adds at most the cap");
        // One IPv6 /64, every view from another address in it.
        let mut counted_v6 = 0;
        for i in 0..40 {
            let address = format!("2001:db8:1:2::{:x}", i + 1);
            counted_v6 += u32::from(beacon(&app, &address, Some(format!("v6-{i}"))).await);
            counted_v6 += u32::from(beacon(&app, &address, None).await);
        }
        assert_eq!(counted_v6, CAP, "a /64 is one client");
        // Others still count: another /64, another IPv4 address, each once without an id.
        for address in ["2001:db8:1:3::1", "198.51.100.9"] {
            assert!(beacon(&app, address, None).await, "{address}");
            assert!(!beacon(&app, address, None).await, "{address} repeats");
        }
        wait_for_views(&app, i64::from(2 * CAP + 2)).await;
    }
);

on_both_databases!(
    the_address_rules_go_with_the_beacon_rate_limit,
    |db| async move {
        let app = seeded(db, 0).await;
        let mut counted = 0;
        for i in 0..(CAP + 5) {
            counted += u32::from(beacon(&app, "203.0.113.7", None).await);
            counted += u32::from(beacon(&app, "203.0.113.7", Some(format!("v-{i}"))).await);
        }
        assert_eq!(
            counted,
            2 * (CAP + 5),
            "GAZETTE_BEACON_RATE=0 counts every view"
        );
        wait_for_views(&app, i64::from(2 * (CAP + 5))).await;
    }
);
