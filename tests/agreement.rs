//! Every surface answers every question the same way: each read is asked through GraphQL, REST
//! and the feeds (where the surface has it), and the answers are compared. They call the same
//! use cases of `gazette-app`, so they agree by construction; this holds them to it.

use std::sync::Arc;

use gazette_app::ManualClock;
use gazette_tests::{TestApp, on_both_databases, spawn_app_with, token_with_scope};
use serde_json::{Value, json};

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";
const TOPIC: &str = "korean-peninsula";
const AUTHOR: &str = "kim-min-ji";

async fn rest(app: &TestApp, path: &str, bearer: Option<&str>) -> (u16, Value) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn gql(app: &TestApp, bearer: Option<&str>, query: &str, variables: Value) -> Value {
    let (status, body) = match bearer {
        Some(token) => app.gql_as(token, query, variables).await,
        None => app.gql(query, variables).await,
    };
    assert_eq!(status, 200, "{body}");
    body
}

fn strings(list: &Value, pointer: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|item| {
            item.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{pointer} in {item}"))
                .to_owned()
        })
        .collect()
}

fn slugs_of(topics: &Value) -> Vec<String> {
    strings(topics, "/slug")
}

on_both_databases!(every_surface_gives_the_same_answers, |db| async move {
    let clock = ManualClock::new();
    let server_clock = clock.clone();
    let app = spawn_app_with(db, move |args| args.clock = Arc::new(server_clock)).await;
    gazette_persistence::seed_sample_content(&app.store, 30, chrono::Utc::now())
        .await
        .expect("seed");
    // The sample page's readership, so trending lists have entries.
    gazette_persistence::seed_sample_readership(
        &app.store,
        chrono::Duration::hours(24),
        chrono::Utc::now(),
    )
    .await
    .expect("readership");
    // Every request of the comparison at one instant: trending scores decay with time.
    clock.advance(chrono::Duration::seconds(1));
    clock.freeze();
    let partner = token_with_scope("partner", "agency", &[]);

    // One article.
    let article = gql(
        &app,
        None,
        r#"query($s: String!) { article(slug: $s) { id slug headline dek source publishedAt
            canonicalUrl readingTimeMinutes wordCount bodyText previousSlugs
            primaryTopic { slug } topics { slug } authors { slug } } }"#,
        json!({ "s": SAMPLE }),
    )
    .await["data"]["article"]
        .clone();
    let (status, rest_article) = rest(&app, &format!("/v1/articles/{SAMPLE}"), None).await;
    assert_eq!(status, 200);
    for field in [
        "id",
        "slug",
        "headline",
        "dek",
        "source",
        "canonicalUrl",
        "readingTimeMinutes",
        "wordCount",
        "bodyText",
        "previousSlugs",
    ] {
        assert_eq!(article[field], rest_article[field], "article.{field}");
    }
    assert_eq!(
        chrono_of(&article["publishedAt"]),
        chrono_of(&rest_article["publishedAt"])
    );
    assert_eq!(
        slugs_of(&article["topics"]),
        slugs_of(&rest_article["topics"])
    );
    assert_eq!(
        slugs_of(&article["authors"]),
        slugs_of(&rest_article["authors"])
    );
    assert_eq!(
        article["primaryTopic"]["slug"],
        rest_article["primaryTopic"]["slug"]
    );

    // The latest list: GraphQL, REST and the JSON feed list the same articles in order.
    let latest = gql(
        &app,
        None,
        "{ articles(first: 20) { edges { node { id slug } } } }",
        json!({}),
    )
    .await;
    let graphql_latest = strings(&latest["data"]["articles"]["edges"], "/node/slug");
    let (status, rest_latest) = rest(&app, "/v1/articles?first=20", None).await;
    assert_eq!(status, 200);
    assert_eq!(graphql_latest, strings(&rest_latest["items"], "/slug"));
    let (status, feed) = rest(&app, "/feeds/latest.json?limit=20", None).await;
    assert_eq!(status, 200);
    let feed_ids: Vec<String> = strings(&feed["items"], "/id")
        .into_iter()
        .map(|id| id.trim_start_matches("urn:uuid:").to_owned())
        .collect();
    assert_eq!(
        strings(&latest["data"]["articles"]["edges"], "/node/id"),
        feed_ids
    );
    // The feed's item and the article agree on what they show.
    let item = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == json!(format!("urn:uuid:{}", article["id"].as_str().unwrap())));
    if let Some(item) = item {
        assert_eq!(item["title"], article["headline"]);
        assert_eq!(item["summary"], article["dek"]);
    }

    // A topic's articles: GraphQL `Topic.articles`, REST and the topic feed.
    let topic_articles = gql(
        &app,
        None,
        "query($t: String!) { topic(slug: $t) { articles(first: 10) { edges { node { slug id } } } } }",
        json!({ "t": TOPIC }),
    )
    .await;
    let edges = &topic_articles["data"]["topic"]["articles"]["edges"];
    let (status, rest_topic) =
        rest(&app, &format!("/v1/topics/{TOPIC}/articles?first=10"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        strings(edges, "/node/slug"),
        strings(&rest_topic["items"], "/slug")
    );
    let (status, topic_feed) =
        rest(&app, &format!("/feeds/topics/{TOPIC}.json?limit=10"), None).await;
    assert_eq!(status, 200);
    let topic_feed_ids: Vec<String> = strings(&topic_feed["items"], "/id")
        .into_iter()
        .map(|id| id.trim_start_matches("urn:uuid:").to_owned())
        .collect();
    assert_eq!(strings(edges, "/node/id"), topic_feed_ids);

    // A topic and an author, and the lists of them.
    let taxonomy = gql(
        &app,
        None,
        r#"query($t: String!, $a: String!) {
            topic(slug: $t) { id slug name description parent { slug } children { slug } }
            author(slug: $a) { id slug name bio }
            topics(first: 50) { edges { node { slug } } }
            authors(first: 50) { edges { node { slug } } } }"#,
        json!({ "t": TOPIC, "a": AUTHOR }),
    )
    .await["data"]
        .clone();
    let (status, rest_topic_detail) = rest(&app, &format!("/v1/topics/{TOPIC}"), None).await;
    assert_eq!(status, 200);
    for field in ["id", "slug", "name", "description"] {
        assert_eq!(
            taxonomy["topic"][field], rest_topic_detail[field],
            "topic.{field}"
        );
    }
    assert_eq!(
        taxonomy["topic"]["parent"]["slug"],
        rest_topic_detail["parent"]["slug"]
    );
    assert_eq!(
        slugs_of(&taxonomy["topic"]["children"]),
        slugs_of(&rest_topic_detail["children"])
    );
    let (status, rest_author) = rest(&app, &format!("/v1/authors/{AUTHOR}"), None).await;
    assert_eq!(status, 200);
    for field in ["id", "slug", "name", "bio"] {
        assert_eq!(
            taxonomy["author"][field], rest_author[field],
            "author.{field}"
        );
    }
    let (_, rest_topics) = rest(&app, "/v1/topics?first=50", None).await;
    assert_eq!(
        strings(&taxonomy["topics"]["edges"], "/node/slug"),
        strings(&rest_topics["items"], "/slug")
    );
    let (_, rest_authors) = rest(&app, "/v1/authors?first=50", None).await;
    assert_eq!(
        strings(&taxonomy["authors"]["edges"], "/node/slug"),
        strings(&rest_authors["items"], "/slug")
    );

    // Trending, overall and of a topic (root field, `Topic.trending` and REST).
    let trending = gql(
        &app,
        None,
        "{ trending(first: 5) { score views article { slug } } }",
        json!({}),
    )
    .await["data"]["trending"]
        .clone();
    assert!(
        !trending.as_array().unwrap().is_empty(),
        "the sample readership makes a trending list"
    );
    let (status, rest_trending) = rest(&app, "/v1/trending?first=5", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        trending_rows(&trending),
        trending_rows(&rest_trending["items"])
    );
    let topic_trending = gql(
        &app,
        None,
        r#"query($t: String!) { trending(topic: $t, first: 5) { score views article { slug } }
            topic(slug: $t) { trending(first: 5) { score views article { slug } } } }"#,
        json!({ "t": TOPIC }),
    )
    .await;
    let (status, rest_topic_trending) =
        rest(&app, &format!("/v1/trending?topic={TOPIC}&first=5"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        trending_rows(&topic_trending["data"]["trending"]),
        trending_rows(&rest_topic_trending["items"])
    );
    assert_eq!(
        trending_rows(&topic_trending["data"]["trending"]),
        trending_rows(&topic_trending["data"]["topic"]["trending"])
    );

    // An unknown topic is "not found" everywhere it can be named.
    let unknown = gql(
        &app,
        None,
        r#"{ trending(topic: "no-such-topic") { score } }"#,
        json!({}),
    )
    .await;
    assert_eq!(unknown["data"]["trending"], Value::Null);
    assert_eq!(unknown["errors"][0]["extensions"]["code"], "NOT_FOUND");
    for path in [
        "/v1/trending?topic=no-such-topic",
        "/v1/topics/no-such-topic",
        "/v1/topics/no-such-topic/articles",
        "/feeds/topics/no-such-topic.json",
    ] {
        let (status, problem) = rest(&app, path, None).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(problem["code"], "NOT_FOUND", "{path}");
    }
    let no_topic = gql(
        &app,
        None,
        r#"{ topic(slug: "no-such-topic") { slug } }"#,
        json!({}),
    )
    .await;
    assert_eq!(no_topic["data"]["topic"], Value::Null);

    // Search, as a reader and as a partner without the right to full text: the same hits,
    // scores and headline highlights; body passages for the reader only, on both surfaces.
    for bearer in [None, Some(partner.as_str())] {
        let search = gql(
            &app,
            bearer,
            r#"{ search(query: "korea", first: 10) { pageInfo { hasNextPage }
                edges { cursor node { score article { slug }
                highlights { headline { text html } body { text html } } } } } }"#,
            json!({}),
        )
        .await;
        let edges = search["data"]["search"]["edges"]
            .as_array()
            .unwrap()
            .clone();
        assert!(!edges.is_empty());
        let (status, rest_search) = rest(&app, "/v1/search?q=korea&first=10", bearer).await;
        assert_eq!(status, 200);
        let items = rest_search["items"].as_array().unwrap();
        assert_eq!(edges.len(), items.len());
        for (edge, item) in edges.iter().zip(items) {
            let node = &edge["node"];
            assert_eq!(node["article"]["slug"], item["article"]["slug"]);
            assert_eq!(node["score"], item["score"]);
            assert_eq!(
                node["highlights"]["headline"]["text"],
                item["highlights"]["headline"]["text"]
            );
            assert_eq!(
                node["highlights"]["headline"]["html"],
                item["highlights"]["headline"]["html"]
            );
            match bearer {
                None => assert_eq!(
                    node["highlights"]["body"]["text"],
                    item["highlights"]["body"]["text"]
                ),
                Some(_) => {
                    assert_eq!(node["highlights"]["body"], Value::Null);
                    assert!(item["highlights"].get("body").is_none(), "{item}");
                }
            }
        }
        assert_eq!(
            search["data"]["search"]["pageInfo"]["hasNextPage"],
            rest_search["pageInfo"]["hasNextPage"]
        );
        assert_eq!(
            edges.last().unwrap()["cursor"],
            rest_search["pageInfo"]["endCursor"]
        );
    }

    // Related articles (GraphQL only: REST has no related list), by slug and by id alike.
    let by_slug = gql(
        &app,
        None,
        "query($s: String!) { article(slug: $s) { related(first: 5) { slug } } }",
        json!({ "s": SAMPLE }),
    )
    .await;
    let by_id = gql(
        &app,
        None,
        "query($id: ID!) { article(id: $id) { related(first: 5) { slug } } }",
        json!({ "id": article["id"] }),
    )
    .await;
    assert_eq!(
        by_slug["data"]["article"]["related"],
        by_id["data"]["article"]["related"]
    );

    // Changes: the same entries, cursors and next cursor through GraphQL and REST.
    let changes = gql(
        &app,
        None,
        "{ changes(first: 40) { entries { cursor id action article { slug topics { slug } } }
            nextCursor hasMore } }",
        json!({}),
    )
    .await["data"]["changes"]
        .clone();
    let (status, rest_changes) = rest(&app, "/v1/changes?first=40", None).await;
    assert_eq!(status, 200);
    assert_eq!(changes["nextCursor"], rest_changes["nextCursor"]);
    assert_eq!(changes["hasMore"], rest_changes["hasMore"]);
    let entries = changes["entries"].as_array().unwrap();
    let rest_entries = rest_changes["entries"].as_array().unwrap();
    assert_eq!(entries.len(), rest_entries.len());
    for (entry, rest_entry) in entries.iter().zip(rest_entries) {
        assert_eq!(entry["cursor"], rest_entry["cursor"]);
        assert_eq!(entry["id"], rest_entry["id"]);
        assert_eq!(
            entry["action"].as_str().unwrap().to_lowercase(),
            rest_entry["action"].as_str().unwrap()
        );
        assert_eq!(entry["article"]["slug"], rest_entry["article"]["slug"]);
        if entry["article"].is_object() {
            assert_eq!(
                slugs_of(&entry["article"]["topics"]),
                strings_plain(&rest_entry["article"]["topics"])
            );
        }
    }
});

/// (slug, score, views) of a trending list, GraphQL's or REST's.
fn trending_rows(list: &Value) -> Vec<(String, String, i64)> {
    list.as_array()
        .unwrap_or_else(|| panic!("a trending list: {list}"))
        .iter()
        .map(|row| {
            (
                row["article"]["slug"].as_str().unwrap().to_owned(),
                // Scores as printed: the same f64 through both encoders.
                row["score"].to_string(),
                row["views"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn strings_plain(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn chrono_of(value: &Value) -> chrono::DateTime<chrono::Utc> {
    value
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("an instant: {value}"))
        .with_timezone(&chrono::Utc)
}
