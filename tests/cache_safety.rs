//! Caching never leaks and never breaks: what a preview token opens, every staff response and
//! live status are `no-store`; an answer too large to hash is still answered, without an ETag.

use gazette_tests::{on_both_databases, spawn_app_with, spawn_seeded_app, token};
use serde_json::json;

fn cache_control(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

on_both_databases!(
    previews_staff_answers_and_health_are_never_stored,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let editor = token("editor", "desk");
        let id = app
            .gql_ok_as(
                &editor,
                r#"mutation { createArticle(input: { headline: "Draft under embargo", body: [{ type: "paragraph", text: "Secret." }] }) { id } }"#,
                json!({}),
            )
            .await["createArticle"]["id"]
            .clone();
        let preview = app
            .gql_ok_as(
                &editor,
                "mutation($id: ID!) { createPreviewToken(articleId: $id) { token } }",
                json!({ "id": id }),
            )
            .await["createPreviewToken"]["token"]
            .as_str()
            .unwrap()
            .to_owned();

        // A preview read over GET, without any bearer token: a draft, never stored.
        let response = app
            .client
            .get(app.url("/graphql"))
            .query(&[(
                "query",
                format!("{{ preview(token: \"{preview}\") {{ headline }} }}"),
            )])
            .header("accept", "application/graphql-response+json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(cache_control(&response), "no-store");
        assert!(response.headers().get("etag").is_none());
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["data"]["preview"]["headline"], "Draft under embargo");

        // Staff answers, REST and GraphQL, are never stored; partners' are private; readers'
        // public.
        let partner = token("partner", "wire");
        let admin = token("admin", "root");
        for (bearer, expected) in [
            (Some(editor.as_str()), "no-store"),
            (Some(admin.as_str()), "no-store"),
            (Some(partner.as_str()), "private, no-cache"),
            (None, "public, max-age=30, stale-while-revalidate=300"),
        ] {
            for path in [
                "/v1/articles?first=2",
                "/graphql?query=%7Barticles(first%3A2)%7Bedges%7Bnode%7Bslug%7D%7D%7D%7D",
                "/feeds/latest.atom",
            ] {
                let mut request = app.client.get(app.url(path));
                if let Some(bearer) = bearer {
                    request = request.bearer_auth(bearer);
                }
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 200, "{path}");
                assert_eq!(cache_control(&response), expected, "{path} as {bearer:?}");
            }
        }
        // Over POST too: a staff answer and a preview say they must not be stored.
        let response = app
            .gql_authorized(
                Some(&format!("Bearer {editor}")),
                "{ articles(first: 1) { edges { node { slug } } } }",
                json!({}),
            )
            .await;
        assert_eq!(cache_control(&response), "no-store");
        let response = app
            .gql_authorized(
                None,
                "query($t: String!) { preview(token: $t) { headline } }",
                json!({ "t": preview }),
            )
            .await;
        assert_eq!(cache_control(&response), "no-store");
        // Live status.
        for path in ["/healthz", "/readyz"] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 200);
            assert_eq!(cache_control(&response), "no-store", "{path}");
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_over_the_etag_limit_is_sent_without_one() {
    let app = spawn_app_with(gazette_tests::Db::Sqlite, |args| {
        args.guards.cache_max_etag_bytes = 1024;
    })
    .await;
    let small = app.get("/healthz").await;
    assert_eq!(small.status(), 200);
    for encoding in ["identity", "gzip", "br"] {
        let response = app
            .client
            .get(app.url("/openapi.json"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{encoding}");
        assert!(response.headers().get("etag").is_none(), "{encoding}");
        assert!(cache_control(&response).starts_with("public"), "{encoding}");
        let compressed = response.headers().contains_key("content-encoding");
        let body = response.bytes().await.expect("the whole body");
        assert!(body.len() > 1024, "{encoding}: {} bytes", body.len());
        if !compressed {
            let document: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert!(document["paths"].as_object().unwrap().len() > 5);
        }
    }
    // Under the limit, the ETag (and 304) still work.
    let app = spawn_app_with(gazette_tests::Db::Sqlite, |_| {}).await;
    let response = app.get("/openapi.json").await;
    let etag = response.headers().get("etag").expect("an ETag").clone();
    let again = app
        .client
        .get(app.url("/openapi.json"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}
