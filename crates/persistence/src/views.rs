//! Views and trending: hourly view buckets, the running decayed-score accumulators fed from them
//! in the same transaction, their expiry as windows move on, and the trending read.
//!
//! Every write takes the one `trending_state` row's lock first (an `UPDATE`), so flushes,
//! expiry and rebasing from any number of processes apply one after another, each against the
//! base time the accumulators are kept in. Adding is commutative, so concurrent flushes never
//! lose a count.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use gazette_domain::time::storage_precision;
use gazette_domain::trending::{
    Candidate, TrendingWindow, bucket_weight, needs_rebase, rebase_factor, rebased,
    score_from_accumulator,
};
use gazette_domain::{ArticleStatus, Slug};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, ExprTrait,
    IdenStatic, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entities::{article_trending, article_view_buckets, articles, trending_state};
use crate::search::placeholders;
use crate::{Store, StoreError};

/// Views of one article counted in one hour, ready to be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewCount {
    /// The article.
    pub article_id: Uuid,
    /// Start of the hour the views fell in.
    pub hour: DateTime<Utc>,
    /// How many.
    pub views: i64,
}

/// What a flush did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Views added to buckets.
    pub counted: i64,
    /// Views dropped because their article is unknown or not public (any more).
    pub dropped: i64,
}

const STATE_ID: i32 = 1;

fn window_columns(window: TrendingWindow) -> (article_trending::Column, article_trending::Column) {
    use article_trending::Column as C;
    match window {
        TrendingWindow::Day => (C::ViewsDay, C::ScoreDay),
        TrendingWindow::Week => (C::ViewsWeek, C::ScoreWeek),
        TrendingWindow::Month => (C::ViewsMonth, C::ScoreMonth),
    }
}

fn window_from(state: &trending_state::Model, window: TrendingWindow) -> DateTime<Utc> {
    match window {
        TrendingWindow::Day => state.day_from,
        TrendingWindow::Week => state.week_from,
        TrendingWindow::Month => state.month_from,
    }
}

fn half_life(state: &trending_state::Model) -> Duration {
    Duration::seconds(std::cmp::max(state.half_life_secs, 1))
}

/// Takes the trending state's row lock and reads it.
async fn lock_state(txn: &DatabaseTransaction) -> Result<trending_state::Model, StoreError> {
    let locked = trending_state::Entity::update_many()
        .col_expr(
            trending_state::Column::Flushes,
            Expr::col(trending_state::Column::Flushes).add(1),
        )
        .filter(trending_state::Column::Id.eq(STATE_ID))
        .exec(txn)
        .await?;
    if locked.rows_affected == 0 {
        return Err(StoreError::Corrupt(
            "trending state is missing: the server initialises it at start".to_owned(),
        ));
    }
    trending_state::Entity::find_by_id(STATE_ID)
        .one(txn)
        .await?
        .ok_or_else(|| StoreError::Corrupt("trending state vanished".to_owned()))
}

impl Store {
    /// Creates the trending state at first start, or brings it in line with `half_life`
    /// (recomputing every accumulator from the buckets when the half-life changed) and moves
    /// its base forward when due.
    pub async fn init_trending(
        &self,
        half_life: Duration,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = storage_precision(now);
        let half_life_secs = std::cmp::max(half_life.num_seconds(), 1);
        trending_state::Entity::insert(trending_state::ActiveModel {
            id: Set(STATE_ID),
            base: Set(rebased(now)),
            half_life_secs: Set(half_life_secs),
            day_from: Set(TrendingWindow::Day.first_hour(now)),
            week_from: Set(TrendingWindow::Week.first_hour(now)),
            month_from: Set(TrendingWindow::Month.first_hour(now)),
            flushes: Set(0),
        })
        .on_conflict_do_nothing_on([trending_state::Column::Id])
        .exec_without_returning(&self.db)
        .await?;
        let txn = self.begin_write().await?;
        let state = lock_state(&txn).await?;
        if state.half_life_secs != half_life_secs {
            tracing::info!(
                from_secs = state.half_life_secs,
                to_secs = half_life_secs,
                "trending half-life changed; recomputing scores from the view buckets"
            );
            rebuild(&txn, &state, half_life, now).await?;
        }
        txn.commit().await?;
        self.expire_trending(now).await
    }

    /// Adds counted views: one multi-row upsert into the hourly buckets that adds to what is
    /// there, and the matching additions to each window's accumulators, in one transaction.
    /// Views of articles that are unknown or not public at `now` are dropped.
    pub async fn record_views(
        &self,
        counts: &[ViewCount],
        now: DateTime<Utc>,
    ) -> Result<FlushReport, StoreError> {
        if counts.is_empty() {
            return Ok(FlushReport::default());
        }
        let now = storage_precision(now);
        let txn = self.begin_write().await?;
        let state = lock_state(&txn).await?;
        let mut ids: Vec<Uuid> = counts.iter().map(|c| c.article_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut public: Vec<Uuid> = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            public.extend(public_among(&txn, chunk, now).await?.into_keys());
        }
        public.sort_unstable();

        let mut report = FlushReport::default();
        let mut buckets: HashMap<(Uuid, DateTime<Utc>), i64> = HashMap::new();
        for c in counts {
            if public.binary_search(&c.article_id).is_ok() {
                *buckets
                    .entry((c.article_id, storage_precision(c.hour)))
                    .or_default() += c.views;
                report.counted += c.views;
            } else {
                report.dropped += c.views;
            }
        }
        if buckets.is_empty() {
            txn.commit().await?;
            return Ok(report);
        }

        let half_life = half_life(&state);
        // Per article: views and weighted views added to each window.
        let mut added: HashMap<Uuid, [(i64, f64); 3]> = HashMap::new();
        for (&(article_id, hour), &views) in &buckets {
            let weight = bucket_weight(hour, state.base, half_life);
            let entry = added.entry(article_id).or_default();
            for (i, window) in TrendingWindow::ALL.into_iter().enumerate() {
                if hour >= window_from(&state, window) {
                    entry[i].0 += views;
                    entry[i].1 += views as f64 * weight;
                }
            }
        }

        let bucket_rows: Vec<article_view_buckets::ActiveModel> = buckets
            .into_iter()
            .map(
                |((article_id, hour), views)| article_view_buckets::ActiveModel {
                    article_id: Set(article_id),
                    hour: Set(hour),
                    views: Set(views),
                },
            )
            .collect();
        for chunk in bucket_rows.chunks(2000) {
            article_view_buckets::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        article_view_buckets::Column::ArticleId,
                        article_view_buckets::Column::Hour,
                    ])
                    .value(
                        article_view_buckets::Column::Views,
                        Expr::col((
                            article_view_buckets::Entity,
                            article_view_buckets::Column::Views,
                        ))
                        .add(Expr::col((
                            Alias::new("excluded"),
                            article_view_buckets::Column::Views,
                        ))),
                    )
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }

        let trending_rows: Vec<article_trending::ActiveModel> = added
            .into_iter()
            .map(
                |(article_id, [day, week, month])| article_trending::ActiveModel {
                    article_id: Set(article_id),
                    views_day: Set(day.0),
                    views_week: Set(week.0),
                    views_month: Set(month.0),
                    score_day: Set(day.1),
                    score_week: Set(week.1),
                    score_month: Set(month.1),
                },
            )
            .collect();
        use article_trending::Column as T;
        let mut on_conflict = OnConflict::column(T::ArticleId);
        for column in [
            T::ViewsDay,
            T::ViewsWeek,
            T::ViewsMonth,
            T::ScoreDay,
            T::ScoreWeek,
            T::ScoreMonth,
        ] {
            on_conflict.value(
                column,
                Expr::col((article_trending::Entity, column))
                    .add(Expr::col((Alias::new("excluded"), column))),
            );
        }
        for chunk in trending_rows.chunks(1000) {
            article_trending::Entity::insert_many(chunk.to_vec())
                .on_conflict(on_conflict.clone())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(report)
    }

    /// Moves each window's edge to `now`: the buckets that left a window are taken out of its
    /// accumulators, buckets older than the longest window are deleted, and the accumulators'
    /// base moves forward when their weights grow large. Run by a background task.
    pub async fn expire_trending(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let now = storage_precision(now);
        let backend = self.db.get_database_backend();
        let txn = self.begin_write().await?;
        let mut state = lock_state(&txn).await?;
        let half_life = half_life(&state);
        for window in TrendingWindow::ALL {
            let from = window_from(&state, window);
            let new_from = window.first_hour(now);
            if new_from <= from {
                continue;
            }
            let (views_col, score_col) = window_columns(window);
            let (views, score) = (views_col.as_str().to_owned(), score_col.as_str().to_owned());
            let hours: Vec<DateTime<Utc>> = article_view_buckets::Entity::find()
                .select_only()
                .column(article_view_buckets::Column::Hour)
                .distinct()
                .filter(article_view_buckets::Column::Hour.gte(from))
                .filter(article_view_buckets::Column::Hour.lt(new_from))
                .into_tuple()
                .all(&txn)
                .await?;
            for hour in hours {
                let weight = bucket_weight(hour, state.base, half_life);
                let left = "(SELECT b.views FROM article_view_buckets b \
                            WHERE b.article_id = article_trending.article_id AND b.hour = ?)";
                let sql = format!(
                    "UPDATE article_trending SET {views} = {views} - {left}, \
                     {score} = {score} - ? * {left} \
                     WHERE article_id IN (SELECT article_id FROM article_view_buckets WHERE hour = ?)"
                );
                txn.execute_raw(placeholders(
                    backend,
                    &sql,
                    vec![hour.into(), weight.into(), hour.into(), hour.into()],
                ))
                .await?;
            }
            // No views left means no score, whatever rounding left behind.
            txn.execute_raw(placeholders(
                backend,
                &format!(
                    "UPDATE article_trending SET {score} = 0 WHERE {views} <= 0 AND {score} <> 0"
                ),
                vec![],
            ))
            .await?;
            match window {
                TrendingWindow::Day => state.day_from = new_from,
                TrendingWindow::Week => state.week_from = new_from,
                TrendingWindow::Month => state.month_from = new_from,
            }
        }
        article_view_buckets::Entity::delete_many()
            .filter(article_view_buckets::Column::Hour.lt(state.month_from))
            .exec(&txn)
            .await?;
        article_trending::Entity::delete_many()
            .filter(article_trending::Column::ViewsMonth.lte(0))
            .exec(&txn)
            .await?;
        if needs_rebase(state.base, now, half_life) {
            let new_base = rebased(now);
            let factor = rebase_factor(state.base, new_base, half_life);
            use article_trending::Column as T;
            article_trending::Entity::update_many()
                .col_expr(T::ScoreDay, Expr::col(T::ScoreDay).mul(factor))
                .col_expr(T::ScoreWeek, Expr::col(T::ScoreWeek).mul(factor))
                .col_expr(T::ScoreMonth, Expr::col(T::ScoreMonth).mul(factor))
                .exec(&txn)
                .await?;
            tracing::info!(from = %state.base, to = %new_base, "trending accumulators rebased");
            state.base = new_base;
        }
        trending_state::Entity::update(trending_state::ActiveModel {
            id: Set(STATE_ID),
            base: Set(state.base),
            day_from: Set(state.day_from),
            week_from: Set(state.week_from),
            month_from: Set(state.month_from),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        txn.commit().await.map_err(StoreError::from)
    }

    /// The most-read public articles of `window` (optionally tagged with `topic`) at `now`,
    /// ranked by the domain's rules: at most `limit`. Walks the window's score index from the
    /// top (never the buckets), a page of candidates at a time, and keeps those public at `now`;
    /// articles tied with the last kept one are fetched too, so the domain's tie-breaks decide.
    pub async fn trending(
        &self,
        window: TrendingWindow,
        topic: Option<&Slug>,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Candidate>, StoreError> {
        let now = storage_precision(now);
        let state = trending_state::Entity::find_by_id(STATE_ID)
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::Corrupt("trending state is missing".to_owned()))?;
        let (views_col, score_col) = window_columns(window);
        // Topic membership is checked per candidate (a primary-key probe), so walking the
        // score index stays cheap however many articles the topic has.
        let topic_id = match topic {
            None => None,
            Some(topic) => match self.topic_by_slug(topic).await? {
                Some(t) => Some(t.id),
                None => return Ok(Vec::new()),
            },
        };
        let in_topic = topic_id.map(|topic_id| {
            Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from("article_topics")
                    .and_where(Expr::col(("article_topics", "article_id")).equals((
                        article_trending::Entity,
                        article_trending::Column::ArticleId,
                    )))
                    .and_where(Expr::col(("article_topics", "topic_id")).eq(topic_id))
                    .to_owned(),
            )
        });
        // Most candidates are public; a page a little larger than asked usually suffices.
        let page = u64::try_from(limit * 2 + 10).unwrap_or(110);
        let mut kept: Vec<(Uuid, f64, i64, DateTime<Utc>)> = Vec::with_capacity(limit + 8);
        let mut after: Option<(f64, Uuid)> = None;
        loop {
            let mut select = article_trending::Entity::find()
                .select_only()
                .column(article_trending::Column::ArticleId)
                .column(score_col)
                .column(views_col)
                .filter(views_col.gt(0));
            if let Some(condition) = &in_topic {
                select = select.filter(condition.clone());
            }
            if let Some((score, id)) = after {
                select = select.filter(
                    sea_orm::Condition::any().add(score_col.lt(score)).add(
                        sea_orm::Condition::all()
                            .add(score_col.eq(score))
                            .add(article_trending::Column::ArticleId.lt(id)),
                    ),
                );
            }
            let rows: Vec<(Uuid, f64, i64)> = select
                .order_by(score_col, sea_orm::Order::Desc)
                .order_by(article_trending::Column::ArticleId, sea_orm::Order::Desc)
                .limit(page)
                .into_tuple()
                .all(&self.db)
                .await?;
            let exhausted = (rows.len() as u64) < page;
            after = rows.last().map(|r| (r.1, r.0));
            let published = self
                .public_publish_times(rows.iter().map(|r| r.0), now)
                .await?;
            for (id, score, views) in rows {
                if let Some(at) = published.get(&id) {
                    kept.push((id, score, views, *at));
                }
            }
            let tie_is_open =
                kept.len() >= limit && after.is_some_and(|(score, _)| score == kept[limit - 1].1);
            if exhausted || (kept.len() >= limit && !tie_is_open) {
                break;
            }
        }
        let half_life = half_life(&state);
        let candidates = kept
            .into_iter()
            .map(|(article_id, accumulator, views, published_at)| Candidate {
                article_id,
                published_at,
                score: score_from_accumulator(accumulator, state.base, now, half_life),
                views,
            })
            .collect();
        Ok(gazette_domain::trending::rank(candidates, limit))
    }

    /// The publish times of those of `ids` that are public at `now` (one statement).
    async fn public_publish_times(
        &self,
        ids: impl Iterator<Item = Uuid>,
        now: DateTime<Utc>,
    ) -> Result<HashMap<Uuid, DateTime<Utc>>, StoreError> {
        let ids: Vec<Uuid> = ids.collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        public_among(&self.db, &ids, now).await
    }

    /// Total views stored in buckets (tests and benchmarks check no count was lost).
    pub async fn total_views(&self) -> Result<i64, StoreError> {
        let row = self
            .db
            .query_one(
                Query::select()
                    .expr(Expr::cust("CAST(COALESCE(SUM(views), 0) AS BIGINT)"))
                    .from(article_view_buckets::Entity),
            )
            .await?;
        Ok(match row {
            Some(row) => row.try_get_by_index::<i64>(0)?,
            None => 0,
        })
    }
}

/// Those of `ids` public at `now`, with their publish times (one statement, by primary key;
/// the status rule is applied here so the planner never trades the key for the status index).
async fn public_among<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, DateTime<Utc>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    type Row = (Uuid, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let rows: Vec<Row> = articles::Entity::find()
        .select_only()
        .column(articles::Column::Id)
        .column(articles::Column::Status)
        .column(articles::Column::PublishedAt)
        .column(articles::Column::ExpiresAt)
        .filter(articles::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for (id, status, published_at, expires_at) in rows {
        let status = ArticleStatus::parse(&status)
            .map_err(|e| StoreError::Corrupt(format!("article {id}: {e}")))?;
        if let Some(at) = published_at
            && gazette_domain::changes::public_at(status, published_at, expires_at, now)
        {
            out.insert(id, at);
        }
    }
    Ok(out)
}

/// Recomputes every accumulator from the buckets of the longest window, with `half_life`.
async fn rebuild(
    txn: &DatabaseTransaction,
    state: &trending_state::Model,
    half_life: Duration,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let base = rebased(now);
    let froms = TrendingWindow::ALL.map(|w| w.first_hour(now));
    article_trending::Entity::delete_many().exec(txn).await?;
    let buckets: Vec<(Uuid, DateTime<Utc>, i64)> = article_view_buckets::Entity::find()
        .select_only()
        .column(article_view_buckets::Column::ArticleId)
        .column(article_view_buckets::Column::Hour)
        .column(article_view_buckets::Column::Views)
        .filter(article_view_buckets::Column::Hour.gte(froms[2]))
        .into_tuple()
        .all(txn)
        .await?;
    let mut sums: HashMap<Uuid, [(i64, f64); 3]> = HashMap::new();
    for (article_id, hour, views) in buckets {
        let weight = bucket_weight(hour, base, half_life);
        let entry = sums.entry(article_id).or_default();
        for (i, from) in froms.iter().enumerate() {
            if hour >= *from {
                entry[i].0 += views;
                entry[i].1 += views as f64 * weight;
            }
        }
    }
    let rows: Vec<article_trending::ActiveModel> = sums
        .into_iter()
        .map(
            |(article_id, [day, week, month])| article_trending::ActiveModel {
                article_id: Set(article_id),
                views_day: Set(day.0),
                views_week: Set(week.0),
                views_month: Set(month.0),
                score_day: Set(day.1),
                score_week: Set(week.1),
                score_month: Set(month.1),
            },
        )
        .collect();
    for chunk in rows.chunks(1000) {
        article_trending::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    trending_state::Entity::update(trending_state::ActiveModel {
        id: Set(state.id),
        base: Set(base),
        half_life_secs: Set(std::cmp::max(half_life.num_seconds(), 1)),
        day_from: Set(froms[0]),
        week_from: Set(froms[1]),
        month_from: Set(froms[2]),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    Ok(())
}
