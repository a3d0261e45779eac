//! The change log behind delta sync.
//!
//! Every write that readers can notice moves the article to the head of `article_changes` in
//! the write's own transaction, so the log and the articles never disagree. Sequence numbers
//! must increase in *commit* order, or a reader could pass over a lower number that commits
//! after it read a higher one:
//! - SQLite: write transactions begin `IMMEDIATE`, so writers run one at a time and each takes
//!   its number inside the lock.
//! - PostgreSQL: an identity value is taken at insert, not at commit, so every append first
//!   takes one transaction-scoped advisory lock, held until commit. Numbers are then taken in
//!   lock order, and a transaction's commit is visible before the lock passes to the next one.
//!
//! Each article has one row (its latest change): appending deletes the older one. A reader
//! judges every entry on the article's current state anyway, so an older row would only repeat
//! it, and an initial sync reads one row per article, not the whole history.
//!
//! What time alone changes (a scheduled story going live, an embargo lifting) waits in
//! `article_change_due` and is appended, under the same lock, by the first read at or after its
//! instant ([`Store::materialize_due_changes`]).

use chrono::{DateTime, Utc};
use gazette_domain::changes::LogEntry;
use gazette_domain::time::storage_precision;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entities::{article_change_due as due, article_changes as log};
use crate::{Store, StoreError};

/// The PostgreSQL advisory lock every log append holds until its transaction ends (ASCII
/// "gazchlog"). Public for tests that hold it to prove appends queue behind one another.
pub const CHANGE_LOG_LOCK_KEY: i64 = 0x6761_7a63_686c_6f67;

/// Rows per multi-row statement (two or three parameters each).
const CHUNK: usize = 500;

/// Serializes log appends until the transaction ends (PostgreSQL; SQLite writers are serial).
async fn lock_log<C: ConnectionTrait>(conn: &C) -> Result<(), StoreError> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared(&format!(
            "SELECT pg_advisory_xact_lock({CHANGE_LOG_LOCK_KEY})"
        ))
        .await?;
    }
    Ok(())
}

/// One article moving to the head of the log.
#[derive(Debug, Clone, Copy)]
struct Move {
    article_id: Uuid,
    /// When the change took effect.
    at: DateTime<Utc>,
    /// Readers could see the article before or after this change. Once set for an article,
    /// its row keeps it (see [`move_to_head`]).
    public: bool,
}

/// Moves each article to the head of the log, in the order given, stamped with the instant the
/// change took effect. Takes the log lock (call it last in a transaction: it is held to commit).
async fn append<C: ConnectionTrait>(conn: &C, changes: &[Move]) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    lock_log(conn).await?;
    move_to_head(conn, changes).await
}

/// [`append`] for a caller that holds the log lock already. An article's row remembers that
/// readers have seen it once any of its changes says so.
async fn move_to_head<C: ConnectionTrait>(conn: &C, changes: &[Move]) -> Result<(), StoreError> {
    for chunk in changes.chunks(CHUNK) {
        let ids = chunk.iter().map(|m| m.article_id);
        let seen: std::collections::HashSet<Uuid> = log::Entity::find()
            .select_only()
            .column(log::Column::ArticleId)
            .filter(log::Column::ArticleId.is_in(ids.clone()))
            .filter(log::Column::EverPublic.eq(true))
            .into_tuple::<Uuid>()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        log::Entity::delete_many()
            .filter(log::Column::ArticleId.is_in(ids))
            .exec(conn)
            .await?;
        log::Entity::insert_many(chunk.iter().map(|m| log::ActiveModel {
            article_id: Set(m.article_id),
            effective_at: Set(storage_precision(m.at)),
            ever_public: Set(m.public || seen.contains(&m.article_id)),
            ..Default::default()
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Replaces the pending due instants of `articles` with `due` (article, instant) pairs. Call it
/// after [`append`], under the log lock.
async fn replace_due<C: ConnectionTrait>(
    conn: &C,
    articles: &[Uuid],
    due: &[(Uuid, DateTime<Utc>)],
) -> Result<(), StoreError> {
    for chunk in articles.chunks(CHUNK) {
        due::Entity::delete_many()
            .filter(due::Column::ArticleId.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
    }
    for chunk in due.chunks(CHUNK) {
        due::Entity::insert_many(chunk.iter().map(|(id, at)| due::ActiveModel {
            article_id: Set(*id),
            due_at: Set(storage_precision(*at)),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// One article's write, as the log records it.
#[derive(Debug, Clone)]
pub(crate) struct LoggedWrite {
    /// The article.
    pub(crate) article_id: Uuid,
    /// The instant of the write.
    pub(crate) at: DateTime<Utc>,
    /// Readers could see the article just before the write or can just after it.
    pub(crate) public: bool,
    /// Future instants at which its visibility changes by itself.
    pub(crate) due: Vec<DateTime<Utc>>,
}

impl LoggedWrite {
    /// The log record of a write that takes an article from `before` (`None` for a new
    /// article) to `after` at `at`, if the write must be logged at all.
    pub(crate) fn of(
        article_id: Uuid,
        before: Option<&gazette_domain::ArticleState>,
        after: &gazette_domain::ArticleState,
        at: DateTime<Utc>,
    ) -> Option<Self> {
        use gazette_domain::changes::{public_at, visibility_due_times, write_is_logged};
        write_is_logged(before.map(|b| b.status), Some(after.status)).then(|| Self {
            article_id,
            at,
            public: before.is_some_and(|b| public_at(b.status, b.published_at, b.expires_at, at))
                || public_at(after.status, after.published_at, after.expires_at, at),
            due: visibility_due_times(
                after.status,
                after.published_at,
                &after.syndication,
                after.expires_at,
                at,
            ),
        })
    }

    fn as_move(&self) -> Move {
        Move {
            article_id: self.article_id,
            at: self.at,
            public: self.public,
        }
    }
}

/// Logs writes of whole articles and replaces their due instants.
pub(crate) async fn log_writes<C: ConnectionTrait>(
    conn: &C,
    writes: &[LoggedWrite],
) -> Result<(), StoreError> {
    if writes.is_empty() {
        return Ok(());
    }
    let changes: Vec<Move> = writes.iter().map(LoggedWrite::as_move).collect();
    append(conn, &changes).await?;
    let ids: Vec<Uuid> = writes.iter().map(|w| w.article_id).collect();
    let due: Vec<(Uuid, DateTime<Utc>)> = writes
        .iter()
        .flat_map(|w| w.due.iter().map(|at| (w.article_id, *at)))
        .collect();
    replace_due(conn, &ids, &due).await
}

/// Logs a change of these articles' content at `now` that leaves their status and times alone
/// (a correction, a renamed topic or author). Whether readers have seen them is as the log
/// already knows it, or as they are now (`public`: the ids readers can see at `now`).
pub(crate) async fn log_content_changes<C: ConnectionTrait>(
    conn: &C,
    article_ids: &[Uuid],
    public: &std::collections::HashSet<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changes: Vec<Move> = article_ids
        .iter()
        .map(|id| Move {
            article_id: *id,
            at: now,
            public: public.contains(id),
        })
        .collect();
    append(conn, &changes).await
}

/// Logs, at `now`, every public or scheduled article joined to `key` in `join_table`
/// (`article_topics.topic_id`, `article_authors.author_id`): renaming a topic or an author
/// changes how those articles read.
pub(crate) async fn log_articles_joined_to<C: ConnectionTrait>(
    conn: &C,
    join_table: &'static str,
    key_column: &'static str,
    key: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    use crate::entities::articles;
    use gazette_domain::ArticleStatus;
    use sea_orm::ExprTrait as _;
    use sea_orm::sea_query::{Expr, Query};
    let rows: Vec<(Uuid, Option<DateTime<Utc>>)> = articles::Entity::find()
        .select_only()
        .column(articles::Column::Id)
        .column(articles::Column::PublishedAt)
        .filter(articles::Column::Status.is_in(ArticleStatus::PUBLIC.map(ArticleStatus::as_str)))
        .filter(
            articles::Column::Id.in_subquery(
                Query::select()
                    .column("article_id")
                    .from(join_table)
                    .and_where(Expr::col(key_column).eq(key))
                    .to_owned(),
            ),
        )
        .order_by_asc(articles::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|(id, _)| *id).collect();
    // Public or scheduled by the filter: public now once their time has come.
    let public = rows
        .iter()
        .filter(|(_, at)| at.is_some_and(|at| at <= now))
        .map(|(id, _)| *id)
        .collect();
    log_content_changes(conn, &ids, &public, now).await
}

/// Logs the deletion of an article that has ever been logged (one never public or scheduled
/// stays out of the log) and drops its due instants. `was_public`: readers could see it until
/// this deletion (its row may know they saw it earlier).
pub(crate) async fn log_deletion<C: ConnectionTrait>(
    conn: &C,
    article_id: Uuid,
    was_public: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    lock_log(conn).await?;
    let logged = log::Entity::find()
        .filter(log::Column::ArticleId.eq(article_id))
        .one(conn)
        .await?;
    if logged.is_some() {
        let deletion = Move {
            article_id,
            at: now,
            public: was_public,
        };
        move_to_head(conn, &[deletion]).await?;
    }
    replace_due(conn, &[article_id], &[]).await
}

impl Store {
    /// Appends to the log every due instant that has come by `now` (a scheduled story going
    /// live, an embargo lifting), each article once at its latest such instant. One statement
    /// when nothing is due; otherwise one short write transaction under the log lock.
    pub async fn materialize_due_changes(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let now = storage_precision(now);
        let pending: Option<Uuid> = due::Entity::find()
            .select_only()
            .column(due::Column::ArticleId)
            .filter(due::Column::DueAt.lte(now))
            .limit(1)
            .into_tuple()
            .one(&self.db)
            .await?;
        if pending.is_none() {
            return Ok(0);
        }
        let txn = self.begin_write().await?;
        // Read under the lock: a concurrent reader that got here first has already moved them.
        lock_log(&txn).await?;
        let rows: Vec<(Uuid, DateTime<Utc>)> = due::Entity::find()
            .select_only()
            .column(due::Column::ArticleId)
            .column(due::Column::DueAt)
            .filter(due::Column::DueAt.lte(now))
            .order_by_asc(due::Column::DueAt)
            .order_by_asc(due::Column::ArticleId)
            .into_tuple()
            .all(&txn)
            .await?;
        // Each article once, at its latest instant; in the order of those instants.
        let mut seen = std::collections::HashSet::with_capacity(rows.len());
        let mut latest: Vec<(Uuid, DateTime<Utc>)> = rows
            .iter()
            .rev()
            .filter(|(id, _)| seen.insert(*id))
            .copied()
            .collect();
        latest.reverse();
        // Whether readers see it now is judged when it is read; a later write records it.
        let moves: Vec<Move> = latest
            .iter()
            .map(|&(article_id, at)| Move {
                article_id,
                at,
                public: false,
            })
            .collect();
        move_to_head(&txn, &moves).await?;
        due::Entity::delete_many()
            .filter(due::Column::DueAt.lte(now))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(latest.len())
    }

    /// The highest position handed out so far (0 for an empty log). Positions only grow: a
    /// cursor beyond this one was not made by this database.
    pub async fn change_log_head(&self) -> Result<i64, StoreError> {
        let head: Option<Option<i64>> = log::Entity::find()
            .select_only()
            .column_as(log::Column::Seq.max(), "head")
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(head.flatten().unwrap_or(0))
    }

    /// Up to `count` log entries after position `after`, in commit order (one statement).
    pub async fn change_log_after(
        &self,
        after: i64,
        count: u64,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let rows = log::Entity::find()
            .filter(log::Column::Seq.gt(after))
            .order_by_asc(log::Column::Seq)
            .limit(count)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| LogEntry {
                seq: r.seq,
                article_id: r.article_id,
                effective_at: r.effective_at,
                ever_public: r.ever_public,
            })
            .collect())
    }
}
