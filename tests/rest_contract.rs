//! The OpenAPI 3.1 document at `/openapi.json` is the contract of the public routes (`/v1`, the
//! feeds, the sitemaps, the health checks): it names every route the router serves but the
//! few [`UNDOCUMENTED`] ones, and every response the real server gives (success and problem)
//! is valid against the schema the document declares for that path, method, status and media
//! type, sends no field the schema does not name, and leaves an optional field out rather than
//! sending it as null. An XML document is well-formed and has the root element its schema's
//! `xml` object names. (That every value the document allows is served is in
//! `openapi_values`.)

use std::collections::{BTreeMap, BTreeSet};

use gazette_tests::{
    TestApp, on_both_databases, spawn_seeded_app, spawn_seeded_app_with, token, token_with_scope,
};
use serde_json::{Value, json};

use crate::rest::{SAMPLE, rest};

/// The router's source: the test reads its `.route(...)` calls to learn every served route.
const ROUTER_SOURCE: &str = include_str!("../crates/api/src/http/mod.rs");

/// The routes the document leaves out: GraphQL (described by its own schema), the document
/// itself, and GraphiQL's scripts and styles.
const UNDOCUMENTED: &[&str] = &[
    "/graphql",
    "/graphql/ws",
    "/openapi.json",
    "/graphiql/{file}",
];

/// `(METHOD, path)` of every `.route("/…", …)` in the router but the [`UNDOCUMENTED`] ones,
/// axum's `{param}` syntax being OpenAPI's.
fn routed_operations() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for call in ROUTER_SOURCE.split(".route(").skip(1) {
        let Some(path) = call.split('"').nth(1) else {
            continue;
        };
        if !path.starts_with('/') || UNDOCUMENTED.contains(&path) {
            continue;
        }
        // The method router is the rest of the call, up to the next `.route(`/`.fallback(`.
        let methods = call.split_once(',').map_or("", |(_, rest)| rest);
        for method in ["get", "post", "put", "patch", "delete"] {
            let called = methods
                .match_indices(&format!("{method}("))
                .any(|(at, _)| at == 0 || !methods.as_bytes()[at - 1].is_ascii_alphanumeric());
            if called {
                found.insert((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    found
}

/// Most schemas one lookup follows through `$ref`, `allOf`, `oneOf` and `anyOf`: far more than
/// the document nests, and a bound if it ever referred to itself.
const MOST_SCHEMAS_FOLLOWED: usize = 64;

/// The fetched document, and validation of bodies against its response schemas.
pub(crate) struct Contract {
    /// The document as served.
    pub(crate) doc: Value,
}

impl Contract {
    /// Fetches `/openapi.json` from `app`.
    pub(crate) async fn fetch(app: &TestApp) -> Self {
        let response = app.get("/openapi.json").await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        Self {
            doc: response.json().await.expect("the document is JSON"),
        }
    }

    /// Every documented `(METHOD, path)`.
    pub(crate) fn operations(&self) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in self.doc["paths"].as_object().expect("paths") {
            for method in item.as_object().unwrap().keys() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
        out
    }

    /// The operations answering a whole document: all but the event streams (`/v1/live`,
    /// whose never-ending body tests/live.rs reads as a client does).
    pub(crate) fn document_operations(&self) -> BTreeSet<(String, String)> {
        let mut out = self.operations();
        out.retain(|(method, path)| {
            let op = &self.doc["paths"][path][method.to_lowercase()];
            op["responses"]["200"]["content"]["text/event-stream"].is_null()
        });
        out
    }

    /// Whether `method path` reads a bearer token: it names no `security` of its own (the
    /// document's optional bearer), or one that requires the bearer.
    pub(crate) fn reads_token(&self, method: &str, path: &str) -> bool {
        let op = &self.doc["paths"][path][method.to_lowercase()];
        op.get("security").is_none_or(|requirements| {
            requirements
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r.get("bearer").is_some())
        })
    }

    /// Whether `method path` needs a bearer token: its own `security` requires the bearer in
    /// every alternative.
    pub(crate) fn needs_token(&self, method: &str, path: &str) -> bool {
        let op = &self.doc["paths"][path][method.to_lowercase()];
        op["security"]
            .as_array()
            .is_some_and(|rs| !rs.is_empty() && rs.iter().all(|r| r.get("bearer").is_some()))
    }

    /// Every `$ref` in the document that names no component.
    fn dangling_refs(&self) -> Vec<String> {
        fn walk(value: &Value, doc: &Value, out: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref") {
                        let found = target
                            .strip_prefix('#')
                            .and_then(|pointer| doc.pointer(pointer))
                            .is_some();
                        if !found {
                            out.push(target.clone());
                        }
                    }
                    map.values().for_each(|v| walk(v, doc, out));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, doc, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.doc, &self.doc, &mut out);
        out
    }

    /// `schema` with its `$ref`s followed to the component they name.
    pub(crate) fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..MOST_SCHEMAS_FOLLOWED {
            let Some(target) = schema.get("$ref").and_then(Value::as_str) else {
                return schema;
            };
            schema = target
                .strip_prefix('#')
                .and_then(|pointer| self.doc.pointer(pointer))
                .unwrap_or_else(|| panic!("`$ref` to nothing: {target}"));
        }
        panic!("`$ref`s nested too deep")
    }

    /// A validator of `schema` (formats asserted), its `$ref`s resolving in the document.
    pub(crate) fn validator(&self, schema: &Value) -> jsonschema::Validator {
        // The schema in a document of its own, the components beside it: `$ref`s of the form
        // `#/components/schemas/…` resolve inside it.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("unusable schema {schema}: {e}"))
    }

    /// The schemas `schema` stands for: itself and, through `$ref`s, `allOf`, `oneOf` and
    /// `anyOf`, every schema it combines.
    fn combined<'a>(&'a self, schema: &'a Value) -> Vec<&'a Value> {
        let mut found = Vec::new();
        let mut pending = vec![schema];
        while let Some(next) = pending.pop() {
            assert!(
                found.len() < MOST_SCHEMAS_FOLLOWED,
                "schemas nested too deep"
            );
            let next = self.resolve(next);
            for key in ["allOf", "oneOf", "anyOf"] {
                pending.extend(
                    next.get(key)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                );
            }
            found.push(next);
        }
        found
    }

    /// Fields of `body` that `schema` does not name, and optional fields sent as null (a field
    /// the document lets the server leave out is left out; one it may send as null is
    /// required), each with its path.
    fn undocumented_fields(&self, schema: &Value, body: &Value, at: &str, out: &mut Vec<String>) {
        let schemas = self.combined(schema);
        match body {
            Value::Object(fields) => {
                let mut declared: BTreeMap<&str, &Value> = BTreeMap::new();
                let mut required: BTreeSet<&str> = BTreeSet::new();
                for s in &schemas {
                    for (name, field) in s
                        .get("properties")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        declared.entry(name).or_insert(field);
                    }
                    required.extend(
                        s.get("required")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str),
                    );
                }
                if declared.is_empty() {
                    // A free-form object (`Object`): nothing to compare with.
                    return;
                }
                for (name, value) in fields {
                    let path = format!("{at}/{name}");
                    match declared.get(name.as_str()) {
                        None => out.push(format!("{path} is not documented")),
                        Some(field) => {
                            if value.is_null() && !required.contains(name.as_str()) {
                                out.push(format!("{path} is null, but the field is optional"));
                            }
                            self.undocumented_fields(field, value, &path, out);
                        }
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = schemas.iter().find_map(|s| s.get("items")) {
                    for (i, item) in items.iter().enumerate() {
                        self.undocumented_fields(item_schema, item, &format!("{at}/{i}"), out);
                    }
                }
            }
            _ => {}
        }
    }

    /// Properties of the schemas the responses use that may be null and yet are not required:
    /// the server sends such a field always (null or not), so the document must require it.
    pub(crate) fn nullable_optional_fields(&self) -> Vec<String> {
        // The components the responses reach, through `$ref`s.
        let mut reached: BTreeSet<String> = BTreeSet::new();
        let mut pending: Vec<&Value> = vec![&self.doc["paths"]];
        while let Some(value) = pending.pop() {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref")
                        && reached.insert(target.clone())
                    {
                        pending.push(self.resolve(value));
                    }
                    // Request bodies are not what the server sends.
                    pending.extend(
                        map.iter()
                            .filter(|(k, _)| *k != "requestBody")
                            .map(|(_, v)| v),
                    );
                }
                Value::Array(items) => pending.extend(items),
                _ => {}
            }
        }
        let admits_null = |schema: &Value| {
            self.combined(schema).iter().any(|s| match s.get("type") {
                Some(Value::String(t)) => t == "null",
                Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
                _ => false,
            })
        };
        let mut out = Vec::new();
        for target in &reached {
            let component = target
                .strip_prefix('#')
                .and_then(|pointer| self.doc.pointer(pointer))
                .expect("reached components exist");
            for part in self.combined(component) {
                let required: BTreeSet<&str> = part
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                for (name, field) in part
                    .get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if admits_null(field) && !required.contains(name.as_str()) {
                        out.push(format!("{target}: `{name}`"));
                    }
                }
            }
        }
        out
    }

    /// The response object documented for `status` (or its `NXX` range).
    pub(crate) fn response(&self, method: &str, path: &str, status: u16) -> &Value {
        let responses = &self.doc["paths"][path][method.to_lowercase()]["responses"];
        responses
            .get(status.to_string())
            .or_else(|| responses.get(format!("{}XX", status / 100)))
            .unwrap_or_else(|| panic!("{method} {path} does not document status {status}"))
    }

    /// What is wrong with `body`, served as `content_type` with `status`, by the document:
    /// an undocumented status or media type, a schema it breaks, a field the schema does not
    /// name, an optional field sent as null. Empty when it is all as declared.
    pub(crate) fn violations(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: &str,
        body: &Value,
    ) -> Vec<String> {
        let responses = &self.doc["paths"][path][method.to_lowercase()]["responses"];
        let Some(response) = responses
            .get(status.to_string())
            .or_else(|| responses.get(format!("{}XX", status / 100)))
        else {
            return vec![format!(
                "{method} {path}: status {status} is not documented"
            )];
        };
        let Some(schema) = response["content"]
            .get(content_type)
            .and_then(|media| media.get("schema"))
        else {
            return vec![format!(
                "{method} {path} {status}: `{content_type}` is not documented"
            )];
        };
        let mut errors: Vec<String> = self
            .validator(schema)
            .iter_errors(body)
            .map(|e| format!("{e} at `{}`", e.instance_path()))
            .collect();
        if let Some(xml) = self.resolve(schema).get("xml") {
            errors.extend(xml_violation(xml, body));
        }
        self.undocumented_fields(schema, body, "", &mut errors);
        errors
            .into_iter()
            .map(|e| format!("{method} {path} {status}: {e}"))
            .collect()
    }

    /// Checks that `body`, served as `content_type` with `status`, is what the document
    /// declares (see [`Self::violations`]).
    pub(crate) fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: &str,
        body: &Value,
    ) {
        let errors = self.violations(method, path, status, content_type, body);
        assert!(errors.is_empty(), "{}\nbody: {body}", errors.join("\n"));
    }

    /// Checks that the schema for `status` refuses `body` (the validator is not vacuous).
    fn refuses(&self, method: &str, path: &str, status: u16, content_type: &str, body: &Value) {
        let outcome = std::panic::catch_unwind(|| {
            self.check(method, path, status, content_type, body);
        });
        assert!(outcome.is_err(), "{method} {path} {status} accepted {body}");
    }
}

/// What is wrong with `body` as the XML document an `xml` object describes: text that does not
/// parse, or a root element of another name or namespace.
fn xml_violation(xml: &Value, body: &Value) -> Option<String> {
    let Some(text) = body.as_str() else {
        return Some(format!("an XML document is text, not {body}"));
    };
    let document = match roxmltree::Document::parse(text) {
        Ok(document) => document,
        Err(error) => return Some(format!("not well-formed XML: {error}")),
    };
    let root = document.root_element().tag_name();
    let (name, namespace) = (xml["name"].as_str(), xml["namespace"].as_str());
    (Some(root.name()) != name || root.namespace() != namespace).then(|| {
        format!(
            "the root element is {{{}}}{}, the document names {{{}}}{}",
            root.namespace().unwrap_or_default(),
            root.name(),
            namespace.unwrap_or_default(),
            name.unwrap_or_default()
        )
    })
}

/// `value` with the member at `pointer` replaced by `replacement`.
fn with(value: &Value, pointer: &str, replacement: Value) -> Value {
    let mut value = value.clone();
    *value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no member at {pointer}")) = replacement;
    value
}

/// One documented operation called against the real server: a request that succeeds (its
/// answer of `media`) and, where one can be provoked here, one that fails.
struct Case {
    method: &'static str,
    path: &'static str,
    media: &'static str,
    ok: Call,
    problem: Option<Call>,
}

struct Call {
    url: String,
    body: Option<Value>,
    status: u16,
    /// The bearer token sent, if any.
    token: Option<String>,
}

fn get(url: &str, status: u16) -> Call {
    Call {
        url: url.to_owned(),
        body: None,
        status,
        token: None,
    }
}

/// A call of the webhook routes as `token`.
fn call(token: &str, url: &str, body: Option<Value>, status: u16) -> Call {
    Call {
        url: url.to_owned(),
        body,
        status,
        token: Some(token.to_owned()),
    }
}

/// The cases of the webhook routes: subscription `id` (with its `cursor`) is read, changed,
/// rotated and replayed as `partner`, and `doomed` deleted; the refusals are each route's
/// typical one (bad input, another's or no subscription, an editor's token).
fn webhook_cases(partner: &str, id: &str, cursor: &Value, doomed: &str) -> Vec<Case> {
    let at = format!("/v1/webhooks/{id}");
    let none = "/v1/webhooks/00000000-0000-0000-0000-000000000000";
    let case = |method, path, ok, problem| Case {
        method,
        path,
        media: "application/json",
        ok,
        problem: Some(problem),
    };
    let hook = json!({ "url": "http://127.0.0.1:9/hook", "topics": ["markets"] });
    vec![
        case(
            "GET",
            "/v1/webhooks",
            call(partner, "/v1/webhooks", None, 200),
            call(&token("editor", "desk"), "/v1/webhooks", None, 403),
        ),
        case(
            "POST",
            "/v1/webhooks",
            call(partner, "/v1/webhooks", Some(hook), 201),
            call(
                partner,
                "/v1/webhooks",
                Some(json!({ "url": "https://169.254.169.254/latest/meta-data/" })),
                400,
            ),
        ),
        case(
            "GET",
            "/v1/webhooks/{id}",
            call(partner, &at, None, 200),
            call(partner, "/v1/webhooks/not-an-id", None, 400),
        ),
        case(
            "PATCH",
            "/v1/webhooks/{id}",
            call(partner, &at, Some(json!({ "active": false })), 200),
            call(
                partner,
                &at,
                Some(json!({ "events": ["article.nope"] })),
                400,
            ),
        ),
        case(
            "POST",
            "/v1/webhooks/{id}/rotate-secret",
            call(partner, &format!("{at}/rotate-secret"), None, 200),
            call(partner, &format!("{none}/rotate-secret"), None, 404),
        ),
        case(
            "POST",
            "/v1/webhooks/{id}/replay",
            call(
                partner,
                &format!("{at}/replay"),
                Some(json!({ "since": cursor })),
                200,
            ),
            call(
                partner,
                &format!("{at}/replay"),
                Some(json!({ "since": "garbage" })),
                400,
            ),
        ),
        case(
            "GET",
            "/v1/webhooks/{id}/deliveries",
            call(partner, &format!("{at}/deliveries?first=5"), None, 200),
            call(partner, &format!("{at}/deliveries?first=101"), None, 400),
        ),
        case(
            "DELETE",
            "/v1/webhooks/{id}",
            call(partner, &format!("/v1/webhooks/{doomed}"), None, 204),
            call(partner, none, None, 404),
        ),
    ]
}

fn cases() -> Vec<Case> {
    let case = |path, ok, problem| Case {
        method: "GET",
        path,
        media: "application/json",
        ok,
        problem: Some(problem),
    };
    vec![
        case(
            "/v1/articles",
            get("/v1/articles?first=5&topic=markets", 200),
            get("/v1/articles?first=abc", 400),
        ),
        case(
            "/v1/articles/{slug}",
            get(&format!("/v1/articles/{SAMPLE}"), 200),
            get("/v1/articles/no-such-story", 404),
        ),
        case(
            "/v1/topics",
            get("/v1/topics?first=5", 200),
            get("/v1/topics?after=garbage", 400),
        ),
        case(
            "/v1/topics/{slug}",
            get("/v1/topics/korean-peninsula", 200),
            get("/v1/topics/no-such-topic", 404),
        ),
        case(
            "/v1/topics/{slug}/articles",
            get("/v1/topics/markets/articles?first=3", 200),
            get("/v1/topics/no-such-topic/articles", 404),
        ),
        case(
            "/v1/authors",
            get("/v1/authors?last=2", 200),
            get("/v1/authors?last=1000", 400),
        ),
        case(
            "/v1/authors/{slug}",
            get("/v1/authors/kim-min-ji", 200),
            get("/v1/authors/Bad_Slug", 400),
        ),
        case(
            "/v1/authors/{slug}/articles",
            get("/v1/authors/kim-min-ji/articles?orderBy=oldest", 200),
            get("/v1/authors/kim-min-ji/articles?orderBy=sideways", 400),
        ),
        case(
            "/v1/trending",
            get("/v1/trending?window=day&first=5", 200),
            get("/v1/trending?topic=no-such-topic", 404),
        ),
        case(
            "/v1/search",
            get("/v1/search?q=korea&first=3", 200),
            get("/v1/search?q=korea&publishedAfter=yesterday", 400),
        ),
        case(
            "/v1/changes",
            get("/v1/changes?first=3", 200),
            get("/v1/changes?since=garbage", 400),
        ),
        Case {
            method: "POST",
            path: "/v1/views",
            media: "application/json",
            ok: Call {
                url: "/v1/views".to_owned(),
                body: Some(json!({ "slug": SAMPLE, "visitorId": "contract" })),
                status: 202,
                token: None,
            },
            problem: Some(Call {
                url: "/v1/views".to_owned(),
                body: Some(json!({ "visitorId": "contract" })),
                status: 400,
                token: None,
            }),
        },
    ]
}

/// The feeds, the sitemaps and the health checks. The news sitemap's one refusal besides the
/// layers' (a bad token's 401) is called with every token-reading case below.
fn document_cases() -> Vec<Case> {
    let case = |path, media, ok, problem| Case {
        method: "GET",
        path,
        media,
        ok,
        problem,
    };
    let unscoped = token("partner", "wire");
    vec![
        case(
            "/feeds/latest.atom",
            "application/atom+xml",
            get("/feeds/latest.atom?limit=5", 200),
            Some(get("/feeds/latest.atom?limit=0", 400)),
        ),
        case(
            "/feeds/latest.rss",
            "application/rss+xml",
            get("/feeds/latest.rss?content=summary", 200),
            Some(get("/feeds/latest.rss?content=full", 401)),
        ),
        case(
            "/feeds/latest.json",
            "application/feed+json",
            get("/feeds/latest.json?limit=3", 200),
            Some(call(
                &unscoped,
                "/feeds/latest.json?content=full",
                None,
                403,
            )),
        ),
        case(
            "/feeds/topics/{file}",
            "application/feed+json",
            get("/feeds/topics/markets.json", 200),
            Some(get("/feeds/topics/no-such-topic.atom", 404)),
        ),
        case(
            "/sitemap-news.xml",
            "application/xml",
            get("/sitemap-news.xml", 200),
            None,
        ),
        case(
            "/sitemap.xml",
            "application/xml",
            get("/sitemap.xml", 200),
            None,
        ),
        case(
            "/sitemaps/{file}",
            "application/xml",
            get("/sitemaps/articles-1.xml", 200),
            Some(get("/sitemaps/articles-01.xml", 400)),
        ),
        case("/healthz", "application/json", get("/healthz", 200), None),
        case("/readyz", "application/json", get("/readyz", 200), None),
    ]
}

/// Calls `call` as `token` (else as the call's own token); returns the status, content type
/// and body: JSON, or the text of any other document (null and no content type for an empty
/// answer).
async fn send(
    app: &TestApp,
    method: &str,
    call: &Call,
    token: Option<&str>,
) -> (u16, String, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = app.client.request(method, app.url(&call.url));
    if let Some(body) = &call.body {
        request = request.json(body);
    }
    if let Some(token) = token.or(call.token.as_deref()) {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.bytes().await.expect("a body");
    let json = content_type.starts_with("application/") && content_type.contains("json");
    let body = if bytes.is_empty() {
        Value::Null
    } else if json {
        serde_json::from_slice(&bytes).expect("JSON body")
    } else {
        Value::String(String::from_utf8(bytes.to_vec()).expect("UTF-8 text"))
    };
    (status, content_type, body)
}

on_both_databases!(
    every_documented_operation_answers_as_documented,
    |db| async move {
        // Webhooks on, targets on this host allowed (nothing is ever published to them here).
        let app = spawn_seeded_app_with(db, 10, |args| {
            args.webhooks.webhook_max_per_partner = 10;
            args.webhooks.webhook_allow_hosts = vec!["127.0.0.1".to_owned()];
        })
        .await;
        let contract = Contract::fetch(&app).await;
        assert_eq!(contract.doc["openapi"], "3.1.0");
        let dangling = contract.dangling_refs();
        assert!(dangling.is_empty(), "`$ref`s to nothing: {dangling:?}");
        let nullable = contract.nullable_optional_fields();
        assert!(
            nullable.is_empty(),
            "fields the server may send as null are not required: {nullable:?}"
        );

        // Two subscriptions of a partner: one to read and change, one to delete.
        let partner = token_with_scope("partner", "contract", &["syndication"]);
        let mut made = Vec::new();
        for _ in 0..2 {
            let create = call(
                &partner,
                "/v1/webhooks",
                Some(json!({ "url": "http://127.0.0.1:9/hook" })),
                201,
            );
            let (status, content_type, body) = send(&app, "POST", &create, None).await;
            assert_eq!(status, 201, "{body}");
            contract.check("POST", "/v1/webhooks", status, &content_type, &body);
            made.push(body["subscription"].clone());
        }
        let hooks = webhook_cases(
            &partner,
            made[0]["id"].as_str().unwrap(),
            &made[0]["cursor"],
            made[1]["id"].as_str().unwrap(),
        );
        let public: Vec<Case> = cases().into_iter().chain(document_cases()).collect();
        let cases: Vec<&Case> = public.iter().chain(&hooks).collect();
        let exercised: BTreeSet<(String, String)> = cases
            .iter()
            .map(|c| (c.method.to_owned(), c.path.to_owned()))
            .collect();
        assert_eq!(
            exercised,
            contract.document_operations(),
            "every documented operation has a case here, and every case is documented"
        );

        for case in &cases {
            let calls = [
                (Some(&case.ok), case.media),
                (case.problem.as_ref(), "application/problem+json"),
            ];
            for (call, expected_type) in calls {
                let Some(call) = call else { continue };
                let (status, content_type, body) = send(&app, case.method, call, None).await;
                assert_eq!(status, call.status, "{} {}: {body}", case.method, call.url);
                if status == 204 {
                    assert!(body.is_null(), "{} {}: {body}", case.method, call.url);
                    contract.response(case.method, case.path, 204);
                    continue;
                }
                let media = content_type.split(';').next().unwrap_or_default();
                assert_eq!(media, expected_type, "{} {}", case.method, call.url);
                contract.check(case.method, case.path, status, media, &body);
            }
        }
        // The webhook routes need a token (no anonymous access is documented), and refuse a
        // caller without one with the documented 401.
        for case in &hooks {
            let op = &contract.doc["paths"][case.path][case.method.to_lowercase()];
            assert_eq!(op["security"], json!([{ "bearer": [] }]), "{}", case.path);
            let anonymous = Call {
                token: None,
                ..call("", &case.ok.url, case.ok.body.clone(), 401)
            };
            let (status, content_type, body) = send(&app, case.method, &anonymous, None).await;
            assert_eq!(status, 401, "{} {}: {body}", case.method, case.path);
            contract.check(case.method, case.path, status, &content_type, &body);
        }

        // Broken bodies are refused: the schemas and their `$ref`s really are applied.
        let (_, _, article) = rest(&app, None, &format!("/v1/articles/{SAMPLE}")).await;
        let (_, _, list) = rest(&app, None, "/v1/articles?first=2").await;
        let (_, _, problem) = rest(&app, None, "/v1/articles/no-such-story").await;
        let (_, _, atom) = send(&app, "GET", &get("/feeds/latest.atom", 200), None).await;
        let broken: [(&str, u16, &str, Value); 7] = [
            // An Atom feed served as RSS; a document cut short.
            (
                "/feeds/latest.rss",
                200,
                "application/rss+xml",
                atom.clone(),
            ),
            (
                "/feeds/latest.atom",
                200,
                "application/atom+xml",
                Value::String(atom.as_str().unwrap()[..100].to_owned()),
            ),
            (
                "/v1/articles/{slug}",
                200,
                "application/json",
                with(&article, "/status", json!("live")),
            ),
            (
                "/v1/articles/{slug}",
                200,
                "application/json",
                with(&article, "/topics/0/primary", json!("yes")),
            ),
            (
                "/v1/articles/{slug}",
                200,
                "application/json",
                with(&article, "/id", json!("not-a-uuid")),
            ),
            (
                "/v1/articles",
                200,
                "application/json",
                with(&list, "/pageInfo", json!({})),
            ),
            (
                "/v1/articles/{slug}",
                404,
                "application/problem+json",
                with(&problem, "/status", json!("404")),
            ),
        ];
        for (path, status, content_type, body) in &broken {
            contract.refuses("GET", path, *status, content_type, body);
        }

        // Every token-reading operation documents the optional bearer scheme, and a bad
        // token's 401 matches its schema; the others say they read none, and ignore one.
        assert_eq!(
            contract.doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let security = contract.doc["security"].as_array().unwrap();
        assert!(
            security.iter().any(|s| s.get("bearer").is_some())
                && security.iter().any(|s| s == &json!({})),
            "the bearer token is optional"
        );
        for case in public.iter().filter(|c| c.method == "GET") {
            let (status, content_type, body) =
                send(&app, "GET", &case.ok, Some("not-a-token")).await;
            let op = &contract.doc["paths"][case.path]["get"];
            if contract.reads_token("GET", case.path) {
                assert_eq!(status, 401, "{}", case.ok.url);
                contract.check("GET", case.path, status, &content_type, &body);
                assert!(op.get("security").is_none(), "{}", case.path);
            } else {
                assert_eq!(
                    status, case.ok.status,
                    "{}: the token is ignored",
                    case.ok.url
                );
                assert_eq!(op["security"], json!([{}]), "{}", case.path);
            }
        }

        // The views of editors and partners fit the same schema (drafts have no publish time;
        // a partner without the syndication scope has null bodies).
        let editor = token("editor", "desk");
        app.gql_ok_as(
            &editor,
            "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id } }",
            json!({ "input": { "headline": "Contract draft", "slug": "contract-draft",
                "body": [{ "type": "paragraph", "text": "Text." }] } }),
        )
        .await;
        let draft = get("/v1/articles/contract-draft", 200);
        let (status, content_type, body) = send(&app, "GET", &draft, Some(&editor)).await;
        assert_eq!((status, body["publishedAt"].clone()), (200, Value::Null));
        contract.check("GET", "/v1/articles/{slug}", status, &content_type, &body);
        let sample = get(&format!("/v1/articles/{SAMPLE}"), 200);
        let unscoped = token("partner", "wire");
        let (status, content_type, body) = send(&app, "GET", &sample, Some(&unscoped)).await;
        assert_eq!((status, body["body"].clone()), (200, Value::Null));
        contract.check("GET", "/v1/articles/{slug}", status, &content_type, &body);
        let partner = token_with_scope("partner", "wire", &["syndication"]);
        let (status, content_type, body) = send(&app, "GET", &sample, Some(&partner)).await;
        assert!(status == 200 && body["body"].is_array(), "{body}");
        contract.check("GET", "/v1/articles/{slug}", status, &content_type, &body);

        // The redirect of an old slug is documented with its `Location`.
        let moved = contract.response("GET", "/v1/articles/{slug}", 301);
        assert!(moved["headers"].get("location").is_some(), "{moved}");
        let (status, headers, _) = rest(&app, None, "/v1/articles/no-such-story").await;
        assert_eq!(status, 404);
        assert!(headers.get("location").is_none());
    }
);

on_both_databases!(
    every_public_route_of_the_router_is_documented,
    |db| async move {
        let routed = routed_operations();
        assert!(
            routed.len() >= 20,
            "the router's `.route(\"/…\")` calls were not found: {routed:?}"
        );
        let app = spawn_seeded_app(db, 0).await;
        let contract = Contract::fetch(&app).await;
        let documented = contract.operations();
        let missing: Vec<_> = routed.difference(&documented).collect();
        assert!(missing.is_empty(), "routed but not documented: {missing:?}");
        let phantom: Vec<_> = documented.difference(&routed).collect();
        assert!(phantom.is_empty(), "documented but not routed: {phantom:?}");
        // Each routed operation is really served (not the 404 of an unknown route).
        for (method, path) in &routed {
            let url = path
                .replace("{slug}", "kim-min-ji")
                .replace("{id}", "00000000-0000-0000-0000-000000000000")
                .replace("topics/{file}", "topics/korean-peninsula.atom")
                .replace("sitemaps/{file}", "sitemaps/articles-1.xml");
            let request = match method.as_str() {
                "GET" => app.client.get(app.url(&url)),
                "POST" => app.client.post(app.url(&url)).json(&json!({})),
                "PATCH" => app.client.patch(app.url(&url)).json(&json!({})),
                "DELETE" => app.client.delete(app.url(&url)),
                other => panic!("{other}"),
            };
            let response = request.send().await.unwrap();
            // A live stream never ends by itself: its answer is known by its headers.
            let streams = response
                .headers()
                .get("content-type")
                .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
            if streams {
                assert_eq!(response.status(), 200, "{method} {path}");
                continue;
            }
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert_ne!(
                body["detail"], "route not found",
                "{method} {path} is not served"
            );
        }
    }
);
