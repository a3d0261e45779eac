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
            for delivery in claimed {
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                    return;
                };
                let (webhooks, sender) = (webhooks.clone(), sender.clone());
                batch.spawn(async move {
                    deliver(&webhooks, &sender, delivery).await;
                    drop(slot);
                });
            }
            while batch.join_next().await.is_some() {}
        }
        tokio::select! {
            () = enqueued.notified() => {}
            () = tokio::time::sleep(poll) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

/// Sends one claimed delivery and records the attempt.
async fn deliver(webhooks: &Webhooks, sender: &Sender, claimed: ClaimedWebhookDelivery) {
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
    let record = WebhookAttemptRecord {
        delivery_id: delivery.id,
        subscription_id: delivery.subscription_id,
        attempt: delivery.attempts,
        attempted_at: at,
        status_code: attempt.status.map(i32::from),
        latency_ms: i64::try_from(attempt.latency.as_millis()).unwrap_or(i64::MAX),
        error: attempt.error,
        next,
    };
    if let Err(error) = webhooks.record(record).await {
        // The claim's lease ends and the delivery is tried again: at least once.
        tracing::warn!(%error, delivery = %delivery.id, "recording a webhook attempt failed");
    }
}
