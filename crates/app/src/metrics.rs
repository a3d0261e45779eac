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
/// Lookups in the in-memory caches, by cache and result.
pub const CACHE_LOOKUPS: &str = "gazette_cache_lookups_total";

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
