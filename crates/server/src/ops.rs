//! Operations: the private metrics listener and the log output.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use tokio::net::TcpListener;
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::StartError;

/// Where Prometheus reads metrics, apart from the public address.
#[derive(Clone, Default, Args)]
pub struct OpsArgs {
    /// Address of the Prometheus `/metrics` listener, separate from the public one (unset: no
    /// metrics). Keep it private: loopback, or an address only the scraper reaches.
    #[arg(long, env = "GAZETTE_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Bearer token the metrics listener requires (unset: none). Set one whenever the metrics
    /// address is reachable by anyone but the scraper.
    #[arg(long, env = "GAZETTE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

impl std::fmt::Debug for OpsArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsArgs")
            .field("metrics_addr", &self.metrics_addr)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// The bound, not yet serving, metrics listener.
pub(crate) struct MetricsListener {
    listener: TcpListener,
    router: axum::Router,
}

impl MetricsListener {
    /// Binds `ops.metrics_addr` (if set) and builds the metrics router over `state`, installing
    /// the process's metrics recorder. Unset: `None`, and nothing is recorded.
    pub(crate) async fn bind(
        ops: &OpsArgs,
        state: &gazette_api::AppState,
    ) -> Result<Option<Self>, StartError> {
        let token = ops.metrics_token.as_deref().filter(|t| !t.is_empty());
        let Some(addr) = ops.metrics_addr.as_deref().filter(|a| !a.is_empty()) else {
            if token.is_some() {
                return Err(StartError::Config(
                    "GAZETTE_METRICS_TOKEN is set but GAZETTE_METRICS_ADDR is not: metrics are \
                     only served on their own address"
                        .to_owned(),
                ));
            }
            return Ok(None);
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: addr.to_owned(),
                source,
            })?;
        let local = listener.local_addr().ok();
        if token.is_none() && local.is_some_and(|a| !a.ip().is_loopback()) {
            tracing::warn!(
                addr,
                "metrics are served without a token on a non-loopback address; set GAZETTE_METRICS_TOKEN"
            );
        }
        tracing::info!(addr, token = token.is_some(), "serving metrics at /metrics");
        let handle = gazette_api::metrics::install();
        Ok(Some(Self {
            listener,
            router: gazette_api::metrics_router(state.clone(), handle, token),
        }))
    }

    /// The bound address.
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until [`MetricsServer::stop`], with the public listener's timeouts and head cap
    /// but room for only a few scrapers at once.
    pub(crate) fn serve(self, public: crate::serve::ServeConfig) -> MetricsServer {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = crate::serve::ServeConfig {
            max_connections: METRICS_CONNECTIONS,
            shutdown_deadline: METRICS_DRAIN,
            ..public
        };
        let task = tokio::spawn(async move {
            let served = crate::serve::serve(
                self.listener,
                self.router,
                config,
                crate::serve::ConnectionStats::default(),
                async move {
                    let _ = stopped.await;
                },
            )
            .await;
            if let Err(error) = served {
                tracing::error!(%error, "metrics listener failed");
            }
        });
        MetricsServer { stop, task }
    }
}

/// The running metrics listener.
pub(crate) struct MetricsServer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// Scrapers served at once (Prometheus servers, an operator's curl).
const METRICS_CONNECTIONS: usize = 16;

/// How long a scrape in flight may delay shutdown.
const METRICS_DRAIN: Duration = Duration::from_secs(1);

impl MetricsServer {
    /// Stops accepting, lets a scrape in flight finish for a moment, then cuts it.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let mut task = self.task;
        // The loop cuts connections itself at its deadline; this bounds the task as a whole.
        if tokio::time::timeout(METRICS_DRAIN * 2, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, the request's span (id, method, route) before each message.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `message`, fields, `target`, and the
    /// request's `span` with its `request_id`), for log shippers.
    Json,
}

/// What is logged, and how.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log filter, e.g. `info` or `gazette=debug,sea_orm=warn` (`gazette::access=debug` adds a
    /// line per request).
    #[arg(long, env = "RUST_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Log line format: `text` or `json`.
    #[arg(long, env = "GAZETTE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

impl LogArgs {
    /// The subscriber these settings describe, writing to `writer` (colours only with `ansi`).
    /// An unparsable filter falls back to `info`.
    pub fn subscriber<W>(&self, writer: W, ansi: bool) -> Box<dyn Subscriber + Send + Sync>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        let filter = EnvFilter::try_new(&self.log).unwrap_or_else(|_| EnvFilter::new("info"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer);
        match self.log_format {
            LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
            LogFormat::Json => Box::new(
                builder
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .finish(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Log output captured in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Captured {
        type Writer = Captured;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn json_lines_carry_the_request_span() {
        let captured = Captured::default();
        let args = LogArgs {
            log: "info".to_owned(),
            log_format: LogFormat::Json,
        };
        let subscriber = args.subscriber(captured.clone(), false);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", request_id = "abc-123", route = "/graphql");
            span.in_scope(|| tracing::warn!(answer = 42, "something to see"));
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON line");
        assert_eq!(line["level"], "WARN", "{line}");
        assert_eq!(line["message"], "something to see", "{line}");
        assert_eq!(line["answer"], 42, "{line}");
        assert_eq!(line["span"]["request_id"], "abc-123", "{line}");
        assert_eq!(line["span"]["route"], "/graphql", "{line}");
    }

    #[test]
    fn text_lines_name_the_request() {
        let captured = Captured::default();
        let args = LogArgs {
            log: "info".to_owned(),
            log_format: LogFormat::Text,
        };
        let subscriber = args.subscriber(captured.clone(), false);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", request_id = %"abc-123");
            span.in_scope(|| tracing::info!("hello"));
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("request_id=abc-123") && text.contains("hello"),
            "{text}"
        );
    }
}
