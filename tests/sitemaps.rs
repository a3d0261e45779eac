//! The archive sitemap (`/sitemap.xml` and its pages `/sitemaps/articles-{n}.xml`) and the
//! Google News sitemap, each validated with `xmllint` against its XML schema
//! (`tests/fixtures/sitemaps/`) and read back with `roxmltree`, on both databases: with a small
//! page size, the index lists ⌈n / size⌉ pages, every public article is on exactly one of them
//! in publish order with its substantive-update time as `lastmod`, and killed, expired and
//! unpublished stories are on none.

use std::sync::Arc;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use gazette_app::{Clock as _, ManualClock};
use gazette_tests::{TestApp, on_both_databases, spawn_app_with};
use serde_json::json;

const SITE: &str = "https://news.example.com";
const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const PAGE_SIZE: u64 = 2;

/// `xmllint --schema` of `document` against `schema` (a file of `tests/fixtures/sitemaps/`).
fn assert_valid(schema: &str, document: &str, what: &str) {
    let dir = std::env::temp_dir().join(format!("gazette-sitemap-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("document.xml");
    std::fs::write(&file, document).unwrap();
    let schema = format!("{}/fixtures/sitemaps/{schema}", env!("CARGO_MANIFEST_DIR"));
    let output = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema", &schema])
        .arg(&file)
        .output()
        .expect("xmllint runs (Debian's libxml2-utils; .ci/run installs it)");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "{what} does not validate against {schema}:\n{}\n{document}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn get_xml(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/xml; charset=utf-8"
    );
    assert!(response.headers().contains_key("etag"), "{path}: an ETag");
    response.text().await.unwrap()
}

/// The `(loc, lastmod)` of each child `element` (`url` or `sitemap`) of the document's root.
fn entries(xml: &str, root: &str, element: &str) -> Vec<(String, Option<DateTime<Utc>>)> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let top = doc.root_element();
    assert_eq!(top.tag_name().name(), root);
    assert_eq!(top.tag_name().namespace(), Some(SITEMAP_NS));
    top.children()
        .filter(|n| n.is_element())
        .map(|node| {
            assert_eq!(node.tag_name().name(), element);
            let text = |name: &str| {
                node.children()
                    .find(|c| c.tag_name().name() == name)
                    .and_then(|c| c.text())
                    .map(str::to_owned)
            };
            let lastmod = text("lastmod").map(|t| {
                DateTime::parse_from_rfc3339(&t)
                    .expect("lastmod is an RFC 3339 date-time")
                    .with_timezone(&Utc)
            });
            (text("loc").expect("loc"), lastmod)
        })
        .collect()
}

/// The index's pages, each with its URLs; every document validated on the way.
type Listed = Vec<(String, Option<DateTime<Utc>>)>;

async fn read_archive(app: &TestApp) -> Vec<(String, Option<DateTime<Utc>>, Listed)> {
    let index = get_xml(app, "/sitemap.xml").await;
    assert_valid("siteindex.xsd", &index, "the sitemap index");
    let mut pages = Vec::new();
    for (loc, lastmod) in entries(&index, "sitemapindex", "sitemap") {
        let path = loc.strip_prefix(SITE).expect("a page under the site");
        let page = get_xml(app, path).await;
        assert_valid("sitemap.xsd", &page, path);
        pages.push((loc, lastmod, entries(&page, "urlset", "url")));
    }
    pages
}

fn second(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

on_both_databases!(
    the_archive_sitemap_pages_every_public_article_once,
    |db| async move {
        let clock = ManualClock::new();
        clock.freeze();
        let shared = clock.clone();
        let app = spawn_app_with(db, move |args| {
            args.clock = Arc::new(shared);
            args.feeds.site_url = format!("{SITE}/");
            args.feeds.sitemap_page_size = PAGE_SIZE;
        })
        .await;

        // An empty archive: one page, listing the home page (a sitemap must list one URL).
        let empty = read_archive(&app).await;
        assert_eq!(empty.len(), 1);
        assert_eq!(empty[0].0, format!("{SITE}/sitemaps/articles-1.xml"));
        assert_eq!(empty[0].1, None);
        assert_eq!(empty[0].2, [(format!("{SITE}/"), None)], "the home page");

        // Seven stories a minute apart; one gets a substantive update, one is killed, one
        // expires, one stays a draft.
        let mut ids = Vec::new();
        for n in 1..=7 {
            let slug = format!("archive-{n}");
            let extra = if n == 5 {
                json!({ "expiresAt": (clock.now() + Duration::hours(1)).to_rfc3339() })
            } else {
                json!({})
            };
            let id = app.draft(&slug, extra).await;
            app.publish(&id).await;
            ids.push((slug, id));
            clock.advance(Duration::minutes(1));
        }
        let draft = app.draft("archive-draft", json!({})).await;
        app.as_editor(
            "mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 2, substantive: true, \
             input: { headline: \"Archive two, updated\" }) { id } }",
            json!({ "id": ids[1].1 }),
        )
        .await;
        app.as_editor(
            "mutation($id: ID!) { killArticle(id: $id, reason: \"Legal\") { id } }",
            json!({ "id": ids[3].1 }),
        )
        .await;
        clock.advance(Duration::hours(2));

        // What readers see, with the time each sitemap URL must carry.
        let mut expected = Vec::new();
        for (slug, id) in &ids {
            let article = app
                .gql_ok(
                    "query($i: ID!) { article(id: $i) { publishedAt substantiveUpdatedAt } }",
                    json!({ "i": id }),
                )
                .await;
            let article = &article["article"];
            if article.is_null() {
                continue;
            }
            if slug == "archive-2" {
                assert!(
                    article["substantiveUpdatedAt"].is_string(),
                    "updated in substance"
                );
            }
            let modified = article["substantiveUpdatedAt"]
                .as_str()
                .or(article["publishedAt"].as_str())
                .unwrap();
            let modified = DateTime::parse_from_rfc3339(modified)
                .unwrap()
                .with_timezone(&Utc);
            expected.push((format!("{SITE}/articles/{slug}"), second(modified)));
        }
        let public: Vec<&str> = expected.iter().map(|(loc, _)| loc.as_str()).collect();
        assert_eq!(
            public,
            ["1", "2", "3", "6", "7"].map(|n| format!("{SITE}/articles/archive-{n}")),
            "killed (4), expired (5) and draft stories are not public"
        );

        let pages = read_archive(&app).await;
        // ⌈5 / 2⌉ pages, in order, each with its URLs' latest lastmod.
        assert_eq!(pages.len(), 3);
        let mut listed = Vec::new();
        for (n, (loc, lastmod, urls)) in pages.iter().enumerate() {
            assert_eq!(loc, &format!("{SITE}/sitemaps/articles-{}.xml", n + 1));
            assert_eq!(urls.len(), if n < 2 { 2 } else { 1 });
            let times: Vec<DateTime<Utc>> = urls
                .iter()
                .map(|(_, t)| t.expect("every article URL has a lastmod"))
                .collect();
            let latest = times.iter().max().copied().map(second);
            assert_eq!(lastmod.map(second), latest);
            listed.extend(
                urls.iter()
                    .zip(&times)
                    .map(|((loc, _), t)| (loc.clone(), second(*t))),
            );
        }
        assert_eq!(
            listed, expected,
            "every public article once, in publish order"
        );
        let whole = format!("{pages:?}");
        assert!(!whole.contains(&draft) && !whole.contains("archive-draft"));

        // Past the end: not found; any other name: refused, naming `file`.
        for (path, status) in [
            ("/sitemaps/articles-4.xml", 404),
            ("/sitemaps/articles-50000.xml", 404),
            ("/sitemaps/articles-0.xml", 400),
            ("/sitemaps/articles-01.xml", 400),
            ("/sitemaps/articles-50001.xml", 400),
            ("/sitemaps/articles-99999999999999999999.xml", 400),
            ("/sitemaps/articles-1.json", 400),
            ("/sitemaps/topics.xml", 400),
        ] {
            let response = app.get(path).await;
            assert_eq!(response.status(), status, "{path}");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{path}"
            );
            if status == 400 {
                let problem: serde_json::Value = response.json().await.unwrap();
                assert_eq!(problem["field"], "file", "{path}");
            }
        }

        // The news sitemap validates against sitemap.xsd with Google's news extension.
        let news = get_xml(&app, "/sitemap-news.xml").await;
        assert_valid("news.xsd", &news, "the news sitemap");
        assert!(news.contains("news:publication_date"), "{news}");
    }
);
