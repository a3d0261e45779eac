//! Sending one delivery: the HTTP client, its SSRF guard, and what an answer means.
//!
//! The client (hyper's, with rustls) resolves names itself ([`GuardedResolver`]): every
//! address a name resolves to is checked ([`gazette_app::webhooks::target::resolve`]) and the
//! connection goes to those addresses only, so a DNS answer cannot be swapped between the check and the connection.
//! A URL naming an IP address is checked before sending (no lookup happens for it). No
//! redirect is followed (a 3xx is a refusal), no proxy is used, every request has a timeout,
//! and at most `max_response_bytes` of an answer are read.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use gazette_app::webhooks::{WebhookConfig, target};
use gazette_domain::ValidationError;
use gazette_domain::webhooks::AttemptOutcome;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use url::Host;

/// Resolves names for the delivery client, refusing names that reach a forbidden address.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    allow_hosts: Arc<Vec<String>>,
}

type Resolving =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, ValidationError>> + Send>>;

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = ValidationError;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_hosts = Arc::clone(&self.allow_hosts);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = target::resolve(&Host::Domain(host.as_str()), 0, &allow_hosts).await?;
            Ok(addresses.into_iter())
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

type Https = hyper_rustls::HttpsConnector<HttpConnector<GuardedResolver>>;

/// The delivery client.
#[derive(Debug, Clone)]
pub struct Sender {
    client: Client<Https, Full<Bytes>>,
    allow_hosts: Arc<Vec<String>>,
    timeout: Duration,
    max_response_bytes: usize,
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The TLS settings.
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
}

impl Sender {
    /// A client for `config`: TLS with the Mozilla roots on the `ring` provider, the guarded
    /// resolver, HTTP/1.1, no proxy, no redirects (hyper follows none).
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
        let mut http = HttpConnector::new_with_resolver(GuardedResolver {
            allow_hosts: Arc::clone(&allow_hosts),
        });
        http.enforce_http(false);
        http.set_connect_timeout(Some(config.timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        // A burst of one subscription's deliveries opens several connections to its host at
        // once; keeping a few of them for the next burst spares a partner the handshakes (the
        // push bench saw one new connection per two to four requests with 2).
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(8)
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Self {
            client,
            allow_hosts,
            timeout: config.timeout,
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
        let request = hyper::Request::post(url.as_str())
            .header("content-type", "application/json")
            .header(
                "user-agent",
                concat!("Gazette-Webhooks/", env!("CARGO_PKG_VERSION")),
            )
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(Full::new(Bytes::from(body.to_owned())));
        let request = match request {
            Ok(request) => request,
            Err(e) => return refused(format!("cannot build the request: {e}")),
        };
        let answer = tokio::time::timeout(self.timeout, async {
            let response = self.client.request(request).await?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, at));
            // Read (at most the cap of) the answer so the connection can be used again.
            let mut body = response.into_body();
            let mut read = 0_usize;
            while read < self.max_response_bytes {
                match body.frame().await {
                    Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
                    _ => break,
                }
            }
            Ok::<_, hyper_util::client::legacy::Error>((status, retry_after))
        })
        .await;
        let (status, retry_after) = match answer {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => {
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
            Err(_) => {
                return Attempt {
                    outcome: AttemptOutcome::Retry { retry_after: None },
                    status: None,
                    latency: started.elapsed(),
                    error: Some(format!("timed out after {} ms", self.timeout.as_millis())),
                };
            }
        };
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

/// The error and its causes, in one line.
fn describe(error: &hyper_util::client::legacy::Error) -> String {
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
