//! A value `/openapi.json` allows is never refused. The test walks every operation and every
//! parameter of the document the real server serves and sends what the document allows: each
//! integer's bounds, each enum's members, the strings of a fixed pool (and each length bound)
//! that the parameter's schema accepts, pattern and format included, the cursors the list
//! itself gave out, and view-beacon bodies built from the body schema. None is answered 400 or
//! 5xx; every answer is one the document lists, with a body its schema accepts. Conversely, a
//! value just outside what the document allows (a bound ± 1, a string the pattern refuses, a
//! non-member) is answered 400 with a problem naming the parameter.
//!
//! Operations that need a bearer token (the webhook routes) are walked with a partner's, and so
//! are the values that need one ([`NEEDS_FULL_TEXT_RIGHTS`]). The
//! webhook writes on one subscription (`PATCH`, `DELETE`, `POST …/rotate-secret`,
//! `POST …/replay`) are left out here: they change or remove the very subscription the walk
//! reads, and `rest_contract` and `webhooks` call each of them.

use std::collections::BTreeSet;

use gazette_tests::{
    TestApp, on_both_databases, spawn_app_with, spawn_seeded_app_with, token_with_scope,
};
use serde_json::{Map, Value, json};

use crate::rest::SAMPLE;
use crate::rest_contract::Contract;

/// Most allowed values sent for one parameter or body field: every bound and member, and a few
/// typical strings, keeping the walk at a few hundred requests.
const MOST_ALLOWED: usize = 16;
/// Most refused values sent for one parameter or body field.
const MOST_REFUSED: usize = 4;

/// Strings tried on every parameter and body field, in this order; the ones its schema allows
/// are sent as allowed values, the others as refused ones. Before them come the length bounds
/// of the schema at hand, after them the seeded names.
const POOL: &[&str] = &[
    // Just outside: a slug's forbidden shapes, an unclosed quote, not an instant, no member.
    "Bad_Slug",
    "-a",
    "a--b",
    "\"unclosed",
    "yesterday",
    "2025-02-30T00:00:00Z",
    "none-of-these",
    // What a reader types.
    "korea",
    "\"north korea\"",
    "trade*",
    "the",
    // Text no rule mentions: a NUL, a non-BMP character, nothing, blanks, the white space
    // that only one of Rust and ECMA-262 calls so, controls, URL syntax, non-ASCII letters.
    "x\u{0}y",
    "😀",
    "",
    " ",
    "\u{85}",
    "\u{FEFF}",
    "tab\tnew\nline",
    "%25&=+#?",
    "ünïcödé",
    "한국",
    "Korea's economy",
    // Slugs: the shortest, digits only, several words, naming nothing.
    "a",
    "0",
    "a-1",
    "no-such-name-2025",
    // Instants: RFC 3339 at its edges.
    "1970-01-01T00:00:00Z",
    "2025-05-15T12:00:00+09:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999Z",
    "2016-12-31T23:59:60Z",
    "2025-05-15t12:00:00z",
    "2025-05-15T12:00:00.5-23:59",
    // An id of nothing.
    "00000000-0000-0000-0000-000000000000",
];

/// A parameter value the document allows only to a caller with full-text rights (its
/// description says so: a partner with the `syndication` scope), whom the walk then sends it as.
const NEEDS_FULL_TEXT_RIGHTS: (&str, &str) = ("content", "full");

/// What the walk sends for one parameter or field.
#[derive(Default)]
struct Values {
    allowed: Vec<Value>,
    refused: Vec<Value>,
}

/// The operation a request is made for.
struct Operation<'a> {
    method: &'a str,
    path: &'a str,
    spec: &'a Value,
}

impl Operation<'_> {
    fn documents(&self, status: u16) -> bool {
        let responses = &self.spec["responses"];
        responses.get(status.to_string()).is_some()
            || responses.get(format!("{}XX", status / 100)).is_some()
    }

    /// The schema of the 200 answer.
    fn ok_schema(&self) -> &Value {
        &self.spec["responses"]["200"]["content"]["application/json"]["schema"]
    }
}

/// A parameter and its value in a request.
type Param = (String, String, Value);

/// One answer of the server.
struct Answer {
    status: u16,
    content_type: String,
    etag: Option<String>,
    body: Value,
}

/// Percent-encodes a path segment (everything but RFC 3986's unreserved characters).
fn path_segment(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A query or path value as text.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The cursors in `body` where its schema puts a `Cursor`: what the list gave out.
fn issued_cursors(contract: &Contract, schema: &Value, body: &Value) -> Vec<Value> {
    let mut found: Vec<Value> = Vec::new();
    let mut pending = vec![(schema, body)];
    let mut budget = 100_000;
    while let Some((schema, body)) = pending.pop() {
        budget -= 1;
        assert!(budget > 0, "a response too large to walk");
        if schema.get("$ref").and_then(Value::as_str) == Some("#/components/schemas/Cursor") {
            if body.is_string() && !found.contains(body) {
                found.push(body.clone());
            }
            continue;
        }
        let schema = contract.resolve(schema);
        for key in ["allOf", "oneOf", "anyOf"] {
            for member in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                pending.push((member, body));
            }
        }
        match body {
            Value::Object(fields) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                for (name, field) in properties.into_iter().flatten() {
                    if let Some(value) = fields.get(name) {
                        pending.push((field, value));
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item) = schema.get("items") {
                    pending.extend(items.iter().map(|value| (item, value)));
                }
            }
            _ => {}
        }
    }
    found
}

/// The values the walk sends for `schema`: members, bounds and length bounds, and pool
/// strings, sorted by what the schema (its pattern and format too) says of them.
fn values_for(contract: &Contract, schema: &Value, names: &[String]) -> Values {
    let validator = contract.validator(schema);
    let resolved = contract.resolve(schema);
    let types: Vec<&str> = match &resolved["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let mut candidates: Vec<Value> = Vec::new();
    let mut refused_first: Vec<Value> = Vec::new();
    if let Some(members) = resolved["enum"].as_array() {
        candidates.extend(members.iter().cloned());
    }
    if types.contains(&"integer") {
        let bound = |key: &str, fallback: i64| resolved[key].as_i64().unwrap_or(fallback);
        let (lo, hi) = match resolved["format"].as_str() {
            Some("int32") => (
                bound("minimum", i32::MIN.into()),
                bound("maximum", i32::MAX.into()),
            ),
            _ => (bound("minimum", i64::MIN), bound("maximum", i64::MAX)),
        };
        candidates.extend([lo, hi, lo / 2 + hi / 2].map(Value::from));
        candidates.extend(resolved.get("default").cloned());
        refused_first.extend(
            [lo.checked_sub(1), hi.checked_add(1)]
                .into_iter()
                .flatten()
                .map(Value::from),
        );
        refused_first.extend(["1.5", "ten"].map(Value::from));
    }
    if let Some(longest) = resolved["maxLength"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
    {
        candidates.extend(["a".repeat(longest), "é".repeat(longest)].map(Value::from));
        refused_first.push("a".repeat(longest + 1).into());
    }
    if types.contains(&"null") {
        candidates.push(Value::Null);
    }
    if types.contains(&"array")
        && let Some(items) = resolved.get("items")
    {
        // Empty, and one element of each kind the items allow or refuse.
        let inner = values_for(contract, items, names);
        candidates.push(json!([]));
        candidates.extend(inner.allowed.into_iter().map(|v| json!([v])));
        refused_first.extend(inner.refused.into_iter().map(|v| json!([v])));
    }
    // Strings for every schema: the validator sorts them (a number's text, too, is a string).
    candidates.extend(POOL.iter().map(|s| Value::from(*s)));
    candidates.extend(names.iter().cloned().map(Value::from));

    let mut values = Values::default();
    let mut seen = BTreeSet::new();
    for value in refused_first.into_iter().chain(candidates) {
        if !seen.insert(value.to_string()) {
            continue;
        }
        // Integers travel as text: to the validator, a whole number's text is the number.
        let as_json = match &value {
            Value::String(s) if types.contains(&"integer") => {
                s.parse::<i64>().map_or_else(|_| value.clone(), Value::from)
            }
            _ => value.clone(),
        };
        let (list, most) = if validator.is_valid(&as_json) {
            (&mut values.allowed, MOST_ALLOWED)
        } else {
            (&mut values.refused, MOST_REFUSED)
        };
        if list.len() < most {
            list.push(value);
        }
    }
    values
}

/// The walk over one server: its requests, and every answer that breaks the document.
struct Walk<'a> {
    app: &'a TestApp,
    contract: &'a Contract,
    /// Seeded names and ids, tried after the pool.
    names: Vec<String>,
    /// The bearer token sent to operations that require one.
    token: String,
    /// Does not follow redirects: a 301 is an answer the document must list.
    client: reqwest::Client,
    sent: usize,
    failures: Vec<String>,
}

impl Walk<'_> {
    async fn send(
        &mut self,
        op: &Operation<'_>,
        params: &[Param],
        body: Option<&Value>,
        if_none_match: Option<&str>,
    ) -> Answer {
        let mut path = op.path.to_owned();
        let mut query: Vec<(String, String)> = Vec::new();
        for (name, location, value) in params {
            if location == "path" {
                path = path.replace(&format!("{{{name}}}"), &path_segment(&text(value)));
            } else {
                query.push((name.clone(), text(value)));
            }
        }
        let mut request = match op.method {
            "get" => self.client.get(self.app.url(&path)),
            "post" => self.client.post(self.app.url(&path)),
            "patch" => self.client.patch(self.app.url(&path)),
            "delete" => self.client.delete(self.app.url(&path)),
            other => panic!("the walk sends no {other}"),
        }
        .query(&query);
        // An operation's own `security` that requires the bearer replaces the document's
        // optional one; a value that needs full-text rights is sent with them.
        let needs_rights = params.iter().any(|(name, _, value)| {
            (name.as_str(), text(value).as_str()) == NEEDS_FULL_TEXT_RIGHTS
        });
        if (self.contract.needs_token(op.method, op.path) || needs_rights) && !self.token.is_empty()
        {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(etag) = if_none_match {
            request = request.header("if-none-match", etag);
        }
        self.sent += 1;
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type").unwrap_or_default();
        let etag = header("etag");
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            content_type,
            etag,
            body,
        }
    }

    /// Notes a failure unless `answer` is one the document lists for `op` and is not a
    /// refusal: no 400, no 5xx, a 404 only where the operation documents one (a name that
    /// names nothing), and a body its schema accepts.
    fn served(&mut self, op: &Operation<'_>, sent: &str, answer: &Answer) {
        let Answer { status, body, .. } = answer;
        let refusal = *status >= 500 || (*status >= 400 && !(*status == 404 && op.documents(404)));
        if refusal {
            self.failures.push(format!(
                "{} {} with {sent}: the document allows it, yet the server answered {status}: {body}",
                op.method, op.path
            ));
        } else if !op.documents(*status) {
            self.failures.push(format!(
                "{} {} with {sent}: {status} is not documented",
                op.method, op.path
            ));
        } else if !body.is_null() {
            let media = answer.content_type.split(';').next().unwrap_or_default();
            self.failures.extend(
                self.contract
                    .violations(op.method, op.path, *status, media, body),
            );
        }
    }

    /// Notes a failure unless `answer` refuses what was sent: 400, a problem naming `field`
    /// (if given), as documented.
    fn refused(&mut self, op: &Operation<'_>, sent: &str, field: Option<&str>, answer: &Answer) {
        let named = field.is_none_or(|field| answer.body["field"] == field);
        if answer.status != 400 || answer.content_type != "application/problem+json" || !named {
            self.failures.push(format!(
                "{} {} with {sent}: the document refuses it, yet the server answered {}: {}",
                op.method, op.path, answer.status, answer.body
            ));
        } else {
            self.failures.extend(self.contract.violations(
                op.method,
                op.path,
                400,
                "application/problem+json",
                &answer.body,
            ));
        }
    }

    /// Walks the parameters of a GET operation.
    async fn parameters(&mut self, op: &Operation<'_>) {
        let parameters: Vec<&Value> = op.spec["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        // How each parameter travels: alone, as a scalar, form style (what the server reads).
        for p in &parameters {
            let (name, location) = (&p["name"], p["in"].as_str().unwrap_or_default());
            let scalar = !matches!(
                self.contract.resolve(&p["schema"])["type"].as_str(),
                Some("array" | "object")
            );
            let form = p.get("style").is_none_or(|s| s == "form")
                && p.get("explode").is_none_or(|e| e == true);
            let placed = location == "query" || (location == "path" && p["required"] == true);
            if !(scalar && form && placed) {
                self.failures.push(format!(
                    "{}: {name} is not a form-style scalar in the query or a required path part",
                    op.path
                ));
            }
        }
        let is_cursor = |p: &Value| p["schema"]["$ref"] == "#/components/schemas/Cursor";
        let param = |p: &Value, value: Value| -> Param {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["in"].as_str().unwrap_or_default().to_owned(),
                value,
            )
        };

        // The baseline: each required parameter at an allowed value that finds something (a
        // list with cursors when the operation takes cursors). Every value tried is checked.
        let wants_cursors = parameters.iter().any(|p| is_cursor(p));
        let mut baseline: Vec<Param> = Vec::new();
        for p in parameters.iter().filter(|p| p["required"] == true) {
            let name = p["name"].as_str().unwrap_or_default();
            let values = values_for(self.contract, &p["schema"], &self.names);
            let mut chosen: Option<(Value, bool)> = None;
            for value in values.allowed {
                let mut request = baseline.clone();
                request.push(param(p, value.clone()));
                let answer = self.send(op, &request, None, None).await;
                self.served(op, &format!("{name}={value}"), &answer);
                let has_cursors = answer.status == 200
                    && !issued_cursors(self.contract, op.ok_schema(), &answer.body).is_empty();
                let better = match &chosen {
                    None => answer.status == 200,
                    Some((_, had)) => wants_cursors && !had && has_cursors,
                };
                if better {
                    chosen = Some((value, has_cursors));
                }
            }
            let Some((value, _)) = chosen else {
                self.failures.push(format!(
                    "{}: no value the document allows for {name} finds anything",
                    op.path
                ));
                return;
            };
            if p["in"] == "query" {
                // A required query parameter left out is refused, naming it.
                let answer = self.send(op, &baseline, None, None).await;
                self.refused(op, &format!("no {name}"), Some(name), &answer);
            }
            baseline.push(param(p, value));
        }
        let answer = self.send(op, &baseline, None, None).await;
        self.served(op, &format!("{baseline:?}"), &answer);
        let cursors = issued_cursors(self.contract, op.ok_schema(), &answer.body);

        // The same request with the ETag it was given: a documented 304.
        if let Some(etag) = &answer.etag {
            let again = self.send(op, &baseline, None, Some(etag)).await;
            if again.status == 304 {
                self.served(op, "If-None-Match", &again);
            } else {
                self.failures
                    .push(format!("{}: If-None-Match gave {}", op.path, again.status));
            }
        }

        // Each parameter over the baseline: every allowed value served, every refused one
        // refused with a problem naming the parameter.
        for p in &parameters {
            let name = p["name"].as_str().unwrap_or_default();
            let mut values = values_for(self.contract, &p["schema"], &self.names);
            if is_cursor(p) {
                values.allowed = cursors.iter().take(MOST_ALLOWED).cloned().collect();
            }
            if p["in"] == "path" {
                // An empty segment is another route.
                values.refused.retain(|v| v != "");
            }
            if values.allowed.is_empty() {
                self.failures.push(format!(
                    "{}: the walk found no value the document allows for {name}",
                    op.path
                ));
            }
            let others: Vec<Param> = baseline
                .iter()
                .filter(|(n, ..)| n != name)
                .cloned()
                .collect();
            for (value, allowed) in values
                .allowed
                .into_iter()
                .map(|v| (v, true))
                .chain(values.refused.into_iter().map(|v| (v, false)))
            {
                let mut request = others.clone();
                request.push(param(p, value.clone()));
                let answer = self.send(op, &request, None, None).await;
                let sent = format!("{name}={value}");
                if allowed {
                    self.served(op, &sent, &answer);
                } else {
                    self.refused(op, &sent, Some(name), &answer);
                }
            }
        }
    }

    /// Walks a request body: each `oneOf` member at its required fields, then each field at
    /// every value it allows (served) and refuses (refused: the body is then invalid).
    async fn body(&mut self, op: &Operation<'_>) {
        let request_body = &op.spec["requestBody"];
        let schema = &request_body["content"]["application/json"]["schema"];
        let whole = self.contract.validator(schema);
        let resolved = self.contract.resolve(schema);
        let members: Vec<&Value> = match resolved["oneOf"].as_array() {
            Some(members) => members.iter().collect(),
            None => vec![resolved],
        };
        if request_body["required"] == true {
            let answer = self.send(op, &[], None, None).await;
            self.refused(op, "no body", None, &answer);
        }
        let empty = json!({});
        if !whole.is_valid(&empty) {
            let answer = self.send(op, &[], Some(&empty), None).await;
            self.refused(op, "{}", None, &answer);
        }
        for member in members {
            let member = self.contract.resolve(member);
            let Some(properties) = member["properties"].as_object() else {
                self.failures
                    .push(format!("{}: a body member with no properties", op.path));
                continue;
            };
            let mut base = Map::new();
            for name in member["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let values = values_for(self.contract, &properties[name], &self.names);
                if let Some(value) = values.allowed.into_iter().next() {
                    base.insert(name.to_owned(), value);
                }
            }
            let base = Value::Object(base);
            assert!(whole.is_valid(&base), "{base} is not valid by the document");
            let answer = self.send(op, &[], Some(&base), None).await;
            self.served(op, &base.to_string(), &answer);
            // A field the schema does not name is allowed unless `additionalProperties` says no.
            let mut extra = base.clone();
            extra["notNamedBySchema"] = json!(true);
            if whole.is_valid(&extra) {
                let answer = self.send(op, &[], Some(&extra), None).await;
                self.served(op, &extra.to_string(), &answer);
            }
            for (name, field) in properties {
                let values = values_for(self.contract, field, &self.names);
                if values.allowed.is_empty() {
                    self.failures.push(format!(
                        "{}: no value the document allows for {name}",
                        op.path
                    ));
                }
                for (value, allowed) in values
                    .allowed
                    .into_iter()
                    .map(|v| (v, true))
                    .chain(values.refused.into_iter().map(|v| (v, false)))
                {
                    let mut body = base.clone();
                    body[name] = value;
                    let valid = whole.is_valid(&body);
                    if allowed && valid {
                        let answer = self.send(op, &[], Some(&body), None).await;
                        self.served(op, &body.to_string(), &answer);
                    } else if !allowed {
                        assert!(
                            !valid,
                            "{body}: a field the member refuses, in a valid body"
                        );
                        let answer = self.send(op, &[], Some(&body), None).await;
                        self.refused(op, &body.to_string(), None, &answer);
                    }
                }
            }
        }
    }
}

on_both_databases!(every_value_the_document_allows_is_served, |db| async move {
    // Webhooks on, with room for the subscriptions the walk makes, to targets on this host
    // (nothing is published during the walk, so nothing is sent to them).
    let target = "http://127.0.0.1:9/hook";
    let app = spawn_seeded_app_with(db, 10, |args| {
        args.webhooks.webhook_max_per_partner = 100;
        args.webhooks.webhook_allow_hosts = vec!["127.0.0.1".to_owned()];
    })
    .await;
    let contract = Contract::fetch(&app).await;
    let token = token_with_scope("partner", "walker", &["syndication"]);
    let subscription: Value = app
        .client
        .post(app.url("/v1/webhooks"))
        .bearer_auth(&token)
        .json(&json!({ "url": target }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Seeded names and an article id, a topic's feeds and the archive's first page: values
    // that find something.
    let article: Value = app
        .get(&format!("/v1/articles/{SAMPLE}"))
        .await
        .json()
        .await
        .unwrap();
    let names = [
        "korean-peninsula",
        "markets",
        "kim-min-ji",
        SAMPLE,
        article["id"].as_str().unwrap(),
        subscription["subscription"]["id"].as_str().unwrap(),
        target,
        "korean-peninsula.atom",
        "markets.rss",
        "markets.json",
        "articles-1.xml",
    ]
    .map(String::from)
    .to_vec();
    let mut walk = Walk {
        app: &app,
        contract: &contract,
        names,
        token,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        sent: 0,
        failures: Vec::new(),
    };
    let mut walked = 0;
    for (path, item) in contract.doc["paths"].as_object().unwrap() {
        for (method, spec) in item.as_object().unwrap() {
            let op = Operation { method, path, spec };
            if !spec["responses"]["200"]["content"]["text/event-stream"].is_null() {
                continue; // An event stream never ends: tests/live.rs reads it as a client does.
            }
            if method != "get" && path.contains('{') {
                walked += 1; // A write on the walk's own subscription (see the module docs).
                continue;
            }
            match method.as_str() {
                "get" => walk.parameters(&op).await,
                "post" => walk.body(&op).await,
                other => panic!("{other} {path}: the walk knows GET and POST"),
            }
            walked += 1;
        }
    }
    // Every operation walked (the contract test checks they are all the router's).
    assert_eq!(walked, contract.document_operations().len());
    assert!(
        walk.failures.is_empty(),
        "{} of {} answers break the document:\n{}",
        walk.failures.len(),
        walk.sent,
        walk.failures.join("\n")
    );
    assert!((300..1500).contains(&walk.sent), "{} requests", walk.sent);
});

on_both_databases!(
    every_operation_documents_its_rate_limited_answer,
    |db| async move {
        // One request a second from an address, one beacon a second.
        let app = spawn_app_with(db, |args| {
            args.delivery.rate_anonymous = 1;
            args.delivery.rate_anonymous_burst = 1;
            args.views.beacon_rate = 1;
            args.views.beacon_burst = 1;
        })
        .await;
        let contract = Contract::fetch(&app).await;
        let mut walk = Walk {
            app: &app,
            contract: &contract,
            names: Vec::new(),
            token: String::new(),
            client: reqwest::Client::new(),
            sent: 0,
            failures: Vec::new(),
        };
        for (path, item) in contract.doc["paths"].as_object().unwrap() {
            for (method, spec) in item.as_object().unwrap() {
                let op = Operation { method, path, spec };
                if !op.documents(429) {
                    // Health checks are never limited: answered as ever.
                    let answer = walk.send(&op, &[], None, None).await;
                    assert_eq!(answer.status, 200, "{method} {path}: {}", answer.body);
                    continue;
                }
                let params: [Param; 1] =
                    [("slug".to_owned(), "path".to_owned(), "kim-min-ji".into())];
                let body = json!({ "slug": "kim-min-ji" });
                let body = (method == "post").then_some(&body);
                // The budget refills a request a second: a few tries meet the refusal even on
                // a slow machine.
                let mut answer = walk.send(&op, &params, body, None).await;
                for _ in 0..5 {
                    if answer.status == 429 {
                        break;
                    }
                    answer = walk.send(&op, &params, body, None).await;
                }
                assert_eq!(answer.status, 429, "{method} {path}: {}", answer.body);
                contract.check(method, path, 429, &answer.content_type, &answer.body);
            }
        }
    }
);
