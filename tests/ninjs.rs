//! IPTC ninjs 3.1 for partners: every document the API emits (one article, the article lists,
//! `changes` upserts and removals) is checked against the official schema
//! (`tests/fixtures/ninjs/ninjs-schema_3.1.json`, whose root admits no key it does not define)
//! and against the OpenAPI document, on both databases, for readers, partners with and without
//! the full-text right, and the newsroom (embargoed and archived stories).

use std::sync::{Arc, LazyLock};

use chrono::{Duration, SecondsFormat};
use gazette_app::{Clock as _, ManualClock};
use gazette_tests::{TestApp, on_both_databases, partner, spawn_app_with, token};
use serde_json::{Value, json};

use crate::rest::{SAMPLE, rest};
use crate::rest_contract::Contract;

const NINJS: &str = "application/ninjs+json";

/// The official schema, compiled once, formats asserted (`uri`, `date-time`).
static SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema: Value =
        serde_json::from_str(include_str!("fixtures/ninjs/ninjs-schema_3.1.json")).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .with_retriever(NoGeometry)
        .build(&schema)
        .expect("the official ninjs schema compiles")
});

/// The one external schema ninjs names, GeoJSON (for the geometry of `places`), is not
/// fetched: it stands as `false`, so a document that ever carried a geometry would fail here
/// rather than pass unchecked. Any other external reference is an error.
struct NoGeometry;

impl jsonschema::Retrieve for NoGeometry {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        if uri.as_str() == "https://geojson.org/schema/GeoJSON.json" {
            Ok(Value::Bool(false))
        } else {
            Err(format!("no external schema {uri}").into())
        }
    }
}

/// Asserts that `doc` is a valid ninjs 3.1 document.
fn valid(doc: &Value) {
    let errors: Vec<String> = SCHEMA
        .iter_errors(doc)
        .map(|e| format!("{e} at `{}`", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}\n{doc:#}", errors.join("\n"));
}

/// GETs `path` as `token` and expects 200 in ninjs; checks every document in the answer and
/// the answer against the OpenAPI document (`route` is the path template); returns the body
/// and the `Link` header.
async fn ninjs(
    app: &TestApp,
    contract: &Contract,
    token: Option<&str>,
    (path, route): (&str, &str),
) -> (Value, Option<String>) {
    let (status, headers, body) = rest(app, token, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(headers["content-type"], NINJS, "{path}");
    match &body {
        Value::Array(items) => items.iter().for_each(valid),
        doc => valid(doc),
    }
    contract.check("GET", route, 200, NINJS, &body);
    let link = headers.get("link").map(|l| l.to_str().unwrap().to_owned());
    (body, link)
}

const ARTICLE: &str = "/v1/articles/{slug}";

async fn mutate(app: &TestApp, query: &str, variables: Value) -> Value {
    let (status, body) = app.gql_as(&token("editor", "desk"), query, variables).await;
    assert!(status == 200 && body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// Creates and publishes a syndicatable story, embargoed for partners until `embargo`,
/// expiring at `expires`.
async fn publish(
    app: &TestApp,
    slug: &str,
    embargo: Option<&str>,
    expires: Option<&str>,
) -> String {
    let input = json!({
        "headline": format!("Story {slug}"), "slug": slug, "dek": "What happened.",
        "body": [{ "type": "paragraph", "text": "Officials met overnight." }],
        "primaryTopic": "korean-peninsula", "authors": ["kim-min-ji"], "syndicatable": true,
        "embargoUntil": embargo, "expiresAt": expires,
    });
    let created = mutate(
        app,
        "mutation($i: CreateArticleInput!) { createArticle(input: $i) { id } }",
        json!({ "i": input }),
    )
    .await;
    let id = created["createArticle"]["id"].as_str().unwrap().to_owned();
    mutate(
        app,
        "mutation($id: ID!) { publishArticle(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    id
}

on_both_databases!(
    every_ninjs_document_validates_against_the_official_schema,
    |db| async move {
        let clock = ManualClock::new();
        clock.freeze();
        let shared = clock.clone();
        let app = spawn_app_with(db, move |args| args.clock = Arc::new(shared)).await;
        gazette_persistence::seed_sample_content(&app.store, 0, clock.now())
            .await
            .expect("seed");
        let contract = Contract::fetch(&app).await;
        let full_text = partner(&["syndication"]);
        let headline_only = partner(&[]);
        let editor = token("editor", "desk");
        let path = format!("/v1/articles/{SAMPLE}?format=ninjs");

        // A reader gets the whole story: both bodies, its topics, its byline, its picture.
        let (doc, _) = ninjs(&app, &contract, None, (&path, ARTICLE)).await;
        let (_, _, json) = rest(&app, None, &format!("/v1/articles/{SAMPLE}")).await;
        assert_eq!(
            doc["uri"],
            format!("urn:uuid:{}", json["id"].as_str().unwrap())
        );
        assert_eq!(
            (doc["type"].as_str(), doc["pubStatus"].as_str()),
            (Some("text"), Some("usable"))
        );
        assert_eq!(doc["slugline"], SAMPLE);
        assert_eq!(doc["headlines"][0]["value"], json["headline"]);
        assert_eq!(doc["bodies"][0]["value"], json["bodyHtml"]);
        assert_eq!(doc["bodies"][1]["value"], json["bodyText"]);
        let topics: Vec<&Value> = json["topics"].as_array().unwrap().iter().collect();
        assert_eq!(doc["subjects"].as_array().unwrap().len(), topics.len());
        assert_eq!(doc["subjects"][0]["literal"], topics[0]["slug"]);
        if !json["heroImage"].is_null() {
            assert_eq!(doc["associations"][0]["type"], "picture");
            assert_eq!(doc["associations"][0]["uri"], json["heroImage"]["url"]);
        }

        // The full-text right holds here as everywhere: without it, no body.
        let (with_right, _) = ninjs(&app, &contract, Some(&full_text), (&path, ARTICLE)).await;
        let (without, _) = ninjs(&app, &contract, Some(&headline_only), (&path, ARTICLE)).await;
        assert_eq!(with_right["bodies"], doc["bodies"]);
        assert!(without.get("bodies").is_none(), "{without}");
        assert_eq!(without["headlines"], doc["headlines"]);

        // Lists: arrays of documents, the next page in `Link`, which keeps the format.
        let list = "/v1/articles?format=ninjs&first=2";
        let (first, link) = ninjs(&app, &contract, None, (list, "/v1/articles")).await;
        assert_eq!(first.as_array().unwrap().len(), 2);
        let link = link.expect("a next page");
        let next = link
            .strip_prefix('<')
            .and_then(|l| l.split_once(">; rel=\"next\""))
            .map(|(url, _)| url.to_owned())
            .unwrap_or_else(|| panic!("Link: {link}"));
        assert!(
            next.starts_with("/v1/articles?") && next.contains("format=ninjs"),
            "{next}"
        );
        let (second, _) = ninjs(&app, &contract, None, (&next, "/v1/articles")).await;
        assert_ne!(second[0]["uri"], first[0]["uri"]);
        let topic = "/v1/topics/korean-peninsula/articles?format=NINJS";
        let (in_topic, _) =
            ninjs(&app, &contract, None, (topic, "/v1/topics/{slug}/articles")).await;
        assert!(!in_topic.as_array().unwrap().is_empty());

        // An embargoed story: withheld, with its embargo, for the newsroom; partners never see it.
        let embargoed = publish(&app, "ninjs-embargoed", Some("2999-01-01T00:00:00Z"), None).await;
        let path = "/v1/articles/ninjs-embargoed?format=ninjs";
        let (doc, _) = ninjs(&app, &contract, Some(&editor), (path, ARTICLE)).await;
        assert_eq!(doc["pubStatus"], "withheld");
        assert_eq!(doc["embargoedUntil"], "2999-01-01T00:00:00Z");
        let (status, _, _) = rest(&app, Some(&full_text), path).await;
        assert_eq!(status, 404);

        // Withdrawn stories: archived and killed ones are canceled, an expired one withheld,
        // each with its `expires` when set; only the newsroom (a killed body: admins) sees them.
        let archived = publish(&app, "ninjs-archived", None, None).await;
        mutate(
            &app,
            "mutation($id: ID!) { archiveArticle(id: $id) { id } }",
            json!({ "id": archived }),
        )
        .await;
        let killed = publish(&app, "ninjs-killed", None, None).await;
        mutate(
            &app,
            "mutation($id: ID!) { killArticle(id: $id, reason: \"Court order\") { id } }",
            json!({ "id": killed }),
        )
        .await;
        let expiry = (clock.now() + Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let expired = publish(&app, "ninjs-expired", None, Some(&expiry)).await;
        clock.advance(Duration::hours(1) + Duration::seconds(1));
        let admin = token("admin", "root");
        for (slug, status) in [
            ("ninjs-archived", "canceled"),
            ("ninjs-killed", "canceled"),
            ("ninjs-expired", "withheld"),
        ] {
            let path = format!("/v1/articles/{slug}?format=ninjs");
            let (doc, _) = ninjs(&app, &contract, Some(&admin), (&path, ARTICLE)).await;
            assert_eq!(doc["pubStatus"], status, "{slug}: {doc}");
            let (status, _, _) = rest(&app, Some(&full_text), &path).await;
            assert_eq!(status, 404, "{slug} reached a partner");
        }
        let path = "/v1/articles/ninjs-expired?format=ninjs";
        let (doc, _) = ninjs(&app, &contract, Some(&admin), (path, ARTICLE)).await;
        let expires = chrono::DateTime::parse_from_rfc3339(doc["expires"].as_str().unwrap());
        assert_eq!(
            expires.unwrap().to_rfc3339_opts(SecondsFormat::Secs, true),
            expiry
        );

        // `changes` as ninjs: upserts in full, withdrawals as removals.
        let mut path = "/v1/changes?format=ninjs&first=500".to_owned();
        let mut seen = Vec::new();
        for _ in 0..10 {
            let (page, link) =
                ninjs(&app, &contract, Some(&full_text), (&path, "/v1/changes")).await;
            if page.as_array().unwrap().is_empty() {
                break;
            }
            seen.extend(page.as_array().unwrap().iter().cloned());
            path = link.expect("changes name where to continue")[1..]
                .split_once('>')
                .unwrap()
                .0
                .to_owned();
        }
        let of = |id: &str| {
            seen.iter()
                .find(|d| d["uri"] == format!("urn:uuid:{id}"))
                .cloned()
        };
        for (id, status, note) in [
            (&archived, "canceled", "removed: archived"),
            (&killed, "canceled", "removed: killed"),
            (&expired, "withheld", "removed: expired"),
        ] {
            let removal = of(id).unwrap_or_else(|| panic!("no removal for {note}"));
            assert_eq!(
                (removal["pubStatus"].as_str(), removal["edNote"].as_str()),
                (Some(status), Some(note))
            );
            assert!(removal.get("headlines").is_none(), "{removal}");
        }
        // An embargoed story reaches a partner at most as a withheld removal: no text at all.
        if let Some(held) = of(&embargoed) {
            assert_eq!(held["pubStatus"], "withheld", "{held}");
            assert!(
                held.get("headlines").is_none() && held.get("bodies").is_none(),
                "{held}"
            );
        }
        let upsert = seen
            .iter()
            .find(|d| d["slugline"] == SAMPLE)
            .expect("the sample");
        assert_eq!(upsert["pubStatus"], "usable");
        assert!(upsert["bodies"].is_array());

        // Any other format is a client error naming the parameter.
        for path in [
            format!("/v1/articles/{SAMPLE}?format=xml"),
            "/v1/articles?format=atom".to_owned(),
            "/v1/changes?format=".to_owned(),
        ] {
            let (status, _, problem) = rest(&app, None, &path).await;
            assert_eq!(status, 400, "{path}: {problem}");
            assert!(problem.to_string().contains("format"), "{path}: {problem}");
        }
    }
);
