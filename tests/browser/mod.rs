//! The reference front page (`examples/web/`) in a real headless Chromium against the real
//! server: the sample article page box by box against the reference text, a related link, a
//! topic page, a story published during the test, revalidation with If-None-Match, the 404 and
//! API-down states, and screenshots at desktop and phone widths under
//! `target/browser-artifacts/`.
//!
//! One run, on SQLite: the page reaches storage only through the API, whose reads are tested on
//! both databases elsewhere; nothing in it differs by database.

mod chrome;

use std::collections::BTreeSet;
use std::path::PathBuf;

use gazette_tests::{Db, TestApp, spawn_app_with, token};
use serde_json::{Value, json};

use chrome::Chrome;

const SAMPLE_SLUG: &str = "putins-north-korea-visit-could-reshape-regional-security";
const REFERENCE: &str = include_str!("../fixtures/sample-article-page.txt");

/// The reference page cut into its boxes.
struct Reference {
    dateline: String,
    headline: String,
    source: String,
    body: Vec<String>,
    hot: Vec<(String, String)>,
    topics: Vec<(String, String)>,
}

impl Reference {
    fn parse() -> Reference {
        let chunks: Vec<String> = REFERENCE
            .split("\n\n")
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        let at = |title: &str| {
            chunks
                .iter()
                .position(|c| c == title)
                .unwrap_or_else(|| panic!("the reference has no `{title}` box"))
        };
        let (hot, topics, related) = (at("Hot this week"), at("Topics"), at("Related Articles"));
        let pairs = |from: usize, to: usize| -> Vec<(String, String)> {
            chunks[from + 1..to]
                .chunks(2)
                .map(|pair| (pair[0].clone(), pair[1].clone()))
                .collect()
        };
        Reference {
            dateline: chunks[0].clone(),
            headline: chunks[1].clone(),
            source: chunks[2].clone(),
            body: chunks[3..hot].to_vec(),
            hot: pairs(hot, topics),
            topics: pairs(topics, related),
        }
    }
}

/// What the page shows, read in one script: rendered text (`innerText`) of each part.
const READ_PAGE: &str = r##"
const text = (el) => (el ? el.innerText.trim() : null);
const cards = (root) => [...(root ? root.querySelectorAll(".card") : [])].map((c) => ({
  headline: text(c.querySelector(".card-headline")),
  dek: text(c.querySelector(".card-dek")),
  href: c.querySelector(".card-headline a")?.getAttribute("href"),
}));
const boxes = {};
for (const box of document.querySelectorAll("#rail section.box, #related")) {
  if (!box.hidden) boxes[text(box.querySelector("h2")).toLowerCase()] = cards(box);
}
return {
  title: document.title,
  path: location.pathname,
  h1: [...document.querySelectorAll("h1")].map(text),
  headings: [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")]
    .filter((h) => h.getClientRects().length > 0 || h.classList.contains("visually-hidden"))
    .map((h) => Number(h.tagName[1])),
  landmarks: ["header", "nav", "main", "aside", "footer"]
    .filter((tag) => document.querySelector(tag) !== null),
  dateline: text(document.querySelector(".story .dateline")),
  source: text(document.querySelector(".story .source")),
  body: [...document.querySelectorAll(".story-body > *")].map((block) =>
    block.matches("figure.quote")
      ? { quote: text(block.querySelector("blockquote")), attribution: text(block.querySelector("figcaption")) }
      : { text: text(block) }),
  main: cards(document.querySelector("main")),
  boxes,
  alert: text(document.querySelector("[role=alert]")),
  scrollWidth: document.documentElement.scrollWidth,
};
"##;

/// The page's GraphQL requests (method, URL) and the status each got on the wire, from
/// DevTools' network events (`responseReceivedExtraInfo` has the status the server sent: 304
/// for a revalidation, which `fetch` sees as the stored 200).
fn graphql_exchanges(events: &[Value]) -> Vec<(String, String, i64)> {
    let mut sent = Vec::new();
    let mut statuses = std::collections::HashMap::new();
    for event in events {
        let params = &event["params"];
        let id = params["requestId"].to_string();
        match event["method"].as_str() {
            Some("Network.requestWillBeSent") => {
                let request = &params["request"];
                let url = request["url"].as_str().unwrap_or_default();
                if url.contains("/graphql") {
                    let method = request["method"].as_str().unwrap_or_default();
                    sent.push((id, method.to_owned(), url.to_owned()));
                }
            }
            Some("Network.responseReceivedExtraInfo") => {
                statuses.insert(id, params["statusCode"].as_i64().unwrap_or_default());
            }
            _ => {}
        }
    }
    sent.into_iter()
        .map(|(id, method, url)| {
            let status = statuses.get(&id).copied().unwrap_or_default();
            (method, url, status)
        })
        .collect()
}

fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("browser-artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts directory");
    dir
}

fn pairs(cards: &Value) -> Vec<(String, String)> {
    cards
        .as_array()
        .unwrap_or_else(|| panic!("not a list of stories: {cards}"))
        .iter()
        .map(|c| {
            (
                c["headline"].as_str().unwrap_or_default().to_owned(),
                c["dek"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn headlines(cards: &Value) -> Vec<String> {
    pairs(cards).into_iter().map(|(h, _)| h).collect()
}

/// Headlines of `data` at `pointer` (a list of `{ headline }` or `{ article { headline } }`).
fn api_headlines(data: &Value, pointer: &str) -> Vec<String> {
    data.pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no list at {pointer}: {data}"))
        .iter()
        .map(|n| {
            n.get("article").unwrap_or(n)["headline"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// A page passes the structural checks: one h1, headings that never skip a level, every
/// landmark, no horizontal scrolling.
fn assert_accessible(page: &Value, width: i64) {
    assert_eq!(
        page["h1"].as_array().map(Vec::len),
        Some(1),
        "one h1: {page}"
    );
    let levels: Vec<i64> = page["headings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert_eq!(
        levels.first(),
        Some(&1),
        "the first heading is the h1: {levels:?}"
    );
    for pair in levels.windows(2) {
        assert!(
            pair[1] <= pair[0] + 1,
            "a heading level skipped: {levels:?}"
        );
    }
    assert_eq!(
        page["landmarks"],
        json!(["header", "nav", "main", "aside", "footer"]),
        "landmarks"
    );
    assert!(
        page["scrollWidth"].as_i64().unwrap() <= width,
        "wider than the {width}px window: {}",
        page["scrollWidth"]
    );
}

async fn publish_story(app: &TestApp, headline: &str, slug: &str) {
    let editor = token("editor", "newsdesk");
    let created = app
        .gql_ok_as(
            &editor,
            "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id } }",
            json!({ "input": {
                "headline": headline, "slug": slug,
                "dek": "Officials in both capitals confirmed the line on Friday.",
                "body": [{ "type": "paragraph", "text": "The hotline opens next week." }],
                "source": "News1", "primaryTopic": "korean-peninsula", "authors": ["kim-min-ji"]
            } }),
        )
        .await;
    app.gql_ok_as(
        &editor,
        "mutation($id: ID!) { publishArticle(id: $id) { status } }",
        json!({ "id": created["createArticle"]["id"] }),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_page_renders_the_sample_page_in_chromium() {
    let artifacts = artifacts_dir();
    // The browser keeps each answer and must ask again before reusing it (max-age 0), so the
    // test sees revalidation and fresh stories at once instead of after 30 s.
    let mut app = spawn_app_with(Db::Sqlite, |args| {
        args.web.web_example = true;
        args.delivery.cache_max_age_secs = 0;
        args.delivery.cache_stale_secs = 0;
    })
    .await;
    let now = chrono::Utc::now();
    gazette_persistence::seed_sample_content(&app.store, 30, now)
        .await
        .expect("seed");
    // What `gazette seed` adds to a fresh database: the reference page's "Hot this week".
    gazette_persistence::seed_sample_readership(&app.store, chrono::Duration::hours(24), now)
        .await
        .expect("sample readership");
    let reference = Reference::parse();
    let chrome = Chrome::start(&artifacts).await;
    let article_url = app.url(&format!("/articles/{SAMPLE_SLUG}"));

    // The sample article page, box by box.
    chrome.driver.goto(&article_url).await.expect("page opens");
    chrome
        .until("document.querySelector('.story h1')", "the article")
        .await;
    let page = chrome.eval(READ_PAGE).await;
    assert_eq!(page["title"], format!("{} — Gazette", reference.headline));
    assert_eq!(page["h1"][0], reference.headline.as_str());
    assert_eq!(page["dateline"], reference.dateline.as_str());
    assert_eq!(page["source"], reference.source.as_str());
    let blocks = page["body"].as_array().unwrap();
    // The reference prints quotes inline; the page sets each apart with its attribution.
    let plain = reference.body.len() - 2;
    for (n, paragraph) in reference.body[..plain].iter().enumerate() {
        assert_eq!(blocks[n]["text"], paragraph.as_str(), "paragraph {n}");
    }
    let quoted = reference.body[plain..].join(" ");
    let mut attributions = Vec::new();
    for block in &blocks[plain..] {
        let text = block["text"].as_str().or(block["quote"].as_str()).unwrap();
        assert!(quoted.contains(text), "`{text}` is not in the reference");
        if let Some(attribution) = block["attribution"].as_str() {
            attributions.push(attribution.split(',').next().unwrap().to_owned());
        }
    }
    assert_eq!(
        attributions,
        ["Park Won Gon", "Park Won Gon", "Im Eul Chul"]
    );
    for name in &attributions {
        assert!(
            quoted.contains(name.as_str()),
            "{name} is quoted in the reference"
        );
    }
    assert_eq!(pairs(&page["boxes"]["hot this week"]), reference.hot);
    assert_eq!(
        pairs(&page["boxes"]["topics"])
            .into_iter()
            .collect::<BTreeSet<_>>(),
        reference.topics.iter().cloned().collect::<BTreeSet<_>>(),
        "the Topics box holds the reference's stories (the latest, newest first)"
    );
    let api = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { related(first: 4) { slug headline } } }",
            json!({ "s": SAMPLE_SLUG }),
        )
        .await;
    let related = &page["boxes"]["related articles"];
    assert_eq!(headlines(related), api_headlines(&api, "/article/related"));
    assert!(!headlines(related).is_empty(), "related stories are listed");
    assert_accessible(&page, 1280);
    let desktop = chrome
        .screenshot(
            1280,
            false,
            &artifacts.join("article-desktop.png"),
            READ_PAGE,
        )
        .await;
    assert_accessible(&desktop, 1280);
    let phone = chrome
        .screenshot(375, true, &artifacts.join("article-phone.png"), READ_PAGE)
        .await;
    assert_accessible(&phone, 375);

    // One GraphQL request, a GET by persisted-query hash alone (a CDN can key on it), after the
    // one registration the first visitor makes; a reload revalidates it: 304 on the wire.
    let first = graphql_exchanges(&chrome.network_events().await);
    let gets: Vec<_> = first.iter().filter(|(m, ..)| m == "GET").collect();
    assert!(
        gets.iter()
            .all(|(_, url, ..)| url.contains("sha256Hash") && !url.contains("query=")),
        "{first:?}"
    );
    // Once registered, the hash alone is answered (200); the next load revalidates it (304).
    let mut reloads = Vec::new();
    for _ in 0..2 {
        chrome.driver.refresh().await.expect("reload");
        chrome
            .until(
                "document.querySelector('.story h1')",
                "the article after a reload",
            )
            .await;
        let exchanges = graphql_exchanges(&chrome.network_events().await);
        assert_eq!(
            exchanges.len(),
            1,
            "one GraphQL request per page: {exchanges:?}"
        );
        reloads.push(exchanges[0].clone());
    }
    let statuses: Vec<_> = reloads.iter().map(|(m, _, s)| (m.as_str(), *s)).collect();
    assert_eq!(statuses, [("GET", 200), ("GET", 304)], "{reloads:?}");
    let url = &reloads[1].1;
    assert!(
        url.contains("sha256Hash") && !url.contains("query="),
        "{url}"
    );
    let direct = app.client.get(url).send().await.expect("request");
    assert!(direct.headers().contains_key("etag"));
    assert!(
        direct.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public")
    );

    // A related link leads to that story.
    let target = related[0].clone();
    chrome
        .element("#related .card-headline a")
        .await
        .click()
        .await
        .expect("click");
    let headline = target["headline"].as_str().unwrap();
    chrome
        .until(
            &format!(
                "document.querySelector('h1')?.innerText === {}",
                json!(headline)
            ),
            "the related story",
        )
        .await;
    let page = chrome.eval(READ_PAGE).await;
    assert_eq!(page["path"], target["href"]);
    assert_eq!(page["title"], format!("{headline} — Gazette"));

    // A topic page: its latest stories and its own trending box.
    chrome
        .driver
        .goto(&app.url("/topics/markets"))
        .await
        .expect("topic page");
    chrome
        .until(
            "document.querySelector('main h1')?.innerText === 'Markets'",
            "the topic",
        )
        .await;
    let page = chrome.eval(READ_PAGE).await;
    let api = app
        .gql_ok(
            "{ topic(slug: \"markets\") { articles(first: 12) { nodes { headline } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        headlines(&page["main"]),
        api_headlines(&api, "/topic/articles/nodes")
    );
    assert_eq!(
        headlines(&page["boxes"]["hot this week"])[..4],
        [
            "Nasdaq Gains 4.4% as Tech Shares Lead Broad Market Surge",
            "Brent Settles at $64.96 as U.S.-China Tariff Truce Boosts Market Optimism",
            "Facing Sales Slump, Apple Cuts iPhone 16 Pro Prices Ahead of China’s 618 Festival",
            "From Tariff Turbulence to Takeoff: Boeing Soars on Trade Optimism",
        ]
    );
    assert_eq!(page["title"], "Markets — Gazette");
    assert_accessible(&page, 1280);

    // A story published while the article page is open appears when it is reloaded.
    chrome.driver.goto(&article_url).await.expect("page opens");
    chrome
        .until("document.querySelector('.story h1')", "the article")
        .await;
    let fresh = "Seoul and Beijing Agree on a Security Hotline";
    publish_story(&app, fresh, "seoul-and-beijing-agree-on-a-security-hotline").await;
    // The open page hears of it over /v1/live and says so, politely, with a link.
    chrome
        .until(
            &format!(
                "document.querySelector('#live-notice:not([hidden]) a')?.textContent === {}",
                json!(fresh)
            ),
            "the live notice of the new story",
        )
        .await;
    let notice = chrome
        .eval(
            "const n = document.querySelector('#live-notice'); \
             return { role: n.getAttribute('role'), href: n.querySelector('a').getAttribute('href') };",
        )
        .await;
    assert_eq!(notice["role"], "status");
    assert_eq!(
        notice["href"],
        "/articles/seoul-and-beijing-agree-on-a-security-hotline"
    );
    chrome.driver.refresh().await.expect("reload");
    chrome
        .until(
            &format!(
                "document.querySelector('#rail')?.innerText.includes({})",
                json!(fresh)
            ),
            "the new story after a reload",
        )
        .await;
    let page = chrome.eval(READ_PAGE).await;
    assert!(
        headlines(&page["boxes"]["topics"]).contains(&fresh.to_owned()),
        "the new story is listed: {}",
        page["boxes"]["topics"]
    );
    chrome.driver.goto(&app.url("/")).await.expect("front page");
    chrome
        .until("document.querySelector('.lead h2')", "the front page")
        .await;
    let page = chrome.eval(READ_PAGE).await;
    assert_eq!(
        headlines(&page["main"])[0],
        fresh,
        "the new story leads the front page"
    );
    assert_accessible(&page, 1280);

    // A missing article: a 404 page, not a blank one.
    chrome
        .driver
        .goto(&app.url("/articles/no-such-story"))
        .await
        .expect("page opens");
    chrome
        .until(
            "document.title === 'Page not found — Gazette'",
            "the 404 page",
        )
        .await;
    let page = chrome.eval(READ_PAGE).await;
    assert_eq!(page["h1"], json!(["Page not found"]));

    let errors = chrome.console_errors().await;
    assert!(
        !errors
            .iter()
            .any(|e| e.contains("Content Security Policy") || e.contains("Uncaught")),
        "the page raised errors: {errors:#?}"
    );

    // The API goes away under an open page: the next page says so.
    chrome.driver.goto(&article_url).await.expect("page opens");
    chrome
        .until("document.querySelector('.story h1')", "the article")
        .await;
    app.stop_server().await;
    chrome
        .element("#rail .card-headline a")
        .await
        .click()
        .await
        .expect("click");
    chrome
        .until(
            "document.querySelector('[role=alert] h1')",
            "the error state",
        )
        .await;
    let page = chrome.eval(READ_PAGE).await;
    assert_eq!(page["title"], "News unavailable — Gazette");
    assert!(
        page["alert"]
            .as_str()
            .unwrap()
            .contains("The news is not available right now")
    );
    chrome.quit().await;
}
