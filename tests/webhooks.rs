//! Partner webhooks end to end: a receiver in the test (`push_clients.rs`) verifies every
//! Standard Webhooks signature with its own HMAC-SHA256 (not Gazette's code, not the signing
//! library), answers as scripted (500, 429 with `Retry-After`, 200), and records what it got.
//! Time is moved on the server's clock for backoff and embargoes; arrival is polled with a
//! deadline.

use std::sync::Arc;
use std::time::Duration;

use gazette_app::ManualClock;
use gazette_tests::{
    Db, TestApp, admin, editor, eventually, on_both_databases, partner, spawn_app_with,
    token_with_scope,
};
use serde_json::{Value, json};

use crate::push_clients::{Received, Receiver, WAIT, verifies};

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no extensions.code in {body}"))
}

/// Gazette with webhooks allowed to reach the local receiver, looking for work every 20 ms.
async fn spawn_hooked(db: Db, clock: Option<ManualClock>) -> TestApp {
    spawn_app_with(db, move |args| {
        args.webhooks.webhook_max_per_partner = 10;
        args.webhooks.webhook_allow_hosts = vec!["127.0.0.1".to_owned()];
        args.webhooks.webhook_poll_ms = 20;
        if let Some(clock) = clock {
            args.clock = Arc::new(clock);
        }
    })
    .await
}

const CREATE: &str = "mutation($input: WebhookSubscriptionInput!) {
    createWebhookSubscription(input: $input) { secret subscription { id cursor status } } }";

const LOG: &str = "query($id: ID!) { webhookDeliveries(subscriptionId: $id) {
    id event status nextAttemptAt attempts { attempt attemptedAt statusCode error } } }";

/// Subscribes as `token` to `input` (its `url` and filters); the subscription and its secret.
async fn subscribe(app: &TestApp, token: &str, input: Value) -> (Value, String) {
    let data = app
        .gql_ok_as(token, CREATE, json!({ "input": input }))
        .await;
    let created = &data["createWebhookSubscription"];
    let secret = created["secret"].as_str().expect("the secret").to_owned();
    (created["subscription"].clone(), secret)
}

/// The delivery log of subscription `id`, read as `token`, once `done` holds for it.
async fn log_when(app: &TestApp, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let data = app.gql_ok_as(token, LOG, json!({ "id": id })).await;
        let log = data["webhookDeliveries"].clone();
        if done(&log) {
            return log;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "delivery log never got there: {log}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn the_tests_hmac_matches_the_specification_vector() {
    let r = Received {
        id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk".to_owned(),
        timestamp: "1649367553".to_owned(),
        signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=".to_owned(),
        body: r#"{"email":"test@example.com","username":"test_user"}"#.to_owned(),
    };
    assert!(verifies("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", &r));
}

on_both_databases!(
    a_publication_is_delivered_signed_as_the_partner_sees_it_and_replayed,
    |db| async move {
        let receiver = Receiver::start(&[]).await;
        let app = spawn_hooked(db, None).await;
        let agency = partner(&["syndication"]);
        let (subscription, secret) =
            subscribe(&app, &agency, json!({ "url": receiver.url() })).await;
        let sub_id = subscription["id"].as_str().unwrap().to_owned();
        let listed = app
            .gql_ok_as(
                &agency,
                "{ webhookSubscriptions { id url status } }",
                json!({}),
            )
            .await;
        assert_eq!(listed["webhookSubscriptions"][0]["id"], sub_id.as_str());
        assert_eq!(listed["webhookSubscriptions"][0]["status"], "ACTIVE");

        let id = app.draft("hooked", json!({ "syndicatable": true })).await;
        app.publish(&id).await;
        let got = receiver.wait_for(1).await;
        assert!(
            verifies(&secret, &got[0]),
            "signature verifies: {:?}",
            got[0]
        );
        let body = got[0].json();
        assert_eq!(body["type"], "article.published");
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["action"], "upsert");
        assert_eq!(body["article"]["slug"], "hooked");
        assert!(
            body["article"]["body"].is_array(),
            "full text for this partner: {body}"
        );

        let log = log_when(&app, &agency, &sub_id, |log| {
            log[0]["status"] == "DELIVERED"
        })
        .await;
        assert_eq!(log[0]["id"], got[0].id.as_str());
        assert_eq!(log[0]["attempts"][0]["statusCode"], 204);

        // Another partner: the subscription does not exist for it.
        let other = token_with_scope("partner", "other-agency", &["syndication"]);
        let (_, refused) = app.gql_as(&other, LOG, json!({ "id": sub_id })).await;
        assert_eq!(code(&refused), "NOT_FOUND");

        // Replay from where the subscription began: the story is sent again, a new message.
        app.gql_ok_as(
            &agency,
            "mutation($id: ID!, $since: String!) { replayWebhookSubscription(id: $id, since: $since) { id } }",
            json!({ "id": sub_id, "since": subscription["cursor"] }),
        )
        .await;
        let got = receiver.wait_for(2).await;
        assert!(verifies(&secret, &got[1]));
        assert_eq!(got[1].json()["id"], id.as_str());
        assert_ne!(got[1].id, got[0].id);
    }
);

on_both_databases!(
    a_failed_delivery_is_retried_with_its_id_and_a_fresh_signature_honouring_retry_after,
    |db| async move {
        let receiver = Receiver::start(&[(500, None), (429, Some("120"))]).await;
        let clock = ManualClock::new();
        let app = spawn_hooked(db, Some(clock.clone())).await;
        let agency = partner(&["syndication"]);
        let (subscription, secret) =
            subscribe(&app, &agency, json!({ "url": receiver.url() })).await;
        let sub_id = subscription["id"].as_str().unwrap().to_owned();
        let id = app.draft("retried", json!({})).await;
        app.publish(&id).await;

        receiver.wait_for(1).await;
        log_when(&app, &agency, &sub_id, |log| {
            log[0]["attempts"].as_array().unwrap().len() == 1
        })
        .await;
        // The first retry waits at most 5 s (full jitter).
        clock.advance(chrono::Duration::seconds(6));
        receiver.wait_for(2).await;
        // The log is read in two statements: wait until its delivery row shows the second
        // attempt's rescheduling too.
        let log = log_when(&app, &agency, &sub_id, |log| {
            let attempts = log[0]["attempts"].as_array().unwrap();
            attempts.len() == 2
                && log[0]["nextAttemptAt"].as_str() > attempts[1]["attemptedAt"].as_str()
        })
        .await;
        let attempted: chrono::DateTime<chrono::Utc> = log[0]["attempts"][1]["attemptedAt"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let next: chrono::DateTime<chrono::Utc> =
            log[0]["nextAttemptAt"].as_str().unwrap().parse().unwrap();
        assert!(
            next - attempted >= chrono::Duration::seconds(120),
            "Retry-After honoured: {log}"
        );
        assert_eq!(receiver.got().len(), 2, "nothing before Retry-After");

        clock.advance(chrono::Duration::seconds(121));
        let got = receiver.wait_for(3).await;
        let log = log_when(&app, &agency, &sub_id, |log| {
            log[0]["status"] == "DELIVERED"
        })
        .await;
        let codes: Vec<&Value> = (log[0]["attempts"].as_array().unwrap().iter())
            .map(|a| &a["statusCode"])
            .collect();
        assert_eq!(codes, [&json!(500), &json!(429), &json!(204)]);
        assert!(
            got.iter().all(|r| r.id == got[0].id),
            "one webhook-id for every attempt"
        );
        assert!(got.iter().all(|r| verifies(&secret, r)));
        assert_ne!(got[0].timestamp, got[2].timestamp, "a fresh timestamp");
        assert_ne!(got[0].signature, got[2].signature, "a fresh signature");
        assert_eq!(got[0].body, got[2].body, "the same message");
    }
);

on_both_databases!(
    an_embargoed_story_reaches_a_partner_only_at_its_instant,
    |db| async move {
        let receiver = Receiver::start(&[]).await;
        let clock = ManualClock::new();
        let app = spawn_hooked(db, Some(clock.clone())).await;
        let agency = partner(&["syndication"]);
        let events = [
            "article.published",
            "article.updated",
            "article.embargo_lifted",
        ];
        let (_, secret) = subscribe(
            &app,
            &agency,
            json!({ "url": receiver.url(), "events": events }),
        )
        .await;
        let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        let embargoed = app
            .draft(
                "embargoed-hook",
                json!({ "syndicatable": true, "embargoUntil": until }),
            )
            .await;
        app.publish(&embargoed).await;
        // A later story delivered proves the embargoed one was read and held back.
        let marker = app.draft("after-the-embargoed-one", json!({})).await;
        app.publish(&marker).await;
        let got = receiver.wait_for(1).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].json()["id"], marker.as_str());

        clock.advance(chrono::Duration::hours(2));
        let got = receiver.wait_for(2).await;
        let body = got[1].json();
        assert!(verifies(&secret, &got[1]));
        assert_eq!(body["id"], embargoed.as_str());
        assert_eq!(body["type"], "article.embargo_lifted");
        assert!(
            body["article"]["body"].is_array(),
            "the full text, now: {body}"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_targets_and_callers_are_refused() {
    // Webhooks on, with no allow-list.
    let app = spawn_app_with(Db::Sqlite, |args| {
        args.webhooks.webhook_max_per_partner = 10
    })
    .await;
    let agency = partner(&["syndication"]);
    for url in [
        "http://example.com/hook",
        "ftp://example.com/hook",
        "https://user:pass@example.com/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.8/hook",
        "https://172.16.1.1/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:169.254.169.254]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
    ] {
        let (_, body) = app
            .gql_as(&agency, CREATE, json!({ "input": { "url": url } }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{url}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "url", "{url}");
    }
    // A public address (no lookup needed), a bad event type.
    let input =
        json!({ "input": { "url": "https://93.184.216.34/hook", "events": ["article.nope"] } });
    let (_, body) = app.gql_as(&agency, CREATE, input).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "events");
    let input = json!({ "input": { "url": "https://example.com/hook" } });
    let (_, body) = app.gql_as(&editor(), CREATE, input.clone()).await;
    assert_eq!(code(&body), "FORBIDDEN");
    let (_, body) = app.gql(CREATE, input).await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_postgres_never_send_an_attempt_twice() {
    let receiver = Receiver::start(&[]).await;
    let app = spawn_hooked(Db::Postgres, None).await;
    let sibling = app
        .spawn_sibling_with(|args| {
            args.webhooks.webhook_max_per_partner = 10;
            args.webhooks.webhook_allow_hosts = vec!["127.0.0.1".to_owned()];
            args.webhooks.webhook_poll_ms = 20;
        })
        .await;
    let agency = partner(&["syndication"]);
    let (subscription, secret) = subscribe(&app, &agency, json!({ "url": receiver.url() })).await;
    let sub_id = subscription["id"].as_str().unwrap().to_owned();
    let stories = 12;
    for n in 0..stories {
        // Half the writes on each node: both dispatchers and both workers have work.
        let node = if n % 2 == 0 { &app } else { &sibling };
        let id = node.draft(&format!("twice-{n}"), json!({})).await;
        node.publish(&id).await;
    }
    let log = log_when(&app, &agency, &sub_id, |log| {
        let all = log.as_array().unwrap();
        all.len() == stories && all.iter().all(|d| d["status"] == "DELIVERED")
    })
    .await;
    let got = receiver.got();
    let mut ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "no webhook-id sent twice");
    assert_eq!(got.len(), stories, "one request per story: {log}");
    let mut articles: Vec<String> = got.iter().map(|r| r.json()["id"].to_string()).collect();
    articles.sort_unstable();
    articles.dedup();
    assert_eq!(articles.len(), stories, "no story enqueued twice");
    assert!(got.iter().all(|r| verifies(&secret, r)));
    sibling.stop().await;
}

on_both_databases!(
    a_rotated_secret_signs_beside_the_new_one_until_its_grace_ends,
    |db| async move {
        let receiver = Receiver::start(&[]).await;
        let clock = ManualClock::new();
        let app = spawn_hooked(db, Some(clock.clone())).await;
        let agency = partner(&["syndication"]);
        let (subscription, old) = subscribe(&app, &agency, json!({ "url": receiver.url() })).await;
        let rotated = app
            .gql_ok_as(
                &agency,
                "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
                json!({ "id": subscription["id"] }),
            )
            .await;
        let new = rotated["rotateWebhookSecret"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(new, old);

        let id = app.draft("during-the-grace", json!({})).await;
        app.publish(&id).await;
        let got = receiver.wait_for(1).await;
        assert!(
            verifies(&new, &got[0]) && verifies(&old, &got[0]),
            "{:?}",
            got[0]
        );

        clock.advance(chrono::Duration::hours(25));
        let id = app.draft("after-the-grace", json!({})).await;
        app.publish(&id).await;
        let got = receiver.wait_for(2).await;
        assert!(verifies(&new, &got[1]));
        assert!(!verifies(&old, &got[1]), "the old secret no longer signs");
    }
);

on_both_databases!(
    a_subscription_that_keeps_failing_is_paused_and_resumes_where_it_stopped,
    |db| async move {
        let receiver = Receiver::start(&[(500, None), (503, None)]).await;
        let clock = ManualClock::new();
        let moved = clock.clone();
        let app = spawn_app_with(db, move |args| {
            args.webhooks.webhook_max_per_partner = 10;
            args.webhooks.webhook_allow_hosts = vec!["127.0.0.1".to_owned()];
            args.webhooks.webhook_poll_ms = 20;
            args.webhooks.webhook_pause_after = 2;
            args.clock = Arc::new(moved);
        })
        .await;
        let agency = partner(&["syndication"]);
        let (subscription, secret) =
            subscribe(&app, &agency, json!({ "url": receiver.url() })).await;
        let sub_id = subscription["id"].as_str().unwrap().to_owned();
        let id = app.draft("keeps-failing", json!({})).await;
        app.publish(&id).await;
        receiver.wait_for(1).await;
        log_when(&app, &agency, &sub_id, |log| {
            log[0]["attempts"].as_array().unwrap().len() == 1
        })
        .await;
        clock.advance(chrono::Duration::seconds(6));
        receiver.wait_for(2).await;
        log_when(&app, &agency, &sub_id, |log| {
            log[0]["attempts"].as_array().unwrap().len() == 2
        })
        .await;
        let listed = app
            .gql_ok_as(
                &agency,
                "{ webhookSubscriptions { status pausedReason } }",
                json!({}),
            )
            .await;
        assert_eq!(
            listed["webhookSubscriptions"][0]["status"], "PAUSED",
            "{listed}"
        );
        assert!(listed["webhookSubscriptions"][0]["pausedReason"].is_string());

        let resumed = app
            .gql_ok_as(
                &agency,
                "mutation($id: ID!) { updateWebhookSubscription(id: $id, input: { active: true }) { status consecutiveFailures } }",
                json!({ "id": sub_id }),
            )
            .await;
        assert_eq!(resumed["updateWebhookSubscription"]["status"], "ACTIVE");
        clock.advance(chrono::Duration::seconds(11));
        let got = receiver.wait_for(3).await;
        assert!(verifies(&secret, &got[2]));
        assert_eq!(got[2].id, got[0].id, "the same message, at last delivered");
        log_when(&app, &agency, &sub_id, |log| {
            log[0]["status"] == "DELIVERED"
        })
        .await;
    }
);

/// One REST answer: status, headers and the JSON body (null when there is none).
struct Rest {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Rest {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts a problem answer with `status` and `code` (and the `field` at fault, if given).
    fn problem(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.header("content-type"), "application/problem+json");
        assert_eq!(self.body["code"], code, "{}", self.body);
        if let Some(field) = field {
            assert_eq!(self.body["field"], field, "{}", self.body);
        }
        assert_eq!(self.header("cache-control"), "no-store");
    }
}

/// `method path` as `token` (anonymous when `None`) with `body`: raw text when a string,
/// JSON otherwise.
async fn rest(app: &TestApp, method: &str, path: &str, token: Option<&str>, body: Value) -> Rest {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request = match body {
        Value::Null => request,
        Value::String(raw) => request.header("content-type", "application/json").body(raw),
        json => request.json(&json),
    };
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    Rest {
        status,
        headers,
        body,
    }
}

on_both_databases!(
    a_partner_manages_its_subscription_over_rest_and_others_are_refused,
    |db| async move {
        let receiver = Receiver::start(&[]).await;
        let app = spawn_hooked(db, None).await;
        let agency = partner(&["syndication"]);
        let other = token_with_scope("partner", "other-agency", &["syndication"]);
        let hook = json!({ "url": receiver.url(), "events": ["article.published"] });

        // Refusals: who may, and what is refused before anything is stored.
        rest(&app, "POST", "/v1/webhooks", None, hook.clone())
            .await
            .problem(401, "UNAUTHENTICATED", None);
        let anonymous = rest(&app, "GET", "/v1/webhooks", None, Value::Null).await;
        anonymous.problem(401, "UNAUTHENTICATED", None);
        assert!(anonymous.header("www-authenticate").starts_with("Bearer"));
        rest(&app, "GET", "/v1/webhooks", Some(&editor()), Value::Null)
            .await
            .problem(403, "FORBIDDEN", None);
        let private = json!({ "url": "https://10.0.0.8/hook" });
        rest(&app, "POST", "/v1/webhooks", Some(&agency), private)
            .await
            .problem(400, "BAD_USER_INPUT", Some("url"));
        let broken = json!("{\"url\": ");
        rest(&app, "POST", "/v1/webhooks", Some(&agency), broken)
            .await
            .problem(400, "BAD_REQUEST", None);
        // A body not sent as JSON is refused before it is read.
        let plain = app
            .client
            .post(app.url("/v1/webhooks"))
            .bearer_auth(&agency)
            .header("content-type", "text/plain")
            .body(hook.to_string())
            .send()
            .await
            .expect("request sent");
        assert_eq!(plain.status().as_u16(), 415);
        let problem: Value = plain.json().await.expect("a problem");
        assert_eq!(problem["code"], "UNSUPPORTED_MEDIA_TYPE", "{problem}");
        // Past the body limit (256 KiB by default).
        let huge = json!({ "url": format!("https://x.example/{}", "a".repeat(257 * 1024)) });
        rest(&app, "POST", "/v1/webhooks", Some(&agency), huge)
            .await
            .problem(413, "PAYLOAD_TOO_LARGE", None);
        let nope = json!({ "url": receiver.url(), "events": ["article.nope"] });
        rest(&app, "POST", "/v1/webhooks", Some(&agency), nope)
            .await
            .problem(400, "BAD_USER_INPUT", Some("events"));

        // Create: 201 with its Location and the secret, this once.
        let created = rest(&app, "POST", "/v1/webhooks", Some(&agency), hook).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.header("cache-control"), "no-store");
        let sub = created.body["subscription"].clone();
        let id = sub["id"].as_str().unwrap().to_owned();
        let at = format!("/v1/webhooks/{id}");
        assert_eq!(created.header("location"), at);
        let old = created.body["secret"].as_str().unwrap().to_owned();
        assert!(old.starts_with("whsec_"));
        assert_eq!(sub["status"], "active");
        assert_eq!(sub["events"], json!(["article.published"]));

        // Read: listed and found by its owner (twice: never from a cache) and an admin; not
        // found by another partner.
        for _ in 0..2 {
            let listed = rest(&app, "GET", "/v1/webhooks", Some(&agency), Value::Null).await;
            assert_eq!(listed.status, 200);
            assert_eq!(
                listed.body["items"][0]["id"],
                id.as_str(),
                "{}",
                listed.body
            );
            assert!(listed.body["items"][0].get("secret").is_none());
            assert_eq!(listed.header("cache-control"), "no-store");
            assert_ne!(listed.header("x-cache"), "hit");
        }
        let one = rest(&app, "GET", &at, Some(&agency), Value::Null).await;
        assert_eq!(
            (one.status, &one.body["url"]),
            (200, &json!(receiver.url()))
        );
        let by_admin = rest(&app, "GET", &at, Some(&admin()), Value::Null).await;
        assert_eq!(by_admin.body["owner"], "agency", "{}", by_admin.body);
        rest(&app, "GET", &at, Some(&other), Value::Null)
            .await
            .problem(404, "NOT_FOUND", None);
        let theirs = rest(&app, "GET", "/v1/webhooks", Some(&other), Value::Null).await;
        assert_eq!(theirs.body["items"], json!([]));
        rest(&app, "DELETE", &at, Some(&other), Value::Null)
            .await
            .problem(404, "NOT_FOUND", None);
        rest(
            &app,
            "GET",
            "/v1/webhooks/not-an-id",
            Some(&agency),
            Value::Null,
        )
        .await
        .problem(400, "BAD_USER_INPUT", Some("id"));

        // Change the events, rotate the secret.
        let events = json!({ "events": ["article.published", "article.updated"] });
        let patched = rest(&app, "PATCH", &at, Some(&agency), events).await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        assert_eq!(patched.body["events"].as_array().unwrap().len(), 2);
        let rotate = format!("{at}/rotate-secret");
        let rotated = rest(&app, "POST", &rotate, Some(&agency), Value::Null).await;
        assert_eq!(rotated.status, 200, "{}", rotated.body);
        let new = rotated.body["secret"].as_str().unwrap().to_owned();
        assert_ne!(new, old);

        // A publication is delivered, signed with both secrets (the grace), and logged.
        let article = app.draft("rest-hooked", json!({})).await;
        app.publish(&article).await;
        let got = receiver.wait_for(1).await;
        assert!(verifies(&new, &got[0]) && verifies(&old, &got[0]));
        let log = format!("{at}/deliveries?first=5");
        let deadline = std::time::Instant::now() + WAIT;
        let delivered = loop {
            let read = rest(&app, "GET", &log, Some(&agency), Value::Null).await;
            assert_eq!(read.status, 200, "{}", read.body);
            if read.body["items"][0]["status"] == "delivered" {
                break read;
            }
            assert!(std::time::Instant::now() < deadline, "{}", read.body);
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(delivered.header("cache-control"), "no-store");
        assert_eq!(delivered.body["items"][0]["id"], got[0].id.as_str());
        assert_eq!(delivered.body["items"][0]["attempts"][0]["statusCode"], 204);
        rest(
            &app,
            "GET",
            &format!("{at}/deliveries?first=0"),
            Some(&agency),
            Value::Null,
        )
        .await
        .problem(400, "BAD_USER_INPUT", Some("first"));

        // Replay from where it began: sent again as a new message.
        let replay = format!("{at}/replay");
        let since = json!({ "since": sub["cursor"] });
        let replayed = rest(&app, "POST", &replay, Some(&agency), since).await;
        assert_eq!(replayed.status, 200, "{}", replayed.body);
        let got = receiver.wait_for(2).await;
        assert_eq!(got[1].json()["id"], article.as_str());
        assert_ne!(got[1].id, got[0].id);

        // Delete: 204, then gone.
        let deleted = rest(&app, "DELETE", &at, Some(&agency), Value::Null).await;
        assert_eq!((deleted.status, deleted.body.clone()), (204, Value::Null));
        rest(&app, "GET", &at, Some(&agency), Value::Null)
            .await
            .problem(404, "NOT_FOUND", None);
    }
);

/// A receiver that answers nothing until released, counting the requests it holds open.
struct Stalled {
    url: String,
    counts: Arc<StalledCounts>,
    release: tokio::sync::watch::Sender<bool>,
}

/// What a [`Stalled`] receiver has seen.
#[derive(Default)]
struct StalledCounts {
    open: std::sync::atomic::AtomicUsize,
    most_open: std::sync::atomic::AtomicUsize,
    answered: std::sync::atomic::AtomicUsize,
}

impl Stalled {
    async fn start() -> Self {
        use std::sync::atomic::Ordering;
        let counts = Arc::new(StalledCounts::default());
        let (release, released) = tokio::sync::watch::channel(false);
        let handler = {
            let counts = Arc::clone(&counts);
            move || {
                let counts = Arc::clone(&counts);
                let mut released = released.clone();
                async move {
                    let now = counts.open.fetch_add(1, Ordering::SeqCst) + 1;
                    counts.most_open.fetch_max(now, Ordering::SeqCst);
                    let _ = released.wait_for(|r| *r).await;
                    counts.open.fetch_sub(1, Ordering::SeqCst);
                    counts.answered.fetch_add(1, Ordering::SeqCst);
                    axum::http::StatusCode::NO_CONTENT
                }
            }
        };
        let router = axum::Router::new().route("/hook", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            url,
            counts,
            release,
        }
    }
}

// A receiver that stops answering holds at most `GAZETTE_WEBHOOK_PER_SUBSCRIPTION` of the
// sender's places, never all of them: another subscription's deliveries go on meanwhile, and
// once it answers again its backlog goes out, still that many at a time.
on_both_databases!(
    a_stalled_receiver_holds_its_own_places_and_no_more,
    |db| async move {
        use std::sync::atomic::Ordering;
        let stalled = Stalled::start().await;
        let receiver = Receiver::start(&[]).await;
        let app = spawn_app_with(db, |args| {
            args.webhooks.webhook_max_per_partner = 10;
            args.webhooks.webhook_allow_hosts = vec!["127.0.0.1".to_owned()];
            args.webhooks.webhook_poll_ms = 20;
            args.webhooks.webhook_concurrency = 4;
            args.webhooks.webhook_per_subscription = 2;
            // Longer than the test: a held request stays in flight until released.
            args.webhooks.webhook_timeout_ms = 120_000;
        })
        .await;
        let agency = partner(&["syndication"]);
        subscribe(&app, &agency, json!({ "url": stalled.url })).await;
        let (_, secret) = subscribe(&app, &agency, json!({ "url": receiver.url() })).await;
        let stories = 6;
        for n in 0..stories {
            let id = app.draft(&format!("stalled-{n}"), json!({})).await;
            app.publish(&id).await;
        }
        // Every story reaches the answering receiver while the other holds its requests.
        let got = receiver.wait_for(stories).await;
        assert!(got.iter().all(|r| verifies(&secret, r)));
        let (open, answered) = (&stalled.counts.open, &stalled.counts.answered);
        eventually("the stalled receiver holds two requests", WAIT, || {
            open.load(Ordering::SeqCst) == 2
        })
        .await;
        assert_eq!(answered.load(Ordering::SeqCst), 0);
        stalled.release.send_replace(true);
        eventually("the stalled receiver's backlog goes out", WAIT, || {
            answered.load(Ordering::SeqCst) == stories
        })
        .await;
        assert_eq!(
            stalled.counts.most_open.load(Ordering::SeqCst),
            2,
            "at most GAZETTE_WEBHOOK_PER_SUBSCRIPTION requests to one receiver at once"
        );
        assert_eq!(receiver.got().len(), stories, "nothing sent twice");
    }
);
