//! Full-text search on each database's own engine: words, phrases, prefixes, stop words, bad
//! queries, highlights, paging, and an index that follows every write.

use gazette_tests::{TestApp, on_both_databases, spawn_seeded_app, token};
use serde_json::{Value, json};

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";

const SEARCH: &str = r#"query($q: String!, $first: Int, $after: String, $topic: String) {
  search(query: $q, first: $first, after: $after, filter: { topic: $topic }) {
    edges { cursor node { score tier article { slug } highlights { headline { html text ranges { start end } } body { html } } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

async fn search(app: &TestApp, q: &str) -> Value {
    app.gql_ok(SEARCH, json!({ "q": q })).await["search"].clone()
}

fn slugs(result: &Value) -> Vec<String> {
    result["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["article"]["slug"].as_str().unwrap().to_owned())
        .collect()
}

on_both_databases!(
    words_phrases_and_prefixes_find_published_articles,
    |db| async move {
        let app = spawn_seeded_app(db, 20).await;
        let hits = search(&app, "North Korea").await;
        assert_eq!(slugs(&hits)[0], SAMPLE);
        let top = &hits["edges"][0]["node"];
        assert!(
            top["highlights"]["headline"]["html"]
                .as_str()
                .unwrap()
                .contains("<mark>North</mark> <mark>Korea</mark>"),
            "{top}"
        );
        let ranges = top["highlights"]["headline"]["ranges"].as_array().unwrap();
        let text: Vec<char> = top["highlights"]["headline"]["text"]
            .as_str()
            .unwrap()
            .chars()
            .collect();
        let first: String = text[ranges[0]["start"].as_u64().unwrap() as usize
            ..ranges[0]["end"].as_u64().unwrap() as usize]
            .iter()
            .collect();
        assert_eq!(first, "North");
        assert!(
            top["highlights"]["body"]["html"]
                .as_str()
                .unwrap()
                .contains("<mark>")
        );

        assert!(slugs(&search(&app, "korea*").await).contains(&SAMPLE.to_owned()));
        assert_eq!(
            slugs(&search(&app, r#""regional security""#).await),
            [SAMPLE]
        );
        assert!(
            slugs(&search(&app, r#""security regional""#).await).is_empty(),
            "a phrase keeps its order"
        );
        // Stemming: the plural finds the singular.
        let tariffs = slugs(&search(&app, "tariffs").await);
        assert!(tariffs.iter().any(|s| s.contains("tariff")), "{tariffs:?}");
        // Nothing holds both words: no all-words hit, the page is filled with articles holding
        // one of them, marked as such.
        let either = search(&app, "Korea diamond").await;
        let tiers: Vec<&str> = either["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["tier"].as_str().unwrap())
            .collect();
        assert!(
            !tiers.is_empty() && tiers.iter().all(|t| *t == "ANY_WORD"),
            "{tiers:?}"
        );
        // Demonyms find their place and back.
        assert!(slugs(&search(&app, "Korean").await).contains(&SAMPLE.to_owned()));
        // Only stop words or punctuation: nothing, not an error.
        for q in ["the of and", "!!! ??? ---", r#""a the""#, "OR NOT AND"] {
            assert!(slugs(&search(&app, q).await).is_empty(), "{q}");
        }
        // Engine syntax is never passed through.
        for q in [
            "NEAR(korea russia)",
            "headline:korea",
            "korea OR 1=1 --",
            "^korea",
            "'; DROP TABLE articles; --",
        ] {
            let (status, body) = app.gql(SEARCH, json!({ "q": q })).await;
            assert_eq!(status, 200, "{q}: {body}");
            assert!(body.get("errors").is_none(), "{q}: {body}");
        }
        // A query we cannot read is the caller's mistake.
        for q in [r#"open "quote"#, "k*", &"x".repeat(201)] {
            let (_, body) = app.gql(SEARCH, json!({ "q": q })).await;
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
                "{q}"
            );
            assert_eq!(body["errors"][0]["extensions"]["field"], "query");
        }
        // Filters.
        let topic = app
            .gql_ok(SEARCH, json!({ "q": "korea*", "topic": "markets" }))
            .await;
        assert!(!slugs(&topic["search"]).contains(&SAMPLE.to_owned()));
    }
);

on_both_databases!(search_pages_and_answers_over_rest, |db| async move {
    let app = spawn_seeded_app(db, 60).await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .gql_ok(
                SEARCH,
                json!({ "q": "market*", "first": 3, "after": after }),
            )
            .await["search"]
            .clone();
        let got = slugs(&page);
        assert!(got.len() <= 3);
        for slug in got {
            assert!(!seen.contains(&slug), "{slug} twice");
            seen.push(slug);
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert!(seen.len() > 3, "{seen:?}");
    let all = app
        .gql_ok(SEARCH, json!({ "q": "market*", "first": 100 }))
        .await;
    assert_eq!(
        slugs(&all["search"]),
        seen,
        "pages add up to the whole list"
    );

    let rest: Value = app
        .get("/v1/search?q=korea*&first=5")
        .await
        .json()
        .await
        .unwrap();
    let gql = app
        .gql_ok(SEARCH, json!({ "q": "korea*", "first": 5 }))
        .await;
    let rest_slugs: Vec<String> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["article"]["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rest_slugs, slugs(&gql["search"]));
    assert!(
        rest["items"][0]["highlights"]["headline"]["html"]
            .as_str()
            .unwrap()
            .contains("<mark>")
    );
    for (query, field) in [
        ("/v1/search", "q"),
        ("/v1/search?q=%22open", "q"),
        ("/v1/search?q=korea&first=500", "first"),
        (
            "/v1/search?q=korea&publishedAfter=yesterday",
            "publishedAfter",
        ),
    ] {
        let response = app.get(query).await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["field"], field, "{query}");
    }
});

on_both_databases!(
    the_index_follows_every_write_and_readers_never_find_drafts,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let editor = token("editor", "desk");
        let write = |query: &'static str, vars: Value| {
            let app = &app;
            let editor = editor.clone();
            async move {
                let data = app.gql_ok_as(&editor, query, vars).await;
                data.as_object().unwrap().values().next().unwrap().clone()
            }
        };
        let created = write(
        r#"mutation { createArticle(input: { headline: "Zanzibarite deposits mapped", slug: "zanzibarite", body: [{ type: "paragraph", text: "Geologists mapped zanzibarite seams." }] }) { id version } }"#,
        json!({}),
    )
    .await;
        let id = created["id"].as_str().unwrap().to_owned();
        let uuid: uuid::Uuid = id.parse().unwrap();
        let rowid_at_creation = fts_row(&app, uuid).await;
        assert_eq!(rowid_at_creation.is_some(), db == gazette_tests::Db::Sqlite);
        assert!(
            slugs(&search(&app, "zanzibarite").await).is_empty(),
            "a draft is never found"
        );
        write(
            r#"mutation($id: ID!) { publishArticle(id: $id) { id } }"#,
            json!({ "id": id }),
        )
        .await;
        assert_eq!(slugs(&search(&app, "zanzibarite").await), ["zanzibarite"]);
        write(
        r#"mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 2, input: { headline: "Quixotic survey ends", body: [{ type: "paragraph", text: "The survey ended." }] }) { id } }"#,
        json!({ "id": id }),
    )
    .await;
        assert!(
            slugs(&search(&app, "zanzibarite").await).is_empty(),
            "old words leave the index"
        );
        assert_eq!(slugs(&search(&app, "quixotic").await), ["zanzibarite"]);
        // SQLite: the edit replaced the full-text row in place (found by rowid, not by a scan,
        // and keeping its place in creation order).
        assert_eq!(fts_row(&app, uuid).await, rowid_at_creation);
        write(
            r#"mutation($id: ID!) { unpublishArticle(id: $id) { id } }"#,
            json!({ "id": id }),
        )
        .await;
        assert!(
            slugs(&search(&app, "quixotic").await).is_empty(),
            "unpublished"
        );
        write(
            r#"mutation($id: ID!) { publishArticle(id: $id) { id } }"#,
            json!({ "id": id }),
        )
        .await;
        assert_eq!(slugs(&search(&app, "quixotic").await).len(), 1);
        app.gql_ok_as(
            &token("admin", "root"),
            r#"mutation($id: ID!) { deleteArticle(id: $id) }"#,
            json!({ "id": id }),
        )
        .await;
        assert!(slugs(&search(&app, "quixotic").await).is_empty(), "deleted");
        assert_eq!(fts_row(&app, uuid).await, None);
    }
);

/// SQLite: the FTS rowid recorded for `id`, after checking that the full-text table holds
/// exactly one row per article and each recorded rowid points at its article's row. `None`
/// when the article has no row (and always on PostgreSQL, whose vector is a column).
async fn fts_row(app: &TestApp, id: uuid::Uuid) -> Option<i64> {
    use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
    let db = app.store.connection();
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return None;
    }
    let count = |sql: &'static str| async move {
        db.query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap()
    };
    let articles = count("SELECT count(*) FROM articles").await;
    assert_eq!(count("SELECT count(*) FROM article_search").await, articles);
    assert_eq!(
        count(
            "SELECT count(*) FROM article_search_rows r \
             JOIN article_search s ON s.rowid = r.search_rowid AND s.article_id = r.article_id"
        )
        .await,
        articles
    );
    db.query_one_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "SELECT search_rowid FROM article_search_rows WHERE article_id = ?",
        [id.into()],
    ))
    .await
    .unwrap()
    .map(|row| row.try_get_by_index::<i64>(0).unwrap())
}

on_both_databases!(related_articles_share_topics_and_words, |db| async move {
    let app = spawn_seeded_app(db, 40).await;
    let data = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { related { slug headline bodyText topics { slug } } } }",
            json!({ "s": SAMPLE }),
        )
        .await;
    let related = data["article"]["related"].as_array().unwrap().clone();
    assert_eq!(related.len(), 5);
    let found: Vec<&str> = related
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    assert!(!found.contains(&SAMPLE));
    let unique: std::collections::HashSet<&&str> = found.iter().collect();
    assert_eq!(unique.len(), found.len());
    // Each shares a topic or the story's distinctive words (a story mentioning South Korea
    // outranks a generated brief that only shares a topic).
    for r in &related {
        let text = format!("{} {}", r["headline"], r["bodyText"]).to_lowercase();
        assert!(
            r["topics"].as_array().unwrap().iter().any(|t| [
                "korean-peninsula",
                "russia",
                "diplomacy",
                "world"
            ]
            .contains(&t["slug"].as_str().unwrap()))
                || ["korea", "russia", "putin", "pyongyang"]
                    .iter()
                    .any(|w| text.contains(w)),
            "{r}"
        );
    }
    let (_, body) = app
        .gql(
            "query($s: String!) { article(slug: $s) { related(first: 21) { slug } } }",
            json!({ "s": SAMPLE }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "first");
    // A new story on the same subject shows up (the test server does not cache).
    let editor = token("editor", "desk");
    let created = app
        .gql_ok_as(
            &editor,
            r#"mutation { createArticle(input: { headline: "Putin and Kim sign Pyongyang security pact", slug: "putin-kim-pact", primaryTopic: "korean-peninsula", topics: ["russia"], body: [{ type: "paragraph", text: "Russia and North Korea signed a security pact in Pyongyang, deepening military cooperation." }] }) { id } }"#,
            json!({}),
        )
        .await;
    app.gql_ok_as(
        &editor,
        r#"mutation($id: ID!) { publishArticle(id: $id) { id } }"#,
        json!({ "id": created["createArticle"]["id"] }),
    )
    .await;
    let again = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { related(first: 3) { slug } } }",
            json!({ "s": SAMPLE }),
        )
        .await;
    assert_eq!(again["article"]["related"][0]["slug"], "putin-kim-pact");
});

// Related lists read each candidate's keyword profile as stored when it was written; rows from
// before that column (NULL) are read from their texts, and the fill after migrating stores them.
on_both_databases!(
    related_lists_agree_whether_profiles_are_stored_or_not,
    |db| async move {
        use sea_orm::ConnectionTrait as _;
        let app = spawn_seeded_app(db, 40).await;
        let query = "query($s: String!) { article(slug: $s) { related(first: 5) { slug } } }";
        let stored = app.gql_ok(query, json!({ "s": SAMPLE })).await;
        assert_eq!(stored["article"]["related"].as_array().unwrap().len(), 5);
        let emptied = app
            .store
            .connection()
            .execute_unprepared("UPDATE articles SET related_keywords = NULL")
            .await
            .unwrap()
            .rows_affected();
        assert!(emptied >= 49, "{emptied}");
        let from_texts = app.gql_ok(query, json!({ "s": SAMPLE })).await;
        assert_eq!(from_texts, stored);
        assert_eq!(app.store.fill_related_keywords().await.unwrap(), emptied);
        assert_eq!(app.store.fill_related_keywords().await.unwrap(), 0);
        let refilled = app.gql_ok(query, json!({ "s": SAMPLE })).await;
        assert_eq!(refilled, stored);
    }
);

// Migrations 7 (PostgreSQL: vectors moved into the row) and 8 (SQLite: the map from articles to
// their full-text rows) apply to an archive that already has articles: search finds the same
// articles afterwards, and an edit then replaces the right full-text row.
on_both_databases!(
    the_search_storage_migrations_keep_existing_articles_findable,
    |db| async move {
        let app = spawn_seeded_app(db, 30).await;
        let before = slugs(&search(&app, "pyongyang").await);
        assert!(!before.is_empty());
        // Roll back to before migration 7 (every later one with it) and up again.
        app.remigrate_from("m20250701_000007_search_vector_inline")
            .await;
        assert_eq!(slugs(&search(&app, "pyongyang").await), before);

        let id = app
            .gql_ok(
                "query($s: String!) { article(slug: $s) { id } }",
                json!({ "s": SAMPLE }),
            )
            .await["article"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let uuid: uuid::Uuid = id.parse().unwrap();
        let rowid = fts_row(&app, uuid).await;
        assert_eq!(rowid.is_some(), db == gazette_tests::Db::Sqlite);
        let version = app
            .gql_ok_as(
                &token("editor", "desk"),
                "query($s: String!) { article(slug: $s) { version } }",
                json!({ "s": SAMPLE }),
            )
            .await["article"]["version"]
            .as_i64()
            .unwrap();
        app.gql_ok_as(
            &token("editor", "desk"),
            "mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { headline: \"Xylophonic summit in Pyongyang\" }) { id } }",
            json!({ "id": id, "v": version }),
        )
        .await;
        assert_eq!(slugs(&search(&app, "xylophonic").await), [SAMPLE]);
        assert_eq!(fts_row(&app, uuid).await, rowid);
    }
);
