//! `changes` never names to a reader or a partner a story they could never see: a scheduled
//! story taken back or deleted before its time leaves no tombstone for them (its id, and
//! through UUID v7 its creation time, stay in the newsroom), while stories that were public
//! still get theirs, and staff get every one. GraphQL and REST, on both databases.

use chrono::{Duration, SecondsFormat, Utc};
use gazette_tests::{TestApp, on_both_databases, spawn_seeded_app, token, token_with_scope};
use serde_json::{Value, json};

const CHANGES: &str = "query($since: String) { changes(since: $since, first: 500) { entries { id action reason } nextCursor hasMore } }";

/// Every entry `bearer` reads from `since` on, through GraphQL and REST (which must agree).
async fn entries(app: &TestApp, bearer: Option<&str>, since: Option<&str>) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = since.map(str::to_owned);
    loop {
        let vars = json!({ "since": cursor });
        let (status, body) = match bearer {
            Some(t) => app.gql_as(t, CHANGES, vars).await,
            None => app.gql(CHANGES, vars).await,
        };
        assert_eq!(status, 200, "{body}");
        let page = &body["data"]["changes"];
        all.extend(page["entries"].as_array().unwrap().iter().cloned());
        cursor = page["nextCursor"].as_str().map(str::to_owned);
        if page["hasMore"] != true {
            break;
        }
    }
    let mut rest = Vec::new();
    let mut cursor = since.map(str::to_owned);
    loop {
        let mut path = "/v1/changes?first=500".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&since={c}"));
        }
        let mut request = app.client.get(app.url(&path));
        if let Some(t) = bearer {
            request = request.bearer_auth(t);
        }
        let page: Value = request.send().await.unwrap().json().await.unwrap();
        rest.extend(
            page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone()),
        );
        cursor = page["nextCursor"].as_str().map(str::to_owned);
        if page["hasMore"] != true {
            break;
        }
    }
    let ids: Vec<Value> = all.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids, rest, "GraphQL and REST list the same entries");
    all
}

fn mentions(entries: &[Value], id: &str) -> Option<Value> {
    entries.iter().rev().find(|e| e["id"] == json!(id)).cloned()
}

on_both_databases!(
    changes_never_name_a_story_the_caller_could_never_see,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let editor = token("editor", "desk");
        let admin = token("admin", "root");
        let partner = token_with_scope("partner", "wire", &["syndication"]);
        let cursor = app.gql_ok(CHANGES, json!({})).await["changes"]["nextCursor"]
            .as_str()
            .unwrap()
            .to_owned();
        let create = |slug: &'static str| {
            let editor = editor.clone();
            let app = &app;
            async move {
                app.gql_ok_as(
                    &editor,
                    "mutation($i: CreateArticleInput!) { createArticle(input: $i) { id } }",
                    json!({ "i": { "headline": format!("Story {slug}"), "slug": slug,
                                   "body": [{ "type": "paragraph", "text": "Words." }] } }),
                )
                .await["createArticle"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        };
        let act = |mutation: &'static str, token: String, id: String| {
            let app = &app;
            async move {
                let later =
                    (Utc::now() + Duration::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
                let query = match mutation {
                    "schedule" => format!(
                        "mutation($id: ID!) {{ scheduleArticle(id: $id, at: \"{later}\") {{ id }} }}"
                    ),
                    "unpublish" => {
                        "mutation($id: ID!) { unpublishArticle(id: $id) { id } }".to_owned()
                    }
                    "publish" => "mutation($id: ID!) { publishArticle(id: $id) { id } }".to_owned(),
                    _ => "mutation($id: ID!) { deleteArticle(id: $id) }".to_owned(),
                };
                app.gql_ok_as(&token, &query, json!({ "id": id })).await;
            }
        };
        // Scheduled for tomorrow, then taken back: never public.
        let taken_back = create("taken-back").await;
        act("schedule", editor.clone(), taken_back.clone()).await;
        act("unpublish", editor.clone(), taken_back.clone()).await;
        // Scheduled for tomorrow, then deleted: never public.
        let deleted_early = create("deleted-early").await;
        act("schedule", editor.clone(), deleted_early.clone()).await;
        act("delete", admin.clone(), deleted_early.clone()).await;
        // Scheduled and still waiting.
        let waiting = create("still-waiting").await;
        act("schedule", editor.clone(), waiting.clone()).await;
        // Public, then deleted: its tombstone is owed to every mirror.
        let was_live = create("was-live").await;
        act("publish", editor.clone(), was_live.clone()).await;
        act("delete", admin.clone(), was_live.clone()).await;
        // Public, then back to draft.
        let pulled = create("pulled").await;
        act("publish", editor.clone(), pulled.clone()).await;
        act("unpublish", editor.clone(), pulled.clone()).await;

        for (who, bearer) in [("reader", None), ("partner", Some(partner.as_str()))] {
            for since in [None, Some(cursor.as_str())] {
                let seen = entries(&app, bearer, since).await;
                for secret in [&taken_back, &deleted_early, &waiting] {
                    assert_eq!(mentions(&seen, secret), None, "{who} learns of {secret}");
                }
                let tombstone = mentions(&seen, &was_live).expect("the deleted story's tombstone");
                assert_eq!(tombstone["reason"], "DELETED", "{who}");
                let tombstone = mentions(&seen, &pulled).expect("the pulled story's tombstone");
                assert_eq!(tombstone["reason"], "UNPUBLISHED", "{who}");
            }
        }
        // The newsroom saw them all along, and hears of each.
        let seen = entries(&app, Some(&editor), Some(&cursor)).await;
        assert_eq!(
            mentions(&seen, &deleted_early).unwrap()["reason"],
            "DELETED"
        );
        assert_eq!(mentions(&seen, &taken_back).unwrap()["action"], "UPSERT");
    }
);
