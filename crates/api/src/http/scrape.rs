//! `GET /metrics`, Prometheus text, on a router of its own: the server mounts it on a separate
//! listen address (never on the public one), optionally behind a bearer token.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use sha2::Digest as _;

use crate::{ApiError, AppState};

/// What the scrape route needs.
#[derive(Clone)]
struct Scrape {
    app: AppState,
    handle: PrometheusHandle,
    /// SHA-256 of the bearer token a scraper must send, if one is required.
    token_digest: Option<[u8; 32]>,
}

/// The metrics router: `GET /metrics` renders every metric (sampling the database pool and the
/// pending views first); with `token`, only for `Authorization: Bearer <token>`. Anything else
/// is 404.
pub fn metrics_router(app: AppState, handle: PrometheusHandle, token: Option<&str>) -> Router {
    let scrape = Scrape {
        app,
        handle,
        token_digest: token.map(|t| sha2::Sha256::digest(t.as_bytes()).into()),
    };
    let router = Router::new()
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::NotFound("route".to_owned()) })
        .with_state(scrape);
    super::observe::observed(router)
}

async fn metrics(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    if let Some(expected) = &scrape.token_digest
        && !bearer_matches(&headers, expected)
    {
        let mut response =
            ApiError::Unauthenticated("a bearer token is required to read metrics".to_owned())
                .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return response;
    }
    let body = crate::metrics::render(&scrape.handle, &scrape.app);
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

/// Whether the request's bearer token hashes to `expected`, compared without an early exit so
/// the time taken says nothing about how much of the token was right.
fn bearer_matches(headers: &HeaderMap, expected: &[u8; 32]) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let given: [u8; 32] = sha2::Sha256::digest(token.trim().as_bytes()).into();
    given
        .iter()
        .zip(expected)
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}
