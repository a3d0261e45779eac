//! Persisted queries, per Apollo's automatic persisted query (APQ) protocol: a client sends
//! `extensions.persistedQuery = {version: 1, sha256Hash}` instead of the document; the first time
//! the server answers `PERSISTED_QUERY_NOT_FOUND`, the client sends both once, and from then on
//! a short GET URL that a CDN can cache.
//!
//! Optionally only persisted queries are accepted from the public: anonymous callers and
//! partners may then run only the operations of a manifest the frontends ship (Apollo's
//! `apollo-persisted-query-manifest` JSON, or a plain `{ "<sha256>": "<query>" }` object), and
//! cannot register new ones. Staff tokens (GraphiQL, editorial tools) may always send documents.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use serde::Deserialize;
use sha2::Digest as _;

/// What a request's `extensions.persistedQuery` asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    /// Queries remembered from clients (least recently used go first).
    pub cache_capacity: usize,
    /// The frontends' operations, by hash, from a manifest file.
    pub manifest: HashMap<String, String>,
    /// Accept only operations of the manifest from anonymous callers and partners.
    pub only_persisted: bool,
}

impl Default for PersistedQueryConfig {
    fn default() -> Self {
        Self {
            cache_capacity: 10_000,
            manifest: HashMap::new(),
            only_persisted: false,
        }
    }
}

/// The known persisted queries: the manifest, and what clients registered (per process; a
/// client that meets another process simply registers again, as the protocol intends).
#[derive(Debug)]
pub struct PersistedQueries {
    manifest: HashMap<String, Arc<str>>,
    registered: Mutex<LruCache<String, Arc<str>>>,
    only_persisted: bool,
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
            registered: Mutex::new(LruCache::new(
                NonZeroUsize::new(config.cache_capacity).unwrap_or(NonZeroUsize::MIN),
            )),
            only_persisted: config.only_persisted,
        }
    }

    /// Whether only persisted queries are accepted from the public.
    pub fn only_persisted(&self) -> bool {
        self.only_persisted
    }

    /// The document to run for a request carrying `query` and/or `extension`. `trusted`
    /// callers (staff) may send any document even when only persisted queries are accepted.
    pub fn resolve(
        &self,
        query: Option<&str>,
        extension: Option<&PersistedQueryExtension>,
        trusted: bool,
    ) -> Result<Option<Arc<str>>, PersistedQueryError> {
        let restricted = self.only_persisted && !trusted;
        let Some(extension) = extension else {
            return match query {
                Some(_) if restricted => Err(PersistedQueryError::IdRequired),
                Some(query) => Ok(Some(Arc::from(query))),
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
                if let Some(known) = self.manifest.get(&hash) {
                    return Ok(Some(known.clone()));
                }
                if restricted {
                    return Err(PersistedQueryError::NotInList);
                }
                let query: Arc<str> = Arc::from(query);
                self.lock().put(hash, query.clone());
                Ok(Some(query))
            }
            None => {
                let found = match self.manifest.get(&hash) {
                    Some(known) => Some(known.clone()),
                    None if restricted => None,
                    None => self.lock().get(&hash).cloned(),
                };
                crate::metrics::cache_lookup("persisted_query", found.is_some());
                found.map(Some).ok_or(PersistedQueryError::NotFound)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<str>>> {
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

/// Reads a manifest: Apollo's `{"format": "apollo-persisted-query-manifest", "operations":
/// [{"id", "body", …}]}` or a plain `{"<sha256>": "<query>"}` object. Every id must be the
/// SHA-256 of its body.
pub fn parse_manifest(json: &str) -> Result<HashMap<String, String>, String> {
    #[derive(Deserialize)]
    struct Operation {
        id: String,
        body: String,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Manifest {
        Apollo { operations: Vec<Operation> },
        Plain(HashMap<String, String>),
    }
    let manifest: Manifest =
        serde_json::from_str(json).map_err(|e| format!("not a persisted query manifest: {e}"))?;
    let entries: Vec<(String, String)> = match manifest {
        Manifest::Apollo { operations } => operations.into_iter().map(|o| (o.id, o.body)).collect(),
        Manifest::Plain(map) => map.into_iter().collect(),
    };
    entries
        .into_iter()
        .map(|(id, body)| {
            let id = id.to_ascii_lowercase();
            if sha256_hex(&body) == id {
                Ok((id, body))
            } else {
                Err(format!(
                    "manifest entry {id} is not the SHA-256 of its body"
                ))
            }
        })
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
        assert_eq!(
            store
                .resolve(Some(QUERY), Some(&ext(&hash)), false)
                .unwrap()
                .as_deref(),
            Some(QUERY)
        );
        assert_eq!(
            store
                .resolve(None, Some(&ext(&hash)), false)
                .unwrap()
                .as_deref(),
            Some(QUERY)
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
        let manifest = parse_manifest(&format!(
            r#"{{"format":"apollo-persisted-query-manifest","version":1,
                "operations":[{{"id":"{}","name":"Latest","type":"query","body":{}}}]}}"#,
            sha256_hex(QUERY),
            serde_json::to_string(QUERY).unwrap()
        ))
        .unwrap();
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

    #[test]
    fn a_manifest_with_a_wrong_id_is_refused() {
        assert!(
            parse_manifest(
                r#"{"0000000000000000000000000000000000000000000000000000000000000000": "{ a }"}"#
            )
            .is_err()
        );
        assert!(parse_manifest("[1, 2]").is_err());
    }
}
