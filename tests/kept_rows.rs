//! A story page's lists from memory (`gazette_app::kept` and the taxonomy in memory): "Hot
//! this week" and the related stories read their articles' rows once per content generation,
//! and the byline its authors', the topic box comes from the taxonomy, and none of them is
//! ever stale. With the response cache off, so that every answer is computed: an edit, an
//! unpublish, an expiry and an author's rename show in the very next page, and on PostgreSQL an edit on one process reaches another's page
//! within a second. The topic box pages in byte order of the slugs, from memory as from
//! either database, also on a PostgreSQL database whose collation ignores hyphens.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gazette_app::{Clock as _, ManualClock};
use gazette_tests::{Db, TestApp, on_both_databases, spawn_app_with};
use serde_json::{Value, json};

const PAGE: &str = "query($s: String!) {
  article(slug: $s) { headline authors { name } topics { name } related(first: 3) { slug headline } }
  trending(first: 5) { article { slug headline } }
  topics(first: 20) { edges { node { slug } } }
}";

/// Response cache off; the trending and related rankings kept (as in production).
fn kept(args: &mut gazette_server::ServeArgs) {
    args.response_cache.response_cache_bytes = 0;
    args.views.trending_cache_ms = 60_000;
    args.views.related_cache_secs = 60;
}

async fn page(app: &TestApp) -> Value {
    app.gql_ok(PAGE, json!({ "s": "the-page" })).await
}

/// The `slug: headline` pairs of the page's trending and related lists.
fn lists(page: &Value) -> (Vec<String>, Vec<String>) {
    let pairs = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|item| {
                let article = item.get("article").unwrap_or(item);
                format!(
                    "{}: {}",
                    article["slug"].as_str().unwrap(),
                    article["headline"].as_str().unwrap()
                )
            })
            .collect()
    };
    (pairs(&page["trending"]), pairs(&page["article"]["related"]))
}

/// Three public stories of one topic and one author: the page, a hot one (most read) and a
/// sibling. Answers the hot one's, the sibling's and the author's ids.
async fn stories(app: &TestApp) -> (String, String, String) {
    app.as_editor(
        "mutation { createTopic(input: { slug: \"world\", name: \"World\" }) { id } }",
        json!({}),
    )
    .await;
    let author = app
        .as_editor(
            "mutation { createAuthor(input: { slug: \"jo\", name: \"Jo\" }) { id } }",
            json!({}),
        )
        .await["createAuthor"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for slug in ["the-page", "hot-one", "sibling"] {
        let id = app
            .draft(slug, json!({ "topics": ["world"], "authors": ["jo"] }))
            .await;
        app.publish(&id).await;
        ids.push(id);
    }
    app.view(&ids[1], 50).await;
    app.view(&ids[2], 5).await;
    (ids[1].clone(), ids[2].clone(), author)
}

on_both_databases!(
    a_story_page_reads_its_lists_from_memory_and_never_a_stale_row,
    |db| async move {
        let clock = ManualClock::new();
        let moved = clock.clone();
        let app = spawn_app_with(db, move |args| {
            kept(args);
            args.clock = Arc::new(moved);
        })
        .await;
        let (hot, sibling, author) = stories(&app).await;
        let (trending, related) = lists(&page(&app).await);
        assert_eq!(
            trending,
            ["hot-one: Draft hot-one", "sibling: Draft sibling"]
        );
        assert!(
            related.contains(&"sibling: Draft sibling".to_owned()),
            "{related:?}"
        );

        // Warm, the page is its article's row (with its topic and author ids): the byline,
        // the lists' rows and the topic box come from memory.
        app.store.record_statements();
        app.store.take_recorded_statements();
        let warm = page(&app).await;
        let sent = app.store.take_recorded_statements();
        assert_eq!(sent.len(), 1, "the article alone: {sent:#?}");
        assert_eq!(warm["topics"]["edges"][0]["node"]["slug"], "world");
        assert_eq!(warm["article"]["authors"], json!([{ "name": "Jo" }]));
        let rest = || async {
            let rest: Value = app.get("/v1/articles/the-page").await.json().await.unwrap();
            rest["authors"].clone()
        };
        assert_eq!(rest().await[0]["name"], "Jo", "REST's article too");

        // An author's rename shows in the very next page, GraphQL and REST.
        app.as_editor(
            "mutation($id: ID!) { updateAuthor(id: $id, input: { name: \"Jo Bloggs\" }) { id } }",
            json!({ "id": author }),
        )
        .await;
        assert_eq!(
            page(&app).await["article"]["authors"],
            json!([{ "name": "Jo Bloggs" }])
        );
        assert_eq!(rest().await[0]["name"], "Jo Bloggs");

        // An edit shows in the very next page, in both lists.
        app.update_article(&sibling, json!({ "headline": "Sibling, edited" }))
            .await;
        let (trending, related) = lists(&page(&app).await);
        assert_eq!(trending[1], "sibling: Sibling, edited");
        assert!(
            related.contains(&"sibling: Sibling, edited".to_owned()),
            "{related:?}"
        );

        // An unpublished story leaves both lists at once.
        app.as_editor(
            "mutation($id: ID!) { unpublishArticle(id: $id) { id } }",
            json!({ "id": sibling }),
        )
        .await;
        let (trending, related) = lists(&page(&app).await);
        assert_eq!(trending, ["hot-one: Draft hot-one"]);
        assert!(
            related.iter().all(|r| !r.starts_with("sibling")),
            "{related:?}"
        );

        // An expiry needs no write: the row kept is filtered at the reader's own instant.
        let at = (clock.now() + chrono::Duration::hours(1)).to_rfc3339();
        app.update_article(&hot, json!({ "expiresAt": at })).await;
        assert_eq!(lists(&page(&app).await).0, ["hot-one: Draft hot-one"]);
        clock.advance(chrono::Duration::minutes(61));
        let (trending, related) = lists(&page(&app).await);
        assert!(trending.is_empty(), "expired: {trending:?}");
        assert!(
            related.iter().all(|r| !r.starts_with("hot-one")),
            "{related:?}"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_on_one_process_reaches_another_s_lists_within_a_second() {
    let app = spawn_app_with(Db::Postgres, kept).await;
    let other = app.spawn_sibling_with(kept).await;
    let (hot, _, _) = stories(&app).await;
    // The other process hears of the writes asynchronously: read until it lists the hot story,
    // so that it keeps that story's row.
    let deadline = Instant::now() + Duration::from_secs(2);
    while lists(&page(&other).await).0.first().map(String::as_str) != Some("hot-one: Draft hot-one")
    {
        assert!(
            Instant::now() < deadline,
            "the other process never listed the story"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.update_article(&hot, json!({ "headline": "Hot, edited" }))
        .await;
    let edited = Instant::now();
    loop {
        let (trending, related) = lists(&page(&other).await);
        if trending[0] == "hot-one: Hot, edited"
            && related.iter().all(|r| !r.contains("Draft hot-one"))
        {
            break;
        }
        assert!(
            edited.elapsed() < Duration::from_secs(1),
            "the other process still shows the old headline: {trending:?} {related:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    other.stop().await;
}

/// Every page of `topics(first: 2)`, forwards then backwards, as slugs.
async fn topic_pages(app: &TestApp) -> (Vec<String>, Vec<String>) {
    let query = "query($f: Int, $a: String, $l: Int, $b: String) { topics(first: $f, after: $a, last: $l, before: $b) { edges { node { slug } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    let slugs = |data: &Value| -> Vec<String> {
        data["topics"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut forwards = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.gql_ok(query, json!({ "f": 2, "a": after })).await;
        forwards.extend(slugs(&data));
        let info = &data["topics"]["pageInfo"];
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
    }
    let mut backwards = Vec::new();
    let mut before = Value::Null;
    loop {
        let data = app.gql_ok(query, json!({ "l": 2, "b": before })).await;
        let mut page = slugs(&data);
        page.reverse();
        backwards.extend(page);
        let info = &data["topics"]["pageInfo"];
        if info["hasPreviousPage"] != true {
            break;
        }
        before = info["startCursor"].clone();
    }
    backwards.reverse();
    (forwards, backwards)
}

on_both_databases!(
    topic_pages_are_in_byte_order_from_memory_and_from_storage,
    |db| async move {
        // On PostgreSQL, a database whose collation ignores hyphens (as glibc's `en_US.UTF-8` does),
        // so that only the migration's byte order makes the two agree.
        let app = match db {
        Db::Sqlite => spawn_app_with(db, kept).await,
        Db::Postgres => {
            gazette_tests::spawn_postgres_app_created_with(
                "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-u-ka-shifted' LOCALE 'C.UTF-8'",
                kept,
            )
            .await
        }
    };
        let mut slugs = vec![
            "northern",
            "north-korea",
            "north0",
            "northa",
            "north-america",
            "n",
        ];
        for slug in &slugs {
            app.as_editor(
                "mutation($s: String!) { createTopic(input: { slug: $s, name: $s }) { id } }",
                json!({ "s": slug }),
            )
            .await;
        }
        slugs.sort_unstable();
        let (forwards, backwards) = topic_pages(&app).await;
        assert_eq!(forwards, slugs, "from memory, forwards");
        assert_eq!(backwards, slugs, "from memory, backwards");
        let request = gazette_domain::PageRequest {
            direction: gazette_domain::Direction::Forward,
            limit: 100,
            cursor: None,
        };
        let stored: Vec<String> = app
            .store
            .list_topics(&request)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|t| t.slug.as_str().to_owned())
            .collect();
        assert_eq!(stored, slugs, "from the database");
    }
);
