//! The workspace's one outbound HTTP stack: hyper's client with rustls on the `ring` provider
//! (the one sqlx already builds; no process-wide provider is installed or needed) and the
//! Mozilla roots compiled in (no platform certificate store to trust). HTTP/1.1, no proxy, no
//! redirects (hyper follows none). The webhook sender builds its guarded client on
//! [`connector`] and [`client`]; the followers of this crate send with a [`Poster`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;

/// Why a client could not be built.
pub use rustls::Error as TlsError;

/// The connector: https (and http) over a TCP connector resolving names with `R`.
pub type Https<R> = hyper_rustls::HttpsConnector<HttpConnector<R>>;

/// Most bytes of an answer read (so the connection can be used again); the rest is dropped.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A connector resolving names with `resolver`, giving up connecting after `connect_timeout`.
pub fn connector<R>(resolver: R, connect_timeout: Duration) -> Result<Https<R>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut http = HttpConnector::new_with_resolver(resolver);
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http))
}

/// A client over `connector`, keeping at most `max_idle_per_host` idle connections per host
/// for 30 s.
pub fn client<R>(connector: Https<R>, max_idle_per_host: usize) -> Client<Https<R>, Full<Bytes>>
where
    Https<R>: Connect + Clone + Send + Sync + 'static,
{
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(max_idle_per_host)
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// An error and its causes, in one line.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Sends POSTs to operator-configured endpoints (the WebSub hub, the CDN's purge API), each
/// within a time limit, names resolved by the system.
#[derive(Debug, Clone)]
pub struct Poster {
    client: Client<Https<hyper_util::client::legacy::connect::dns::GaiResolver>, Full<Bytes>>,
    timeout: Duration,
}

impl Poster {
    /// A client whose every request (connection, sending, reading the answer) takes at most
    /// `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, TlsError> {
        let resolver = hyper_util::client::legacy::connect::dns::GaiResolver::new();
        Ok(Self {
            // Few requests, mostly one at a time.
            client: client(connector(resolver, timeout)?, 2),
            timeout,
        })
    }

    /// `POST url` with `headers` and `body`; any 2xx is success, anything else (another
    /// status, a redirect, a network error, the time limit) an error saying what happened.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Result<(), String> {
        let mut request = hyper::Request::post(url)
            .header("user-agent", concat!("Gazette/", env!("CARGO_PKG_VERSION")));
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        let answer = tokio::time::timeout(self.timeout, async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| describe(&e))?;
            let status = response.status();
            let mut body = response.into_body();
            let mut read = 0_usize;
            while read < MAX_ANSWER_BYTES {
                match body.frame().await {
                    Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
                    _ => break,
                }
            }
            Ok::<_, String>(status)
        })
        .await
        .map_err(|_| format!("timed out after {} ms", self.timeout.as_millis()))??;
        if answer.is_success() {
            Ok(())
        } else if answer.is_redirection() {
            Err(format!("answered {answer}; redirects are not followed"))
        } else {
            Err(format!("answered {answer}"))
        }
    }
}
