//! Bad input gets a coded error and a client status, never a 500.

use gazette_tests::{Db, TestApp, on_both_databases, spawn_app, spawn_seeded_app};
use serde_json::{Value, json};

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no extensions.code in {body}"))
}

async fn post_raw(app: &TestApp, content_type: &str, body: &'static str) -> (u16, Value) {
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", content_type)
        .header("accept", "application/graphql-response+json")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn malformed_json_body_is_400() {
    let app = spawn_app(Db::Sqlite).await;
    let (status, body) = post_raw(&app, "application/json", "{\"query\": ").await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "BAD_REQUEST");
    assert!(body.get("data").is_none());
}

#[tokio::test]
async fn unparsable_document_is_400_without_data() {
    let app = spawn_app(Db::Sqlite).await;
    let (status, body) = app
        .gql("{ articles(first: 1) { edges { node { slug }", json!({}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "GRAPHQL_PARSE_FAILED");
    assert!(body.get("data").is_none(), "{body}");
}

#[tokio::test]
async fn unknown_field_is_400_without_data() {
    let app = spawn_app(Db::Sqlite).await;
    let (status, body) = app
        .gql("{ article(slug: \"x\") { nonsense } }", json!({}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");
    assert!(body.get("data").is_none());
}

#[tokio::test]
async fn wrong_variable_type_is_400() {
    let app = spawn_app(Db::Sqlite).await;
    let (status, body) = app
        .gql(
            "query($n: Int) { articles(first: $n) { edges { cursor } } }",
            json!({ "n": "ten" }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.get("data").is_none());
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");
}

async fn assert_bad_user_input(app: &TestApp, query: &str, variables: Value, field: &str) {
    let (status, body) = app.gql(query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
}

on_both_databases!(
    page_arguments_out_of_range_are_bad_user_input,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let q = "query($f: Int, $l: Int) { articles(first: $f, last: $l) { edges { cursor } } }";
        assert_bad_user_input(&app, q, json!({ "f": -1 }), "first").await;
        assert_bad_user_input(&app, q, json!({ "f": 10000 }), "first").await;
        assert_bad_user_input(&app, q, json!({ "f": 101 }), "first").await;
        assert_bad_user_input(&app, q, json!({ "l": 500 }), "last").await;
        assert_bad_user_input(
            &app,
            "{ topics(first: -5) { edges { cursor } } }",
            json!({}),
            "first",
        )
        .await;
    }
);

on_both_databases!(foreign_cursors_are_bad_user_input, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let topics = app
        .gql_ok("{ topics(first: 1) { pageInfo { endCursor } } }", json!({}))
        .await;
    let topic_cursor = topics["topics"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let q = "query($a: String) { articles(first: 5, after: $a) { edges { cursor } } }";
    for cursor in [topic_cursor.as_str(), "not-a-cursor", "", "YTE6eHl6", "%%%"] {
        assert_bad_user_input(&app, q, json!({ "a": cursor }), "after").await;
    }
});

on_both_databases!(odd_slugs_and_ids_are_bad_user_input, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    for slug in [
        "../../etc/passwd",
        "Robert'); DROP TABLE articles;--",
        "UPPER",
        "a b",
        "ü",
    ] {
        assert_bad_user_input(
            &app,
            "query($s: String!) { article(slug: $s) { id } }",
            json!({ "s": slug }),
            "slug",
        )
        .await;
        assert_bad_user_input(
            &app,
            "query($s: String!) { topic(slug: $s) { id } }",
            json!({ "s": slug }),
            "slug",
        )
        .await;
    }
    assert_bad_user_input(&app, "{ article(id: \"12\") { id } }", json!({}), "id").await;
    assert_bad_user_input(&app, "{ article { id } }", json!({}), "slug").await;
    assert_bad_user_input(
        &app,
        "{ articles(filter: { topic: \"Not A Slug\" }) { edges { cursor } } }",
        json!({}),
        "filter.topic",
    )
    .await;
    // The database is intact afterwards.
    let data = app
        .gql_ok("{ articles(first: 100) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(data["articles"]["edges"].as_array().unwrap().len(), 9);
});

#[tokio::test]
async fn queries_beyond_depth_or_complexity_are_refused() {
    let app = spawn_app(Db::Sqlite).await;
    let deep = "{ topics { edges { node { parent { parent { parent { parent { parent { parent { parent { parent { parent { slug } } } } } } } } } } } } }";
    let (status, body) = app.gql(deep, json!({})).await;
    assert_eq!(status, 400, "{body}");
    let costly = "{ articles(first: 100) { edges { node { topics { articles(first: 100) { edges { node { authors { articles(first: 100) { edges { node { slug } } } } } } } } } } } }";
    let (status, body) = app.gql(costly, json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{body}"
    );
}
