//! Keyset pagination: never skips or repeats, whatever is inserted meanwhile.

use std::collections::HashSet;

use chrono::{Duration, TimeZone, Utc};
use gazette_domain::{
    ArticleState, ArticleStatus, Block, Body, Dek, Headline, Language, Slug, Source, Syndication,
};
use gazette_tests::{TestApp, on_both_databases, spawn_seeded_app};
use serde_json::{Value, json};

const PAGE: &str =
    "query($first: Int, $after: String, $last: Int, $before: String, $order: ArticleOrderBy) {
  articles(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    edges { cursor node { slug publishedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

fn new_article(slug: &str, published_at: chrono::DateTime<Utc>) -> ArticleState {
    ArticleState {
        slug: Slug::parse(slug).unwrap(),
        headline: Headline::parse(&format!("Inserted {slug}")).unwrap(),
        dek: Dek::parse("Inserted while a client pages").unwrap(),
        body: Body::new(vec![Block::Paragraph {
            text: "Body.".into(),
        }])
        .unwrap(),
        source: Source::parse("Test Desk").unwrap(),
        language: Language::english(),
        canonical_url: None,
        hero_image: None,
        primary_topic: Some(Slug::parse("markets").unwrap()),
        topics: vec![],
        authors: vec![],
        status: ArticleStatus::Published,
        published_at: Some(published_at),
        syndication: Syndication::default(),
        expires_at: None,
        kill: None,
    }
}

async fn all_slugs(app: &TestApp) -> Vec<String> {
    let data = app.gql_ok(PAGE, json!({ "first": 100 })).await;
    data["articles"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap().to_owned())
        .collect()
}

fn slugs_of(page: &Value) -> Vec<String> {
    page["articles"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap().to_owned())
        .collect()
}

on_both_databases!(
    paging_never_skips_or_repeats_under_inserts,
    |db| async move {
        let app = spawn_seeded_app(db, 40).await;
        let before: Vec<String> = all_slugs(&app).await;
        assert_eq!(before.len(), 49);

        let mut seen: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let data = app
                .gql_ok(PAGE, json!({ "first": 7, "after": after }))
                .await;
            seen.extend(slugs_of(&data));
            pages += 1;
            if pages == 2 {
                // Newer stories arrive at the top, and one lands in the part not yet read.
                let now = Utc::now();
                for i in 0..5 {
                    app.store
                        .create_article(
                            &new_article(&format!("breaking-{i}"), now + Duration::seconds(i)),
                            "test",
                            now,
                        )
                        .await
                        .unwrap();
                }
                let middle = Utc.with_ymd_and_hms(2025, 5, 1, 0, 0, 0).unwrap();
                app.store
                    .create_article(&new_article("late-filed-story", middle), "test", now)
                    .await
                    .unwrap();
            }
            let info = &data["articles"]["pageInfo"];
            if info["hasNextPage"] != true {
                break;
            }
            after = info["endCursor"].as_str().map(str::to_owned);
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "a story was repeated");
        for slug in &before {
            assert!(unique.contains(slug), "{slug} was skipped");
        }
        assert!(
            seen.iter().all(|s| !s.starts_with("breaking-")),
            "stories newer than the first page do not appear behind it"
        );
    }
);

on_both_databases!(backward_paging_mirrors_forward_paging, |db| async move {
    let app = spawn_seeded_app(db, 20).await;
    let forward = all_slugs(&app).await;
    let mut backward: Vec<String> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let data = app
            .gql_ok(PAGE, json!({ "last": 6, "before": before }))
            .await;
        let mut page = slugs_of(&data);
        page.extend(backward);
        backward = page;
        let info = &data["articles"]["pageInfo"];
        if info["hasPreviousPage"] != true {
            break;
        }
        before = info["startCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(backward, forward);

    let oldest = app
        .gql_ok(PAGE, json!({ "first": 100, "order": "OLDEST" }))
        .await;
    let mut reversed = slugs_of(&oldest);
    reversed.reverse();
    assert_eq!(reversed, forward);
});
