//! The database handle: connecting, migrating, health.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbBackend};

use crate::StoreError;
use crate::gate::{GateLimits, Gated, PoolStats, Txn};

/// How long SQLite waits for the write lock when no statement timeout is set.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Pool settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most statements holding a pooled connection at once (the pool may open a quarter more,
    /// at least two, for connections still finishing abandoned statements).
    pub max_connections: u32,
    /// How long a statement waits for a connection (and a new connection for the database)
    /// before the database counts as unavailable.
    pub acquire_timeout: Duration,
    /// Statements that may wait for a connection when all are in use; any further one is
    /// refused at once.
    pub max_waiting: usize,
    /// Longest a statement may run on PostgreSQL (`statement_timeout`), and longest a
    /// statement waits for SQLite's write lock (`busy_timeout`); `None`: no limit on
    /// PostgreSQL (migrations), the default wait on SQLite.
    pub statement_timeout: Option<Duration>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(1),
            max_waiting: 1024,
            statement_timeout: None,
        }
    }
}

/// Most statements [`Store::take_recorded_statements`] holds (the oldest are forgotten).
pub const STATEMENT_LOG_CAPACITY: usize = 256;

/// The statement log behind [`Store::record_statements`].
#[derive(Debug, Default)]
struct StatementLog {
    on: std::sync::atomic::AtomicBool,
    sql: std::sync::Mutex<std::collections::VecDeque<String>>,
}

impl StatementLog {
    fn push(&self, sql: &str) {
        let mut log = self
            .sql
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if log.len() == STATEMENT_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(sql.to_owned());
    }
}

/// Connections sqlx may open beyond the gate's limit: a quarter more, at least two.
fn headroom(max_connections: u32) -> u32 {
    (max_connections / 4).max(2)
}

/// Gazette's storage: a pooled connection to SQLite or PostgreSQL. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: Gated,
    statements: Arc<AtomicU64>,
    /// The latest statements' SQL, kept only once asked for (tests): see
    /// [`Store::record_statements`].
    statement_log: Arc<StatementLog>,
    /// How many articles hold a word, as related articles counted it lately (see
    /// `crate::related::WordCounts`).
    pub(crate) word_counts: Arc<crate::related::WordCounts>,
    /// The `gazette.process` setting of this store's PostgreSQL sessions.
    pub(crate) session_tag: Arc<str>,
}

impl Store {
    /// Connects to `url` (`sqlite://path` creates the file if missing; `postgres://…`).
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let busy_timeout = options.statement_timeout.unwrap_or(DEFAULT_BUSY_TIMEOUT);
        let mut opts = ConnectOptions::new(url.to_owned());
        // The gate lets at most `max_connections` statements hold a connection at once; sqlx
        // may open a few more, so that a connection still finishing the statement of a request
        // that gave up (timed out, client gone) does not stall the next statement.
        opts.max_connections(
            options
                .max_connections
                .saturating_add(headroom(options.max_connections)),
        )
        .min_connections(1)
        .acquire_timeout(options.acquire_timeout)
        .connect_timeout(options.acquire_timeout)
        .test_before_acquire(false)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(busy_timeout)
                .foreign_keys(true)
        });
        if let Some(limit) = options.statement_timeout {
            opts.statement_timeout(limit);
        }
        let session_tag = crate::freshness::new_session_tag();
        if url.starts_with("postgres") {
            // A connection the server or a proxy dropped while it sat idle is found by a ping
            // and replaced, so a database that comes back is used at once; connections in
            // steady use skip the round trip. (SQLite connections cannot be dropped.)
            opts.test_before_acquire_if_idle_for(Duration::from_secs(1));
            // `gazette.process` names this store in the notifications its writes send
            // (`Store::session_tag`). Prepared statements run on their generic plan from the
            // first execution: by default PostgreSQL plans each run of a statement for its
            // values whenever that plan is estimated cheaper, and the article list's is always
            // (it knows every article was published before now; the generic plan assumes a
            // third), so the list was planned anew on every request: 0.13 ms of planning for
            // 0.12 ms of execution (`pg_stat_statements`, BENCHMARKS.md). Reads whose best plan
            // depends on their values (full-text matches) ask for that plan explicitly
            // (`Store::query_planned_for_values`).
            let tag = Arc::clone(&session_tag);
            opts.map_sqlx_postgres_opts(move |o| {
                o.options([
                    ("gazette.process", &*tag),
                    ("plan_cache_mode", "force_generic_plan"),
                ])
            });
        }
        let mut db = Database::connect(opts).await.map_err(StoreError::from)?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&statements);
        let statement_log = Arc::new(StatementLog::default());
        let log = Arc::clone(&statement_log);
        db.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::Relaxed);
            if log.on.load(Ordering::Relaxed) {
                log.push(&info.statement.sql);
            }
        });
        let db = Gated::new(
            db,
            GateLimits {
                connections: usize::try_from(options.max_connections).unwrap_or(usize::MAX),
                max_waiting: options.max_waiting,
                acquire_timeout: options.acquire_timeout,
            },
        );
        Ok(Self {
            db,
            statements,
            statement_log,
            word_counts: Arc::default(),
            session_tag,
        })
    }

    /// Brings the schema up to date, then fills data a migration added a column for but only
    /// domain code can compute (the related-articles keyword profiles of older rows).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(self.db.ungated(), None)
            .await
            .map_err(StoreError::from)?;
        self.fill_related_keywords().await?;
        Ok(())
    }

    /// Rolls every migration back (tests of the migration history).
    pub async fn migrate_down_all(&self) -> Result<(), StoreError> {
        Migrator::down(self.db.ungated(), None)
            .await
            .map_err(StoreError::from)
    }

    /// Succeeds when the database answers (at once unavailable while it is known to be
    /// unreachable, or when the pool is saturated).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(StoreError::Unavailable)
    }

    /// `Err(Unavailable)` when new work would be refused right now (the database is known to
    /// be unreachable, or the pool is saturated): lets a request be turned away before it
    /// starts rather than fail half-way.
    pub fn admission(&self) -> Result<(), StoreError> {
        self.db.admission().map_err(StoreError::Unavailable)
    }

    /// How the pool is used right now.
    pub fn pool_stats(&self) -> PoolStats {
        self.db.stats()
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.db.get_database_backend() {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            _ => "other",
        }
    }

    /// How many SQL statements this store has sent since it was opened.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// From now on, keeps the SQL of the latest [`STATEMENT_LOG_CAPACITY`] statements for
    /// [`Store::take_recorded_statements`] (what tests check a read sends; off by default).
    pub fn record_statements(&self) {
        self.statement_log.on.store(true, Ordering::Relaxed);
    }

    /// The SQL of the latest statements since [`Store::record_statements`] or the last
    /// call, oldest first; the log starts empty again.
    pub fn take_recorded_statements(&self) -> Vec<String> {
        self.statement_log
            .sql
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(..)
            .collect()
    }

    /// A write transaction.
    pub(crate) async fn begin_write(&self) -> Result<Txn, StoreError> {
        // SQLite: take the write lock at BEGIN (waiting up to the busy timeout) rather than
        // upgrading a read transaction later, which fails at once when another connection
        // wrote in between. PostgreSQL ignores the mode.
        Ok(self
            .db
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?)
    }

    /// The underlying connection, for tests that inspect the schema.
    pub fn connection(&self) -> &DatabaseConnection {
        self.db.ungated()
    }

    /// Closes the pool.
    pub async fn close(self) {
        let _ = self.db.ungated().clone().close().await;
    }
}
