//! Command line and environment: one typed struct, defaults that run out of the box.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use chrono::TimeDelta;
use clap::{Args, Parser, Subcommand, ValueEnum};
use gazette_api::auth::{
    DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_LEEWAY_SECS, JwtAlgorithm, MAX_LEEWAY_SECS, Role,
};
use gazette_api::{ApiConfig, AuthConfig, AuthConfigError, Authenticator, GraphqlLimits};
use gazette_app::ViewsConfig;

/// The HS256 secret [`ServeArgs::for_tests`] configures (tests mint tokens with it).
pub const TEST_JWT_SECRET: &str = "gazette-test-secret-0123456789abcdef-not-for-production";
/// The issuer [`ServeArgs::for_tests`] expects.
pub const TEST_JWT_ISSUER: &str = "gazette-test";
/// The audience [`ServeArgs::for_tests`] expects.
pub const TEST_JWT_AUDIENCE: &str = "gazette-test-api";

/// Gazette: a headless news content API (GraphQL and JSON).
#[derive(Debug, Parser)]
#[command(
    name = "gazette",
    version,
    about = "Gazette: a headless news content API (GraphQL and JSON).",
    long_about = "Gazette: a headless news content API (GraphQL and JSON).\n\n\
        Every flag can also be set by the environment variable shown with it. With no \
        configuration, `gazette serve` creates and migrates ./gazette.db (SQLite) and listens on \
        127.0.0.1:8080; set DATABASE_URL=postgres://… to use PostgreSQL."
)]
pub struct Cli {
    /// Log filter and format.
    #[command(flatten)]
    pub logging: crate::ops::LogArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once at start; boxing would only complicate the clap derive"
)]
pub enum Command {
    /// Serve the API (migrates the database first).
    Serve(ServeArgs),
    /// Bring the database schema up to date and exit.
    Migrate(DatabaseArgs),
    /// Load the sample content (idempotent: running it twice adds nothing).
    Seed(SeedArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Mint an HS256 bearer token with the configured secret, issuer and audience.
    Token(TokenArgs),
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://gazette.db` (created on first use) or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://gazette.db")]
    pub database_url: String,
    /// Most pooled database connections.
    #[arg(long, env = "GAZETTE_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
}

impl DatabaseArgs {
    /// The URL, with SQLite's create-if-missing mode made explicit.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }
}

/// `gazette serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "GAZETTE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Largest request body, in bytes.
    #[arg(long, env = "GAZETTE_MAX_BODY_BYTES", default_value_t = ApiConfig::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Deepest GraphQL selection accepted.
    #[arg(long, env = "GAZETTE_MAX_QUERY_DEPTH", default_value_t = ApiConfig::default().max_query_depth)]
    pub max_query_depth: usize,
    /// Highest GraphQL query complexity accepted (list fields cost their page size).
    #[arg(long, env = "GAZETTE_MAX_QUERY_COMPLEXITY", default_value_t = ApiConfig::default().max_query_complexity)]
    pub max_query_complexity: usize,
    /// Accept a JSON array of GraphQL operations in one POST.
    #[arg(long, env = "GAZETTE_ALLOW_BATCHING", default_value_t = false)]
    pub allow_batching: bool,
    /// Bearer-token verification.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// View counting and trending.
    #[command(flatten)]
    pub views: ViewArgs,
    /// Delivery: HTTP caching, rate limits, persisted queries, CORS.
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Feeds and the news sitemap.
    #[command(flatten)]
    pub feeds: FeedArgs,
    /// Guards of caching and view counting.
    #[command(flatten)]
    pub guards: GuardArgs,
    /// Bounds on GraphQL documents and batches; introspection and GraphiQL.
    #[command(flatten)]
    pub graphql: GraphqlLimitArgs,
    /// Operations: the metrics listener.
    #[command(flatten)]
    pub ops: crate::ops::OpsArgs,
    /// Connections, time limits, shutdown.
    #[command(flatten)]
    pub serving: ServingArgs,
    /// What one request, and the pool as a whole, may ask of the database.
    #[command(flatten)]
    pub pool: PoolArgs,
    /// The reference front page.
    #[command(flatten)]
    pub web: WebExampleArgs,
    /// The public response cache.
    #[command(flatten)]
    pub response_cache: ResponseCacheArgs,
    /// Live updates: the GraphQL subscription and the SSE stream.
    #[command(flatten)]
    pub live: LiveArgs,
    /// Partner webhooks.
    #[command(flatten)]
    pub webhooks: crate::push_config::WebhookArgs,
    /// CDN purges by cache tag.
    #[command(flatten)]
    pub cdn: crate::cdn_config::CdnArgs,
    /// Where `now` comes from: the system's clock (no flag; tests pass a
    /// [`gazette_app::ManualClock`] and move time instead of waiting).
    #[arg(skip = system_clock())]
    pub clock: std::sync::Arc<dyn gazette_app::Clock>,
}

fn system_clock() -> std::sync::Arc<dyn gazette_app::Clock> {
    std::sync::Arc::new(gazette_app::SystemClock)
}

/// The public response cache: finished anonymous and partner answers kept in memory (see the
/// README's "Response cache").
#[derive(Debug, Clone, Args)]
pub struct ResponseCacheArgs {
    /// Most bytes of finished responses kept in memory (least recently used forgotten first);
    /// 0 turns the cache off.
    #[arg(long, env = "GAZETTE_RESPONSE_CACHE_BYTES", default_value_t = gazette_api::http::response_cache::ResponseCacheConfig::default().max_bytes)]
    pub response_cache_bytes: usize,
    /// Largest single response kept, in bytes (larger ones are sent, not kept).
    #[arg(long, env = "GAZETTE_RESPONSE_CACHE_ENTRY_BYTES", default_value_t = gazette_api::http::response_cache::ResponseCacheConfig::default().max_entry_bytes)]
    pub response_cache_entry_bytes: usize,
}

impl Default for ResponseCacheArgs {
    fn default() -> Self {
        let config = gazette_api::http::response_cache::ResponseCacheConfig::default();
        Self {
            response_cache_bytes: config.max_bytes,
            response_cache_entry_bytes: config.max_entry_bytes,
        }
    }
}

/// The most a response cache may be given: 64 GiB (a typo's extra zeros stop at start).
const MAX_RESPONSE_CACHE_BYTES: usize = 64 << 30;

impl ResponseCacheArgs {
    /// The settings as the API takes them: an entry bound from 1 byte to the total (when the
    /// cache is on), the total at most 64 GiB.
    pub fn apply(&self, api: &mut ApiConfig) -> Result<(), String> {
        let (total, entry) = (self.response_cache_bytes, self.response_cache_entry_bytes);
        if total > MAX_RESPONSE_CACHE_BYTES {
            return Err(format!(
                "GAZETTE_RESPONSE_CACHE_BYTES: {total} is more than {MAX_RESPONSE_CACHE_BYTES} (64 GiB)"
            ));
        }
        if total > 0 && !(1..=total).contains(&entry) {
            return Err(format!(
                "GAZETTE_RESPONSE_CACHE_ENTRY_BYTES: must be from 1 to GAZETTE_RESPONSE_CACHE_BYTES ({total}), not {entry}"
            ));
        }
        api.response_cache = gazette_api::http::response_cache::ResponseCacheConfig {
            max_bytes: total,
            max_entry_bytes: entry,
        };
        Ok(())
    }
}

/// Live updates (see the README's "Live updates"): how many streams a process holds, and how
/// far a consumer may fall behind before it is disconnected.
#[derive(Debug, Clone, Args)]
pub struct LiveArgs {
    /// Live streams (GraphQL subscriptions and SSE streams) one process holds at once; 0 turns
    /// live updates off.
    #[arg(long, env = "GAZETTE_LIVE_MAX_SUBSCRIBERS", default_value_t = LiveConfig::default().max_subscribers)]
    pub live_max_subscribers: usize,
    /// Live streams one client address holds at once.
    #[arg(long, env = "GAZETTE_LIVE_MAX_PER_CLIENT", default_value_t = LiveConfig::default().max_per_client)]
    pub live_max_per_client: usize,
    /// Topics one stream's filter may name.
    #[arg(long, env = "GAZETTE_LIVE_MAX_TOPICS", default_value_t = LiveConfig::default().max_topics)]
    pub live_max_topics: usize,
    /// Batches (of up to 100 events) a stream holds for a consumer that is not reading; one
    /// more and the consumer is disconnected (it resumes from its last event's id).
    #[arg(long, env = "GAZETTE_LIVE_QUEUE", default_value_t = LiveConfig::default().queue)]
    pub live_queue: usize,
    /// Seconds between heartbeats (comment lines) on an idle SSE stream.
    #[arg(long, env = "GAZETTE_LIVE_HEARTBEAT_SECS", default_value_t = LiveConfig::default().heartbeat.as_secs())]
    pub live_heartbeat_secs: u64,
}

use gazette_app::live::LiveConfig;

impl Default for LiveArgs {
    fn default() -> Self {
        let config = LiveConfig::default();
        Self {
            live_max_subscribers: config.max_subscribers,
            live_max_per_client: config.max_per_client,
            live_max_topics: config.max_topics,
            live_queue: config.queue,
            live_heartbeat_secs: config.heartbeat.as_secs(),
        }
    }
}

impl LiveArgs {
    /// The settings as the API takes them: a queue of 1 to 1,024 batches, at most 100 topics,
    /// a heartbeat from 1 s to 1 h.
    pub fn apply(&self, api: &mut ApiConfig) -> Result<(), String> {
        if !(1..=1024).contains(&self.live_queue) {
            return Err(format!(
                "GAZETTE_LIVE_QUEUE: must be from 1 to 1024, not {}",
                self.live_queue
            ));
        }
        if self.live_max_topics > 100 {
            return Err(format!(
                "GAZETTE_LIVE_MAX_TOPICS: must be at most 100, not {}",
                self.live_max_topics
            ));
        }
        if !(1..=3600).contains(&self.live_heartbeat_secs) {
            return Err(format!(
                "GAZETTE_LIVE_HEARTBEAT_SECS: must be from 1 to 3600, not {}",
                self.live_heartbeat_secs
            ));
        }
        api.live = LiveConfig {
            max_subscribers: self.live_max_subscribers,
            max_per_client: self.live_max_per_client,
            max_topics: self.live_max_topics,
            queue: self.live_queue,
            heartbeat: std::time::Duration::from_secs(self.live_heartbeat_secs),
            ..LiveConfig::default()
        };
        Ok(())
    }
}

/// The reference front page of `examples/web/` (compiled into the binary).
#[derive(Debug, Clone, Default, Args)]
pub struct WebExampleArgs {
    /// Serve the reference front page at `/` (with `/articles/{slug}` and `/topics/{slug}`):
    /// the sample article page rendered in the browser from one GraphQL request. Off by
    /// default: it is a demonstration on the API's own origin, not the publisher's site.
    #[arg(long, env = "GAZETTE_WEB_EXAMPLE", default_value_t = false,
        action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub web_example: bool,
}

impl WebExampleArgs {
    /// The setting as the API takes it.
    pub fn apply(&self, api: &mut ApiConfig) {
        api.web_example = self.web_example;
    }
}

/// Bounds every GraphQL document and batch must fit in before it is validated, and what
/// GraphQL exposes. A document over a bound is refused with 400 and an `extensions.code`
/// naming it.
#[derive(Debug, Clone, Args)]
pub struct GraphqlLimitArgs {
    /// Longest GraphQL document text, in bytes (comments and strings included).
    #[arg(long, env = "GAZETTE_MAX_QUERY_BYTES", default_value_t = GraphqlLimits::default().max_bytes)]
    pub max_query_bytes: usize,
    /// Most lexical tokens in a GraphQL document (names, punctuation, values; not whitespace,
    /// commas or comments).
    #[arg(long, env = "GAZETTE_MAX_QUERY_TOKENS", default_value_t = GraphqlLimits::default().max_tokens)]
    pub max_query_tokens: usize,
    /// Most fields (and fragment spreads) a document reaches once its fragments are expanded,
    /// counted without expanding them: every operation, plus every fragment definition.
    #[arg(long, env = "GAZETTE_MAX_QUERY_FIELDS", default_value_t = GraphqlLimits::default().max_fields)]
    pub max_query_fields: usize,
    /// Most aliases in one operation (`__typename` is free).
    #[arg(long, env = "GAZETTE_MAX_ALIASES", default_value_t = GraphqlLimits::default().max_aliases)]
    pub max_aliases: usize,
    /// Most directives in one operation.
    #[arg(long, env = "GAZETTE_MAX_DIRECTIVES", default_value_t = GraphqlLimits::default().max_directives)]
    pub max_directives: usize,
    /// Most operations in one batch (with GAZETTE_ALLOW_BATCHING).
    #[arg(long, env = "GAZETTE_MAX_BATCH_OPERATIONS", default_value_t = GraphqlLimits::default().max_batch_operations)]
    pub max_batch_operations: usize,
    /// Highest cost of all the operations of one batch together.
    #[arg(long, env = "GAZETTE_MAX_BATCH_COST", default_value_t = GraphqlLimits::default().max_batch_cost)]
    pub max_batch_cost: usize,
    /// Answer introspection (`__schema`, `__type`): schema loaders and GraphiQL's docs need it.
    #[arg(long, env = "GAZETTE_INTROSPECTION", default_value_t = true,
        action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub introspection: bool,
    /// Serve GraphiQL to browsers at `GET /graphql`.
    #[arg(long, env = "GAZETTE_GRAPHIQL", default_value_t = true,
        action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub graphiql: bool,
    /// Bytes of registered automatic persisted queries each process keeps in memory, in front
    /// of the database registry (least recently used go first).
    #[arg(long, env = "GAZETTE_APQ_CACHE_BYTES", default_value_t = gazette_api::persisted::PersistedQueryConfig::default().cache_bytes)]
    pub apq_cache_bytes: usize,
    /// Automatic persisted queries the database registry (shared by every node) holds at most;
    /// registering one more removes the least recently used.
    #[arg(long, env = "GAZETTE_APQ_MAX_QUERIES", default_value_t = gazette_api::persisted::PersistedQueryConfig::default().max_queries)]
    pub apq_max_queries: u64,
}

impl Default for GraphqlLimitArgs {
    fn default() -> Self {
        let limits = GraphqlLimits::default();
        Self {
            max_query_bytes: limits.max_bytes,
            max_query_tokens: limits.max_tokens,
            max_query_fields: limits.max_fields,
            max_aliases: limits.max_aliases,
            max_directives: limits.max_directives,
            max_batch_operations: limits.max_batch_operations,
            max_batch_cost: limits.max_batch_cost,
            introspection: limits.introspection,
            graphiql: limits.graphiql,
            apq_cache_bytes: gazette_api::persisted::PersistedQueryConfig::default().cache_bytes,
            apq_max_queries: gazette_api::persisted::PersistedQueryConfig::default().max_queries,
        }
    }
}

/// Guards that keep one response or one client from spoiling what others get: the size of
/// answers hashed for an ETag, and how many views one address may add to an article.
#[derive(Debug, Clone, Args)]
pub struct GuardArgs {
    /// Largest response body hashed for an ETag, in bytes; a larger answer is sent without one.
    #[arg(long, env = "GAZETTE_CACHE_MAX_ETAG_BYTES", default_value_t = gazette_api::http::cache::CachePolicy::default().max_etag_body_bytes)]
    pub cache_max_etag_bytes: usize,
    /// Views of one article counted from one client address (IPv6: its /64) per view dedupe
    /// window, whatever visitor ids they carry (0: no cap). Off, with the once-per-address
    /// rule for views without a visitor id, when GAZETTE_BEACON_RATE is 0.
    #[arg(long, env = "GAZETTE_VIEW_ADDRESS_CAP", default_value_t = ViewsConfig::default().address_cap)]
    pub view_address_cap: u32,
    /// (address, article) pairs those rules remember; the least recently seen goes first.
    #[arg(long, env = "GAZETTE_VIEW_ADDRESS_CAPACITY", default_value_t = ViewsConfig::default().address_capacity)]
    pub view_address_capacity: usize,
}

impl Default for GuardArgs {
    fn default() -> Self {
        let views = ViewsConfig::default();
        Self {
            cache_max_etag_bytes: gazette_api::http::cache::CachePolicy::default()
                .max_etag_body_bytes,
            view_address_cap: views.address_cap,
            view_address_capacity: views.address_capacity,
        }
    }
}

impl GuardArgs {
    /// The settings as the API takes them; a capacity of 0 is refused.
    pub fn apply(&self, api: &mut ApiConfig) -> Result<(), String> {
        if self.view_address_capacity == 0 {
            return Err("GAZETTE_VIEW_ADDRESS_CAPACITY must be at least 1".to_owned());
        }
        api.cache.max_etag_body_bytes = self.cache_max_etag_bytes;
        api.views.address_cap = self.view_address_cap;
        api.views.address_capacity = self.view_address_capacity;
        Ok(())
    }
}

impl GraphqlLimitArgs {
    /// The settings as the API takes them; a bound of 0 is refused (it would refuse every
    /// document).
    pub fn apply(&self, api: &mut ApiConfig) -> Result<(), String> {
        for (name, value) in [
            ("GAZETTE_MAX_QUERY_TOKENS", self.max_query_tokens),
            ("GAZETTE_MAX_QUERY_FIELDS", self.max_query_fields),
            ("GAZETTE_MAX_BATCH_OPERATIONS", self.max_batch_operations),
            ("GAZETTE_MAX_BATCH_COST", self.max_batch_cost),
            (
                "GAZETTE_APQ_MAX_QUERIES",
                usize::try_from(self.apq_max_queries).unwrap_or(usize::MAX),
            ),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        api.graphql = GraphqlLimits {
            max_bytes: self.max_query_bytes,
            max_tokens: self.max_query_tokens,
            max_fields: self.max_query_fields,
            max_aliases: self.max_aliases,
            max_directives: self.max_directives,
            max_batch_operations: self.max_batch_operations,
            max_batch_cost: self.max_batch_cost,
            introspection: self.introspection,
            graphiql: self.graphiql,
        };
        api.persisted_queries.cache_bytes = self.apq_cache_bytes;
        api.persisted_queries.max_queries = self.apq_max_queries;
        Ok(())
    }
}

/// How connections are served and how long everything may take.
#[derive(Debug, Clone, Args)]
pub struct ServingArgs {
    /// Longest a request may take on any route, in milliseconds; past it the request is
    /// stopped and answered 504 (code TIMEOUT).
    #[arg(long, env = "GAZETTE_REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,
    /// Longest a client may take to send a request's head (request line and headers), in
    /// milliseconds, counted from when its connection opens or its previous response was sent.
    #[arg(long, env = "GAZETTE_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// A keep-alive connection that is idle this many seconds is closed (0: no keep-alive).
    /// The header timeout also bounds the wait for the next request: the shorter one applies.
    #[arg(long, env = "GAZETTE_KEEPALIVE_TIMEOUT_SECS", default_value_t = 10)]
    pub keepalive_timeout_secs: u64,
    /// Most client connections served at once; more wait in the listen backlog.
    #[arg(long, env = "GAZETTE_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,
    /// Largest request head (request line and headers), in bytes; 431 above.
    #[arg(long, env = "GAZETTE_MAX_HEADER_BYTES", default_value_t = 16 * 1024)]
    pub max_header_bytes: usize,
    /// On SIGTERM, how many seconds in-flight requests get before the remaining connections
    /// are cut (the last view counts are written after that either way).
    #[arg(long, env = "GAZETTE_SHUTDOWN_DEADLINE_SECS", default_value_t = 20)]
    pub shutdown_deadline_secs: u64,
}

impl Default for ServingArgs {
    fn default() -> Self {
        Self {
            request_timeout_ms: 10_000,
            header_timeout_ms: 10_000,
            keepalive_timeout_secs: 10,
            max_connections: 512,
            max_header_bytes: 16 * 1024,
            shutdown_deadline_secs: 20,
        }
    }
}

/// Largest request head that may be configured (hyper's read buffer is about 400 KiB).
const MAX_HEADER_BYTES_LIMIT: usize = 256 * 1024;

impl ServingArgs {
    /// The server loop's settings; zero timeouts, no connections or a head limit outside
    /// 1 KiB–256 KiB are refused.
    pub fn config(&self) -> Result<crate::serve::ServeConfig, String> {
        if self.request_timeout_ms == 0 || self.header_timeout_ms == 0 {
            return Err(
                "GAZETTE_REQUEST_TIMEOUT_MS and GAZETTE_HEADER_TIMEOUT_MS must be positive"
                    .to_owned(),
            );
        }
        if self.max_connections == 0 {
            return Err("GAZETTE_MAX_CONNECTIONS must be at least 1".to_owned());
        }
        if !(1024..=MAX_HEADER_BYTES_LIMIT).contains(&self.max_header_bytes) {
            return Err(format!(
                "GAZETTE_MAX_HEADER_BYTES must be from 1024 to {MAX_HEADER_BYTES_LIMIT}"
            ));
        }
        Ok(crate::serve::ServeConfig {
            header_timeout: Duration::from_millis(self.header_timeout_ms),
            keepalive_timeout: (self.keepalive_timeout_secs > 0)
                .then(|| Duration::from_secs(self.keepalive_timeout_secs)),
            max_connections: self.max_connections,
            max_header_bytes: self.max_header_bytes,
            shutdown_deadline: Duration::from_secs(self.shutdown_deadline_secs),
        })
    }

    /// The request deadline.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

/// Database pool limits of `gazette serve`.
#[derive(Debug, Clone, Args)]
pub struct PoolArgs {
    /// How long a statement waits for a pooled connection, and a new connection for the
    /// database, in milliseconds, before the request is answered 503.
    #[arg(long, env = "GAZETTE_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 1000)]
    pub db_acquire_timeout_ms: u64,
    /// Statements that may wait for a connection when all are in use; any further one is
    /// answered 503 at once. Each waits at most the acquire timeout; the default leaves room
    /// for a few hundred readers of a page that asks several things at once.
    #[arg(long, env = "GAZETTE_DB_MAX_WAITING", default_value_t = 1024)]
    pub db_max_waiting: usize,
    /// Longest a statement may run, in milliseconds (PostgreSQL `statement_timeout`; SQLite's
    /// wait for the write lock).
    #[arg(long, env = "GAZETTE_DB_STATEMENT_TIMEOUT_MS", default_value_t = 5000)]
    pub db_statement_timeout_ms: u64,
    /// Most pooled connections one request may hold at once (at most the pool size).
    #[arg(long, env = "GAZETTE_DB_REQUEST_SHARE", default_value_t = 4)]
    pub db_request_share: usize,
}

impl Default for PoolArgs {
    fn default() -> Self {
        Self {
            db_acquire_timeout_ms: 1000,
            db_max_waiting: 1024,
            db_statement_timeout_ms: 5000,
            db_request_share: 4,
        }
    }
}

impl PoolArgs {
    /// The store's settings for a pool of `max_connections`; zero timeouts and a request
    /// share outside 1 to the pool size are refused.
    pub fn store_options(
        &self,
        max_connections: u32,
    ) -> Result<gazette_persistence::StoreOptions, String> {
        if self.db_acquire_timeout_ms == 0 || self.db_statement_timeout_ms == 0 {
            return Err(
                "GAZETTE_DB_ACQUIRE_TIMEOUT_MS and GAZETTE_DB_STATEMENT_TIMEOUT_MS must be positive"
                    .to_owned(),
            );
        }
        let pool = usize::try_from(max_connections).unwrap_or(usize::MAX);
        if !(1..=pool).contains(&self.db_request_share) {
            return Err(format!(
                "GAZETTE_DB_REQUEST_SHARE must be from 1 to the pool size ({pool}), not {}",
                self.db_request_share
            ));
        }
        Ok(gazette_persistence::StoreOptions {
            max_connections,
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            max_waiting: self.db_max_waiting,
            statement_timeout: Some(Duration::from_millis(self.db_statement_timeout_ms)),
        })
    }
}

/// How responses reach clients and CDNs.
#[derive(Debug, Clone, Args)]
pub struct DeliveryArgs {
    /// `max-age` of public (anonymous) responses, in seconds.
    #[arg(long, env = "GAZETTE_CACHE_MAX_AGE_SECS", default_value_t = 30)]
    pub cache_max_age_secs: u32,
    /// `stale-while-revalidate` of public responses, in seconds.
    #[arg(long, env = "GAZETTE_CACHE_STALE_SECS", default_value_t = 300)]
    pub cache_stale_secs: u32,
    /// Requests per second from one anonymous address (0: unlimited).
    #[arg(long, env = "GAZETTE_RATE_ANONYMOUS", default_value_t = 50)]
    pub rate_anonymous: u32,
    /// Burst above that rate for one address.
    #[arg(long, env = "GAZETTE_RATE_ANONYMOUS_BURST", default_value_t = 200)]
    pub rate_anonymous_burst: u32,
    /// Requests per second from one partner token subject (0: unlimited).
    #[arg(long, env = "GAZETTE_RATE_PARTNER", default_value_t = 100)]
    pub rate_partner: u32,
    /// Burst above that rate for one partner.
    #[arg(long, env = "GAZETTE_RATE_PARTNER_BURST", default_value_t = 400)]
    pub rate_partner_burst: u32,
    /// Origins browsers may call from, comma-separated (`*`: any).
    #[arg(
        long,
        env = "GAZETTE_CORS_ORIGINS",
        value_delimiter = ',',
        default_value = "*"
    )]
    pub cors_origins: Vec<String>,
    /// A persisted query manifest (Apollo's `persisted-query-manifest.json`, or a JSON object
    /// of sha256 → query) whose operations are always known.
    #[arg(long, env = "GAZETTE_PERSISTED_QUERIES")]
    pub persisted_queries: Option<std::path::PathBuf>,
    /// Accept only the manifest's operations from anonymous callers and partners (staff tokens
    /// may still send any document).
    #[arg(long, env = "GAZETTE_PERSISTED_QUERIES_ONLY", default_value_t = false)]
    pub persisted_queries_only: bool,
    /// Proxies in front of Gazette (CDN, load balancer) whose `X-Forwarded-For` entries name
    /// the client for rate limits; 0 trusts no header.
    #[arg(long, env = "GAZETTE_TRUSTED_PROXY_HOPS", default_value_t = 0)]
    pub trusted_proxy_hops: usize,
    /// A Redis (`redis://host:6379`) in which the rate limits are counted, so every node naming
    /// it shares them; unset, each process counts its own.
    #[arg(long, env = "GAZETTE_REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of the rate-limit keys in that Redis.
    #[arg(long, env = "GAZETTE_REDIS_PREFIX", default_value = "gazette:rate")]
    pub redis_prefix: String,
    /// Longest a rate-limit check waits for Redis, in milliseconds; past it (or while Redis is
    /// unreachable) the process's own count answers.
    #[arg(long, env = "GAZETTE_REDIS_TIMEOUT_MS", default_value_t = 100)]
    pub redis_timeout_ms: u64,
}

impl DeliveryArgs {
    /// The settings as the API takes them; reads the manifest.
    pub fn apply(&self, api: &mut ApiConfig) -> Result<(), String> {
        api.cache.max_age_secs = self.cache_max_age_secs;
        api.cache.stale_while_revalidate_secs = self.cache_stale_secs;
        api.rate_limits = gazette_api::http::limits::RateLimitConfig {
            anonymous: gazette_api::http::limits::Rate {
                per_second: self.rate_anonymous,
                burst: self.rate_anonymous_burst,
            },
            partner: gazette_api::http::limits::Rate {
                per_second: self.rate_partner,
                burst: self.rate_partner_burst,
            },
            redis: self
                .redis_url
                .as_deref()
                .filter(|url| !url.trim().is_empty())
                .map(|url| {
                    gazette_api::http::limits::RedisConfig::new(
                        url.trim(),
                        &self.redis_prefix,
                        Duration::from_millis(self.redis_timeout_ms),
                    )
                })
                .transpose()?,
        };
        let origins: Vec<String> = self
            .cors_origins
            .iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        if let Some(bad) = origins
            .iter()
            .find(|o| *o != "*" && !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(format!(
                "GAZETTE_CORS_ORIGINS: `{bad}` is not an origin like https://www.example.com"
            ));
        }
        api.cors_origins = origins;
        if self.persisted_queries_only && self.persisted_queries.is_none() {
            return Err(
                "GAZETTE_PERSISTED_QUERIES_ONLY needs a manifest in GAZETTE_PERSISTED_QUERIES"
                    .to_owned(),
            );
        }
        if let Some(path) = &self.persisted_queries {
            let text = std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "GAZETTE_PERSISTED_QUERIES: cannot read {}: {e}",
                    path.display()
                )
            })?;
            api.persisted_queries.manifest = gazette_api::persisted::parse_manifest(&text)
                .map_err(|e| format!("GAZETTE_PERSISTED_QUERIES ({}): {e}", path.display()))?;
        }
        api.persisted_queries.only_persisted = self.persisted_queries_only;
        api.trusted_proxy_hops = self.trusted_proxy_hops;
        Ok(())
    }
}

/// What feeds and the news sitemap say about the publication.
#[derive(Debug, Clone, Args)]
pub struct FeedArgs {
    /// The publisher's site (absolute http(s) URL): feeds name themselves under it, and an
    /// article without a canonical URL links to `{site}/articles/{slug}`.
    #[arg(
        long,
        env = "GAZETTE_SITE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub site_url: String,
    /// The publication's name, as feeds and the Google News sitemap give it.
    #[arg(long, env = "GAZETTE_SITE_NAME", default_value = "Gazette")]
    pub site_name: String,
    /// The publication's language tag (feeds, `news:language`).
    #[arg(long, env = "GAZETTE_SITE_LANGUAGE", default_value = "en")]
    pub site_language: String,
    /// Items in a feed when the request gives no `?limit=` (1 to 100).
    #[arg(long, env = "GAZETTE_FEED_ITEMS", default_value_t = gazette_api::FeedsConfig::default().default_items)]
    pub feed_items: u64,
    /// The publisher's logo (absolute http(s) URL), named in each article's structured data
    /// (schema.org `publisher.logo`); left out when unset.
    #[arg(long, env = "GAZETTE_PUBLISHER_LOGO_URL")]
    pub publisher_logo_url: Option<String>,
    /// Articles in one page of the archive sitemap (`/sitemaps/articles-{n}.xml`), 1 to 50,000.
    #[arg(long, env = "GAZETTE_SITEMAP_PAGE_SIZE", default_value_t = gazette_api::FeedsConfig::default().sitemap_page_size)]
    pub sitemap_page_size: u64,
    /// A WebSub hub (absolute http(s) URL): feeds name it (`Link: rel="hub"`, `atom:link`,
    /// JSON Feed `hubs`) and every publication, substantive update or removal pings it. Off
    /// when unset.
    #[arg(long, env = "GAZETTE_WEBSUB_HUB")]
    pub websub_hub: Option<String>,
}

impl Default for FeedArgs {
    fn default() -> Self {
        let defaults = gazette_api::FeedsConfig::default();
        Self {
            site_url: defaults.site_url,
            site_name: defaults.site_name,
            site_language: defaults.language,
            feed_items: defaults.default_items,
            publisher_logo_url: None,
            sitemap_page_size: defaults.sitemap_page_size,
            websub_hub: None,
        }
    }
}

impl FeedArgs {
    /// The settings as the API takes them; a site URL that is not an absolute http(s) URL, an
    /// empty name, a malformed language tag or a length outside 1–100 is refused.
    pub fn config(&self) -> Result<gazette_api::FeedsConfig, String> {
        gazette_api::FeedsConfig::new(
            &self.site_url,
            &self.site_name,
            &self.site_language,
            self.feed_items,
        )
        .and_then(|config| config.with_logo(self.publisher_logo_url.as_deref()))
        .and_then(|config| config.with_sitemap_page_size(self.sitemap_page_size))
        .and_then(|config| config.with_websub_hub(self.websub_hub.as_deref()))
        .map_err(|e| format!("feed settings: {e}"))
    }
}

/// View counting and trending settings.
#[derive(Debug, Clone, Args)]
pub struct ViewArgs {
    /// How often counted views are written, in milliseconds.
    #[arg(long, env = "GAZETTE_VIEW_FLUSH_MS", default_value_t = 1000)]
    pub view_flush_ms: u64,
    /// A visitor's repeat view of an article within this many seconds counts once.
    #[arg(long, env = "GAZETTE_VIEW_DEDUPE_SECS", default_value_t = 1800)]
    pub view_dedupe_secs: u64,
    /// Most (visitor, article) pairs remembered for dedupe.
    #[arg(
        long,
        env = "GAZETTE_VIEW_DEDUPE_CAPACITY",
        default_value_t = 1_000_000
    )]
    pub view_dedupe_capacity: usize,
    /// Half-life of a view's weight in trending scores, in hours.
    #[arg(long, env = "GAZETTE_TRENDING_HALF_LIFE_HOURS", default_value_t = 24.0)]
    pub trending_half_life_hours: f64,
    /// How long a trending list is served from memory, in milliseconds (0: not cached).
    #[arg(long, env = "GAZETTE_TRENDING_CACHE_MS", default_value_t = 5000)]
    pub trending_cache_ms: u64,
    /// How often trending windows move on and old buckets are dropped, in seconds.
    #[arg(long, env = "GAZETTE_TRENDING_EXPIRY_SECS", default_value_t = 60)]
    pub trending_expiry_secs: u64,
    /// How long a related-articles list is reused, in seconds (0: not cached).
    #[arg(long, env = "GAZETTE_RELATED_CACHE_SECS", default_value_t = 30)]
    pub related_cache_secs: u64,
    /// View beacons per second allowed from one address (0: unlimited).
    #[arg(long, env = "GAZETTE_BEACON_RATE", default_value_t = 20)]
    pub beacon_rate: u32,
    /// Burst of view beacons allowed above the rate.
    #[arg(long, env = "GAZETTE_BEACON_BURST", default_value_t = 40)]
    pub beacon_burst: u32,
}

impl ViewArgs {
    /// The settings as the API takes them; a half-life that is not a positive number of
    /// hours (at most a year) is refused.
    pub fn config(&self) -> Result<ViewsConfig, String> {
        let hours = self.trending_half_life_hours;
        if !(hours.is_finite() && hours > 0.0 && hours <= 24.0 * 366.0) {
            return Err(format!(
                "GAZETTE_TRENDING_HALF_LIFE_HOURS must be a positive number of hours up to a year, not {hours}"
            ));
        }
        if self.view_flush_ms == 0 || self.trending_expiry_secs == 0 {
            return Err("the view flush and trending expiry intervals must be positive".to_owned());
        }
        Ok(ViewsConfig {
            flush_interval: Duration::from_millis(self.view_flush_ms),
            dedupe_window: Duration::from_secs(self.view_dedupe_secs),
            dedupe_capacity: self.view_dedupe_capacity,
            half_life: chrono::Duration::milliseconds((hours * 3_600_000.0).round() as i64),
            trending_cache_ttl: Duration::from_millis(self.trending_cache_ms),
            expiry_interval: Duration::from_secs(self.trending_expiry_secs),
            rate_per_second: self.beacon_rate,
            rate_burst: self.beacon_burst,
            // Set by `GuardArgs::apply`.
            ..ViewsConfig::default()
        })
    }

    /// Test settings: fast flushes, no trending cache, no rate limit.
    pub fn for_tests() -> Self {
        Self {
            view_flush_ms: 50,
            view_dedupe_secs: 1800,
            view_dedupe_capacity: 1_000_000,
            trending_half_life_hours: 24.0,
            trending_cache_ms: 0,
            trending_expiry_secs: 60,
            related_cache_secs: 0,
            beacon_rate: 0,
            beacon_burst: 0,
        }
    }
}

impl ServeArgs {
    /// Defaults for `database_url`, listening on a free local port (tests).
    pub fn for_tests(database_url: &str) -> Self {
        let api = ApiConfig::default();
        Self {
            addr: "127.0.0.1:0".to_owned(),
            db: DatabaseArgs {
                database_url: database_url.to_owned(),
                db_max_connections: 8,
            },
            max_body_bytes: api.max_body_bytes,
            max_query_depth: api.max_query_depth,
            max_query_complexity: api.max_query_complexity,
            allow_batching: api.allow_batching,
            auth: AuthArgs::for_tests(),
            views: ViewArgs::for_tests(),
            feeds: FeedArgs::default(),
            delivery: DeliveryArgs::for_tests(),
            guards: GuardArgs::default(),
            graphql: GraphqlLimitArgs::default(),
            ops: crate::ops::OpsArgs::default(),
            serving: ServingArgs::default(),
            pool: PoolArgs::default(),
            web: WebExampleArgs::default(),
            response_cache: ResponseCacheArgs::default(),
            live: LiveArgs::default(),
            // Off: the sender's polls would show in the tests that count statements; the
            // webhook tests turn it on.
            webhooks: crate::push_config::WebhookArgs {
                webhook_max_per_partner: 0,
                ..crate::push_config::WebhookArgs::default()
            },
            cdn: crate::cdn_config::CdnArgs::default(),
            clock: system_clock(),
        }
    }
}

impl DeliveryArgs {
    /// Defaults, with request rate limits off (the tests that check them switch them on).
    pub fn for_tests() -> Self {
        Self {
            cache_max_age_secs: 30,
            cache_stale_secs: 300,
            rate_anonymous: 0,
            rate_anonymous_burst: 0,
            rate_partner: 0,
            rate_partner_burst: 0,
            cors_origins: vec!["*".to_owned()],
            persisted_queries: None,
            persisted_queries_only: false,
            trusted_proxy_hops: 0,
            redis_url: None,
            redis_prefix: "gazette:rate".to_owned(),
            redis_timeout_ms: 100,
        }
    }
}

/// `gazette seed`.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// How many generated filler articles to add besides the sample page's stories.
    #[arg(long, env = "GAZETTE_SEED_GENERATED", default_value_t = 200)]
    pub generated: usize,
}

/// How bearer tokens are verified. With no key, only anonymous reads are served and every
/// token is refused.
#[derive(Clone, Args)]
pub struct AuthArgs {
    /// HS256 secret verifying bearer tokens (at least 32 bytes); also signs `gazette token` and,
    /// unless GAZETTE_PREVIEW_SECRET is set, preview tokens.
    #[arg(long, env = "GAZETTE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM file with the public key verifying RS256 or EdDSA bearer tokens.
    #[arg(long, env = "GAZETTE_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,
    /// Algorithm tokens must be signed with: HS256, RS256 or EdDSA [default: HS256 with a
    /// secret, else the public key's type].
    #[arg(long, env = "GAZETTE_JWT_ALGORITHM")]
    pub jwt_algorithm: Option<JwtAlgorithm>,
    /// Id of the configured key: a token whose header names a `kid` must name this one.
    #[arg(long, env = "GAZETTE_JWT_KID")]
    pub jwt_kid: Option<String>,
    /// Required `iss` claim.
    #[arg(long, env = "GAZETTE_JWT_ISSUER", default_value = DEFAULT_ISSUER)]
    pub jwt_issuer: String,
    /// Required `aud` claim.
    #[arg(long, env = "GAZETTE_JWT_AUDIENCE", default_value = DEFAULT_AUDIENCE)]
    pub jwt_audience: String,
    /// Clock leeway for `exp` and `nbf`, in seconds (at most 30).
    #[arg(long, env = "GAZETTE_JWT_LEEWAY_SECS", default_value_t = DEFAULT_LEEWAY_SECS,
        value_parser = clap::value_parser!(u64).range(0..=MAX_LEEWAY_SECS))]
    pub jwt_leeway_secs: u64,
    /// HS256 secret of article preview tokens (at least 32 bytes) [default: the JWT secret,
    /// else a random per-process key].
    #[arg(long, env = "GAZETTE_PREVIEW_SECRET", hide_env_values = true)]
    pub preview_secret: Option<String>,
}

impl fmt::Debug for AuthArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "[redacted]");
        f.debug_struct("AuthArgs")
            .field("jwt_secret", &redacted(&self.jwt_secret))
            .field("jwt_public_key", &self.jwt_public_key)
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("jwt_kid", &self.jwt_kid)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("jwt_leeway_secs", &self.jwt_leeway_secs)
            .field("preview_secret", &redacted(&self.preview_secret))
            .finish()
    }
}

/// Why the token settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// The public key file could not be read.
    #[error("cannot read the JWT public key {}: {source}", path.display())]
    ReadKey {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The settings are unsafe or contradictory.
    #[error("JWT configuration: {0}")]
    Invalid(#[from] AuthConfigError),
}

impl AuthArgs {
    /// No key, default issuer, audience and leeway.
    pub fn none() -> Self {
        Self {
            jwt_secret: None,
            jwt_public_key: None,
            jwt_algorithm: None,
            jwt_kid: None,
            jwt_issuer: DEFAULT_ISSUER.to_owned(),
            jwt_audience: DEFAULT_AUDIENCE.to_owned(),
            jwt_leeway_secs: DEFAULT_LEEWAY_SECS,
            preview_secret: None,
        }
    }

    /// HS256 with [`TEST_JWT_SECRET`], [`TEST_JWT_ISSUER`] and [`TEST_JWT_AUDIENCE`].
    pub fn for_tests() -> Self {
        Self {
            jwt_secret: Some(TEST_JWT_SECRET.to_owned()),
            jwt_algorithm: Some(JwtAlgorithm::Hs256),
            jwt_issuer: TEST_JWT_ISSUER.to_owned(),
            jwt_audience: TEST_JWT_AUDIENCE.to_owned(),
            ..Self::none()
        }
    }

    /// The verifier's configuration (reads the public key file). Empty values count as unset.
    pub fn auth_config(&self) -> Result<AuthConfig, AuthSetupError> {
        let non_empty = |s: &Option<String>| {
            s.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| s.as_bytes().to_vec())
        };
        let public_key_pem = match self
            .jwt_public_key
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            Some(path) => Some(
                std::fs::read(path).map_err(|source| AuthSetupError::ReadKey {
                    path: path.clone(),
                    source,
                })?,
            ),
            None => None,
        };
        Ok(AuthConfig {
            algorithm: self.jwt_algorithm,
            secret: non_empty(&self.jwt_secret),
            public_key_pem,
            kid: self.jwt_kid.clone().filter(|k| !k.is_empty()),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            leeway_secs: self.jwt_leeway_secs,
            preview_secret: non_empty(&self.preview_secret),
        })
    }

    /// The verifier these settings describe.
    pub fn authenticator(&self) -> Result<Authenticator, AuthSetupError> {
        Ok(Authenticator::new(self.auth_config()?)?)
    }
}

/// The role `gazette token` grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenRole {
    /// A newsroom editor.
    Editor,
    /// An administrator.
    Admin,
    /// A syndication partner.
    Partner,
}

impl From<TokenRole> for Role {
    fn from(role: TokenRole) -> Self {
        match role {
            TokenRole::Editor => Self::Editor,
            TokenRole::Admin => Self::Admin,
            TokenRole::Partner => Self::Partner,
        }
    }
}

/// `gazette token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Role the token grants.
    #[arg(long, value_enum)]
    pub role: TokenRole,
    /// Subject (`sub`): who the token is for.
    #[arg(long)]
    pub sub: String,
    /// Lifetime: `3600s`, `30m`, `1h`, `2d` (a bare number is seconds).
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    pub ttl: TimeDelta,
    /// Scope to grant (repeat for several), e.g. `syndication` for partners.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// Token settings (the same as `serve`).
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// Longest lifetime `gazette token` mints.
const MAX_TOKEN_TTL_SECS: i64 = 366 * 24 * 3600;

/// Parses a lifetime like `3600s`, `30m`, `1h`, `2d` or `90` (seconds).
pub fn parse_ttl(text: &str) -> Result<TimeDelta, String> {
    let text = text.trim();
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[digits.len()..];
    let per_unit: i64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{text}`; use s, m, h or d"
            ));
        }
    };
    let amount: i64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a lifetime like 30m, 1h, 3600s or 2d"))?;
    let seconds = amount
        .checked_mul(per_unit)
        .filter(|s| (1..=MAX_TOKEN_TTL_SECS).contains(s))
        .ok_or_else(|| {
            format!("the lifetime must be between 1 second and 366 days, not `{text}`")
        })?;
    Ok(TimeDelta::seconds(seconds))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("30m"), Ok(TimeDelta::minutes(30)));
        assert_eq!(parse_ttl("1h"), Ok(TimeDelta::hours(1)));
        assert_eq!(parse_ttl("3600s"), Ok(TimeDelta::hours(1)));
        assert_eq!(parse_ttl("2d"), Ok(TimeDelta::days(2)));
        assert_eq!(parse_ttl("90"), Ok(TimeDelta::seconds(90)));
        for bad in [
            "",
            "h",
            "0s",
            "-5m",
            "1w",
            "1.5h",
            "99999999999999d",
            "367d",
        ] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_command_parses() {
        let cli = Cli::try_parse_from([
            "gazette",
            "token",
            "--role",
            "partner",
            "--sub",
            "acme",
            "--ttl",
            "30m",
            "--scope",
            "syndication",
            "--scope",
            "feeds",
        ])
        .expect("parses");
        let Command::Token(args) = cli.command else {
            panic!("not the token command");
        };
        assert_eq!(args.role, TokenRole::Partner);
        assert_eq!(args.sub, "acme");
        assert_eq!(args.ttl, TimeDelta::minutes(30));
        assert_eq!(args.scopes, ["syndication", "feeds"]);
        assert!(Cli::try_parse_from(["gazette", "token", "--role", "root", "--sub", "x"]).is_err());
    }

    #[test]
    fn leeway_above_thirty_seconds_is_refused() {
        assert!(Cli::try_parse_from(["gazette", "serve", "--jwt-leeway-secs", "31"]).is_err());
        assert!(Cli::try_parse_from(["gazette", "serve", "--jwt-leeway-secs", "30"]).is_ok());
    }

    #[test]
    fn introspection_and_graphiql_can_be_switched_off() {
        let cli = Cli::try_parse_from([
            "gazette",
            "serve",
            "--introspection",
            "false",
            "--graphiql=0",
        ])
        .expect("parses");
        let Command::Serve(args) = cli.command else {
            panic!("not the serve command");
        };
        assert!(!args.graphql.introspection);
        assert!(!args.graphql.graphiql);
        let cli = Cli::try_parse_from(["gazette", "serve"]).expect("parses");
        let Command::Serve(args) = cli.command else {
            panic!("not the serve command");
        };
        assert!(args.graphql.introspection && args.graphql.graphiql);
    }

    #[test]
    fn response_cache_bounds_are_checked() {
        let args = |bytes, entry| ResponseCacheArgs {
            response_cache_bytes: bytes,
            response_cache_entry_bytes: entry,
        };
        let mut api = ApiConfig::default();
        assert!(ResponseCacheArgs::default().apply(&mut api).is_ok());
        assert_eq!(api.response_cache.max_bytes, 64 * 1024 * 1024);
        assert!(args(0, 0).apply(&mut api).is_ok(), "0 turns it off");
        assert_eq!(api.response_cache.max_bytes, 0);
        for (bytes, entry) in [(1000, 0), (1000, 1001), (usize::MAX, 1)] {
            let error = args(bytes, entry).apply(&mut api).unwrap_err();
            assert!(error.starts_with("GAZETTE_RESPONSE_CACHE_"), "{error}");
        }
        let parsed = Cli::try_parse_from(["gazette", "serve", "--response-cache-bytes", "0"]);
        match parsed.map(|cli| cli.command) {
            Ok(Command::Serve(serve)) => assert_eq!(serve.response_cache.response_cache_bytes, 0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn serving_limits_are_checked() {
        let serving = ServingArgs::default();
        assert!(serving.config().is_ok());
        for bad in [
            ServingArgs {
                request_timeout_ms: 0,
                ..ServingArgs::default()
            },
            ServingArgs {
                max_connections: 0,
                ..ServingArgs::default()
            },
            ServingArgs {
                max_header_bytes: 512,
                ..ServingArgs::default()
            },
        ] {
            assert!(bad.config().is_err(), "{bad:?}");
        }
        let pool = PoolArgs::default();
        assert!(pool.store_options(16).is_ok());
        assert!(
            pool.store_options(2).is_err(),
            "a share larger than the pool"
        );
        let no_share = PoolArgs {
            db_request_share: 0,
            ..PoolArgs::default()
        };
        assert!(no_share.store_options(16).is_err());
        let keepalive_off = ServingArgs {
            keepalive_timeout_secs: 0,
            ..ServingArgs::default()
        };
        assert_eq!(keepalive_off.config().unwrap().keepalive_timeout, None);
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let debug = format!("{:?}", AuthArgs::for_tests());
        assert!(!debug.contains(TEST_JWT_SECRET), "{debug}");
    }
}
