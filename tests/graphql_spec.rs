//! GraphQL by the spec, checked with real artefacts: graphql-js's own introspection query,
//! empty objects, validation of `__typename`'s directives, 32-bit `Int`s, `Accept: */*`.

use gazette_tests::{Db, TestApp, on_both_databases, spawn_app, spawn_seeded_app, token};
use serde_json::{Value, json};

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";

/// graphql-js 16's `getIntrospectionQuery()`, default options and every option (see
/// `tests/fixtures/README.md`).
const INTROSPECTION: [&str; 2] = [
    include_str!("fixtures/graphql-js-16-introspection.graphql"),
    include_str!("fixtures/graphql-js-16-introspection-all-options.graphql"),
];

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no extensions.code in {body}"))
}

#[tokio::test]
async fn the_graphql_js_introspection_query_succeeds_for_anonymous_callers_and_editors() {
    let app = spawn_app(Db::Sqlite).await;
    let editor = token("editor", "alice");
    for query in INTROSPECTION {
        for caller in [None, Some(editor.as_str())] {
            let (status, body) = match caller {
                None => app.gql(query, json!({})).await,
                Some(token) => app.gql_as(token, query, json!({})).await,
            };
            assert_eq!(status, 200, "{body}");
            assert!(body.get("errors").is_none(), "{body}");
            let types = body["data"]["__schema"]["types"].as_array().unwrap();
            assert!(types.iter().any(|t| t["name"] == "Article"), "{body}");
            // The nine `ofType` levels resolved: `[Article!]!` is NON_NULL → LIST → NON_NULL → Article.
            let article = types.iter().find(|t| t["name"] == "Article").unwrap();
            let related = article["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == "related")
                .unwrap();
            assert_eq!(
                related["type"]["ofType"]["ofType"]["ofType"]["name"],
                "Article"
            );
        }
    }
    // Depth still bounds ordinary queries: only introspection is exempt.
    let deep = "{ topics { edges { node { parent { parent { parent { parent { parent { parent { parent { parent { parent { slug } } } } } } } } } } } } }";
    let (status, body) = app.gql(deep, json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
}

on_both_databases!(
    an_object_whose_selection_resolves_no_field_is_empty,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let id = app
            .gql_ok(
                "query($s: String!) { article(slug: $s) { id } }",
                json!({ "s": SAMPLE }),
            )
            .await["article"]["id"]
            .clone();
        // The sample article has paragraphs and quotes, no embed: each block is `{}`.
        let data = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { body { ... on EmbedBlock { caption } } } }",
            json!({ "s": SAMPLE }),
        )
        .await;
        let blocks = data["article"]["body"].as_array().unwrap();
        assert!(!blocks.is_empty());
        assert!(blocks.iter().all(|b| *b == json!({})), "{data}");
        // A skipped fragment leaves each author an empty object, not null.
        let data = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { authors { ... @skip(if: true) { name } } } }",
            json!({ "s": SAMPLE }),
        )
        .await;
        let authors = data["article"]["authors"].as_array().unwrap();
        assert!(!authors.is_empty());
        assert!(authors.iter().all(|a| *a == json!({})), "{data}");
        // An article asked for as a topic exists: `{}`, not the `null` of "not found".
        let data = app
            .gql_ok(
                "query($id: ID!) { node(id: $id) { ... on Topic { slug } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["node"], json!({}), "{data}");
        let data = app
            .gql_ok(
                "query($id: ID!) { node(id: $id) { ... on Topic { slug } } }",
                json!({ "id": "01a23569-c814-7348-ae12-000000000000" }),
            )
            .await;
        assert!(data["node"].is_null(), "{data}");
        // The whole response too.
        assert_eq!(
            app.gql_ok("{ ... @skip(if: true) { __typename } }", json!({}))
                .await,
            json!({})
        );
        // A field with an error is `null`, not left out; in a non-null position, its parent is.
        let (status, body) = app
            .gql(
                r#"query($s: String!) { bad: article(slug: "Not A Slug") { id }
                     article(slug: $s) { id related(first: 50) { slug } }
                     latest: articles(first: 1) { edges { cursor } } }"#,
                json!({ "s": SAMPLE }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let data = body["data"].as_object().unwrap();
        assert!(
            ["bad", "article", "latest"]
                .iter()
                .all(|key| data.contains_key(*key)),
            "{body}"
        );
        assert!(data["bad"].is_null() && data["article"].is_null(), "{body}");
        assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
    }
);

async fn assert_validation_fails(app: &TestApp, query: &str, variables: Value) {
    let (status, body) = app.gql(query, variables).await;
    assert_eq!(status, 400, "{query}: {body}");
    assert!(body.get("data").is_none(), "{query}: {body}");
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{query}: {body}");
}

#[tokio::test]
async fn directives_on_typename_are_validated() {
    let app = spawn_app(Db::Sqlite).await;
    for query in [
        "{ __typename @unknown }",
        "{ __typename @include }",
        "{ __typename @skip(if: true) @skip(if: false) }",
        r#"{ __typename @skip(if: "yes") }"#,
        "{ __typename(x: 1) }",
    ] {
        assert_validation_fails(&app, query, json!({})).await;
    }
    let data = app
        .gql_ok(
            "{ a: __typename @skip(if: false) b: __typename @include(if: false) }",
            json!({}),
        )
        .await;
    assert_eq!(data, json!({ "a": "Query" }));
}

#[tokio::test]
async fn a_document_sent_again_is_checked_again_with_its_new_variables() {
    // The second request reuses the parsed document; its variables are still checked.
    let app = spawn_app(Db::Sqlite).await;
    let query = "query($n: Int) { articles(first: $n) { edges { node { slug } } } }";
    app.gql_ok(query, json!({ "n": 1 })).await;
    assert_validation_fails(&app, query, json!({ "n": 1_u64 << 40 })).await;
    let (status, body) = app.gql(query, json!({ "n": "one" })).await;
    assert_eq!(status, 400, "{body}");
    app.gql_ok(query, json!({ "n": 2 })).await;
}

#[tokio::test]
async fn int_literals_beyond_32_bits_are_refused_on_every_field() {
    let app = spawn_app(Db::Sqlite).await;
    for query in [
        "{ articles(first: 99999999999) { edges { cursor } } }",
        "{ trending(first: 99999999999) { score } }",
        "{ topics(first: 1) { edges { node { trending(first: 2147483648) { score } } } } }",
        r#"{ article(slug: "x") { related(first: 99999999999) { slug } } }"#,
        "{ changes(first: -2147483649) { nextCursor } }",
    ] {
        assert_validation_fails(&app, query, json!({})).await;
    }
    // From a variable, the same.
    for query in [
        "query($n: Int) { articles(first: $n) { edges { cursor } } }",
        "query($n: Int) { trending(first: $n) { score } }",
    ] {
        assert_validation_fails(&app, query, json!({ "n": 99_999_999_999_i64 })).await;
    }
    // In range but outside what the field accepts stays a field error with its argument.
    let (status, body) = app
        .gql("{ trending(first: 51) { score } }", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn a_wildcard_accept_is_answered_as_json() {
    let app = spawn_app(Db::Sqlite).await;
    for (accept, expected) in [
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        (
            "application/graphql-response+json, */*;q=0.5",
            "application/graphql-response+json",
        ),
        (
            "application/graphql-response+json",
            "application/graphql-response+json",
        ),
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("accept", accept)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with(expected),
            "{accept}: {content_type}"
        );
    }
}
