//! The dispatcher: the change log into the delivery outbox, subscription by subscription.

use std::sync::Arc;

use gazette_app::webhooks::Webhooks;
use tokio::sync::{Notify, watch};

/// Subscriptions read per statement.
const SUBSCRIPTIONS_PER_READ: u64 = 100;
/// Log pages read for one subscription per wake (the rest waits for the next).
const PAGES_PER_WAKE: usize = 10;

/// Runs until `stop` turns true.
pub(crate) async fn run(
    webhooks: Webhooks,
    enqueued: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut content = webhooks.app().content_signal();
    let poll = webhooks.config().poll;
    loop {
        match dispatch_all(&webhooks).await {
            Ok(0) => {}
            Ok(written) => {
                metrics::counter!("gazette_webhook_enqueued_total").increment(written as u64);
                enqueued.notify_one();
            }
            Err(error) => tracing::warn!(%error, "webhook dispatch failed; trying again"),
        }
        tokio::select! {
            _ = content.changed() => {}
            () = tokio::time::sleep(poll) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

/// One pass over every active subscription behind the log's head; the deliveries written.
async fn dispatch_all(webhooks: &Webhooks) -> Result<usize, gazette_app::AppError> {
    let now = webhooks.app().now();
    let mut page = webhooks
        .active_subscriptions(None, SUBSCRIPTIONS_PER_READ)
        .await?;
    if page.is_empty() {
        // No subscription: one read per wake, nothing more.
        return Ok(0);
    }
    let head = webhooks.log_head(now).await?;
    let mut written = 0;
    loop {
        let Some(after) = page.last().map(|last| last.id) else {
            return Ok(written);
        };
        for mut subscription in std::mem::take(&mut page) {
            for _ in 0..PAGES_PER_WAKE {
                if subscription.cursor >= head {
                    break;
                }
                let pending = webhooks.read_pending(&subscription, now).await?;
                let mut payloads = Vec::with_capacity(pending.entries.len());
                for (kind, entry) in &pending.entries {
                    let payload = gazette_api::http::webhook_payload(
                        *kind,
                        entry,
                        &pending.relations,
                        &pending.bodies,
                        pending.now,
                    )
                    .map_err(|e| {
                        gazette_app::AppError::Internal(format!("webhook payload: {e}"))
                    })?;
                    payloads.push(payload);
                }
                let count = payloads.len();
                if !webhooks.enqueue(&pending, payloads).await? {
                    // Another process moved this cursor first (or a replay did).
                    break;
                }
                written += count;
                if !pending.has_more || pending.to == subscription.cursor {
                    break;
                }
                subscription.cursor = pending.to;
            }
        }
        page = webhooks
            .active_subscriptions(Some(after), SUBSCRIPTIONS_PER_READ)
            .await?;
    }
}
