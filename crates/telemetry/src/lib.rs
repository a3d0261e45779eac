//! Prometheus metrics: every name and label Gazette records, and the recorder behind
//! `/metrics` (which the HTTP crate serves; it also turns its own types, methods, statuses and
//! GraphQL responses, into the labels recorded here).
//!
//! Metrics describe a process, so the recorder is the process's one global `metrics` recorder,
//! installed once by [`install`] (a second [`install`], e.g. a second application built in the
//! same test process, gets the same handle). Until it is installed every recording below is a
//! no-op. Every label has a bounded set of values: routes are the router's matched paths (never
//! the raw URI), methods and statuses are closed sets, GraphQL operation names are capped
//! ([`MAX_OPERATION_NAMES`]) and limit codes are `&'static str`.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex, OnceLock};
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests answered, by `method`, `route` and `status`.
pub const HTTP_REQUESTS: &str = "gazette_http_requests_total";
/// Time from the request's arrival to its response head, by `method` and `route`.
pub const HTTP_DURATION: &str = "gazette_http_request_duration_seconds";
/// GraphQL operations executed, by `operation` and `outcome` (`ok`, `error`, `invalid`,
/// `unavailable`).
pub const GRAPHQL_OPERATIONS: &str = "gazette_graphql_operations_total";
/// Time to execute a GraphQL operation, by `operation`.
pub const GRAPHQL_DURATION: &str = "gazette_graphql_operation_duration_seconds";
/// GraphQL documents refused before execution, by `limit` (the refusal's `extensions.code`).
pub const DOCUMENTS_REJECTED: &str = "gazette_graphql_documents_rejected_total";
/// Statements holding a pooled database connection, sampled at each scrape.
pub const DB_POOL_IN_USE: &str = "gazette_db_pool_in_use";
/// Statements waiting for a pooled connection, sampled at each scrape.
pub const DB_POOL_WAITING: &str = "gazette_db_pool_waiting";
/// 1 while the database answers, 0 during an outage.
pub const DB_REACHABLE: &str = "gazette_db_reachable";
/// The most connections the pool may open.
pub const DB_POOL_MAX: &str = "gazette_db_pool_max_connections";
/// View flushes (by `outcome`: `ok`, `error`), their duration and size, and in-memory cache
/// lookups (by `cache`: `related`, `trending`, `persisted_query`, and `result`: `hit`, `miss`):
/// counted by the use-case layer.
pub use gazette_app::metrics::{
    CACHE_LOOKUPS, CDN_PENDING, CDN_PURGES, DB_UNAVAILABLE, PERSISTED_QUERIES_EVICTED,
    RATE_LIMIT_FALLBACKS, RESPONSE_CACHE_EVICTIONS, VIEW_FLUSH_DURATION, VIEW_FLUSH_VIEWS,
    VIEW_FLUSHES, WEBSUB_PENDING, WEBSUB_PINGS, cache_lookup, db_unavailable,
    persisted_queries_evicted, rate_limit_fallback, response_cache_evicted,
};
/// Views counted in memory and not yet written, sampled at each scrape.
pub const VIEWS_PENDING: &str = "gazette_views_pending";
/// Bytes the response cache holds, sampled at each scrape.
pub const RESPONSE_CACHE_BYTES: &str = "gazette_response_cache_bytes";
/// Entries the response cache holds, sampled at each scrape.
pub const RESPONSE_CACHE_ENTRIES: &str = "gazette_response_cache_entries";

/// Distinct GraphQL operation names given their own label value; later names count as `other`.
pub const MAX_OPERATION_NAMES: usize = 200;
/// Longest operation name given its own label value.
pub const MAX_OPERATION_NAME_LEN: usize = 64;

/// Latency buckets, in seconds: from half a millisecond (a cached read) to 10 s (a timeout).
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Views-per-flush buckets.
const FLUSH_SIZE_BUCKETS: &[f64] = &[1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0];
/// How often histogram samples are folded in when nobody scrapes (bounds their buffers).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder as the process's metrics recorder (once) and returns the
/// handle that renders it. Also starts the thread that folds histogram samples in every few
/// seconds, so memory stays bounded between scrapes.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(VIEW_FLUSH_VIEWS.to_owned()),
                        FLUSH_SIZE_BUCKETS,
                    )
                })
                // Both bucket lists are non-empty constants, the only way this can fail.
                .unwrap_or_else(|_| PrometheusBuilder::new())
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics will be empty");
            }
            describe();
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_INTERVAL);
                        upkeep.run_upkeep();
                    }
                });
            if let Err(error) = spawned {
                tracing::warn!(%error, "metrics upkeep thread did not start; scrapes still fold samples in");
            }
            handle
        })
        .clone()
}

/// The HELP lines.
fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route and status."
    );
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to the response head, by method and route."
    );
    describe_counter!(
        GRAPHQL_OPERATIONS,
        "GraphQL operations executed, by operation name and outcome."
    );
    describe_histogram!(
        GRAPHQL_DURATION,
        metrics::Unit::Seconds,
        "GraphQL execution time, by operation name."
    );
    describe_counter!(
        DOCUMENTS_REJECTED,
        "GraphQL documents refused before execution, by the limit or check that refused them."
    );
    describe_gauge!(
        DB_POOL_IN_USE,
        "Statements holding a pooled database connection."
    );
    describe_gauge!(
        DB_POOL_WAITING,
        "Statements waiting for a pooled database connection."
    );
    describe_gauge!(
        DB_REACHABLE,
        "1 while the database answers, 0 during an outage."
    );
    describe_gauge!(DB_POOL_MAX, "Most connections the database pool may open.");
    describe_counter!(
        DB_UNAVAILABLE,
        "Database calls that found the database unavailable, by reason."
    );
    describe_counter!(VIEW_FLUSHES, "View-count flushes, by outcome.");
    describe_histogram!(
        VIEW_FLUSH_DURATION,
        metrics::Unit::Seconds,
        "Time to write one view flush."
    );
    describe_histogram!(VIEW_FLUSH_VIEWS, "Views written per flush.");
    describe_gauge!(VIEWS_PENDING, "Views counted in memory, not yet written.");
    describe_counter!(
        CACHE_LOOKUPS,
        "In-memory cache lookups, by cache and result (hit, miss)."
    );
    describe_counter!(
        PERSISTED_QUERIES_EVICTED,
        "Persisted queries removed from the shared registry to keep its bound."
    );
    describe_counter!(
        RATE_LIMIT_FALLBACKS,
        "Rate-limit checks that used this process's budget because Redis did not answer."
    );
    describe_counter!(
        RESPONSE_CACHE_EVICTIONS,
        "Response cache entries forgotten to stay within its byte bound."
    );
    describe_gauge!(RESPONSE_CACHE_BYTES, "Bytes the response cache holds.");
    describe_gauge!(RESPONSE_CACHE_ENTRIES, "Entries the response cache holds.");
    describe_counter!(
        WEBSUB_PINGS,
        "WebSub hub pings, by outcome (ok, retry, failed, dropped)."
    );
    describe_gauge!(
        WEBSUB_PENDING,
        "Feed URLs waiting to be announced to the WebSub hub."
    );
    describe_counter!(
        CDN_PURGES,
        "Cache tags purged from the CDN, by outcome (ok, retry, failed, dropped)."
    );
    describe_gauge!(CDN_PENDING, "Cache tags waiting to be purged from the CDN.");
}

/// Whether a recorder is installed; without one, the recordings that would build labels
/// (allocating) return at once.
pub fn enabled() -> bool {
    HANDLE.get().is_some()
}

/// Records one answered request. `route` is the matched route pattern (`None`: no route
/// matched, labelled `unmatched`).
/// `method` is one of a closed set of labels, `status` the response's status code.
pub fn http_request(method: &'static str, route: Option<&str>, status: u16, elapsed: Duration) {
    if !enabled() {
        return;
    }
    let route = route.unwrap_or("unmatched").to_owned();
    counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(),
        "status" => status.to_string())
    .increment(1);
    histogram!(HTTP_DURATION, "method" => method, "route" => route).record(elapsed);
}

/// What became of a GraphQL operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered without errors.
    Ok,
    /// Answered with field errors (partial data, or a resolver refused).
    Error,
    /// Refused before execution (validation, variables, unknown operation).
    Invalid,
    /// The database was unavailable.
    Unavailable,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Invalid => "invalid",
            Self::Unavailable => "unavailable",
        }
    }
}

/// The operation names that have their own label value (first come, up to the cap).
static OPERATION_NAMES: LazyLock<Mutex<HashSet<String>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

/// The `operation` label of a named operation: the name itself while fewer than
/// [`MAX_OPERATION_NAMES`] names have been seen, `other` after that (and for names longer than
/// [`MAX_OPERATION_NAME_LEN`]); `unnamed` for anonymous operations.
pub fn operation_label(name: Option<&str>) -> String {
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return "unnamed".to_owned();
    };
    if name.len() > MAX_OPERATION_NAME_LEN {
        return "other".to_owned();
    }
    let mut names = OPERATION_NAMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if names.contains(name) {
        return name.to_owned();
    }
    if names.len() < MAX_OPERATION_NAMES {
        names.insert(name.to_owned());
        return name.to_owned();
    }
    "other".to_owned()
}

/// Records one executed GraphQL operation. `name` must come from [`executed_operation`].
pub fn graphql_operation(name: Option<&str>, outcome: Outcome, elapsed: Duration) {
    if !enabled() {
        return;
    }
    let operation = operation_label(name);
    counter!(GRAPHQL_OPERATIONS, "operation" => operation.clone(), "outcome" => outcome.as_str())
        .increment(1);
    histogram!(GRAPHQL_DURATION, "operation" => operation).record(elapsed);
}

/// Records an operation refused before it was parsed and validated (a bound of the document,
/// a parse failure): it counts as an unnamed, invalid operation, since no name in it can be
/// trusted yet.
pub fn graphql_refused() {
    if !enabled() {
        return;
    }
    counter!(GRAPHQL_OPERATIONS, "operation" => "unnamed", "outcome" => Outcome::Invalid.as_str())
        .increment(1);
}

/// Records a GraphQL document refused before execution; `code` names the limit or check
/// (`QUERY_TOO_DEEP`, `GRAPHQL_PARSE_FAILED`, …) and is static so the label set stays bounded.
pub fn document_rejected(code: &'static str) {
    counter!(DOCUMENTS_REJECTED, "limit" => code).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_capped() {
        assert_eq!(operation_label(None), "unnamed");
        assert_eq!(operation_label(Some("")), "unnamed");
        assert_eq!(operation_label(Some(&"a".repeat(65))), "other");
        for i in 0..MAX_OPERATION_NAMES * 2 {
            let name = format!("Op{i}");
            let label = operation_label(Some(&name));
            assert!(label == name || label == "other", "{label}");
        }
        let distinct: HashSet<String> = (0..MAX_OPERATION_NAMES * 2)
            .map(|i| operation_label(Some(&format!("Op{i}"))))
            .collect();
        // Every capped name plus `other`, whatever order the names came in.
        assert!(
            distinct.len() <= MAX_OPERATION_NAMES + 1,
            "{}",
            distinct.len()
        );
        assert!(distinct.contains("other"));
    }
}
