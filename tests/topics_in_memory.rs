//! The taxonomy held in memory (`gazette_app::topic_directory`): lists read their articles'
//! topics from it, never a stale one. With the response cache off, so that every answer is
//! computed: a topic written through the API shows in the very next list (GraphQL, REST, the
//! JSON feed), and on PostgreSQL a rename on one process reaches another's lists within a
//! second.

use std::time::{Duration, Instant};

use gazette_tests::{TestApp, on_both_databases, spawn_app_with};
use serde_json::{Value, json};

const LIST: &str = "{ articles(first: 5) { edges { node { slug primaryTopic { name parent { name } } topics { slug name } } } } }";

fn uncached(args: &mut gazette_server::ServeArgs) {
    args.response_cache.response_cache_bytes = 0;
}

async fn create_topic(app: &TestApp, slug: &str, name: &str, parent: Option<&str>) -> String {
    app.as_editor(
        "mutation($s: String!, $n: String!, $p: String) { createTopic(input: { slug: $s, name: $n, parent: $p }) { id } }",
        json!({ "s": slug, "n": name, "p": parent }),
    )
    .await["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn rename_topic(app: &TestApp, id: &str, name: &str) {
    app.as_editor(
        "mutation($id: ID!, $n: String!) { updateTopic(id: $id, input: { name: $n }) { id } }",
        json!({ "id": id, "n": name }),
    )
    .await;
}

/// Runs `query` twice (the first reads what the process keeps in memory) and answers the
/// second's data with the statements it sent.
async fn statements_of(app: &TestApp, query: &str) -> (Value, Vec<String>) {
    app.gql_ok(query, json!({})).await;
    app.store.record_statements();
    app.store.take_recorded_statements();
    let data = app.gql_ok(query, json!({})).await;
    (data, app.store.take_recorded_statements())
}

/// `key` of each object of `list`.
fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t[key].as_str().unwrap().to_owned())
        .collect()
}

/// The names of the first listed article's topics, in GraphQL, in REST and in the JSON feed
/// (its tags), and its primary topic's and that one's parent's names (GraphQL).
async fn shown(app: &TestApp) -> (Vec<String>, Vec<String>, Vec<String>, Value) {
    let data = app.gql_ok(LIST, json!({})).await;
    let node = &data["articles"]["edges"][0]["node"];
    let graphql = names(&node["topics"], "name");
    let rest: Value = app.get("/v1/articles?limit=5").await.json().await.unwrap();
    let rest = names(&rest["items"][0]["topics"], "name");
    let feed: Value = app.get("/feeds/latest.json").await.json().await.unwrap();
    let feed = feed["items"][0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    (graphql, rest, feed, node["primaryTopic"].clone())
}

on_both_databases!(
    every_topic_write_shows_in_the_very_next_list,
    |db| async move {
        let app = spawn_app_with(db, uncached).await;
        let world = create_topic(&app, "world", "World", None).await;
        create_topic(&app, "asia", "Asia", Some("world")).await;
        let id = app
            .draft(
                "in-memory",
                json!({ "primaryTopic": "asia", "topics": ["world"] }),
            )
            .await;
        app.publish(&id).await;
        let (graphql, rest, feed, primary) = shown(&app).await;
        assert_eq!(graphql, ["Asia", "World"]);
        assert_eq!(rest, graphql, "REST lists the same topics");
        assert_eq!(feed, graphql, "the feed's tags are the topics");
        assert_eq!(
            primary,
            json!({ "name": "Asia", "parent": { "name": "World" } })
        );

        // A rename: the very next list of every surface.
        rename_topic(&app, &world, "Abroad").await;
        let (graphql, rest, feed, primary) = shown(&app).await;
        assert_eq!(graphql, ["Asia", "Abroad"]);
        assert_eq!(rest, graphql);
        assert_eq!(feed, graphql);
        assert_eq!(primary["parent"]["name"], "Abroad", "a parent too");

        // The article page: its row carries its topic ids and its body, its topics come
        // from memory.
        let page = r#"{ article(slug: "in-memory") { headline bodyText topics { name } } }"#;
        let (data, sent) = statements_of(&app, page).await;
        assert_eq!(data["article"]["bodyText"], "Text.");
        assert_eq!(
            data["article"]["topics"],
            json!([{ "name": "Asia" }, { "name": "Abroad" }])
        );
        assert_eq!(
            sent.len(),
            1,
            "an article with its topics and body: {sent:#?}"
        );
        let rest: Value = app
            .get("/v1/articles/in-memory")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            names(&rest["topics"], "name"),
            ["Asia", "Abroad"],
            "REST's article too"
        );

        // A topic created after the taxonomy was last read, then given to the story.
        create_topic(&app, "science", "Science", None).await;
        app.update_article(&id, json!({ "topics": ["science", "world"] }))
            .await;
        let (graphql, rest, feed, _) = shown(&app).await;
        assert_eq!(
            graphql,
            ["Asia", "Science", "Abroad"],
            "in the story's order"
        );
        assert_eq!(rest, graphql);
        assert_eq!(feed, graphql);

        // The topic pages read the same taxonomy: a section front is its list alone.
        let front = r#"{ topic(slug: "world") { name articles(first: 5) { edges { node { slug topics { name } } } } } }"#;
        let (data, sent) = statements_of(&app, front).await;
        assert_eq!(data["topic"]["name"], "Abroad");
        assert_eq!(
            data["topic"]["articles"]["edges"][0]["node"]["topics"][2]["name"],
            "Abroad"
        );
        assert_eq!(sent.len(), 1, "a section front: {sent:#?}");
        let rest: Value = app.get("/v1/topics/asia").await.json().await.unwrap();
        assert_eq!(rest["parent"]["name"], "Abroad", "{rest}");
        let gone = app.get("/v1/topics/no-such-topic").await;
        assert_eq!(
            gone.status(),
            404,
            "a slug not in the taxonomy names nothing"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_on_one_process_reaches_another_within_a_second() {
    let app = spawn_app_with(gazette_tests::Db::Postgres, uncached).await;
    let other = app.spawn_sibling_with(uncached).await;
    let world = create_topic(&app, "world", "World", None).await;
    let id = app.draft("two-nodes", json!({ "topics": ["world"] })).await;
    app.publish(&id).await;
    // The other process hears of the writes asynchronously: read until it lists the story,
    // so that its taxonomy in memory holds "World".
    let deadline = Instant::now() + Duration::from_secs(2);
    while shown(&other).await.0 != ["World"] {
        assert!(
            Instant::now() < deadline,
            "the story never listed with its topic"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    rename_topic(&app, &world, "Abroad").await;
    let renamed = Instant::now();
    loop {
        let (graphql, rest, feed, _) = shown(&other).await;
        if graphql == ["Abroad"] && rest == graphql && feed == graphql {
            break;
        }
        assert!(
            renamed.elapsed() < Duration::from_secs(1),
            "the other process still lists the old name: {graphql:?} {rest:?} {feed:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    other.stop().await;
}

// Past `MAX_TOPICS_IN_MEMORY` topics the taxonomy is not kept: lists read their topics from the
// database (one statement more) and show the same.
on_both_databases!(
    a_taxonomy_too_large_to_keep_is_read_from_the_database,
    |db| async move {
        use gazette_app::topic_directory::MAX_TOPICS_IN_MEMORY;
        use sea_orm::ConnectionTrait as _;
        let app = spawn_app_with(db, uncached).await;
        create_topic(&app, "world", "World", None).await;
        let id = app.draft("crowded", json!({ "topics": ["world"] })).await;
        app.publish(&id).await;
        let list = "{ articles(first: 1) { edges { node { topics { name } } } } }";
        let listed_topics = |data: &Value| data["articles"]["edges"][0]["node"]["topics"].clone();
        let (data, sent) = statements_of(&app, list).await;
        assert_eq!(listed_topics(&data), json!([{ "name": "World" }]));
        assert_eq!(sent.len(), 1, "topics from memory: {sent:#?}");

        // Enough topics behind the application's back to pass the bound, then a write through
        // it so that every process reads the taxonomy again.
        let conn = app.store.connection();
        let uuid = match conn.get_database_backend() {
            sea_orm::DbBackend::Sqlite => "randomblob(16)",
            _ => "gen_random_uuid()",
        };
        conn.execute_unprepared(&format!(
            "INSERT INTO topics (id, slug, name, description, parent_id, created_at, updated_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MAX_TOPICS_IN_MEMORY}) \
             SELECT {uuid}, 'bulk-' || i, 'Bulk ' || i, '', NULL, t.created_at, t.updated_at \
             FROM n, (SELECT created_at, updated_at FROM topics LIMIT 1) t"
        ))
        .await
        .unwrap();
        create_topic(&app, "one-more", "One more", None).await;
        let (data, sent) = statements_of(&app, list).await;
        assert_eq!(listed_topics(&data), json!([{ "name": "World" }]));
        assert_eq!(sent.len(), 2, "the list, then its topics: {sent:#?}");
    }
);
