//! The automatic persisted query registry every process on the database shares: a query
//! registered with one node runs by its hash on any other.
//!
//! Bounded in rows: registering a new query when the registry is full removes the least
//! recently used ones (by `last_used_at`, which a lookup from the database refreshes, and a
//! node refreshes now and then while it serves the query from memory), never the one being
//! registered. Registrations are serialized (an advisory lock on PostgreSQL, the write lock on
//! SQLite), so the bound holds however many nodes register at once.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::entities::persisted_queries as pq;
use crate::{Store, StoreError};
use gazette_domain::time::storage_precision;

/// The PostgreSQL advisory lock every registration holds until its transaction ends (ASCII
/// "gazapqrg").
const REGISTRY_LOCK_KEY: i64 = 0x6761_7a61_7071_7267;

/// A lookup refreshes `last_used_at` only when it is older than this (a write per lookup
/// would make every read a write).
pub const TOUCH_AFTER: Duration = Duration::minutes(1);

/// What registering did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryRegistration {
    /// The query was new here (false: another node, or an earlier request, had registered it).
    pub inserted: bool,
    /// Least recently used queries removed to keep the bound.
    pub evicted: u64,
}

impl Store {
    /// The query registered under `hash` (lower-case hex SHA-256), if any; marks it used at
    /// `now` when its mark is older than [`TOUCH_AFTER`].
    pub async fn persisted_query(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let found: Option<(String, DateTime<Utc>)> = pq::Entity::find_by_id(hash.to_owned())
            .select_only()
            .column(pq::Column::Query)
            .column(pq::Column::LastUsedAt)
            .into_tuple()
            .one(&self.db)
            .await?;
        let Some((query, last_used_at)) = found else {
            return Ok(None);
        };
        if now - last_used_at > TOUCH_AFTER {
            self.touch_persisted_query(hash, now).await?;
        }
        Ok(Some(query))
    }

    /// Marks the query under `hash` used at `now` (a node serving it from memory says so now
    /// and then, so a query in steady use is not the least recently used).
    pub async fn touch_persisted_query(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        pq::Entity::update_many()
            .col_expr(
                pq::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(storage_precision(now)),
            )
            .filter(pq::Column::Hash.eq(hash))
            .filter(pq::Column::LastUsedAt.lt(storage_precision(now)))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Registers `query` under `hash` unless some node already has; when that takes the
    /// registry past `max_queries` rows, the least recently used others are removed. The caller
    /// has checked that `hash` is the query's SHA-256 and that the query is valid.
    pub async fn register_persisted_query(
        &self,
        hash: &str,
        query: &str,
        now: DateTime<Utc>,
        max_queries: u64,
    ) -> Result<QueryRegistration, StoreError> {
        let now = storage_precision(now);
        let txn = self.begin_write().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({REGISTRY_LOCK_KEY})"
            ))
            .await?;
        }
        let inserted = pq::Entity::insert(pq::ActiveModel {
            hash: Set(hash.to_owned()),
            query: Set(query.to_owned()),
            created_at: Set(now),
            last_used_at: Set(now),
        })
        .on_conflict(OnConflict::column(pq::Column::Hash).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?
            > 0;
        let mut evicted = 0;
        if inserted {
            let rows = pq::Entity::find().count(&txn).await?;
            let excess = rows.saturating_sub(max_queries.max(1));
            if excess > 0 {
                let oldest: Vec<String> = pq::Entity::find()
                    .select_only()
                    .column(pq::Column::Hash)
                    .filter(pq::Column::Hash.ne(hash))
                    .order_by_asc(pq::Column::LastUsedAt)
                    .order_by_asc(pq::Column::Hash)
                    .limit(excess)
                    .into_tuple()
                    .all(&txn)
                    .await?;
                evicted = pq::Entity::delete_many()
                    .filter(pq::Column::Hash.is_in(oldest))
                    .exec(&txn)
                    .await?
                    .rows_affected;
            }
        }
        txn.commit().await?;
        Ok(QueryRegistration { inserted, evicted })
    }

    /// How many queries the registry holds (tests and logs).
    pub async fn persisted_query_count(&self) -> Result<u64, StoreError> {
        Ok(pq::Entity::find().count(&self.db).await?)
    }
}
