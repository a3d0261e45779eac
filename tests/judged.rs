//! Search and related articles measured against a judged corpus (`tests/fixtures/
//! judged-corpus.json`: 60+ short articles of our own across the sample topics, with the related
//! articles an editor would list for each and the articles a reader wants for each query).
//! Prints precision@5 and recall figures and holds them above a floor, on both databases.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use gazette_domain::{
    ArticleState, ArticleStatus, Block, Body, Dek, Headline, Language, Slug, Source, Syndication,
};
use gazette_tests::{TestApp, on_both_databases, spawn_seeded_app};
use serde_json::{Value, json};

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";

pub(crate) fn corpus() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/judged-corpus.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("corpus file")).expect("corpus JSON")
}

pub(crate) fn slugs(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

pub(crate) async fn load(app: &TestApp, corpus: &Value) {
    for a in corpus["articles"].as_array().unwrap() {
        let state = ArticleState {
            slug: Slug::parse(a["slug"].as_str().unwrap()).unwrap(),
            headline: Headline::parse(a["headline"].as_str().unwrap()).unwrap(),
            dek: Dek::parse(a["dek"].as_str().unwrap()).unwrap(),
            body: Body::new(
                slugs(&a["body"])
                    .into_iter()
                    .map(|text| Block::Paragraph { text })
                    .collect(),
            )
            .unwrap(),
            source: Source::parse("Gazette").unwrap(),
            language: Language::english(),
            canonical_url: None,
            hero_image: None,
            primary_topic: Some(Slug::parse(a["primaryTopic"].as_str().unwrap()).unwrap()),
            topics: slugs(&a["topics"])
                .iter()
                .map(|t| Slug::parse(t).unwrap())
                .collect(),
            authors: a
                .get("authors")
                .map(|x| slugs(x).iter().map(|t| Slug::parse(t).unwrap()).collect())
                .unwrap_or_default(),
            status: ArticleStatus::Published,
            published_at: Some(
                DateTime::parse_from_rfc3339(a["publishedAt"].as_str().unwrap())
                    .unwrap()
                    .with_timezone(&Utc),
            ),
            syndication: Syndication::default(),
            expires_at: None,
            kill: None,
        };
        app.store
            .create_article(&state, "corpus", Utc::now())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", a["slug"]));
    }
}

pub(crate) fn precision_at(found: &[String], wanted: &HashSet<String>, k: usize) -> f64 {
    let denominator = k.min(wanted.len());
    if denominator == 0 {
        return 1.0;
    }
    found.iter().take(k).filter(|s| wanted.contains(*s)).count() as f64 / denominator as f64
}

pub(crate) fn recall_at(found: &[String], wanted: &HashSet<String>, k: usize) -> f64 {
    if wanted.is_empty() {
        return 1.0;
    }
    found.iter().take(k).filter(|s| wanted.contains(*s)).count() as f64 / wanted.len() as f64
}

on_both_databases!(related_and_search_agree_with_the_editors, |db| async move {
    let corpus = corpus();
    let app = spawn_seeded_app(db, 0).await;
    load(&app, &corpus).await;

    // Related: precision@5 against the editors' lists.
    let mut precisions = Vec::new();
    let related = corpus["related"].as_object().unwrap();
    for (slug, wanted) in related {
        let wanted: HashSet<String> = slugs(wanted).into_iter().collect();
        let data = app
            .gql_ok(
                "query($s: String!) { article(slug: $s) { related(first: 5) { slug topics { slug } } } }",
                json!({ "s": slug }),
            )
            .await;
        let list = data["article"]["related"].as_array().unwrap().clone();
        let found: Vec<String> = list
            .iter()
            .map(|r| r["slug"].as_str().unwrap().to_owned())
            .collect();
        assert!(!found.contains(slug), "{slug} relates to itself");
        let unique: HashSet<&String> = found.iter().collect();
        assert_eq!(unique.len(), found.len(), "{slug}: duplicates");
        if slug == SAMPLE {
            for r in &list {
                let topics: Vec<&str> = r["topics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["slug"].as_str().unwrap())
                    .collect();
                assert!(
                    topics
                        .iter()
                        .any(|t| ["korean-peninsula", "russia", "diplomacy"].contains(t)),
                    "the North Korea story relates to {} ({topics:?})",
                    r["slug"]
                );
            }
        }
        precisions.push(precision_at(&found, &wanted, 5));
    }
    let related_p5 = precisions.iter().sum::<f64>() / precisions.len() as f64;

    // Search: precision@5 and recall@10 for every judged query.
    let (mut p5, mut r10, mut judged) = (0.0, 0.0, 0usize);
    for q in corpus["queries"].as_array().unwrap() {
        let query = q["query"].as_str().unwrap();
        let wanted: HashSet<String> = slugs(&q["relevant"]).into_iter().collect();
        let data = app
            .gql_ok(
                "query($q: String!) { search(query: $q, first: 10) { edges { node { article { slug } } } } }",
                json!({ "q": query }),
            )
            .await;
        let found: Vec<String> = data["search"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["article"]["slug"].as_str().unwrap().to_owned())
            .collect();
        if wanted.is_empty() {
            assert!(found.is_empty(), "{query}: {found:?}");
            continue;
        }
        p5 += precision_at(&found, &wanted, 5);
        r10 += recall_at(&found, &wanted, 10);
        judged += 1;
    }
    let (search_p5, search_r10) = (p5 / judged as f64, r10 / judged as f64);
    eprintln!(
        "judged corpus ({db:?}): {} articles; related precision@5 {related_p5:.3} over {} lists; \
         search precision@5 {search_p5:.3}, recall@10 {search_r10:.3} over {judged} queries",
        corpus["articles"].as_array().unwrap().len(),
        precisions.len()
    );
    assert!(related_p5 >= 0.63, "related precision@5 {related_p5:.3}");
    assert!(search_p5 >= 0.7, "search precision@5 {search_p5:.3}");
    assert!(search_r10 >= 0.7, "search recall@10 {search_r10:.3}");
});
