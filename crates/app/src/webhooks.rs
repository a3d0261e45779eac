//! Partner webhooks: the use cases partners (and admins) manage their subscriptions with, and
//! the reads and writes the sender (`gazette-push`) drives deliveries with.
//!
//! A subscription belongs to the token subject that made it; a partner sees and manages its
//! own, an admin every one; editors and anonymous callers are refused. Another partner's
//! subscription reads as not found. What a subscription delivers is exactly what `changes`
//! ([`crate::changes::read_changes`]) gives a partner with its owner's sub and scopes, judged
//! when the entry is read: embargoes, body rights and removals with their reasons included.

pub mod target;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gazette_domain::changes::ChangeCursor;
use gazette_domain::live::passes_filter;
use gazette_domain::webhooks::{DeliveryStatus, EventKind, SubscriptionStatus};
use gazette_domain::{Body, CursorKey as _, Slug, ValidationError, Viewer};
use gazette_persistence::webhooks::{
    ClaimedWebhookDelivery, NewWebhookDelivery, NewWebhookSubscription, WebhookAttemptRecord,
    WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionPatch, WebhookSubscriptionRow,
};
use uuid::Uuid;

use crate::changes::{Change, ChangeEntry};
use crate::{App, AppError, Relations};

/// Entries read from the log for one subscription at a time.
pub const PAGE: i32 = 100;
/// Most subscriptions listed at once (an admin's list included).
pub const MAX_LISTED: u64 = 1_000;
/// Most deliveries one delivery-log read returns.
pub const MAX_LOG: u64 = 100;
/// Most topics one filter names.
pub const MAX_TOPICS: usize = 20;
/// Longest target URL accepted.
pub const MAX_URL_LEN: usize = 2_048;

/// The bounds and policies of webhooks (the server's `GAZETTE_WEBHOOK_*` settings).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Subscriptions one token subject may hold; 0 turns webhooks off (no sender runs, and
    /// creating a subscription is refused).
    pub max_per_owner: u64,
    /// Hosts a target may name even though they are local or private (and may use plain
    /// http): for local testing only.
    pub allow_hosts: Vec<String>,
    /// How long a rotated-out secret still signs deliveries.
    pub secret_grace: Duration,
    /// How long a delivery is retried before it is marked failed.
    pub retry_horizon: Duration,
    /// Failed attempts in a row after which a subscription is paused.
    pub pause_after: i32,
    /// Deliveries sent at once by one process.
    pub concurrency: usize,
    /// Deliveries of one subscription in flight at once, across every process.
    pub per_subscription: u64,
    /// Deliveries claimed per claim statement.
    pub batch: u64,
    /// Longest a delivery request may take (connect, send, answer).
    pub timeout: Duration,
    /// Most bytes of a receiver's answer read (the rest is dropped).
    pub max_response_bytes: usize,
    /// How often the sender looks for due deliveries and unread log entries when nothing
    /// wakes it (moved clocks in tests, retries coming due).
    pub poll: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            max_per_owner: 10,
            allow_hosts: Vec::new(),
            secret_grace: Duration::from_secs(24 * 3600),
            retry_horizon: Duration::from_secs(24 * 3600),
            pause_after: 50,
            concurrency: 8,
            per_subscription: 4,
            batch: 32,
            timeout: Duration::from_secs(10),
            max_response_bytes: 64 * 1024,
            poll: Duration::from_secs(1),
        }
    }
}

/// Who manages subscriptions: a partner (its own) or an admin (every one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookManager {
    sub: String,
    scopes: Vec<String>,
    admin: bool,
}

impl WebhookManager {
    /// The capability of `viewer`: partners and admins; anonymous callers are
    /// unauthenticated, editors forbidden.
    pub fn check(viewer: &Viewer) -> Result<Self, AppError> {
        match viewer {
            Viewer::Partner { sub, scopes } => Ok(Self {
                sub: sub.clone(),
                scopes: scopes.clone(),
                admin: false,
            }),
            Viewer::Admin { sub } => Ok(Self {
                sub: sub.clone(),
                scopes: Vec::new(),
                admin: true,
            }),
            Viewer::Anonymous => Err(AppError::Unauthenticated(
                "webhooks need a partner or admin token (Authorization: Bearer …)".to_owned(),
            )),
            Viewer::Editor { .. } => Err(AppError::Forbidden(
                "webhooks are for partners (and admins); this is an editor token".to_owned(),
            )),
        }
    }

    fn may_manage(&self, row: &WebhookSubscriptionRow) -> bool {
        self.admin || row.owner_sub == self.sub
    }
}

/// A subscription as its owner sees it (never its secret).
#[derive(Debug, Clone)]
pub struct Subscription {
    /// Its id.
    pub id: Uuid,
    /// The owner's token subject.
    pub owner: String,
    /// Where deliveries go.
    pub url: String,
    /// Topic slugs filtered on (empty: all).
    pub topics: Vec<String>,
    /// Event kinds sent.
    pub events: Vec<EventKind>,
    /// Sending or paused.
    pub status: SubscriptionStatus,
    /// Why it is paused.
    pub paused_reason: Option<String>,
    /// Failed attempts in a row.
    pub consecutive_failures: i32,
    /// Change log position read up to (a `changes` cursor).
    pub cursor: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// A new subscription with its secret, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedSubscription {
    /// The subscription.
    pub subscription: Subscription,
    /// The signing secret (`whsec_…`).
    pub secret: String,
}

/// What a new subscription asks for.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionInput {
    /// Target URL.
    pub url: String,
    /// Topic slugs (empty: all).
    pub topics: Vec<String>,
    /// Event kind wire names (empty: all).
    pub events: Vec<String>,
}

/// Changes to a subscription; `None` keeps what is stored.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionUpdate {
    /// New target URL.
    pub url: Option<String>,
    /// New topic slugs.
    pub topics: Option<Vec<String>>,
    /// New event kinds.
    pub events: Option<Vec<String>>,
    /// `true` resumes a paused subscription, `false` pauses it.
    pub active: Option<bool>,
}

/// One delivery with its attempts, as the delivery log shows it.
#[derive(Debug, Clone)]
pub struct DeliveryLog {
    /// The delivery (its id is the `webhook-id`).
    pub delivery: WebhookDeliveryRow,
    /// Its attempts, in order.
    pub attempts: Vec<WebhookAttemptRow>,
}

impl DeliveryLog {
    /// Where the delivery stands.
    pub fn status(&self) -> DeliveryStatus {
        DeliveryStatus::from_stored(&self.delivery.status)
    }

    /// The `changes` cursor of its entry (deliveries may arrive out of order: order by it).
    pub fn cursor(&self) -> String {
        ChangeCursor(self.delivery.seq).encode()
    }

    /// When it is tried next: only while it is pending.
    pub fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.status() == DeliveryStatus::Pending).then_some(self.delivery.next_attempt_at)
    }
}

/// Entries read for one subscription, waiting to be written as deliveries.
#[derive(Debug)]
pub struct PendingEntries {
    /// The subscription.
    pub subscription: Uuid,
    /// The cursor read from, and the one to move to.
    pub from: i64,
    /// Where the read ended.
    pub to: i64,
    /// More can be read at once.
    pub has_more: bool,
    /// The entries that passed the filters, each with its kind.
    pub entries: Vec<(EventKind, ChangeEntry)>,
    /// Topics and authors of the upserted articles.
    pub relations: Relations,
    /// Bodies the owner may read.
    pub bodies: HashMap<Uuid, Body>,
    /// The instant the entries were judged at.
    pub now: DateTime<Utc>,
}

/// Webhook use cases over an [`App`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Webhooks {
    app: App,
    config: std::sync::Arc<WebhookConfig>,
}

fn split_words(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(' ').filter(|w| !w.is_empty())
}

fn cursor_position(raw: &str, field: &str) -> Result<i64, AppError> {
    Ok(ChangeCursor::parse_since(Some(raw))
        .map_err(|e| ValidationError::new(field, e.message))?
        .0)
}

/// A fresh signing secret: `whsec_` and 32 random bytes in base64.
fn new_secret() -> Result<String, AppError> {
    use base64::Engine as _;
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Internal(format!("no randomness for a webhook secret: {e}")))?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

impl Webhooks {
    /// Webhooks over `app` with `config`.
    pub fn new(app: App, config: WebhookConfig) -> Self {
        Self {
            app,
            config: std::sync::Arc::new(config),
        }
    }

    /// The settings.
    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    /// The application.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Whether webhooks are on.
    pub fn enabled(&self) -> bool {
        self.config.max_per_owner > 0
    }

    async fn topic_ids(&self, raw: &[String]) -> Result<Vec<Uuid>, AppError> {
        if raw.len() > MAX_TOPICS {
            return Err(
                ValidationError::new("topics", format!("at most {MAX_TOPICS} topics")).into(),
            );
        }
        let mut slugs: Vec<Slug> = Vec::with_capacity(raw.len());
        for topic in raw {
            let slug = Slug::parse_field("topics", topic.trim())?;
            if !slugs.contains(&slug) {
                slugs.push(slug);
            }
        }
        let found = self.app.store().topics_by_slugs(&slugs).await?;
        if let Some(unknown) = slugs.iter().find(|s| !found.contains_key(*s)) {
            return Err(AppError::unknown_topic(unknown));
        }
        Ok(slugs
            .iter()
            .filter_map(|s| found.get(s))
            .map(|t| t.id)
            .collect())
    }

    async fn view(&self, rows: Vec<WebhookSubscriptionRow>) -> Result<Vec<Subscription>, AppError> {
        let mut ids: Vec<Uuid> = rows
            .iter()
            .flat_map(|r| split_words(&r.topic_ids).filter_map(|t| t.parse().ok()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let topics = self.app.store().topics_by_ids(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|row| Subscription {
                id: row.id,
                topics: split_words(&row.topic_ids)
                    .filter_map(|t| t.parse::<Uuid>().ok())
                    .filter_map(|t| topics.get(&t))
                    .map(|t| t.slug.as_str().to_owned())
                    .collect(),
                events: split_words(&row.events)
                    .filter_map(|e| EventKind::parse("events", e).ok())
                    .collect(),
                status: SubscriptionStatus::from_stored(&row.status),
                paused_reason: row.paused_reason,
                consecutive_failures: row.consecutive_failures,
                cursor: ChangeCursor(row.cursor).encode(),
                created_at: row.created_at,
                owner: row.owner_sub,
                url: row.url,
            })
            .collect())
    }

    async fn one_view(&self, row: WebhookSubscriptionRow) -> Result<Subscription, AppError> {
        self.view(vec![row])
            .await?
            .pop()
            .ok_or_else(|| AppError::Internal("a subscription vanished while read".to_owned()))
    }

    /// The subscription `id` if `manager` may manage it; otherwise not found.
    async fn owned(
        &self,
        manager: &WebhookManager,
        id: &str,
    ) -> Result<WebhookSubscriptionRow, AppError> {
        let not_found = || AppError::NotFound(format!("webhook subscription `{id}`"));
        let uuid: Uuid = id.trim().parse().map_err(|_| not_found())?;
        match self.app.store().webhook_subscription(uuid).await? {
            Some(row) if manager.may_manage(&row) => Ok(row),
            _ => Err(not_found()),
        }
    }

    /// Creates a subscription for `viewer` that delivers what changes from now on; the
    /// secret is in the answer and nowhere else. The URL must be https and resolve to public
    /// addresses only (unless its host is allow-listed); bad input names `url`, `topics` or
    /// `events`; a full quota is a conflict.
    pub async fn create(
        &self,
        viewer: &Viewer,
        input: SubscriptionInput,
    ) -> Result<CreatedSubscription, AppError> {
        let manager = WebhookManager::check(viewer)?;
        if !self.enabled() {
            return Err(AppError::Forbidden(
                "webhooks are turned off on this server".to_owned(),
            ));
        }
        let url = target::check(&input.url, &self.config.allow_hosts).await?;
        let topic_ids = self.topic_ids(&input.topics).await?;
        let events = EventKind::parse_list("events", &input.events)?;
        let secret = new_secret()?;
        let store = self.app.store();
        let cursor = store.change_log_head().await?;
        let new = NewWebhookSubscription {
            id: Uuid::now_v7(),
            owner_sub: manager.sub.clone(),
            owner_scopes: manager.scopes.clone(),
            url: url.to_string(),
            topic_ids,
            events: events.iter().map(|k| k.as_str().to_owned()).collect(),
            secret: secret.clone(),
            cursor,
        };
        let row = store
            .insert_webhook_subscription(new, self.config.max_per_owner, self.app.now())
            .await?
            .ok_or_else(|| {
                AppError::Conflict(format!(
                    "this token subject holds {} webhook subscriptions already; delete one first",
                    self.config.max_per_owner
                ))
            })?;
        Ok(CreatedSubscription {
            subscription: self.one_view(row).await?,
            secret,
        })
    }

    /// The subscriptions `viewer` manages (an admin: every one), oldest first.
    pub async fn list(&self, viewer: &Viewer) -> Result<Vec<Subscription>, AppError> {
        let manager = WebhookManager::check(viewer)?;
        let owner = (!manager.admin).then_some(manager.sub.as_str());
        let rows = self
            .app
            .store()
            .webhook_subscriptions(owner, MAX_LISTED)
            .await?;
        self.view(rows).await
    }

    /// One subscription `viewer` manages; another partner's reads as not found.
    pub async fn get(&self, viewer: &Viewer, id: &str) -> Result<Subscription, AppError> {
        let manager = WebhookManager::check(viewer)?;
        let row = self.owned(&manager, id).await?;
        self.one_view(row).await
    }

    /// Changes a subscription (`active: true` resumes a paused one and forgets its failures).
    pub async fn update(
        &self,
        viewer: &Viewer,
        id: &str,
        update: SubscriptionUpdate,
    ) -> Result<Subscription, AppError> {
        let manager = WebhookManager::check(viewer)?;
        let row = self.owned(&manager, id).await?;
        let url = match update.url {
            Some(raw) => Some(
                target::check(&raw, &self.config.allow_hosts)
                    .await?
                    .to_string(),
            ),
            None => None,
        };
        let topic_ids = match update.topics {
            Some(raw) => Some(self.topic_ids(&raw).await?),
            None => None,
        };
        let events = update
            .events
            .map(|raw| EventKind::parse_list("events", &raw))
            .transpose()?
            .map(|kinds| kinds.iter().map(|k| k.as_str().to_owned()).collect());
        let patch = WebhookSubscriptionPatch {
            url,
            topic_ids,
            events,
            status: update.active.map(|active| {
                if active {
                    SubscriptionStatus::Active
                } else {
                    SubscriptionStatus::Paused
                }
            }),
        };
        let row = self
            .app
            .store()
            .update_webhook_subscription(row.id, patch, self.app.now())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("webhook subscription `{id}`")))?;
        self.one_view(row).await
    }

    /// Deletes a subscription with its deliveries.
    pub async fn delete(&self, viewer: &Viewer, id: &str) -> Result<(), AppError> {
        let manager = WebhookManager::check(viewer)?;
        let row = self.owned(&manager, id).await?;
        self.app.store().delete_webhook_subscription(row.id).await?;
        Ok(())
    }

    /// A new signing secret, shown this once; the old one keeps signing (beside it) for the
    /// grace period.
    pub async fn rotate_secret(
        &self,
        viewer: &Viewer,
        id: &str,
    ) -> Result<CreatedSubscription, AppError> {
        let manager = WebhookManager::check(viewer)?;
        let row = self.owned(&manager, id).await?;
        let secret = new_secret()?;
        let now = self.app.now();
        let grace = chrono::Duration::from_std(self.config.secret_grace)
            .unwrap_or(chrono::Duration::days(1));
        let row = self
            .app
            .store()
            .rotate_webhook_secret(row.id, secret.clone(), now + grace, now)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("webhook subscription `{id}`")))?;
        Ok(CreatedSubscription {
            subscription: self.one_view(row).await?,
            secret,
        })
    }

    /// Sends again everything after the `changes` cursor `since` (as new deliveries, judged
    /// now): the subscription's cursor moves back to it. A cursor ahead of the log is bad
    /// input naming `since`.
    pub async fn replay(
        &self,
        viewer: &Viewer,
        id: &str,
        since: &str,
    ) -> Result<Subscription, AppError> {
        let manager = WebhookManager::check(viewer)?;
        let row = self.owned(&manager, id).await?;
        let position = cursor_position(since, "since")?;
        let store = self.app.store();
        if position > store.change_log_head().await? {
            return Err(ValidationError::new(
                "since",
                "is ahead of this change log; replay from a cursor this server gave",
            )
            .into());
        }
        store
            .reset_webhook_cursor(row.id, position, self.app.now())
            .await?;
        let row = self.owned(&manager, id).await?;
        self.one_view(row).await
    }

    /// The latest deliveries of a subscription (newest first, at most `first`, default and
    /// most [`MAX_LOG`]) with their attempts.
    pub async fn deliveries(
        &self,
        viewer: &Viewer,
        id: &str,
        first: Option<i32>,
    ) -> Result<Vec<DeliveryLog>, AppError> {
        let manager = WebhookManager::check(viewer)?;
        let limit = match first {
            None => MAX_LOG,
            Some(n) if (1..=MAX_LOG as i32).contains(&n) => n as u64,
            Some(_) => {
                return Err(ValidationError::new(
                    "first",
                    format!("must be between 1 and {MAX_LOG}"),
                )
                .into());
            }
        };
        let row = self.owned(&manager, id).await?;
        Ok(self
            .app
            .store()
            .webhook_deliveries(row.id, limit)
            .await?
            .into_iter()
            .map(|(delivery, attempts)| DeliveryLog { delivery, attempts })
            .collect())
    }

    // ---- what the sender drives ----

    /// Active subscriptions after `after` (id order), at most `limit`.
    pub async fn active_subscriptions(
        &self,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<WebhookSubscriptionRow>, AppError> {
        Ok(self
            .app
            .store()
            .active_webhook_subscriptions(after, limit)
            .await?)
    }

    /// Reads one page of the log after `row`'s cursor as its owner would read `changes` at
    /// `now`, keeping the entries its topic and event filters pass.
    pub async fn read_pending(
        &self,
        row: &WebhookSubscriptionRow,
        now: DateTime<Utc>,
    ) -> Result<PendingEntries, AppError> {
        let viewer = Viewer::Partner {
            sub: row.owner_sub.clone(),
            scopes: split_words(&row.owner_scopes).map(str::to_owned).collect(),
        };
        let since = ChangeCursor(row.cursor).encode();
        let (page, relations) = self
            .app
            .changes(&viewer, Some(since.as_str()), Some(PAGE), now)
            .await?;
        let to = cursor_position(&page.next_cursor, "cursor")?;
        let wanted: Vec<Uuid> = split_words(&row.topic_ids)
            .filter_map(|t| t.parse().ok())
            .collect();
        let kinds: Vec<EventKind> = split_words(&row.events)
            .filter_map(|e| EventKind::parse("events", e).ok())
            .collect();
        let entries: Vec<(EventKind, ChangeEntry)> = page
            .entries
            .into_iter()
            .filter_map(|entry| {
                let (kind, topics) = match &entry.change {
                    Change::Upsert(article) => (
                        EventKind::of_upsert(article, now),
                        Some(
                            relations
                                .topic_ids
                                .get(&article.id)
                                .map_or(&[][..], Vec::as_slice),
                        ),
                    ),
                    Change::Remove(reason) => (EventKind::of_removal(*reason), None),
                };
                (kinds.contains(&kind) && passes_filter(&wanted, topics)).then_some((kind, entry))
            })
            .collect();
        let readable: Vec<Uuid> = entries
            .iter()
            .filter_map(|(_, e)| match &e.change {
                Change::Upsert(a) => {
                    gazette_domain::syndication::may_read_body(&viewer, a, now).then_some(a.id)
                }
                Change::Remove(_) => None,
            })
            .collect();
        let bodies = self.app.bodies(&readable).await?;
        Ok(PendingEntries {
            subscription: row.id,
            from: row.cursor,
            to,
            has_more: page.has_more,
            entries,
            relations,
            bodies,
            now,
        })
    }

    /// Writes `pending`'s entries as deliveries (`payloads` in the same order, each a JSON
    /// body) and moves the cursor, at once; false when another process did first.
    pub async fn enqueue(
        &self,
        pending: &PendingEntries,
        payloads: Vec<String>,
    ) -> Result<bool, AppError> {
        let deliveries = pending
            .entries
            .iter()
            .zip(payloads)
            .map(|((kind, entry), payload)| {
                Ok(NewWebhookDelivery {
                    id: Uuid::now_v7(),
                    seq: cursor_position(&entry.cursor, "cursor")?,
                    article_id: entry.article_id,
                    event: kind.as_str().to_owned(),
                    payload,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(self
            .app
            .store()
            .enqueue_webhook_deliveries(
                pending.subscription,
                (pending.from, pending.to),
                deliveries,
                pending.now,
            )
            .await?)
    }

    /// The change log's head at `now`, once the publications and embargo lifts due by then
    /// are in it.
    pub async fn log_head(&self, now: DateTime<Utc>) -> Result<i64, AppError> {
        let store = self.app.store();
        store.materialize_due_changes(now).await?;
        Ok(store.change_log_head().await?)
    }

    /// Claims due deliveries for one attempt each: at most `room` (the sender's free places)
    /// and the configured batch, so what is claimed is what is about to be sent, and a
    /// subscription's places count its requests on the wire, not ones waiting in a queue.
    /// Leased for as long as sending a whole batch may take (rounds of `concurrency` requests,
    /// each up to the timeout, one more for the requests already in flight when it was
    /// claimed) and a margin.
    pub async fn claim(
        &self,
        now: DateTime<Utc>,
        room: usize,
    ) -> Result<Vec<ClaimedWebhookDelivery>, AppError> {
        let rounds = u32::try_from(
            usize::try_from(self.config.batch)
                .unwrap_or(usize::MAX)
                .div_ceil(self.config.concurrency.max(1))
                .saturating_add(1),
        )
        .unwrap_or(u32::MAX);
        let lease = chrono::Duration::from_std(
            self.config.timeout.saturating_mul(rounds) + Duration::from_secs(30),
        )
        .unwrap_or(chrono::Duration::hours(1));
        Ok(self
            .app
            .store()
            .claim_webhook_deliveries(
                now,
                now + lease,
                self.config
                    .batch
                    .min(u64::try_from(room).unwrap_or(u64::MAX)),
                self.config.per_subscription,
            )
            .await?)
    }

    /// Records what attempts came to (one transaction for them all).
    pub async fn record(&self, records: Vec<WebhookAttemptRecord>) -> Result<(), AppError> {
        Ok(self
            .app
            .store()
            .record_webhook_attempts(records, self.config.pause_after, self.app.now())
            .await?)
    }
}
