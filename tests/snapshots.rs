//! Snapshots (insta) of what readers and integrators see whole: the sample page's JSON, the
//! JSON Feed and the OpenAPI document. Ids, instants and cursors change with every seed and are
//! redacted; everything else must stay as reviewed (`cargo insta review`, or run with
//! `INSTA_UPDATE=always` and read the diff). Both databases give the same snapshot.

use gazette_tests::{TestApp, on_both_databases, spawn_seeded_app};
use serde_json::Value;

/// Keys whose values change with every seed or clock: ids, instants, cursors.
const VOLATILE: [&str; 10] = [
    "id",
    "publishedAt",
    "updatedAt",
    "substantiveUpdatedAt",
    "createdAt",
    "startCursor",
    "endCursor",
    "date_published",
    "date_modified",
    "expiresAt",
];

/// `value` with every volatile string replaced by `"[redacted]"` (nulls stay null, so a
/// snapshot still shows which are set).
fn redacted(mut value: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map.iter_mut() {
                    if VOLATILE.contains(&key.as_str()) && inner.is_string() {
                        *inner = Value::String("[redacted]".to_owned());
                    } else {
                        walk(inner);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

async fn json(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.expect("JSON")
}

on_both_databases!(
    the_sample_page_and_its_feed_read_as_reviewed,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        insta::assert_json_snapshot!(
            "sample_page_articles",
            redacted(json(&app, "/v1/articles?first=20").await)
        );
        insta::assert_json_snapshot!(
            "sample_page_article",
            redacted(
                json(
                    &app,
                    "/v1/articles/putins-north-korea-visit-could-reshape-regional-security"
                )
                .await
            )
        );
        insta::assert_json_snapshot!(
            "latest_json_feed",
            redacted(json(&app, "/feeds/latest.json?limit=5").await)
        );
    }
);

#[tokio::test]
async fn the_openapi_document_reads_as_reviewed() {
    let app = gazette_tests::spawn_app(gazette_tests::Db::Sqlite).await;
    insta::assert_json_snapshot!("openapi", json(&app, "/openapi.json").await);
}
