//! `now` comes from the application's clock: a test moves it instead of waiting, and every
//! surface sees a scheduled story go live at the same moved instant.

use std::sync::Arc;

use gazette_app::ManualClock;
use gazette_tests::{TestApp, on_both_databases, spawn_app_with};
use serde_json::{Value, json};

/// Whether a reader finds the article through GraphQL, REST, the latest list and the feed.
async fn seen(app: &TestApp, slug: &str) -> [bool; 4] {
    let graphql = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { slug } }",
            json!({ "s": slug }),
        )
        .await["article"]
        .is_object();
    let rest = app.get(&format!("/v1/articles/{slug}")).await.status() == 200;
    let list: Value = app.get("/v1/articles").await.json().await.unwrap();
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["slug"] == slug);
    let feed: Value = app.get("/feeds/latest.json").await.json().await.unwrap();
    let in_feed = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["url"].as_str().is_some_and(|u| u.ends_with(slug)));
    [graphql, rest, listed, in_feed]
}

on_both_databases!(
    a_scheduled_story_goes_live_when_the_clock_moves,
    |db| async move {
        let clock = ManualClock::new();
        let moved = clock.clone();
        let app = spawn_app_with(db, move |args| args.clock = Arc::new(moved)).await;
        let slug = "goes-live-in-an-hour";
        let id = app
            .draft(slug, json!({ "headline": "Goes live in an hour" }))
            .await;
        let at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        app.as_editor(
            "mutation($id: ID!, $at: String!) { scheduleArticle(id: $id, at: $at) { id } }",
            json!({ "id": id, "at": at }),
        )
        .await;
        assert_eq!(seen(&app, slug).await, [false; 4], "not before its time");

        clock.advance(chrono::Duration::hours(2));
        assert_eq!(
            seen(&app, slug).await,
            [true; 4],
            "live once the clock passed it"
        );
        let status = app
            .gql_ok(
                "query($s: String!) { article(slug: $s) { status } }",
                json!({ "s": slug }),
            )
            .await;
        assert_eq!(status["article"]["status"], "PUBLISHED");
    }
);
