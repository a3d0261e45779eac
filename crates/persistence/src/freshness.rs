//! What the response cache needs to know to never show content past its promise: the next
//! instant at which what a reader may see changes with no write (a scheduled story going live,
//! a syndication embargo lifting), and, on PostgreSQL, a stream of "content changed" signals
//! from every process writing to the same database (`LISTEN gazette_content`, fed by the
//! statement triggers of migration `m20251101_000011_content_notify`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};

use crate::entities::articles;
use crate::{Store, StoreError};

/// The channel the content triggers notify.
pub const CONTENT_CHANNEL: &str = "gazette_content";

/// A fresh name for a store's PostgreSQL sessions (the `gazette.process` setting each of its
/// pooled connections carries, which the content triggers send as their payload).
pub(crate) fn new_session_tag() -> Arc<str> {
    format!("gazette-{}", uuid::Uuid::now_v7().simple()).into()
}

impl Store {
    /// The earliest instant after `now` at which an article's visibility changes by itself:
    /// the nearest future `published_at`, `embargo_until` or `expires_at` of any article (whatever its
    /// status: an earlier instant than needed only costs a recomputation), `None` when nothing
    /// is due; and the earliest `published_at` after `window_start` and at most `now` (the
    /// oldest story of a rolling window such as the news sitemap's). Three indexed reads.
    pub async fn next_visibility_change(
        &self,
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
    ) -> Result<(Option<DateTime<Utc>>, Option<DateTime<Utc>>), StoreError> {
        let mut next: Option<DateTime<Utc>> = None;
        for column in [
            articles::Column::PublishedAt,
            articles::Column::EmbargoUntil,
            articles::Column::ExpiresAt,
        ] {
            if let Some(at) = self.earliest(column, now, None).await? {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        let oldest = self
            .earliest(articles::Column::PublishedAt, window_start, Some(now))
            .await?;
        Ok((next, oldest))
    }

    /// The smallest value of `column` after `after` (and at most `up_to`).
    async fn earliest(
        &self,
        column: articles::Column,
        after: DateTime<Utc>,
        up_to: Option<DateTime<Utc>>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut query = articles::Entity::find()
            .select_only()
            .column(column)
            .filter(column.gt(after));
        if let Some(up_to) = up_to {
            query = query.filter(column.lte(up_to));
        }
        let found: Option<Option<DateTime<Utc>>> = query
            .order_by_asc(column)
            .limit(1)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(found.flatten())
    }

    /// The name this store's PostgreSQL sessions carry (`gazette.process`), which the content
    /// triggers send with each notification: a process's own writes move its generation as
    /// they commit, so its [`ContentListener`] skips their echo.
    pub fn session_tag(&self) -> &str {
        &self.session_tag
    }

    /// Whether this store is PostgreSQL (where other processes may write to the same
    /// database and say so through [`ContentListener`]).
    pub fn is_postgres(&self) -> bool {
        self.backend_name() == "postgres"
    }
}

/// A `LISTEN gazette_content` connection of its own (outside the request pool).
#[derive(Debug)]
pub struct ContentListener {
    listener: sea_orm::sqlx::postgres::PgListener,
    /// Notifications carrying this payload are the echo of our own writes.
    own: String,
}

/// What [`ContentListener::next`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenEvent {
    /// Some content changed (one or more notifications).
    Changed,
    /// The connection was lost: notifications may have been missed. Connect again.
    Lost,
}

impl ContentListener {
    /// Connects to `url` (PostgreSQL) within `timeout` and listens on [`CONTENT_CHANNEL`],
    /// skipping notifications sent by the sessions of `own` (a [`Store::session_tag`]).
    pub async fn connect(url: &str, timeout: Duration, own: &str) -> Result<Self, String> {
        let connecting = async {
            let mut listener = sea_orm::sqlx::postgres::PgListener::connect(url).await?;
            listener.eager_reconnect(false);
            listener.listen(CONTENT_CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match tokio::time::timeout(timeout, connecting).await {
            Ok(Ok(listener)) => Ok(Self {
                listener,
                own: own.to_owned(),
            }),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("no connection within {} ms", timeout.as_millis())),
        }
    }

    /// Waits for the next notification. After `probe_every` without one, checks the
    /// connection with `SELECT 1` (bounded by `probe_timeout`), so a connection that died
    /// silently is noticed and reported as [`ListenEvent::Lost`].
    pub async fn next(&mut self, probe_every: Duration, probe_timeout: Duration) -> ListenEvent {
        loop {
            match tokio::time::timeout(probe_every, self.listener.try_recv()).await {
                Ok(Ok(Some(notification))) => {
                    // Fold whatever else arrived meanwhile into this one signal; the echo of
                    // this process's own writes is no news.
                    let mut changed = notification.payload() != self.own;
                    while let Some(more) = self.listener.next_buffered() {
                        changed |= more.payload() != self.own;
                    }
                    if changed {
                        return ListenEvent::Changed;
                    }
                }
                Ok(Ok(None) | Err(_)) => return ListenEvent::Lost,
                Err(_) => {
                    let probe = sea_orm::sqlx::query("SELECT 1").execute(&mut self.listener);
                    match tokio::time::timeout(probe_timeout, probe).await {
                        Ok(Ok(_)) => {}
                        _ => return ListenEvent::Lost,
                    }
                }
            }
        }
    }
}
