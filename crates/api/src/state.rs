//! Shared application state: built once, cloned cheaply into every handler.

use std::sync::Arc;

use gazette_persistence::Store;

use crate::Authenticator;
use crate::views::{Views, ViewsConfig};

/// Settings of the HTTP surface.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Deepest GraphQL selection accepted.
    pub max_query_depth: usize,
    /// Highest GraphQL complexity accepted (list fields cost per item asked).
    pub max_query_complexity: usize,
    /// Accept JSON arrays of GraphQL operations in one POST.
    pub allow_batching: bool,
    /// View counting and trending.
    pub views: ViewsConfig,
    /// How long a related-articles list is reused.
    pub related_cache_ttl: std::time::Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            max_query_depth: 12,
            max_query_complexity: 20_000,
            allow_batching: false,
            views: ViewsConfig::default(),
            related_cache_ttl: std::time::Duration::from_secs(30),
        }
    }
}

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    config: ApiConfig,
    auth: Authenticator,
    views: Views,
    related: crate::related::Related,
}

impl AppState {
    /// Wraps the store, configuration and token verifier.
    pub fn new(store: Store, config: ApiConfig, auth: Authenticator) -> Self {
        Self {
            inner: Arc::new(Inner {
                views: Views::new(store.clone(), config.views.clone()),
                related: crate::related::Related::new(store.clone(), config.related_cache_ttl),
                store,
                config,
                auth,
            }),
        }
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// HTTP settings.
    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// View counting and trending.
    pub fn views(&self) -> &Views {
        &self.inner.views
    }

    /// Related-article lists.
    pub fn related(&self) -> &crate::related::Related {
        &self.inner.related
    }

    /// Bearer-token and preview-token verification.
    pub fn auth(&self) -> &Authenticator {
        &self.inner.auth
    }
}
