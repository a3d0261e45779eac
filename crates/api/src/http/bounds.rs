//! Per-request bounds, applied to every route: a deadline for the whole request, and a share
//! of the database pool that the request's statements (and the DataLoader batches it spawns)
//! may hold at once.
//!
//! A request past its deadline is dropped (its open transaction rolls back) and answered 504
//! with code `TIMEOUT`: a GraphQL response body for `/graphql`, a problem body elsewhere. The
//! client gets an answer rather than a dropped connection.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gazette_persistence::RequestShare;

use super::accept::negotiate;
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

/// The layer: runs the rest of the stack under the request's pool share and deadline.
pub async fn bound_request(
    State(bounds): State<RequestBounds>,
    request: Request,
    next: Next,
) -> Response {
    let graphql = request.uri().path() == "/graphql";
    let media = graphql.then(|| negotiate(request.headers())).flatten();
    let uri = request.uri().clone();
    let share = RequestShare::new(bounds.db_share);
    match tokio::time::timeout(bounds.timeout, share.scope(next.run(request))).await {
        Ok(response) => response,
        Err(_) => {
            let millis = bounds.timeout.as_millis();
            tracing::warn!(%uri, timeout_ms = millis, "request timed out");
            let message =
                format!("the request took longer than {millis} ms and was stopped; try again");
            let mut response = if graphql {
                let body = serde_json::json!({
                    "errors": [{ "message": message, "extensions": { "code": "TIMEOUT" } }]
                });
                let content_type = media.map_or("application/json", |m| m.content_type());
                (
                    StatusCode::GATEWAY_TIMEOUT,
                    [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
                    serde_json::to_vec(&body).unwrap_or_default(),
                )
                    .into_response()
            } else {
                ApiError::Timeout(message).into_response()
            };
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
    }
}
