//! The HTTP/1.1 server loop: hyper's connection builder with a timer, so that every
//! connection is bounded in time and in number.
//!
//! `axum::serve` installs no timer, so a client that sends one header byte a second, or
//! nothing at all, holds a connection forever. Here:
//! - a request's head must arrive within the header timeout, counted from when the
//!   connection opens or its previous response was sent (hyper's `header_read_timeout`, which
//!   in hyper 1.x starts as soon as a connection waits for a request);
//! - a keep-alive connection that moves no bytes and runs no request for the keep-alive
//!   timeout is closed;
//! - at most `max_connections` are served at once; further clients wait in the listen backlog
//!   until one closes;
//! - a request head is at most `max_header_bytes` (431 above);
//! - on shutdown no new connection is accepted, idle ones close, in-flight requests get until
//!   the deadline, and whatever is still open then is cut.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower_service::Service as _;

/// How connections are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeConfig {
    /// Longest wait for a complete request head.
    pub header_timeout: Duration,
    /// How long an idle keep-alive connection stays open (`None`: keep-alive off).
    pub keepalive_timeout: Option<Duration>,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_deadline: Duration,
}

/// How many client connections are open, and the most that were at once. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ConnectionStats {
    inner: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    open: AtomicUsize,
    most_open: AtomicUsize,
}

impl ConnectionStats {
    /// Connections open now.
    pub fn open(&self) -> usize {
        self.inner.open.load(Ordering::Acquire)
    }

    /// The most connections that were open at once.
    pub fn most_open(&self) -> usize {
        self.inner.most_open.load(Ordering::Acquire)
    }

    fn opened(&self) -> OpenConnection {
        let now = self.inner.open.fetch_add(1, Ordering::AcqRel) + 1;
        self.inner.most_open.fetch_max(now, Ordering::AcqRel);
        OpenConnection(Arc::clone(&self.inner))
    }
}

/// Counts a connection as open for as long as it lives.
struct OpenConnection(Arc<Counts>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains within the deadline.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: ServeConfig,
    stats: ConnectionStats,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .max_header_size(config.max_header_bytes)
        .keep_alive(config.keepalive_timeout.is_some());
    let http = Arc::new(http);
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let (closing, closing_seen) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            // Reap finished connections so the set holds only live ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // back off a little rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(serve_connection(
            Arc::clone(&http),
            stream,
            remote,
            router.clone(),
            closing_seen.clone(),
            config.keepalive_timeout,
            (slot, stats.opened()),
        ));
    }
    drop(listener);
    closing.send_replace(true);
    let open = connections.len();
    if open > 0 {
        tracing::info!(
            open,
            deadline_secs = config.shutdown_deadline.as_secs(),
            "draining connections"
        );
    }
    let drained = tokio::time::timeout(config.shutdown_deadline, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            cut = connections.len(),
            "shutdown deadline passed; closing the connections still open"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Serves one connection until it ends, its idle time runs out, or shutdown cuts it.
async fn serve_connection(
    http: Arc<http1::Builder>,
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    mut closing: watch::Receiver<bool>,
    keepalive: Option<Duration>,
    _open: (OwnedSemaphorePermit, OpenConnection),
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: Arc::clone(&activity),
    });
    let requests = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(remote));
        let running = requests.start_request();
        let mut router = router.clone();
        async move {
            // Counted as running until its body ends: a live stream is a request in flight,
            // not an idle connection.
            let response = router.call(request).await;
            response.map(|r| {
                r.map(|body| {
                    axum::body::Body::new(Counted {
                        body,
                        _running: running,
                    })
                })
            })
        }
    });
    // Upgrades (the GraphQL WebSocket) take the connection over once answered with 101.
    let connection = http.serve_connection(io, service).with_upgrades();
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        let idle_check = async {
            match keepalive {
                Some(limit) => tokio::time::sleep_until(activity.next_idle_check(limit)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    // Header timeouts, oversized heads and clients that hang up land here.
                    tracing::debug!(%remote, %error, "connection ended with an error");
                }
                return;
            }
            _ = closing.wait_for(|closing| *closing), if !draining => {
                draining = true;
                // Finishes the request in flight, if any, then closes.
                connection.as_mut().graceful_shutdown();
            }
            () = idle_check => {
                if keepalive.is_some_and(|limit| activity.idle_for(limit)) {
                    tracing::debug!(%remote, "closing an idle connection");
                    return;
                }
            }
        }
    }
}

/// When a connection last moved bytes, and how many of its requests are running.
struct Activity {
    started: Instant,
    last_io_ms: AtomicU64,
    running: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            last_io_ms: AtomicU64::new(0),
            running: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_io_ms.store(ms, Ordering::Relaxed);
    }

    fn last_io(&self) -> Instant {
        self.started + Duration::from_millis(self.last_io_ms.load(Ordering::Relaxed))
    }

    /// Whether the connection has moved no bytes for `limit` and runs no request.
    fn idle_for(&self, limit: Duration) -> bool {
        self.running.load(Ordering::Acquire) == 0 && self.last_io().elapsed() >= limit
    }

    /// When the connection may next have been idle for `limit` (a running request is bounded
    /// by the request timeout; look again a `limit` later).
    fn next_idle_check(&self, limit: Duration) -> Instant {
        if self.running.load(Ordering::Acquire) > 0 {
            Instant::now() + limit
        } else {
            self.last_io() + limit
        }
    }

    fn start_request(self: &Arc<Self>) -> Running {
        self.running.fetch_add(1, Ordering::AcqRel);
        Running(Arc::clone(self))
    }
}

/// A request of the connection is running.
struct Running(Arc<Activity>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
        self.0.touch();
    }
}

/// A response body that keeps its request [`Running`] until it ends or is dropped.
struct Counted {
    body: axum::body::Body,
    _running: Running,
}

impl http_body::Body for Counted {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The socket, noting each read and write in [`Activity`].
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
