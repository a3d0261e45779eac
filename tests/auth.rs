//! Bearer-token authentication end to end: every way a token can be wrong gets 401 with a
//! `WWW-Authenticate` challenge, never anonymous access; no token is an anonymous reader.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeDelta, Utc};
use gazette_api::auth::{JwtAlgorithm, Role};
use gazette_api::{AuthConfig, Authenticator};
use gazette_domain::{
    ArticleState, ArticleStatus, Block, Body, Dek, Headline, Language, Slug, Source, Syndication,
};
use gazette_server::config::{AuthArgs, TokenArgs, TokenRole};
use gazette_server::mint_token;
use gazette_tests::{
    Db, TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET, TestApp, claims, signed, spawn_app,
    spawn_app_with, token, token_with, unix_now,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use uuid::Uuid;

const LIST: &str = "{ articles(first: 1) { edges { node { id } } } }";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

fn hs256() -> Header {
    Header::new(Algorithm::HS256)
}

fn secret() -> &'static [u8] {
    TEST_JWT_SECRET.as_bytes()
}

fn test_claims(role: &str) -> Value {
    claims(role, "alice")
}

/// Claims for `role` with `edit` applied.
fn claims_with(role: &str, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut claims = test_claims(role);
    if let Some(map) = claims.as_object_mut() {
        edit(map);
    }
    claims
}

/// Asserts a refused request: 401, an `invalid_token` challenge, `UNAUTHENTICATED`, no data.
async fn assert_refused_header(app: &TestApp, authorization: &str, why: &str) -> String {
    let response = app
        .gql_authorized(Some(authorization), LIST, json!({}))
        .await;
    assert_eq!(response.status().as_u16(), 401, "{why}: expected 401");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .unwrap_or_else(|| panic!("{why}: no WWW-Authenticate"))
        .to_str()
        .expect("ascii challenge")
        .to_owned();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\", error_description=\""),
        "{why}: {challenge}"
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/graphql-response+json"),
        "{why}: {content_type}"
    );
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{why}: {body}"
    );
    assert!(body["errors"][0]["message"].is_string(), "{why}: {body}");
    assert!(body.get("data").is_none(), "{why}: {body}");
    challenge
}

async fn assert_refused(app: &TestApp, token: &str, why: &str) -> String {
    assert_refused_header(app, &format!("Bearer {token}"), why).await
}

async fn assert_accepted(app: &TestApp, token: &str, why: &str) {
    let (status, body) = app.gql_as(token, LIST, json!({})).await;
    assert_eq!(status, 200, "{why}: {body}");
    assert!(body.get("errors").is_none(), "{why}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_tokens_of_every_role_are_accepted() {
    let app = spawn_app(Db::Sqlite).await;
    for role in ["editor", "admin", "partner"] {
        assert_accepted(&app, &token(role, "alice"), role).await;
    }
    let partner = claims_with("partner", |c| {
        c.insert("scope".into(), json!("syndication feeds"));
    });
    assert_accepted(
        &app,
        &token_with(partner, hs256(), secret()),
        "scope string",
    )
    .await;
    let partner = claims_with("partner", |c| {
        c.insert("scope".into(), json!(["syndication"]));
    });
    assert_accepted(&app, &token_with(partner, hs256(), secret()), "scope list").await;
    // No Authorization header: an anonymous reader.
    let (status, body) = app.gql(LIST, json!({})).await;
    assert_eq!(status, 200, "{body}");
}

fn draft(slug: &str) -> ArticleState {
    ArticleState {
        slug: Slug::parse(slug).expect("slug"),
        headline: Headline::parse("A draft only the newsroom sees").expect("headline"),
        dek: Dek::parse("Not yet published").expect("dek"),
        body: Body::new(vec![Block::Paragraph {
            text: "Draft body.".into(),
        }])
        .expect("body"),
        source: Source::parse("Test Desk").expect("source"),
        language: Language::english(),
        canonical_url: None,
        hero_image: None,
        primary_topic: None,
        topics: vec![],
        authors: vec![],
        status: ArticleStatus::Draft,
        published_at: None,
        syndication: Syndication::default(),
        expires_at: None,
        kill: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_decides_who_the_viewer_is() {
    let app = spawn_app(Db::Sqlite).await;
    app.store
        .create_article(&draft("newsroom-draft"), "test", Utc::now())
        .await
        .expect("draft");
    let query = r#"{ article(slug: "newsroom-draft") { slug } }"#;
    let anonymous = app.gql_ok(query, json!({})).await;
    assert_eq!(anonymous["article"], Value::Null);
    let partner = app
        .gql_ok_as(&token("partner", "acme"), query, json!({}))
        .await;
    assert_eq!(partner["article"], Value::Null);
    for role in ["editor", "admin"] {
        let staff = app.gql_ok_as(&token(role, "alice"), query, json!({})).await;
        assert_eq!(staff["article"]["slug"], "newsroom-draft", "{role}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_claims_are_checked_with_a_small_leeway() {
    let app = spawn_app(Db::Sqlite).await;
    let now = unix_now();
    let expired = claims_with("editor", |c| {
        c.insert("exp".into(), json!(now - 3600));
    });
    assert_refused(&app, &token_with(expired, hs256(), secret()), "expired").await;

    let early = claims_with("editor", |c| {
        c.insert("nbf".into(), json!(now + 120));
    });
    let challenge = assert_refused(&app, &token_with(early, hs256(), secret()), "nbf").await;
    assert!(challenge.contains("not valid yet"), "{challenge}");

    let started = claims_with("editor", |c| {
        c.insert("nbf".into(), json!(now - 10));
    });
    assert_accepted(&app, &token_with(started, hs256(), secret()), "nbf past").await;

    // Leeway 5 s: three seconds late still passes, a minute late does not.
    let just = claims_with("editor", |c| {
        c.insert("exp".into(), json!(now - 3));
    });
    assert_accepted(&app, &token_with(just, hs256(), secret()), "within leeway").await;
    let late = claims_with("editor", |c| {
        c.insert("exp".into(), json!(now - 60));
    });
    let challenge =
        assert_refused(&app, &token_with(late, hs256(), secret()), "beyond leeway").await;
    assert!(challenge.contains("expired"), "{challenge}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_audience_and_required_claims() {
    let app = spawn_app(Db::Sqlite).await;
    let wrong_iss = claims_with("editor", |c| {
        c.insert("iss".into(), json!("someone-else"));
    });
    let challenge = assert_refused(&app, &token_with(wrong_iss, hs256(), secret()), "iss").await;
    assert!(challenge.contains("issuer"), "{challenge}");
    let wrong_aud = claims_with("editor", |c| {
        c.insert("aud".into(), json!("another-api"));
    });
    let challenge = assert_refused(&app, &token_with(wrong_aud, hs256(), secret()), "aud").await;
    assert!(challenge.contains("audience"), "{challenge}");
    let aud_list = claims_with("editor", |c| {
        c.insert("aud".into(), json!(["another-api", TEST_AUDIENCE]));
    });
    assert_accepted(&app, &token_with(aud_list, hs256(), secret()), "aud list").await;

    for claim in ["exp", "iss", "aud", "sub"] {
        let missing = claims_with("editor", |c| {
            c.remove(claim);
        });
        let challenge = assert_refused(&app, &token_with(missing, hs256(), secret()), claim).await;
        assert!(challenge.contains(&format!("'{claim}'")), "{challenge}");
    }
    let no_role = claims_with("editor", |c| {
        c.remove("role");
    });
    assert_refused(&app, &token_with(no_role, hs256(), secret()), "no role").await;
    let unknown_role = claims_with("superuser", |_| {});
    let challenge =
        assert_refused(&app, &token_with(unknown_role, hs256(), secret()), "role").await;
    assert!(challenge.contains("role"), "{challenge}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_malformed_tokens() {
    let app = spawn_app(Db::Sqlite).await;

    // alg none, unsigned.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(test_claims("admin").to_string());
    assert_refused(&app, &format!("{header}.{payload}."), "alg none").await;
    assert_refused(
        &app,
        &format!("{header}.{payload}"),
        "alg none, two segments",
    )
    .await;

    // Tampered payload: an editor token promoted to admin, the signature kept.
    let editor = token("editor", "alice");
    let mut parts: Vec<&str> = editor.split('.').collect();
    let promoted = URL_SAFE_NO_PAD.encode(test_claims("admin").to_string());
    parts[1] = &promoted;
    assert_refused(&app, &parts.join("."), "tampered").await;

    // Signed with another secret.
    let other = token_with(
        test_claims("editor"),
        hs256(),
        b"another-secret-0123456789abcdef-0123456789",
    );
    let challenge = assert_refused(&app, &other, "wrong secret").await;
    assert!(challenge.contains("signature"), "{challenge}");

    // HS512 with the right secret: still not the pinned algorithm.
    let hs512 = token_with(
        test_claims("editor"),
        Header::new(Algorithm::HS512),
        secret(),
    );
    assert_refused(&app, &hs512, "HS512").await;

    // RS256 against an HS256 server.
    let rsa = EncodingKey::from_rsa_pem(&fixture_bytes("rs256-private.pem")).expect("rsa key");
    let rs256 = signed(test_claims("editor"), Header::new(Algorithm::RS256), &rsa);
    assert_refused(&app, &rs256, "RS256 on HS256 server").await;

    for garbage in ["garbage", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30", "é"] {
        assert_refused(&app, garbage, garbage).await;
    }

    // An unknown critical header parameter.
    let mut header = hs256();
    header.crit = Some(vec!["x-gazette-must-understand".into()]);
    header.extras.insert("x-gazette-must-understand", true);
    let crit = token_with(test_claims("editor"), header, secret());
    let challenge = assert_refused(&app, &crit, "crit").await;
    assert!(challenge.contains("critical"), "{challenge}");
    // Even the one jsonwebtoken itself understands.
    let mut header = hs256();
    header.crit = Some(vec!["b64".into()]);
    header.extras.insert("b64", true);
    assert_refused(
        &app,
        &token_with(test_claims("editor"), header, secret()),
        "b64",
    )
    .await;

    // A key id no configured key has; a key URL is never fetched.
    let mut header = hs256();
    header.kid = Some("rotated-away".into());
    let challenge = assert_refused(
        &app,
        &token_with(test_claims("editor"), header, secret()),
        "kid",
    )
    .await;
    assert!(challenge.contains("key id"), "{challenge}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_authorization_headers() {
    let app = spawn_app(Db::Sqlite).await;
    let valid = token("editor", "alice");
    for value in [
        "Basic YWxpY2U6c2VjcmV0".to_owned(),
        "Bearer".to_owned(),
        "Bearer    ".to_owned(),
        format!("Token {valid}"),
        format!("Bearer {valid} {valid}"),
        valid.clone(),
    ] {
        assert_refused_header(&app, &value, &value).await;
    }
    // The scheme is case-insensitive.
    let response = app
        .gql_authorized(Some(&format!("bearer {valid}")), LIST, json!({}))
        .await;
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_requests_and_json_clients_are_refused_the_same_way() {
    let app = spawn_app(Db::Sqlite).await;
    let url = app.url(&format!(
        "/graphql?query={}",
        "%7B%20articles(first%3A%201)%20%7B%20edges%20%7B%20node%20%7B%20id%20%7D%20%7D%20%7D%20%7D"
    ));
    let response = app
        .client
        .get(&url)
        .header("accept", "application/json")
        .header("authorization", "Bearer garbage")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    let response = app
        .client
        .get(&url)
        .header("accept", "application/json")
        .header("authorization", format!("Bearer {}", token("editor", "a")))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_tokens_are_refused_and_reads_stay_anonymous() {
    let app = spawn_app_with(Db::Sqlite, |args| args.auth = AuthArgs::none()).await;
    let challenge = assert_refused(&app, &token("editor", "alice"), "no key").await;
    assert!(challenge.contains("no verification key"), "{challenge}");
    let (status, body) = app.gql(LIST, json!({})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs256_server_accepts_rsa_signed_tokens_only() {
    let app = spawn_app_with(Db::Sqlite, |args| {
        args.auth = AuthArgs {
            jwt_secret: None,
            jwt_algorithm: Some(JwtAlgorithm::Rs256),
            jwt_public_key: Some(fixture("rs256-public.pem")),
            ..AuthArgs::for_tests()
        };
    })
    .await;
    let rsa = EncodingKey::from_rsa_pem(&fixture_bytes("rs256-private.pem")).expect("rsa key");
    let header = Header::new(Algorithm::RS256);
    assert_accepted(&app, &signed(test_claims("editor"), header, &rsa), "RS256").await;

    // HS256 signed with the server's public key as the HMAC secret: the classic confusion.
    let public_pem = fixture_bytes("rs256-public.pem");
    let confused = token_with(test_claims("admin"), hs256(), &public_pem);
    let challenge = assert_refused(&app, &confused, "HS256 with the public key").await;
    assert!(challenge.contains("algorithm"), "{challenge}");
    // And with the test secret.
    assert_refused(&app, &token("admin", "alice"), "HS256").await;
    // RS512 with the right key is not the pinned algorithm either.
    let rs512 = signed(test_claims("editor"), Header::new(Algorithm::RS512), &rsa);
    assert_refused(&app, &rs512, "RS512").await;
    // An RSA token missing a claim is refused like any other.
    let missing = claims_with("editor", |c| {
        c.remove("iss");
    });
    assert_refused(
        &app,
        &signed(missing, Header::new(Algorithm::RS256), &rsa),
        "iss",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eddsa_server_infers_its_algorithm_and_checks_the_kid() {
    let app = spawn_app_with(Db::Sqlite, |args| {
        args.auth = AuthArgs {
            jwt_secret: None,
            jwt_algorithm: None,
            jwt_public_key: Some(fixture("ed25519-public.pem")),
            jwt_kid: Some("ed-2025".into()),
            ..AuthArgs::for_tests()
        };
    })
    .await;
    let ed = EncodingKey::from_ed_pem(&fixture_bytes("ed25519-private.pem")).expect("ed key");
    let mut header = Header::new(Algorithm::EdDSA);
    assert_accepted(
        &app,
        &signed(test_claims("partner"), header.clone(), &ed),
        "no kid",
    )
    .await;
    header.kid = Some("ed-2025".into());
    assert_accepted(
        &app,
        &signed(test_claims("admin"), header.clone(), &ed),
        "kid",
    )
    .await;
    header.kid = Some("ed-2024".into());
    assert_refused(&app, &signed(test_claims("admin"), header, &ed), "old kid").await;

    let rsa = EncodingKey::from_rsa_pem(&fixture_bytes("rs256-private.pem")).expect("rsa key");
    let rs256 = signed(test_claims("editor"), Header::new(Algorithm::RS256), &rsa);
    assert_refused(&app, &rs256, "RS256 on EdDSA server").await;
    let public_pem = fixture_bytes("ed25519-public.pem");
    assert_refused(
        &app,
        &token_with(test_claims("admin"), hs256(), &public_pem),
        "HS256 with the public key",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_tokens_are_not_bearer_tokens() {
    let app = spawn_app(Db::Sqlite).await;
    // The same settings as the server: the preview secret falls back to the JWT secret.
    let auth = Authenticator::new(AuthConfig::hs256(secret(), TEST_ISSUER, TEST_AUDIENCE))
        .expect("config");
    let now = Utc::now();
    let preview = auth
        .mint_preview("alice", Uuid::now_v7(), 3, TimeDelta::minutes(10), now)
        .expect("preview");
    assert!(auth.verify_preview(&preview, now).is_ok());
    let challenge = assert_refused(&app, &preview, "preview as bearer").await;
    assert!(challenge.contains("not meant for this use"), "{challenge}");
    let access = token("editor", "alice");
    assert!(auth.verify_preview(&access, now).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gazette_token_mints_what_the_server_accepts() {
    let app = spawn_app(Db::Sqlite).await;
    let args = TokenArgs {
        role: TokenRole::Editor,
        sub: "alice".into(),
        ttl: TimeDelta::hours(1),
        scopes: vec![],
        auth: AuthArgs::for_tests(),
    };
    let minted = mint_token(&args, Utc::now()).expect("mint");
    assert_accepted(&app, &minted, "minted").await;
    let auth = Authenticator::new(AuthConfig::hs256(secret(), TEST_ISSUER, TEST_AUDIENCE))
        .expect("config");
    assert_eq!(
        auth.verify_access(&minted),
        Ok(gazette_domain::Viewer::Editor {
            sub: "alice".into()
        })
    );

    let partner = TokenArgs {
        role: TokenRole::Partner,
        scopes: vec!["syndication".into()],
        ..args.clone()
    };
    assert_eq!(
        auth.verify_access(&mint_token(&partner, Utc::now()).expect("mint")),
        Ok(gazette_domain::Viewer::Partner {
            sub: "alice".into(),
            scopes: vec!["syndication".into()],
        })
    );

    // Minted an hour ago with a 30-minute lifetime: expired.
    let stale = TokenArgs {
        ttl: TimeDelta::minutes(30),
        ..args.clone()
    };
    let stale = mint_token(&stale, Utc::now() - TimeDelta::hours(1)).expect("mint");
    assert_refused(&app, &stale, "stale minted token").await;

    let no_secret = TokenArgs {
        auth: AuthArgs::none(),
        ..args.clone()
    };
    let error = mint_token(&no_secret, Utc::now()).expect_err("no secret");
    assert!(error.to_string().contains("GAZETTE_JWT_SECRET"), "{error}");

    let rs256 = TokenArgs {
        auth: AuthArgs {
            jwt_secret: None,
            jwt_algorithm: Some(JwtAlgorithm::Rs256),
            jwt_public_key: Some(fixture("rs256-public.pem")),
            ..AuthArgs::for_tests()
        },
        ..args
    };
    assert!(mint_token(&rs256, Utc::now()).is_err());
    assert_eq!(Role::from(TokenRole::Admin), Role::Admin);
}
