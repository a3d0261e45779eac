//! The worker: claims due deliveries and sends them, at most `concurrency` at once.

use std::sync::Arc;

use gazette_app::webhooks::Webhooks;
use gazette_domain::webhooks::{AttemptOutcome, next_attempt};
use gazette_persistence::webhooks::{ClaimedWebhookDelivery, NextStep, WebhookAttemptRecord};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::client::Sender;

/// Runs until `stop` turns true.
pub(crate) async fn run(
    webhooks: Webhooks,
    sender: Sender,
    enqueued: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let poll = webhooks.config().poll;
    let slots = Arc::new(Semaphore::new(webhooks.config().concurrency.max(1)));
    loop {
        // Drain what is due, a claimed batch at a time.
        loop {
            if *stop.borrow() {
                return;
            }
            let claimed = match webhooks.claim(webhooks.app().now()).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "claiming webhook deliveries failed; trying again");
                    break;
                }
            };
            if claimed.is_empty() {
                break;
            }
            let mut batch = JoinSet::new();
            let mut done = Vec::with_capacity(RECORD_BATCH);
            for delivery in claimed {
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                    return;
                };
                let (task_webhooks, sender) = (webhooks.clone(), sender.clone());
                batch.spawn(async move {
                    let record = deliver(&task_webhooks, &sender, delivery).await;
                    drop(slot);
                    record
                });
                while let Some(finished) = batch.try_join_next() {
                    done.extend(finished.ok());
                }
                if done.len() >= RECORD_BATCH {
                    record(&webhooks, std::mem::take(&mut done)).await;
                }
            }
            while let Some(finished) = batch.join_next().await {
                done.extend(finished.ok());
                if done.len() >= RECORD_BATCH {
                    record(&webhooks, std::mem::take(&mut done)).await;
                }
            }
            record(&webhooks, done).await;
        }
        tokio::select! {
            () = enqueued.notified() => {}
            () = tokio::time::sleep(poll) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

/// Most attempts recorded in one transaction (the claim's lease covers the wait).
const RECORD_BATCH: usize = 64;

/// Records finished attempts in one transaction.
async fn record(webhooks: &Webhooks, records: Vec<WebhookAttemptRecord>) {
    let count = records.len();
    if let Err(error) = webhooks.record(records).await {
        // The claims' lease ends and the deliveries are tried again: at least once.
        tracing::warn!(%error, count, "recording webhook attempts failed");
    }
}

/// Sends one claimed delivery; what the attempt came to, to record.
async fn deliver(
    webhooks: &Webhooks,
    sender: &Sender,
    claimed: ClaimedWebhookDelivery,
) -> WebhookAttemptRecord {
    let delivery = &claimed.delivery;
    let at = webhooks.app().now();
    let attempt = sender
        .send(
            &claimed.url,
            &delivery.id.to_string(),
            &delivery.payload,
            &claimed.secrets,
            at,
        )
        .await;
    let horizon = delivery.created_at
        + chrono::Duration::from_std(webhooks.config().retry_horizon)
            .unwrap_or(chrono::Duration::days(1));
    let now = webhooks.app().now();
    let next = match attempt.outcome {
        AttemptOutcome::Delivered => NextStep::Delivered,
        AttemptOutcome::Refused => NextStep::Failed,
        AttemptOutcome::Retry { retry_after } => {
            let tries = u32::try_from(delivery.attempts).unwrap_or(1);
            match next_attempt(tries, retry_after, crate::jitter(), now, horizon) {
                Some(at) => NextStep::RetryAt(at),
                None => NextStep::Failed,
            }
        }
    };
    let outcome = match next {
        NextStep::Delivered => "delivered",
        NextStep::RetryAt(_) => "retry",
        NextStep::Failed => "failed",
    };
    metrics::counter!("gazette_webhook_attempts_total", "outcome" => outcome).increment(1);
    WebhookAttemptRecord {
        delivery_id: delivery.id,
        subscription_id: delivery.subscription_id,
        attempt: delivery.attempts,
        attempted_at: at,
        status_code: attempt.status.map(i32::from),
        latency_ms: i64::try_from(attempt.latency.as_millis()).unwrap_or(i64::MAX),
        error: attempt.error,
        next,
    }
}
