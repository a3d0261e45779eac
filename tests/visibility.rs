//! No read path shows a reader or a partner what is not public: every path, every viewer,
//! every status, in one table. Partners are also kept out of embargoed stories, and get no
//! body they have no syndication right to.

use gazette_tests::{TestApp, on_both_databases, spawn_seeded_app, token};
use serde_json::{Value, json};

const TOPIC: &str = "korean-peninsula";
const AUTHOR: &str = "kim-min-ji";

async fn editor_mutation(app: &TestApp, query: &str, vars: Value) -> Value {
    app.as_editor(query, vars).await
}

async fn create(app: &TestApp, slug: &str) -> String {
    create_with(app, slug, json!({})).await
}

/// Creates a draft with `extra` input fields (syndication flags, embargo).
async fn create_with(app: &TestApp, slug: &str, extra: Value) -> String {
    let mut input = json!({
        "headline": format!("Visibility case {slug}"),
        "primaryTopic": TOPIC,
        "authors": [AUTHOR]
    });
    for (key, value) in extra.as_object().unwrap() {
        input[key] = value.clone();
    }
    app.draft(slug, input).await
}

fn embargo_until(from_now: chrono::Duration) -> Value {
    json!({
        "syndicatable": true,
        "embargoUntil": (chrono::Utc::now() + from_now).to_rfc3339(),
    })
}

/// Counts views of the article directly in storage (dropped unless it is public right now).
async fn view(app: &TestApp, id: &str) {
    app.view(id, 3).await;
}

async fn run(app: &TestApp, op: &str, id: &str) {
    editor_mutation(
        app,
        &format!("mutation($id: ID!) {{ {op} {{ id }} }}"),
        json!({ "id": id }),
    )
    .await;
}

/// The ids a read path returns, as `viewer` (None: no token).
async fn read(app: &TestApp, viewer: Option<&str>, path: &str, case: &Case) -> Vec<String> {
    let (query, vars): (&str, Value) = match path {
        "article(slug)" => (
            "query($s: String!) { r: article(slug: $s) { id } }",
            json!({ "s": case.slug }),
        ),
        "article(id)" => (
            "query($i: ID!) { r: article(id: $i) { id } }",
            json!({ "i": case.id }),
        ),
        "node(id)" => (
            "query($i: ID!) { r: node(id: $i) { id } }",
            json!({ "i": case.id }),
        ),
        "articles" => (
            "{ r: articles(first: 100) { edges { node { id } } } }",
            json!({}),
        ),
        "articles(filter)" => (
            "query($t: String!) { r: articles(first: 100, filter: { topic: $t }) { edges { node { id } } } }",
            json!({ "t": TOPIC }),
        ),
        "topic.articles" => (
            "query($t: String!) { topic(slug: $t) { r: articles(first: 100) { edges { node { id } } } } }",
            json!({ "t": TOPIC }),
        ),
        "trending" => ("{ r: trending(first: 50) { article { id } } }", json!({})),
        "related" => (
            "query($s: String!) { article(slug: $s) { r: related(first: 20) { id } } }",
            json!({ "s": "putins-north-korea-visit-could-reshape-regional-security" }),
        ),
        "search" => (
            "query($q: String!) { r: search(query: $q, first: 100) { edges { node { article { id } } } } }",
            json!({ "q": "visibility case" }),
        ),
        "topic.trending" => (
            "query($t: String!) { topic(slug: $t) { r: trending(first: 50) { article { id } } } }",
            json!({ "t": TOPIC }),
        ),
        "author.articles" => (
            "query($a: String!) { author(slug: $a) { r: articles(first: 100) { edges { node { id } } } } }",
            json!({ "a": AUTHOR }),
        ),
        other => panic!("unknown read path {other}"),
    };
    let (status, body) = match viewer {
        None => app.gql(query, vars).await,
        Some(t) => app.gql_as(t, query, vars).await,
    };
    assert_eq!(status, 200, "{path}: {body}");
    assert!(body.get("errors").is_none(), "{path}: {body}");
    let data = &body["data"];
    let found = data.get("r").or_else(|| {
        data.get("topic")
            .or(data.get("author"))
            .or(data.get("article"))
            .map(|x| &x["r"])
    });
    let Some(found) = found else {
        return Vec::new();
    };
    if let Some(items) = found.as_array() {
        items
            .iter()
            .map(|t| {
                t.get("article")
                    .unwrap_or(t)
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_owned()
            })
            .collect()
    } else if let Some(edges) = found.get("edges") {
        edges
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let node = &e["node"];
                node.get("article")
                    .unwrap_or(node)
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_owned()
            })
            .collect()
    } else if found.is_null() {
        Vec::new()
    } else {
        vec![found["id"].as_str().unwrap().to_owned()]
    }
}

struct Case {
    status: &'static str,
    slug: &'static str,
    id: String,
}

on_both_databases!(no_read_path_leaks_unpublished_articles, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let mut cases = Vec::new();
    for (status, slug) in [
        ("published", "vis-published"),
        ("draft", "vis-draft"),
        ("scheduled", "vis-scheduled"),
        ("archived", "vis-archived"),
        ("unpublished", "vis-unpublished"),
        ("embargoed", "vis-embargoed"),
        ("embargo-lifted", "vis-embargo-lifted"),
    ] {
        let id = match status {
            "embargoed" => create_with(&app, slug, embargo_until(chrono::Duration::hours(1))).await,
            "embargo-lifted" => {
                create_with(&app, slug, embargo_until(chrono::Duration::seconds(-1))).await
            }
            _ => create(&app, slug).await,
        };
        // Views are counted while an article is public; it may stop being public later.
        view(&app, &id).await;
        match status {
            "published" | "embargoed" | "embargo-lifted" => {
                run(&app, "publishArticle(id: $id)", &id).await;
                view(&app, &id).await;
            }
            "scheduled" => {
                let at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
                editor_mutation(
                    &app,
                    "mutation($id: ID!, $at: String!) { scheduleArticle(id: $id, at: $at) { id } }",
                    json!({ "id": id, "at": at }),
                )
                .await;
            }
            "archived" => {
                run(&app, "publishArticle(id: $id)", &id).await;
                view(&app, &id).await;
                run(&app, "archiveArticle(id: $id)", &id).await;
            }
            "unpublished" => {
                run(&app, "publishArticle(id: $id)", &id).await;
                view(&app, &id).await;
                run(&app, "unpublishArticle(id: $id)", &id).await;
            }
            _ => {}
        }
        cases.push(Case { status, slug, id });
    }
    let partner = token("partner", "wire");
    let partner_with_scope = gazette_tests::token_with_scope("partner", "wire2", &["syndication"]);
    let editor = token("editor", "desk");
    let viewers: [(&str, Option<&str>); 4] = [
        ("reader", None),
        ("partner", Some(&partner)),
        ("syndication partner", Some(&partner_with_scope)),
        ("editor", Some(&editor)),
    ];
    let paths = [
        "article(slug)",
        "article(id)",
        "node(id)",
        "articles",
        "articles(filter)",
        "topic.articles",
        "author.articles",
        "trending",
        "topic.trending",
        "search",
        "related",
    ];
    let mut checked = 0;
    for (viewer, token) in viewers {
        for path in paths {
            for case in &cases {
                let ids = read(&app, token, path, case).await;
                let shown = ids.contains(&case.id);
                // An embargo holds partners back, not readers (nor the newsroom).
                let public = match case.status {
                    "published" | "embargo-lifted" => true,
                    "embargoed" => !viewer.contains("partner"),
                    _ => false,
                };
                if (path.contains("trending") || path == "search") && public {
                    assert!(
                        shown,
                        "{viewer} via {path}: the {} article is missing",
                        case.status
                    );
                }
                if viewer == "editor" {
                    if path.starts_with("article(") || path == "node(id)" {
                        assert!(shown, "editor cannot open {} via {path}", case.status);
                    }
                } else {
                    assert_eq!(
                        shown, public,
                        "{viewer} via {path}: {} article shown={shown}",
                        case.status
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * 11 * 7);
});

const BODY_READ: &str = "query($i: ID!) { article(id: $i) { id headline body { __typename } \
                         bodyHtml bodyText } }";

/// The error codes of a response, by the field path they name.
fn errors_by_field(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["path"]
                            .as_array()
                            .unwrap()
                            .last()
                            .unwrap()
                            .as_str()
                            .unwrap()
                            .to_owned(),
                        e["extensions"]["code"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

on_both_databases!(
    partner_body_reads_follow_syndication_rights,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let closed = create(&app, "body-closed").await;
        let open = create_with(&app, "body-open", json!({ "syndicatable": true })).await;
        for id in [&closed, &open] {
            run(&app, "publishArticle(id: $id)", id).await;
        }
        let scoped = gazette_tests::token_with_scope("partner", "wire", &["syndication"]);
        let unscoped = token("partner", "aggregator");
        let editor = token("editor", "desk");
        let forbidden = |field: &str| (field.to_owned(), "FORBIDDEN".to_owned());
        // (viewer, article, body readable)
        let cases = [
            ("syndication partner", Some(&scoped), &closed, false),
            ("syndication partner", Some(&scoped), &open, true),
            ("partner without scope", Some(&unscoped), &open, false),
            ("partner without scope", Some(&unscoped), &closed, false),
            ("reader", None, &closed, true),
            ("editor", Some(&editor), &closed, true),
        ];
        for (who, bearer, id, readable) in cases {
            let vars = json!({ "i": id });
            let (status, body) = match bearer {
                None => app.gql(BODY_READ, vars).await,
                Some(t) => app.gql_as(t, BODY_READ, vars).await,
            };
            assert_eq!(status, 200, "{who}: {body}");
            let article = &body["data"]["article"];
            assert_eq!(
                article["id"],
                json!(id),
                "{who}: the article itself stays visible"
            );
            if readable {
                assert!(body.get("errors").is_none(), "{who}: {body}");
                assert!(
                    article["bodyHtml"]
                        .as_str()
                        .is_some_and(|h| h.contains("Text."))
                );
            } else {
                assert_eq!(
                    errors_by_field(&body),
                    [
                        forbidden("body"),
                        forbidden("bodyHtml"),
                        forbidden("bodyText")
                    ],
                    "{who}: {body}"
                );
                for field in ["body", "bodyHtml", "bodyText"] {
                    assert!(article[field].is_null(), "{who}: {field} leaked: {body}");
                }
                assert!(
                    article["headline"].is_string(),
                    "{who}: headline still readable"
                );
            }
        }
        // Search snippets of the body follow the same rule.
        let (_, body) = app
        .gql_as(
            &scoped,
            r#"{ search(query: "visibility case body closed", first: 5) {
                   edges { node { article { id } highlights { headline { text } body { text } } } } } }"#,
            json!({}),
        )
        .await;
        let hit = &body["data"]["search"]["edges"][0]["node"];
        assert_eq!(hit["article"]["id"], json!(closed), "{body}");
        assert!(hit["highlights"]["body"].is_null(), "{body}");
        assert_eq!(errors_by_field(&body), [forbidden("body")], "{body}");
    }
);

on_both_databases!(
    rest_search_and_trending_keep_embargoed_stories_from_partners,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let id = create_with(
            &app,
            "rest-embargoed",
            embargo_until(chrono::Duration::hours(1)),
        )
        .await;
        run(&app, "publishArticle(id: $id)", &id).await;
        view(&app, &id).await;
        let scoped = gazette_tests::token_with_scope("partner", "wire", &["syndication"]);
        let ids_in = |body: &Value| -> Vec<String> {
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["article"]["id"].as_str().unwrap().to_owned())
                .collect()
        };
        for path in [
            "/v1/search?q=visibility%20case%20rest&first=50",
            "/v1/trending?first=50",
        ] {
            let reader: Value = app.get(path).await.json().await.unwrap();
            assert!(
                ids_in(&reader).contains(&id),
                "{path}: readers see it: {reader}"
            );
            let partner: Value = app
                .client
                .get(app.url(path))
                .bearer_auth(&scoped)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(!ids_in(&partner).contains(&id), "{path}: {partner}");
        }
    }
);
