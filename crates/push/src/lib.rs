//! The webhook sender: two tasks per process over [`gazette_app::webhooks::Webhooks`].
//!
//! **The dispatcher** reads the change log for each active subscription from its durable
//! cursor, as its owner would read `changes` now, and writes the entries its filters pass as
//! deliveries, moving the cursor in the same transaction (the outbox: nothing is lost across
//! restarts, and two processes never enqueue an entry twice). It wakes on the application's
//! content signal (this process's writes; other processes' through PostgreSQL LISTEN/NOTIFY)
//! and every `poll` (scheduled publications and embargo lifts come due on the clock).
//!
//! **The worker** claims due deliveries (`FOR UPDATE SKIP LOCKED` on PostgreSQL, under a lease)
//! and sends each, signed ([`sign`]), to an address the SSRF guard checked ([`client`]); it
//! records every attempt and reschedules failures with exponential backoff and full jitter,
//! honouring `Retry-After`, until the retry horizon. At most `concurrency` requests are in
//! flight per process, and `per_subscription` of one subscription across processes (the claim
//! counts them), each with a timeout and a cap on the answer read.

pub mod client;
mod dispatch;
pub mod sign;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use gazette_app::webhooks::Webhooks;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// The running sender; [`Push::stop`] ends it.
#[derive(Debug)]
pub struct Push {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Why the sender could not start.
#[derive(Debug, thiserror::Error)]
#[error("webhook sender: {0}")]
pub struct StartError(String);

impl Push {
    /// Starts the dispatcher and the worker over `webhooks` (nothing when webhooks are off).
    pub fn start(webhooks: Webhooks) -> Result<Option<Self>, StartError> {
        if !webhooks.enabled() {
            return Ok(None);
        }
        let config = webhooks.config();
        if usize::try_from(config.per_subscription).unwrap_or(usize::MAX) >= config.concurrency {
            tracing::warn!(
                per_subscription = config.per_subscription,
                concurrency = config.concurrency,
                "GAZETTE_WEBHOOK_PER_SUBSCRIPTION is not below GAZETTE_WEBHOOK_CONCURRENCY: one \
                 receiver that stops answering can take every sending place"
            );
        }
        let client = client::Sender::new(config).map_err(|e| StartError(e.to_string()))?;
        let (stop, stopped) = watch::channel(false);
        let enqueued = Arc::new(Notify::new());
        let tasks = vec![
            tokio::spawn(dispatch::run(
                webhooks.clone(),
                Arc::clone(&enqueued),
                stopped.clone(),
            )),
            tokio::spawn(worker::run(webhooks, client, enqueued, stopped)),
        ];
        Ok(Some(Self { stop, tasks }))
    }

    /// Stops both tasks, waiting at most `limit` for requests in flight (their deliveries are
    /// claimed again when their lease ends).
    pub async fn stop(self, limit: Duration) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if tokio::time::timeout(limit, task).await.is_err() {
                tracing::warn!("webhook sender did not stop in time");
            }
        }
    }
}

/// A number drawn uniformly from `[0, 1)` (retry jitter).
fn jitter() -> f64 {
    let mut bytes = [0_u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1_u64 << 53) as f64
}
