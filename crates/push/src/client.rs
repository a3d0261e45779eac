//! Sending one delivery: the HTTP client, its SSRF guard, and what an answer means.
//!
//! The client resolves names itself ([`GuardedResolver`]): every address a name resolves to is
//! checked ([`gazette_app::webhooks::target::resolve`]) and the connection goes to those
//! addresses only, so a DNS answer cannot be swapped between the check and the connection.
//! A URL naming an IP address is checked before sending (no lookup happens for it). No
//! redirect is followed (a 3xx is a refusal), no proxy is used, every request has a timeout,
//! and at most `max_response_bytes` of an answer are read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gazette_app::webhooks::{WebhookConfig, target};
use gazette_domain::webhooks::AttemptOutcome;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Host;

/// Resolves names for the delivery client, refusing names that reach a forbidden address.
#[derive(Debug)]
struct GuardedResolver {
    allow_hosts: Arc<Vec<String>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_hosts = Arc::clone(&self.allow_hosts);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = target::resolve(&Host::Domain(host.as_str()), 0, &allow_hosts)
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Delivered, retry, or refused for good.
    pub outcome: AttemptOutcome,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// How long the attempt took.
    pub latency: Duration,
    /// What went wrong, when something did.
    pub error: Option<String>,
}

/// The delivery client.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_hosts: Arc<Vec<String>>,
    max_response_bytes: usize,
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The TLS settings.
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// The HTTP client.
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

impl Sender {
    /// A client for `config`: TLS with the Mozilla roots on the `ring` provider, the guarded
    /// resolver, no redirects, no proxy, the request timeout.
    pub fn new(config: &WebhookConfig) -> Result<Self, ClientError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let allow_hosts = Arc::new(config.allow_hosts.clone());
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(GuardedResolver {
                allow_hosts: Arc::clone(&allow_hosts),
            })
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .pool_max_idle_per_host(2)
            .user_agent(concat!("Gazette-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            allow_hosts,
            max_response_bytes: config.max_response_bytes,
        })
    }

    /// Sends `body` to `url` as message `id` at `at`, signed with `secrets`.
    pub async fn send(
        &self,
        url: &str,
        id: &str,
        body: &str,
        secrets: &[String],
        at: DateTime<Utc>,
    ) -> Attempt {
        let started = Instant::now();
        let refused = |error: String| Attempt {
            outcome: AttemptOutcome::Refused,
            status: None,
            latency: started.elapsed(),
            error: Some(error),
        };
        // Checked again at every delivery: the allow-list may have changed since it was saved.
        let url = match target::parse(url, &self.allow_hosts) {
            Ok(url) => url,
            Err(e) => return refused(e.message),
        };
        if let Some(host @ (Host::Ipv4(_) | Host::Ipv6(_))) = url.host()
            && let Err(e) = target::resolve(&host, 0, &self.allow_hosts).await
        {
            return refused(e.message);
        }
        let timestamp = at.timestamp();
        let signature = match crate::sign::signature(secrets, id, timestamp, body) {
            Ok(signature) => signature,
            Err(e) => return refused(format!("cannot sign: {e}")),
        };
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_owned());
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                let error = describe(&e);
                // Refused by the guard: do not retry what can never be sent.
                let outcome = if error.contains("public addresses only") {
                    AttemptOutcome::Refused
                } else {
                    AttemptOutcome::Retry { retry_after: None }
                };
                return Attempt {
                    outcome,
                    status: None,
                    latency: started.elapsed(),
                    error: Some(error),
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, at));
        // Read (at most the cap of) the answer so the connection can be used again.
        let mut read = 0_usize;
        while read < self.max_response_bytes {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        let outcome = AttemptOutcome::of_status(status, retry_after);
        Attempt {
            error: match outcome {
                AttemptOutcome::Delivered => None,
                _ if (300..400).contains(&status) => {
                    Some(format!("answered {status}; redirects are not followed"))
                }
                _ => Some(format!("answered {status}")),
            },
            outcome,
            status: Some(status),
            latency: started.elapsed(),
        }
    }
}

/// The error and its causes, in one line (a timeout says so).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_owned();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A `Retry-After` value (seconds, or an HTTP date) as a wait from `now`.
pub fn retry_after(raw: &str, now: DateTime<Utc>) -> Option<chrono::Duration> {
    let raw = raw.trim();
    if let Ok(seconds) = raw.parse::<u32>() {
        return Some(chrono::Duration::seconds(i64::from(seconds)));
    }
    let at: DateTime<Utc> = httpdate::parse_http_date(raw).ok()?.into();
    Some((at - now).max(chrono::Duration::zero()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2025-05-15T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            retry_after("120", now),
            Some(chrono::Duration::seconds(120))
        );
        assert_eq!(
            retry_after("Thu, 15 May 2025 09:01:00 GMT", now),
            Some(chrono::Duration::seconds(60))
        );
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-3", now), None);
    }
}
