//! Per-request bounds, applied to every route: a deadline for the whole request, and a share
//! of the database pool that the request's statements (and the DataLoader batches it spawns)
//! may hold at once.
//!
//! A request past its deadline is dropped (its open transaction rolls back) and answered 504
//! with code `TIMEOUT`: a GraphQL response body for `/graphql`, a problem body elsewhere. The
//! client gets an answer rather than a dropped connection.
//!
//! While the database is unreachable or its pool saturated, a new request that would need it
//! is turned away at once with 503, `Retry-After` and code `UNAVAILABLE`, before any work, so
//! nobody gets half an answer. Routes that do not need the database right away (health, the
//! OpenAPI document, view beacons, which count in memory) are let through.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gazette_persistence::{RequestShare, Store};

use super::accept::{GraphqlMediaType, negotiate};
use crate::ApiError;

/// The limits every request runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestBounds {
    /// Longest a request may take, from its head being read to its response head.
    pub timeout: Duration,
    /// Most pooled database connections one request may hold at once.
    pub db_share: usize,
}

impl Default for RequestBounds {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            db_share: 4,
        }
    }
}

/// What the layer needs: the limits, and the store to ask whether it takes new work.
#[derive(Debug, Clone)]
pub struct Bounds {
    limits: RequestBounds,
    store: Store,
}

impl Bounds {
    /// `limits` over `store`.
    pub fn new(limits: RequestBounds, store: Store) -> Self {
        Self { limits, store }
    }
}

/// Routes served without the database, or (beacons) with it only now and then.
fn needs_no_database(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/openapi.json" | "/v1/views")
}

/// The layer: turns a request away when the database cannot take it, else runs the rest of
/// the stack under the request's pool share and deadline.
pub async fn bound_request(State(bounds): State<Bounds>, request: Request, next: Next) -> Response {
    let graphql = request.uri().path() == "/graphql";
    let media = graphql.then(|| negotiate(request.headers())).flatten();
    if !needs_no_database(request.uri().path())
        && let Err(refused) = bounds.store.admission()
    {
        let error = ApiError::from_store(&refused);
        return refusal(graphql, media, error);
    }
    let uri = request.uri().clone();
    let limits = bounds.limits;
    let share = RequestShare::new(limits.db_share);
    match tokio::time::timeout(limits.timeout, share.scope(next.run(request))).await {
        Ok(response) => response,
        Err(_) => {
            let millis = limits.timeout.as_millis();
            tracing::warn!(%uri, timeout_ms = millis, "request timed out");
            let error = ApiError::Timeout(format!(
                "the request took longer than {millis} ms and was stopped; try again"
            ));
            refusal(graphql, media, error)
        }
    }
}

/// `error` as `/graphql` answers it (a GraphQL `errors` body in the negotiated media type) or
/// as every other route does (a problem body); never stored by caches.
fn refusal(graphql: bool, media: Option<GraphqlMediaType>, error: ApiError) -> Response {
    let status = error.status();
    let mut response = if graphql {
        let body = serde_json::json!({
            "errors": [{ "message": error.to_string(), "extensions": { "code": error.code() } }]
        });
        let content_type = media.map_or("application/json", |m| m.content_type());
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            serde_json::to_vec(&body).unwrap_or_default(),
        )
            .into_response()
    } else {
        error.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}
