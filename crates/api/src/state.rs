//! Shared application state: built once, cloned cheaply into every handler.

use std::sync::Arc;

use gazette_persistence::Store;

pub use gazette_app::feeds::FeedsConfig;
use gazette_app::{App, Clock, SystemClock, Views, ViewsConfig};

use crate::Authenticator;

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
    /// Bounds on GraphQL documents and batches; introspection and GraphiQL switches.
    pub graphql: GraphqlLimits,
    /// View counting and trending.
    pub views: ViewsConfig,
    /// How long a related-articles list is reused.
    pub related_cache_ttl: std::time::Duration,
    /// Caching headers of public responses.
    pub cache: crate::http::cache::CachePolicy,
    /// Per-client request budgets.
    pub rate_limits: crate::http::limits::RateLimitConfig,
    /// Automatic persisted queries and the public safelist.
    pub persisted_queries: crate::persisted::PersistedQueryConfig,
    /// Origins browsers may call from (`*`: any).
    pub cors_origins: Vec<String>,
    /// Proxies in front whose `X-Forwarded-For` entries are trusted for the client address.
    pub trusted_proxy_hops: usize,
    /// What feeds and the news sitemap say about the publication.
    pub feeds: FeedsConfig,
    /// Every request's deadline and database pool share.
    pub request_bounds: crate::http::bounds::RequestBounds,
    /// Serve the reference front page of `examples/web/` at `/`.
    pub web_example: bool,
    /// The public response cache's bounds.
    pub response_cache: crate::http::response_cache::ResponseCacheConfig,
    /// Live streams' bounds.
    pub live: gazette_app::live::LiveConfig,
    /// Partner webhooks' bounds and policies.
    pub webhooks: gazette_app::webhooks::WebhookConfig,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            max_query_depth: 12,
            max_query_complexity: 20_000,
            allow_batching: false,
            graphql: GraphqlLimits::default(),
            views: ViewsConfig::default(),
            related_cache_ttl: std::time::Duration::from_secs(30),
            cache: crate::http::cache::CachePolicy::default(),
            rate_limits: crate::http::limits::RateLimitConfig::default(),
            persisted_queries: crate::persisted::PersistedQueryConfig::default(),
            cors_origins: vec!["*".to_owned()],
            trusted_proxy_hops: 0,
            feeds: FeedsConfig::default(),
            request_bounds: crate::http::bounds::RequestBounds::default(),
            web_example: false,
            response_cache: crate::http::response_cache::ResponseCacheConfig::default(),
            live: gazette_app::live::LiveConfig::default(),
            webhooks: gazette_app::webhooks::WebhookConfig::default(),
        }
    }
}

impl ApiConfig {
    /// The bounds every GraphQL document is measured against before it is validated.
    pub fn document_limits(&self) -> crate::graphql::DocumentLimits {
        crate::graphql::DocumentLimits {
            max_bytes: self.graphql.max_bytes,
            max_tokens: self.graphql.max_tokens,
            max_fields: self.graphql.max_fields,
            max_aliases: self.graphql.max_aliases,
            max_depth: self.max_query_depth,
            max_directives: self.graphql.max_directives,
            introspection: self.graphql.introspection,
        }
    }
}

/// Bounds on GraphQL documents and batches, and the introspection and GraphiQL switches
/// (depth, cost and batching itself are [`ApiConfig`]'s older settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphqlLimits {
    /// Bytes of a document's text.
    pub max_bytes: usize,
    /// Lexical tokens in a document.
    pub max_tokens: usize,
    /// Selections reached once fragments are expanded.
    pub max_fields: usize,
    /// Aliases in an operation (`__typename` is free).
    pub max_aliases: usize,
    /// Directives in an operation.
    pub max_directives: usize,
    /// Operations in one batch.
    pub max_batch_operations: usize,
    /// Cost of all the operations of one batch together.
    pub max_batch_cost: usize,
    /// Answer `__schema` and `__type`.
    pub introspection: bool,
    /// Serve GraphiQL to browsers at `GET /graphql`.
    pub graphiql: bool,
}

impl Default for GraphqlLimits {
    fn default() -> Self {
        let document = crate::graphql::DocumentLimits::default();
        Self {
            max_bytes: document.max_bytes,
            max_tokens: document.max_tokens,
            max_fields: document.max_fields,
            max_aliases: document.max_aliases,
            max_directives: document.max_directives,
            max_batch_operations: 10,
            max_batch_cost: 20_000,
            introspection: true,
            graphiql: true,
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
    app: App,
    config: ApiConfig,
    auth: Authenticator,
    rate_limits: crate::http::limits::RateLimits,
    persisted_queries: crate::persisted::PersistedQueries,
    response_cache: crate::http::response_cache::ResponseCache,
    live: gazette_app::live::Live,
    webhooks: gazette_app::webhooks::Webhooks,
}

impl AppState {
    /// Wraps the store, configuration and token verifier, on the system's clock.
    pub fn new(store: Store, config: ApiConfig, auth: Authenticator) -> Self {
        Self::with_clock(store, config, auth, Arc::new(SystemClock))
    }

    /// As [`AppState::new`], with `now` read from `clock` (tests move it).
    pub fn with_clock(
        store: Store,
        config: ApiConfig,
        auth: Authenticator,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let app = App::new(store, config.views.clone(), config.related_cache_ttl, clock);
        Self {
            inner: Arc::new(Inner {
                live: gazette_app::live::Live::new(app.clone(), config.live),
                webhooks: gazette_app::webhooks::Webhooks::new(
                    app.clone(),
                    config.webhooks.clone(),
                ),
                app,
                rate_limits: crate::http::limits::RateLimits::new(&config.rate_limits),
                persisted_queries: crate::persisted::PersistedQueries::new(
                    config.persisted_queries.clone(),
                ),
                response_cache: crate::http::response_cache::ResponseCache::new(
                    config.response_cache,
                ),
                config,
                auth,
            }),
        }
    }

    /// The use cases every surface calls.
    pub fn app(&self) -> &App {
        &self.inner.app
    }

    /// The database.
    pub fn store(&self) -> &Store {
        self.inner.app.store()
    }

    /// The request's instant, from the application's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.app.now()
    }

    /// Live streams (the GraphQL subscription and `GET /v1/live`).
    pub fn live(&self) -> &gazette_app::live::Live {
        &self.inner.live
    }

    /// Partner webhooks.
    pub fn webhooks(&self) -> &gazette_app::webhooks::Webhooks {
        &self.inner.webhooks
    }

    /// The public response cache.
    pub fn response_cache(&self) -> &crate::http::response_cache::ResponseCache {
        &self.inner.response_cache
    }

    /// HTTP settings.
    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// View counting and trending.
    pub fn views(&self) -> &Views {
        self.inner.app.views()
    }

    /// Per-client request budgets.
    pub fn rate_limits(&self) -> &crate::http::limits::RateLimits {
        &self.inner.rate_limits
    }

    /// Known persisted queries.
    pub fn persisted_queries(&self) -> &crate::persisted::PersistedQueries {
        &self.inner.persisted_queries
    }

    /// Bearer-token and preview-token verification.
    pub fn auth(&self) -> &Authenticator {
        &self.inner.auth
    }
}
