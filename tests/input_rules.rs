//! What the write and read paths refuse, on both databases: text no reader can see or no XML
//! document can carry, forged search cursors, and unique rules broken by racing writes (in
//! stable words, never the database's).

use std::time::{Duration, Instant};

use base64::Engine as _;
use gazette_tests::{Db, TestApp, editor, on_both_databases, spawn_seeded_app};
use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
use serde_json::{Value, json};

const CREATE: &str =
    "mutation($i: CreateArticleInput!) { createArticle(input: $i) { id slug version } }";

fn article(headline: &str) -> Value {
    json!({
        "headline": headline,
        "dek": "A line.",
        "body": [{ "type": "paragraph", "text": "Words." }],
        "primaryTopic": "korean-peninsula",
        "authors": ["kim-min-ji"]
    })
}

/// The code, field and message of a response's first error.
fn refusal(body: &Value) -> (String, String, String) {
    let error = &body["errors"][0];
    (
        error["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        error["extensions"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Words a database uses in its own errors: none may reach a client.
fn assert_no_database_words(message: &str) {
    for word in [
        "UNIQUE",
        "constraint",
        "duplicate key",
        "_key",
        "articles.",
        "topics.",
    ] {
        assert!(!message.contains(word), "database text leaked: {message}");
    }
}

on_both_databases!(
    text_fields_refuse_invisible_control_and_non_characters,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let drafts = || async {
            app.gql_ok_as(
                &editor(),
                "{ editorialArticles(status: [DRAFT], first: 100) { edges { node { slug } } } }",
                json!({}),
            )
            .await["editorialArticles"]["edges"]
                .as_array()
                .unwrap()
                .len()
        };
        let drafts_before = drafts().await;
        let with = |patch: Value| {
            let mut input = article("A fine headline");
            for (key, value) in patch.as_object().unwrap() {
                input[key] = value.clone();
            }
            input
        };
        let para = |text: &str| json!([{ "type": "paragraph", "text": text }]);
        let cases = [
            (with(json!({ "headline": "\u{200B}" })), "headline"),
            (
                with(json!({ "headline": "\u{2060}\u{FEFF} \u{3164}" })),
                "headline",
            ),
            (
                with(json!({ "headline": "\u{202E}gnirts desrever" })),
                "headline",
            ),
            (
                with(json!({ "headline": "Isolated \u{2067}text\u{2069}" })),
                "headline",
            ),
            (
                with(json!({ "headline": "Bad \u{FFFE} headline" })),
                "headline",
            ),
            (with(json!({ "slug": "a\u{202E}b" })), "slug"),
            (with(json!({ "dek": "Bad \u{FFFF} dek" })), "dek"),
            (with(json!({ "source": "Desk\u{7}" })), "source"),
            (
                with(json!({ "body": para("Form\u{C}feed") })),
                "body[0].text",
            ),
            (
                with(json!({ "body": para("Start\u{2}of text") })),
                "body[0].text",
            ),
            (with(json!({ "body": para("\u{200B}") })), "body[0].text"),
            (
                with(
                    json!({ "body": [{ "type": "quote", "text": "Yes.", "attribution": "Kim\u{FDD0}" }] }),
                ),
                "body[0].attribution",
            ),
            (
                with(
                    json!({ "body": [{ "type": "image", "url": "https://img.example.com/a.jpg",
                                        "caption": "Cap\u{1}", "credit": "AP" }] }),
                ),
                "body[0].caption",
            ),
            (
                with(
                    json!({ "heroImage": { "url": "https://img.example.com/a.jpg", "credit": "AP\u{FFFE}" } }),
                ),
                "heroImage.credit",
            ),
        ];
        for (input, field) in cases {
            let (status, body) = app.gql_as(&editor(), CREATE, json!({ "i": input })).await;
            assert_eq!(status, 200, "{body}");
            let (code, named, _) = refusal(&body);
            assert_eq!(
                (code.as_str(), named.as_str()),
                ("BAD_USER_INPUT", field),
                "{body}"
            );
        }
        // Topics, authors and corrections follow the same rules.
        for (query, field) in [
            (
                r#"mutation { createTopic(input: { slug: "t1", name: "\u200b" }) { id } }"#,
                "name",
            ),
            (
                r#"mutation { createTopic(input: { slug: "t2", name: "Topic", description: "x\u0002" }) { id } }"#,
                "description",
            ),
            (
                r#"mutation { createAuthor(input: { slug: "a1", name: "Kim\uffff" }) { id } }"#,
                "name",
            ),
            (
                r#"mutation { createAuthor(input: { slug: "a2", name: "Kim", bio: "Born\u000cin Seoul" }) { id } }"#,
                "bio",
            ),
        ] {
            let (_, body) = app.gql_as(&editor(), query, json!({})).await;
            let (code, named, _) = refusal(&body);
            assert_eq!(
                (code.as_str(), named.as_str()),
                ("BAD_USER_INPUT", field),
                "{body}"
            );
        }
        let live = app
            .gql_ok(
                "{ articles(first: 1) { edges { node { id } } } }",
                json!({}),
            )
            .await["articles"]["edges"][0]["node"]["id"]
            .clone();
        let (_, body) = app
            .gql_as(
                &editor(),
                "mutation($id: ID!) { addCorrection(articleId: $id, text: \"Fixed\\u0002\") { id } }",
                json!({ "id": live }),
            )
            .await;
        assert_eq!(refusal(&body).1, "text", "{body}");
        // Multi-line text keeps its line breaks; nothing refused was written.
        let ok = app
            .gql_ok_as(
                &editor(),
                CREATE,
                json!({ "i": with(json!({ "slug": "fine", "body": para("Two\nlines\tand a tab.") })) }),
            )
            .await;
        assert_eq!(ok["createArticle"]["slug"], "fine");
        assert_eq!(drafts().await, drafts_before + 1);
    }
);

on_both_databases!(forged_search_cursors_are_bad_input, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    for forged in [
        b64(&format!("o1:{}", u64::MAX)),
        b64(&format!("o1:{}", u64::MAX - 50)),
        b64("o1:1001"),
        b64("o1:-1"),
    ] {
        let (status, body) = app
            .gql(
                "query($a: String) { search(query: \"korea\", first: 100, after: $a) { edges { cursor } } }",
                json!({ "a": forged }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (code, field, _) = refusal(&body);
        assert_eq!(
            (code.as_str(), field.as_str()),
            ("BAD_USER_INPUT", "after"),
            "{body}"
        );
        let response = app
            .get(&format!("/v1/search?q=korea&first=100&after={forged}"))
            .await;
        assert_eq!(response.status(), 400);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["field"], "after", "{problem}");
    }
    // The last cursor a search hands out still works.
    let end = b64("o1:1000");
    let response = app.get(&format!("/v1/search?q=korea&after={end}")).await;
    assert_eq!(response.status(), 200);
});

/// Holds `slug` for `table`'s row `id` in an open transaction that has not committed, runs
/// `write` (which must pass its own pre-check and reach the database's unique rule), commits
/// once the write waits on the row (PostgreSQL; on SQLite writers are serial and the write's
/// check finds the slug), and returns what `write` answered.
async fn race_for_slug<F>(app: &TestApp, table: &str, id: &str, slug: &str, write: F) -> Value
where
    F: std::future::Future<Output = Value> + Send + 'static,
{
    use gazette_persistence::entities::{articles, topics};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    let db = app.store.connection();
    let txn = db.begin().await.unwrap();
    let id = uuid::Uuid::parse_str(id).unwrap();
    let updated = match table {
        "articles" => articles::Entity::update_many()
            .col_expr(articles::Column::Slug, Expr::value(slug))
            .filter(articles::Column::Id.eq(id))
            .exec(&txn)
            .await
            .unwrap(),
        _ => topics::Entity::update_many()
            .col_expr(topics::Column::Slug, Expr::value(slug))
            .filter(topics::Column::Id.eq(id))
            .exec(&txn)
            .await
            .unwrap(),
    };
    assert_eq!(updated.rows_affected, 1);
    let pending = tokio::spawn(write);
    // Let the write reach the database and queue behind the row: poll PostgreSQL for a session
    // waiting on a lock. (SQLite writers are serial: the write runs after this commit whenever
    // it starts, and its check finds the slug. Clients must read the same answer either way.)
    let deadline = Instant::now() + Duration::from_secs(10);
    if let Some(name) = app.postgres_database() {
        loop {
            let waiting = db
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    format!(
                        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{name}' \
                         AND wait_event_type = 'Lock'"
                    ),
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get::<i64>("", "n")
                .unwrap();
            if waiting > 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the racing write never reached the row"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    txn.commit().await.unwrap();
    pending.await.unwrap()
}

on_both_databases!(
    racing_writes_for_one_slug_get_stable_messages,
    |db: Db| async move {
        let app = std::sync::Arc::new(spawn_seeded_app(db, 0).await);
        let (a, b) = (
            app.gql_ok_as(&editor(), CREATE, json!({ "i": article("First story") }))
                .await["createArticle"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
            app.gql_ok_as(&editor(), CREATE, json!({ "i": article("Second story") }))
                .await["createArticle"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        // B renamed to a slug A is taking in a transaction not yet committed: B's check finds
        // it free, its write meets the unique rule.
        let racer = std::sync::Arc::clone(&app);
        let b_id = b.clone();
        let body = race_for_slug(&app, "articles", &a, "contested", async move {
            racer
                .gql_as(
                    &editor(),
                    "mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 1, input: { slug: \"contested\" }) { slug } }",
                    json!({ "id": b_id }),
                )
                .await
                .1
        })
        .await;
        let (code, field, message) = refusal(&body);
        assert_eq!(
            (code.as_str(), field.as_str()),
            ("BAD_USER_INPUT", "slug"),
            "{body}"
        );
        assert_eq!(message, "slug: is taken by another article");
        assert_no_database_words(&body.to_string());
        // The same race on a topic's slug.
        let topics = app
            .gql_ok_as(
                &editor(),
                r#"mutation { a: createTopic(input: { slug: "race-a", name: "A" }) { id }
                              b: createTopic(input: { slug: "race-b", name: "B" }) { id } }"#,
                json!({}),
            )
            .await;
        let (ta, tb) = (
            topics["a"]["id"].as_str().unwrap().to_owned(),
            topics["b"]["id"].as_str().unwrap().to_owned(),
        );
        let racer = std::sync::Arc::clone(&app);
        let body = race_for_slug(&app, "topics", &ta, "race-c", async move {
            racer
                .gql_as(
                    &editor(),
                    "mutation($id: ID!) { updateTopic(id: $id, input: { slug: \"race-c\" }) { slug } }",
                    json!({ "id": tb }),
                )
                .await
                .1
        })
        .await;
        let (code, field, message) = refusal(&body);
        assert_eq!(
            (code.as_str(), field.as_str()),
            ("BAD_USER_INPUT", "slug"),
            "{body}"
        );
        assert_eq!(message, "slug: is taken by another topic");
        assert_no_database_words(&body.to_string());
        // A taken slug found by the check reads the same.
        let (_, body) = app
            .gql_as(
                &editor(),
                r#"mutation { createAuthor(input: { slug: "kim-min-ji", name: "Kim" }) { id } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            refusal(&body).2,
            "slug: is taken by another author",
            "{body}"
        );
        assert_no_database_words(&body.to_string());
    }
);
