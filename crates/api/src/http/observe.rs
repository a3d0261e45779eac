//! What every request leaves behind for operators: an `x-request-id` (the client's when it is
//! sane, a new UUID v7 otherwise) on the request and its response, a tracing span carrying it
//! (so every log line of the request names it), request metrics by matched route, and a
//! debug-level access log line (`RUST_LOG=gazette::access=debug`).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tracing::Instrument as _;

/// The request id header.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest request id accepted from a client; a longer one is replaced.
pub const MAX_REQUEST_ID_LEN: usize = 128;

tokio::task_local! {
    /// The id of the request the current task serves.
    static REQUEST_ID: Arc<str>;
}

/// The id of the request being served on this task, if any (internal errors quote it).
pub fn current_request_id() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok()
}

/// Whether a client's request id may be kept: 1 to [`MAX_REQUEST_ID_LEN`] characters of
/// letters, digits and `-_.:=+/@` (what UUIDs, ULIDs, trace ids and base64 ids use), so it is
/// safe in a log line, a header and a JSON body.
pub fn is_acceptable_request_id(value: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len())
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:=+/@".contains(b))
}

/// Makes a new request id: a UUID v7 (time-ordered, so ids sort like the log).
#[derive(Debug, Clone, Copy, Default)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Wraps `router` in the request-id, tracing and metrics layers. Outermost of all layers, so
/// even a response made by another layer (a CORS preflight, a 429) carries the id.
pub fn observed<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(middleware::from_fn(trace_and_measure))
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID, NewRequestId))
        .layer(middleware::from_fn(drop_unacceptable_request_id))
}

/// Removes a client's request id that is not acceptable (or sent more than once), so a fresh
/// one is made for it: a hostile value never reaches a log line or a response.
async fn drop_unacceptable_request_id(mut request: Request, next: Next) -> Response {
    let headers = request.headers_mut();
    let mut values = headers.get_all(&X_REQUEST_ID).iter();
    let keep = match (values.next(), values.next()) {
        (None, _) => true,
        (Some(one), None) => is_acceptable_request_id(one.as_bytes()),
        (Some(_), Some(_)) => false,
    };
    if !keep {
        headers.remove(&X_REQUEST_ID);
    }
    next.run(request).await
}

/// Runs the request inside a span naming its method, matched route and id (and with the id
/// as the task's [`current_request_id`]), then records its status and latency in the span and
/// the metrics, and logs the access line.
async fn trace_and_measure(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let id: Arc<str> = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .into();
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route.as_deref().unwrap_or("unmatched"),
        request_id = %id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let response = REQUEST_ID
        .scope(id, next.run(request))
        .instrument(span.clone())
        .await;
    let elapsed = started.elapsed();
    crate::metrics::http_request(&method, route.as_deref(), response.status(), elapsed);
    span.record("status", response.status().as_u16());
    span.record("latency_ms", elapsed.as_secs_f64() * 1000.0);
    span.in_scope(|| tracing::debug!(target: "gazette::access", "request answered"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_short_and_plain() {
        assert!(is_acceptable_request_id(
            b"0190a5e2-7d1c-7f3e-9b1a-2c3d4e5f6a7b"
        ));
        assert!(is_acceptable_request_id(
            b"Root=1-5759e988-bd862e3fe1be46a9"
        ));
        assert!(is_acceptable_request_id(&[b'a'; MAX_REQUEST_ID_LEN]));
        assert!(!is_acceptable_request_id(&[b'a'; MAX_REQUEST_ID_LEN + 1]));
        assert!(!is_acceptable_request_id(b""));
        assert!(!is_acceptable_request_id(b"abc\x01def"));
        assert!(!is_acceptable_request_id(b"a b"));
        assert!(!is_acceptable_request_id(b"<script>"));
        assert!(!is_acceptable_request_id("é".as_bytes()));
    }
}
