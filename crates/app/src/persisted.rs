//! The persisted-query registry, per Apollo's automatic persisted query (APQ) protocol: a client sends
//! `extensions.persistedQuery = {version: 1, sha256Hash}` instead of the document; the first time
//! the server answers `PERSISTED_QUERY_NOT_FOUND`, the client sends both once, and from then on
//! a short GET URL that a CDN can cache.
//!
//! A document sent with its hash is registered only once it has parsed and validated (the
//! caller calls [`PersistedQueries::register`] then). The registry lives in the database
//! (`persisted_queries`), so a hash registered with one node runs on every node sharing it;
//! it is bounded in rows (`max_queries`, the least recently used others go when a new one
//! would pass it) and each document by the document byte bound, so garbage cannot fill it.
//! Each process keeps a read-through cache in front of it, bounded in bytes, least recently
//! used first out: a hash it serves often costs no statement.
//!
//! Optionally only persisted queries are accepted from the public: anonymous callers and
//! partners may then run only the operations of a manifest the frontends ship (Apollo's
//! `apollo-persisted-query-manifest` JSON, or a plain `{ "<sha256>": "<query>" }` object), and
//! cannot register new ones (the database registry is not consulted for them). Staff tokens
//! (GraphiQL, editorial tools) may always send documents.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gazette_persistence::{Store, StoreError};

use lru::LruCache;
use sha2::Digest as _;

/// What a request's `extensions.persistedQuery` asks for (the wire shape is the adapter's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistedQueryExtension {
    /// Protocol version; only 1 exists.
    pub version: i64,
    /// Lower-case hex SHA-256 of the query document.
    pub sha256_hash: String,
}

/// Why a persisted-query request cannot run, each with the code the Apollo protocol uses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersistedQueryError {
    /// The hash is not known here: send the query with it once.
    #[error("PersistedQueryNotFound")]
    NotFound,
    /// The query does not hash to the hash sent with it.
    #[error("provided sha does not match query")]
    HashMismatch,
    /// Not a SHA-256 in hex.
    #[error("`sha256Hash` must be 64 hexadecimal characters")]
    MalformedHash,
    /// A protocol version other than 1.
    #[error("unsupported persisted query version {0}; only version 1 exists")]
    UnsupportedVersion(i64),
    /// Only persisted queries are accepted, and this document is not one of them.
    #[error("only persisted queries are accepted; this operation is not in the list")]
    NotInList,
    /// Only persisted queries are accepted, and the request sent a document without its hash.
    #[error("only persisted queries are accepted; send `extensions.persistedQuery`")]
    IdRequired,
}

impl PersistedQueryError {
    /// The `extensions.code` of the error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::HashMismatch => "PERSISTED_QUERY_HASH_MISMATCH",
            Self::MalformedHash => "BAD_REQUEST",
            Self::UnsupportedVersion(_) => "PERSISTED_QUERY_NOT_SUPPORTED",
            Self::NotInList => "PERSISTED_QUERY_NOT_IN_LIST",
            Self::IdRequired => "PERSISTED_QUERY_ID_REQUIRED",
        }
    }
}

/// Settings of [`PersistedQueries`].
#[derive(Debug, Clone)]
pub struct PersistedQueryConfig {
    /// Bytes of registered queries each process keeps in memory (least recently used go
    /// first).
    pub cache_bytes: usize,
    /// Queries the shared registry (the database) holds at most; registering one more removes
    /// the least recently used.
    pub max_queries: u64,
    /// The frontends' operations, by hash, from a manifest file.
    pub manifest: HashMap<String, String>,
    /// Accept only operations of the manifest from anonymous callers and partners.
    pub only_persisted: bool,
}

impl Default for PersistedQueryConfig {
    fn default() -> Self {
        Self {
            cache_bytes: 8 * 1024 * 1024,
            max_queries: 10_000,
            manifest: HashMap::new(),
            only_persisted: false,
        }
    }
}

/// How often a node serving a query from memory marks it used in the database, so a query in
/// steady use is never the least recently used there.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// The known persisted queries: the manifest, and what clients registered (in the database,
/// with this process's bounded cache in front).
#[derive(Debug)]
pub struct PersistedQueries {
    manifest: HashMap<String, Arc<str>>,
    registered: Mutex<Registered>,
    only_persisted: bool,
    max_queries: u64,
}

/// Registered queries this process has seen, by hash, with the bytes they hold.
#[derive(Debug)]
struct Registered {
    queries: LruCache<String, Cached>,
    bytes: usize,
    capacity_bytes: usize,
}

/// One cached query, and when this process last marked it used in the database.
#[derive(Debug)]
struct Cached {
    query: Arc<str>,
    touched: Instant,
}

/// What one registered query is charged: its text, its hash and the map's bookkeeping.
fn charged_bytes(query: &str) -> usize {
    query.len() + 64 + 128
}

impl Registered {
    fn insert(&mut self, hash: String, query: Arc<str>) {
        let size = charged_bytes(&query);
        if size > self.capacity_bytes || self.queries.get(&hash).is_some() {
            return;
        }
        while self.bytes + size > self.capacity_bytes {
            let Some((_, evicted)) = self.queries.pop_lru() else {
                break;
            };
            self.bytes -= charged_bytes(&evicted.query);
        }
        self.queries.put(
            hash,
            Cached {
                query,
                touched: Instant::now(),
            },
        );
        self.bytes += size;
    }

    /// The cached query under `hash`, and whether it is time to mark it used in the database.
    fn get(&mut self, hash: &str) -> Option<(Arc<str>, bool)> {
        let cached = self.queries.get_mut(hash)?;
        let touch = cached.touched.elapsed() >= TOUCH_EVERY;
        if touch {
            cached.touched = Instant::now();
        }
        Some((cached.query.clone(), touch))
    }
}

/// Why a persisted query cannot be resolved: the protocol's refusal, or the registry's
/// database failing.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The protocol's answer.
    #[error(transparent)]
    Refused(#[from] PersistedQueryError),
    /// The registry could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The document a request runs, and the hash to remember it under once it has validated (a
/// document sent with its hash that is not known yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The document.
    pub query: Arc<str>,
    /// Remember `query` under this hash once it has validated.
    pub register: Option<String>,
    /// Found in this process's cache, which has not marked it used in the database lately:
    /// mark it (see [`PersistedQueries::touch`]).
    pub touch: Option<String>,
}

impl PersistedQueries {
    /// The store for `config`.
    pub fn new(config: PersistedQueryConfig) -> Self {
        Self {
            manifest: config
                .manifest
                .into_iter()
                .map(|(hash, query)| (hash.to_ascii_lowercase(), Arc::from(query)))
                .collect(),
            registered: Mutex::new(Registered {
                queries: LruCache::unbounded(),
                bytes: 0,
                capacity_bytes: config.cache_bytes,
            }),
            only_persisted: config.only_persisted,
            max_queries: config.max_queries.max(1),
        }
    }

    /// Whether only persisted queries are accepted from the public.
    pub fn only_persisted(&self) -> bool {
        self.only_persisted
    }

    /// The document to run for a request carrying `query` and/or `extension`. `trusted`
    /// callers (staff) may send any document even when only persisted queries are accepted.
    /// Nothing is stored here: see [`Resolved::register`].
    pub fn resolve(
        &self,
        query: Option<&str>,
        extension: Option<&PersistedQueryExtension>,
        trusted: bool,
    ) -> Result<Option<Resolved>, PersistedQueryError> {
        let restricted = self.only_persisted && !trusted;
        let known = |query: &Arc<str>| Resolved {
            query: query.clone(),
            register: None,
            touch: None,
        };
        let Some(extension) = extension else {
            return match query {
                Some(_) if restricted => Err(PersistedQueryError::IdRequired),
                Some(query) => Ok(Some(known(&Arc::from(query)))),
                None => Ok(None),
            };
        };
        if extension.version != 1 {
            return Err(PersistedQueryError::UnsupportedVersion(extension.version));
        }
        let hash = extension.sha256_hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(PersistedQueryError::MalformedHash);
        }
        match query {
            Some(query) => {
                if sha256_hex(query) != hash {
                    return Err(PersistedQueryError::HashMismatch);
                }
                if let Some(query) = self.manifest.get(&hash) {
                    return Ok(Some(known(query)));
                }
                if restricted {
                    return Err(PersistedQueryError::NotInList);
                }
                if let Some((query, _)) = self.lock().get(&hash) {
                    return Ok(Some(known(&query)));
                }
                Ok(Some(Resolved {
                    query: Arc::from(query),
                    register: Some(hash),
                    touch: None,
                }))
            }
            None => {
                let found = match self.manifest.get(&hash) {
                    Some(query) => Some(known(query)),
                    None if restricted => None,
                    None => self.lock().get(&hash).map(|(query, touch)| Resolved {
                        touch: touch.then(|| hash.clone()),
                        ..known(&query)
                    }),
                };
                crate::metrics::cache_lookup("persisted_query", found.is_some());
                found.map(Some).ok_or(PersistedQueryError::NotFound)
            }
        }
    }

    /// As [`PersistedQueries::resolve`], and a hash this process does not know is looked up
    /// in the shared registry (the database), then kept in this process's cache. Callers
    /// restricted to the manifest never reach the database.
    pub async fn resolve_shared(
        &self,
        store: &Store,
        now: DateTime<Utc>,
        query: Option<&str>,
        extension: Option<&PersistedQueryExtension>,
        trusted: bool,
    ) -> Result<Option<Resolved>, ResolveError> {
        let resolved = match self.resolve(query, extension, trusted) {
            Err(PersistedQueryError::NotFound) if trusted || !self.only_persisted => {
                let hash = extension
                    .map(|e| e.sha256_hash.to_ascii_lowercase())
                    .unwrap_or_default();
                let stored = store.persisted_query(&hash, now).await?;
                crate::metrics::cache_lookup("persisted_query_registry", stored.is_some());
                // A row that does not hash to its key (written by hand) is not trusted.
                let Some(stored) = stored.filter(|text| sha256_hex(text) == hash) else {
                    return Err(PersistedQueryError::NotFound.into());
                };
                let stored: Arc<str> = Arc::from(stored);
                self.remember(hash, stored.clone());
                Some(Resolved {
                    query: stored,
                    register: None,
                    touch: None,
                })
            }
            other => other?,
        };
        if let Some(hash) = resolved.as_ref().and_then(|r| r.touch.clone()) {
            self.touch(store, hash, now);
        }
        Ok(resolved)
    }

    /// Marks `hash` used in the shared registry, in the background (a failure only costs the
    /// query its place in the least-recently-used order).
    fn touch(&self, store: &Store, hash: String, now: DateTime<Utc>) {
        let store = store.clone();
        tokio::spawn(async move {
            if let Err(error) = store.touch_persisted_query(&hash, now).await {
                tracing::debug!(%error, "persisted query not marked used");
            }
        });
    }

    /// Registers `query` under `hash` (a [`Resolved::register`]) in the shared registry and
    /// this process's cache: call it only once the document has parsed and validated. When
    /// the database cannot take it, this process still remembers it (and the client registers
    /// again with a node that does not).
    pub async fn register(&self, store: &Store, now: DateTime<Utc>, hash: String, query: Arc<str>) {
        match store
            .register_persisted_query(&hash, &query, now, self.max_queries)
            .await
        {
            Ok(done) => {
                if done.evicted > 0 {
                    crate::metrics::persisted_queries_evicted(done.evicted);
                }
            }
            Err(error) => tracing::warn!(%error, "persisted query not registered in the database"),
        }
        self.remember(hash, query);
    }

    /// Keeps `query` under `hash` in this process's cache. The least recently used queries
    /// make room; one larger than the whole budget is not kept.
    pub fn remember(&self, hash: String, query: Arc<str>) {
        self.lock().insert(hash, query);
    }

    /// Bytes the registered queries are charged (for tests and logs).
    pub fn registered_bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registered> {
        self.registered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Lower-case hex SHA-256 of `text`, the persisted query id.
pub fn sha256_hex(text: &str) -> String {
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: &str = "{ articles(first: 1) { edges { node { slug } } } }";

    fn ext(hash: &str) -> PersistedQueryExtension {
        PersistedQueryExtension {
            version: 1,
            sha256_hash: hash.to_owned(),
        }
    }

    #[test]
    fn a_hash_is_found_once_registered() {
        let store = PersistedQueries::new(PersistedQueryConfig::default());
        let hash = sha256_hex(QUERY);
        assert_eq!(
            store.resolve(None, Some(&ext(&hash)), false),
            Err(PersistedQueryError::NotFound)
        );
        let sent = store
            .resolve(Some(QUERY), Some(&ext(&hash)), false)
            .unwrap()
            .unwrap();
        assert_eq!(&*sent.query, QUERY);
        assert_eq!(sent.register.as_deref(), Some(hash.as_str()));
        // Not stored until the caller says the document validated.
        assert_eq!(
            store.resolve(None, Some(&ext(&hash)), false),
            Err(PersistedQueryError::NotFound)
        );
        store.remember(hash.clone(), sent.query);
        let found = store
            .resolve(None, Some(&ext(&hash)), false)
            .unwrap()
            .unwrap();
        assert_eq!(&*found.query, QUERY);
        assert_eq!(found.register, None);
    }

    #[test]
    fn the_registry_is_bounded_in_bytes() {
        let store = PersistedQueries::new(PersistedQueryConfig {
            cache_bytes: 10_000,
            ..PersistedQueryConfig::default()
        });
        for n in 0..100 {
            let query: Arc<str> = Arc::from(format!("{{ a{n} }}{}", " ".repeat(1000)));
            store.remember(sha256_hex(&query), query);
            assert!(store.registered_bytes() <= 10_000);
        }
        // The newest are kept, the oldest went.
        let newest = format!("{{ a99 }}{}", " ".repeat(1000));
        assert!(
            store
                .resolve(None, Some(&ext(&sha256_hex(&newest))), false)
                .is_ok()
        );
        let oldest = format!("{{ a0 }}{}", " ".repeat(1000));
        assert!(
            store
                .resolve(None, Some(&ext(&sha256_hex(&oldest))), false)
                .is_err()
        );
        // One document larger than the whole budget is not kept.
        let huge: Arc<str> = Arc::from(" ".repeat(20_000));
        store.remember(sha256_hex(&huge), huge.clone());
        assert!(
            store
                .resolve(None, Some(&ext(&sha256_hex(&huge))), false)
                .is_err()
        );
    }

    #[test]
    fn a_wrong_hash_or_version_is_refused() {
        let store = PersistedQueries::new(PersistedQueryConfig::default());
        let other = sha256_hex("{ topics { slug } }");
        assert_eq!(
            store.resolve(Some(QUERY), Some(&ext(&other)), false),
            Err(PersistedQueryError::HashMismatch)
        );
        assert_eq!(
            store.resolve(None, Some(&ext("abc")), false),
            Err(PersistedQueryError::MalformedHash)
        );
        let v2 = PersistedQueryExtension {
            version: 2,
            sha256_hash: other,
        };
        assert_eq!(
            store.resolve(None, Some(&v2), false),
            Err(PersistedQueryError::UnsupportedVersion(2))
        );
    }

    #[test]
    fn only_persisted_admits_the_manifest_and_staff() {
        let manifest = HashMap::from([(sha256_hex(QUERY), QUERY.to_owned())]);
        let store = PersistedQueries::new(PersistedQueryConfig {
            manifest,
            only_persisted: true,
            ..PersistedQueryConfig::default()
        });
        let hash = sha256_hex(QUERY);
        assert!(store.resolve(None, Some(&ext(&hash)), false).is_ok());
        assert_eq!(
            store.resolve(Some("{ topics { slug } }"), None, false),
            Err(PersistedQueryError::IdRequired)
        );
        let other = "{ topics { slug } }";
        assert_eq!(
            store.resolve(Some(other), Some(&ext(&sha256_hex(other))), false),
            Err(PersistedQueryError::NotInList)
        );
        assert!(store.resolve(Some(other), None, true).is_ok());
    }
}
