//! Takedowns reach every surface at their second: a story that expires (the moved test clock,
//! no sleep), a killed story, and a killed story an admin restores. Each case walks every
//! reader and partner surface with [`seen`] (feeds and sitemaps included) and reads the
//! `changes` feed's verdict; a kill also reaches the push channels: an open SSE stream and a
//! partner's webhook get the removal with its reason.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, Utc};
use gazette_app::{Clock as _, ManualClock};
use gazette_tests::{
    TestApp, admin, editor, eventually, on_both_databases, partner, spawn_app_with,
};
use serde_json::{Value, json};

use crate::push_clients::{Receiver, Sse, WAIT, verifies};

const TOPIC: &str = "harbour-desk";
const AUTHOR: &str = "tess-taker";
const STORY: &str = "harbour-barrier-story";
const OLD_SLUG: &str = "harbour-barrier-first-draft";
const SIBLING: &str = "harbour-barrier-sibling";
const BODY: &str = "The harbour flood barrier closed overnight as the storm surge rose.";

/// One GraphQL request for every GraphQL surface: by slug, by old slug, by node id, the latest
/// list, the topic and author pages, search, the sibling's related list, trending, `changes`.
const SURFACES: &str = "query($s: String!, $old: String!, $id: ID!, $sib: String!, $t: String!, \
    $a: String!) { \
    bySlug: article(slug: $s) { id } \
    byOldSlug: article(slug: $old) { id } \
    node(id: $id) { id } \
    latest: articles(first: 20) { edges { node { id } } } \
    topic(slug: $t) { articles(first: 20) { edges { node { id } } } } \
    author(slug: $a) { articles(first: 20) { edges { node { id } } } } \
    search(query: \"harbour barrier\", first: 20) { edges { node { article { id } } } } \
    sibling: article(slug: $sib) { related(first: 10) { id } } \
    trending(first: 20) { article { id } } \
    changes(first: 50) { entries { id action reason } } }";

/// A fresh app on a frozen clock with a topic, an author, a syndicatable `STORY` (published,
/// renamed from `OLD_SLUG`, viewed) and a `SIBLING` on the same topic. `story_extra`: more
/// `CreateArticleInput` fields of the story. Returns the app, its clock and the story's id.
async fn newsroom(db: gazette_tests::Db, story_extra: Value) -> (TestApp, ManualClock, String) {
    let clock = ManualClock::new();
    clock.freeze();
    let shared = clock.clone();
    let app = spawn_app_with(db, move |args| args.clock = Arc::new(shared)).await;
    app.as_editor(
        &format!(
            "mutation {{ createTopic(input: {{ slug: \"{TOPIC}\", name: \"Harbour\" }}) {{ id }} \
             createAuthor(input: {{ slug: \"{AUTHOR}\", name: \"Tess Taker\" }}) {{ id }} }}"
        ),
        json!({}),
    )
    .await;
    let mut input = json!({
        "headline": "Harbour barrier closes",
        "primaryTopic": TOPIC,
        "authors": [AUTHOR],
        "syndicatable": true,
        "body": [{ "type": "paragraph", "text": BODY }],
    });
    for (key, value) in story_extra.as_object().expect("an object") {
        input[key] = value.clone();
    }
    let story = app.draft(OLD_SLUG, input.clone()).await;
    app.publish(&story).await;
    app.as_editor(
        "mutation($id: ID!, $s: String!) { updateArticle(id: $id, expectedVersion: 2, input: { slug: $s }) { id } }",
        json!({ "id": story, "s": STORY }),
    )
    .await;
    input["headline"] = json!("Harbour barrier holds");
    for key in ["expiresAt", "embargoUntil"] {
        input.as_object_mut().unwrap().remove(key);
    }
    let sibling = app.draft(SIBLING, input).await;
    app.publish(&sibling).await;
    app.view(&story, 5).await;
    (app, clock, story)
}

fn holds(value: &Value, id: &str) -> bool {
    value.to_string().contains(id)
}

async fn text(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

/// Where `token` (None: a reader) finds the story, surface by surface, and the `changes`
/// feed's entry for it (GraphQL, then REST: `action`/`reason`).
async fn seen(
    app: &TestApp,
    token: Option<&str>,
    id: &str,
) -> (BTreeMap<&'static str, bool>, [Value; 2]) {
    let vars =
        json!({ "s": STORY, "old": OLD_SLUG, "id": id, "sib": SIBLING, "t": TOPIC, "a": AUTHOR });
    let (status, body) = match token {
        None => app.gql(SURFACES, vars).await,
        Some(token) => app.gql_as(token, SURFACES, vars).await,
    };
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let data = &body["data"];
    let mut found = BTreeMap::new();
    for (name, at) in [
        ("graphql article(slug)", &data["bySlug"]),
        ("graphql article(old slug)", &data["byOldSlug"]),
        ("graphql node(id)", &data["node"]),
        ("graphql latest", &data["latest"]),
        ("graphql topic page", &data["topic"]),
        ("graphql author page", &data["author"]),
        ("graphql search", &data["search"]),
        ("graphql related of sibling", &data["sibling"]),
        ("graphql trending", &data["trending"]),
    ] {
        found.insert(name, holds(at, id));
    }
    let entry_of = |entries: &Value| {
        entries
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["id"] == json!(id))
            .map(|e| json!([e["action"], e["reason"]]))
            .unwrap_or(Value::Null)
    };
    let graphql_change = entry_of(&data["changes"]["entries"]);
    let (status, article) = text(app, &format!("/v1/articles/{STORY}"), token).await;
    found.insert("rest get", status == 200 && article.contains(id));
    // The old slug answers 301 to the new one (followed here), or 404 once hidden.
    let (_, old) = text(app, &format!("/v1/articles/{OLD_SLUG}"), token).await;
    found.insert("rest old slug", old.contains(id));
    for (name, path) in [
        ("rest list", "/v1/articles"),
        ("rest topic list", "/v1/topics/harbour-desk/articles"),
        ("rest author list", "/v1/authors/tess-taker/articles"),
        ("rest search", "/v1/search?q=harbour"),
        ("rest trending", "/v1/trending"),
    ] {
        let (status, listed) = text(app, path, token).await;
        assert_eq!(status, 200, "{path}: {listed}");
        found.insert(name, listed.contains(id));
    }
    if token.is_none() {
        for (name, path) in [
            ("atom feed", "/feeds/latest.atom"),
            ("rss feed", "/feeds/latest.rss"),
            ("json feed", "/feeds/latest.json"),
            ("news sitemap", "/sitemap-news.xml"),
            ("archive sitemap page", "/sitemaps/articles-1.xml"),
        ] {
            let (status, feed) = text(app, path, None).await;
            assert_eq!(status, 200, "{path}");
            found.insert(name, feed.contains(STORY));
        }
    }
    let (status, changes) = text(app, "/v1/changes?first=100", token).await;
    assert_eq!(status, 200, "{changes}");
    let changes: Value = serde_json::from_str(&changes).expect("JSON");
    let rest_change = entry_of(&changes["entries"]);
    (found, [graphql_change, rest_change])
}

/// Asserts that every surface shows the story to `token` (`visible`) or none does.
async fn assert_everywhere(
    app: &TestApp,
    token: Option<&str>,
    id: &str,
    visible: bool,
) -> [Value; 2] {
    let (found, changes) = seen(app, token, id).await;
    let wrong: Vec<_> = found.iter().filter(|(_, v)| **v != visible).collect();
    assert!(
        wrong.is_empty(),
        "{} for {token:?}: expected visible={visible} on every surface, not on {wrong:?}",
        if visible { "missing" } else { "leaked" },
    );
    changes
}

fn syndication_partner() -> String {
    partner(&["syndication"])
}

on_both_databases!(a_story_expires_everywhere_at_its_second, |db| async move {
    let start = Utc::now();
    let expires = start + Duration::hours(1);
    let (app, clock, id) = newsroom(db, json!({ "expiresAt": expires.to_rfc3339() })).await;
    let shown = app
        .gql_ok_as(
            &syndication_partner(),
            "query($i: ID!) { article(id: $i) { expiresAt } }",
            json!({ "i": id }),
        )
        .await;
    assert!(
        shown["article"]["expiresAt"].is_string(),
        "partners see the expiry: {shown}"
    );

    clock.advance(expires - clock.now() - Duration::seconds(1));
    for token in [None, Some(syndication_partner())] {
        let changes = assert_everywhere(&app, token.as_deref(), &id, true).await;
        assert_eq!(changes, [json!(["UPSERT", null]), json!(["upsert", null])]);
    }

    clock.advance(Duration::seconds(1));
    for token in [None, Some(syndication_partner())] {
        let changes = assert_everywhere(&app, token.as_deref(), &id, false).await;
        assert_eq!(
            changes,
            [json!(["REMOVE", "EXPIRED"]), json!(["remove", "expired"])]
        );
    }
    // Staff still find it, with its expiry.
    let staff = app
        .gql_ok_as(
            &editor(),
            "query($i: ID!) { article(id: $i) { expiresAt bodyText } }",
            json!({ "i": id }),
        )
        .await;
    assert_eq!(staff["article"]["bodyText"], BODY);
});

on_both_databases!(expiry_must_follow_publication, |db| async move {
    let (app, _clock, id) = newsroom(db, json!({})).await;
    let (_, body) = app
        .gql_as(
            &editor(),
            "mutation($id: ID!, $at: String!) { updateArticle(id: $id, expectedVersion: 3, input: { expiresAt: $at }) { id } }",
            json!({ "id": id, "at": (Utc::now() - Duration::days(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "expiresAt",
        "{body}"
    );
});

const KILL: &str = "mutation($id: ID!) { killArticle(id: $id, reason: \"Court order 12/3\") { status killReason } }";
const RESTORE: &str = "mutation($id: ID!) { restoreArticle(id: $id) { status } }";
const STAFF_READ: &str =
    "query($i: ID!) { article(id: $i) { status killReason killedAt bodyText } }";

on_both_databases!(
    a_killed_story_leaves_every_surface_and_its_body_is_for_admins,
    |db| async move {
        let (app, _clock, id) = newsroom(db, json!({})).await;
        for token in [None, Some(syndication_partner())] {
            assert_everywhere(&app, token.as_deref(), &id, true).await;
        }
        let killed = app.as_editor(KILL, json!({ "id": id })).await;
        assert_eq!(
            killed["killArticle"],
            json!({ "status": "KILLED", "killReason": "Court order 12/3" })
        );

        for token in [None, Some(syndication_partner())] {
            let changes = assert_everywhere(&app, token.as_deref(), &id, false).await;
            assert_eq!(
                changes,
                [json!(["REMOVE", "KILLED"]), json!(["remove", "killed"])]
            );
        }
        // An editor sees the metadata and the reason, never the body.
        let (_, as_editor) = app.gql_as(&editor(), STAFF_READ, json!({ "i": id })).await;
        assert_eq!(
            as_editor["data"]["article"]["status"], "KILLED",
            "{as_editor}"
        );
        assert_eq!(
            as_editor["data"]["article"]["killReason"],
            "Court order 12/3"
        );
        assert!(as_editor["data"]["article"]["killedAt"].is_string());
        assert!(
            as_editor["data"]["article"]["bodyText"].is_null(),
            "{as_editor}"
        );
        assert_eq!(as_editor["errors"][0]["extensions"]["code"], "FORBIDDEN");
        let (_, rest) = text(&app, &format!("/v1/articles/{STORY}"), Some(&editor())).await;
        let rest: Value = serde_json::from_str(&rest).unwrap();
        assert!(
            rest["body"].is_null() && rest["bodyText"].is_null(),
            "{rest}"
        );
        assert!(!holds(
            &app.gql_ok_as(
                &editor(),
                "query($i: ID!) { article(id: $i) { revisions { state } } }",
                json!({ "i": id })
            )
            .await,
            BODY
        ));
        // An admin reads it all.
        let as_admin = app
            .gql_ok_as(&admin(), STAFF_READ, json!({ "i": id }))
            .await;
        assert_eq!(as_admin["article"]["bodyText"], BODY);
        // A partner with syndication rights gets nothing at all.
        let as_partner = app
            .gql_ok_as(
                &syndication_partner(),
                STAFF_READ.replace("killReason killedAt ", "").as_str(),
                json!({ "i": id }),
            )
            .await;
        assert!(as_partner["article"].is_null(), "{as_partner}");

        // Nothing changes it until it is restored.
        for (mutation, vars) in [
            (
                "mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 4, input: { headline: \"New\" }) { id } }",
                json!({ "id": id }),
            ),
            (
                "mutation($id: ID!) { publishArticle(id: $id) { id } }",
                json!({ "id": id }),
            ),
            (
                "mutation($id: ID!) { addCorrection(articleId: $id, text: \"Fixed.\") { id } }",
                json!({ "id": id }),
            ),
        ] {
            let (_, body) = app.gql_as(&editor(), mutation, vars).await;
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "INVALID_TRANSITION",
                "{body}"
            );
            assert!(
                body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("restores it"),
                "{body}"
            );
        }
        let revisions = app
            .gql_ok_as(
                &admin(),
                "query($i: ID!) { article(id: $i) { revisions(first: 1) { action } } }",
                json!({ "i": id }),
            )
            .await;
        assert_eq!(revisions["article"]["revisions"][0]["action"], "KILL");
    }
);

on_both_databases!(
    only_an_admin_restores_a_killed_story_everywhere,
    |db| async move {
        let (app, _clock, id) = newsroom(db, json!({})).await;
        app.as_editor(KILL, json!({ "id": id })).await;
        assert_everywhere(&app, None, &id, false).await;

        let (_, refused) = app.gql_as(&editor(), RESTORE, json!({ "id": id })).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{refused}"
        );
        assert_everywhere(&app, None, &id, false).await;

        let restored = app.gql_ok_as(&admin(), RESTORE, json!({ "id": id })).await;
        assert_eq!(restored["restoreArticle"]["status"], "PUBLISHED");
        for token in [None, Some(syndication_partner())] {
            let changes = assert_everywhere(&app, token.as_deref(), &id, true).await;
            assert_eq!(changes, [json!(["UPSERT", null]), json!(["upsert", null])]);
        }
        let revisions = app
            .gql_ok_as(
                &admin(),
                "query($i: ID!) { article(id: $i) { killReason revisions(first: 1) { action } } }",
                json!({ "i": id }),
            )
            .await;
        assert_eq!(revisions["article"]["revisions"][0]["action"], "REINSTATE");
        assert!(revisions["article"]["killReason"].is_null());
    }
);

on_both_databases!(
    a_kill_reaches_an_open_stream_and_a_partners_webhook_as_a_removal,
    |db| async move {
        let receiver = Receiver::start(&[]).await;
        let app = spawn_app_with(db, |args| {
            args.webhooks.webhook_max_per_partner = 1;
            args.webhooks.webhook_allow_hosts = vec!["127.0.0.1".to_owned()];
            args.webhooks.webhook_poll_ms = 20;
        })
        .await;
        let created = app
            .gql_ok_as(
                &syndication_partner(),
                "mutation($url: String!) { createWebhookSubscription(input: { url: $url }) { secret } }",
                json!({ "url": receiver.url() }),
            )
            .await;
        let secret = created["createWebhookSubscription"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        let id = app.draft(STORY, json!({ "syndicatable": true })).await;
        app.publish(&id).await;
        let mut sse = Sse::open(&app, "", None, None).await;
        app.as_editor(KILL, json!({ "id": id })).await;

        // The stream opened after the publication: what comes next is the removal (an upsert
        // of the publication, should the stream see it first, is passed over).
        let mut removal = None;
        for _ in 0..2 {
            let event = sse.next().await;
            assert_eq!(event.event, "change", "{event:?}");
            if event.data["action"] == "remove" {
                removal = Some(event.data);
                break;
            }
        }
        let removal = removal.expect("the stream got the removal");
        assert_eq!(removal["id"], id.as_str(), "{removal}");
        assert_eq!(removal["reason"], "killed", "{removal}");
        assert!(
            removal.get("article").is_none(),
            "no story in a removal: {removal}"
        );

        let removed = |r: &crate::push_clients::Received| r.json()["type"] == "article.removed";
        eventually("the webhook's article.removed", WAIT, || {
            receiver.got().iter().any(removed)
        })
        .await;
        let got = receiver.got();
        let delivered = got.iter().find(|r| removed(r)).unwrap();
        assert!(verifies(&secret, delivered), "signed: {delivered:?}");
        let body = delivered.json();
        assert_eq!(body["id"], id.as_str(), "{body}");
        assert_eq!(body["action"], "remove", "{body}");
        assert_eq!(body["reason"], "killed", "{body}");
        assert!(!holds(&body, BODY), "no body in the removal: {body}");
    }
);
