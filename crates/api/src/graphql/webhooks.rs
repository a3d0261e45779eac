//! Partner webhooks over GraphQL: thin adapters over [`gazette_app::webhooks::Webhooks`]
//! (partners manage their own subscriptions, admins every one).

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use gazette_app::webhooks::{
    CreatedSubscription, DeliveryLog, MAX_LOG, Subscription, SubscriptionInput, SubscriptionUpdate,
};
use gazette_domain::webhooks::{DeliveryStatus, SubscriptionStatus};

use super::ContextExt as _;
use crate::error::GqlResultExt as _;

/// Whether a subscription sends.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    /// Deliveries are sent.
    Active,
    /// Nothing is sent (see `pausedReason`); resuming sends everything since it paused.
    Paused,
}

/// Where a delivery stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum WebhookDeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up (the retry horizon passed, or the receiver refused it with a 4xx).
    Failed,
}

/// A webhook subscription (never its secret).
#[derive(SimpleObject)]
pub struct WebhookSubscription {
    id: ID,
    /// The token subject that owns it.
    owner: String,
    /// Where deliveries go.
    url: String,
    /// Topic slugs filtered on (empty: every topic; removals always pass).
    topics: Vec<String>,
    /// Event types sent (`article.published`, `article.updated`, `article.corrected`,
    /// `article.removed`, `article.embargo_lifted`).
    events: Vec<String>,
    status: WebhookStatus,
    /// Why it is paused.
    paused_reason: Option<String>,
    /// Failed attempts in a row.
    consecutive_failures: i32,
    /// The change log position read up to (a `changes` cursor).
    cursor: String,
    created_at: DateTime<Utc>,
}

impl From<Subscription> for WebhookSubscription {
    fn from(s: Subscription) -> Self {
        Self {
            id: ID(s.id.to_string()),
            owner: s.owner,
            url: s.url,
            topics: s.topics,
            events: s.events.iter().map(|k| k.as_str().to_owned()).collect(),
            status: match s.status {
                SubscriptionStatus::Active => WebhookStatus::Active,
                SubscriptionStatus::Paused => WebhookStatus::Paused,
            },
            paused_reason: s.paused_reason,
            consecutive_failures: s.consecutive_failures,
            cursor: s.cursor,
            created_at: s.created_at,
        }
    }
}

/// A subscription with its signing secret, shown this once.
#[derive(SimpleObject)]
pub struct WebhookSecret {
    subscription: WebhookSubscription,
    /// `whsec_…`: verify the `webhook-signature` header with it (Standard Webhooks).
    secret: String,
}

impl From<CreatedSubscription> for WebhookSecret {
    fn from(c: CreatedSubscription) -> Self {
        Self {
            subscription: c.subscription.into(),
            secret: c.secret,
        }
    }
}

/// One try to send a delivery.
#[derive(SimpleObject)]
pub struct WebhookAttempt {
    attempt: i32,
    attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when it did not answer.
    status_code: Option<i32>,
    latency_ms: i64,
    /// What went wrong, when something did.
    error: Option<String>,
}

/// One message: the same `webhook-id` on every attempt.
#[derive(SimpleObject)]
pub struct WebhookDelivery {
    /// The `webhook-id`.
    id: ID,
    /// The event type.
    event: String,
    /// The change log position it came from (a `changes` cursor).
    cursor: String,
    article_id: ID,
    status: WebhookDeliveryStatus,
    created_at: DateTime<Utc>,
    /// When the next attempt is due (pending deliveries).
    next_attempt_at: Option<DateTime<Utc>>,
    attempts: Vec<WebhookAttempt>,
}

impl From<DeliveryLog> for WebhookDelivery {
    fn from(log: DeliveryLog) -> Self {
        let (status, cursor, next_attempt_at) = (log.status(), log.cursor(), log.next_attempt_at());
        let d = log.delivery;
        Self {
            id: ID(d.id.to_string()),
            event: d.event,
            cursor,
            article_id: ID(d.article_id.to_string()),
            status: match status {
                DeliveryStatus::Pending => WebhookDeliveryStatus::Pending,
                DeliveryStatus::Delivered => WebhookDeliveryStatus::Delivered,
                DeliveryStatus::Failed => WebhookDeliveryStatus::Failed,
            },
            created_at: d.created_at,
            next_attempt_at,
            attempts: (log.attempts.into_iter())
                .map(|a| WebhookAttempt {
                    attempt: a.attempt,
                    attempted_at: a.attempted_at,
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error,
                })
                .collect(),
        }
    }
}

/// A new subscription.
#[derive(InputObject)]
pub struct WebhookSubscriptionInput {
    /// An https URL resolving to public addresses.
    url: String,
    /// Topic slugs (default: every topic).
    #[graphql(default)]
    topics: Vec<String>,
    /// Event types (default: every one).
    #[graphql(default)]
    events: Vec<String>,
}

/// Changes to a subscription; absent fields stay.
#[derive(InputObject)]
pub struct UpdateWebhookSubscriptionInput {
    url: Option<String>,
    topics: Option<Vec<String>>,
    events: Option<Vec<String>>,
    /// `true` resumes a paused subscription (forgetting its failures), `false` pauses it.
    active: Option<bool>,
}

fn deliveries_cost(first: Option<i32>, child: usize) -> usize {
    let size = first.unwrap_or(MAX_LOG as i32).clamp(1, MAX_LOG as i32);
    usize::try_from(size).unwrap_or(0) * child + 1
}

/// Webhook reads.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Your webhook subscriptions (an admin: every one), oldest first.
    #[graphql(complexity = "child_complexity * 10 + 1")]
    async fn webhook_subscriptions(&self, ctx: &Context<'_>) -> Result<Vec<WebhookSubscription>> {
        // Per token subject: no shared cache may keep it.
        super::tags(ctx).never_store();
        let viewer = &ctx.request_context().viewer;
        let list = ctx.app_state().webhooks().list(viewer).await.gql()?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// A subscription's latest deliveries, newest first, with their attempts. `first`: 1 to
    /// 100 (default 100).
    #[graphql(complexity = "deliveries_cost(first, child_complexity)")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        subscription_id: ID,
        first: Option<i32>,
    ) -> Result<Vec<WebhookDelivery>> {
        super::tags(ctx).never_store();
        let viewer = &ctx.request_context().viewer;
        let webhooks = ctx.app_state().webhooks();
        let log = webhooks
            .deliveries(viewer, &subscription_id, first)
            .await
            .gql()?;
        Ok(log.into_iter().map(Into::into).collect())
    }
}

/// Webhook writes.
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Subscribes to what changes from now on. The answer holds the signing secret: the only
    /// time it is shown.
    async fn create_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        input: WebhookSubscriptionInput,
    ) -> Result<WebhookSecret> {
        let viewer = &ctx.request_context().viewer;
        let input = SubscriptionInput {
            url: input.url,
            topics: input.topics,
            events: input.events,
        };
        let created = ctx
            .app_state()
            .webhooks()
            .create(viewer, input)
            .await
            .gql()?;
        Ok(created.into())
    }

    /// Changes a subscription; `active: true` resumes a paused one.
    async fn update_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWebhookSubscriptionInput,
    ) -> Result<WebhookSubscription> {
        let viewer = &ctx.request_context().viewer;
        let update = SubscriptionUpdate {
            url: input.url,
            topics: input.topics,
            events: input.events,
            active: input.active,
        };
        let webhooks = ctx.app_state().webhooks();
        Ok(webhooks.update(viewer, &id, update).await.gql()?.into())
    }

    /// Deletes a subscription with its delivery log.
    async fn delete_webhook_subscription(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let viewer = &ctx.request_context().viewer;
        ctx.app_state().webhooks().delete(viewer, &id).await.gql()?;
        Ok(true)
    }

    /// A new signing secret, shown this once; the previous one keeps signing beside it for
    /// the grace period (`GAZETTE_WEBHOOK_SECRET_GRACE_SECS`).
    async fn rotate_webhook_secret(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookSecret> {
        let viewer = &ctx.request_context().viewer;
        let rotated = ctx
            .app_state()
            .webhooks()
            .rotate_secret(viewer, &id)
            .await
            .gql()?;
        Ok(rotated.into())
    }

    /// Sends again everything after the `changes` cursor `since`, as it is now.
    async fn replay_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        id: ID,
        since: String,
    ) -> Result<WebhookSubscription> {
        let viewer = &ctx.request_context().viewer;
        let webhooks = ctx.app_state().webhooks();
        Ok(webhooks.replay(viewer, &id, &since).await.gql()?.into())
    }
}
