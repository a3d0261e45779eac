//! The `gazette` binary's wiring: configuration, the application, graceful shutdown.
//! Tests build the same [`Application`] the binary runs.

pub mod cdn_config;
pub mod config;
pub mod ops;
pub mod push_config;
pub mod serve;

use std::future::Future;
use std::net::SocketAddr;

use gazette_api::{ApiConfig, AppState, AuthError};
use gazette_persistence::{Store, StoreError, StoreOptions};
use tokio::net::TcpListener;

pub use config::{
    AuthArgs, AuthSetupError, Cli, Command, DatabaseArgs, PoolArgs, ServeArgs, ServingArgs,
    TokenArgs,
};
pub use ops::{LogArgs, LogFormat, OpsArgs};

/// A built, bound, not yet serving Gazette.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Store,
    state: AppState,
    metrics: Option<ops::MetricsListener>,
    serving: serve::ServeConfig,
    connections: serve::ConnectionStats,
    /// On PostgreSQL with the response cache on: the task listening for other processes'
    /// content changes, and its stop switch.
    content_listener: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
    /// The WebSub publisher's settings, when a hub is configured (it starts with serving).
    websub: Option<gazette_outbound::websub::WebSubConfig>,
    /// The CDN purger's settings, when `GAZETTE_CDN_PURGE` is set (it starts with serving).
    cdn: Option<gazette_outbound::cdn::CdnConfig>,
    /// The webhook sender, when webhooks are on.
    push: Option<gazette_push::Push>,
}

/// What can stop the application from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The token settings are unusable.
    #[error("{0}")]
    Auth(#[from] AuthSetupError),
    /// A setting is out of range.
    #[error("configuration: {0}")]
    Config(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Longest the startup pool (migrations, seeding) waits for a connection.
pub const STARTUP_ACQUIRE: std::time::Duration = std::time::Duration::from_secs(30);

/// Opens the database named by `db` with no statement time limit (migrations, seeding).
/// Nothing waits on it but the process starting, so it waits up to [`STARTUP_ACQUIRE`] for a
/// connection rather than a request's second: on a loaded host, opening (and creating) the
/// SQLite file took longer than that once in CI, and the server then refused to start.
pub async fn open_store(db: &DatabaseArgs) -> Result<Store, StoreError> {
    let options = StoreOptions {
        max_connections: db.db_max_connections,
        acquire_timeout: STARTUP_ACQUIRE,
        ..StoreOptions::default()
    };
    Store::connect(db.database_url(), &options).await
}

impl Application {
    /// Opens and migrates the database, builds the router and binds the address (port 0 picks one).
    pub async fn build(args: &ServeArgs) -> Result<Self, StartError> {
        let auth = args.auth.authenticator()?;
        // Checked before the database is touched: bad settings change nothing.
        let feeds = args.feeds.config().map_err(StartError::Config)?;
        let websub = feeds
            .websub_hub
            .as_deref()
            .map(gazette_outbound::websub::WebSubConfig::new)
            .transpose()
            .map_err(|e| StartError::Config(e.to_string()))?;
        let cdn = args.cdn.config().map_err(StartError::Config)?;
        let serving = args.serving.config().map_err(StartError::Config)?;
        let pool = args
            .pool
            .store_options(args.db.db_max_connections)
            .map_err(StartError::Config)?;
        if let Some(algorithm) = auth.algorithm() {
            tracing::info!(%algorithm, issuer = auth.issuer(), audience = auth.audience(),
                "verifying bearer tokens");
        }
        for warning in auth.startup_warnings() {
            tracing::warn!("{warning}");
        }
        let views = args.views.config().map_err(StartError::Config)?;
        // Migrations, and recomputing trending scores after a half-life change, may run longer
        // than any request's statement may: they get a pool of their own without the
        // statement time limit.
        let migrator = open_store(&args.db).await?;
        migrator.migrate().await?;
        migrator
            .init_trending(views.half_life, chrono::Utc::now())
            .await?;
        migrator.close().await;
        let store = Store::connect(args.db.database_url(), &pool).await?;
        let listener = TcpListener::bind(&args.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: args.addr.clone(),
                source,
            })?;
        let mut api = ApiConfig {
            max_body_bytes: args.max_body_bytes,
            max_query_depth: args.max_query_depth,
            max_query_complexity: args.max_query_complexity,
            allow_batching: args.allow_batching,
            views,
            related_cache_ttl: std::time::Duration::from_secs(args.views.related_cache_secs),
            feeds,
            request_bounds: gazette_api::http::bounds::RequestBounds {
                timeout: args.serving.request_timeout(),
                db_share: args.pool.db_request_share,
            },
            ..ApiConfig::default()
        };
        args.delivery.apply(&mut api).map_err(StartError::Config)?;
        args.guards.apply(&mut api).map_err(StartError::Config)?;
        args.graphql.apply(&mut api).map_err(StartError::Config)?;
        args.web.apply(&mut api);
        args.response_cache
            .apply(&mut api)
            .map_err(StartError::Config)?;
        args.live.apply(&mut api).map_err(StartError::Config)?;
        args.webhooks.apply(&mut api).map_err(StartError::Config)?;
        tracing::info!(limits = ?api.graphql, "GraphQL document limits");
        tracing::info!(
            cors = ?api.cors_origins,
            anonymous_rate = api.rate_limits.anonymous.per_second,
            partner_rate = api.rate_limits.partner.per_second,
            persisted_queries = api.persisted_queries.manifest.len(),
            only_persisted = api.persisted_queries.only_persisted,
            "delivery settings"
        );
        let api_live = api.live.max_subscribers > 0;
        for (setting, on) in [
            ("GAZETTE_WEBSUB_HUB", websub.is_some()),
            ("GAZETTE_CDN_PURGE", cdn.is_some()),
        ] {
            if on && !api_live {
                return Err(StartError::Config(format!(
                    "{setting} follows the change log as a live stream: \
                     GAZETTE_LIVE_MAX_SUBSCRIBERS must be at least 1"
                )));
            }
        }
        let follow_content = api_live || api.webhooks.max_per_owner > 0;
        let state = AppState::with_clock(store.clone(), api, auth, args.clock.clone());
        let router = gazette_api::router(state.clone());
        // Other processes' writes reach this one's response cache, live streams and webhook
        // sender through PostgreSQL's LISTEN/NOTIFY (connected before the first request is
        // served, when it can be).
        let content_listener = if state.response_cache().enabled() || follow_content {
            let (stop, stopped) = tokio::sync::watch::channel(false);
            state
                .app()
                .follow_content_changes(args.db.database_url(), stopped)
                .await
                .map(|task| (stop, task))
        } else {
            None
        };
        let metrics = ops::MetricsListener::bind(&args.ops, &state).await?;
        let push = gazette_push::Push::start(state.webhooks().clone())
            .map_err(|e| StartError::Config(e.to_string()))?;
        tracing::info!(
            request_timeout_ms = args.serving.request_timeout_ms,
            header_timeout_ms = args.serving.header_timeout_ms,
            keepalive_timeout_secs = args.serving.keepalive_timeout_secs,
            max_connections = args.serving.max_connections,
            shutdown_deadline_secs = args.serving.shutdown_deadline_secs,
            db_statement_timeout_ms = args.pool.db_statement_timeout_ms,
            db_request_share = args.pool.db_request_share,
            db_max_waiting = args.pool.db_max_waiting,
            "serving limits"
        );
        Ok(Self {
            listener,
            router,
            store,
            state,
            metrics,
            serving,
            connections: serve::ConnectionStats::default(),
            content_listener,
            websub,
            cdn,
            push,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The metrics listener's address, when one is configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(ops::MetricsListener::local_addr)
    }

    /// The application's store (tests count statements through it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The client connections the server holds.
    pub fn connections(&self) -> serve::ConnectionStats {
        self.connections.clone()
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests (for at most the
    /// shutdown deadline; connections still open then are cut) and writes the last counted
    /// views before returning.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let tasks = self.state.views().spawn_tasks();
        let websub = match self.websub {
            Some(config) => match gazette_outbound::websub::start(
                self.state.app().clone(),
                self.state.live().clone(),
                self.state.config().feeds.clone(),
                config,
            ) {
                Ok(publisher) => Some(publisher),
                Err(error) => {
                    tracing::error!(%error, "WebSub publisher not started");
                    None
                }
            },
            None => None,
        };
        let cdn = match self.cdn {
            Some(config) => match gazette_outbound::cdn::start(self.state.live().clone(), config) {
                Ok(purger) => Some(purger),
                Err(error) => {
                    tracing::error!(%error, "CDN purger not started");
                    None
                }
            },
            None => None,
        };
        let serving = self.serving;
        let metrics = self.metrics.map(|listener| listener.serve(serving));
        // Live streams never finish by themselves: they end as shutdown begins, so draining
        // waits for the requests that do.
        let live = self.state.live().clone();
        let shutdown = async move {
            shutdown.await;
            live.close();
        };
        let served = serve::serve(
            self.listener,
            self.router,
            self.serving,
            self.connections,
            shutdown,
        )
        .await;
        if let Some(metrics) = metrics {
            metrics.stop().await;
        }
        tasks.shutdown().await;
        if let Some(publisher) = websub {
            publisher.stop(std::time::Duration::from_secs(5)).await;
        }
        if let Some(purger) = cdn {
            purger.stop(std::time::Duration::from_secs(5)).await;
        }
        if let Some(push) = self.push {
            push.stop(std::time::Duration::from_secs(5)).await;
        }
        if let Some((stop, task)) = self.content_listener {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        }
        served
    }
}

/// Why `gazette token` could not mint.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token settings are unusable.
    #[error("{0}")]
    Setup(#[from] AuthSetupError),
    /// Minting failed (no secret, bad subject, …).
    #[error("{0}")]
    Mint(#[from] AuthError),
}

/// `gazette token`: an HS256 access token for `args.role` and `args.sub`, valid for `args.ttl`
/// from `now`, signed with the configured secret, issuer and audience.
pub fn mint_token(
    args: &TokenArgs,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, TokenError> {
    let auth = args.auth.authenticator()?;
    let claims = auth.access_claims(
        args.role.into(),
        &args.sub,
        args.scopes.clone(),
        args.ttl,
        now,
    )?;
    Ok(auth.mint(&claims)?)
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining requests");
}
