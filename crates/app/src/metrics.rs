//! What the use cases count about themselves, through the `metrics` facade (the HTTP crate
//! installs the recorder and describes the names).

use std::time::Duration;

use metrics::{counter, histogram};

/// View flushes, by outcome.
pub const VIEW_FLUSHES: &str = "gazette_view_flushes_total";
/// Time one view flush took.
pub const VIEW_FLUSH_DURATION: &str = "gazette_view_flush_duration_seconds";
/// Views written per flush.
pub const VIEW_FLUSH_VIEWS: &str = "gazette_view_flush_views";
/// Database calls that found the database unavailable, by `reason` (`acquire_timeout`: no
/// pooled connection came free in time; `connection`: the database could not be reached).
pub const DB_UNAVAILABLE: &str = "gazette_db_unavailable_total";
/// Lookups in the in-memory caches, by cache and result.
pub const CACHE_LOOKUPS: &str = "gazette_cache_lookups_total";
/// Registered persisted queries removed from the shared registry to keep its row bound.
pub const PERSISTED_QUERIES_EVICTED: &str = "gazette_persisted_queries_evicted_total";
/// Rate-limit checks that could not use the shared budget (Redis unreachable or too slow) and
/// used this process's own instead.
pub const RATE_LIMIT_FALLBACKS: &str = "gazette_rate_limit_fallbacks_total";
/// Entries the response cache forgot to stay within its byte bound (hits and misses are
/// [`CACHE_LOOKUPS`] with `cache="response"`).
pub const RESPONSE_CACHE_EVICTIONS: &str = "gazette_response_cache_evictions_total";
/// WebSub hub pings, by `outcome`: `ok`, `retry` (failed, sent again later), `failed` (given
/// up after the last attempt), `dropped` (a feed URL not queued: the pending set was full).
pub const WEBSUB_PINGS: &str = "gazette_websub_pings_total";
/// Feed URLs waiting to be announced to the WebSub hub.
pub const WEBSUB_PENDING: &str = "gazette_websub_pending";
/// CDN purges, by `outcome`, one per cache tag: `ok` (purged), `retry` (its request failed, sent
/// again later), `failed` (given up after the last attempt), `dropped` (not queued: the
/// pending set was full).
pub const CDN_PURGES: &str = "gazette_cdn_purges_total";
/// Cache tags waiting to be purged from the CDN.
pub const CDN_PENDING: &str = "gazette_cdn_pending";

/// Records one flush of counted views.
pub fn view_flush(views: i64, elapsed: Duration, written: bool) {
    let outcome = if written { "ok" } else { "error" };
    counter!(VIEW_FLUSHES, "outcome" => outcome).increment(1);
    histogram!(VIEW_FLUSH_DURATION).record(elapsed);
    histogram!(VIEW_FLUSH_VIEWS).record(views as f64);
}

/// Records a lookup in one of the in-memory caches.
pub fn cache_lookup(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    counter!(CACHE_LOOKUPS, "cache" => cache, "result" => result).increment(1);
}

/// Counts persisted queries evicted from the shared registry.
pub fn persisted_queries_evicted(count: u64) {
    counter!(PERSISTED_QUERIES_EVICTED).increment(count);
}

/// Counts one rate-limit check answered by this process's budget because Redis did not.
pub fn rate_limit_fallback() {
    counter!(RATE_LIMIT_FALLBACKS).increment(1);
}

/// Records entries the response cache forgot to stay within its bound.
pub fn response_cache_evicted(entries: u64) {
    counter!(RESPONSE_CACHE_EVICTIONS).increment(entries);
}

/// Records a database call that found the database unavailable.
pub fn db_unavailable(acquire_timeout: bool) {
    let reason = if acquire_timeout {
        "acquire_timeout"
    } else {
        "connection"
    };
    counter!(DB_UNAVAILABLE, "reason" => reason).increment(1);
}
