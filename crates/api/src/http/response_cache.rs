//! The public response cache: finished answers to anonymous and partner reads, kept in memory
//! and served again without running the handler, recomputing the ETag or compressing again.
//!
//! It sits between the rate-limit layer (a hit still counts against the caller's budget) and
//! the [`caching`](super::cache::caching) layer, and stores what that layer produced: status,
//! headers (ETag, `Cache-Control`, `Vary`, `Surrogate-Key`, content encoding) and body bytes.
//!
//! **What is looked up.** `GET` of any route and `POST /graphql`, from anonymous callers and
//! partners (a partner's answers are keyed by its sorted scope set: no answer shows a
//! partner's token subject). Staff callers, callers whose token does not verify, and every
//! other method pass straight through.
//!
//! **Key.** A SHA-256 over: the method, the path and query as sent, the caller's class, the
//! request headers an answer depends on (`Accept`, `Accept-Encoding`, and for POST
//! `Content-Type`), and for POST the JSON body re-serialised canonically (object keys sorted,
//! whitespace outside strings dropped), so `{"query":…,"variables":…}` and the same fields in
//! another order or layout share an entry. The query text itself is kept as sent.
//!
//! **What is stored.** Only `200` answers the caching layer let be stored (its `Storability`
//! is public or private: never a staff answer, never one marked
//! [`CacheTags::never_store`](super::cache::CacheTags::never_store), like a preview), without
//! `Cache-Control: no-store`, and for GraphQL only query answers without errors
//! ([`GraphqlAnswer`]). A body larger than the entry bound is sent on, not stored.
//!
//! **Freshness.** Each entry carries the [`Freshness`] seen before its answer was computed: it
//! is served only while the application's content generation is unchanged (every write moves
//! it; on PostgreSQL so does every other process's write, through `LISTEN`) and until the next
//! scheduled publication or embargo lift. Answers showing trending (`list:trending`) end with
//! the trending cache interval they were computed in; the news sitemap's at most until its
//! oldest story leaves the two-day window. While the cross-process listener is down nothing is
//! served from here.
//!
//! **Bound.** Total bytes (key, headers, body and a fixed overhead per entry), least recently
//! used forgotten first; `x-cache: hit` or `x-cache: miss` tells which it was.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use gazette_app::Freshness;
use gazette_domain::Viewer;
use lru::LruCache;
use sha2::Digest as _;

use super::HttpState;
use super::cache::{Buffered, CacheTags, buffer_up_to, etag_matches, not_modified};

/// `x-cache`: whether the answer came from the response cache.
pub const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// Bytes every entry is charged on top of its key, headers and body (the map's node, the
/// entry's fields).
const ENTRY_OVERHEAD: usize = 256;

/// Most answers being computed at once that other requests for the same key wait for; past
/// it, a miss is computed without waiting for anyone.
const MAX_IN_FLIGHT: usize = 4096;
/// Longest a request waits for another request computing the same answer before computing it
/// itself.
const FLIGHT_WAIT: Duration = Duration::from_secs(1);

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

/// A GraphQL answer that may be kept: a query (not a mutation) answered without errors. The
/// GraphQL handler marks its responses with it; other GraphQL answers are never stored.
#[derive(Debug, Clone, Copy)]
pub struct GraphqlAnswer;

/// One stored answer.
#[derive(Debug)]
struct Entry {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    freshness: Freshness,
    /// Monotonic end of life (trending answers), if any.
    expires: Option<Instant>,
    /// End of life on the application's clock besides `freshness.until` (the news sitemap).
    until: Option<chrono::DateTime<chrono::Utc>>,
    weight: usize,
}

impl Entry {
    fn valid(&self, current: &Freshness, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.freshness.still_valid(current, now)
            && self.until.is_none_or(|until| now < until)
            && self.expires.is_none_or(|at| Instant::now() < at)
    }

    fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

type Key = [u8; 32];

struct Stored {
    entries: LruCache<Key, Arc<Entry>>,
    bytes: usize,
}

/// The cache: a byte-bounded LRU map from request keys to finished answers. Cheap to share.
pub struct ResponseCache {
    config: ResponseCacheConfig,
    stored: Mutex<Stored>,
    /// Keys being computed now, so that concurrent misses of one key compute it once.
    in_flight: Mutex<HashMap<Key, Weak<tokio::sync::Mutex<()>>>>,
}

/// A miss's part in computing its answer.
enum Flight {
    /// This request computes it; requests for the same key wait until this guard is dropped.
    Leader(tokio::sync::OwnedMutexGuard<()>),
    /// Another request is computing it: wait for that one, then look again.
    Follower(Arc<tokio::sync::Mutex<()>>),
    /// Too many answers in flight: computed without coordinating.
    Alone,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stored = self.lock();
        f.debug_struct("ResponseCache")
            .field("config", &self.config)
            .field("entries", &stored.entries.len())
            .field("bytes", &stored.bytes)
            .finish()
    }
}

impl ResponseCache {
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

    /// Joins the computation of `key`'s answer, or starts it.
    fn flight(&self, key: &Key) -> Flight {
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Stored> {
        self.stored.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entry under `key` if it is still valid; an invalid one is dropped.
    fn get(
        &self,
        key: &Key,
        current: &Freshness,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<Arc<Entry>> {
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
    fn put(&self, key: Key, entry: Entry) {
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

/// The layer (see the module docs).
pub async fn response_cache(
    State(http): State<HttpState>,
    request: Request,
    next: Next,
) -> Response {
    let cache = http.app.response_cache();
    let method = request.method().clone();
    let graphql = request.uri().path() == "/graphql";
    let graphql_post = method == Method::POST && graphql;
    if !cache.enabled() || !(method == Method::GET || graphql_post) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(viewer) = super::caller::Authenticated::of(&parts, &http) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let Some(class) = caller_class(&viewer) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    // A POST body is read (within the body limit) to be part of the key, then handed on.
    let (body, canonical) = if graphql_post {
        match buffer_up_to(body, http.app.config().max_body_bytes).await {
            Ok(Buffered::Whole(bytes)) => {
                let canonical = canonical_json(&bytes);
                (Body::from(bytes), canonical)
            }
            Ok(Buffered::TooLarge(body)) => (body, None),
            // The client went away mid-body: the handler reports it.
            Err(_) => (Body::empty(), None),
        }
    } else {
        (body, Some(Vec::new()))
    };
    let request = Request::from_parts(parts, body);
    // A body that is not JSON (or too large) is the handler's to refuse; nothing to keep.
    let Some(canonical) = canonical else {
        return next.run(request).await;
    };
    let now = http.app.now();
    let freshness = match http.app.app().freshness(now).await {
        Ok(Some(freshness)) => freshness,
        // Not trusted now (the listener is away) or storage failed: computed, not kept.
        Ok(None) | Err(_) => return next.run(request).await,
    };
    let key = key_of(&request, &class, &canonical);
    if let Some(entry) = cache.get(&key, &freshness, now) {
        return hit(&entry, request.headers());
    }
    // Concurrent misses of one key compute it once: the others wait (bounded) for the first,
    // then serve what it kept, or compute it themselves when it kept nothing.
    let _leader = match cache.flight(&key) {
        Flight::Leader(guard) => Some(Landing(cache, key, guard)),
        Flight::Follower(running) => {
            let _ = tokio::time::timeout(FLIGHT_WAIT, running.lock()).await;
            if let Some(entry) = cache.get(&key, &freshness, now) {
                return hit(&entry, request.headers());
            }
            None
        }
        Flight::Alone => None,
    };
    crate::metrics::cache_lookup("response", false);
    let path_is_sitemap = request.uri().path() == "/sitemap-news.xml";
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(X_CACHE, HeaderValue::from_static("miss"));
    let Some(expires) = storable(&http, &response, graphql) else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let bytes = match buffer_up_to(body, cache.config.max_entry_bytes).await {
        Ok(Buffered::Whole(bytes)) => bytes,
        Ok(Buffered::TooLarge(body)) => return Response::from_parts(parts, body),
        Err(error) => {
            use axum::response::IntoResponse as _;
            return crate::ApiError::internal(&error).into_response();
        }
    };
    let mut headers = parts.headers.clone();
    headers.remove(X_CACHE);
    let weight = ENTRY_OVERHEAD
        + key.len()
        + bytes.len()
        + headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum::<usize>();
    let until = if path_is_sitemap {
        freshness.window_until
    } else {
        None
    };
    cache.put(
        key,
        Entry {
            status: parts.status,
            headers,
            body: bytes.clone(),
            freshness,
            expires,
            until,
            weight,
        },
    );
    Response::from_parts(parts, Body::from(bytes))
}

/// A stored answer served: `304` when the request's `If-None-Match` names its ETag.
fn hit(entry: &Entry, request_headers: &HeaderMap) -> Response {
    crate::metrics::cache_lookup("response", true);
    let mut response = match request_headers.get(header::IF_NONE_MATCH) {
        Some(candidates)
            if entry
                .headers
                .get(header::ETAG)
                .is_some_and(|etag| etag_matches(candidates, etag)) =>
        {
            not_modified(&entry.response())
        }
        _ => entry.response(),
    };
    response
        .headers_mut()
        .insert(X_CACHE, HeaderValue::from_static("hit"));
    response
}

/// The first miss of a key, computing its answer: when dropped (kept or not, or the request
/// abandoned), the requests waiting for it go on and the flight is forgotten.
struct Landing<'a>(&'a ResponseCache, Key, tokio::sync::OwnedMutexGuard<()>);

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.0
            .landed(&self.1, tokio::sync::OwnedMutexGuard::mutex(&self.2));
    }
}

/// Whose answers a request may share: every anonymous caller's, or every partner's with the
/// same scopes (no answer shows a partner's subject). `None`: staff, never cached.
fn caller_class(viewer: &Viewer) -> Option<String> {
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

/// The request's key (see the module docs). Every part is length-prefixed, so no two
/// different requests run together into the same bytes.
fn key_of(request: &Request, class: &str, canonical_body: &[u8]) -> Key {
    let mut hasher = sha2::Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    part(request.method().as_str().as_bytes());
    part(
        request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .as_bytes(),
    );
    part(class.as_bytes());
    for name in [
        header::ACCEPT,
        header::ACCEPT_ENCODING,
        header::CONTENT_TYPE,
    ] {
        for value in request.headers().get_all(&name) {
            part(value.as_bytes());
        }
        part(b"\0");
    }
    part(canonical_body);
    hasher.finalize().into()
}

/// The JSON `body` re-serialised with every object's keys sorted and no insignificant
/// whitespace; `None` when it is not JSON.
fn canonical_json(body: &[u8]) -> Option<Vec<u8>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut out = Vec::with_capacity(body.len());
    write_canonical(&value, &mut out);
    Some(out)
}

fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (name, field)) in fields.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Serialising a string cannot fail.
                let _ = serde_json::to_writer(&mut *out, name);
                out.push(b':');
                write_canonical(field, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

/// Whether `response` may be kept, and until when at most on the monotonic clock: a 200 the
/// caching layer let be stored (it carries the handler's [`CacheTags`], not marked
/// never-store), not `no-store`, and from `/graphql` (GET or POST) a query answer without
/// errors; one showing trending only until the end of trending's cache interval (not at all
/// when trending is not cached).
fn storable(http: &HttpState, response: &Response, graphql: bool) -> Option<Option<Instant>> {
    if response.status() != StatusCode::OK {
        return None;
    }
    if graphql && response.extensions().get::<GraphqlAnswer>().is_none() {
        return None;
    }
    let tags = response.extensions().get::<CacheTags>()?;
    if tags.is_never_store() {
        return None;
    }
    let no_store = response
        .headers()
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|directive| directive.trim().eq_ignore_ascii_case("no-store"));
    if no_store {
        return None;
    }
    if tags.iter().any(|tag| tag == "list:trending") {
        // Forgotten with the trending lists it shows, at the end of their interval.
        return http.app.views().trending_interval_end().map(Some);
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_drops_layout() {
        let a = canonical_json(br#"{ "variables": {"b": 1, "a": [1, 2]}, "query": "{ x }" }"#);
        let b = canonical_json(br#"{"query":"{ x }","variables":{"a":[1,2],"b":1}}"#);
        assert_eq!(a, b);
        assert_eq!(
            a.unwrap(),
            br#"{"query":"{ x }","variables":{"a":[1,2],"b":1}}"#.to_vec()
        );
        assert!(canonical_json(b"not json").is_none());
    }

    #[test]
    fn concurrent_misses_of_one_key_compute_once_and_flights_are_forgotten() {
        let cache = ResponseCache::new(ResponseCacheConfig::default());
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
        drop(Landing(&cache, key, guard));
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
        let cache = ResponseCache::new(ResponseCacheConfig::default());
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

    fn entry(weight: usize) -> Entry {
        Entry {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::new(),
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
        let cache = ResponseCache::new(ResponseCacheConfig {
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
        let cache = ResponseCache::new(ResponseCacheConfig::default());
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
