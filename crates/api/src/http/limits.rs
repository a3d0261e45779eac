//! The rate-limit layer: every request but health checks and view beacons (which have their
//! own budget) is counted against its caller's budget ([`gazette_app::limits`]: one per
//! partner, one per anonymous address, staff not at all); a refusal is `429` with
//! `Retry-After`, and every limited response carries `RateLimit-Limit`, `RateLimit-Remaining`
//! and `RateLimit-Reset`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
pub use gazette_app::limits::{Decision, Rate, RateLimitConfig, RateLimits, RedisConfig};

use super::HttpState;
use super::caller::{Authenticated, ClientIp};
use crate::ApiError;

/// The rate-limit layer. A request whose token does not verify is limited as its address (the
/// handler then answers 401).
pub async fn rate_limit(
    State(http): State<HttpState>,
    ClientIp(address): ClientIp,
    mut request: Request,
    next: Next,
) -> Response {
    // Health checks are never limited; view beacons have their own budget (`GAZETTE_BEACON_*`).
    if matches!(request.uri().path(), "/healthz" | "/readyz" | "/v1/views") {
        return next.run(request).await;
    }
    let verified = crate::auth::authenticate(http.app.auth(), request.headers());
    let viewer = verified.clone().unwrap_or_default();
    // The handler reads the outcome instead of verifying the signature a second time.
    request.extensions_mut().insert(Authenticated(verified));
    match http.app.rate_limits().check(&viewer, address).await {
        None => next.run(request).await,
        Some(Decision::Allowed {
            limit,
            remaining,
            reset_secs,
        }) => {
            let mut response = next.run(request).await;
            set_headers(response.headers_mut(), limit, remaining, reset_secs);
            response
        }
        Some(Decision::Refused { limit, retry_after }) => {
            let wait = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            let mut response = ApiError::RateLimited {
                retry_after_secs: wait.max(1),
            }
            .into_response();
            set_headers(response.headers_mut(), limit, 0, wait.max(1));
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
    }
}

fn set_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset_secs: u64) {
    for (name, value) in [
        ("ratelimit-limit", u64::from(limit)),
        ("ratelimit-remaining", u64::from(remaining)),
        ("ratelimit-reset", reset_secs),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}
