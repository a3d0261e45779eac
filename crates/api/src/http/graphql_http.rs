//! GraphQL over HTTP, per the GraphQL-over-HTTP spec, in front of async-graphql's executor:
//! media-type negotiation (406), 401 for a present but invalid bearer token, 400 without
//! `data` for documents that do not parse or validate, 405 for mutations over GET, 415 for
//! bodies that are not JSON, no array batches unless configured.
//!
//! Every document is bounded before anything walks it (see [`crate::graphql::budget`]): its
//! tokens are counted on the raw text, then what its fragments would expand to is measured
//! without expanding them, then the checks async-graphql leaves out run, and only then is it
//! validated (with the cost limit) and executed; its response is put in selection order last.
//! Each refusal is a 400 whose `extensions.code` names the limit.

use std::sync::Arc;

use async_graphql::{ErrorExtensionValues, Request, Response, ServerError, Value};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use gazette_domain::Viewer;
use serde::Deserialize;

use super::HttpState;
use super::accept::{GraphqlMediaType, content_type_essence, negotiate, wants_html};
use super::caller::{Authenticated, ClientIp};
use super::documents::Parsed;
use crate::graphql::budget::{self, DocumentRefusal, LimitExceeded};
use crate::graphql::cost::{BatchBudget, CostMeter};
use crate::graphql::shape::SchemaShape;
use crate::graphql::{Loaders, RequestContext, SelectionOrder};
use crate::http::cache::AttachTags as _;
use crate::{ApiError, AuthError};

/// `GET /graphql`: GraphiQL for browsers, cacheable queries for everyone else.
pub async fn get_graphql(
    State(http): State<HttpState>,
    ClientIp(ip): ClientIp,
    Authenticated(verified): Authenticated,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> HttpResponse {
    let raw = raw.unwrap_or_default();
    if raw.is_empty() && http.app.config().graphql.graphiql && wants_html(&headers) {
        return super::graphiql::page("/graphql");
    }
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let viewer = match verified {
        Ok(viewer) => viewer,
        Err(error) => return unauthenticated(media, &error),
    };
    let params: GetParams = match serde_urlencoded::from_str(&raw) {
        Ok(p) => p,
        Err(e) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("invalid query string: {e}"),
            );
        }
    };
    let mut request = Request::new(params.query.unwrap_or_default());
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    for (name, raw_json) in [
        ("variables", &params.variables),
        ("extensions", &params.extensions),
    ] {
        let Some(raw_json) = raw_json else { continue };
        let parsed: serde_json::Value = match serde_json::from_str(raw_json) {
            Ok(v) => v,
            Err(e) => {
                return request_error(
                    media,
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    &format!("`{name}` is not valid JSON: {e}"),
                );
            }
        };
        if !parsed.is_object() && !parsed.is_null() {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("`{name}` must be a JSON object"),
            );
        }
        if name == "variables" {
            request = request.variables(async_graphql::Variables::from_json(parsed));
        } else if let Ok(ext) = serde_json::from_value(parsed) {
            request.extensions = ext;
        }
    }
    let register = match apply_persisted(&http, &viewer, &mut request).await {
        Ok(register) => register,
        Err(refusal) => return refusal.into_response(media),
    };
    if request.query.is_empty() {
        return request_error(
            media,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "a GET request needs a `query` parameter (or a persisted query hash)",
        );
    }
    let prepared = match prepare(&http, request, register) {
        Ok(prepared) => prepared,
        Err(refused) => return refused.into_response(media),
    };
    if prepared.is_mutation() {
        let mut response = request_error(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&http, Caller { viewer, ip }, media, prepared).await
}

/// `POST /graphql` with a JSON body.
pub async fn post_graphql(
    State(http): State<HttpState>,
    ClientIp(ip): ClientIp,
    Authenticated(verified): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> HttpResponse {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let viewer = match verified {
        Ok(viewer) => viewer,
        Err(error) => return unauthenticated(media, &error),
    };
    let essence = content_type_essence(&headers).unwrap_or_default();
    if essence != "application/json" && essence != "application/graphql-response+json" {
        return request_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request as application/json",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            crate::metrics::document_rejected("PAYLOAD_TOO_LARGE");
            let limit = http.app.config().max_body_bytes;
            return request_error(
                media,
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &ApiError::PayloadTooLarge { limit }.to_string(),
            );
        }
        Err(rejection) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &rejection.body_text(),
            );
        }
    };
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not valid JSON: {e}"),
            );
        }
    };
    if value.is_array() {
        if !http.app.config().allow_batching {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "batched operations are not enabled; send one operation per request",
            );
        }
        let requests: Vec<Request> = match serde_json::from_value(value) {
            Ok(r) => r,
            Err(e) => {
                return request_error(
                    media,
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    &format!("not a GraphQL request: {e}"),
                );
            }
        };
        let limits = &http.app.config().graphql;
        if requests.len() > limits.max_batch_operations {
            return Refused::limit(LimitExceeded::BatchOperations {
                limit: limits.max_batch_operations,
            })
            .into_response(media);
        }
        // The operations run one after the other and spend one cost budget together.
        let batch = BatchBudget::new(limits.max_batch_cost);
        let mut responses = Vec::with_capacity(requests.len());
        for mut request in requests {
            let register = match apply_persisted(&http, &viewer, &mut request).await {
                Ok(register) => register,
                Err(refusal) => {
                    responses.push(refusal.into_json());
                    continue;
                }
            };
            let prepared = match prepare(&http, request, register) {
                Ok(prepared) => prepared,
                Err(refused) => {
                    responses.push(refused.into_json());
                    continue;
                }
            };
            let caller = Caller {
                viewer: viewer.clone(),
                ip,
            };
            let (response, _) = run(&http, caller, prepared, Some(batch.clone())).await;
            responses.push(serde_json::to_value(response).unwrap_or_default());
        }
        let body = serde_json::to_vec(&responses).unwrap_or_default();
        return with_media(StatusCode::OK, media, body);
    }
    let request: Request = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(e) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("not a GraphQL request: {e}"),
            );
        }
    };
    let mut request = request;
    let register = match apply_persisted(&http, &viewer, &mut request).await {
        Ok(register) => register,
        Err(refusal) => return refusal.into_response(media),
    };
    let prepared = match prepare(&http, request, register) {
        Ok(prepared) => prepared,
        Err(refused) => return refused.into_response(media),
    };
    execute(&http, Caller { viewer, ip }, media, prepared).await
}

/// Checks an operation sent over WebSocket as one sent over HTTP is checked (bounds, parse,
/// shape) and that it is a subscription (queries and mutations go over HTTP, under its
/// limits): the request ready to run, or why not.
pub(super) fn prepare_subscription(
    http: &HttpState,
    request: Request,
) -> Result<Request, Vec<ServerError>> {
    let mut prepared = prepare(http, request, None).map_err(|mut refused| {
        for error in &mut refused.errors {
            set_code_if_missing(error, refused.code);
        }
        refused.errors
    })?;
    let name = prepared.request.operation_name.as_deref();
    match gazette_graphql_spec::operation::operation_type(&prepared.document.sent, name) {
        Some(async_graphql::parser::types::OperationType::Subscription) => {
            // As sent: no `__typename` marks (a subscription root may select nothing else).
            prepared
                .request
                .set_parsed_query(prepared.document.sent.clone());
            Ok(prepared.request)
        }
        _ => Err(vec![ServerError::new(
            "only subscriptions are served over WebSocket; send queries and mutations to POST /graphql",
            None,
        )]),
    }
}

/// A persisted query to remember once its document has validated: its hash and text.
type Registration = Option<(String, Arc<str>)>;

/// An operation whose document passed the budget and the extra checks, ready to run.
struct Prepared {
    /// The request, its document parsed and marked ([`mark_objects`](crate::graphql::mark_objects)).
    request: Request,
    /// The document as sent (the response is put in its selection order) and as run.
    document: Arc<Parsed>,
    /// The persisted query to remember once the document has validated.
    register: Registration,
}

impl Prepared {
    /// Whether the operation the request would run is a mutation (or subscription).
    fn is_mutation(&self) -> bool {
        gazette_graphql_spec::operation::is_mutation(
            &self.document.sent,
            self.request.operation_name.as_deref(),
        )
    }
}

/// A request refused before validation: 400, `errors` only.
struct Refused {
    errors: Vec<ServerError>,
    /// The code of errors that carry none of their own.
    code: &'static str,
}

impl Refused {
    fn limit(limit: LimitExceeded) -> Self {
        Self {
            errors: vec![limit.to_server_error()],
            code: limit.code(),
        }
    }

    fn into_response(self, media: GraphqlMediaType) -> HttpResponse {
        crate::metrics::graphql_refused();
        request_errors(media, self.errors, self.code)
    }

    /// The refusal as one response of a batch.
    fn into_json(mut self) -> serde_json::Value {
        crate::metrics::graphql_refused();
        crate::metrics::document_rejected(self.code);
        for error in &mut self.errors {
            set_code_if_missing(error, self.code);
        }
        serde_json::json!({ "errors": self.errors })
    }
}

/// Bounds, parses and checks the request's document, in that order (see the module docs):
/// nothing walks a document before the token count and the fragment-aware measure accepted
/// it. Parsed here once, or taken parsed and measured from [`super::documents`] when the same
/// text came lately; the executor reuses the document. The variables are checked every time.
fn prepare(
    http: &HttpState,
    mut request: Request,
    register: Registration,
) -> Result<Prepared, Refused> {
    let limits = http.app.config().document_limits();
    budget::check_length(&request.query, limits.max_bytes).map_err(Refused::limit)?;
    let parsed = match http.documents.get(&request.query) {
        Some(parsed) => parsed,
        None => {
            let tokens =
                budget::count_tokens(&request.query, limits.max_tokens).map_err(Refused::limit)?;
            let document =
                async_graphql::parser::parse_query(&request.query).map_err(|error| Refused {
                    errors: vec![ServerError::from(error)],
                    code: "GRAPHQL_PARSE_FAILED",
                })?;
            match budget::measure(&document) {
                Ok(measure) => measure.check(&limits).map_err(Refused::limit)?,
                Err(DocumentRefusal::Limit(limit)) => return Err(Refused::limit(limit)),
                Err(DocumentRefusal::Invalid { message, pos }) => {
                    return Err(Refused {
                        errors: vec![ServerError::new(message, Some(pos))],
                        code: "GRAPHQL_VALIDATION_FAILED",
                    });
                }
            }
            let parsed = Arc::new(Parsed::new(document, tokens));
            http.documents.put(&request.query, Arc::clone(&parsed));
            parsed
        }
    };
    if let Some(shape) = http.schema.data::<SchemaShape>() {
        let errors = shape.check(
            &parsed.sent,
            request.operation_name.as_deref(),
            &request.variables,
        );
        if !errors.is_empty() {
            return Err(Refused {
                errors,
                code: "GRAPHQL_VALIDATION_FAILED",
            });
        }
    }
    request.set_parsed_query(parsed.marked.clone());
    Ok(Prepared {
        request,
        document: parsed,
        register,
    })
}

/// Why a persisted-query request cannot run: the protocol's error, sent with status 200 for
/// `PERSISTED_QUERY_NOT_FOUND` (so the client retries with the document, as Apollo Server
/// does) and 400 otherwise, never cached.
struct PersistedRefusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl PersistedRefusal {
    fn into_response(self, media: GraphqlMediaType) -> HttpResponse {
        let mut response = request_error(media, self.status, self.code, &self.message);
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache, must-revalidate"),
        );
        response
    }

    /// The refusal as one response of a batch.
    fn into_json(self) -> serde_json::Value {
        serde_json::json!({
            "errors": [{ "message": self.message, "extensions": { "code": self.code } }]
        })
    }
}

/// Resolves a persisted query (Apollo APQ) into the request's document, and what to remember
/// once that document has validated.
async fn apply_persisted(
    http: &HttpState,
    viewer: &Viewer,
    request: &mut Request,
) -> Result<Registration, PersistedRefusal> {
    let extension = match request.extensions.get("persistedQuery") {
        None => None,
        Some(value) => {
            let json = value.clone().into_json().unwrap_or_default();
            match serde_json::from_value::<crate::persisted::WireExtension>(json) {
                Ok(extension) => Some(crate::persisted::PersistedQueryExtension::from(extension)),
                Err(e) => {
                    return Err(PersistedRefusal {
                        status: StatusCode::BAD_REQUEST,
                        code: "BAD_REQUEST",
                        message: format!("`extensions.persistedQuery` is malformed: {e}"),
                    });
                }
            }
        }
    };
    let query = (!request.query.is_empty()).then_some(request.query.as_str());
    let resolved = http
        .app
        .persisted_queries()
        .resolve_shared(
            http.app.store(),
            http.app.now(),
            query,
            extension.as_ref(),
            viewer.is_staff(),
        )
        .await;
    let resolved = match resolved {
        Ok(resolved) => Ok(resolved),
        Err(crate::persisted::ResolveError::Refused(error)) => Err(error),
        Err(crate::persisted::ResolveError::Store(error)) => {
            let error = ApiError::from_store(&error);
            return Err(PersistedRefusal {
                status: error.status(),
                code: error.code(),
                message: error.to_string(),
            });
        }
    };
    match resolved {
        Ok(Some(resolved)) => {
            if resolved.query.as_ref() != request.query {
                request.query = resolved.query.to_string();
            }
            Ok(resolved.register.map(|hash| (hash, resolved.query)))
        }
        Ok(None) => Ok(None),
        Err(error) => {
            let not_found = error == crate::persisted::PersistedQueryError::NotFound;
            if !not_found {
                crate::metrics::document_rejected(error.code());
            }
            Err(PersistedRefusal {
                status: if not_found {
                    StatusCode::OK
                } else {
                    StatusCode::BAD_REQUEST
                },
                code: error.code(),
                message: error.to_string(),
            })
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// Who sent a request: the authenticated viewer and the connection's address.
struct Caller {
    viewer: Viewer,
    ip: std::net::IpAddr,
}

/// Validates (with the cost limit, against `batch` when the operation is one of a batch) and
/// executes; once the document has validated, remembers a persisted query and completes the
/// response (selection order, empty objects, `null` for field errors).
async fn run(
    http: &HttpState,
    caller: Caller,
    prepared: Prepared,
    batch: Option<Arc<BatchBudget>>,
) -> (Response, crate::http::cache::CacheTags) {
    let Prepared {
        request,
        document,
        register,
    } = prepared;
    let operation_name = request.operation_name.clone();
    // One operation that registers nothing runs on the schema without extensions; its cost
    // refusal is uncoded, so an operation refused there runs again, rarely, for the coded one.
    let lean = batch.is_none() && register.is_none();
    let meter = CostMeter::new(http.app.config().max_query_complexity, batch);
    let operation = gazette_graphql_spec::operation::executed_operation(
        &document.sent,
        operation_name.as_deref(),
    );
    let tags = crate::graphql::ResponseTags::default();
    let context = RequestContext {
        viewer: caller.viewer,
        at: gazette_app::clock::SharedInstant::new(http.app.now()),
        client_ip: caller.ip,
        tags: tags.clone(),
    };
    let retry = lean.then(|| {
        let again = Request::new(request.query.clone())
            .variables(request.variables.clone())
            .data(context.clone());
        match operation_name.as_deref() {
            Some(name) => again.operation_name(name),
            None => again,
        }
    });
    let request = request
        .data(context)
        .data(Loaders::new(http.app.app()))
        .data(meter.clone());
    let started = std::time::Instant::now();
    let mut response = match retry {
        None => http.schema.execute(request).await,
        Some(again) => {
            let response = http.lean.execute(request).await;
            if crate::graphql::over_lean_limit(&response) {
                let again = again.data(Loaders::new(http.app.app())).data(meter.clone());
                http.schema.execute(again).await
            } else {
                meter.set_validated(!request_failed(&response));
                response
            }
        }
    };
    crate::metrics::graphql_operation(
        operation.as_deref(),
        crate::metrics::outcome_of(&response),
        started.elapsed(),
    );
    if meter.validated() {
        if let Some((hash, query)) = register {
            http.app
                .persisted_queries()
                .register(http.app.store(), http.app.now(), hash, query)
                .await;
        }
        let shape = http.schema.data::<SchemaShape>();
        let order = match shape {
            Some(shape) => SelectionOrder::of(&document.sent, operation_name.as_deref(), shape),
            None => SelectionOrder::of(
                &document.sent,
                operation_name.as_deref(),
                &SchemaShape::default(),
            ),
        };
        order.complete(&mut response.data, &response.errors);
    }
    (response, tags.take())
}

/// A request error (validation, variable coercion) never reached execution: it has no path
/// and no data. The spec answers it with 400 and no `data` key.
fn request_failed(response: &Response) -> bool {
    !response.errors.is_empty()
        && response.data == Value::Null
        && response.errors.iter().all(|e| e.path.is_empty())
}

async fn execute(
    http: &HttpState,
    caller: Caller,
    media: GraphqlMediaType,
    prepared: Prepared,
) -> HttpResponse {
    let query = !prepared.is_mutation();
    let (mut response, tags) = run(http, caller, prepared, None).await;
    if request_failed(&response) {
        return request_errors(media, response.errors, "GRAPHQL_VALIDATION_FAILED");
    }
    // Argument coercion errors come from async-graphql uncoded; every error of ours has a code.
    for error in &mut response.errors {
        set_code_if_missing(error, "BAD_USER_INPUT");
    }
    let unavailable = response.data == Value::Null
        && response.errors.iter().any(|e| {
            e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&Value::from("UNAVAILABLE"))
        });
    let status = if unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let has_errors = !response.errors.is_empty();
    let body = serde_json::to_vec(&response).unwrap_or_default();
    let mut http_response = with_media(status, media, body);
    // The answer depends on the negotiated media type; a partial answer is not cached.
    crate::http::cache::append_vary(http_response.headers_mut(), "accept");
    if has_errors {
        http_response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else if query && status == StatusCode::OK {
        // A query answered without errors: the response cache may keep it.
        http_response
            .extensions_mut()
            .insert(crate::http::response_cache::GraphqlAnswer);
    }
    tags.attach(&mut http_response);
    if unavailable {
        http_response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    http_response
}

/// Errors that stopped the request before execution: 400, no `data` key.
fn request_errors(
    media: GraphqlMediaType,
    mut errors: Vec<ServerError>,
    code: &'static str,
) -> HttpResponse {
    crate::metrics::document_rejected(gazette_graphql_spec::operation::rejection_code(
        &errors, code,
    ));
    for error in &mut errors {
        set_code_if_missing(error, code);
    }
    let body = serde_json::to_vec(&serde_json::json!({ "errors": errors })).unwrap_or_default();
    with_media(StatusCode::BAD_REQUEST, media, body)
}

fn set_code_if_missing(error: &mut ServerError, code: &str) {
    let extensions = error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}

fn with_media(status: StatusCode, media: GraphqlMediaType, body: Vec<u8>) -> HttpResponse {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(media.content_type()),
        )],
        body,
    )
        .into_response()
}

/// A request-level failure as a GraphQL response with only `errors`.
fn request_error(
    media: GraphqlMediaType,
    status: StatusCode,
    code: &str,
    message: &str,
) -> HttpResponse {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    with_media(status, media, serde_json::to_vec(&body).unwrap_or_default())
}

/// A present but invalid bearer token (or a malformed `Authorization` header): 401 with a
/// `WWW-Authenticate` challenge, never a silent fall-back to anonymous access.
fn unauthenticated(media: GraphqlMediaType, error: &AuthError) -> HttpResponse {
    tracing::debug!(error = %error, "bearer token refused");
    let mut response = request_error(
        media,
        StatusCode::UNAUTHORIZED,
        error.code(),
        &error.to_string(),
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, crate::auth::challenge(error));
    response
}

fn not_acceptable() -> HttpResponse {
    let body = serde_json::json!({
        "errors": [{
            "message": "acceptable media types are application/graphql-response+json and application/json",
            "extensions": { "code": "NOT_ACCEPTABLE" }
        }]
    });
    (
        StatusCode::NOT_ACCEPTABLE,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        serde_json::to_vec(&body).unwrap_or_default(),
    )
        .into_response()
}
