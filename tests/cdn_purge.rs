//! CDN purges (issue 20): with `GAZETTE_CDN_PURGE` set, a publication purges the article's tag
//! and the lists that now show it, and a kill or an expiry coming due purges the article's
//! tag, in the background. The
//! CDN is a small axum server on 127.0.0.1 (allow-listed for plain http) that records each
//! purge; the tags purged are checked against the tags real responses carry. The Cloudflare
//! request shape is a unit test of `gazette-outbound`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use gazette_app::{Clock as _, ManualClock};
use gazette_server::cdn_config::CdnArgs;
use gazette_tests::{Db, TestApp, eventually, header_text, spawn_app_with};
use serde_json::json;

const TOPIC: &str = "harbour";
const KEY: &str = "test-fastly-key";
const LIMIT: Duration = Duration::from_secs(20);
const KILL: &str =
    "mutation($id: ID!) { killArticle(id: $id, reason: \"Court order\") { status } }";

/// One purge: its `Fastly-Key` and its `Surrogate-Key` tags.
type Purge = (String, Vec<String>);

/// The purges a fake Fastly received.
#[derive(Clone, Default)]
struct Fastly(Arc<Mutex<Vec<Purge>>>);

impl Fastly {
    async fn start() -> (Self, String) {
        let cdn = Self::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/service/svc/purge",
            listener.local_addr().unwrap()
        );
        let app = axum::Router::new()
            .route("/service/svc/purge", post(purge))
            .with_state(cdn.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (cdn, url)
    }

    /// Every tag purged so far.
    fn tags(&self) -> BTreeSet<String> {
        let purges = self.0.lock().unwrap();
        purges.iter().flat_map(|(_, tags)| tags.clone()).collect()
    }
}

async fn purge(State(cdn): State<Fastly>, headers: HeaderMap) -> StatusCode {
    let tags = header_text(&headers, "surrogate-key")
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let key = header_text(&headers, "fastly-key");
    cdn.0.lock().unwrap().push((key, tags));
    StatusCode::OK
}

/// The `Surrogate-Key` tags of an anonymous `GET path`.
async fn response_tags(app: &TestApp, path: &str) -> BTreeSet<String> {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.headers()["surrogate-key"]
        .to_str()
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publications_kills_and_expiries_purge_their_cache_tags_from_the_cdn() {
    let (cdn, url) = Fastly::start().await;
    let clock = ManualClock::new();
    let shared = clock.clone();
    let app = spawn_app_with(Db::Sqlite, move |args| {
        args.clock = Arc::new(shared);
        args.cdn = CdnArgs {
            cdn_purge: Some("fastly".to_owned()),
            cdn_purge_url: Some(url),
            cdn_purge_token: Some(KEY.to_owned()),
            cdn_purge_allow_hosts: vec!["127.0.0.1".to_owned()],
        };
    })
    .await;
    app.as_editor(
        &format!(
            "mutation {{ createTopic(input: {{ slug: \"{TOPIC}\", name: \"Harbour\" }}) {{ id }} }}"
        ),
        json!({}),
    )
    .await;
    let id = app
        .draft("cdn-purged", json!({ "primaryTopic": TOPIC }))
        .await;
    app.publish(&id).await;

    let article = format!("article:{id}");
    let wanted: BTreeSet<String> = [
        article.clone(),
        "list:latest".to_owned(),
        "list:search".to_owned(),
        format!("topic:{TOPIC}"),
    ]
    .into();
    let published = cdn.clone();
    eventually("the publication purged", LIMIT, || {
        published.tags().is_superset(&wanted)
    })
    .await;
    assert!(
        cdn.0.lock().unwrap().iter().all(|(key, _)| key == KEY),
        "every purge carries the Fastly-Key"
    );
    // Each response now showing the story carries a tag that was purged: the CDN's stale
    // copies of them are gone.
    let purged = cdn.tags();
    for path in [
        "/v1/articles/cdn-purged".to_owned(),
        "/v1/articles".to_owned(),
        format!("/v1/topics/{TOPIC}/articles"),
        "/v1/search?q=purged".to_owned(),
    ] {
        let tags = response_tags(&app, &path).await;
        assert!(
            !tags.is_disjoint(&purged),
            "{path} carries {tags:?}, purged {purged:?}"
        );
    }

    // A kill leaves the CDN: the article's tag (carried by every response that showed it).
    cdn.0.lock().unwrap().clear();
    let killed = app.as_editor(KILL, json!({ "id": id })).await;
    assert_eq!(killed["killArticle"]["status"], "KILLED");
    let after_kill = cdn.clone();
    eventually("the kill purged", LIMIT, || {
        after_kill.tags().contains(&article) && after_kill.tags().contains("list:latest")
    })
    .await;

    // An expiry leaves it when its instant comes (the clock moves; nobody writes).
    let expires = clock.now() + chrono::Duration::hours(1);
    let expiring = app
        .draft(
            "cdn-expiring",
            json!({ "primaryTopic": TOPIC, "expiresAt": expires.to_rfc3339() }),
        )
        .await;
    app.publish(&expiring).await;
    let expiring = format!("article:{expiring}");
    let published = cdn.clone();
    eventually("the expiring story's publication purged", LIMIT, || {
        published.tags().contains(&expiring)
    })
    .await;
    cdn.0.lock().unwrap().clear();
    clock.advance(chrono::Duration::hours(2));
    let expired = cdn.clone();
    eventually("the expiry purged", LIMIT, || {
        expired.tags().contains(&expiring)
    })
    .await;
    app.stop().await;
}
