//! A GraphQL document is bounded before anything walks it: tokens, fields reached through
//! fragments, aliases, cost (every list charged by its size), batches; persisted queries are
//! stored only once valid, within a byte budget; introspection and GraphiQL can be switched off.

use gazette_tests::{Db, TestApp, on_both_databases, spawn_app, spawn_app_with, spawn_seeded_app};
use serde_json::{Value, json};

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";

/// Every box of the sample page (article, body, topics, authors, corrections, related, "Hot
/// this week", latest, the topic list) in one query.
const SAMPLE_PAGE: &str = r#"
query ArticlePage($slug: String!) {
  article(slug: $slug) {
    id slug headline dek source publishedAt updatedAt substantiveUpdatedAt wordCount
    readingTimeMinutes canonicalUrl language
    heroImage { url alt caption credit }
    body {
      __typename
      ... on ParagraphBlock { text }
      ... on HeadingBlock { level text }
      ... on QuoteBlock { text attribution }
      ... on ImageBlock { image { url alt caption credit } }
      ... on EmbedBlock { url caption }
    }
    primaryTopic { slug name parent { slug name } }
    topics { slug name }
    authors { slug name }
    corrections { text createdAt }
    related(first: 5) { slug headline dek publishedAt primaryTopic { slug name } }
  }
  hot: trending(window: WEEK, first: 5) { article { slug headline dek } }
  latest: articles(first: 8) { edges { node { slug headline dek } } }
  topics(first: 50) { edges { node { slug name } } }
}"#;

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no extensions.code in {body}"))
}

/// Asserts a 400 without `data` whose code is `expected`.
async fn assert_refused(app: &TestApp, query: &str, expected: &str) {
    let (status, body) = app.gql(query, json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(code(&body), expected, "{body}");
}

/// `levels` fragments, each spreading the previous one twice: 2^levels fields from a few
/// hundred bytes.
fn fragment_bomb(levels: usize, leaf: &str) -> String {
    let mut document =
        format!("query Bomb {{ ...F{levels} }}\nfragment F0 on Query {{ {leaf} }}\n");
    for n in 1..=levels {
        document.push_str(&format!(
            "fragment F{n} on Query {{ ...F{p} ...F{p} }}\n",
            p = n - 1
        ));
    }
    document
}

#[tokio::test]
async fn fragment_bombs_are_refused_before_anything_expands_them() {
    let app = spawn_app(Db::Sqlite).await;
    // The issue's document: 24 levels, 2^24 fields, 1.2 KB.
    let bomb = fragment_bomb(24, "__typename");
    assert!(bomb.len() < 1300, "{}", bomb.len());
    assert_refused(&app, &bomb, "TOO_MANY_FIELDS").await;
    // Validation visits every operation and fragment, so one that would not run counts too.
    let hidden = format!(
        "query Small {{ __typename }}\n{}",
        fragment_bomb(30, "__typename").replace("query Bomb", "query Other")
    );
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": hidden, "operationName": "Small" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "TOO_MANY_FIELDS", "{body}");
    // A cycle is a validation error, found without recursing.
    assert_refused(
        &app,
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        "GRAPHQL_VALIDATION_FAILED",
    )
    .await;
    // Introspection is bounded the same way.
    assert_refused(
        &app,
        &fragment_bomb(24, "__schema { queryType { name } }"),
        "TOO_MANY_FIELDS",
    )
    .await;
}

#[tokio::test]
async fn documents_over_the_token_or_nesting_bound_are_refused_before_parsing() {
    let app = spawn_app(Db::Sqlite).await;
    let long = format!("{{ {} }}", "__typename ".repeat(2_500));
    assert_refused(&app, &long, "TOO_MANY_TOKENS").await;
    // Comments and strings are not tokens, and the parser reads them a character at a time:
    // the text has a byte bound before anything reads it.
    let commented = format!("# {}\n{{ __typename }}", "x".repeat(250 * 1024));
    assert_refused(&app, &commented, "DOCUMENT_TOO_LARGE").await;
    let string = format!(
        "{{ search(query: \"{}\") {{ __typename }} }}",
        "x".repeat(40 * 1024)
    );
    assert_refused(&app, &string, "DOCUMENT_TOO_LARGE").await;
    let nested = format!("{{ a(x: {}1{}) }}", "[".repeat(100), "]".repeat(100));
    assert_refused(&app, &nested, "NESTED_TOO_DEEP").await;
    // The bounds are settings.
    let strict = spawn_app_with(Db::Sqlite, |args| {
        args.graphql.max_query_tokens = 20;
        args.graphql.max_query_fields = 3;
    })
    .await;
    assert_refused(
        &strict,
        "{ a: __typename b: __typename c: __typename d: __typename }",
        "TOO_MANY_FIELDS",
    )
    .await;
    assert_refused(
        &strict,
        "query Twenty { a: __typename b: __typename c: __typename d: __typename e: __typename f: __typename g: __typename }",
        "TOO_MANY_TOKENS",
    )
    .await;
}

on_both_databases!(every_list_is_charged_by_its_size, |db| async move {
    let app = spawn_seeded_app(db, 20).await;
    // The sample page fits, with room to spare (it costs about a third of the limit).
    let data = app.gql_ok(SAMPLE_PAGE, json!({ "slug": SAMPLE })).await;
    assert!(!data["article"]["related"].as_array().unwrap().is_empty());
    assert!(!data["hot"].is_null() && !data["latest"]["edges"].as_array().unwrap().is_empty());
    // Each of these resolved tens of thousands of fields while costing a few hundred.
    for hostile in [
        // The issue's 170 bytes: ~800,000 fields.
        "{ articles(first: 100) { edges { node { related(first: 20) { related(first: 20) { related(first: 20) { slug } } } } } } }",
        "{ trending(first: 50) { article { related(first: 20) { related(first: 20) { slug } } } } }",
        "{ topics(first: 100) { edges { node { trending(first: 50) { article { topics { slug } } } } } } }",
        "{ topics(first: 100) { edges { node { children { children { slug } } } } } }",
        "{ articles(first: 100) { edges { node { body { ... on ParagraphBlock { text } } } } } }",
        // A whole body is charged like many fields, not one: 1,500 bodies (1.1 MiB) were 9,015.
        &format!(
            "{{ {} }}",
            (0..15)
                .map(|i| format!("a{i}: articles(first: 100) {{ edges {{ node {{ id headline dek bodyHtml }} }} }}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        "{ articles(first: 100) { edges { node { topics { children { slug } } } } } }",
        "{ articles(first: 100) { edges { node { authors { articles(first: 10) { edges { node { slug } } } } } } } }",
    ] {
        let before = app.store.statements_executed();
        let (status, body) = app.gql(hostile, json!({})).await;
        assert_eq!(status, 400, "{hostile}: {body}");
        assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{hostile}: {body}");
        // Refused before execution: not one statement ran.
        assert_eq!(app.store.statements_executed(), before, "{hostile}");
    }
});

#[tokio::test]
async fn aliases_are_limited_and_typename_is_free() {
    let app = spawn_app(Db::Sqlite).await;
    let aliases = |n: usize, field: &str| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}: {field}")).collect();
        format!("{{ {} }}", fields.join(" "))
    };
    // 5,500 aliased `trending` with made-up topics (the issue's request), and just over the
    // default of 15.
    assert_refused(
        &app,
        &aliases(16, r#"trending(topic: "x") { score }"#),
        "TOO_MANY_ALIASES",
    )
    .await;
    // Aliases hidden in a fragment count wherever it is spread.
    assert_refused(
        &app,
        &format!(
            "{{ ...F ...on Query {{ ...F }} }} fragment F on Query {} ",
            aliases(8, "node(id: \"x\") { id }")
        ),
        "TOO_MANY_ALIASES",
    )
    .await;
    let data = app.gql_ok(&aliases(200, "__typename"), json!({})).await;
    assert_eq!(data["a199"], "Query");
    let strict = spawn_app_with(Db::Sqlite, |args| args.graphql.max_aliases = 2).await;
    assert_refused(
        &strict,
        "{ a: __schema { queryType { name } } b: __schema { queryType { name } } c: __schema { queryType { name } } }",
        "TOO_MANY_ALIASES",
    )
    .await;
}

on_both_databases!(
    an_unknown_topic_in_trending_is_not_found_and_looked_up_in_one_statement,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let trending = |topics: &[&str]| {
            let fields: Vec<String> = topics
                .iter()
                .enumerate()
                .map(|(i, t)| format!(r#"t{i}: trending(topic: "{t}") {{ score }}"#))
                .collect();
            format!("{{ {} }}", fields.join(" "))
        };
        let made_up: Vec<String> = (0..15).map(|i| format!("made-up-topic-{i}")).collect();
        let made_up: Vec<&str> = made_up.iter().map(String::as_str).collect();
        let mut statements = Vec::new();
        for topics in [&made_up[..1], &made_up[..]] {
            let before = app.store.statements_executed();
            let (status, body) = app.gql(&trending(topics), json!({})).await;
            statements.push(app.store.statements_executed() - before);
            assert_eq!(status, 200, "{body}");
            let errors = body["errors"].as_array().unwrap();
            assert_eq!(errors.len(), topics.len(), "{body}");
            for (i, error) in errors.iter().enumerate() {
                assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{body}");
                let key = error["path"][0].as_str().unwrap();
                assert!(body["data"][key].is_null(), "{body}");
                assert!(key.starts_with('t') && i < topics.len());
            }
        }
        // At most one lookup for all the topics of a request (the first reads the taxonomy
        // the process keeps in memory, which then answers alone); no trending read for a
        // made-up one.
        assert!(
            statements.iter().all(|&n| n <= 1),
            "statements for 1 and 15 made-up topics: {statements:?}"
        );
        // The rest of the page is still answered, and a real topic has its list.
        let (status, body) = app
            .gql(
                r#"{ gone: trending(topic: "no-such-topic") { score } real: trending(topic: "korean-peninsula") { score } latest: articles(first: 1) { edges { cursor } } }"#,
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body["data"]["gone"].is_null(), "{body}");
        assert!(body["data"]["real"].is_array(), "{body}");
        assert_eq!(body["data"]["latest"]["edges"].as_array().unwrap().len(), 1);
        // REST says the same.
        assert_eq!(
            app.get("/v1/trending?topic=no-such-topic").await.status(),
            404
        );
    }
);

/// POSTs a JSON array of operations.
async fn post_batch(app: &TestApp, operations: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "application/json")
        .json(&operations)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

on_both_databases!(batches_are_capped_in_operations_and_cost, |db| async move {
    let app = spawn_app_with(db, |args| {
        args.allow_batching = true;
        args.graphql.max_batch_cost = 10;
    })
    .await;
    let eleven: Vec<Value> = (0..11)
        .map(|_| json!({ "query": "{ __typename }" }))
        .collect();
    let (status, body) = post_batch(&app, json!(eleven)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "BATCH_TOO_LARGE");
    // `topics(first: 3) { edges { cursor } }` costs 7: the second would make 14.
    let op = json!({ "query": "{ topics(first: 3) { edges { cursor } } }" });
    let (status, body) = post_batch(&app, json!([op, op])).await;
    assert_eq!(status, 200, "{body}");
    assert!(body[0].get("errors").is_none(), "{body}");
    assert!(body[0]["data"]["topics"]["edges"].is_array(), "{body}");
    assert_eq!(
        body[1]["errors"][0]["extensions"]["code"], "BATCH_TOO_COMPLEX",
        "{body}"
    );
    assert!(body[1]["data"].is_null(), "{body}");
});

#[tokio::test]
async fn persisted_queries_are_stored_only_once_valid_and_within_a_byte_budget() {
    let app = spawn_app_with(Db::Sqlite, |args| {
        args.graphql.apq_cache_bytes = 8 * 1024;
        args.graphql.apq_max_queries = 10;
    })
    .await;
    let sha = gazette_api::persisted::sha256_hex;
    // A document that does not parse, and one that does not validate, are not stored.
    for garbage in [
        "{ this is not graphql".to_owned(),
        format!("{{ nonsense }} # {}", "x".repeat(2000)),
    ] {
        let (status, body) = app.post_persisted(&sha(&garbage), Some(&garbage)).await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = app.post_persisted(&sha(&garbage), None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    }
    // Valid documents are; the oldest make room within the memory budget (about six of
    // these) and the registry's bound (ten).
    let padded = |n: usize| format!("query Q{n} {{ __typename }} # {}", "x".repeat(1000));
    for n in 0..20 {
        let (status, body) = app.post_persisted(&sha(&padded(n)), Some(&padded(n))).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(app.store.persisted_query_count().await.unwrap(), 10);
    let (_, newest) = app.post_persisted(&sha(&padded(19)), None).await;
    assert_eq!(newest["data"]["__typename"], "Query", "{newest}");
    // Out of memory but in the registry: read through.
    let (_, kept) = app.post_persisted(&sha(&padded(11)), None).await;
    assert_eq!(kept["data"]["__typename"], "Query", "{kept}");
    let (_, oldest) = app.post_persisted(&sha(&padded(0)), None).await;
    assert_eq!(code(&oldest), "PERSISTED_QUERY_NOT_FOUND", "{oldest}");
}

#[tokio::test]
async fn introspection_and_graphiql_can_be_switched_off() {
    let browser = "text/html,application/xhtml+xml,*/*;q=0.8";
    let schema = "{ __schema { queryType { name } } }";
    let app = spawn_app(Db::Sqlite).await;
    assert_eq!(
        app.gql_ok(schema, json!({})).await["__schema"]["queryType"]["name"],
        "Query"
    );
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", browser)
        .send()
        .await
        .unwrap();
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );

    let closed = spawn_app_with(Db::Sqlite, |args| {
        args.graphql.introspection = false;
        args.graphql.graphiql = false;
    })
    .await;
    assert_refused(&closed, schema, "INTROSPECTION_DISABLED").await;
    assert_refused(
        &closed,
        r#"{ ...T } fragment T on Query { __type(name: "Article") { name } }"#,
        "INTROSPECTION_DISABLED",
    )
    .await;
    assert_eq!(
        closed.gql_ok("{ __typename }", json!({})).await["__typename"],
        "Query"
    );
    let page = closed
        .client
        .get(closed.url("/graphql"))
        .header("accept", browser)
        .send()
        .await
        .unwrap();
    assert!(
        !page
            .text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
}
