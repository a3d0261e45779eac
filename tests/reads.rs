//! Read API: the sample page in one query, lookups, filters, topics and authors.

use gazette_tests::{on_both_databases, spawn_seeded_app};
use serde_json::json;

const SAMPLE_SLUG: &str = "putins-north-korea-visit-could-reshape-regional-security";

const ARTICLE_PAGE: &str = r#"
query ArticlePage($slug: String!) {
  article(slug: $slug) {
    id slug headline dek source publishedAt updatedAt wordCount readingTimeMinutes bodyHtml bodyText
    body {
      __typename
      ... on ParagraphBlock { text }
      ... on QuoteBlock { text attribution }
    }
    primaryTopic { slug name parent { slug } }
    topics { slug name }
    authors { slug name }
  }
  latest: articles(first: 8) { edges { node { slug headline dek } } }
  topics(first: 50) { edges { node { slug name } } }
}"#;

on_both_databases!(sample_page_is_served_by_one_query, |db| async move {
    let app = spawn_seeded_app(db, 20).await;
    let data = app
        .gql_ok(ARTICLE_PAGE, json!({ "slug": SAMPLE_SLUG }))
        .await;
    let article = &data["article"];
    assert_eq!(
        article["headline"],
        "Putin’s North Korea Visit Could Reshape Regional Security"
    );
    assert_eq!(article["source"], "News1");
    assert_eq!(
        article["publishedAt"].as_str().unwrap()[..10],
        *"2025-05-15"
    );
    assert_eq!(article["primaryTopic"]["slug"], "korean-peninsula");
    assert_eq!(article["primaryTopic"]["parent"]["slug"], "world");
    assert_eq!(
        article["topics"][0]["slug"], "korean-peninsula",
        "primary topic comes first"
    );
    assert!(!article["authors"].as_array().unwrap().is_empty());
    let quotes: Vec<_> = article["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["__typename"] == "QuoteBlock")
        .collect();
    assert!(quotes.iter().any(|q| {
        q["attribution"]
            .as_str()
            .unwrap()
            .starts_with("Park Won Gon")
    }));
    assert!(quotes.iter().any(|q| {
        q["attribution"]
            .as_str()
            .unwrap()
            .starts_with("Im Eul Chul")
    }));
    assert!(
        article["bodyHtml"]
            .as_str()
            .unwrap()
            .contains("<blockquote><p>")
    );
    assert!(
        article["bodyText"]
            .as_str()
            .unwrap()
            .starts_with("On the 18th, Russian President Vladimir Putin")
    );
    assert!(article["wordCount"].as_u64().unwrap() > 500);
    assert_eq!(
        article["readingTimeMinutes"],
        article["wordCount"].as_u64().unwrap().div_ceil(230)
    );

    let latest: Vec<&str> = data["latest"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["headline"].as_str().unwrap())
        .collect();
    for story in [
        "Mexico Decries U.S. Livestock Ban as Unilateral and Unjustified",
        "Nasdaq Gains 4.4% as Tech Shares Lead Broad Market Surge",
    ] {
        assert!(latest.contains(&story), "{story} missing from {latest:?}");
    }
    assert!(data["topics"]["edges"].as_array().unwrap().len() >= 8);
});

on_both_databases!(article_by_id_and_absent_article, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let data = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { id } }",
            json!({ "s": SAMPLE_SLUG }),
        )
        .await;
    let id = data["article"]["id"].as_str().unwrap().to_owned();
    let by_id = app.gql_ok("query($id: ID!) { article(id: $id) { slug } node(id: $id) { id ... on Article { headline } } }", json!({ "id": id })).await;
    assert_eq!(by_id["article"]["slug"], SAMPLE_SLUG);
    assert_eq!(by_id["node"]["id"], id.as_str());
    let absent = app
        .gql_ok(
            "{ article(slug: \"no-such-story\") { id } byId: article(id: \"01890000-0000-7000-8000-000000000000\") { id } topic(slug: \"nope\") { id } author(slug: \"nobody\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        absent,
        json!({ "article": null, "byId": null, "topic": null, "author": null })
    );
});

on_both_databases!(filters_narrow_the_article_list, |db| async move {
    let app = spawn_seeded_app(db, 30).await;
    let q = "query($f: ArticleFilter) { articles(first: 100, filter: $f) { edges { node { slug source publishedAt topics { slug } authors { slug } } } } }";
    let nodes = |data: serde_json::Value| {
        data["articles"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .collect::<Vec<_>>()
    };

    let by_topic = nodes(app.gql_ok(q, json!({ "f": { "topic": "russia" } })).await);
    assert!(by_topic.iter().any(|n| n["slug"] == SAMPLE_SLUG));
    assert!(by_topic.iter().all(|n| {
        n["topics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["slug"] == "russia")
    }));

    let by_author = nodes(
        app.gql_ok(q, json!({ "f": { "author": "emily-carter" } }))
            .await,
    );
    assert!(!by_author.is_empty());
    assert!(by_author.iter().all(|n| {
        n["authors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["slug"] == "emily-carter")
    }));

    let by_source = nodes(app.gql_ok(q, json!({ "f": { "source": "News1" } })).await);
    assert!(!by_source.is_empty() && by_source.iter().all(|n| n["source"] == "News1"));

    let window = nodes(app.gql_ok(q, json!({ "f": { "publishedAfter": "2025-05-12T00:00:00Z", "publishedBefore": "2025-05-15T00:00:00Z" } })).await);
    assert!(!window.is_empty());
    for n in &window {
        let at = n["publishedAt"].as_str().unwrap();
        assert!(("2025-05-12".."2025-05-15").contains(&at), "{at}");
    }
    assert!(window.iter().all(|n| n["slug"] != SAMPLE_SLUG));
});

on_both_databases!(topics_and_authors_list_their_articles, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let data = app
        .gql_ok(
            r#"{
              topic(slug: "world") { name parent { slug } children { slug } articles(first: 5) { edges { node { slug } } } }
              korea: topic(slug: "korean-peninsula") { articles(first: 5) { edges { node { slug } } } }
              author(slug: "kim-min-ji") { name bio articles(first: 5) { edges { node { slug } } } }
              authors(first: 2) { edges { cursor node { slug } } pageInfo { hasNextPage endCursor } }
            }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["topic"]["parent"], serde_json::Value::Null);
    let children: Vec<&str> = data["topic"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert!(
        children.contains(&"korean-peninsula") && children.contains(&"russia"),
        "{children:?}"
    );
    assert_eq!(
        data["korea"]["articles"]["edges"][0]["node"]["slug"],
        SAMPLE_SLUG
    );
    assert!(
        data["author"]["articles"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["slug"] == SAMPLE_SLUG)
    );
    assert_eq!(data["authors"]["edges"].as_array().unwrap().len(), 2);
    assert_eq!(data["authors"]["pageInfo"]["hasNextPage"], true);
    let after = data["authors"]["pageInfo"]["endCursor"].as_str().unwrap();
    let next = app
        .gql_ok(
            "query($a: String) { authors(first: 100, after: $a) { edges { node { slug } } } }",
            json!({ "a": after }),
        )
        .await;
    let first_two: Vec<_> = data["authors"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].clone())
        .collect();
    let rest: Vec<_> = next["authors"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].clone())
        .collect();
    assert_eq!(first_two.len() + rest.len(), 6);
    assert!(rest.iter().all(|s| !first_two.contains(s)));
});
