//! GraphQL over HTTP: media types, methods, status codes; health endpoints.

use gazette_tests::{Db, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const Q: &str = "{ articles(first: 1) { edges { cursor } } }";

#[tokio::test]
async fn answers_in_the_media_type_asked_for() {
    let app = spawn_app(Db::Sqlite).await;
    for (accept, expected) in [
        (
            Some("application/graphql-response+json"),
            "application/graphql-response+json",
        ),
        (Some("application/json"), "application/json"),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            "application/graphql-response+json",
        ),
        // reqwest always sends an Accept header; no Accept at all is covered by the unit tests.
        // A wildcard did not ask for the new media type: JSON, as the spec recommends.
        (Some("*/*"), "application/json"),
    ] {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": Q }));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with(expected),
            "{accept:?} -> {content_type}"
        );
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "text/csv")
        .json(&json!({ "query": Q }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
}

#[tokio::test]
async fn get_runs_queries_and_refuses_mutations() {
    let app = spawn_app(Db::Sqlite).await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", Q)])
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["data"]["articles"]["edges"].is_array());

    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query Q($n: Int) { articles(first: $n) { edges { cursor } } }",
            ),
            ("variables", "{\"n\": 2}"),
            ("operationName", "Q"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { recordView }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");

    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", Q), ("variables", "[1,2")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn browsers_get_graphiql() {
    let app = spawn_app(Db::Sqlite).await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
}

#[tokio::test]
async fn batches_are_refused_unless_enabled() {
    let app = spawn_app(Db::Sqlite).await;
    let batch = json!([{ "query": Q }, { "query": Q }]);
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    let app = spawn_app_with(Db::Sqlite, |args| args.allow_batching = true).await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn non_json_bodies_and_oversized_bodies_are_refused() {
    let app = spawn_app_with(Db::Sqlite, |args| args.max_body_bytes = 1024).await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body(Q)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let huge = json!({ "query": format!("{{ articles(first: 1) {{ edges {{ cursor }} }} }} #{}", "x".repeat(4096)) });
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app(Db::Sqlite).await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["database"], "sqlite");
    let missing = app.get("/no/such/route").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
}
