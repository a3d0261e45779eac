//! schema.org `NewsArticle` JSON-LD (`Article.structuredData`, `?format=jsonld`), read as
//! JSON-LD: a JSON-LD processor (the `json-ld` crate) expands the served document against the
//! schema.org context, and the test reads the expanded graph, not the served text.

use std::collections::HashMap;

use gazette_tests::{TestApp, on_both_databases, spawn_app_with, token};
use json_ld::syntax::{IntoJsonWithContext as _, Parse as _};
use json_ld::{IriBuf, JsonLdProcessor as _, RemoteDocument};
use serde_json::{Value, json};

use crate::rest::{SAMPLE, rest};
use crate::rest_contract::Contract;

const SCHEMA: &str = "http://schema.org/";
const LOGO: &str = "https://news.example.com/logo.png";

/// The served document expanded by a JSON-LD processor (`@context: https://schema.org` loaded
/// from the fixture, not the network), as expanded JSON-LD: one node per top-level object.
async fn expand(doc: &Value) -> Vec<Value> {
    let context = include_str!("fixtures/schema-org-context.jsonld");
    let context_iri = IriBuf::new("https://schema.org".to_owned()).unwrap();
    let mut loader = HashMap::new();
    loader.insert(
        context_iri.clone(),
        RemoteDocument::new(
            Some(context_iri),
            Some("application/ld+json".parse().unwrap()),
            json_ld::syntax::Value::parse_str(context).unwrap().0,
        ),
    );
    let input = RemoteDocument::new(
        None,
        Some("application/ld+json".parse().unwrap()),
        json_ld::syntax::Value::parse_str(&doc.to_string())
            .unwrap()
            .0,
    );
    let expanded = input.expand(&loader).await.expect("valid JSON-LD");
    expanded
        .into_iter()
        .map(|object| serde_json::from_str(&object.into_json_with(&()).to_string()).unwrap())
        .collect()
}

/// The values of schema.org property `name` of an expanded node.
fn values<'a>(node: &'a Value, name: &str) -> &'a [Value] {
    node.get(format!("{SCHEMA}{name}"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The one literal (`@value`) or link (`@id`) of property `name`.
fn one(node: &Value, name: &str) -> Value {
    let found = values(node, name);
    assert_eq!(found.len(), 1, "{name} in {node:#}");
    found[0]
        .get("@value")
        .or_else(|| found[0].get("@id"))
        .cloned()
        .unwrap_or_else(|| found[0].clone())
}

fn types(node: &Value) -> Vec<&str> {
    node["@type"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

async fn structured_data(app: &TestApp, slug: &str) -> Value {
    let data = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { structuredData } }",
            json!({ "s": slug }),
        )
        .await;
    data["article"]["structuredData"].clone()
}

on_both_databases!(
    structured_data_reads_as_a_schema_org_news_article,
    |db| async move {
        let app = spawn_app_with(db, |args| {
            args.feeds.site_name = "The Test Times".to_owned();
            args.feeds.site_url = "https://news.example.com".to_owned();
            args.feeds.publisher_logo_url = Some(LOGO.to_owned());
        })
        .await;
        gazette_persistence::seed_sample_content(&app.store, 0, chrono::Utc::now())
            .await
            .expect("seed");
        let (_, _, article) = rest(&app, None, &format!("/v1/articles/{SAMPLE}")).await;
        let id = article["id"].as_str().unwrap().to_owned();
        let (status, body) = app
            .gql_as(
                &token("editor", "desk"),
                "mutation($id: ID!) { addCorrection(articleId: $id, text: \"An earlier version misnamed the city.\") { id } }",
                json!({ "id": id }),
            )
            .await;
        assert!(status == 200 && body.get("errors").is_none(), "{body}");
        let (_, _, article) = rest(&app, None, &format!("/v1/articles/{SAMPLE}")).await;

        // GraphQL and REST give the same document, as the OpenAPI document describes it.
        let graphql = structured_data(&app, SAMPLE).await;
        let path = format!("/v1/articles/{SAMPLE}?format=jsonld");
        let (status, headers, rest_doc) = rest(&app, None, &path).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "application/ld+json");
        assert_eq!(rest_doc, graphql);
        let contract = Contract::fetch(&app).await;
        contract.check(
            "GET",
            "/v1/articles/{slug}",
            200,
            "application/ld+json",
            &rest_doc,
        );

        let expanded = expand(&graphql).await;
        assert_eq!(expanded.len(), 1, "{expanded:#?}");
        let news = &expanded[0];
        assert_eq!(types(news), [format!("{SCHEMA}NewsArticle")]);
        assert_eq!(one(news, "headline"), article["headline"]);
        assert_eq!(one(news, "description"), article["dek"]);
        assert_eq!(one(news, "datePublished"), article["publishedAt"]);
        let modified = if article["substantiveUpdatedAt"].is_null() {
            &article["publishedAt"]
        } else {
            &article["substantiveUpdatedAt"]
        };
        assert_eq!(one(news, "dateModified"), *modified);
        if let Some(image) = article["heroImage"]["url"].as_str() {
            assert_eq!(one(news, "image"), image);
        }
        let page = format!("https://news.example.com/articles/{SAMPLE}");
        let main = &values(news, "mainEntityOfPage")[0];
        assert_eq!(types(main), [format!("{SCHEMA}WebPage")]);
        assert_eq!(main["@id"], page);
        assert_eq!(one(news, "url"), page);
        assert_eq!(one(news, "articleSection"), article["primaryTopic"]["name"]);
        assert_eq!(one(news, "isAccessibleForFree"), true);

        let authors = values(news, "author");
        let names: Vec<Value> = authors.iter().map(|a| one(a, "name")).collect();
        let expected: Vec<Value> = article["authors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].clone())
            .collect();
        assert_eq!(names, expected);
        for author in authors {
            assert_eq!(types(author), [format!("{SCHEMA}Person")]);
            assert!(
                one(author, "url")
                    .as_str()
                    .unwrap()
                    .starts_with("https://news.example.com/authors/")
            );
        }

        let publisher = &values(news, "publisher")[0];
        assert_eq!(types(publisher), [format!("{SCHEMA}Organization")]);
        assert_eq!(one(publisher, "name"), "The Test Times");
        let logo = &values(publisher, "logo")[0];
        assert_eq!(types(logo), [format!("{SCHEMA}ImageObject")]);
        assert_eq!(one(logo, "url"), LOGO);

        let corrections = values(news, "correction");
        let last = corrections.last().expect("the correction");
        assert_eq!(types(last), [format!("{SCHEMA}CorrectionComment")]);
        assert_eq!(one(last, "text"), "An earlier version misnamed the city.");
    }
);
