//! The public response cache: a repeated anonymous read is served from memory (`x-cache: hit`),
//! and never past its promise: every write shows in the very next response, a scheduled story
//! and an embargo lift at their instant (the clock is moved, not waited for), staff and preview
//! answers are never kept, partners and readers never share an answer, the byte bound holds,
//! views flowing in invalidate nothing, and on PostgreSQL a write on one process reaches
//! another's cache within a second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gazette_app::{Clock as _, ManualClock};
use gazette_tests::{TestApp, editor, on_both_databases, partner, spawn_app_with};
use serde_json::{Value, json};

const PAGE: &str =
    "query($s: String!) { article(slug: $s) { headline corrections { text } topics { name } } }";

/// POSTs `query` as `token` (anonymous without one); returns `x-cache` and the body.
async fn read_as(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (String, Value) {
    let authorization = token.map(|t| format!("Bearer {t}"));
    let response = app
        .gql_authorized(authorization.as_deref(), query, variables)
        .await;
    assert_eq!(response.status(), 200);
    let cache = response
        .headers()
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (cache, response.json().await.unwrap())
}

async fn read(app: &TestApp, slug: &str) -> (String, Value) {
    read_as(app, None, PAGE, json!({ "s": slug })).await
}

async fn edit(app: &TestApp, mutation: &str, variables: Value) -> Value {
    app.as_editor(mutation, variables).await
}

async fn version(app: &TestApp, id: &str) -> i64 {
    app.as_editor(
        "query($id: ID!) { article(id: $id) { version } }",
        json!({ "id": id }),
    )
    .await["article"]["version"]
        .as_i64()
        .unwrap()
}

/// Reads twice: the second answer must come from the cache and be the same.
async fn cached(app: &TestApp, slug: &str) -> Value {
    let (_, first) = read(app, slug).await;
    let (cache, second) = read(app, slug).await;
    assert_eq!(cache, "hit", "a repeated read is served from the cache");
    assert_eq!(first, second);
    second
}

on_both_databases!(
    every_write_shows_in_the_very_next_response,
    |db| async move {
        let clock = ManualClock::new();
        let moved = clock.clone();
        let app = spawn_app_with(db, move |args| args.clock = Arc::new(moved)).await;
        let topic = edit(
            &app,
            "mutation { createTopic(input: { slug: \"world\", name: \"World\" }) { id } }",
            json!({}),
        )
        .await["createTopic"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let id = app
            .draft("cached-story", json!({ "topics": ["world"] }))
            .await;
        let (cache, body) = read(&app, "cached-story").await;
        assert_eq!(cache, "miss");
        assert!(body["data"]["article"].is_null(), "a draft is not public");
        assert!(cached(&app, "cached-story").await["data"]["article"].is_null());

        // Publish.
        app.publish(&id).await;
        let (cache, body) = read(&app, "cached-story").await;
        assert_eq!(cache, "miss", "a publish invalidates");
        assert_eq!(body["data"]["article"]["headline"], "Draft cached-story");
        cached(&app, "cached-story").await;

        // Views flowing in (the beacon, then written) invalidate nothing.
        app.view(&id, 5).await;
        let beacon = app
            .client
            .post(app.url("/v1/views"))
            .json(&json!({ "slug": "cached-story" }))
            .send()
            .await
            .unwrap();
        assert!(beacon.status().is_success(), "{}", beacon.status());
        app.settle().await;
        assert_eq!(
            read(&app, "cached-story").await.0,
            "hit",
            "views do not invalidate"
        );

        // REST: a hit, a 304 for its ETag.
        let path = "/v1/articles/cached-story";
        app.get(path).await;
        let hit = app.get(path).await;
        assert_eq!(hit.headers()["x-cache"], "hit");
        let etag = hit.headers()["etag"].clone();
        let revalidated = app
            .client
            .get(app.url(path))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(revalidated.status(), 304);
        assert_eq!(revalidated.headers()["x-cache"], "hit");

        // Edit.
        let v = version(&app, &id).await;
        edit(
        &app,
        "mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { headline: \"Edited\" }) { id } }",
        json!({ "id": id, "v": v }),
    )
    .await;
        let (cache, body) = read(&app, "cached-story").await;
        assert_eq!(cache, "miss");
        assert_eq!(body["data"]["article"]["headline"], "Edited");
        let rest: Value = app.get(path).await.json().await.unwrap();
        assert_eq!(rest["headline"], "Edited", "REST too");
        cached(&app, "cached-story").await;

        // Correction.
        edit(
        &app,
        "mutation($id: ID!) { addCorrection(articleId: $id, text: \"A date was wrong.\") { id } }",
        json!({ "id": id }),
    )
    .await;
        let (_, body) = read(&app, "cached-story").await;
        assert_eq!(
            body["data"]["article"]["corrections"][0]["text"],
            "A date was wrong."
        );
        cached(&app, "cached-story").await;

        // Topic rename.
        edit(
            &app,
            "mutation($id: ID!) { updateTopic(id: $id, input: { name: \"Abroad\" }) { id } }",
            json!({ "id": topic }),
        )
        .await;
        let (_, body) = read(&app, "cached-story").await;
        assert_eq!(body["data"]["article"]["topics"][0]["name"], "Abroad");
        cached(&app, "cached-story").await;

        // Embargo change: partners do not see an embargoed story; the lift is at its instant.
        let syndication = partner(&["syndication"]);
        let in_an_hour = (clock.now() + chrono::Duration::hours(1)).to_rfc3339();
        let v = version(&app, &id).await;
        edit(
        &app,
        "mutation($id: ID!, $v: Int!, $at: String!) { updateArticle(id: $id, expectedVersion: $v, input: { syndicatable: true, embargoUntil: $at }) { id } }",
        json!({ "id": id, "v": v, "at": in_an_hour }),
    )
    .await;
        let as_partner = || {
            read_as(
                &app,
                Some(&syndication),
                PAGE,
                json!({ "s": "cached-story" }),
            )
        };
        assert!(
            as_partner().await.1["data"]["article"].is_null(),
            "embargoed"
        );
        let (cache, body) = as_partner().await;
        assert_eq!(cache, "hit");
        assert!(body["data"]["article"].is_null());
        assert_eq!(
            cached(&app, "cached-story").await["data"]["article"]["headline"],
            "Edited",
            "readers see it, from their own entry"
        );
        clock.advance(chrono::Duration::minutes(61));
        let (_, body) = as_partner().await;
        assert_eq!(
            body["data"]["article"]["headline"], "Edited",
            "the embargo lifts at its instant"
        );

        // Unpublish, then delete.
        let v = version(&app, &id).await;
        edit(
            &app,
            "mutation($id: ID!, $v: Int) { unpublishArticle(id: $id, expectedVersion: $v) { id } }",
            json!({ "id": id, "v": v }),
        )
        .await;
        assert!(read(&app, "cached-story").await.1["data"]["article"].is_null());
        app.publish(&id).await;
        assert!(cached(&app, "cached-story").await["data"]["article"].is_object());
        app.gql_ok_as(
            &gazette_tests::admin(),
            "mutation($id: ID!) { deleteArticle(id: $id) }",
            json!({ "id": id }),
        )
        .await;
        assert!(read(&app, "cached-story").await.1["data"]["article"].is_null());
        assert_eq!(app.get(path).await.status(), 404);

        // A scheduled story appears at its instant.
        let later = app.draft("later-story", json!({})).await;
        let at = (clock.now() + chrono::Duration::hours(1)).to_rfc3339();
        edit(
            &app,
            "mutation($id: ID!, $at: String!) { scheduleArticle(id: $id, at: $at) { id } }",
            json!({ "id": later, "at": at }),
        )
        .await;
        assert!(cached(&app, "later-story").await["data"]["article"].is_null());
        let latest = "{ articles(first: 5) { edges { node { slug } } } }";
        read_as(&app, None, latest, json!({})).await;
        let (cache, before) = read_as(&app, None, latest, json!({})).await;
        assert_eq!(cache, "hit");
        assert!(!before.to_string().contains("later-story"));
        clock.advance(chrono::Duration::minutes(61));
        let (_, body) = read(&app, "later-story").await;
        assert_eq!(body["data"]["article"]["headline"], "Draft later-story");
        let (_, after) = read_as(&app, None, latest, json!({})).await;
        assert!(after.to_string().contains("later-story"), "{after}");
    }
);

/// GETs `/graphql` with `params`; returns the status, `x-cache` and the body.
async fn get_graphql(app: &TestApp, params: &[(&str, &str)]) -> (u16, String, Value) {
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(params)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, cache, response.json().await.unwrap())
}

on_both_databases!(what_is_kept_and_what_never_is, |db| async move {
    let app = spawn_app_with(db, |_| {}).await;
    // GraphQL over GET, and by persisted-query hash once registered.
    let query = "{ topics(first: 3) { edges { node { slug } } } }";
    get_graphql(&app, &[("query", query)]).await;
    let (status, cache, _) = get_graphql(&app, &[("query", query)]).await;
    assert_eq!((status, cache.as_str()), (200, "hit"));
    let hash = {
        use sha2::Digest as _;
        sha2::Sha256::digest(query.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();
    for _ in 0..2 {
        let (_, cache, body) = get_graphql(&app, &[("extensions", &ext)]).await;
        assert_ne!(
            cache, "hit",
            "PERSISTED_QUERY_NOT_FOUND is never kept: {body}"
        );
    }
    get_graphql(&app, &[("query", query), ("extensions", &ext)]).await;
    get_graphql(&app, &[("extensions", &ext)]).await;
    let (status, cache, body) = get_graphql(&app, &[("extensions", &ext)]).await;
    assert_eq!((status, cache.as_str()), (200, "hit"), "{body}");
    assert!(body["data"]["topics"]["edges"].is_array());

    let id = app.draft("secret-draft", json!({})).await;
    let staff = editor();
    for _ in 0..2 {
        let (cache, body) = read_as(&app, Some(&staff), PAGE, json!({ "s": "secret-draft" })).await;
        assert_ne!(cache, "hit", "staff answers are not kept");
        assert!(body["data"]["article"].is_object(), "staff see the draft");
        let (_, body) = read(&app, "secret-draft").await;
        assert!(
            body["data"]["article"].is_null(),
            "readers never get the staff answer"
        );
    }
    let token = app
        .as_editor(
            "mutation($id: ID!) { createPreviewToken(articleId: $id) { token } }",
            json!({ "id": id }),
        )
        .await["createPreviewToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let preview = "query($t: String!) { preview(token: $t) { headline } }";
    for _ in 0..2 {
        let (cache, body) = read_as(&app, None, preview, json!({ "t": token })).await;
        assert_ne!(cache, "hit", "a preview is never kept");
        assert_eq!(body["data"]["preview"]["headline"], "Draft secret-draft");
    }
});

on_both_databases!(the_byte_bound_holds, |db| async move {
    const BOUND: usize = 16 * 1024;
    let app = spawn_app_with(db, |args| {
        args.response_cache.response_cache_bytes = BOUND;
        args.response_cache.response_cache_entry_bytes = 4 * 1024;
        args.ops.metrics_addr = Some("127.0.0.1:0".to_owned());
    })
    .await;
    for i in 0..60 {
        let query =
            format!("query Q{i} {{ articles(first: 3) {{ edges {{ node {{ slug }} }} }} }}");
        read_as(&app, None, &query, json!({})).await;
    }
    let scrape = app
        .client
        .get(format!("http://{}/metrics", app.metrics_addr.unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sample = |name: &str| -> f64 {
        scrape
            .lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {scrape}"))
    };
    assert!(sample("gazette_response_cache_evictions_total") > 0.0);
    let bytes = sample("gazette_response_cache_bytes");
    assert!(bytes > 0.0 && bytes <= BOUND as f64, "{bytes}");
    // The most recent query is still there.
    let last = "query Q59 { articles(first: 3) { edges { node { slug } } } }";
    assert_eq!(read_as(&app, None, last, json!({})).await.0, "hit");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_process_reaches_another_within_a_second() {
    let app = spawn_app_with(gazette_tests::Db::Postgres, |_| {}).await;
    let other = app.spawn_sibling().await;
    let id = app.draft("two-nodes", json!({})).await;
    app.publish(&id).await;
    // The other process hears of the publish asynchronously (a read before that is forgotten
    // when it does): read until its answer is served from its cache.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let (cache, body) = read(&other, "two-nodes").await;
        if cache == "hit" {
            assert_eq!(body["data"]["article"]["headline"], "Draft two-nodes");
            break;
        }
        assert!(Instant::now() < deadline, "never served from the cache");
    }
    let v = version(&app, &id).await;
    edit(
        &app,
        "mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { headline: \"Seen everywhere\" }) { id } }",
        json!({ "id": id, "v": v }),
    )
    .await;
    let written = Instant::now();
    loop {
        let (_, body) = read(&other, "two-nodes").await;
        if body["data"]["article"]["headline"] == "Seen everywhere" {
            break;
        }
        assert!(
            written.elapsed() < Duration::from_secs(1),
            "the other process still serves the old answer: {body}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    other.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_listener_is_away_nothing_is_served_from_the_cache() {
    let app = spawn_app_with(gazette_tests::Db::Postgres, |_| {}).await;
    let id = app.draft("listened", json!({})).await;
    app.publish(&id).await;
    cached(&app, "listened").await;
    // Cut the listener's own connection (the session whose last statement was its LISTEN).
    let database = app.postgres_database().unwrap().to_owned();
    gazette_tests::admin_exec(
        &gazette_tests::pg_admin_url(),
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{database}' AND query ILIKE 'LISTEN%'"
        ),
    )
    .await;
    // Whatever may have been missed meanwhile is forgotten: the next answers are computed
    // again, and served from the cache once the listener is back.
    let cut = Instant::now();
    for expected in ["miss", "hit"] {
        loop {
            let (cache, body) = read(&app, "listened").await;
            assert_eq!(body["data"]["article"]["headline"], "Draft listened");
            if cache == expected {
                break;
            }
            assert!(
                cut.elapsed() < Duration::from_secs(5),
                "never a {expected} after the listener's connection was cut"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
