//! GraphQL over HTTP, per the GraphQL-over-HTTP spec, in front of async-graphql's executor:
//! media-type negotiation (406), 401 for a present but invalid bearer token, 400 without
//! `data` for documents that do not parse or validate, 405 for mutations over GET, 415 for
//! bodies that are not JSON, no array batches unless configured.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{ErrorExtensionValues, Request, Response, ServerError, Value};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use chrono::Utc;
use gazette_domain::Viewer;
use serde::Deserialize;

use super::HttpState;
use super::accept::{GraphqlMediaType, negotiate, wants_html};
use super::rest::{Authenticated, ClientIp};
use crate::graphql::{Loaders, RequestContext, SelectionOrder};
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
    if raw.is_empty() && wants_html(&headers) {
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
    if let Some(response) = apply_persisted(&http, &viewer, media, &mut request) {
        return response;
    }
    if request.query.is_empty() {
        return request_error(
            media,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "a GET request needs a `query` parameter (or a persisted query hash)",
        );
    }
    let operation_name = request.operation_name.clone();
    match request.parsed_query() {
        Err(error) => return parse_failed(media, error),
        Ok(document) if is_mutation(document, operation_name.as_deref()) => {
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
        Ok(_) => {}
    }
    execute(&http, Caller { viewer, ip }, media, request).await
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
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
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
        let mut responses = Vec::with_capacity(requests.len());
        for mut request in requests {
            if let Some(refusal) = apply_persisted(&http, &viewer, media, &mut request) {
                // The refusal's body is `{"errors": [...]}`: one response of the batch.
                let body = axum::body::to_bytes(refusal.into_body(), usize::MAX)
                    .await
                    .unwrap_or_default();
                responses.push(serde_json::from_slice(&body).unwrap_or_default());
                continue;
            }
            let caller = Caller {
                viewer: viewer.clone(),
                ip,
            };
            let (response, _) = run(&http, caller, request).await;
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
    if let Some(response) = apply_persisted(&http, &viewer, media, &mut request) {
        return response;
    }
    execute(&http, Caller { viewer, ip }, media, request).await
}

/// Resolves a persisted query (Apollo APQ) into the request's document, or returns the answer
/// to send instead, the protocol's error: `PERSISTED_QUERY_NOT_FOUND` with status 200 and no caching (so the client
/// retries with the document, as Apollo Server does), every other refusal with 400.
fn apply_persisted(
    http: &HttpState,
    viewer: &Viewer,
    media: GraphqlMediaType,
    request: &mut Request,
) -> Option<HttpResponse> {
    let extension = match request.extensions.get("persistedQuery") {
        None => None,
        Some(value) => {
            let json = value.clone().into_json().unwrap_or_default();
            match serde_json::from_value::<crate::persisted::PersistedQueryExtension>(json) {
                Ok(extension) => Some(extension),
                Err(e) => {
                    return Some(request_error(
                        media,
                        StatusCode::BAD_REQUEST,
                        "BAD_REQUEST",
                        &format!("`extensions.persistedQuery` is malformed: {e}"),
                    ));
                }
            }
        }
    };
    let query = (!request.query.is_empty()).then_some(request.query.as_str());
    match http
        .app
        .persisted_queries()
        .resolve(query, extension.as_ref(), viewer.is_staff())
    {
        Ok(Some(document)) => {
            if document.as_ref() != request.query {
                request.query = document.to_string();
            }
            None
        }
        Ok(None) => None,
        Err(error) => {
            let not_found = error == crate::persisted::PersistedQueryError::NotFound;
            if !not_found {
                crate::metrics::document_rejected(error.code());
            }
            let status = if not_found {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            let mut response = request_error(media, status, error.code(), &error.to_string());
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache, must-revalidate"),
            );
            Some(response)
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

/// Whether the operation the request would run is a mutation (or subscription).
fn is_mutation(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    let ty = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => op.node.ty,
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
            Some(op) => op.node.ty,
            None => return false,
        },
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
            .values()
            .next()
            .map(|op| op.node.ty)
            .unwrap_or(OperationType::Query),
        _ => return false,
    };
    ty != OperationType::Query
}

/// Runs one operation for `viewer`, the caller as authentication established it.
/// Who sent a request: the authenticated viewer and the connection's address.
struct Caller {
    viewer: Viewer,
    ip: std::net::IpAddr,
}

async fn run(
    http: &HttpState,
    caller: Caller,
    mut request: Request,
) -> (Response, crate::http::cache::CacheTags) {
    let operation_name = request.operation_name.clone();
    let order = request
        .parsed_query()
        .ok()
        .map(|document| SelectionOrder::of(document, operation_name.as_deref()));
    let operation = request.parsed_query().ok().and_then(|document| {
        crate::metrics::executed_operation(document, operation_name.as_deref())
    });
    let tags = crate::graphql::ResponseTags::default();
    let context = RequestContext {
        viewer: caller.viewer,
        now: gazette_domain::time::storage_precision(Utc::now()),
        client_ip: caller.ip,
        tags: tags.clone(),
    };
    let request = request.data(context).data(Loaders::new(http.app.store()));
    let started = std::time::Instant::now();
    let mut response = http.schema.execute(request).await;
    crate::metrics::graphql_operation(
        operation.as_deref(),
        crate::metrics::Outcome::of(&response),
        started.elapsed(),
    );
    if let Some(order) = order {
        order.apply(&mut response.data);
    }
    (response, tags.take())
}

async fn execute(
    http: &HttpState,
    caller: Caller,
    media: GraphqlMediaType,
    mut request: Request,
) -> HttpResponse {
    // Parsed here (once: the executor reuses the document) so a parse failure is told apart
    // from a validation failure without parsing again.
    if let Err(error) = request.parsed_query() {
        return parse_failed(media, error);
    }
    let (mut response, tags) = run(http, caller, request).await;
    // A request error (validation, variable coercion) never reached execution: it has no path
    // and no data. The spec answers it with 400 and no `data` key.
    let request_failed = !response.errors.is_empty()
        && response.data == Value::Null
        && response.errors.iter().all(|e| e.path.is_empty());
    if request_failed {
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
    }
    tags.attach(&mut http_response);
    if unavailable {
        http_response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    http_response
}

/// A document that does not parse: 400, `errors` only.
fn parse_failed(media: GraphqlMediaType, error: ServerError) -> HttpResponse {
    request_errors(media, vec![error], "GRAPHQL_PARSE_FAILED")
}

/// Errors that stopped the request before execution: 400, no `data` key.
fn request_errors(
    media: GraphqlMediaType,
    mut errors: Vec<ServerError>,
    code: &'static str,
) -> HttpResponse {
    crate::metrics::document_rejected(crate::metrics::rejection_code(&errors, code));
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
        .insert(header::WWW_AUTHENTICATE, error.www_authenticate());
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
