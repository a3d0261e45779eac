//! Delta sync: replaying `changes` into an empty mirror, a page of two at a time, gives exactly
//! what the caller may see, through an editor's whole day, scheduled stories and embargoes going
//! live by themselves, concurrent writers, and a migration over existing articles; bad input is
//! refused over GraphQL and REST. On both databases.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use gazette_tests::{Db, TestApp, on_both_databases, spawn_seeded_app, token, token_with_scope};
use serde_json::{Value, json};

/// The article fields a mirror keeps, and compares with the source.
const FIELDS: &str = "id slug headline dek bodyText source language status publishedAt updatedAt \
    substantiveUpdatedAt canonicalUrl wordCount topics { slug name } authors { slug name } \
    corrections { text } previousSlugs";

fn changes_query() -> String {
    format!(
        "query($since: String, $first: Int) {{ changes(since: $since, first: $first) {{ \
         entries {{ cursor id action reason article {{ {FIELDS} }} }} nextCursor hasMore }} }}"
    )
}

fn source_query() -> String {
    format!(
        "query($after: String) {{ articles(first: 100, after: $after) {{ \
         edges {{ node {{ {FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
}

fn editor() -> String {
    token("editor", "alice")
}

fn admin() -> String {
    token("admin", "root")
}

/// Who syncs: a reader without a token, or a partner with one.
#[derive(Clone)]
struct Caller {
    token: Option<String>,
}

impl Caller {
    fn anonymous() -> Self {
        Self { token: None }
    }

    fn partner() -> Self {
        Self {
            token: Some(token_with_scope("partner", "p1", &["syndication"])),
        }
    }

    fn is_partner(&self) -> bool {
        self.token.is_some()
    }

    async fn gql(&self, app: &TestApp, query: &str, variables: Value) -> (u16, Value) {
        match &self.token {
            Some(t) => app.gql_as(t, query, variables).await,
            None => app.gql(query, variables).await,
        }
    }

    async fn gql_ok(&self, app: &TestApp, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql(app, query, variables).await;
        assert_eq!(status, 200, "{body}");
        // A partner is refused the body of articles it may not syndicate (null, FORBIDDEN), the
        // same way in the source and in the changes: nothing else may fail.
        let refused_bodies_only = body["errors"].as_array().is_some_and(|errors| {
            self.is_partner()
                && errors.iter().all(|e| {
                    e["extensions"]["code"] == "FORBIDDEN"
                        && e["path"].as_array().and_then(|p| p.last()) == Some(&json!("bodyText"))
                })
        });
        assert!(
            body.get("errors").is_none() || refused_bodies_only,
            "unexpected errors: {body}"
        );
        body["data"].clone()
    }

    async fn rest(&self, app: &TestApp, path_and_query: &str) -> reqwest::Response {
        let mut request = app.client.get(app.url(path_and_query));
        if let Some(t) = &self.token {
            request = request.bearer_auth(t);
        }
        request.send().await.expect("request sent")
    }
}

/// A copy kept up to date only through `changes`: over GraphQL (whole articles) and over REST
/// (id → JSON article).
#[derive(Default)]
struct Mirror {
    cursor: Option<String>,
    articles: HashMap<String, Value>,
    rest_cursor: Option<String>,
    rest: HashMap<String, Value>,
}

impl Mirror {
    /// Reads every change after the cursor in pages of `first`; returns the entries applied.
    async fn sync(&mut self, app: &TestApp, caller: &Caller, first: i64) -> Vec<Value> {
        let query = changes_query();
        let mut seen = Vec::new();
        for _ in 0..10_000 {
            let data = caller
                .gql_ok(app, &query, json!({ "since": self.cursor, "first": first }))
                .await;
            let page = &data["changes"];
            let entries = page["entries"].as_array().unwrap();
            assert!(entries.len() <= usize::try_from(first).unwrap(), "{page}");
            let mut in_page = std::collections::HashSet::new();
            for entry in entries {
                let id = entry["id"].as_str().unwrap().to_owned();
                assert!(
                    in_page.insert(id.clone()),
                    "an article twice in a page: {page}"
                );
                match entry["action"].as_str().unwrap() {
                    "UPSERT" => {
                        assert_eq!(entry["article"]["id"], json!(id));
                        assert!(entry["reason"].is_null());
                        self.articles.insert(id, entry["article"].clone());
                    }
                    "REMOVE" => {
                        assert!(entry["article"].is_null());
                        assert!(entry["reason"].is_string(), "a tombstone says why: {entry}");
                        self.articles.remove(&id);
                    }
                    other => panic!("unknown action {other}"),
                }
                seen.push(entry.clone());
            }
            let next = page["nextCursor"]
                .as_str()
                .expect("nextCursor is always there");
            self.cursor = Some(next.to_owned());
            if !page["hasMore"].as_bool().unwrap() {
                return seen;
            }
        }
        panic!("changes never ended");
    }

    /// The same over `GET /v1/changes`.
    async fn sync_rest(&mut self, app: &TestApp, caller: &Caller, first: i64) {
        for _ in 0..10_000 {
            let mut path = format!("/v1/changes?first={first}");
            if let Some(c) = &self.rest_cursor {
                path.push_str(&format!("&since={c}"));
            }
            let response = caller.rest(app, &path).await;
            assert_eq!(response.status(), 200);
            let page: Value = response.json().await.unwrap();
            for entry in page["entries"].as_array().unwrap() {
                let id = entry["id"].as_str().unwrap().to_owned();
                match entry["action"].as_str().unwrap() {
                    "upsert" => {
                        self.rest.insert(id, entry["article"].clone());
                    }
                    "remove" => {
                        assert!(entry["reason"].is_string(), "{entry}");
                        self.rest.remove(&id);
                    }
                    other => panic!("unknown action {other}"),
                }
            }
            self.rest_cursor = Some(page["nextCursor"].as_str().unwrap().to_owned());
            if !page["hasMore"].as_bool().unwrap() {
                return;
            }
        }
        panic!("REST changes never ended");
    }
}

/// Every article the caller may list, with the mirror's fields.
async fn fetch_source(app: &TestApp, caller: &Caller) -> HashMap<String, Value> {
    let query = source_query();
    let mut out = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let data = caller.gql_ok(app, &query, json!({ "after": after })).await;
        let list = &data["articles"];
        for edge in list["edges"].as_array().unwrap() {
            let node = edge["node"].clone();
            out.insert(node["id"].as_str().unwrap().to_owned(), node);
        }
        if !list["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return out;
        }
        after = list["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

/// What differs between a mirror and the source, for failure messages.
fn differences(mirror: &HashMap<String, Value>, source: &HashMap<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (id, want) in source {
        match mirror.get(id) {
            None => out.push(format!("missing {}", want["slug"])),
            Some(have) if have != want => out.push(format!("stale {id}: {have} ≠ {want}")),
            Some(_) => {}
        }
    }
    for (id, have) in mirror {
        if !source.contains_key(id) {
            out.push(format!("should be gone: {} {}", id, have["slug"]));
        }
    }
    out
}

/// The REST mirror holds the same articles as the source, with the same slugs, headlines, deks
/// and topics.
fn rest_differences(rest: &HashMap<String, Value>, source: &HashMap<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    if rest.len() != source.len() {
        out.push(format!(
            "{} articles, source has {}",
            rest.len(),
            source.len()
        ));
    }
    for (id, want) in source {
        let Some(have) = rest.get(id) else {
            out.push(format!("REST mirror misses {}", want["slug"]));
            continue;
        };
        let topics: Vec<Value> = want["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].clone())
            .collect();
        for (field, expected) in [
            ("slug", want["slug"].clone()),
            ("headline", want["headline"].clone()),
            ("dek", want["dek"].clone()),
            ("topics", Value::Array(topics)),
        ] {
            if have[field] != expected {
                out.push(format!("REST {id}.{field}: {} ≠ {expected}", have[field]));
            }
        }
    }
    out
}

/// Syncs both mirrors once and requires them to equal the source at once.
async fn sync_and_compare(
    app: &TestApp,
    caller: &Caller,
    mirror: &mut Mirror,
    step: &str,
) -> Vec<Value> {
    let seen = mirror.sync(app, caller, 2).await;
    mirror.sync_rest(app, caller, 2).await;
    let source = fetch_source(app, caller).await;
    let diff = differences(&mirror.articles, &source);
    assert!(diff.is_empty(), "after {step}: {diff:#?}");
    let diff = rest_differences(&mirror.rest, &source);
    assert!(diff.is_empty(), "after {step} (REST): {diff:#?}");
    seen
}

/// Syncs until the mirror equals the source and `done` holds of the mirror (a scheduled story
/// or an embargo coming due), polling with a deadline.
async fn converge(
    app: &TestApp,
    caller: &Caller,
    mirror: &mut Mirror,
    step: &str,
    done: impl Fn(&HashMap<String, Value>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        mirror.sync(app, caller, 2).await;
        let source = fetch_source(app, caller).await;
        let diff = differences(&mirror.articles, &source);
        if diff.is_empty() && done(&mirror.articles) {
            mirror.sync_rest(app, caller, 2).await;
            let diff = rest_differences(&mirror.rest, &fetch_source(app, caller).await);
            assert!(diff.is_empty(), "after {step} (REST): {diff:#?}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "after {step}, the mirror never caught up: {diff:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn mutate(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let (status, body) = app.gql_as(token, query, vars).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"].clone()
}

const CREATE: &str =
    "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id version } }";
const UPDATE: &str = "mutation($id: ID!, $v: Int!, $input: UpdateArticleInput!, $s: Boolean) { \
    updateArticle(id: $id, expectedVersion: $v, input: $input, substantive: $s) { version } }";

fn draft(slug: &str, extra: Value) -> Value {
    let mut input = json!({
        "headline": format!("Story {slug}"),
        "slug": slug,
        "dek": "What happened.",
        "body": [{ "type": "paragraph", "text": "Officials met overnight." }],
        "primaryTopic": "korean-peninsula",
        "topics": ["diplomacy"],
        "authors": ["kim-min-ji"],
        "syndicatable": true
    });
    if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        input.extend(extra.clone());
    }
    input
}

async fn create(app: &TestApp, slug: &str, extra: Value) -> String {
    let data = mutate(
        app,
        &editor(),
        CREATE,
        json!({ "input": draft(slug, extra) }),
    )
    .await;
    data["createArticle"]["id"].as_str().unwrap().to_owned()
}

async fn version(app: &TestApp, id: &str) -> i64 {
    let data = app
        .gql_ok_as(
            &editor(),
            "query($id: ID!) { article(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await;
    data["article"]["version"].as_i64().unwrap()
}

async fn update(app: &TestApp, id: &str, input: Value, substantive: bool) {
    let v = version(app, id).await;
    mutate(
        app,
        &editor(),
        UPDATE,
        json!({ "id": id, "v": v, "input": input, "s": substantive }),
    )
    .await;
}

async fn status_change(app: &TestApp, mutation: &str, id: &str) {
    mutate(
        app,
        &editor(),
        &format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ id }} }}"),
        json!({ "id": id }),
    )
    .await;
}

async fn id_of(app: &TestApp, slug: &str) -> String {
    let data = app
        .gql_ok(
            "query($slug: String!) { article(slug: $slug) { id } }",
            json!({ "slug": slug }),
        )
        .await;
    data["article"]["id"].as_str().unwrap().to_owned()
}

fn seconds_ahead(n: i64) -> (String, chrono::DateTime<Utc>) {
    let at = Utc::now() + chrono::Duration::seconds(n);
    let text = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let parsed = chrono::DateTime::parse_from_rfc3339(&text)
        .unwrap()
        .with_timezone(&Utc);
    (text, parsed)
}

fn mentions(entries: &[Value], id: &str) -> bool {
    entries.iter().any(|e| e["id"] == json!(id))
}

/// An editor's day, replayed into `caller`'s empty mirror after every step.
async fn replay(db: Db, caller: Caller) {
    let app = spawn_seeded_app(db, 6).await;
    let mut mirror = Mirror::default();
    sync_and_compare(&app, &caller, &mut mirror, "the initial sync").await;
    assert!(mirror.articles.len() >= 10, "the seeded articles arrive");

    // A draft and its edits never show, not even as tombstones.
    let draft_id = create(&app, "changes-draft", json!({})).await;
    let seen = sync_and_compare(&app, &caller, &mut mirror, "creating a draft").await;
    assert!(!mentions(&seen, &draft_id), "a new draft is not a change");
    update(
        &app,
        &draft_id,
        json!({ "headline": "Draft, revised" }),
        false,
    )
    .await;
    let seen = sync_and_compare(&app, &caller, &mut mirror, "editing a draft").await;
    assert!(!mentions(&seen, &draft_id), "a draft edit is not a change");

    // Published, then edited.
    status_change(&app, "publishArticle", &draft_id).await;
    let seen = sync_and_compare(&app, &caller, &mut mirror, "publishing").await;
    assert!(mentions(&seen, &draft_id));
    update(
        &app,
        &draft_id,
        json!({ "headline": "Published, revised", "dek": "New facts." }),
        true,
    )
    .await;
    sync_and_compare(&app, &caller, &mut mirror, "editing a published story").await;

    // Scheduled two seconds ahead: absent, then present with no write in between.
    let scheduled_id = create(&app, "changes-scheduled", json!({})).await;
    let (at, _) = seconds_ahead(2);
    mutate(
        &app,
        &editor(),
        "mutation($id: ID!, $at: String!) { scheduleArticle(id: $id, at: $at) { id } }",
        json!({ "id": scheduled_id, "at": at }),
    )
    .await;
    sync_and_compare(&app, &caller, &mut mirror, "scheduling").await;
    assert!(!mirror.articles.contains_key(&scheduled_id));
    converge(&app, &caller, &mut mirror, "the schedule coming due", |m| {
        m.contains_key(&scheduled_id)
    })
    .await;

    // Unpublished, archived, deleted.
    status_change(&app, "unpublishArticle", &draft_id).await;
    sync_and_compare(&app, &caller, &mut mirror, "unpublishing").await;
    assert!(!mirror.articles.contains_key(&draft_id));
    let archived = id_of(
        &app,
        "nasdaq-gains-4-4-as-tech-shares-lead-broad-market-surge",
    )
    .await;
    status_change(&app, "archiveArticle", &archived).await;
    sync_and_compare(&app, &caller, &mut mirror, "archiving").await;
    assert!(!mirror.articles.contains_key(&archived));
    let deleted = id_of(
        &app,
        "3-81-carat-diamond-found-in-arkansas-state-park-named-after-a-dog",
    )
    .await;
    mutate(
        &app,
        &admin(),
        "mutation($id: ID!) { deleteArticle(id: $id) }",
        json!({ "id": deleted }),
    )
    .await;
    let seen = sync_and_compare(&app, &caller, &mut mirror, "deleting").await;
    let tombstone = seen
        .iter()
        .rev()
        .find(|e| e["id"] == json!(deleted))
        .unwrap();
    assert_eq!(tombstone["action"], "REMOVE");
    assert_eq!(tombstone["reason"], "DELETED");

    // Embargoed for partners for three seconds: readers have it at once, partners at its time.
    let (until, until_at) = seconds_ahead(3);
    let embargoed = create(&app, "changes-embargoed", json!({ "embargoUntil": until })).await;
    status_change(&app, "publishArticle", &embargoed).await;
    let seen = mirror.sync(&app, &caller, 2).await;
    if caller.is_partner() && Utc::now() < until_at {
        assert!(
            !mirror.articles.contains_key(&embargoed),
            "a partner's mirror holds an embargoed story before its time"
        );
        let entry = seen
            .iter()
            .rev()
            .find(|e| e["id"] == json!(embargoed))
            .unwrap();
        assert_eq!(entry["reason"], "EMBARGOED", "{entry}");
    }
    converge(&app, &caller, &mut mirror, "the embargo lifting", |m| {
        Utc::now() >= until_at && m.contains_key(&embargoed)
    })
    .await;

    // A renamed slug, a correction, a republication, a renamed topic.
    let v = version(&app, &scheduled_id).await;
    mutate(
        &app,
        &editor(),
        UPDATE,
        json!({ "id": scheduled_id, "v": v, "input": { "slug": "changes-scheduled-renamed" } }),
    )
    .await;
    sync_and_compare(&app, &caller, &mut mirror, "renaming a slug").await;
    assert_eq!(
        mirror.articles[&scheduled_id]["previousSlugs"],
        json!(["changes-scheduled"])
    );
    mutate(
        &app,
        &editor(),
        "mutation($id: ID!) { addCorrection(articleId: $id, text: \"An earlier version misnamed the ministry.\") { id } }",
        json!({ "id": scheduled_id }),
    )
    .await;
    sync_and_compare(&app, &caller, &mut mirror, "correcting").await;
    assert_eq!(
        mirror.articles[&scheduled_id]["corrections"][0]["text"],
        "An earlier version misnamed the ministry."
    );
    status_change(&app, "publishArticle", &draft_id).await;
    sync_and_compare(&app, &caller, &mut mirror, "republishing").await;
    assert!(mirror.articles.contains_key(&draft_id));
    let topic = app
        .gql_ok(r#"{ topic(slug: "diplomacy") { id } }"#, json!({}))
        .await;
    mutate(
        &app,
        &editor(),
        "mutation($id: ID!) { updateTopic(id: $id, input: { name: \"Diplomacy and foreign affairs\" }) { id } }",
        json!({ "id": topic["topic"]["id"] }),
    )
    .await;
    sync_and_compare(&app, &caller, &mut mirror, "renaming a topic").await;

    // Nothing new: an empty page that keeps its place.
    let before = mirror.cursor.clone();
    let seen = mirror.sync(&app, &caller, 2).await;
    assert!(seen.is_empty());
    assert_eq!(mirror.cursor, before);
}

on_both_databases!(anonymous_mirror_replays_to_the_source, |db| async move {
    replay(db, Caller::anonymous()).await;
});

on_both_databases!(partner_mirror_replays_to_the_source, |db| async move {
    replay(db, Caller::partner()).await;
});

on_both_databases!(
    concurrent_writers_never_make_a_reader_skip_a_commit,
    |db| async move {
        let app = std::sync::Arc::new(spawn_seeded_app(db, 0).await);
        let reader = Caller::anonymous();
        let mut ids = Vec::new();
        for n in 0..4 {
            let id = create(&app, &format!("concurrent-{n}"), json!({})).await;
            status_change(&app, "publishArticle", &id).await;
            ids.push(id);
        }
        let mut mirror = Mirror::default();
        mirror.sync(&app, &reader, 3).await;

        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = ids
            .iter()
            .cloned()
            .enumerate()
            .map(|(w, id)| {
                let app = std::sync::Arc::clone(&app);
                tokio::spawn(async move {
                    for edit in 0..12 {
                        match edit % 4 {
                            // Off and on again, and a new story, between edits.
                            1 => status_change(&app, "unpublishArticle", &id).await,
                            2 => status_change(&app, "publishArticle", &id).await,
                            3 => {
                                let new =
                                    create(&app, &format!("concurrent-{w}-{edit}"), json!({}))
                                        .await;
                                status_change(&app, "publishArticle", &new).await;
                            }
                            _ => {
                                update(
                                    &app,
                                    &id,
                                    json!({ "headline": format!("Writer {w}, edit {edit}") }),
                                    false,
                                )
                                .await;
                            }
                        }
                    }
                })
            })
            .collect();
        let syncing = {
            let app = std::sync::Arc::clone(&app);
            let done = std::sync::Arc::clone(&done);
            let reader = reader.clone();
            tokio::spawn(async move {
                let mut syncs = 0;
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    mirror.sync(&app, &reader, 3).await;
                    syncs += 1;
                }
                (mirror, syncs)
            })
        };
        for w in writers {
            w.await.unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let (mut mirror, syncs) = syncing.await.unwrap();
        assert!(syncs > 0);
        mirror.sync(&app, &reader, 3).await;
        let source = fetch_source(&app, &reader).await;
        let diff = differences(&mirror.articles, &source);
        assert!(diff.is_empty(), "after concurrent writes: {diff:#?}");
        assert_eq!(mirror.articles.len(), 9 + 4 + 4 * 3);
    }
);

on_both_databases!(
    a_log_append_waits_for_an_earlier_uncommitted_one,
    |db| async move {
        use sea_orm::sea_query::Query;
        use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
        let app = std::sync::Arc::new(spawn_seeded_app(db, 0).await);
        let reader = Caller::anonymous();
        let mut mirror = Mirror::default();
        mirror.sync(&app, &reader, 50).await;
        let waiting = create(&app, "queued-behind-an-open-append", json!({})).await;

        // An append that has taken its position and not committed yet, as a slow writer's.
        let txn = app.store.connection().begin().await.unwrap();
        if db == Db::Postgres {
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({})",
                gazette_persistence::CHANGE_LOG_LOCK_KEY
            ))
            .await
            .unwrap();
        }
        // (A story readers have seen, since deleted: its tombstone is owed to readers.)
        let earlier = uuid::Uuid::now_v7();
        txn.execute(
            Query::insert()
                .into_table("article_changes")
                .columns(["article_id", "effective_at", "ever_public"])
                .values_panic([
                    earlier.into(),
                    (Utc::now() - chrono::Duration::seconds(1)).into(),
                    true.into(),
                ]),
        )
        .await
        .unwrap();

        // A later write queues behind it: a reader never sees the later position while the
        // earlier one may still commit.
        let publish = {
            let app = std::sync::Arc::clone(&app);
            let id = waiting.clone();
            tokio::spawn(async move { status_change(&app, "publishArticle", &id).await })
        };
        for _ in 0..10 {
            let seen = mirror.sync(&app, &reader, 50).await;
            assert!(
                !mentions(&seen, &waiting),
                "a later append was readable before an earlier one committed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        txn.commit().await.unwrap();
        publish.await.unwrap();
        let seen = mirror.sync(&app, &reader, 50).await;
        let ids: Vec<&Value> = seen.iter().map(|e| &e["id"]).collect();
        assert_eq!(ids, vec![&json!(earlier.to_string()), &json!(waiting)]);
        assert!(mirror.articles.contains_key(&waiting));
    }
);

on_both_databases!(
    the_migration_logs_existing_articles_and_schedules,
    |db| async move {
        let app = spawn_seeded_app(db, 4).await;
        let scheduled = create(&app, "scheduled-before-migration", json!({})).await;
        let (at, _) = seconds_ahead(2);
        mutate(
            &app,
            &editor(),
            "mutation($id: ID!, $at: String!) { scheduleArticle(id: $id, at: $at) { id } }",
            json!({ "id": scheduled, "at": at }),
        )
        .await;
        // Roll the change log back and forth over the existing articles.
        app.remigrate_from("m20250501_000005_change_log").await;

        let reader = Caller::anonymous();
        let mut mirror = Mirror::default();
        sync_and_compare(&app, &reader, &mut mirror, "the backfill").await;
        assert_eq!(mirror.articles.len(), 9 + 4);
        converge(
            &app,
            &reader,
            &mut mirror,
            "a schedule made before the migration",
            |m| m.contains_key(&scheduled),
        )
        .await;
    }
);

on_both_databases!(a_changes_page_costs_constant_statements, |db| async move {
    let app = spawn_seeded_app(db, 60).await;
    let query = "query($first: Int) { changes(first: $first) { entries { id article { slug topics { slug } authors { name } } } nextCursor hasMore } }";
    let mut counts = Vec::new();
    for first in [2, 50] {
        let before = app.store.statements_executed();
        let data = app.gql_ok(query, json!({ "first": first })).await;
        counts.push(app.store.statements_executed() - before);
        assert_eq!(
            data["changes"]["entries"].as_array().unwrap().len(),
            usize::try_from(first).unwrap()
        );
    }
    // Due check, log page, articles, article→topics, topics, article→authors, authors.
    assert!(
        counts.iter().all(|&c| c <= 7),
        "statements per page of 2 and 50: {counts:?}"
    );
});

on_both_databases!(bad_cursors_and_page_sizes_are_refused, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let foreign = app
        .gql_ok(
            "{ articles(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await["articles"]["pageInfo"]["endCursor"]
        .clone();
    let query = "query($since: String, $first: Int) { changes(since: $since, first: $first) { nextCursor } }";
    let ahead = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("c1:999999")
    };
    for (vars, field) in [
        (json!({ "since": ahead }), "since"),
        (json!({ "since": "garbage" }), "since"),
        (json!({ "since": "" }), "since"),
        (json!({ "since": foreign }), "since"),
        (json!({ "first": 501 }), "first"),
        (json!({ "first": 0 }), "first"),
        (json!({ "first": -3 }), "first"),
    ] {
        let (status, body) = app.gql(query, vars.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body["data"].is_null() || body["data"]["changes"].is_null(),
            "{body}"
        );
        let ext = &body["errors"][0]["extensions"];
        assert_eq!(ext["code"], "BAD_USER_INPUT", "{vars}: {body}");
        assert_eq!(ext["field"], field, "{vars}: {body}");
    }

    let foreign = foreign.as_str().unwrap();
    for (query, field) in [
        ("since=garbage".to_owned(), "since"),
        (format!("since={ahead}"), "since"),
        (format!("since={foreign}"), "since"),
        ("first=501".to_owned(), "first"),
        ("first=0".to_owned(), "first"),
        ("first=many".to_owned(), "first"),
    ] {
        let response = app.get(&format!("/v1/changes?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{query}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "BAD_USER_INPUT", "{query}: {problem}");
        assert_eq!(problem["field"], field, "{query}: {problem}");
    }
    let response = app
        .client
        .get(app.url("/v1/changes"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    // A good request: the cursor is opaque and always there.
    let response = app.get("/v1/changes?first=500").await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert!(page["nextCursor"].is_string());
    assert_eq!(page["hasMore"], false);
    assert_eq!(page["entries"].as_array().unwrap().len(), 9);
});
