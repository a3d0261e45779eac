//! Feeds and the news sitemap: each document read back by an independent parser (`feed-rs` for
//! Atom, RSS and JSON Feed; `roxmltree` for the sitemap), on both databases. Newest first, stable
//! ids, bylines and topics, full text only where the syndication rules grant it, embargo to the
//! second, drafts never, and a problem body for each kind of bad request.

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, TimeDelta, Timelike, Utc};
use gazette_tests::{TestApp, editor, on_both_databases, spawn_app_with, spawn_seeded_app, token};
use serde_json::{Value, json};

const TOPIC: &str = "korean-peninsula";
const TOPIC_NAME: &str = "Korean Peninsula";
const OTHER_TOPIC: &str = "markets";
const FORMATS: [&str; 3] = ["atom", "rss", "json"];
const NEWS_NS: &str = "http://www.google.com/schemas/sitemap-news/0.9";
const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

fn scoped_partner() -> String {
    gazette_tests::partner(&["syndication"])
}

fn unscoped_partner() -> String {
    token("partner", "aggregator")
}

/// The words only an article's body holds: finding them in a document means full text leaked.
fn body_text(slug: &str) -> String {
    format!("Full text of {slug} for subscribers.")
}

fn dek(slug: &str) -> String {
    format!("Dek of {slug}.")
}

async fn editor_gql(app: &TestApp, query: &str, vars: Value) -> Value {
    app.as_editor(query, vars).await
}

/// Creates a draft in `topic` by Kim Min-ji; returns its id.
async fn draft(
    app: &TestApp,
    slug: &str,
    topic: &str,
    syndicatable: bool,
    embargo: Option<DateTime<Utc>>,
) -> String {
    let data = editor_gql(
        app,
        "mutation($i: CreateArticleInput!) { createArticle(input: $i) { id } }",
        json!({ "i": {
            "headline": format!("Feed story {slug}"),
            "slug": slug,
            "dek": dek(slug),
            "body": [{ "type": "paragraph", "text": body_text(slug) }],
            "primaryTopic": topic,
            "authors": ["kim-min-ji", "lee-jun-ho"],
            "syndicatable": syndicatable,
            "embargoUntil": embargo.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true)),
        } }),
    )
    .await;
    data["createArticle"]["id"].as_str().unwrap().to_owned()
}

/// Creates and publishes a story; returns its id.
async fn publish(
    app: &TestApp,
    slug: &str,
    topic: &str,
    syndicatable: bool,
    embargo: Option<DateTime<Utc>>,
) -> String {
    let id = draft(app, slug, topic, syndicatable, embargo).await;
    app.publish(&id).await;
    id
}

struct Fetched {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Fetched {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn problem(&self) -> Value {
        assert_eq!(
            self.content_type,
            "application/problem+json",
            "{}",
            self.text()
        );
        serde_json::from_slice(&self.body).expect("problem JSON")
    }

    fn feed(&self) -> feed_rs::model::Feed {
        assert_eq!(self.status, 200, "{}", self.text());
        feed_rs::parser::parse(self.body.as_slice())
            .unwrap_or_else(|e| panic!("feed-rs refuses the feed: {e}\n{}", self.text()))
    }
}

async fn fetch(app: &TestApp, path: &str, bearer: Option<&str>) -> Fetched {
    let mut request = app.client.get(app.url(path));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.expect("request sent");
    Fetched {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body: response.bytes().await.expect("body").to_vec(),
    }
}

fn content_type_of(format: &str) -> &'static str {
    match format {
        "atom" => "application/atom+xml; charset=utf-8",
        "rss" => "application/rss+xml; charset=utf-8",
        _ => "application/feed+json; charset=utf-8",
    }
}

fn entry_ids(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.id.clone()).collect()
}

fn urn(id: &str) -> String {
    format!("urn:uuid:{id}")
}

fn entry<'a>(feed: &'a feed_rs::model::Feed, id: &str) -> Option<&'a feed_rs::model::Entry> {
    feed.entries.iter().find(|e| e.id == urn(id))
}

on_both_databases!(
    feeds_parse_and_list_newest_first_with_bylines_and_topics,
    |db| async move {
        let app = spawn_seeded_app(db, 5).await;
        let a = publish(&app, "feed-a", TOPIC, true, None).await;
        let b = publish(&app, "feed-b", OTHER_TOPIC, true, None).await;
        let c = publish(&app, "feed-c", TOPIC, false, None).await;
        for format in FORMATS {
            let path = format!("/feeds/latest.{format}");
            let fetched = fetch(&app, &path, None).await;
            assert_eq!(fetched.content_type, content_type_of(format), "{path}");
            let feed = fetched.feed();
            assert!(feed.title.is_some(), "{path}: a feed title");
            assert_eq!(feed.language.as_deref(), Some("en"), "{path}");
            let ids = entry_ids(&feed);
            assert_eq!(
                ids[..3],
                [urn(&c), urn(&b), urn(&a)],
                "{path}: newest first"
            );
            let published: Vec<_> = feed.entries.iter().map(|e| e.published.unwrap()).collect();
            assert!(
                published.windows(2).all(|w| w[0] >= w[1]),
                "{path}: ordered by publish time"
            );
            assert_eq!(feed.entries.len(), 5 + 9 + 3, "{path}: every public story");
            let newest = entry(&feed, &c).unwrap();
            let names: Vec<_> = newest
                .authors
                .iter()
                .filter_map(|p| p.name.clone())
                .collect();
            assert_eq!(
                names,
                ["Kim Min-ji", "Lee Jun-ho"],
                "{path}: byline in order"
            );
            assert!(
                newest
                    .categories
                    .iter()
                    .any(|c| c.term == TOPIC || c.term == TOPIC_NAME),
                "{path}: topics as categories: {:?}",
                newest.categories
            );
            assert!(
                newest
                    .links
                    .iter()
                    .any(|l| l.href == "http://127.0.0.1:8080/articles/feed-c"),
                "{path}: the article's link: {:?}",
                newest.links
            );
            assert!(newest.updated.is_some(), "{path}: updated");
            assert_eq!(
                newest.title.as_ref().map(|t| t.content.as_str()),
                Some("Feed story feed-c")
            );
            if format != "json" {
                // JSON Feed names the feed's own URL in `feed_url`, which feed-rs does not keep.
                assert!(
                    feed.links
                        .iter()
                        .any(|l| l.rel.as_deref() == Some("self") && l.href.ends_with(&path)),
                    "{path}: a self link: {:?}",
                    feed.links
                );
            }
            if format == "atom" {
                assert!(feed.updated.is_some(), "{path}: feed updated");
            }
        }
    }
);

on_both_databases!(
    drafts_and_stories_not_yet_live_are_never_in_a_feed,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let draft_id = draft(&app, "feed-draft", TOPIC, true, None).await;
        let scheduled = draft(&app, "feed-later", TOPIC, true, None).await;
        let at = (Utc::now() + TimeDelta::hours(2)).to_rfc3339();
        editor_gql(
            &app,
            "mutation($id: ID!, $at: String!) { scheduleArticle(id: $id, at: $at) { id } }",
            json!({ "id": scheduled, "at": at }),
        )
        .await;
        let archived = publish(&app, "feed-archived", TOPIC, true, None).await;
        editor_gql(
            &app,
            "mutation($id: ID!) { archiveArticle(id: $id) { id } }",
            json!({ "id": archived }),
        )
        .await;
        let editor = editor();
        let partner = scoped_partner();
        for viewer in [None, Some(partner.as_str()), Some(editor.as_str())] {
            for format in FORMATS {
                for path in [
                    format!("/feeds/latest.{format}"),
                    format!("/feeds/topics/{TOPIC}.{format}"),
                ] {
                    let feed = fetch(&app, &path, viewer).await.feed();
                    for hidden in [&draft_id, &scheduled, &archived] {
                        assert!(entry(&feed, hidden).is_none(), "{path} shows {hidden}");
                    }
                }
            }
        }
    }
);

on_both_databases!(
    item_ids_stay_put_when_an_article_is_edited_and_renamed,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let id = publish(&app, "feed-renamed", TOPIC, true, None).await;
        let before = fetch(&app, "/feeds/latest.atom", None).await.feed();
        let first = entry(&before, &id).expect("listed").clone();
        let version = editor_gql(
            &app,
            "query($id: ID!) { article(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await["article"]["version"]
            .clone();
        editor_gql(
            &app,
            "mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, \
         substantive: true, input: { slug: \"feed-renamed-again\", \
         headline: \"Feed story, corrected\" }) { id } }",
            json!({ "id": id, "v": version }),
        )
        .await;
        for format in FORMATS {
            let after = fetch(&app, &format!("/feeds/latest.{format}"), None)
                .await
                .feed();
            let second = entry(&after, &id).expect("still listed under the same id");
            assert_eq!(
                second.title.as_ref().unwrap().content,
                "Feed story, corrected"
            );
            assert!(
                second
                    .links
                    .iter()
                    .any(|l| l.href.ends_with("/articles/feed-renamed-again")),
                "{format}: the link follows the slug"
            );
            if format != "rss" {
                // RSS has no per-item update time.
                assert!(
                    second.updated.unwrap() > first.updated.unwrap(),
                    "{format}: a substantive edit moves `updated`"
                );
            }
        }
        assert_eq!(first.id, urn(&id));
    }
);

on_both_databases!(topic_feeds_hold_only_their_topic, |db| async move {
    let app = spawn_seeded_app(db, 30).await;
    let inside = publish(&app, "feed-inside", TOPIC, true, None).await;
    let outside = publish(&app, "feed-outside", OTHER_TOPIC, true, None).await;
    for format in FORMATS {
        let path = format!("/feeds/topics/{TOPIC}.{format}");
        let fetched = fetch(&app, &path, None).await;
        assert_eq!(fetched.content_type, content_type_of(format));
        let feed = fetched.feed();
        assert!(!feed.entries.is_empty());
        assert_eq!(feed.entries[0].id, urn(&inside), "{path}");
        assert!(entry(&feed, &outside).is_none(), "{path}");
        for e in &feed.entries {
            assert!(
                e.categories
                    .iter()
                    .any(|c| c.term == TOPIC || c.term == TOPIC_NAME),
                "{path}: {} is not in the topic: {:?}",
                e.id,
                e.categories
            );
        }
        assert!(
            feed.title
                .as_ref()
                .is_some_and(|t| t.content.contains(TOPIC_NAME)),
            "{path}: titled after the topic"
        );
    }
});

on_both_databases!(
    full_text_goes_only_to_syndication_partners_for_syndicatable_stories,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        publish(&app, "feed-open", TOPIC, true, None).await;
        publish(&app, "feed-closed", TOPIC, false, None).await;
        let scoped = scoped_partner();
        let unscoped = unscoped_partner();
        let editor = editor();
        // (viewer, query, full text of the syndicatable story, of the other one)
        let cases: [(&str, Option<&str>, &str, bool, bool); 7] = [
            ("reader", None, "", false, false),
            ("partner without scope", Some(&unscoped), "", false, false),
            ("syndication partner", Some(&scoped), "", true, false),
            (
                "syndication partner",
                Some(&scoped),
                "?content=full",
                true,
                false,
            ),
            (
                "syndication partner",
                Some(&scoped),
                "?content=summary",
                false,
                false,
            ),
            ("editor", Some(&editor), "", true, true),
            (
                "partner without scope",
                Some(&unscoped),
                "?content=summary",
                false,
                false,
            ),
        ];
        for (who, bearer, query, open_full, closed_full) in cases {
            for format in FORMATS {
                let path = format!("/feeds/latest.{format}{query}");
                let fetched = fetch(&app, &path, bearer).await;
                let feed = fetched.feed();
                let text = fetched.text();
                assert_eq!(
                    text.contains(&body_text("feed-open")),
                    open_full,
                    "{who} {path}: full text of the syndicatable story"
                );
                assert_eq!(
                    text.contains(&body_text("feed-closed")),
                    closed_full,
                    "{who} {path}: full text of the other story"
                );
                // Every item carries its dek, full text or not.
                let open = feed
                    .entries
                    .iter()
                    .find(|e| e.links.iter().any(|l| l.href.ends_with("/feed-open")))
                    .expect("listed");
                assert_eq!(
                    open.summary.as_ref().map(|s| s.content.as_str()),
                    Some(dek("feed-open").as_str()),
                    "{who} {path}"
                );
                if open_full {
                    let content = open.content.as_ref().and_then(|c| c.body.clone());
                    assert!(
                        content.is_some_and(|c| c.contains(&body_text("feed-open"))),
                        "{who} {path}: the body is the item's content"
                    );
                }
            }
        }
    }
);

on_both_databases!(
    asking_for_full_text_without_the_right_is_refused,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let unscoped = unscoped_partner();
        for format in FORMATS {
            for path in [
                format!("/feeds/latest.{format}?content=full"),
                format!("/feeds/topics/{TOPIC}.{format}?content=full"),
            ] {
                let anonymous = fetch(&app, &path, None).await;
                assert_eq!(anonymous.status, 401, "{path}");
                assert_eq!(anonymous.problem()["code"], "UNAUTHENTICATED");
                let partner = fetch(&app, &path, Some(&unscoped)).await;
                assert_eq!(partner.status, 403, "{path}");
                assert_eq!(partner.problem()["code"], "FORBIDDEN");
            }
        }
        let forged = fetch(&app, "/feeds/latest.atom", Some("not-a-token")).await;
        assert_eq!(forged.status, 401);
        assert_eq!(forged.problem()["code"], "UNAUTHENTICATED");
    }
);

on_both_databases!(bad_feed_requests_get_problem_bodies, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    // A well-formed name that names nothing, or no feed route at all: not found.
    for path in [
        "/feeds/topics/no-such-topic.atom",
        "/feeds/topics/no-such-topic.json",
        "/feeds/latest.xml",
    ] {
        let fetched = fetch(&app, path, None).await;
        assert_eq!(fetched.status, 404, "{path}");
        assert_eq!(fetched.problem()["code"], "NOT_FOUND", "{path}");
    }
    // A file name that is not a slug and a feed extension, or a bad parameter: refused, naming
    // it, as the OpenAPI document states.
    for (path, field) in [
        ("/feeds/topics/Not_A_Slug.rss", "file"),
        ("/feeds/topics/korean-peninsula.xml", "file"),
        ("/feeds/topics/korean-peninsula", "file"),
        ("/feeds/latest.rss?limit=0", "limit"),
        ("/feeds/latest.rss?limit=101", "limit"),
        ("/feeds/latest.rss?limit=-3", "limit"),
        ("/feeds/latest.rss?limit=ten", "limit"),
        ("/feeds/latest.rss?limit=", "limit"),
        ("/feeds/latest.rss?content=everything", "content"),
        ("/feeds/latest.rss?content=", "content"),
        ("/feeds/topics/korean-peninsula.json?content=%20", "content"),
    ] {
        let fetched = fetch(&app, path, None).await;
        assert_eq!(fetched.status, 400, "{path}");
        let problem = fetched.problem();
        assert_eq!(problem["code"], "BAD_USER_INPUT", "{path}");
        assert_eq!(problem["field"], field, "{path}");
    }
    // The members in any case, as every enum parameter.
    let summary = fetch(&app, "/feeds/latest.rss?content=Summary", None).await;
    assert_eq!(summary.status, 200);
});

on_both_databases!(
    feed_length_is_configurable_and_limit_bounded,
    |db| async move {
        let app = spawn_app_with(db, |args| args.feeds.feed_items = 3).await;
        gazette_persistence::seed_sample_content(&app.store, 120, Utc::now())
            .await
            .expect("seed");
        for (query, expected) in [
            ("", 3),
            ("?limit=7", 7),
            ("?limit=100", 100),
            ("?limit=1", 1),
        ] {
            for format in FORMATS {
                let path = format!("/feeds/latest.{format}{query}");
                let feed = fetch(&app, &path, None).await.feed();
                assert_eq!(feed.entries.len(), expected, "{path}");
            }
        }
    }
);

/// The child element `ns:name` of `node`.
fn child<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    ns: &str,
    name: &str,
) -> roxmltree::Node<'a, 'input> {
    node.children()
        .find(|n| n.tag_name().namespace() == Some(ns) && n.tag_name().name() == name)
        .unwrap_or_else(|| panic!("no {name} in {node:?}"))
}

/// The next whole second at least `ahead` from now.
fn whole_second_ahead(ahead: TimeDelta) -> DateTime<Utc> {
    let t = Utc::now() + ahead + TimeDelta::seconds(1);
    t.with_nanosecond(0).unwrap()
}

on_both_databases!(
    partners_get_an_embargoed_story_at_its_second_and_not_before,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let past = publish(
            &app,
            "feed-lifted",
            TOPIC,
            true,
            Some(Utc::now() - TimeDelta::seconds(1)),
        )
        .await;
        let far = publish(
            &app,
            "feed-far",
            TOPIC,
            true,
            Some(Utc::now() + TimeDelta::hours(1)),
        )
        .await;
        let embargo = whole_second_ahead(TimeDelta::seconds(2));
        let soon = publish(&app, "feed-soon", TOPIC, true, Some(embargo)).await;
        let scoped = scoped_partner();
        let unscoped = unscoped_partner();

        // Readers are not held back by a syndication embargo; they get the dek.
        let reader = fetch(&app, "/feeds/latest.atom", None).await.feed();
        for id in [&past, &far, &soon] {
            assert!(entry(&reader, id).is_some(), "readers see {id}");
        }
        for partner in [&scoped, &unscoped] {
            let feed = fetch(&app, "/feeds/latest.atom", Some(partner))
                .await
                .feed();
            assert!(
                entry(&feed, &past).is_some(),
                "an embargo just past is lifted"
            );
            assert!(entry(&feed, &far).is_none(), "an embargo ahead holds");
        }

        // Poll until the story appears: every answer without it must have started before the
        // embargo, and the one with it must have ended at or after it.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut absent_answers = 0;
        loop {
            let asked = Utc::now();
            let fetched = fetch(&app, "/feeds/latest.atom", Some(&scoped)).await;
            let answered = Utc::now();
            let feed = fetched.feed();
            if let Some(item) = entry(&feed, &soon) {
                assert!(
                    answered >= embargo,
                    "shown at {answered}, before its embargo {embargo}"
                );
                assert!(
                    item.content
                        .as_ref()
                        .and_then(|c| c.body.as_ref())
                        .is_some_and(|b| b.contains(&body_text("feed-soon"))),
                    "the syndication partner gets the full text once the embargo lifts"
                );
                break;
            }
            assert!(
                asked < embargo,
                "still hidden in an answer asked for at {asked}, after its embargo {embargo}"
            );
            absent_answers += 1;
            assert!(Instant::now() < deadline, "the embargo never lifted");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(absent_answers > 0, "the story was hidden while embargoed");
    }
);

on_both_databases!(
    news_sitemap_lists_the_last_two_days_with_news_tags,
    |db| async move {
        let app = spawn_app_with(db, |args| {
            args.feeds.site_name = "The Test Times".to_owned();
            args.feeds.site_url = "https://news.example.com/".to_owned();
        })
        .await;
        gazette_persistence::seed_sample_content(&app.store, 0, Utc::now())
            .await
            .expect("seed");
        let first = publish(&app, "sitemap-first", TOPIC, false, None).await;
        let second = publish(&app, "sitemap-second", OTHER_TOPIC, true, None).await;
        let hidden = draft(&app, "sitemap-draft", TOPIC, true, None).await;
        let fetched = fetch(&app, "/sitemap-news.xml", None).await;
        assert_eq!(fetched.status, 200, "{}", fetched.text());
        assert_eq!(fetched.content_type, "application/xml; charset=utf-8");
        let text = fetched.text();
        let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "urlset");
        assert_eq!(root.tag_name().namespace(), Some(SITEMAP_NS));
        let urls: Vec<_> = root
            .children()
            .filter(|n| n.is_element())
            .map(|url| {
                assert_eq!(url.tag_name().namespace(), Some(SITEMAP_NS));
                assert_eq!(url.tag_name().name(), "url");
                let loc = child(url, SITEMAP_NS, "loc").text().unwrap().to_owned();
                let news = child(url, NEWS_NS, "news");
                let publication = child(news, NEWS_NS, "publication");
                assert_eq!(
                    child(publication, NEWS_NS, "name").text(),
                    Some("The Test Times")
                );
                assert_eq!(child(publication, NEWS_NS, "language").text(), Some("en"));
                let date = child(news, NEWS_NS, "publication_date").text().unwrap();
                let date = DateTime::parse_from_rfc3339(date).expect("W3C date");
                assert!(Utc::now() - date.with_timezone(&Utc) < TimeDelta::days(2));
                let title = child(news, NEWS_NS, "title").text().unwrap().to_owned();
                (loc, title)
            })
            .collect();
        // The samples are from 2025: only this test's two stories are recent, newest first.
        assert_eq!(
            urls,
            [
                (
                    "https://news.example.com/articles/sitemap-second".to_owned(),
                    "Feed story sitemap-second".to_owned()
                ),
                (
                    "https://news.example.com/articles/sitemap-first".to_owned(),
                    "Feed story sitemap-first".to_owned()
                ),
            ]
        );
        assert!(!text.contains(&hidden) && !text.contains("sitemap-draft"));
        let _ = (first, second);
    }
);
