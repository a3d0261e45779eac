//! Admission to the database pool, in front of every statement the store sends.
//!
//! Three rules keep one request, or one outage, from taking the pool from everybody else:
//! - **A request's share.** The HTTP layer runs each request inside a [`RequestShare`] (a
//!   task-local semaphore): however many statements its resolvers and DataLoaders send at once,
//!   at most that many hold a connection at the same time; the rest wait for the request's own
//!   earlier statements, not for other clients' connections.
//! - **A bounded queue.** When every connection is in use, at most `max_waiting` statements
//!   wait (each for at most the acquire timeout); any further one is refused at once, so an
//!   overloaded server answers quick 503s instead of queueing until every caller times out.
//! - **A circuit breaker.** When the database stops answering (refused or dropped connections,
//!   a pool that cannot connect), statements are refused at once until a background probe
//!   reaches it again, so an outage costs clients one fast 503 each, not a connect timeout.
//!
//! sqlx's own pool still hands out the connections; this gate only decides who may ask.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, QueryResult, Statement, TransactionOptions, TransactionTrait as _,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The message of a statement refused because the pool is saturated.
pub(crate) const SATURATED: &str = "database pool saturated";
/// The message of a statement refused because the database is unreachable.
pub(crate) const UNREACHABLE: &str = "database unreachable";

/// How often the background probe tries an unreachable database.
const PROBE_INTERVAL: Duration = Duration::from_millis(250);

tokio::task_local! {
    static REQUEST_SHARE: RequestShare;
}

/// How many pooled connections one request may hold at once. Cheap to clone: clones share
/// the same budget.
#[derive(Clone, Debug)]
pub struct RequestShare {
    permits: Arc<Semaphore>,
    limit: usize,
}

impl RequestShare {
    /// A budget of `connections` (at least one).
    pub fn new(connections: usize) -> Self {
        let limit = connections.max(1);
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }

    /// Runs `future` under this budget: every statement it sends counts against it.
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        REQUEST_SHARE.scope(self, future).await
    }

    /// The budget of the request the current task serves, if any.
    pub fn current() -> Option<Self> {
        REQUEST_SHARE.try_with(Clone::clone).ok()
    }

    /// Connections the request holds right now.
    fn held(&self) -> usize {
        self.limit - self.permits.available_permits()
    }
}

/// Spawns `future` on the runtime under the current request's share (a task does not inherit
/// task-locals, so work a request hands to another task, such as a DataLoader batch, would
/// otherwise escape its budget).
pub fn spawn_in_request<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match RequestShare::current() {
        Some(share) => tokio::spawn(share.scope(future)),
        None => tokio::spawn(future),
    }
}

/// The pool's admission settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GateLimits {
    pub connections: usize,
    pub max_waiting: usize,
    pub acquire_timeout: Duration,
}

/// A snapshot of the pool's use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections the pool may hold.
    pub max_connections: usize,
    /// Statements holding a connection now.
    pub in_use: usize,
    /// Statements waiting for a connection now.
    pub waiting: usize,
    /// The most statements one request has had admitted at once (holding a connection, or
    /// about to) since the store was opened: never above its share.
    pub most_held_by_one_request: usize,
    /// Whether the database answered last time it was tried.
    pub reachable: bool,
}

#[derive(Debug)]
struct GateInner {
    conn: DatabaseConnection,
    permits: Arc<Semaphore>,
    limits: GateLimits,
    waiting: AtomicUsize,
    most_held_by_one_request: AtomicUsize,
    /// The database failed to answer; statements are refused until a probe succeeds.
    open: AtomicBool,
    /// A probe task is running.
    probing: AtomicBool,
}

/// The store's connection: sea-orm's pool behind the admission rules. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Gated {
    inner: Arc<GateInner>,
}

/// What a statement holds while it runs: a place in the pool and in its request's share.
pub(crate) struct Lease {
    _pool: OwnedSemaphorePermit,
    _share: Option<OwnedSemaphorePermit>,
}

/// Counts a waiter for as long as it waits, even when its future is dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn saturated() -> DbErr {
    DbErr::Custom(SATURATED.to_owned())
}

fn unreachable() -> DbErr {
    DbErr::Custom(UNREACHABLE.to_owned())
}

impl Gated {
    pub(crate) fn new(conn: DatabaseConnection, mut limits: GateLimits) -> Self {
        limits.connections = limits.connections.max(1);
        Self {
            inner: Arc::new(GateInner {
                conn,
                permits: Arc::new(Semaphore::new(limits.connections)),
                limits,
                waiting: AtomicUsize::new(0),
                most_held_by_one_request: AtomicUsize::new(0),
                open: AtomicBool::new(false),
                probing: AtomicBool::new(false),
            }),
        }
    }

    /// The pool without the gate (migrations at start, tests inspecting the schema).
    pub(crate) fn ungated(&self) -> &DatabaseConnection {
        &self.inner.conn
    }

    /// The pool's use now.
    pub(crate) fn stats(&self) -> PoolStats {
        let inner = &self.inner;
        PoolStats {
            max_connections: inner.limits.connections,
            in_use: inner
                .limits
                .connections
                .saturating_sub(inner.permits.available_permits()),
            waiting: inner.waiting.load(Ordering::Acquire),
            most_held_by_one_request: inner.most_held_by_one_request.load(Ordering::Acquire),
            reachable: !inner.open.load(Ordering::Acquire),
        }
    }

    /// Refuses at once when a new statement would be: the database is known to be
    /// unreachable, or every connection is in use and the waiting line is full.
    pub(crate) fn admission(&self) -> Result<(), DbErr> {
        let inner = &self.inner;
        if inner.open.load(Ordering::Acquire) {
            return Err(unreachable());
        }
        if inner.permits.available_permits() == 0
            && inner.waiting.load(Ordering::Acquire) >= inner.limits.max_waiting
        {
            return Err(saturated());
        }
        Ok(())
    }

    /// Waits for a place in the request's share, then in the pool, within the limits.
    pub(crate) async fn lease(&self) -> Result<Lease, DbErr> {
        let inner = &self.inner;
        if inner.open.load(Ordering::Acquire) {
            return Err(unreachable());
        }
        let timeout = inner.limits.acquire_timeout;
        let share = match RequestShare::current() {
            None => None,
            Some(share) => {
                // A request waits only for its own earlier statements here.
                let permit =
                    tokio::time::timeout(timeout, Arc::clone(&share.permits).acquire_owned())
                        .await
                        .map_err(|_| saturated())?
                        .map_err(|_| saturated())?;
                inner
                    .most_held_by_one_request
                    .fetch_max(share.held(), Ordering::AcqRel);
                Some(permit)
            }
        };
        let pool = match Arc::clone(&inner.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if inner.waiting.fetch_add(1, Ordering::AcqRel) >= inner.limits.max_waiting {
                    inner.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(saturated());
                }
                let _waiting = Waiting(&inner.waiting);
                tokio::time::timeout(timeout, Arc::clone(&inner.permits).acquire_owned())
                    .await
                    .map_err(|_| saturated())?
                    .map_err(|_| saturated())?
            }
        };
        Ok(Lease {
            _pool: pool,
            _share: share,
        })
    }

    /// Notes what a statement's outcome says about the database's reachability.
    pub(crate) fn observe<T>(&self, result: Result<T, DbErr>) -> Result<T, DbErr> {
        if let Err(error) = &result
            && crate::error::is_connection_failure(error)
            && !(matches!(error, DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
                && self.pool_is_full())
        {
            self.trip(error);
        }
        result
    }

    /// Whether sqlx holds every connection it may open. Its acquire timing out then means
    /// the connections are busy (statements of requests that gave up still finishing), not
    /// that the database is gone: with room to connect, it would have connected.
    fn pool_is_full(&self) -> bool {
        let conn = &self.inner.conn;
        let (size, max) = match conn.get_database_backend() {
            DbBackend::Postgres => {
                let pool = conn.get_postgres_connection_pool();
                (pool.size(), pool.options().get_max_connections())
            }
            DbBackend::Sqlite => {
                let pool = conn.get_sqlite_connection_pool();
                (pool.size(), pool.options().get_max_connections())
            }
            _ => return false,
        };
        size >= max
    }

    /// Opens the breaker and starts the probe that will close it.
    fn trip(&self, error: &DbErr) {
        let inner = &self.inner;
        if !inner.open.swap(true, Ordering::AcqRel) {
            tracing::warn!(%error, "database unreachable; refusing statements until it answers again");
        }
        if inner
            .probing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            tokio::spawn(probe(Arc::downgrade(inner)));
        }
    }

    /// Pings the database through the gate.
    pub(crate) async fn ping(&self) -> Result<(), DbErr> {
        let _lease = self.lease().await?;
        self.observe(self.inner.conn.ping().await)
    }

    /// Starts a transaction that holds one place in the pool (and in the request's share)
    /// until it ends.
    pub(crate) async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<Txn, DbErr> {
        let lease = self.lease().await?;
        let txn = self.observe(self.inner.conn.begin_with_options(options).await)?;
        Ok(Txn {
            txn,
            gate: self.clone(),
            _lease: lease,
        })
    }

    /// Starts a transaction with the database's default options.
    pub(crate) async fn begin(&self) -> Result<Txn, DbErr> {
        self.begin_with_options(TransactionOptions::default()).await
    }
}

/// Tries the database at once, then every [`PROBE_INTERVAL`], until it answers; then closes
/// the breaker.
/// Ends when the store is dropped.
async fn probe(gate: Weak<GateInner>) {
    let mut first = true;
    loop {
        // The first try is at once: one dropped connection should cost a round trip, not an
        // interval of refusals.
        if !std::mem::take(&mut first) {
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
        let Some(inner) = gate.upgrade() else { return };
        let answered = matches!(
            tokio::time::timeout(inner.limits.acquire_timeout, inner.conn.ping()).await,
            Ok(Ok(()))
        );
        if answered {
            inner.open.store(false, Ordering::Release);
            inner.probing.store(false, Ordering::Release);
            tracing::info!("database reachable again");
            // A failure between the two stores found a probe still running and started none.
            if !(inner.open.load(Ordering::Acquire)
                && inner
                    .probing
                    .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok())
            {
                return;
            }
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Gated {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.conn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let _lease = self.lease().await?;
        self.observe(self.inner.conn.execute_raw(stmt).await)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let _lease = self.lease().await?;
        self.observe(self.inner.conn.execute_unprepared(sql).await)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let _lease = self.lease().await?;
        self.observe(self.inner.conn.query_one_raw(stmt).await)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let _lease = self.lease().await?;
        self.observe(self.inner.conn.query_all_raw(stmt).await)
    }

    fn support_returning(&self) -> bool {
        self.inner.conn.support_returning()
    }
}

/// A transaction that holds its place in the pool until it commits, rolls back or is dropped
/// (sea-orm rolls back a dropped transaction).
pub(crate) struct Txn {
    txn: DatabaseTransaction,
    gate: Gated,
    _lease: Lease,
}

impl Txn {
    /// Commits.
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        let Self { txn, gate, _lease } = self;
        gate.observe(txn.commit().await)
    }

    /// Rolls back.
    pub(crate) async fn rollback(self) -> Result<(), DbErr> {
        let Self { txn, gate, _lease } = self;
        gate.observe(txn.rollback().await)
    }
}

impl std::ops::Deref for Txn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.gate.observe(self.txn.execute_raw(stmt).await)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.gate.observe(self.txn.execute_unprepared(sql).await)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.gate.observe(self.txn.query_one_raw(stmt).await)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.gate.observe(self.txn.query_all_raw(stmt).await)
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tasks_a_request_spawns_count_against_its_share() {
        let share = RequestShare::new(3);
        let permits = Arc::clone(&share.permits);
        let inherited = share
            .scope(async {
                spawn_in_request(async { RequestShare::current().map(|s| s.permits) })
                    .await
                    .expect("task runs")
            })
            .await
            .expect("the spawned task sees a share");
        assert!(Arc::ptr_eq(&inherited, &permits));
        let outside = spawn_in_request(async { RequestShare::current().is_none() })
            .await
            .expect("task runs");
        assert!(outside, "work outside a request has no share");
    }
}
