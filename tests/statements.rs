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
        // At most: the list, the articles' topics with their rows, their authors with theirs,
        // primary topics not among them, parents — one statement each whatever the page size.
        assert!(
            counts.iter().all(|&c| c <= 5),
            "statements per page of 1, 10, 50 articles: {counts:?}"
        );

        // The front page's list: one statement. Each row carries its article's topic ids,
        // and the topics come from the taxonomy held in memory (read by the requests above).
        app.store.record_statements();
        let data = app
            .gql_ok(
                "{ articles(first: 20) { edges { node { slug headline publishedAt topics { slug name } } } } }",
                json!({}),
            )
            .await;
        let edges = data["articles"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 20);
        assert!(
            edges
                .iter()
                .all(|e| !e["node"]["topics"].as_array().unwrap().is_empty())
        );
        let sent = app.store.take_recorded_statements();
        assert_eq!(sent.len(), 1, "latest 20 with topics: {sent:#?}");

        // Bylines too: each row carries its article's author ids, and the authors read above
        // (for the 50 newest) are kept for the content generation. GraphQL and REST alike;
        // sizes not asked before, so that the response cache cannot answer.
        let data = app.gql_ok(LIST, json!({ "n": 40 })).await;
        let bylined = data["articles"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| !e["node"]["authors"].as_array().unwrap().is_empty())
            .count();
        assert!(bylined > 0, "the seeded stories have bylines");
        let sent = app.store.take_recorded_statements();
        assert_eq!(sent.len(), 1, "40 with topics and authors: {sent:#?}");
        let rest: serde_json::Value = app.get("/v1/articles?limit=20").await.json().await.unwrap();
        assert_eq!(rest["items"].as_array().unwrap().len(), 20);
        let sent = app.store.take_recorded_statements();
        assert_eq!(sent.len(), 1, "REST's list: {sent:#?}");
    }
);

// The bundled SQLite is built without memory statistics (`.cargo/config.toml`): with them, every
// allocation SQLite makes takes one process-wide mutex. A target directory built before that
// setting keeps its old SQLite until libsqlite3-sys is rebuilt (cargo does not rerun a build
// script when an `[env]` value changes), which this catches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_is_built_without_memory_statistics() {
    use sea_orm::{ConnectionTrait as _, Statement};
    let app = gazette_tests::spawn_app(gazette_tests::Db::Sqlite).await;
    let conn = app.store.connection();
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "PRAGMA compile_options",
        ))
        .await
        .unwrap();
    let options: Vec<String> = rows
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect();
    assert!(
        options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
        "{options:?}"
    );
}

// A related list costs the same handful of statements however large the archive and however
// many related articles are asked for: the candidates are bounded reads, never one per article.
on_both_databases!(a_related_list_costs_constant_statements, |db| async move {
    let query = "query($s: String!, $n: Int) { article(slug: $s) { related(first: $n) { slug headline } } }";
    let mut counts = Vec::new();
    for (size, slug, n) in [
        (20, "brief-000003", 1),
        (20, "brief-000011", 20),
        (300, "brief-000017", 1),
        (300, "brief-000211", 20),
    ] {
        let app = spawn_seeded_app(db, size).await;
        let before = app.store.statements_executed();
        let data = app.gql_ok(query, json!({ "s": slug, "n": n })).await;
        counts.push(app.store.statements_executed() - before);
        assert!(!data["article"]["related"].as_array().unwrap().is_empty());
    }
    eprintln!("statements for related lists: {counts:?}");
    // The article; its topics; the topic candidates; the text candidates (in a read
    // transaction on PostgreSQL); the candidates' light columns; their topics; the chosen
    // articles whole.
    assert!(
        counts.iter().all(|&c| c <= 10) && counts.iter().all(|&c| c == counts[0]),
        "statements per related list (20 and 300 articles, 1 and 20 asked): {counts:?}"
    );
});

/// Whether a statement reads an article's texts (the body in any form) or keyword profile.
fn reads_texts(sql: &str) -> bool {
    [
        "\"body\"",
        "\"body_html\"",
        "\"body_text\"",
        "\"related_keywords\"",
    ]
    .iter()
    .any(|column| sql.contains(column))
}

// No list or lookup reads a body (lists of articles, trending, search hits without a body
// passage, a lookup by slug); a body selected in a list is read for the whole list in one
// statement, whatever its length.
on_both_databases!(
    lists_read_no_body_and_a_selected_body_costs_one_statement,
    |db| async move {
        let app = spawn_seeded_app(db, 30).await;
        app.store.record_statements();
        let data = app
            .gql_ok(
                "{ articles(first: 10) { edges { node { slug headline readingTimeMinutes topics { slug } authors { name } } } }
                   trending(first: 5) { article { slug headline } }
                   search(query: \"grain\", first: 5) { edges { node { article { slug } highlights { headline { html } } } } }
                   article(slug: \"brief-000003\") { slug headline wordCount } }",
                json!({}),
            )
            .await;
        assert_eq!(data["articles"]["edges"].as_array().unwrap().len(), 10);
        assert!(data["article"]["wordCount"].as_u64().unwrap() > 0);
        let sent = app.store.take_recorded_statements();
        assert!(!sent.is_empty());
        let reading: Vec<&String> = sent.iter().filter(|sql| reads_texts(sql)).collect();
        assert!(reading.is_empty(), "statements reading texts: {reading:#?}");

        for n in [1, 10] {
            let data = app
                .gql_ok(
                    "query($n: Int) { articles(first: $n) { edges { node { slug bodyText body { __typename } } } } }",
                    json!({ "n": n }),
                )
                .await;
            let edges = data["articles"]["edges"].as_array().unwrap();
            assert_eq!(edges.len(), n);
            assert!(
                edges
                    .iter()
                    .all(|e| !e["node"]["bodyText"].as_str().unwrap().is_empty())
            );
            let sent = app.store.take_recorded_statements();
            let reading: Vec<&String> = sent.iter().filter(|sql| reads_texts(sql)).collect();
            assert_eq!(
                reading.len(),
                1,
                "{n} articles, body statements: {reading:#?}"
            );
        }
    }
);

/// Whether a statement binds its `LIMIT` (`LIMIT ?` on SQLite, `LIMIT $n` on PostgreSQL).
fn binds_limit(sql: &str) -> bool {
    sql.split("LIMIT ")
        .skip(1)
        .any(|after| after.starts_with('?') || after.starts_with('$'))
}

// SQLite re-prepares a statement whose `LIMIT` is a bound parameter at every execution (the
// parameter is an input of its plan), so the article lists, the topic and author lists and the
// lookups by slug write their page size into the statement and look up unique keys without one.
on_both_databases!(
    lists_and_lookups_write_their_limit_into_the_statement,
    |db| async move {
        let app = spawn_seeded_app(db, 30).await;
        app.store.record_statements();
        let data = app
            .gql_ok(
                "{ articles(first: 7) { edges { node { slug topics { slug } } } }
                   topics(first: 3) { edges { node { slug } } }
                   authors(first: 2) { edges { node { slug } } }
                   article(slug: \"brief-000003\") { slug } }",
                json!({}),
            )
            .await;
        assert_eq!(data["articles"]["edges"].as_array().unwrap().len(), 7);
        assert_eq!(data["topics"]["edges"].as_array().unwrap().len(), 3);
        assert_eq!(data["authors"]["edges"].as_array().unwrap().len(), 2);
        assert_eq!(data["article"]["slug"], "brief-000003");
        let sent = app.store.take_recorded_statements();
        let limited: Vec<&String> = sent.iter().filter(|sql| sql.contains("LIMIT 8")).collect();
        assert_eq!(limited.len(), 1, "the list of 7 reads 8: {sent:#?}");
        let bound: Vec<&String> = sent.iter().filter(|sql| binds_limit(sql)).collect();
        assert!(
            bound.is_empty(),
            "statements binding their LIMIT: {bound:#?}"
        );
    }
);

// Readers asking at once for the related list of a story whose ranking is not cached rank it
// once: the others wait for that ranking instead of each reading the candidates again. The
// requests are polled on one task, so the second starts while the first waits on storage.
on_both_databases!(concurrent_related_misses_rank_once, |db| async move {
    use gazette_app::related::Related;
    use gazette_domain::{Slug, Visibility};
    use gazette_persistence::{Store, StoreOptions};

    let app = spawn_seeded_app(db, 40).await;
    // A store of the test's own: its statement count is this test's reads alone.
    let store = Store::connect(app.database_url(), &StoreOptions::default())
        .await
        .unwrap();
    let slug = Slug::parse("brief-000011").unwrap();
    let source = store
        .article_by_slug(&slug, Visibility::Everything)
        .await
        .unwrap()
        .expect("seeded");
    let now = chrono::Utc::now();
    let ttl = std::time::Duration::from_secs(600);

    // The store keeps how common words are: counted once here, so both runs below find them.
    Related::new(store.clone(), ttl)
        .ranking(&source, now)
        .await
        .unwrap();
    let alone = Related::new(store.clone(), ttl);
    let before = store.statements_executed();
    let expected = alone.ranking(&source, now).await.unwrap();
    let one_reader = store.statements_executed() - before;
    assert!(!expected.is_empty());

    let readers = 8;
    let shared = Related::new(store.clone(), ttl);
    let before = store.statements_executed();
    let lists =
        futures_util::future::join_all((0..readers).map(|_| shared.ranking(&source, now))).await;
    let all_readers = store.statements_executed() - before;
    for list in lists {
        assert_eq!(list.unwrap(), expected);
    }
    // One ranking: the others wait for it and read nothing.
    assert_eq!(
        all_readers, one_reader,
        "{readers} readers at once: {all_readers} statements; one alone: {one_reader}"
    );
});
