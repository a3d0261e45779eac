//! The editorial write path over GraphQL: an editor's day, conflicting saves, revisions,
//! corrections, slug redirects, roles and bad input, on both databases.

use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use gazette_tests::{TestApp, on_both_databases, spawn_seeded_app, token};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

const CREATE: &str = r#"
mutation Create($input: CreateArticleInput!) {
  createArticle(input: $input) { id slug status version publishedAt }
}"#;

const UPDATE: &str = r#"
mutation Update($id: ID!, $input: UpdateArticleInput!, $v: Int!, $substantive: Boolean) {
  updateArticle(id: $id, input: $input, expectedVersion: $v, substantive: $substantive) {
    id slug headline version updatedAt substantiveUpdatedAt
  }
}"#;

const READ_BY_ID: &str =
    r#"query($id: ID!) { article(id: $id) { id slug headline status version } }"#;
const READ_BY_SLUG: &str =
    r#"query($slug: String!) { article(slug: $slug) { id slug headline previousSlugs } }"#;

fn editor() -> String {
    token("editor", "alice")
}

fn draft_input(slug: &str) -> Value {
    json!({
        "headline": "Seoul weighs response to summit",
        "slug": slug,
        "dek": "Officials met overnight.",
        "body": [
            { "type": "paragraph", "text": "Officials met overnight in Seoul." },
            { "type": "quote", "text": "We are watching closely.", "attribution": "A spokesperson" }
        ],
        "primaryTopic": "korean-peninsula",
        "topics": ["diplomacy"],
        "authors": ["kim-min-ji"]
    })
}

/// Runs a mutation as `token`, expecting success; returns the `data` field named `field`.
async fn mutate(app: &TestApp, token: &str, query: &str, vars: Value, field: &str) -> Value {
    let (status, body) = app.gql_as(token, query, vars).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"][field].clone()
}

/// The first error's code (and field) of a response.
fn error_of(body: &Value) -> (String, Option<String>) {
    let ext = &body["errors"][0]["extensions"];
    (
        ext["code"].as_str().unwrap_or_default().to_owned(),
        ext["field"].as_str().map(str::to_owned),
    )
}

async fn create_draft(app: &TestApp, slug: &str) -> (String, i64) {
    let created = mutate(
        app,
        &editor(),
        CREATE,
        json!({ "input": draft_input(slug) }),
        "createArticle",
    )
    .await;
    (
        created["id"].as_str().unwrap().to_owned(),
        created["version"].as_i64().unwrap(),
    )
}

async fn reader_sees(app: &TestApp, id: &str) -> bool {
    let data = app.gql_ok(READ_BY_ID, json!({ "id": id })).await;
    !data["article"].is_null()
}

on_both_databases!(an_editors_day, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let alice = editor();

    // Draft: invisible to readers, readable by id for the editor.
    let created = mutate(
        &app,
        &alice,
        CREATE,
        json!({ "input": draft_input("seoul-weighs-response") }),
        "createArticle",
    )
    .await;
    assert_eq!(created["status"], "DRAFT");
    assert_eq!(created["version"], 1);
    assert!(created["publishedAt"].is_null());
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(!reader_sees(&app, &id).await);
    let as_editor = app.gql_ok_as(&alice, READ_BY_ID, json!({ "id": id })).await;
    assert_eq!(as_editor["article"]["status"], "DRAFT");

    // Revise.
    let revised = mutate(
        &app,
        &alice,
        UPDATE,
        json!({ "id": id, "v": 1, "input": { "headline": "Seoul weighs its response to the summit" } }),
        "updateArticle",
    )
    .await;
    assert_eq!(revised["version"], 2);
    assert!(
        revised["substantiveUpdatedAt"].is_null(),
        "draft edits are not news"
    );

    // Schedule two seconds ahead: hidden until that second, then visible without a restart.
    let at = (Utc::now() + chrono::Duration::seconds(2))
        .with_nanosecond_zero()
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let at_time = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
    let scheduled = mutate(
        &app,
        &alice,
        r#"mutation($id: ID!, $at: String!) { scheduleArticle(id: $id, at: $at) { status publishedAt version } }"#,
        json!({ "id": id, "at": at }),
        "scheduleArticle",
    )
    .await;
    assert_eq!(scheduled["status"], "SCHEDULED");
    assert_eq!(scheduled["version"], 3);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let visible = reader_sees(&app, &id).await;
        let now = Utc::now();
        if visible {
            assert!(now >= at_time, "visible before its time: {now} < {at_time}");
            break;
        }
        assert!(
            now < at_time + chrono::Duration::seconds(1),
            "still hidden a second after its time"
        );
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let live = app.gql_ok(READ_BY_ID, json!({ "id": id })).await;
    assert_eq!(live["article"]["status"], "PUBLISHED");
    let listed = app
        .gql_ok(
            r#"{ articles(first: 3) { edges { node { id } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(listed["articles"]["edges"][0]["node"]["id"], json!(id));

    // Correct it after publication: public, and "Updated" is set.
    let correction = mutate(
        &app,
        &alice,
        r#"mutation($id: ID!) { addCorrection(articleId: $id, text: "An earlier version misnamed the ministry.") { id text createdAt } }"#,
        json!({ "id": id }),
        "addCorrection",
    )
    .await;
    assert_eq!(
        correction["text"],
        "An earlier version misnamed the ministry."
    );
    let public = app
        .gql_ok(
            r#"query($id: ID!) { article(id: $id) { substantiveUpdatedAt updatedAt corrections { text createdAt } } }"#,
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        public["article"]["corrections"][0]["text"],
        correction["text"]
    );
    assert!(!public["article"]["substantiveUpdatedAt"].is_null());

    // A typo fix is not substantive; a rewrite is.
    let v = app.gql_ok_as(&alice, READ_BY_ID, json!({ "id": id })).await["article"]["version"]
        .as_i64()
        .unwrap();
    let typo = mutate(
        &app,
        &alice,
        UPDATE,
        json!({ "id": id, "v": v, "input": { "dek": "Officials met overnight in Seoul." } }),
        "updateArticle",
    )
    .await;
    assert_eq!(
        typo["substantiveUpdatedAt"],
        public["article"]["substantiveUpdatedAt"]
    );
    let rewrite = mutate(
        &app,
        &alice,
        UPDATE,
        json!({ "id": id, "v": v + 1, "substantive": true,
                "input": { "body": [{ "type": "paragraph", "text": "New facts emerged." }] } }),
        "updateArticle",
    )
    .await;
    assert_eq!(rewrite["substantiveUpdatedAt"], rewrite["updatedAt"]);

    // Revisions: who, when, what changed.
    let revisions = app
        .gql_ok_as(
            &alice,
            r#"query($id: ID!) { article(id: $id) { revisions { version editor action createdAt changes { field before after } } } }"#,
            json!({ "id": id }),
        )
        .await;
    let revisions = revisions["article"]["revisions"]
        .as_array()
        .unwrap()
        .clone();
    let actions: Vec<&str> = revisions
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["UPDATE", "UPDATE", "SCHEDULE", "UPDATE", "CREATE"]
    );
    assert!(revisions.iter().all(|r| r["editor"] == "alice"));
    let headline_change = &revisions[3]["changes"][0];
    assert_eq!(headline_change["field"], "headline");
    assert_eq!(headline_change["before"], "Seoul weighs response to summit");

    // Retract it.
    let pulled = mutate(
        &app,
        &alice,
        r#"mutation($id: ID!) { unpublishArticle(id: $id) { status } }"#,
        json!({ "id": id }),
        "unpublishArticle",
    )
    .await;
    assert_eq!(pulled["status"], "DRAFT");
    assert!(!reader_sees(&app, &id).await);
});

/// Truncates to whole seconds (schedules are to the second).
trait WholeSeconds {
    fn with_nanosecond_zero(self) -> Self;
}

impl WholeSeconds for chrono::DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

on_both_databases!(
    concurrent_saves_never_overwrite_each_other,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let (id, version) = create_draft(&app, "contested-story").await;
        let editors = 8;
        let mut saves = Vec::new();
        for n in 0..editors {
            let client = app.client.clone();
            let url = app.url("/graphql");
            let token = token("editor", &format!("editor-{n}"));
            let body = json!({
                "query": UPDATE,
                "variables": { "id": id, "v": version, "input": { "headline": format!("Headline by editor {n}") } }
            });
            saves.push(tokio::spawn(async move {
                let response = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                response.json::<Value>().await.unwrap()
            }));
        }
        let mut winners = Vec::new();
        for save in saves {
            let body = save.await.unwrap();
            match body.get("errors") {
                None => winners.push(body["data"]["updateArticle"].clone()),
                Some(_) => {
                    assert_eq!(error_of(&body).0, "VERSION_CONFLICT", "{body}");
                    assert_eq!(
                        body["errors"][0]["extensions"]["currentVersion"],
                        version + 1
                    );
                }
            }
        }
        assert_eq!(winners.len(), 1, "exactly one save wins: {winners:?}");
        let stored = app
            .gql_ok_as(&editor(), READ_BY_ID, json!({ "id": id }))
            .await;
        assert_eq!(stored["article"]["headline"], winners[0]["headline"]);
        assert_eq!(stored["article"]["version"], version + 1);
        let revisions = app
            .gql_ok_as(
                &editor(),
                r#"query($id: ID!) { article(id: $id) { revisions { version } } }"#,
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            revisions["article"]["revisions"].as_array().unwrap().len(),
            2
        );
    }
);

on_both_databases!(a_stale_save_changes_nothing, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let (id, _) = create_draft(&app, "stale-story").await;
    mutate(
        &app,
        &editor(),
        UPDATE,
        json!({ "id": id, "v": 1, "input": { "headline": "First" } }),
        "updateArticle",
    )
    .await;
    let (status, body) = app
        .gql_as(
            &editor(),
            UPDATE,
            json!({ "id": id, "v": 1, "input": { "headline": "Second" } }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(error_of(&body).0, "VERSION_CONFLICT");
    assert_eq!(body["errors"][0]["extensions"]["currentVersion"], 2);
    let stored = app
        .gql_ok_as(&editor(), READ_BY_ID, json!({ "id": id }))
        .await;
    assert_eq!(stored["article"]["headline"], "First");
    assert_eq!(stored["article"]["version"], 2);
});

on_both_databases!(
    restoring_a_revision_brings_its_content_back,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let (id, _) = create_draft(&app, "restorable").await;
        mutate(
            &app,
            &editor(),
            UPDATE,
            json!({ "id": id, "v": 1, "input": { "headline": "A worse headline", "topics": [] } }),
            "updateArticle",
        )
        .await;
        let restored = mutate(
        &app,
        &editor(),
        r#"mutation($id: ID!) { restoreRevision(articleId: $id, revision: 1, expectedVersion: 2) { headline version topics { slug } } }"#,
        json!({ "id": id }),
        "restoreRevision",
    )
    .await;
        assert_eq!(restored["headline"], "Seoul weighs response to summit");
        assert_eq!(restored["version"], 3);
        // Topics are filing, not text: they stay as they are (tests/restore.rs).
        assert_eq!(restored["topics"], json!([{ "slug": "korean-peninsula" }]));
        let (_, body) = app
        .gql_as(
            &editor(),
            r#"mutation($id: ID!) { restoreRevision(articleId: $id, revision: 42) { version } }"#,
            json!({ "id": id }),
        )
        .await;
        assert_eq!(
            error_of(&body),
            ("BAD_USER_INPUT".to_owned(), Some("revision".to_owned()))
        );
    }
);

on_both_databases!(
    a_published_articles_old_slug_keeps_resolving,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let (id, _) = create_draft(&app, "first-slug").await;
        // A draft's slug is nobody's link yet: renaming it leaves nothing behind.
        mutate(
            &app,
            &editor(),
            UPDATE,
            json!({ "id": id, "v": 1, "input": { "slug": "second-slug" } }),
            "updateArticle",
        )
        .await;
        mutate(
            &app,
            &editor(),
            r#"mutation($id: ID!) { publishArticle(id: $id) { status } }"#,
            json!({ "id": id }),
            "publishArticle",
        )
        .await;
        mutate(
            &app,
            &editor(),
            UPDATE,
            json!({ "id": id, "v": 3, "input": { "slug": "final-slug" } }),
            "updateArticle",
        )
        .await;
        let old = app
            .gql_ok(READ_BY_SLUG, json!({ "slug": "second-slug" }))
            .await;
        assert_eq!(old["article"]["id"], json!(id));
        assert_eq!(
            old["article"]["slug"], "final-slug",
            "the frontend sees it moved"
        );
        assert_eq!(old["article"]["previousSlugs"], json!(["second-slug"]));
        let never_public = app
            .gql_ok(READ_BY_SLUG, json!({ "slug": "first-slug" }))
            .await;
        assert!(never_public["article"].is_null());
        // The old slug is free for a new story, which then wins it.
        let (other, _) = create_draft(&app, "second-slug").await;
        let now_other = app
            .gql_ok_as(&editor(), READ_BY_SLUG, json!({ "slug": "second-slug" }))
            .await;
        assert_eq!(now_other["article"]["id"], json!(other));
    }
);

on_both_databases!(roles_decide_who_may_write, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let (id, _) = create_draft(&app, "role-story").await;
    let publish = r#"mutation($id: ID!) { publishArticle(id: $id) { status } }"#;
    let (status, body) = app.gql(publish, json!({ "id": id })).await;
    assert_eq!(status, 200);
    assert_eq!(error_of(&body).0, "UNAUTHENTICATED");
    let partner = token("partner", "wire-partner");
    let (_, body) = app.gql_as(&partner, publish, json!({ "id": id })).await;
    assert_eq!(error_of(&body).0, "FORBIDDEN");
    let (_, body) = app
        .gql_as(
            &partner,
            CREATE,
            json!({ "input": draft_input("partner-story") }),
        )
        .await;
    assert_eq!(error_of(&body).0, "FORBIDDEN");
    let delete = r#"mutation($id: ID!) { deleteArticle(id: $id) }"#;
    let (_, body) = app.gql_as(&editor(), delete, json!({ "id": id })).await;
    assert_eq!(error_of(&body).0, "FORBIDDEN");
    assert!(
        app.gql_ok_as(&editor(), READ_BY_ID, json!({ "id": id }))
            .await["article"]
            .is_object(),
        "refused writes change nothing"
    );
    let deleted = mutate(
        &app,
        &token("admin", "root"),
        delete,
        json!({ "id": id }),
        "deleteArticle",
    )
    .await;
    assert_eq!(deleted, json!(id));
    assert!(
        app.gql_ok_as(&editor(), READ_BY_ID, json!({ "id": id }))
            .await["article"]
            .is_null()
    );
    // Revisions are staff-only, even on a public article.
    let (_, body) = app
        .gql(
            r#"query($slug: String!) { article(slug: $slug) { revisions { version } } }"#,
            json!({ "slug": "putins-north-korea-visit-could-reshape-regional-security" }),
        )
        .await;
    assert_eq!(error_of(&body).0, "UNAUTHENTICATED");
});

on_both_databases!(topics_and_authors_are_edited_by_editors, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let topic = mutate(
        &app,
        &editor(),
        r#"mutation { createTopic(input: { slug: "sanctions", name: "Sanctions", parent: "world" }) { id slug parent { slug } } }"#,
        json!({}),
        "createTopic",
    )
    .await;
    assert_eq!(topic["parent"]["slug"], "world");
    let renamed = mutate(
        &app,
        &editor(),
        r#"mutation($id: ID!) { updateTopic(id: $id, input: { name: "Sanctions and export controls", parent: null }) { name parent { slug } } }"#,
        json!({ "id": topic["id"] }),
        "updateTopic",
    )
    .await;
    assert_eq!(renamed["name"], "Sanctions and export controls");
    assert!(renamed["parent"].is_null());
    let world = app
        .gql_ok(r#"{ topic(slug: "world") { id } }"#, json!({}))
        .await;
    let (_, body) = app
        .gql_as(
            &editor(),
            r#"mutation($id: ID!) { updateTopic(id: $id, input: { parent: "korean-peninsula" }) { slug } }"#,
            json!({ "id": world["topic"]["id"] }),
        )
        .await;
    assert_eq!(
        error_of(&body),
        ("BAD_USER_INPUT".to_owned(), Some("parent".to_owned())),
        "a section cannot sit under its own sub-topic"
    );
    let author = mutate(
        &app,
        &editor(),
        r#"mutation { createAuthor(input: { slug: "new-writer", name: "New Writer" }) { id } }"#,
        json!({}),
        "createAuthor",
    )
    .await;
    let updated = mutate(
        &app,
        &editor(),
        r#"mutation($id: ID!) { updateAuthor(id: $id, input: { bio: "Covers the peninsula." }) { slug bio } }"#,
        json!({ "id": author["id"] }),
        "updateAuthor",
    )
    .await;
    assert_eq!(updated["bio"], "Covers the peninsula.");
    let (_, body) = app
        .gql_as(
            &editor(),
            r#"mutation { createAuthor(input: { slug: "new-writer", name: "Twin" }) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        error_of(&body),
        ("BAD_USER_INPUT".to_owned(), Some("slug".to_owned()))
    );
});

on_both_databases!(
    bad_editorial_input_names_the_field_and_writes_nothing,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let count = || async {
            app.store
                .connection()
                .query_one_raw(sea_orm::Statement::from_string(
                    app.store.connection().get_database_backend(),
                    "SELECT COUNT(*) AS n FROM articles",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get_by_index::<i64>(0)
                .unwrap()
        };
        let before = count().await;
        let input = draft_input("taken-slug");
        let (taken_id, _) = create_draft(&app, "taken-slug").await;
        let before = before + 1;
        let cases: Vec<(Value, &str)> = vec![
            (
                {
                    let mut i = input.clone();
                    i.as_object_mut().unwrap().remove("headline");
                    i.as_object_mut()
                        .unwrap()
                        .insert("slug".into(), json!("x1"));
                    i
                },
                "headline",
            ),
            (
                {
                    let mut i = input.clone();
                    i["headline"] = json!("   ");
                    i
                },
                "headline",
            ),
            (
                {
                    let mut i = input.clone();
                    i["headline"] = json!("h".repeat(201));
                    i
                },
                "headline",
            ),
            (input.clone(), "slug"),
            (
                {
                    let mut i = input.clone();
                    i["slug"] = json!("Not A Slug");
                    i
                },
                "slug",
            ),
            (
                {
                    let mut i = input.clone();
                    i["slug"] = json!("fresh-1");
                    i["topics"] = json!(["no-such-topic"]);
                    i
                },
                "topics",
            ),
            (
                {
                    let mut i = input.clone();
                    i["slug"] = json!("fresh-2");
                    i["primaryTopic"] = json!("no-such-topic");
                    i
                },
                "primaryTopic",
            ),
            (
                {
                    let mut i = input.clone();
                    i["slug"] = json!("fresh-3");
                    i["authors"] = json!(["nobody"]);
                    i
                },
                "authors",
            ),
            (
                {
                    let mut i = input.clone();
                    i["slug"] = json!("fresh-4");
                    i["body"] =
                        json!([{ "type": "paragraph", "text": "ok" }, { "type": "hologram" }]);
                    i
                },
                "body[1].type",
            ),
            (
                {
                    let mut i = input.clone();
                    i["slug"] = json!("fresh-5");
                    i["body"] = json!([{ "type": "paragraph", "text": "x".repeat(20_001) }]);
                    i
                },
                "body[0].text",
            ),
            (
                {
                    let mut i = input.clone();
                    i["slug"] = json!("fresh-6");
                    i["embargoUntil"] = json!("next tuesday");
                    i
                },
                "embargoUntil",
            ),
        ];
        for (case, field) in cases {
            let (status, body) = app
                .gql_as(&editor(), CREATE, json!({ "input": case }))
                .await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(
                error_of(&body),
                ("BAD_USER_INPUT".to_owned(), Some(field.to_owned())),
                "{body}"
            );
        }
        let (_, body) = app
            .gql_as(
                &editor(),
                r#"mutation($id: ID!) { scheduleArticle(id: $id, at: "tomorrow at noon") { id } }"#,
                json!({ "id": taken_id }),
            )
            .await;
        assert_eq!(
            error_of(&body),
            ("BAD_USER_INPUT".to_owned(), Some("at".to_owned()))
        );
        let (_, body) = app
        .gql_as(
            &editor(),
            r#"mutation($id: ID!) { scheduleArticle(id: $id, at: "2001-01-01T00:00:00Z") { id } }"#,
            json!({ "id": taken_id }),
        )
        .await;
        assert_eq!(
            error_of(&body),
            ("BAD_USER_INPUT".to_owned(), Some("at".to_owned())),
            "a schedule in the past is refused"
        );
        let (_, body) = app
            .gql_as(
                &editor(),
                UPDATE,
                json!({ "id": taken_id, "v": 1, "input": { "headline": "" } }),
            )
            .await;
        assert_eq!(
            error_of(&body),
            ("BAD_USER_INPUT".to_owned(), Some("headline".to_owned()))
        );
        let (_, body) = app
            .gql_as(
                &editor(),
                r#"mutation($id: ID!) { archiveArticle(id: $id) { status } }"#,
                json!({ "id": taken_id }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let (_, body) = app
            .gql_as(
                &editor(),
                r#"mutation($id: ID!) { archiveArticle(id: $id) { status } }"#,
                json!({ "id": taken_id }),
            )
            .await;
        assert_eq!(error_of(&body).0, "INVALID_TRANSITION");
        let (_, body) = app
            .gql_as(
                &editor(),
                r#"mutation($id: ID!) { addCorrection(articleId: $id, text: "x") { id } }"#,
                json!({ "id": taken_id }),
            )
            .await;
        assert_eq!(
            error_of(&body),
            ("BAD_USER_INPUT".to_owned(), Some("articleId".to_owned())),
            "an archived article takes no corrections"
        );
        assert_eq!(count().await, before, "no failed write left a row");
        let stored = app
            .gql_ok_as(&editor(), READ_BY_ID, json!({ "id": taken_id }))
            .await;
        assert_eq!(stored["article"]["version"], 2, "only the archive saved");
    }
);

on_both_databases!(a_schedule_goes_live_in_every_process, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    // Two processes share one SQLite file only with the response cache off (nothing tells the
    // replica of the other's writes there); on PostgreSQL the replica keeps its cache and hears
    // of the schedule through LISTEN.
    let replica = app
        .spawn_sibling_with(|args| {
            if db == gazette_tests::Db::Sqlite {
                args.response_cache.response_cache_bytes = 0;
            }
        })
        .await;
    let (id, _) = create_draft(&app, "replicated-story").await;
    let at = (Utc::now() + chrono::Duration::seconds(2))
        .with_nanosecond_zero()
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let at_time = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
    mutate(
        &app,
        &editor(),
        r#"mutation($id: ID!, $at: String!) { scheduleArticle(id: $id, at: $at) { id } }"#,
        json!({ "id": id, "at": at }),
        "scheduleArticle",
    )
    .await;
    // The replica never saw the mutation; it decides visibility at query time.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reader_sees(&replica, &id).await {
        assert!(Instant::now() < deadline, "never went live on the replica");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(Utc::now() >= at_time, "went live early");
    assert!(
        Utc::now() < at_time + chrono::Duration::seconds(2),
        "went live late"
    );
    replica.stop().await;
});

on_both_databases!(
    a_preview_token_opens_one_draft_until_it_changes,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let (draft, _) = create_draft(&app, "previewed-draft").await;
        let (other, _) = create_draft(&app, "other-draft").await;
        let mint = r#"mutation($id: ID!, $ttl: Int) { createPreviewToken(articleId: $id, ttlSeconds: $ttl) { token expiresAt version } }"#;
        let preview = r#"query($t: String!) { preview(token: $t) { id headline status } }"#;
        let (_, body) = app
            .gql_as(&token("partner", "wire"), mint, json!({ "id": draft }))
            .await;
        assert_eq!(error_of(&body).0, "FORBIDDEN");
        let minted = mutate(
            &app,
            &editor(),
            mint,
            json!({ "id": draft }),
            "createPreviewToken",
        )
        .await;
        let preview_token = minted["token"].as_str().unwrap().to_owned();
        assert_eq!(minted["version"], 1);

        // Anyone holding it sees that draft, and only through `preview`.
        let seen = app.gql_ok(preview, json!({ "t": preview_token })).await;
        assert_eq!(seen["preview"]["id"], json!(draft));
        assert_eq!(seen["preview"]["status"], "DRAFT");
        let (status, _) = app
            .gql_as(&preview_token, READ_BY_ID, json!({ "id": other }))
            .await;
        assert_eq!(status, 401, "a preview token is not a bearer token");
        assert!(!reader_sees(&app, &other).await);

        // Tampered: refused.
        let mut tampered = preview_token.clone();
        tampered.pop();
        let (_, body) = app.gql(preview, json!({ "t": tampered })).await;
        assert_eq!(error_of(&body).0, "INVALID_PREVIEW_TOKEN");

        // A new save retires it.
        mutate(
            &app,
            &editor(),
            UPDATE,
            json!({ "id": draft, "v": 1, "input": { "dek": "Changed." } }),
            "updateArticle",
        )
        .await;
        let (_, body) = app.gql(preview, json!({ "t": preview_token })).await;
        assert_eq!(error_of(&body).0, "INVALID_PREVIEW_TOKEN");

        // It expires.
        let short = mutate(
            &app,
            &editor(),
            mint,
            json!({ "id": draft, "ttl": 1 }),
            "createPreviewToken",
        )
        .await;
        let short = short["token"].as_str().unwrap().to_owned();
        assert!(app.gql(preview, json!({ "t": short })).await.1["errors"].is_null());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, body) = app.gql(preview, json!({ "t": short })).await;
            if body.get("errors").is_some() {
                assert_eq!(error_of(&body).0, "INVALID_PREVIEW_TOKEN");
                break;
            }
            assert!(Instant::now() < deadline, "preview token never expired");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
);
