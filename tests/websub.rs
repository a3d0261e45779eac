//! WebSub: feeds name the hub (HTTP `Link` headers, `atom:link` in Atom and RSS, JSON Feed
//! `hubs`) only when one is configured, and publications, updates and removals (also an
//! expiry coming due) ping it in the background, retried when it fails. The hub is a small axum
//! server on 127.0.0.1 that records each ping and can hold requests or fail them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use gazette_app::{Clock as _, ManualClock};
use gazette_tests::{TestApp, eventually, on_both_databases, spawn_app_with};
use serde_json::{Value, json};
use tokio::sync::watch;

const SITE: &str = "https://news.example.com";
const TOPIC: &str = "harbour";

/// One ping the hub received, with the status it answered.
#[derive(Debug, Clone)]
struct Ping {
    content_type: String,
    form: Vec<(String, String)>,
    status: u16,
}

#[derive(Clone)]
struct Hub {
    pings: Arc<Mutex<Vec<Ping>>>,
    /// Requests that reached the handler (held ones included).
    arrived: Arc<AtomicUsize>,
    /// Answer 500 to this many more pings.
    fail: Arc<AtomicUsize>,
    /// While true, the hub holds each request.
    hold: Arc<watch::Sender<bool>>,
}

impl Hub {
    async fn start() -> (Self, String) {
        let hub = Self {
            pings: Arc::default(),
            arrived: Arc::default(),
            fail: Arc::default(),
            hold: Arc::new(watch::Sender::new(false)),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hub", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/hub", post(receive))
            .with_state(hub.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (hub, url)
    }

    fn pings(&self) -> Vec<Ping> {
        self.pings.lock().unwrap().clone()
    }

    /// The feed URLs pinged with `status`.
    fn urls(&self, status: u16) -> Vec<String> {
        let mut urls: Vec<String> = self
            .pings()
            .into_iter()
            .filter(|p| p.status == status)
            .filter_map(|p| {
                p.form
                    .iter()
                    .find(|(k, _)| k == "hub.url")
                    .map(|(_, v)| v.clone())
            })
            .collect();
        urls.sort();
        urls.dedup();
        urls
    }
}

async fn receive(State(hub): State<Hub>, headers: HeaderMap, body: String) -> StatusCode {
    hub.arrived.fetch_add(1, Ordering::SeqCst);
    let mut held = hub.hold.subscribe();
    let _ = held.wait_for(|hold| !*hold).await;
    let failing = hub
        .fail
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    };
    let form = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    hub.pings.lock().unwrap().push(Ping {
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        form,
        status: status.as_u16(),
    });
    status
}

/// Percent-decoding of a form value (`+` is a space).
fn decode(raw: &str) -> String {
    let bytes = raw.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn feeds(topic: Option<&str>) -> Vec<String> {
    ["atom", "rss", "json"]
        .iter()
        .map(|ext| match topic {
            None => format!("{SITE}/feeds/latest.{ext}"),
            Some(slug) => format!("{SITE}/feeds/topics/{slug}.{ext}"),
        })
        .collect()
}

async fn story(app: &TestApp, slug: &str, extra: Value) -> String {
    let mut input = json!({ "primaryTopic": TOPIC });
    for (key, value) in extra.as_object().unwrap() {
        input[key] = value.clone();
    }
    app.draft(slug, input).await
}

const LIMIT: Duration = Duration::from_secs(20);

on_both_databases!(
    publications_and_removals_ping_the_hub_in_the_background,
    |db| async move {
        let (hub, hub_url) = Hub::start().await;
        let clock = ManualClock::new();
        let shared = clock.clone();
        let app = spawn_app_with(db, move |args| {
            args.clock = Arc::new(shared);
            args.feeds.site_url = SITE.to_owned();
            args.feeds.websub_hub = Some(hub_url);
        })
        .await;
        app.as_editor(
            &format!("mutation {{ createTopic(input: {{ slug: \"{TOPIC}\", name: \"Harbour\" }}) {{ id }} }}"),
            json!({}),
        )
        .await;

        // The hub holds every request: the publication still answers, and only then is the
        // hub let go.
        hub.hold.send_replace(true);
        let first = story(&app, "websub-first", json!({})).await;
        app.publish(&first).await;
        let arrived = hub.arrived.clone();
        eventually("a ping reached the held hub", LIMIT, || {
            arrived.load(Ordering::SeqCst) > 0
        })
        .await;
        assert!(hub.pings().is_empty(), "nothing answered while held");
        hub.hold.send_replace(false);
        let mut wanted: Vec<String> = feeds(None).into_iter().chain(feeds(Some(TOPIC))).collect();
        wanted.sort();
        let pinged = hub.clone();
        eventually("the latest and topic feeds pinged", LIMIT, || {
            pinged.urls(204) == wanted
        })
        .await;
        for ping in hub.pings() {
            assert_eq!(ping.content_type, "application/x-www-form-urlencoded");
            assert_eq!(ping.form[0], ("hub.mode".to_owned(), "publish".to_owned()));
        }

        // A failing hub is asked again.
        hub.pings.lock().unwrap().clear();
        hub.fail.store(1, Ordering::SeqCst);
        let second = story(&app, "websub-second", json!({})).await;
        app.publish(&second).await;
        let retried = hub.clone();
        eventually("every feed pinged after a 500", LIMIT, || {
            retried.urls(204) == wanted
        })
        .await;
        let failed = hub.urls(500);
        assert_eq!(failed.len(), 1, "{:?}", hub.pings());
        assert!(hub.urls(204).contains(&failed[0]), "the failed one, again");

        // An expiry pings when its instant comes (the clock moves; nobody writes).
        let expires = clock.now() + chrono::Duration::hours(1);
        let third = story(
            &app,
            "websub-expiring",
            json!({ "expiresAt": expires.to_rfc3339() }),
        )
        .await;
        hub.pings.lock().unwrap().clear();
        app.publish(&third).await;
        let published = hub.clone();
        eventually("the expiring story's publication pinged", LIMIT, || {
            published.urls(204) == wanted
        })
        .await;
        hub.pings.lock().unwrap().clear();
        clock.advance(chrono::Duration::hours(2));
        let expired = hub.clone();
        eventually("the expiry pinged", LIMIT, || expired.urls(204) == wanted).await;
    }
);

/// The `Link` header values of `path`, and its body.
async fn links_and_body(app: &TestApp, path: &str) -> (Vec<String>, String) {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let links = response
        .headers()
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    (links, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_name_the_hub_only_when_one_is_configured() {
    let hub = "http://hub.example.net/websub";
    let with = spawn_app_with(gazette_tests::Db::Sqlite, |args| {
        args.feeds.site_url = SITE.to_owned();
        args.feeds.websub_hub = Some(hub.to_owned());
    })
    .await;
    let without = spawn_app_with(gazette_tests::Db::Sqlite, |args| {
        args.feeds.site_url = SITE.to_owned();
    })
    .await;
    for ext in ["atom", "rss", "json"] {
        let path = format!("/feeds/latest.{ext}");
        let self_url = format!("{SITE}{path}");
        let (links, body) = links_and_body(&with, &path).await;
        assert_eq!(
            links,
            [
                format!("<{hub}>; rel=\"hub\""),
                format!("<{self_url}>; rel=\"self\"")
            ],
            "{path}"
        );
        // Still a feed every reader parses.
        let parsed = feed_rs::parser::parse(body.as_bytes()).expect("a feed");
        match ext {
            "json" => {
                let json: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(json["hubs"], json!([{ "type": "WebSub", "url": hub }]));
                assert_eq!(json["feed_url"], self_url);
            }
            _ => {
                let doc = roxmltree::Document::parse(&body).unwrap();
                let atom_links: Vec<(&str, &str)> = doc
                    .descendants()
                    .filter(|n| {
                        n.tag_name().name() == "link"
                            && n.tag_name().namespace() == Some("http://www.w3.org/2005/Atom")
                            && n.parent()
                                .is_some_and(|p| matches!(p.tag_name().name(), "feed" | "channel"))
                    })
                    .filter_map(|n| Some((n.attribute("rel")?, n.attribute("href")?)))
                    .collect();
                assert!(atom_links.contains(&("hub", hub)), "{path}: {atom_links:?}");
                assert!(
                    atom_links.contains(&("self", self_url.as_str())),
                    "{path}: {atom_links:?}"
                );
                if ext == "atom" {
                    assert!(
                        parsed.links.iter().any(|l| l.href == hub),
                        "{path}: feed-rs reads the hub link"
                    );
                }
            }
        }
        let (links, body) = links_and_body(&without, &path).await;
        assert!(links.is_empty(), "{path}: {links:?}");
        assert!(!body.contains("hub"), "{path}: {body}");
        feed_rs::parser::parse(body.as_bytes()).expect("a feed");
    }
}
