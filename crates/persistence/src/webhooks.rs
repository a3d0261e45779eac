//! Partner webhooks in storage: subscriptions, the delivery outbox and its attempts.
//!
//! A subscription's cursor moves only together with the deliveries it enqueues (one
//! transaction, compare-and-set on the cursor), so two processes reading the log for one
//! subscription never enqueue an entry twice, and a crash loses nothing. Due deliveries are
//! claimed in one statement that takes a lease (`claimed_until`): on PostgreSQL the candidate
//! rows are locked with `FOR UPDATE SKIP LOCKED`, on SQLite the statement runs under the write
//! lock; a claimed row is not claimed again before its lease ends, and its attempt number is
//! taken in the claim, so no attempt is sent twice. A worker that dies mid-send gives its
//! rows back when the lease ends.

use chrono::{DateTime, Utc};
use gazette_domain::time::storage_precision;
use gazette_domain::webhooks::{DeliveryStatus, SubscriptionStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    ExprTrait as _, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entities::{
    webhook_attempts as att, webhook_deliveries as del, webhook_subscriptions as sub,
};
use crate::limit::first_models;
use crate::search::placeholders;
use crate::{Store, StoreError};

pub use crate::entities::webhook_attempts::Model as WebhookAttemptRow;
pub use crate::entities::webhook_deliveries::Model as WebhookDeliveryRow;
pub use crate::entities::webhook_subscriptions::Model as WebhookSubscriptionRow;

/// A subscription to store.
#[derive(Debug, Clone)]
pub struct NewWebhookSubscription {
    /// Its id.
    pub id: Uuid,
    /// The owner's token subject.
    pub owner_sub: String,
    /// The owner's token scopes.
    pub owner_scopes: Vec<String>,
    /// The target URL.
    pub url: String,
    /// Topic ids (empty: all).
    pub topic_ids: Vec<Uuid>,
    /// Event kind wire names.
    pub events: Vec<String>,
    /// The signing secret (`whsec_…`).
    pub secret: String,
    /// The change log position it starts after.
    pub cursor: i64,
}

/// Changes to a subscription; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct WebhookSubscriptionPatch {
    /// New target.
    pub url: Option<String>,
    /// New topic filter.
    pub topic_ids: Option<Vec<Uuid>>,
    /// New event kinds.
    pub events: Option<Vec<String>>,
    /// `Some(Active)` resumes (and forgets past failures), `Some(Paused)` pauses.
    pub status: Option<SubscriptionStatus>,
}

/// A delivery to enqueue.
#[derive(Debug, Clone)]
pub struct NewWebhookDelivery {
    /// Its id: the `webhook-id` of every attempt.
    pub id: Uuid,
    /// The change log position it came from.
    pub seq: i64,
    /// The article.
    pub article_id: Uuid,
    /// The event kind's wire name.
    pub event: String,
    /// The JSON body, sent as is on every attempt.
    pub payload: String,
}

/// A delivery claimed for one attempt, with what sending it needs.
#[derive(Debug, Clone)]
pub struct ClaimedWebhookDelivery {
    /// The delivery (its `attempts` already counts this attempt).
    pub delivery: WebhookDeliveryRow,
    /// The subscription's target.
    pub url: String,
    /// The signing secrets valid now: the current one, then the previous one during its grace.
    pub secrets: Vec<String>,
}

/// What became of an attempt, to record.
#[derive(Debug, Clone)]
pub struct WebhookAttemptRecord {
    /// The delivery.
    pub delivery_id: Uuid,
    /// Its subscription.
    pub subscription_id: Uuid,
    /// The attempt number the claim took.
    pub attempt: i32,
    /// When it was sent.
    pub attempted_at: DateTime<Utc>,
    /// The receiver's status, when it answered.
    pub status_code: Option<i32>,
    /// How long it took.
    pub latency_ms: i64,
    /// What went wrong, when something did.
    pub error: Option<String>,
    /// Where the delivery goes next.
    pub next: NextStep,
}

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Delivered.
    Delivered,
    /// Try again at this instant.
    RetryAt(DateTime<Utc>),
    /// Given up.
    Failed,
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Store {
    /// Stores `new` unless its owner holds `max_per_owner` subscriptions already (then
    /// `Ok(None)`). Counted under the write lock (SQLite) or an advisory lock per owner
    /// (PostgreSQL), so racing creations cannot pass the bound.
    pub async fn insert_webhook_subscription(
        &self,
        new: NewWebhookSubscription,
        max_per_owner: u64,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookSubscriptionRow>, StoreError> {
        let now = storage_precision(now);
        let txn = self.begin_write().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_raw(placeholders(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock(hashtext(?))",
                vec![format!("gazette-webhooks:{}", new.owner_sub).into()],
            ))
            .await?;
        }
        let held = sub::Entity::find()
            .filter(sub::Column::OwnerSub.eq(new.owner_sub.as_str()))
            .count(&txn)
            .await?;
        if held >= max_per_owner {
            txn.rollback().await?;
            return Ok(None);
        }
        let row = sub::ActiveModel {
            id: Set(new.id),
            owner_sub: Set(new.owner_sub),
            owner_scopes: Set(new.owner_scopes.join(" ")),
            url: Set(new.url),
            topic_ids: Set(join(&new.topic_ids)),
            events: Set(new.events.join(" ")),
            secret: Set(new.secret),
            previous_secret: Set(None),
            previous_secret_until: Set(None),
            cursor: Set(new.cursor),
            status: Set(SubscriptionStatus::Active.as_str().to_owned()),
            paused_reason: Set(None),
            consecutive_failures: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(Some(row))
    }

    /// Subscriptions of `owner` (all owners: `None`), oldest first, at most `limit`.
    pub async fn webhook_subscriptions(
        &self,
        owner: Option<&str>,
        limit: u64,
    ) -> Result<Vec<WebhookSubscriptionRow>, StoreError> {
        let mut select = sub::Entity::find()
            .order_by_asc(sub::Column::CreatedAt)
            .order_by_asc(sub::Column::Id);
        if let Some(owner) = owner {
            select = select.filter(sub::Column::OwnerSub.eq(owner));
        }
        first_models(&self.db, select, limit).await
    }

    /// One subscription.
    pub async fn webhook_subscription(
        &self,
        id: Uuid,
    ) -> Result<Option<WebhookSubscriptionRow>, StoreError> {
        Ok(sub::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Active subscriptions after `after` in id order, at most `limit` (the dispatcher pages
    /// through them).
    pub async fn active_webhook_subscriptions(
        &self,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<WebhookSubscriptionRow>, StoreError> {
        let mut select = sub::Entity::find()
            .filter(sub::Column::Status.eq(SubscriptionStatus::Active.as_str()))
            .order_by_asc(sub::Column::Id);
        if let Some(after) = after {
            select = select.filter(sub::Column::Id.gt(after));
        }
        first_models(&self.db, select, limit).await
    }

    /// Applies `patch` to subscription `id`; `None` when there is none.
    pub async fn update_webhook_subscription(
        &self,
        id: Uuid,
        patch: WebhookSubscriptionPatch,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookSubscriptionRow>, StoreError> {
        let Some(found) = self.webhook_subscription(id).await? else {
            return Ok(None);
        };
        let mut row: sub::ActiveModel = found.into();
        if let Some(url) = patch.url {
            row.url = Set(url);
        }
        if let Some(topics) = patch.topic_ids {
            row.topic_ids = Set(join(&topics));
        }
        if let Some(events) = patch.events {
            row.events = Set(events.join(" "));
        }
        match patch.status {
            Some(SubscriptionStatus::Active) => {
                row.status = Set(SubscriptionStatus::Active.as_str().to_owned());
                row.paused_reason = Set(None);
                row.consecutive_failures = Set(0);
            }
            Some(SubscriptionStatus::Paused) => {
                row.status = Set(SubscriptionStatus::Paused.as_str().to_owned());
                row.paused_reason = Set(Some("paused by its owner".to_owned()));
            }
            None => {}
        }
        row.updated_at = Set(storage_precision(now));
        Ok(Some(row.update(&self.db).await?))
    }

    /// Replaces the signing secret of `id` with `secret`; the old one stays valid until
    /// `previous_until`.
    pub async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        secret: String,
        previous_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookSubscriptionRow>, StoreError> {
        let Some(found) = self.webhook_subscription(id).await? else {
            return Ok(None);
        };
        let previous = found.secret.clone();
        let mut row: sub::ActiveModel = found.into();
        row.previous_secret = Set(Some(previous));
        row.previous_secret_until = Set(Some(storage_precision(previous_until)));
        row.secret = Set(secret);
        row.updated_at = Set(storage_precision(now));
        Ok(Some(row.update(&self.db).await?))
    }

    /// Moves the cursor of `id` to `cursor` (a replay: the entries after it are enqueued
    /// again); false when there is no such subscription.
    pub async fn reset_webhook_cursor(
        &self,
        id: Uuid,
        cursor: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sub::Entity::update_many()
            .col_expr(sub::Column::Cursor, Expr::value(cursor))
            .col_expr(sub::Column::UpdatedAt, Expr::value(storage_precision(now)))
            .filter(sub::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(done.rows_affected > 0)
    }

    /// Deletes subscription `id` with its deliveries and attempts; false when there was none.
    pub async fn delete_webhook_subscription(&self, id: Uuid) -> Result<bool, StoreError> {
        let txn = self.begin_write().await?;
        att::Entity::delete_many()
            .filter(att::Column::SubscriptionId.eq(id))
            .exec(&txn)
            .await?;
        del::Entity::delete_many()
            .filter(del::Column::SubscriptionId.eq(id))
            .exec(&txn)
            .await?;
        let done = sub::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        Ok(done.rows_affected > 0)
    }

    /// Enqueues `deliveries` for subscription `id` and moves its cursor from `from` to `to`, in
    /// one transaction; false (nothing written) when the cursor is no longer at `from` (another
    /// process enqueued them first, or a replay moved it) or the subscription is not active.
    pub async fn enqueue_webhook_deliveries(
        &self,
        id: Uuid,
        (from, to): (i64, i64),
        deliveries: Vec<NewWebhookDelivery>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = storage_precision(now);
        let txn = self.begin_write().await?;
        let moved = sub::Entity::update_many()
            .col_expr(sub::Column::Cursor, Expr::value(to))
            .filter(sub::Column::Id.eq(id))
            .filter(sub::Column::Cursor.eq(from))
            .filter(sub::Column::Status.eq(SubscriptionStatus::Active.as_str()))
            .exec(&txn)
            .await?;
        if moved.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(false);
        }
        if !deliveries.is_empty() {
            let rows = deliveries.into_iter().map(|d| del::ActiveModel {
                id: Set(d.id),
                subscription_id: Set(id),
                seq: Set(d.seq),
                article_id: Set(d.article_id),
                event: Set(d.event),
                payload: Set(d.payload),
                status: Set(DeliveryStatus::Pending.as_str().to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                claimed_until: Set(None),
                created_at: Set(now),
                finished_at: Set(None),
            });
            del::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(true)
    }

    /// Claims at most `limit` deliveries due at `now` of active subscriptions, each for one
    /// attempt until `lease_until`, with at most `per_subscription` of one subscription claimed
    /// at once (counting live claims of every process): one slow or failing receiver cannot
    /// take every sending slot, and each receiver gets a bounded number of requests at a time.
    /// Subscriptions whose oldest claimable delivery has waited longest come first (at most
    /// [`SUBSCRIPTIONS_PER_CLAIM`]), and slots go round them in turn, each its oldest
    /// deliveries first. One read, and no write, when nothing is due.
    pub async fn claim_webhook_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
        per_subscription: u64,
    ) -> Result<Vec<ClaimedWebhookDelivery>, StoreError> {
        let now = storage_precision(now);
        // One read when nothing is due (the usual case): no write lock taken every poll.
        let due: Option<Uuid> = del::Entity::find()
            .select_only()
            .column(del::Column::Id)
            .filter(del::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .filter(del::Column::NextAttemptAt.lte(now))
            .into_tuple()
            .one(&self.db)
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let txn = self.begin_write().await?;
        let backend = txn.get_database_backend();
        let postgres = backend == DbBackend::Postgres;
        let pending = DeliveryStatus::Pending.as_str();
        // Subscriptions with claimable work and a free place. On PostgreSQL each row is locked
        // until commit (one that another process is claiming for right now is skipped), so its
        // count of live claims holds while its places are filled; SQLite's write lock does the
        // same for the whole transaction.
        let claimable = |of: &str| {
            format!(
                "d.subscription_id = {of} AND d.status = ? AND d.next_attempt_at <= ? \
                 AND (d.claimed_until IS NULL OR d.claimed_until <= ?)"
            )
        };
        let busy = "(SELECT COUNT(*) FROM webhook_deliveries c \
                     WHERE c.subscription_id = s.id AND c.claimed_until > ?)";
        let sql = format!(
            "SELECT s.id, {busy} FROM webhook_subscriptions s WHERE s.status = ? \
               AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE {claimable}) \
               AND {busy} < ? \
             ORDER BY (SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d WHERE {claimable}), \
               s.id LIMIT {SUBSCRIPTIONS_PER_CLAIM}{lock}",
            claimable = claimable("s.id"),
            lock = if postgres {
                " FOR UPDATE OF s SKIP LOCKED"
            } else {
                ""
            },
        );
        let per_subscription_value = i64::try_from(per_subscription).unwrap_or(i64::MAX);
        let values: Vec<sea_orm::Value> = vec![
            now.into(),
            SubscriptionStatus::Active.as_str().into(),
            pending.into(),
            now.into(),
            now.into(),
            now.into(),
            per_subscription_value.into(),
            pending.into(),
            now.into(),
            now.into(),
        ];
        let waiting: Vec<(Uuid, i64)> = txn
            .query_all_raw(placeholders(backend, &sql, values))
            .await?
            .iter()
            .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
            .collect::<Result<_, sea_orm::DbErr>>()?;
        let free: Vec<(Uuid, u64)> = waiting
            .into_iter()
            .map(|(id, busy)| {
                let busy = u64::try_from(busy).unwrap_or(0);
                (id, per_subscription.saturating_sub(busy))
            })
            .collect();
        let shares = round_robin(&free, limit);
        if shares.is_empty() {
            txn.commit().await?;
            return Ok(Vec::new());
        }
        let lock = if postgres {
            " FOR UPDATE OF d SKIP LOCKED"
        } else {
            ""
        };
        let mut values: Vec<sea_orm::Value> = vec![storage_precision(lease_until).into()];
        let picks: Vec<String> = shares
            .iter()
            .enumerate()
            .map(|(n, (id, take))| {
                values.extend([(*id).into(), pending.into(), now.into(), now.into()]);
                format!(
                    "SELECT id FROM (SELECT d.id FROM webhook_deliveries d WHERE {} \
                     ORDER BY d.next_attempt_at, d.id LIMIT {take}{lock}) AS pick{n}",
                    claimable("?")
                )
            })
            .collect();
        let sql = format!(
            "UPDATE webhook_deliveries SET claimed_until = ?, attempts = attempts + 1 \
             WHERE id IN ({}) RETURNING id",
            picks.join(" UNION ALL ")
        );
        let claimed: Vec<Uuid> = txn
            .query_all_raw(placeholders(backend, &sql, values))
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<Uuid>(0))
            .collect::<Result<_, _>>()?;
        if claimed.is_empty() {
            txn.commit().await?;
            return Ok(Vec::new());
        }
        let deliveries = del::Entity::find()
            .filter(del::Column::Id.is_in(claimed))
            .order_by_asc(del::Column::NextAttemptAt)
            .all(&txn)
            .await?;
        let mut subscription_ids: Vec<Uuid> =
            deliveries.iter().map(|d| d.subscription_id).collect();
        subscription_ids.sort_unstable();
        subscription_ids.dedup();
        let subscriptions = sub::Entity::find()
            .filter(sub::Column::Id.is_in(subscription_ids))
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(deliveries
            .into_iter()
            .filter_map(|delivery| {
                let subscription = subscriptions
                    .iter()
                    .find(|s| s.id == delivery.subscription_id)?;
                let mut secrets = vec![subscription.secret.clone()];
                if let (Some(previous), Some(until)) = (
                    &subscription.previous_secret,
                    subscription.previous_secret_until,
                ) && until > now
                {
                    secrets.push(previous.clone());
                }
                Some(ClaimedWebhookDelivery {
                    url: subscription.url.clone(),
                    secrets,
                    delivery,
                })
            })
            .collect())
    }

    /// Records attempts, in one transaction, and moves each delivery on (only while the
    /// attempt's claim holds: a claim that lapsed and was taken again records nothing); counts
    /// each subscription's failures in a row, pausing it at `pause_after`. One transaction for
    /// many attempts: on SQLite a commit per attempt held the sender to ~400 deliveries/s.
    pub async fn record_webhook_attempts(
        &self,
        records: Vec<WebhookAttemptRecord>,
        pause_after: i32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let now = storage_precision(now);
        let txn = self.begin_write().await?;
        for record in records {
            record_attempt(&txn, record, pause_after, now).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// The latest deliveries of subscription `id` (newest first, at most `limit`) with their
    /// attempts, in attempt order.
    pub async fn webhook_deliveries(
        &self,
        id: Uuid,
        limit: u64,
    ) -> Result<Vec<(WebhookDeliveryRow, Vec<WebhookAttemptRow>)>, StoreError> {
        let deliveries = first_models(
            &self.db,
            del::Entity::find()
                .filter(del::Column::SubscriptionId.eq(id))
                .order_by_desc(del::Column::CreatedAt)
                .order_by_desc(del::Column::Seq),
            limit,
        )
        .await?;
        let ids: Vec<Uuid> = deliveries.iter().map(|d| d.id).collect();
        let mut attempts = att::Entity::find()
            .filter(att::Column::DeliveryId.is_in(ids))
            .order_by_asc(att::Column::Attempt)
            .all(&self.db)
            .await?;
        Ok(deliveries
            .into_iter()
            .map(|d| {
                let (mine, rest): (Vec<_>, Vec<_>) =
                    attempts.drain(..).partition(|a| a.delivery_id == d.id);
                attempts = rest;
                (d, mine)
            })
            .collect())
    }
}

/// Most subscriptions one claim serves (the longest waiting first).
pub const SUBSCRIPTIONS_PER_CLAIM: usize = 100;

/// How many of `limit` slots each subscription takes, in turn one at a time, none more than
/// it has free (in the order given; subscriptions given none are left out).
fn round_robin(free: &[(Uuid, u64)], limit: u64) -> Vec<(Uuid, u64)> {
    let mut shares: Vec<(Uuid, u64)> = free.iter().map(|(id, _)| (*id, 0)).collect();
    let mut left = limit;
    while left > 0 {
        let before = left;
        for ((_, take), (_, free)) in shares.iter_mut().zip(free) {
            if left > 0 && *take < *free {
                *take += 1;
                left -= 1;
            }
        }
        if left == before {
            break;
        }
    }
    shares.retain(|(_, take)| *take > 0);
    shares
}

/// Records one attempt inside `txn`: the delivery's next step (only while it is still the
/// claimed attempt), the attempt row, and the subscription's failures in a row (pausing it at
/// `pause_after`).
async fn record_attempt(
    txn: &crate::gate::Txn,
    record: WebhookAttemptRecord,
    pause_after: i32,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (status, next_at, finished) = match record.next {
        NextStep::Delivered => (DeliveryStatus::Delivered, None, Some(now)),
        NextStep::RetryAt(at) => (DeliveryStatus::Pending, Some(storage_precision(at)), None),
        NextStep::Failed => (DeliveryStatus::Failed, None, Some(now)),
    };
    let mut update = del::Entity::update_many()
        .col_expr(del::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            del::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(del::Column::FinishedAt, Expr::value(finished))
        .filter(del::Column::Id.eq(record.delivery_id))
        .filter(del::Column::Attempts.eq(record.attempt))
        .filter(del::Column::Status.eq(DeliveryStatus::Pending.as_str()));
    if let Some(at) = next_at {
        update = update.col_expr(del::Column::NextAttemptAt, Expr::value(at));
    }
    if update.exec(txn).await?.rows_affected == 0 {
        // Another claim of it was recorded first (its lease had ended): nothing to add.
        return Ok(());
    }
    att::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(record.delivery_id),
        subscription_id: Set(record.subscription_id),
        attempt: Set(record.attempt),
        attempted_at: Set(storage_precision(record.attempted_at)),
        status_code: Set(record.status_code),
        latency_ms: Set(record.latency_ms),
        error: Set(record.error),
    }
    .insert(txn)
    .await?;
    if record.next == NextStep::Delivered {
        sub::Entity::update_many()
            .col_expr(sub::Column::ConsecutiveFailures, Expr::value(0))
            .filter(sub::Column::Id.eq(record.subscription_id))
            .exec(txn)
            .await?;
    } else {
        sub::Entity::update_many()
            .col_expr(
                sub::Column::ConsecutiveFailures,
                Expr::col(sub::Column::ConsecutiveFailures).add(1),
            )
            .filter(sub::Column::Id.eq(record.subscription_id))
            .exec(txn)
            .await?;
        sub::Entity::update_many()
            .col_expr(sub::Column::Status, Expr::value(SubscriptionStatus::Paused.as_str()))
            .col_expr(
                sub::Column::PausedReason,
                Expr::value(format!(
                    "{pause_after} delivery attempts failed in a row; resume it when the target answers"
                )),
            )
            .filter(sub::Column::Id.eq(record.subscription_id))
            .filter(sub::Column::Status.eq(SubscriptionStatus::Active.as_str()))
            .filter(sub::Column::ConsecutiveFailures.gte(pause_after))
            .exec(txn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_go_round_the_subscriptions_in_turn_within_each_one_s_free_places() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let free = [(a, 4), (b, 1), (c, 2)];
        assert_eq!(round_robin(&free, 4), vec![(a, 2), (b, 1), (c, 1)]);
        assert_eq!(round_robin(&free, 100), vec![(a, 4), (b, 1), (c, 2)]);
        assert_eq!(round_robin(&free, 1), vec![(a, 1)]);
        assert!(round_robin(&free, 0).is_empty());
        assert!(round_robin(&[], 10).is_empty());
    }
}
