//! Nested lists load in a constant number of SQL statements, not one per article.

use gazette_tests::{on_both_databases, spawn_seeded_app};
use serde_json::json;

const LIST: &str = "query($n: Int) { articles(first: $n) { edges { node { slug primaryTopic { slug parent { slug } } topics { slug } authors { slug name } } } } }";

on_both_databases!(
    a_list_with_topics_and_authors_costs_constant_statements,
    |db| async move {
        let app = spawn_seeded_app(db, 60).await;
        let mut counts = Vec::new();
        for n in [1, 10, 50] {
            let before = app.store.statements_executed();
            let data = app.gql_ok(LIST, json!({ "n": n })).await;
            counts.push(app.store.statements_executed() - before);
            assert_eq!(
                data["articles"]["edges"].as_array().unwrap().len(),
                n as usize
            );
        }
        // At most: list, article→topics, topics, their parents, article→authors, authors — one
        // statement each whatever the page size (fewer when a page needs no extra parents).
        assert!(
            counts.iter().all(|&c| c <= 6),
            "statements per page of 1, 10, 50 articles: {counts:?}"
        );
    }
);
