//! One stored article never breaks a shared document: characters XML cannot carry are left
//! out of every feed and the sitemap whatever is stored, an article whose URL no sitemap may
//! carry is skipped (and the rest listed), RSS descriptions are escaped text, and a news sitemap
//! with nothing recent is still a valid `urlset`. Each document is read back by an XML parser
//! (`roxmltree`) and a feed parser (`feed-rs`), on both databases.

use gazette_persistence::entities::{articles, authors, topics};
use gazette_tests::{TestApp, on_both_databases, spawn_app, spawn_seeded_app, token};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::{Value, json};

const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const NEWS_NS: &str = "http://www.google.com/schemas/sitemap-news/0.9";

async fn publish(app: &TestApp, slug: &str, dek: &str) -> String {
    let editor = token("editor", "desk");
    let id = app
        .gql_ok_as(
            &editor,
            "mutation($i: CreateArticleInput!) { createArticle(input: $i) { id } }",
            json!({ "i": {
                "headline": format!("Story {slug}"),
                "slug": slug,
                "dek": dek,
                "body": [{ "type": "paragraph", "text": format!("Body of {slug}.") }],
                "primaryTopic": "korean-peninsula",
                "authors": ["kim-min-ji"],
                "syndicatable": true
            } }),
        )
        .await["createArticle"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.gql_ok_as(
        &editor,
        "mutation($id: ID!) { publishArticle(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    id
}

/// GETs `path` (as `bearer` when given): status and body.
async fn get(app: &TestApp, path: &str, bearer: Option<&str>) -> (u16, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Every XML document that lists `topic`'s stories, as a reader and as a syndication partner
/// (who gets the full text in `content`): each parsed strictly.
async fn xml_documents(app: &TestApp) -> Vec<(String, String)> {
    let partner = gazette_tests::token_with_scope("partner", "wire", &["syndication"]);
    let mut documents = Vec::new();
    for path in [
        "/feeds/latest.atom",
        "/feeds/latest.rss",
        "/feeds/topics/korean-peninsula.atom",
        "/feeds/topics/korean-peninsula.rss",
        "/sitemap-news.xml",
    ] {
        for bearer in [None, Some(partner.as_str())] {
            let (status, text) = get(app, path, bearer).await;
            assert_eq!(status, 200, "{path}: {text}");
            if let Err(e) = roxmltree::Document::parse(&text) {
                panic!("{path} is not well-formed XML: {e}\n{text}");
            }
            if path.starts_with("/feeds/") {
                feed_rs::parser::parse(text.as_bytes())
                    .unwrap_or_else(|e| panic!("feed-rs refuses {path}: {e}"));
            }
            documents.push((path.to_owned(), text));
        }
    }
    documents
}

on_both_databases!(
    stored_characters_xml_forbids_never_reach_a_document,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let id = publish(&app, "dirty", "Fine dek.").await;
        // Written straight into the database, as rows saved before the input rules were.
        let conn = app.store.connection();
        let body =
            json!([{ "type": "paragraph", "text": "Body \u{2} with \u{C} controls \u{FFFE}." }]);
        articles::Entity::update_many()
            .col_expr(
                articles::Column::Headline,
                Expr::value("Dirty \u{FFFE} headline \u{1}"),
            )
            .col_expr(
                articles::Column::Dek,
                Expr::value("Dek \u{FFFF} \u{B} here"),
            )
            .col_expr(articles::Column::Body, Expr::value(body.to_string()))
            .filter(articles::Column::Id.eq(uuid::Uuid::parse_str(&id).unwrap()))
            .exec(conn)
            .await
            .unwrap();
        topics::Entity::update_many()
            .col_expr(
                topics::Column::Name,
                Expr::value("Korean \u{FFFF}Peninsula"),
            )
            .filter(topics::Column::Slug.eq("korean-peninsula"))
            .exec(conn)
            .await
            .unwrap();
        authors::Entity::update_many()
            .col_expr(authors::Column::Name, Expr::value("Kim \u{3}Min-ji"))
            .filter(authors::Column::Slug.eq("kim-min-ji"))
            .exec(conn)
            .await
            .unwrap();

        let documents = xml_documents(&app).await;
        for (path, text) in &documents {
            assert!(
                text.contains("Dirty  headline "),
                "{path} keeps the story, without the characters: {text}"
            );
        }
        // JSON carries any character: the article still reads as stored.
        let data = app
            .gql_ok(
                "query($id: ID!) { article(id: $id) { headline dek } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["article"]["headline"], "Dirty \u{FFFE} headline \u{1}");
        let (status, _) = get(&app, "/feeds/latest.json", None).await;
        assert_eq!(status, 200);
    }
);

on_both_databases!(
    an_article_whose_url_no_sitemap_can_carry_is_left_out_alone,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let editor = token("editor", "desk");
        let good = publish(&app, "good-story", "Good.").await;
        let bad = publish(&app, "bad-story", "Bad.").await;
        // The API refuses a URL a sitemap cannot carry, and takes the longest one it can.
        let longest = format!("https://example.com/{}", "a".repeat(2047 - 20));
        assert_eq!(longest.len(), 2047);
        for (url, accepted) in [(format!("{longest}b"), false), (longest.clone(), true)] {
            let (_, body) = app
                .gql_as(
                    &editor,
                    "mutation($id: ID!, $u: String!) { updateArticle(id: $id, expectedVersion: 2, input: { canonicalUrl: $u }) { id } }",
                    json!({ "id": good, "u": url }),
                )
                .await;
            match accepted {
                false => assert_eq!(
                    body["errors"][0]["extensions"]["field"], "canonicalUrl",
                    "{body}"
                ),
                true => assert!(body.get("errors").is_none(), "{body}"),
            }
        }
        // A row saved before the limits were aligned: 2,048 bytes.
        articles::Entity::update_many()
            .col_expr(
                articles::Column::CanonicalUrl,
                Expr::value(format!("{longest}x")),
            )
            .filter(articles::Column::Id.eq(uuid::Uuid::parse_str(&bad).unwrap()))
            .exec(app.store.connection())
            .await
            .unwrap();

        let (status, sitemap) = get(&app, "/sitemap-news.xml", None).await;
        assert_eq!(status, 200, "{sitemap}");
        let doc = roxmltree::Document::parse(&sitemap).unwrap();
        let locs: Vec<&str> = doc
            .descendants()
            .filter(|n| n.tag_name().namespace() == Some(SITEMAP_NS) && n.has_tag_name("loc"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(locs, [longest.as_str()], "the other story is listed");
        for path in [
            "/feeds/latest.atom",
            "/feeds/latest.rss",
            "/feeds/latest.json",
        ] {
            let (status, text) = get(&app, path, None).await;
            assert_eq!(status, 200, "{path}: {text}");
            let feed = feed_rs::parser::parse(text.as_bytes()).unwrap();
            let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
            assert!(ids.contains(&format!("urn:uuid:{good}").as_str()), "{path}");
            assert!(!ids.contains(&format!("urn:uuid:{bad}").as_str()), "{path}");
        }
    }
);

/// `text` with the five predefined entities decoded, as an HTML reader reads it.
fn html_decoded(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

on_both_databases!(rss_descriptions_are_escaped_text, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let dek = "Q&A: is 5 < 6? <b>Bold</b> & \"quoted\"";
    let id = publish(&app, "escaped-dek", dek).await;
    let (status, text) = get(&app, "/feeds/latest.rss", None).await;
    assert_eq!(status, 200);
    let doc = roxmltree::Document::parse(&text).unwrap();
    let item = doc
        .descendants()
        .filter(|n| n.has_tag_name("item"))
        .find(|item| {
            item.children()
                .any(|c| c.has_tag_name("guid") && c.text() == Some(&format!("urn:uuid:{id}")))
        })
        .expect("the item");
    let description = item
        .children()
        .find(|c| c.has_tag_name("description"))
        .and_then(|c| c.text())
        .unwrap();
    assert!(!description.contains('<'), "HTML markup in: {description}");
    assert_eq!(
        html_decoded(description),
        dek,
        "read as HTML, it is the dek"
    );
});

/// The `url` elements of a sitemap, each as its `loc` and whether it has news metadata; the
/// document must be a `urlset` holding at least one (sitemap.xsd).
fn sitemap_urls(text: &str) -> Vec<(String, bool)> {
    let doc = roxmltree::Document::parse(text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "urlset");
    assert_eq!(root.tag_name().namespace(), Some(SITEMAP_NS));
    let urls: Vec<(String, bool)> = root
        .children()
        .filter(|n| n.is_element())
        .map(|url| {
            assert_eq!(url.tag_name().name(), "url");
            let loc = url
                .children()
                .find(|c| c.has_tag_name((SITEMAP_NS, "loc")))
                .and_then(|c| c.text())
                .expect("every url has a loc")
                .to_owned();
            (
                loc,
                url.children().any(|c| c.has_tag_name((NEWS_NS, "news"))),
            )
        })
        .collect();
    assert!(!urls.is_empty(), "a urlset needs at least one url: {text}");
    urls
}

on_both_databases!(
    a_news_sitemap_with_nothing_recent_is_still_valid,
    |db| async move {
        // Nothing at all: the home page.
        let empty = spawn_app(db).await;
        let (status, text) = get(&empty, "/sitemap-news.xml", None).await;
        assert_eq!(status, 200);
        assert_eq!(
            sitemap_urls(&text),
            [("http://127.0.0.1:8080/".to_owned(), false)]
        );
        drop(empty);
        // Only stories older than two days (the samples are from 2025): the newest of them,
        // without news metadata.
        let app = spawn_seeded_app(db, 0).await;
        let newest: Value = app
            .gql_ok(
                "{ articles(first: 1) { edges { node { slug } } } }",
                json!({}),
            )
            .await;
        let slug = newest["articles"]["edges"][0]["node"]["slug"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, text) = get(&app, "/sitemap-news.xml", None).await;
        assert_eq!(status, 200);
        assert_eq!(
            sitemap_urls(&text),
            [(format!("http://127.0.0.1:8080/articles/{slug}"), false)]
        );
        // Once a story is recent, it is the news.
        publish(&app, "fresh-news", "Fresh.").await;
        let (_, text) = get(&app, "/sitemap-news.xml", None).await;
        assert_eq!(
            sitemap_urls(&text),
            [("http://127.0.0.1:8080/articles/fresh-news".to_owned(), true)]
        );
    }
);
