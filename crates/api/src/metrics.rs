//! The HTTP crate's part of the metrics (`gazette-telemetry` holds the names, the recorder and
//! the recordings): `/metrics`' text with the gauges sampled, and the labels of HTTP methods
//! and GraphQL responses.

use std::time::Duration;

use metrics::gauge;
use metrics_exporter_prometheus::PrometheusHandle;

pub use gazette_telemetry::*;

/// The Prometheus text of every metric, after sampling the gauges of `state`.
pub fn render(handle: &PrometheusHandle, state: &crate::AppState) -> String {
    let pool = state.store().pool_stats();
    gauge!(DB_POOL_IN_USE).set(pool.in_use as f64);
    gauge!(DB_POOL_WAITING).set(pool.waiting as f64);
    gauge!(DB_POOL_MAX).set(pool.max_connections as f64);
    gauge!(DB_REACHABLE).set(if pool.reachable { 1.0 } else { 0.0 });
    gauge!(VIEWS_PENDING).set(state.views().pending_views() as f64);
    let responses = state.response_cache();
    gauge!(RESPONSE_CACHE_BYTES).set(responses.bytes() as f64);
    gauge!(RESPONSE_CACHE_ENTRIES).set(responses.len() as f64);
    handle.render()
}

/// The `method` label: the standard methods, anything else as `other`.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Records one answered request. `route` is the matched route pattern (`None`: no route
/// matched, labelled `unmatched`).
pub fn http_request(
    method: &axum::http::Method,
    route: Option<&str>,
    status: axum::http::StatusCode,
    elapsed: Duration,
) {
    gazette_telemetry::http_request(method_label(method), route, status.as_u16(), elapsed);
}

/// The outcome `response` tells of.
pub fn outcome_of(response: &async_graphql::Response) -> Outcome {
    use async_graphql::Value;
    if response.errors.is_empty() {
        return Outcome::Ok;
    }
    if response.data == Value::Null {
        if response.errors.iter().all(|e| e.path.is_empty()) {
            return Outcome::Invalid;
        }
        let unavailable = Value::from("UNAVAILABLE");
        if response
            .errors
            .iter()
            .any(|e| e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&unavailable))
        {
            return Outcome::Unavailable;
        }
    }
    Outcome::Error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusual_methods_share_one_label() {
        let custom = axum::http::Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(method_label(&custom), "other");
        assert_eq!(method_label(&axum::http::Method::GET), "GET");
    }
}
