//! Partner webhook settings (see the README's "Webhooks").

use std::time::Duration;

use clap::Args;
use gazette_api::ApiConfig;
use gazette_app::webhooks::WebhookConfig;

/// Partner webhooks: quotas, the sender's bounds, retries and the SSRF allow-list.
#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// Webhook subscriptions one token subject may hold; 0 turns webhooks off.
    #[arg(long, env = "GAZETTE_WEBHOOK_MAX_PER_PARTNER", default_value_t = WebhookConfig::default().max_per_owner)]
    pub webhook_max_per_partner: u64,
    /// Hosts a webhook target may name although they are local or private, over plain http
    /// too (comma-separated, e.g. `127.0.0.1,localhost`). For local testing only: in
    /// production leave it empty, so targets must be https and resolve to public addresses.
    #[arg(long, env = "GAZETTE_WEBHOOK_ALLOW_HOSTS", value_delimiter = ',')]
    pub webhook_allow_hosts: Vec<String>,
    /// Seconds a rotated-out signing secret keeps signing deliveries beside the new one.
    #[arg(long, env = "GAZETTE_WEBHOOK_SECRET_GRACE_SECS", default_value_t = WebhookConfig::default().secret_grace.as_secs())]
    pub webhook_secret_grace_secs: u64,
    /// Seconds a delivery is retried (backoff with jitter, `Retry-After` honoured) before it
    /// is marked failed.
    #[arg(long, env = "GAZETTE_WEBHOOK_RETRY_HORIZON_SECS", default_value_t = WebhookConfig::default().retry_horizon.as_secs())]
    pub webhook_retry_horizon_secs: u64,
    /// Failed attempts in a row after which a subscription is paused (its owner resumes it).
    #[arg(long, env = "GAZETTE_WEBHOOK_PAUSE_AFTER", default_value_t = WebhookConfig::default().pause_after)]
    pub webhook_pause_after: i32,
    /// Delivery requests one process has in flight at once.
    #[arg(long, env = "GAZETTE_WEBHOOK_CONCURRENCY", default_value_t = WebhookConfig::default().concurrency)]
    pub webhook_concurrency: usize,
    /// Delivery requests to one subscription in flight at once, across every process (a slow
    /// receiver holds at most this many sending slots).
    #[arg(long, env = "GAZETTE_WEBHOOK_PER_SUBSCRIPTION", default_value_t = WebhookConfig::default().per_subscription)]
    pub webhook_per_subscription: u64,
    /// Deliveries claimed at a time.
    #[arg(long, env = "GAZETTE_WEBHOOK_BATCH", default_value_t = WebhookConfig::default().batch)]
    pub webhook_batch: u64,
    /// Milliseconds one delivery request may take (connect, send, answer).
    #[arg(long, env = "GAZETTE_WEBHOOK_TIMEOUT_MS", default_value_t = millis(WebhookConfig::default().timeout))]
    pub webhook_timeout_ms: u64,
    /// Most bytes of a receiver's answer read.
    #[arg(long, env = "GAZETTE_WEBHOOK_MAX_RESPONSE_BYTES", default_value_t = WebhookConfig::default().max_response_bytes)]
    pub webhook_max_response_bytes: usize,
    /// Milliseconds between looks for due deliveries and unread changes when nothing wakes
    /// the sender.
    #[arg(long, env = "GAZETTE_WEBHOOK_POLL_MS", default_value_t = millis(WebhookConfig::default().poll))]
    pub webhook_poll_ms: u64,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Default for WebhookArgs {
    fn default() -> Self {
        let c = WebhookConfig::default();
        Self {
            webhook_max_per_partner: c.max_per_owner,
            webhook_allow_hosts: c.allow_hosts,
            webhook_secret_grace_secs: c.secret_grace.as_secs(),
            webhook_retry_horizon_secs: c.retry_horizon.as_secs(),
            webhook_pause_after: c.pause_after,
            webhook_concurrency: c.concurrency,
            webhook_per_subscription: c.per_subscription,
            webhook_batch: c.batch,
            webhook_timeout_ms: millis(c.timeout),
            webhook_max_response_bytes: c.max_response_bytes,
            webhook_poll_ms: millis(c.poll),
        }
    }
}

fn within<T: PartialOrd + std::fmt::Display>(
    name: &str,
    value: T,
    low: T,
    high: T,
) -> Result<T, String> {
    if value < low || value > high {
        return Err(format!("{name}: must be from {low} to {high}, not {value}"));
    }
    Ok(value)
}

impl WebhookArgs {
    /// The settings as the API takes them, each within its range.
    pub fn apply(&self, api: &mut ApiConfig) -> Result<(), String> {
        api.webhooks = WebhookConfig {
            max_per_owner: within(
                "GAZETTE_WEBHOOK_MAX_PER_PARTNER",
                self.webhook_max_per_partner,
                0,
                1_000,
            )?,
            allow_hosts: (self.webhook_allow_hosts.iter())
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect(),
            secret_grace: Duration::from_secs(within(
                "GAZETTE_WEBHOOK_SECRET_GRACE_SECS",
                self.webhook_secret_grace_secs,
                0,
                30 * 86_400,
            )?),
            retry_horizon: Duration::from_secs(within(
                "GAZETTE_WEBHOOK_RETRY_HORIZON_SECS",
                self.webhook_retry_horizon_secs,
                1,
                30 * 86_400,
            )?),
            pause_after: within(
                "GAZETTE_WEBHOOK_PAUSE_AFTER",
                self.webhook_pause_after,
                1,
                10_000,
            )?,
            concurrency: within(
                "GAZETTE_WEBHOOK_CONCURRENCY",
                self.webhook_concurrency,
                1,
                256,
            )?,
            per_subscription: within(
                "GAZETTE_WEBHOOK_PER_SUBSCRIPTION",
                self.webhook_per_subscription,
                1,
                256,
            )?,
            batch: within("GAZETTE_WEBHOOK_BATCH", self.webhook_batch, 1, 1_000)?,
            timeout: Duration::from_millis(within(
                "GAZETTE_WEBHOOK_TIMEOUT_MS",
                self.webhook_timeout_ms,
                100,
                120_000,
            )?),
            max_response_bytes: within(
                "GAZETTE_WEBHOOK_MAX_RESPONSE_BYTES",
                self.webhook_max_response_bytes,
                0,
                16 << 20,
            )?,
            poll: Duration::from_millis(within(
                "GAZETTE_WEBHOOK_POLL_MS",
                self.webhook_poll_ms,
                10,
                60_000,
            )?),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_per_subscription_are_checked() {
        let mut api = ApiConfig::default();
        assert!(WebhookArgs::default().apply(&mut api).is_ok());
        assert_eq!(api.webhooks.per_subscription, 4);
        for bad in [0, 257] {
            let args = WebhookArgs {
                webhook_per_subscription: bad,
                ..WebhookArgs::default()
            };
            let error = args.apply(&mut api).unwrap_err();
            assert!(
                error.starts_with("GAZETTE_WEBHOOK_PER_SUBSCRIPTION: must be from 1 to 256"),
                "{error}"
            );
        }
    }
}
