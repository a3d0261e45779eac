//! REST JSON under `/v1`: lists page and filter exactly as GraphQL's connections do, the
//! caller's token decides what is visible, a renamed article redirects, responses carry cache
//! tags, and bad input gets problem responses. (The OpenAPI contract is in `rest_contract`.)

use std::collections::HashSet;

use gazette_tests::{TestApp, on_both_databases, spawn_seeded_app, token, token_with_scope};
use serde_json::{Value, json};

/// A sample story: primary topic `korean-peninsula`, authors `kim-min-ji` and `lee-jun-ho`.
pub const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";

/// GETs `path` as `token` (anonymous when `None`), without following redirects; returns the
/// status, the headers and the body as JSON (null when empty).
pub async fn rest(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut request = client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: not JSON ({e})"))
    };
    (status, headers, body)
}

/// GETs `path` anonymously and expects 200; returns the body.
async fn ok(app: &TestApp, path: &str) -> Value {
    let (status, _, body) = rest(app, None, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn slugs(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {list}"))
        .iter()
        .map(|a| a["slug"].as_str().unwrap().to_owned())
        .collect()
}

const GQL_ARTICLES: &str = "query($first: Int, $after: String, $last: Int, $before: String,
    $filter: ArticleFilter, $order: ArticleOrderBy) {
  articles(first: $first, after: $after, last: $last, before: $before, filter: $filter,
    orderBy: $order) {
    edges { cursor node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

fn gql_slugs(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap().to_owned())
        .collect()
}

async fn editor_gql(app: &TestApp, query: &str, variables: Value) -> Value {
    app.as_editor(query, variables).await
}

/// Creates a draft filed under `markets` by `kim-min-ji`; returns its id.
async fn create_draft(app: &TestApp, slug: &str) -> String {
    app.draft(
        slug,
        json!({
            "headline": format!("REST case {slug}"),
            "primaryTopic": "markets",
            "authors": ["kim-min-ji"]
        }),
    )
    .await
}

on_both_databases!(pages_walk_the_whole_list_like_graphql, |db| async move {
    let app = spawn_seeded_app(db, 40).await;
    let all = app.gql_ok(GQL_ARTICLES, json!({ "first": 100 })).await;
    let expected = gql_slugs(&all["articles"]);
    assert_eq!(expected.len(), 49);

    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            None => "/v1/articles?first=7".to_owned(),
            Some(cursor) => format!("/v1/articles?first=7&after={cursor}"),
        };
        let page = ok(&app, &path).await;
        if after.is_none() {
            // The same opaque cursors as GraphQL's edges.
            assert_eq!(
                page["pageInfo"]["endCursor"],
                all["articles"]["edges"][6]["cursor"]
            );
            assert_eq!(page["pageInfo"]["hasPreviousPage"], false);
        }
        seen.extend(slugs(&page));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an article was repeated");
    assert_eq!(seen, expected);

    // Backwards from the end with `last`/`before`.
    let mut backward: Vec<String> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let path = match &before {
            None => "/v1/articles?last=6".to_owned(),
            Some(cursor) => format!("/v1/articles?last=6&before={cursor}"),
        };
        let page = ok(&app, &path).await;
        let mut slugs = slugs(&page);
        slugs.extend(backward);
        backward = slugs;
        if page["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = page["pageInfo"]["startCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(backward, expected);

    // A cursor GraphQL gave out continues the REST list, and the other way round.
    let gql_cursor = all["articles"]["edges"][9]["cursor"].as_str().unwrap();
    let rest_page = ok(&app, &format!("/v1/articles?first=5&after={gql_cursor}")).await;
    assert_eq!(slugs(&rest_page), expected[10..15]);
    let rest_cursor = rest_page["pageInfo"]["endCursor"].as_str().unwrap();
    let gql_page = app
        .gql_ok(GQL_ARTICLES, json!({ "first": 5, "after": rest_cursor }))
        .await;
    assert_eq!(gql_slugs(&gql_page["articles"]), expected[15..20]);

    // `first=0` is what GraphQL makes of it: an empty page that says more follow.
    let empty = ok(&app, "/v1/articles?first=0").await;
    let gql_empty = app.gql_ok(GQL_ARTICLES, json!({ "first": 0 })).await;
    assert_eq!(empty["items"], json!([]));
    assert_eq!(
        empty["pageInfo"]["hasNextPage"],
        gql_empty["articles"]["pageInfo"]["hasNextPage"]
    );
    assert_eq!(empty["pageInfo"]["endCursor"], Value::Null);

    // Without `first`, a page of 20 as in GraphQL.
    assert_eq!(slugs(&ok(&app, "/v1/articles").await), expected[..20]);
    // Unknown parameters are ignored.
    assert_eq!(
        slugs(&ok(&app, "/v1/articles?first=2&utm_source=feed&page=9").await),
        expected[..2]
    );
});

on_both_databases!(filters_agree_with_graphql, |db| async move {
    let app = spawn_seeded_app(db, 30).await;
    let cases: [(&str, Value, &str); 8] = [
        (
            "topic=korean-peninsula",
            json!({ "topic": "korean-peninsula" }),
            "NEWEST",
        ),
        (
            "topic=trade&orderBy=oldest",
            json!({ "topic": "trade" }),
            "OLDEST",
        ),
        (
            "author=sarah-whitfield",
            json!({ "author": "sarah-whitfield" }),
            "NEWEST",
        ),
        ("source=Reuters", json!({ "source": "Reuters" }), "NEWEST"),
        (
            "source=News1&author=emily-carter",
            json!({ "source": "News1", "author": "emily-carter" }),
            "NEWEST",
        ),
        (
            "publishedAfter=2025-05-12T00:00:00Z&publishedBefore=2025-05-14T00:00:00Z",
            json!({ "publishedAfter": "2025-05-12T00:00:00Z",
                    "publishedBefore": "2025-05-14T00:00:00Z" }),
            "NEWEST",
        ),
        ("orderBy=OLDEST", json!({}), "OLDEST"),
        (
            "topic=no-such-topic",
            json!({ "topic": "no-such-topic" }),
            "NEWEST",
        ),
    ];
    for (params, filter, order) in cases {
        let rest_list = slugs(&ok(&app, &format!("/v1/articles?first=100&{params}")).await);
        let gql = app
            .gql_ok(
                GQL_ARTICLES,
                json!({ "first": 100, "filter": filter, "order": order }),
            )
            .await;
        let gql_list = gql_slugs(&gql["articles"]);
        assert_eq!(rest_list, gql_list, "{params}");
        if !params.contains("no-such") {
            assert!(!rest_list.is_empty(), "{params} should match something");
        }
    }

    // A topic's and an author's own lists are GraphQL's `Topic.articles` / `Author.articles`.
    for (rest_path, query) in [
        (
            "/v1/topics/markets/articles?first=100",
            r#"{ topic(slug: "markets") { articles(first: 100) { edges { node { slug } } } } }"#,
        ),
        (
            "/v1/topics/trade/articles?first=100&orderBy=oldest",
            r#"{ topic(slug: "trade") { articles(first: 100, orderBy: OLDEST) { edges { node { slug } } } } }"#,
        ),
        (
            "/v1/authors/park-seo-yeon/articles?first=100",
            r#"{ author(slug: "park-seo-yeon") { articles(first: 100) { edges { node { slug } } } } }"#,
        ),
    ] {
        let rest_list = slugs(&ok(&app, rest_path).await);
        let data = app.gql_ok(query, json!({})).await;
        let owner = data.get("topic").unwrap_or(&data["author"]);
        assert_eq!(rest_list, gql_slugs(&owner["articles"]), "{rest_path}");
        assert!(!rest_list.is_empty(), "{rest_path}");
    }
});

on_both_databases!(
    drafts_are_invisible_to_anonymous_and_partners_and_visible_to_editors,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        create_draft(&app, "rest-draft").await;
        let scheduled = create_draft(&app, "rest-scheduled").await;
        editor_gql(
            &app,
            "mutation($id: ID!) { scheduleArticle(id: $id, at: \"2030-01-01T09:00:00Z\") { id } }",
            json!({ "id": scheduled }),
        )
        .await;
        let editor = token("editor", "desk");
        let partner = token_with_scope("partner", "wire", &["syndication"]);

        for who in [None, Some(partner.as_str())] {
            for slug in ["rest-draft", "rest-scheduled"] {
                let (status, headers, body) =
                    rest(&app, who, &format!("/v1/articles/{slug}")).await;
                assert_eq!(status, 404, "{slug} as {who:?}: {body}");
                assert_eq!(headers["content-type"], "application/problem+json");
            }
            for list in [
                "/v1/articles?first=100",
                "/v1/topics/markets/articles?first=100",
            ] {
                let (status, _, body) = rest(&app, who, list).await;
                assert_eq!(status, 200);
                let listed = slugs(&body);
                assert!(!listed.contains(&"rest-scheduled".to_owned()), "{list}");
                assert!(!listed.contains(&"rest-draft".to_owned()), "{list}");
            }
        }

        let (status, _, draft) = rest(&app, Some(&editor), "/v1/articles/rest-draft").await;
        assert_eq!(status, 200, "{draft}");
        assert_eq!(draft["status"], "draft");
        assert_eq!(draft["publishedAt"], Value::Null);
        let (_, _, future) = rest(&app, Some(&editor), "/v1/articles/rest-scheduled").await;
        assert_eq!(future["status"], "scheduled");

        // The editor's list is GraphQL's list for an editor: scheduled stories included.
        let (_, _, list) = rest(&app, Some(&editor), "/v1/articles?first=100").await;
        let gql = app
            .gql_ok_as(&editor, GQL_ARTICLES, json!({ "first": 100 }))
            .await;
        assert_eq!(slugs(&list), gql_slugs(&gql["articles"]));
        assert!(slugs(&list).contains(&"rest-scheduled".to_owned()));
    }
);

on_both_databases!(
    a_renamed_articles_old_slug_redirects_to_its_new_path,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let id = create_draft(&app, "rest-first-name").await;
        editor_gql(
            &app,
            "mutation($id: ID!) { publishArticle(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
        editor_gql(
            &app,
            "mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 2, input: { slug: \"rest-new-name\" }) { version } }",
            json!({ "id": id }),
        )
        .await;

        let (status, headers, body) = rest(&app, None, "/v1/articles/rest-first-name").await;
        assert_eq!(status, 301, "{body}");
        assert_eq!(headers["location"], "/v1/articles/rest-new-name");

        // Following the redirect lands on the article, which remembers its old name.
        let moved = app.get("/v1/articles/rest-first-name").await;
        assert_eq!(moved.status().as_u16(), 200);
        let moved: Value = moved.json().await.unwrap();
        assert_eq!(moved["id"], json!(id));
        assert_eq!(moved["slug"], "rest-new-name");
        assert_eq!(moved["previousSlugs"], json!(["rest-first-name"]));
    }
);

on_both_databases!(
    articles_come_whole_with_topics_and_authors,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let article = ok(&app, &format!("/v1/articles/{SAMPLE}")).await;
        let gql = app
            .gql_ok(
                "query($s: String!) { article(slug: $s) { id bodyHtml bodyText readingTimeMinutes
                canonicalUrl primaryTopic { slug } topics { slug } authors { slug } } }",
                json!({ "s": SAMPLE }),
            )
            .await;
        let gql = &gql["article"];
        assert_eq!(article["id"], gql["id"]);
        assert_eq!(article["bodyHtml"], gql["bodyHtml"]);
        assert_eq!(article["bodyText"], gql["bodyText"]);
        assert_eq!(article["readingTimeMinutes"], gql["readingTimeMinutes"]);
        assert_eq!(article["canonicalUrl"], gql["canonicalUrl"]);
        assert_eq!(article["primaryTopic"]["slug"], "korean-peninsula");
        let topics: Vec<(&str, bool)> = article["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["slug"].as_str().unwrap(), t["primary"].as_bool().unwrap()))
            .collect();
        let gql_topics: Vec<&str> = gql["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap())
            .collect();
        assert_eq!(
            topics.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            gql_topics
        );
        assert_eq!(
            topics
                .iter()
                .filter(|(_, primary)| *primary)
                .collect::<Vec<_>>(),
            [&("korean-peninsula", true)],
            "exactly the primary topic is marked"
        );
        assert_eq!(article["authors"][0]["slug"], "kim-min-ji");
        assert_eq!(article["authors"][1]["slug"], "lee-jun-ho");
        let blocks = article["body"].as_array().unwrap();
        assert!(
            blocks
                .iter()
                .any(|b| b["type"] == "quote" && b["attribution"].is_string())
        );

        // A syndication partner gets the full text of a syndicatable story; a partner token
        // without the scope gets headline and dek only.
        let partner = token_with_scope("partner", "wire", &["syndication"]);
        let (status, _, as_partner) =
            rest(&app, Some(&partner), &format!("/v1/articles/{SAMPLE}")).await;
        assert_eq!(status, 200);
        assert_eq!(as_partner["headline"], article["headline"]);
        for field in ["body", "bodyHtml", "bodyText"] {
            assert_eq!(as_partner[field], article[field], "{field}");
        }
        let unscoped = token("partner", "wire");
        let (status, _, as_unscoped) =
            rest(&app, Some(&unscoped), &format!("/v1/articles/{SAMPLE}")).await;
        assert_eq!(status, 200);
        assert_eq!(as_unscoped["dek"], article["dek"]);
        for field in ["body", "bodyHtml", "bodyText"] {
            assert_eq!(as_unscoped[field], Value::Null, "{field}");
        }

        let topic = ok(&app, "/v1/topics/korean-peninsula").await;
        assert_eq!(topic["parent"]["slug"], "world");
        let world = ok(&app, "/v1/topics/world").await;
        assert!(
            world["children"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["slug"] == "korean-peninsula")
        );
        let author = ok(&app, "/v1/authors/kim-min-ji").await;
        assert_eq!(author["slug"], "kim-min-ji");
        assert!(author["name"].is_string() && author["bio"].is_string());

        // Topic and author lists walk like GraphQL's.
        let topics = ok(&app, "/v1/topics?first=100").await;
        let gql = app
            .gql_ok(
                "{ topics(first: 100) { edges { node { slug } } } }",
                json!({}),
            )
            .await;
        assert_eq!(slugs(&topics), gql_slugs(&gql["topics"]));
        let first = ok(&app, "/v1/authors?first=4").await;
        let cursor = first["pageInfo"]["endCursor"].as_str().unwrap();
        let rest_authors = ok(&app, &format!("/v1/authors?first=100&after={cursor}")).await;
        let gql = app
            .gql_ok(
                "{ authors(first: 100) { edges { node { slug } } } }",
                json!({}),
            )
            .await;
        let mut walked = slugs(&first);
        walked.extend(slugs(&rest_authors));
        assert_eq!(walked, gql_slugs(&gql["authors"]));
    }
);

on_both_databases!(bad_input_gets_a_problem_naming_the_field, |db| async move {
    let app = spawn_seeded_app(db, 0).await;
    let topics_cursor = ok(&app, "/v1/topics?first=1").await["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign_cursor = format!("/v1/articles?after={topics_cursor}");
    let cases: Vec<(&str, u16, Option<&str>)> = vec![
        ("/v1/articles?after=garbage", 400, Some("after")),
        ("/v1/articles?last=3&before=garbage", 400, Some("before")),
        (&foreign_cursor, 400, Some("after")),
        ("/v1/articles?first=0x10", 400, Some("first")),
        ("/v1/articles?first=1000", 400, Some("first")),
        ("/v1/articles?first=abc", 400, Some("first")),
        ("/v1/articles?first=-1", 400, Some("first")),
        ("/v1/articles?first=99999999999", 400, Some("first")),
        ("/v1/articles?first=3&last=3", 400, Some("last")),
        (
            "/v1/articles?publishedAfter=yesterday",
            400,
            Some("publishedAfter"),
        ),
        (
            "/v1/articles?publishedBefore=2025-13-01T00:00:00Z",
            400,
            Some("publishedBefore"),
        ),
        ("/v1/articles?orderBy=sideways", 400, Some("orderBy")),
        ("/v1/articles?topic=Not%20A%20Slug", 400, Some("topic")),
        ("/v1/articles?first=1&first=2", 400, None),
        ("/v1/articles/Not_A_Slug", 400, Some("slug")),
        ("/v1/articles/no-such-story", 404, None),
        ("/v1/topics?first=abc", 400, Some("first")),
        ("/v1/topics/no-such-topic", 404, None),
        ("/v1/topics/no-such-topic/articles", 404, None),
        (
            "/v1/topics/markets/articles?after=garbage",
            400,
            Some("after"),
        ),
        ("/v1/authors?after=garbage", 400, Some("after")),
        ("/v1/authors/nobody", 404, None),
        ("/v1/authors/nobody/articles", 404, None),
        (
            "/v1/authors/kim-min-ji/articles?last=500",
            400,
            Some("last"),
        ),
    ];
    for (path, status, field) in cases {
        let (got, headers, body) = rest(&app, None, path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(
            headers["content-type"], "application/problem+json",
            "{path}"
        );
        assert_eq!(body["status"], status, "{path}");
        assert_eq!(
            body.get("field").and_then(Value::as_str),
            field,
            "{path}: {body}"
        );
    }

    // A token that does not verify is refused on every route, never read as anonymous.
    for path in [
        "/v1/articles",
        "/v1/articles/no-such-story",
        "/v1/topics",
        "/v1/topics/markets",
        "/v1/authors/kim-min-ji/articles",
        "/v1/trending",
        "/v1/search?q=korea",
    ] {
        let (status, headers, body) = rest(&app, Some("not-a-token"), path).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["code"], "UNAUTHENTICATED");
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer"),
            "{path}"
        );
    }
});

on_both_databases!(
    responses_name_what_they_contain_in_cache_tags,
    |db| async move {
        let app = spawn_seeded_app(db, 5).await;
        // The tags as a CDN sees them: the `Surrogate-Key` header of the real response.
        let tags_of = |path: &'static str| {
            let app = &app;
            async move {
                let response = app.get(path).await;
                assert_eq!(response.status(), 200, "{path}");
                let keys = response
                    .headers()
                    .get("surrogate-key")
                    .unwrap_or_else(|| panic!("{path} has no cache tags"))
                    .to_str()
                    .unwrap()
                    .to_owned();
                keys.split(' ')
                    .map(str::to_owned)
                    .collect::<HashSet<String>>()
            }
        };
        let sample = ok(&app, &format!("/v1/articles/{SAMPLE}")).await;
        let sample_tag = format!("article:{}", sample["id"].as_str().unwrap());

        let latest = tags_of("/v1/articles?first=3").await;
        assert!(latest.contains("list:latest"), "{latest:?}");
        let listed = ok(&app, "/v1/articles?first=3").await;
        for item in listed["items"].as_array().unwrap() {
            assert!(latest.contains(&format!("article:{}", item["id"].as_str().unwrap())));
        }

        let one =
            tags_of("/v1/articles/putins-north-korea-visit-could-reshape-regional-security").await;
        for tag in [
            sample_tag.as_str(),
            "topic:korean-peninsula",
            "topic:russia",
            "author:kim-min-ji",
            "author:lee-jun-ho",
        ] {
            assert!(one.contains(tag), "{tag} missing from {one:?}");
        }
        assert!(!one.contains("list:latest"));

        let in_topic = tags_of("/v1/topics/korean-peninsula/articles").await;
        assert!(in_topic.contains("topic:korean-peninsula") && in_topic.contains(&sample_tag));
        let by_author = tags_of("/v1/authors/kim-min-ji/articles").await;
        assert!(by_author.contains("author:kim-min-ji") && by_author.contains(&sample_tag));
        let topics = tags_of("/v1/topics").await;
        assert!(topics.contains("list:topics") && topics.contains("topic:world"));
        assert!(
            tags_of("/v1/topics/world")
                .await
                .contains("topic:korean-peninsula")
        );
        let authors = tags_of("/v1/authors").await;
        assert!(authors.contains("list:authors") && authors.contains("author:emily-carter"));
        assert_eq!(
            tags_of("/v1/authors/emily-carter").await,
            HashSet::from(["author:emily-carter".to_owned()])
        );
        assert!(tags_of("/v1/trending").await.contains("list:trending"));
    }
);
