//! The store behind the public response cache: finished answers kept in memory under a
//! 32-byte key, each with the [`Freshness`] it was computed under, in a map bounded in bytes
//! (least recently used forgotten first), and single flight: concurrent misses of one key
//! compute it once while the others wait for it (at most [`FLIGHT_WAIT`]).
//!
//! What an answer is (status, headers and body bytes), how a request becomes a key and what
//! may be kept are the HTTP layer's; the store only holds values and says whose turn it is.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gazette_domain::Viewer;
use lru::LruCache;

use crate::Freshness;

/// Bytes every entry is charged on top of its key and value (the map's node, the entry's
/// fields).
pub const ENTRY_OVERHEAD: usize = 256;

/// Most answers being computed at once that other requests for the same key wait for; past
/// it, a miss is computed without waiting for anyone.
pub const MAX_IN_FLIGHT: usize = 4096;
/// Longest a request waits for another request computing the same answer before computing it
/// itself.
pub const FLIGHT_WAIT: Duration = Duration::from_secs(1);

/// Settings of the response cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseCacheConfig {
    /// Most bytes kept (0: the cache is off).
    pub max_bytes: usize,
    /// Largest single entry (bigger answers are sent on, not kept).
    pub max_entry_bytes: usize,
}

impl Default for ResponseCacheConfig {
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024 * 1024,
            max_entry_bytes: 1024 * 1024,
        }
    }
}

/// A request's key: a hash of everything its answer depends on.
pub type Key = [u8; 32];

/// One stored answer and how long it may be served.
#[derive(Debug)]
pub struct Entry<V> {
    /// The answer.
    pub value: V,
    /// The content generation and due instant seen before the answer was computed.
    pub freshness: Freshness,
    /// Monotonic end of life (trending answers), if any.
    pub expires: Option<Instant>,
    /// End of life on the application's clock besides `freshness.until` (the news sitemap).
    pub until: Option<DateTime<Utc>>,
    /// Bytes the entry is charged (key, value and [`ENTRY_OVERHEAD`]).
    pub weight: usize,
}

impl<V> Entry<V> {
    fn valid(&self, current: &Freshness, now: DateTime<Utc>) -> bool {
        self.freshness.still_valid(current, now)
            && self.until.is_none_or(|until| now < until)
            && self.expires.is_none_or(|at| Instant::now() < at)
    }
}

struct Stored<V> {
    entries: LruCache<Key, Arc<Entry<V>>>,
    bytes: usize,
}

/// The cache: a byte-bounded LRU map from request keys to finished answers. Cheap to share.
pub struct AnswerCache<V> {
    config: ResponseCacheConfig,
    stored: Mutex<Stored<V>>,
    /// Keys being computed now, so that concurrent misses of one key compute it once.
    in_flight: Mutex<HashMap<Key, Weak<tokio::sync::Mutex<()>>>>,
}

/// A miss's part in computing its answer.
#[derive(Debug)]
pub enum Flight {
    /// This request computes it; requests for the same key wait until this guard is dropped
    /// (see [`Landing`]).
    Leader(tokio::sync::OwnedMutexGuard<()>),
    /// Another request is computing it: wait for that one ([`Flight::wait`]), then look again.
    Follower(Arc<tokio::sync::Mutex<()>>),
    /// Too many answers in flight: computed without coordinating.
    Alone,
}

impl Flight {
    /// A follower's wait for the leader to land, at most [`FLIGHT_WAIT`].
    pub async fn wait(running: &tokio::sync::Mutex<()>) {
        let _ = tokio::time::timeout(FLIGHT_WAIT, running.lock()).await;
    }
}

impl<V> std::fmt::Debug for AnswerCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stored = self.lock();
        f.debug_struct("AnswerCache")
            .field("config", &self.config)
            .field("entries", &stored.entries.len())
            .field("bytes", &stored.bytes)
            .finish()
    }
}

impl<V> AnswerCache<V> {
    /// An empty cache bounded by `config`.
    pub fn new(config: ResponseCacheConfig) -> Self {
        Self {
            config,
            stored: Mutex::new(Stored {
                entries: LruCache::unbounded(),
                bytes: 0,
            }),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// The bounds it was built with.
    pub fn config(&self) -> &ResponseCacheConfig {
        &self.config
    }

    /// Joins the computation of `key`'s answer, or starts it.
    pub fn flight(&self, key: &Key) -> Flight {
        let mut flights = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(running) = flights.get(key).and_then(Weak::upgrade) {
            return Flight::Follower(running);
        }
        if flights.len() >= MAX_IN_FLIGHT {
            flights.retain(|_, running| running.strong_count() > 0);
            if flights.len() >= MAX_IN_FLIGHT {
                return Flight::Alone;
            }
        }
        let running = Arc::new(tokio::sync::Mutex::new(()));
        flights.insert(*key, Arc::downgrade(&running));
        match running.try_lock_owned() {
            Ok(guard) => Flight::Leader(guard),
            // A lock nobody else has seen is free; answered as if alone all the same.
            Err(_) => Flight::Alone,
        }
    }

    /// Forgets the flight `running` of `key` once its answer is computed (kept or not); a
    /// later miss starts a flight of its own.
    fn landed(&self, key: &Key, running: &Arc<tokio::sync::Mutex<()>>) {
        let mut flights = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if flights
            .get(key)
            .is_some_and(|known| std::ptr::eq(known.as_ptr(), Arc::as_ptr(running)))
        {
            flights.remove(key);
        }
    }

    /// Whether anything may be stored.
    pub fn enabled(&self) -> bool {
        self.config.max_bytes > 0 && self.config.max_entry_bytes > 0
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stored<V>> {
        self.stored.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entry under `key` if it is still valid; an invalid one is dropped.
    pub fn get(&self, key: &Key, current: &Freshness, now: DateTime<Utc>) -> Option<Arc<Entry<V>>> {
        let mut stored = self.lock();
        let entry = stored.entries.get(key)?.clone();
        if entry.valid(current, now) {
            return Some(entry);
        }
        stored.entries.pop(key);
        stored.bytes = stored.bytes.saturating_sub(entry.weight);
        None
    }

    /// Keeps `entry` under `key`, forgetting the least recently used entries beyond the bound.
    pub fn put(&self, key: Key, entry: Entry<V>) {
        if entry.weight > self.config.max_entry_bytes || entry.weight > self.config.max_bytes {
            return;
        }
        let mut stored = self.lock();
        let weight = entry.weight;
        if let Some(old) = stored.entries.put(key, Arc::new(entry)) {
            stored.bytes = stored.bytes.saturating_sub(old.weight);
        }
        stored.bytes += weight;
        let mut evicted = 0u64;
        while stored.bytes > self.config.max_bytes {
            let Some((_, old)) = stored.entries.pop_lru() else {
                break;
            };
            stored.bytes = stored.bytes.saturating_sub(old.weight);
            evicted += 1;
        }
        drop(stored);
        if evicted > 0 {
            crate::metrics::response_cache_evicted(evicted);
        }
    }
}

/// The first miss of a key, computing its answer: when dropped (kept or not, or the request
/// abandoned), the requests waiting for it go on and the flight is forgotten.
#[derive(Debug)]
pub struct Landing<'a, V>(&'a AnswerCache<V>, Key, tokio::sync::OwnedMutexGuard<()>);

impl<'a, V> Landing<'a, V> {
    /// The leader's flight of `key` in `cache`, landing when dropped.
    pub fn new(
        cache: &'a AnswerCache<V>,
        key: Key,
        guard: tokio::sync::OwnedMutexGuard<()>,
    ) -> Self {
        Self(cache, key, guard)
    }
}

impl<V> Drop for Landing<'_, V> {
    fn drop(&mut self) {
        self.0
            .landed(&self.1, tokio::sync::OwnedMutexGuard::mutex(&self.2));
    }
}

/// Whose answers a request may share: every anonymous caller's, or every partner's with the
/// same scopes (no answer shows a partner's subject). `None`: staff, never cached.
pub fn caller_class(viewer: &Viewer) -> Option<String> {
    match viewer {
        Viewer::Anonymous => Some("anonymous".to_owned()),
        Viewer::Partner { scopes, .. } => {
            let mut scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
            scopes.sort_unstable();
            scopes.dedup();
            Some(format!("partner:{}", scopes.join(" ")))
        }
        Viewer::Editor { .. } | Viewer::Admin { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_misses_of_one_key_compute_once_and_flights_are_forgotten() {
        let cache = AnswerCache::<()>::new(ResponseCacheConfig::default());
        let key = [7u8; 32];
        let Flight::Leader(guard) = cache.flight(&key) else {
            panic!("the first miss computes the answer");
        };
        let Flight::Follower(running) = cache.flight(&key) else {
            panic!("a second miss of the same key waits for the first");
        };
        assert!(matches!(cache.flight(&[8u8; 32]), Flight::Leader(_)));
        assert!(
            running.try_lock().is_err(),
            "followers wait while it computes"
        );
        drop(Landing::new(&cache, key, guard));
        assert!(
            running.try_lock().is_ok(),
            "landing lets the followers go on"
        );
        assert!(
            matches!(cache.flight(&key), Flight::Leader(_)),
            "a later miss starts a flight of its own"
        );
    }

    #[test]
    fn flights_are_bounded() {
        let cache = AnswerCache::<()>::new(ResponseCacheConfig::default());
        let mut leaders = Vec::new();
        for n in 0..MAX_IN_FLIGHT {
            let key: Key = std::array::from_fn(|i| (n >> (8 * (i % 4))) as u8);
            match cache.flight(&key) {
                Flight::Leader(guard) => leaders.push(guard),
                _ => panic!("key {n} is new"),
            }
        }
        assert!(matches!(cache.flight(&[0xff; 32]), Flight::Alone));
        leaders.clear();
        assert!(matches!(cache.flight(&[0xff; 32]), Flight::Leader(_)));
    }

    fn entry(weight: usize) -> Entry<()> {
        Entry {
            value: (),
            freshness: Freshness {
                generation: 0,
                until: None,
                window_until: None,
            },
            expires: None,
            until: None,
            weight,
        }
    }

    #[test]
    fn the_byte_bound_holds_and_the_least_recently_used_go_first() {
        let cache = AnswerCache::<()>::new(ResponseCacheConfig {
            max_bytes: 1000,
            max_entry_bytes: 400,
        });
        let fresh = Freshness {
            generation: 0,
            until: None,
            window_until: None,
        };
        let now = chrono::Utc::now();
        for i in 0..10u8 {
            cache.put([i; 32], entry(300));
            // Key 0 is used again each time: it stays.
            assert!(cache.get(&[0; 32], &fresh, now).is_some());
            assert!(cache.bytes() <= 1000);
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&[9; 32], &fresh, now).is_some());
        assert!(cache.get(&[1; 32], &fresh, now).is_none());
        // Too large for one entry: not kept.
        cache.put([42; 32], entry(401));
        assert!(cache.get(&[42; 32], &fresh, now).is_none());
    }

    #[test]
    fn an_entry_of_an_older_generation_or_past_its_instant_is_not_served() {
        let cache = AnswerCache::<()>::new(ResponseCacheConfig::default());
        let now = chrono::Utc::now();
        let mut stamped = entry(10);
        stamped.freshness = Freshness {
            generation: 1,
            until: Some(now + chrono::Duration::seconds(1)),
            window_until: None,
        };
        cache.put([1; 32], stamped);
        let same = Freshness {
            generation: 1,
            until: None,
            window_until: None,
        };
        assert!(cache.get(&[1; 32], &same, now).is_some());
        assert!(
            cache
                .get(&[1; 32], &same, now + chrono::Duration::seconds(1))
                .is_none()
        );
        assert!(cache.is_empty(), "an invalid entry is dropped");
        let mut stamped = entry(10);
        stamped.freshness.generation = 1;
        cache.put([2; 32], stamped);
        let moved = Freshness {
            generation: 2,
            ..same
        };
        assert!(cache.get(&[2; 32], &moved, now).is_none());
    }

    #[test]
    fn partners_are_keyed_by_their_scopes_and_staff_not_at_all() {
        let partner = |sub: &str, scopes: &[&str]| Viewer::Partner {
            sub: sub.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        assert_eq!(
            caller_class(&partner("a", &["x", "syndication"])),
            caller_class(&partner("b", &["syndication", "x"]))
        );
        assert_ne!(
            caller_class(&partner("a", &["syndication"])),
            caller_class(&partner("a", &[]))
        );
        assert_ne!(
            caller_class(&Viewer::Anonymous),
            caller_class(&partner("a", &[]))
        );
        assert!(
            caller_class(&Viewer::Editor {
                sub: "e".to_owned()
            })
            .is_none()
        );
    }
}
