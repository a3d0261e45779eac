//! Delivery: ETags and 304s, Cache-Control and Vary, Surrogate-Key tags, automatic persisted
//! queries (and the persisted-only mode), compression, CORS and per-client rate limits.

use gazette_api::persisted::sha256_hex;
use gazette_server::ServeArgs;
use gazette_tests::{Db, TestApp, on_both_databases, spawn_app_with, token, token_with_scope};
use serde_json::{Value, json};

const SAMPLE: &str = "putins-north-korea-visit-could-reshape-regional-security";

const ARTICLE_PAGE: &str = "query($slug: String!) { article(slug: $slug) { id slug headline \
    topics { slug } authors { slug } related(first: 3) { slug } } \
    trending(first: 3) { article { slug } } }";

async fn seeded_with(db: Db, configure: impl FnOnce(&mut ServeArgs)) -> TestApp {
    let app = spawn_app_with(db, configure).await;
    gazette_persistence::seed_sample_content(&app.store, 10, chrono::Utc::now())
        .await
        .expect("seed");
    app
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ASCII header"))
        .unwrap_or_default()
}

/// `GET /graphql` with the query and variables in the URL.
async fn gql_get(
    app: &TestApp,
    params: &[(&str, String)],
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .query(params);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request sent")
}

fn apq(hash: &str) -> String {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string()
}

on_both_databases!(
    public_gets_carry_a_strong_etag_and_revalidate_to_304,
    |db| async move {
        let app = seeded_with(db, |_| {}).await;
        let first = app.get("/v1/trending?window=week").await;
        assert_eq!(first.status(), 200);
        let etag = header(&first, "etag").to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34,
            "a strong ETag: {etag}"
        );
        assert_eq!(
            header(&first, "cache-control"),
            "public, max-age=30, stale-while-revalidate=300"
        );
        assert!(header(&first, "vary").contains("authorization"));
        assert!(header(&first, "surrogate-key").contains("list:trending"));
        let again = app
            .client
            .get(app.url("/v1/trending?window=week"))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
        assert_eq!(header(&again, "etag"), etag);
        assert_eq!(
            header(&again, "cache-control"),
            header(&first, "cache-control")
        );
        assert!(again.bytes().await.unwrap().is_empty());
        // Another validator, a weak form of ours, and a list with ours.
        for candidate in [
            "\"0000\"".to_owned(),
            format!("W/{etag}"),
            format!("\"x\", {etag}"),
        ] {
            let response = app
                .client
                .get(app.url("/v1/trending?window=week"))
                .header("if-none-match", &candidate)
                .send()
                .await
                .unwrap();
            let expected = if candidate == "\"0000\"" { 200 } else { 304 };
            assert_eq!(response.status(), expected, "If-None-Match: {candidate}");
        }
        // Errors are not cached; a partner's token makes the answer private (a staff token
        // makes it `no-store`: tests/cache_safety.rs).
        let bad = app.get("/v1/trending?window=year").await;
        assert_eq!(bad.status(), 400);
        assert_eq!(header(&bad, "cache-control"), "no-store");
        assert!(header(&bad, "etag").is_empty());
        let private = app
            .client
            .get(app.url("/v1/trending"))
            .bearer_auth(token("partner", "p1"))
            .send()
            .await
            .unwrap();
        assert_eq!(private.status(), 200);
        assert_eq!(header(&private, "cache-control"), "private, no-cache");
        assert!(!header(&private, "etag").is_empty());
        // HEAD answers the same headers without a body.
        let head = app
            .client
            .head(app.url("/v1/trending?window=week"))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(header(&head, "etag"), etag);
    }
);

on_both_databases!(
    graphql_gets_name_what_they_contain_for_cdn_purges,
    |db| async move {
        let app = seeded_with(db, |_| {}).await;
        let variables = json!({ "slug": SAMPLE }).to_string();
        let response = gql_get(
            &app,
            &[("query", ARTICLE_PAGE.to_owned()), ("variables", variables)],
            &[],
        )
        .await;
        assert_eq!(response.status(), 200);
        let keys = header(&response, "surrogate-key").to_owned();
        let tags = header(&response, "cache-tag").to_owned();
        let raw = response.text().await.unwrap();
        // Fields come back in the order the query selected them (GraphQL §7.2.2), whatever
        // order they finished in: the same query always serializes the same.
        assert!(
            raw.starts_with(r#"{"data":{"article":{"id":"#)
                && raw.contains(r#""authors":[{"slug":"#),
            "{raw}"
        );
        let (t, r, a) = (
            raw.find(r#""topics""#).unwrap(),
            raw.find(r#""related""#).unwrap(),
            raw.find(r#""trending""#).unwrap(),
        );
        assert!(t < r && r < a, "{raw}");
        let body: Value = serde_json::from_str(&raw).unwrap();
        let article = &body["data"]["article"];
        let id = article["id"].as_str().unwrap();
        let keys: Vec<&str> = keys.split(' ').collect();
        assert!(keys.contains(&format!("article:{id}").as_str()), "{keys:?}");
        assert!(keys.contains(&"topic:korean-peninsula"), "{keys:?}");
        assert!(keys.contains(&"list:trending"), "{keys:?}");
        for related in article["related"].as_array().unwrap() {
            let slug = related["slug"].as_str().unwrap();
            let other = app
                .gql_ok(
                    "query($s: String!) { article(slug: $s) { id } }",
                    json!({ "s": slug }),
                )
                .await;
            let key = format!("article:{}", other["article"]["id"].as_str().unwrap());
            assert!(keys.contains(&key.as_str()), "{key} in {keys:?}");
        }
        assert_eq!(
            tags.split(',').count(),
            keys.len(),
            "Cache-Tag lists the same tags"
        );
        // Lists name themselves too.
        let list = gql_get(
            &app,
            &[(
                "query",
                "{ articles(first: 2) { edges { node { slug } } } topics(first: 1) { edges { node { slug } } } }"
                    .to_owned(),
            )],
            &[],
        )
        .await;
        let keys = header(&list, "surrogate-key");
        assert!(
            keys.contains("list:latest") && keys.contains("list:topics"),
            "{keys}"
        );
        // A GraphQL answer depends on the negotiated media type.
        assert!(header(&list, "vary").contains("accept"));
    }
);

on_both_databases!(
    an_automatic_persisted_query_is_answered_over_get_with_an_etag_and_then_304,
    |db| async move {
        let app = seeded_with(db, |_| {}).await;
        let hash = sha256_hex(ARTICLE_PAGE);
        let variables = json!({ "slug": SAMPLE }).to_string();
        let by_hash = [("extensions", apq(&hash)), ("variables", variables.clone())];
        // Unknown hash: the protocol's answer, never cached, so the client sends the document.
        let unknown = gql_get(&app, &by_hash, &[]).await;
        assert_eq!(unknown.status(), 200);
        assert_eq!(
            header(&unknown, "cache-control"),
            "private, no-cache, must-revalidate"
        );
        let body: Value = unknown.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
            "{body}"
        );
        assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
        assert!(body.get("data").is_none());
        // The client registers it (Apollo sends the document with its hash, here by POST).
        let registered = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": ARTICLE_PAGE, "variables": { "slug": SAMPLE },
                           "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 200);
        let registered: Value = registered.json().await.unwrap();
        assert_eq!(registered["data"]["article"]["slug"], SAMPLE);
        // From now on, a short cacheable URL.
        let first = gql_get(&app, &by_hash, &[]).await;
        assert_eq!(first.status(), 200);
        let etag = header(&first, "etag").to_owned();
        assert!(!etag.is_empty());
        assert!(header(&first, "cache-control").starts_with("public"));
        let raw = first.text().await.unwrap();
        let body: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(body["data"], registered["data"]);
        let second = gql_get(&app, &by_hash, &[("if-none-match", &etag)]).await;
        if second.status() != 304 {
            let headers = format!("{:?}", second.headers());
            let again = second.text().await.unwrap();
            panic!("changed:\n{raw}\n{again}\n{headers}");
        }
        assert_eq!(header(&second, "etag"), etag);
    }
);

on_both_databases!(
    bad_persisted_query_requests_are_refused_clearly,
    |db| async move {
        let app = seeded_with(db, |_| {}).await;
        let query = "{ topics(first: 1) { edges { node { slug } } } }";
        let cases = [
            // The document does not hash to the hash sent.
            (
                vec![
                    ("query", query.to_owned()),
                    ("extensions", apq(&sha256_hex("{ other }"))),
                ],
                400,
                "PERSISTED_QUERY_HASH_MISMATCH",
            ),
            (vec![("extensions", apq("not-a-hash"))], 400, "BAD_REQUEST"),
            (
                vec![(
                    "extensions",
                    json!({ "persistedQuery": { "version": 2, "sha256Hash": sha256_hex(query) } })
                        .to_string(),
                )],
                400,
                "PERSISTED_QUERY_NOT_SUPPORTED",
            ),
            (
                vec![("extensions", json!({ "persistedQuery": "yes" }).to_string())],
                400,
                "BAD_REQUEST",
            ),
        ];
        for (params, status, code) in cases {
            let response = gql_get(&app, &params, &[]).await;
            assert_eq!(response.status(), status, "{params:?}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");
        }
        // A mutation stays POST-only even by hash.
        let mutation = r#"mutation { recordView(slug: "x") { counted } }"#;
        let registered = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": mutation,
                       "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(mutation) } } }))
        .send()
        .await
        .unwrap();
        assert_eq!(registered.status(), 200);
        let by_get = gql_get(&app, &[("extensions", apq(&sha256_hex(mutation)))], &[]).await;
        assert_eq!(by_get.status(), 405);
    }
);

on_both_databases!(
    only_persisted_queries_from_the_public_when_configured,
    |db| async move {
        let known = "{ articles(first: 1) { edges { node { slug } } } }";
        let manifest =
            std::env::temp_dir().join(format!("gazette-manifest-{}.json", uuid::Uuid::now_v7()));
        std::fs::write(
            &manifest,
            json!({ "format": "apollo-persisted-query-manifest", "version": 1,
                    "operations": [{ "id": sha256_hex(known), "name": "Latest",
                                     "type": "query", "body": known }] })
            .to_string(),
        )
        .unwrap();
        let path = manifest.clone();
        let app = seeded_with(db, move |args| {
            args.delivery.persisted_queries = Some(path);
            args.delivery.persisted_queries_only = true;
        })
        .await;
        std::fs::remove_file(&manifest).unwrap();
        // The manifest's operation, by hash, with no registration.
        let ok = gql_get(&app, &[("extensions", apq(&sha256_hex(known)))], &[]).await;
        assert_eq!(ok.status(), 200);
        let body: Value = ok.json().await.unwrap();
        assert!(body["data"]["articles"]["edges"][0]["node"]["slug"].is_string());
        // Anything else from the public is refused, and cannot be registered.
        let other = "{ topics(first: 1) { edges { node { slug } } } }";
        let (status, body) = app.gql(other, json!({})).await;
        assert_eq!(status, 400);
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "PERSISTED_QUERY_ID_REQUIRED"
        );
        let register = gql_get(
            &app,
            &[
                ("query", other.to_owned()),
                ("extensions", apq(&sha256_hex(other))),
            ],
            &[],
        )
        .await;
        assert_eq!(register.status(), 400);
        let body: Value = register.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "PERSISTED_QUERY_NOT_IN_LIST"
        );
        let partner = token_with_scope("partner", "p1", &["syndication"]);
        let (status, _) = app.gql_as(&partner, other, json!({})).await;
        assert_eq!(status, 400, "partners are the public here");
        // Staff tools may still send documents.
        let data = app
            .gql_ok_as(&token("editor", "ed"), other, json!({}))
            .await;
        assert!(data["topics"]["edges"].is_array());
    }
);

on_both_databases!(
    responses_are_compressed_when_the_client_accepts_it,
    |db| async move {
        let app = seeded_with(db, |_| {}).await;
        let path = "/graphql?query=%7Barticles(first%3A20)%7Bedges%7Bnode%7Bslug%20headline%20dek%7D%7D%7D%7D";
        let plain = app
            .client
            .get(app.url(path))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert!(header(&plain, "content-encoding").is_empty());
        let plain_etag = header(&plain, "etag").to_owned();
        let plain_len = plain.bytes().await.unwrap().len();
        for encoding in ["gzip", "br"] {
            let response = app
                .client
                .get(app.url(path))
                .header("accept", "application/json")
                .header("accept-encoding", encoding)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(header(&response, "content-encoding"), encoding);
            assert!(header(&response, "vary").contains("accept-encoding"));
            // Each encoding is its own representation, with its own strong validator.
            let etag = header(&response, "etag").to_owned();
            assert_ne!(etag, plain_etag);
            let bytes = response.bytes().await.unwrap();
            assert!(
                bytes.len() < plain_len / 2,
                "{encoding}: {} of {plain_len}",
                bytes.len()
            );
            if encoding == "gzip" {
                assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
            }
            let revalidated = app
                .client
                .get(app.url(path))
                .header("accept", "application/json")
                .header("accept-encoding", encoding)
                .header("if-none-match", &etag)
                .send()
                .await
                .unwrap();
            assert_eq!(revalidated.status(), 304);
        }
    }
);

on_both_databases!(cors_admits_only_the_configured_origins, |db| async move {
    let app = seeded_with(db, |args| {
        args.delivery.cors_origins = vec!["https://www.example.com".to_owned()];
    })
    .await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", "https://www.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        header(&preflight, "access-control-allow-origin"),
        "https://www.example.com"
    );
    assert!(
        header(&preflight, "access-control-allow-headers")
            .to_ascii_lowercase()
            .contains("authorization")
    );
    let allowed = app
        .client
        .get(app.url("/v1/trending"))
        .header("origin", "https://www.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        "https://www.example.com"
    );
    assert!(header(&allowed, "access-control-expose-headers").contains("etag"));
    let other = app
        .client
        .get(app.url("/v1/trending"))
        .header("origin", "https://evil.example.net")
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        200,
        "CORS is the browser's check, not a refusal"
    );
    assert!(header(&other, "access-control-allow-origin").is_empty());
});

on_both_databases!(
    one_clients_flood_is_refused_without_touching_another_clients_budget,
    |db| async move {
        let app = seeded_with(db, |args| {
            args.delivery.rate_partner = 1;
            args.delivery.rate_partner_burst = 5;
            args.delivery.rate_anonymous = 1;
            args.delivery.rate_anonymous_burst = 5;
        })
        .await;
        let flooder = token_with_scope("partner", "flooder", &["syndication"]);
        let neighbour = token_with_scope("partner", "neighbour", &["syndication"]);
        let mut refused = None;
        for _ in 0..20 {
            let response = app
                .client
                .get(app.url("/v1/trending"))
                .bearer_auth(&flooder)
                .send()
                .await
                .unwrap();
            if response.status() == 429 {
                refused = Some(response);
                break;
            }
            assert_eq!(response.status(), 200);
            assert_eq!(header(&response, "ratelimit-limit"), "5");
            assert!(!header(&response, "ratelimit-remaining").is_empty());
        }
        let refused = refused.expect("the flood is refused within its burst");
        let retry_after: u64 = header(&refused, "retry-after").parse().unwrap();
        assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
        assert_eq!(header(&refused, "ratelimit-remaining"), "0");
        assert_eq!(header(&refused, "content-type"), "application/problem+json");
        assert_eq!(header(&refused, "cache-control"), "no-store");
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["code"], "RATE_LIMITED");
        // The neighbour partner, anonymous readers and the newsroom are untouched.
        for _ in 0..4 {
            let response = app
                .client
                .get(app.url("/v1/trending"))
                .bearer_auth(&neighbour)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
        assert_eq!(app.get("/v1/trending").await.status(), 200);
        let (status, _) = app
            .gql_as(
                &token("editor", "ed"),
                "{ topics(first: 1) { edges { node { slug } } } }",
                json!({}),
            )
            .await;
        assert_eq!(status, 200);
        // GraphQL counts against the same budget as REST.
        let (status, body) = app
            .gql_as(
                &flooder,
                "{ topics(first: 1) { edges { node { slug } } } }",
                json!({}),
            )
            .await;
        assert_eq!(status, 429, "{body}");
        // Health checks are never limited.
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
);

on_both_databases!(
    nothing_a_partner_sends_changes_stored_data,
    |db| async move {
        let app = seeded_with(db, |_| {}).await;
        let partner = token_with_scope("partner", "wire", &["syndication"]);
        let editor = token("editor", "ed");
        let snapshot = "{ articles(first: 100) { edges { node { id slug headline version status \
        updatedAt corrections { text } } } } topics(first: 100) { edges { node { slug name } } } \
        authors(first: 100) { edges { node { slug name } } } }";
        let before = app.gql_ok_as(&editor, snapshot, json!({})).await;
        let sample = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { id version } topic(slug: \"markets\") { id } \
             author(slug: \"kim-min-ji\") { id } }",
            json!({ "s": SAMPLE }),
        )
        .await;
        let id = sample["article"]["id"].as_str().unwrap();
        let topic = sample["topic"]["id"].as_str().unwrap();
        let author = sample["author"]["id"].as_str().unwrap();
        let attempts = [
            r#"mutation { createArticle(input: { headline: "Wire", slug: "wire", body: [{ type: "paragraph", text: "x" }] }) { id } }"#
                .to_owned(),
            format!(
                r#"mutation {{ updateArticle(id: "{id}", input: {{ headline: "Changed" }}, expectedVersion: 1) {{ id }} }}"#
            ),
            format!(r#"mutation {{ publishArticle(id: "{id}") {{ id }} }}"#),
            format!(
                r#"mutation {{ scheduleArticle(id: "{id}", at: "2030-01-01T00:00:00Z") {{ id }} }}"#
            ),
            format!(r#"mutation {{ unpublishArticle(id: "{id}") {{ id }} }}"#),
            format!(r#"mutation {{ archiveArticle(id: "{id}") {{ id }} }}"#),
            format!(r#"mutation {{ deleteArticle(id: "{id}") }}"#),
            format!(r#"mutation {{ restoreRevision(articleId: "{id}", revision: 1) {{ id }} }}"#),
            format!(r#"mutation {{ addCorrection(articleId: "{id}", text: "No.") {{ text }} }}"#),
            format!(r#"mutation {{ createPreviewToken(articleId: "{id}") {{ token }} }}"#),
            r#"mutation { createTopic(input: { slug: "wire", name: "Wire" }) { id } }"#.to_owned(),
            format!(
                r#"mutation {{ updateTopic(id: "{topic}", input: {{ name: "Changed" }}) {{ id }} }}"#
            ),
            r#"mutation { createAuthor(input: { slug: "wire", name: "Wire" }) { id } }"#.to_owned(),
            format!(
                r#"mutation {{ updateAuthor(id: "{author}", input: {{ name: "Changed" }}) {{ id }} }}"#
            ),
        ];
        for mutation in &attempts {
            let (status, body) = app.gql_as(&partner, mutation, json!({})).await;
            let code = &body["errors"][0]["extensions"]["code"];
            assert!(
                (status == 200 && code == "FORBIDDEN") || status == 400,
                "{mutation}: {status} {body}"
            );
            assert!(
                body["data"].is_null() || body.get("data").is_none(),
                "{body}"
            );
        }
        // REST reads take no writes.
        for (method, path) in [
            (reqwest::Method::POST, "/v1/articles".to_owned()),
            (reqwest::Method::PUT, format!("/v1/articles/{SAMPLE}")),
            (reqwest::Method::DELETE, format!("/v1/articles/{SAMPLE}")),
            (reqwest::Method::PATCH, "/v1/topics/markets".to_owned()),
            (reqwest::Method::POST, "/feeds/latest.atom".to_owned()),
        ] {
            let response = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(&partner)
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
        }
        let after = app.gql_ok_as(&editor, snapshot, json!({})).await;
        assert_eq!(before, after, "a partner changed stored data");
    }
);

on_both_databases!(
    behind_a_trusted_proxy_each_client_address_has_its_own_budget,
    |db| async move {
        let app = seeded_with(db, |args| {
            args.delivery.rate_anonymous = 1;
            args.delivery.rate_anonymous_burst = 3;
            args.delivery.trusted_proxy_hops = 1;
        })
        .await;
        let from = |forwarded: &'static str| {
            let app = &app;
            async move {
                app.client
                    .get(app.url("/v1/trending"))
                    .header("x-forwarded-for", forwarded)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        // The proxy appended 203.0.113.7; what the client claimed before it does not count.
        let mut statuses = Vec::new();
        for claimed in [
            "1.1.1.1, 203.0.113.7",
            "2.2.2.2, 203.0.113.7",
            "203.0.113.7",
        ] {
            for _ in 0..2 {
                statuses.push(from(claimed).await);
            }
        }
        assert!(
            statuses.contains(&reqwest::StatusCode::TOO_MANY_REQUESTS),
            "{statuses:?}"
        );
        // Another client behind the same proxy is untouched.
        assert_eq!(from("198.51.100.9").await, 200);
    }
);

on_both_databases!(
    without_trusted_proxies_a_forwarded_header_is_ignored,
    |db| async move {
        let app = seeded_with(db, |args| {
            args.delivery.rate_anonymous = 1;
            args.delivery.rate_anonymous_burst = 3;
        })
        .await;
        let mut refused = false;
        for n in 0..8 {
            let response = app
                .client
                .get(app.url("/v1/trending"))
                .header("x-forwarded-for", format!("10.0.0.{n}"))
                .send()
                .await
                .unwrap();
            refused |= response.status() == 429;
        }
        assert!(
            refused,
            "a client cannot escape its budget by naming other addresses"
        );
    }
);
