//! The worker: claims due deliveries and sends them, at most `concurrency` at once.

use std::sync::Arc;

use gazette_app::webhooks::Webhooks;
use gazette_domain::webhooks::{AttemptOutcome, next_attempt};
use gazette_persistence::webhooks::{ClaimedWebhookDelivery, NextStep, WebhookAttemptRecord};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::client::Sender;

/// Runs until `stop` turns true. Deliveries stay in flight across claims: a slow target holds
/// its own slots only, never the next claim; finished attempts are recorded
/// [`RECORD_BATCH`] to a transaction.
pub(crate) async fn run(
    webhooks: Webhooks,
    sender: Sender,
    enqueued: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let poll = webhooks.config().poll;
    let concurrency = webhooks.config().concurrency.max(1);
    let mut in_flight = JoinSet::new();
    let mut done = Vec::with_capacity(RECORD_BATCH);
    loop {
        if *stop.borrow() {
            record(&webhooks, done).await;
            return;
        }
        // Claim while at least half the slots are free (not at every finished delivery: a
        // claim is a statement), after recording what finished (so nothing finished can be
        // claimed again).
        let claimed = if in_flight.len() <= concurrency / 2 {
            record(&webhooks, std::mem::take(&mut done)).await;
            let room = concurrency.saturating_sub(in_flight.len());
            match webhooks.claim(webhooks.app().now(), room).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "claiming webhook deliveries failed; trying again");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let claimed_any = !claimed.is_empty();
        for delivery in claimed {
            while in_flight.len() >= concurrency {
                if let Some(finished) = in_flight.join_next().await {
                    done.extend(finished.ok());
                }
            }
            while let Some(finished) = in_flight.try_join_next() {
                done.extend(finished.ok());
            }
            if done.len() >= RECORD_BATCH {
                record(&webhooks, std::mem::take(&mut done)).await;
            }
            let (webhooks, sender) = (webhooks.clone(), sender.clone());
            in_flight.spawn(async move { deliver(&webhooks, &sender, delivery).await });
        }
        if claimed_any {
            continue;
        }
        // Nothing to claim for now: record what finished, then wait for a delivery to
        // finish, new work, the poll interval or the stop.
        record(&webhooks, std::mem::take(&mut done)).await;
        tokio::select! {
            Some(finished) = in_flight.join_next(), if !in_flight.is_empty() => {
                done.extend(finished.ok());
            }
            () = enqueued.notified() => {}
            () = tokio::time::sleep(poll) => {}
            _ = stop.wait_for(|stop| *stop) => {}
        }
    }
}

/// Most attempts recorded in one transaction (the claim's lease covers the wait).
const RECORD_BATCH: usize = 64;

/// Records finished attempts in one transaction.
async fn record(webhooks: &Webhooks, records: Vec<WebhookAttemptRecord>) {
    if records.is_empty() {
        return;
    }
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
