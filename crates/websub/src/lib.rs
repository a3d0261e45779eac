//! WebSub publisher (W3C WebSub, §7 "Publishing"): when a publication, a substantive update
//! or a removal changes the feeds (also one that comes due by itself: a scheduled story going
//! live, an expiry), the configured hub is told with `POST hub` and the form
//! `hub.mode=publish&hub.url=<feed URL>`, once per affected feed URL (the latest feeds and the
//! feeds of the article's topics, in each format).
//!
//! **Never in the editor's way.** The publisher follows the change log as an anonymous
//! reader's live stream does ([`gazette_app::live`]): woken by the application's content
//! signal (every write this process commits; on PostgreSQL every other process's too, through
//! LISTEN/NOTIFY) and by the due ticker. A save commits and answers; the ping happens after,
//! in this crate's own tasks.
//!
//! **Bounds.** Pending feed URLs are a set (a URL changed ten times before its ping goes out
//! is pinged once) of at most [`WebSubConfig::max_pending`]; a URL that finds it full is
//! dropped, logged and counted (`outcome="dropped"`). At most [`WebSubConfig::concurrency`]
//! pings are in flight, each within [`WebSubConfig::request_timeout`]. A failed ping (network
//! error, timeout, any status but 2xx) is sent again after an exponential delay with jitter
//! (from [`WebSubConfig::first_retry`], doubling, capped at [`WebSubConfig::max_retry`]), at
//! most [`WebSubConfig::max_attempts`] times in all, then given up, logged and counted.
//!
//! **Several processes.** Each process follows the whole log, so with several replicas the hub
//! hears each change once per replica. A publish ping only asks the hub to fetch the feed
//! again, so a repeat is harmless (idempotent); no coordination is needed. Pings pending when a
//! process stops are lost (logged); the next change pings those feeds again.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gazette_app::feeds::{FEED_EXTENSIONS, FeedsConfig, feed_url};
use gazette_app::live::{Live, LiveRequest};
use gazette_app::metrics::{WEBSUB_PENDING, WEBSUB_PINGS};
use gazette_app::{App, AppError};
use gazette_domain::Viewer;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How the publisher reaches the hub and how hard it tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSubConfig {
    /// The hub (an absolute http URL).
    pub hub: String,
    /// Most feed URLs waiting to be pinged.
    pub max_pending: usize,
    /// Most pings in flight at once.
    pub concurrency: usize,
    /// Time limit of one ping, connection included.
    pub request_timeout: Duration,
    /// Delay before the first retry (before jitter); each further retry doubles it.
    pub first_retry: Duration,
    /// Longest delay between two attempts.
    pub max_retry: Duration,
    /// Attempts of one ping in all, the first included.
    pub max_attempts: u32,
}

/// Why the WebSub settings were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebSubError {
    /// The hub URL is not an http URL this build can reach.
    #[error(
        "GAZETTE_WEBSUB_HUB: `{0}` must be an absolute http:// URL (this build speaks to hubs without TLS)"
    )]
    Hub(String),
    /// A bound is zero.
    #[error("WebSub: {0} must be at least 1")]
    Bound(&'static str),
}

impl WebSubConfig {
    /// Settings for the hub at `hub`, with the default bounds: 4,096 pending URLs, 4 pings at
    /// once, 10 s per ping, retries from 1 s doubling up to 5 min, 8 attempts.
    pub fn new(hub: &str) -> Result<Self, WebSubError> {
        let hub = hub.trim();
        let authority = hub.strip_prefix("http://").unwrap_or_default();
        if authority.is_empty()
            || authority.starts_with('/')
            || hub.chars().any(char::is_whitespace)
        {
            return Err(WebSubError::Hub(hub.to_owned()));
        }
        Ok(Self {
            hub: hub.to_owned(),
            max_pending: 4096,
            concurrency: 4,
            request_timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(300),
            max_attempts: 8,
        })
    }

    fn check(&self) -> Result<(), WebSubError> {
        if self.max_pending == 0 {
            return Err(WebSubError::Bound("max_pending"));
        }
        if self.concurrency == 0 {
            return Err(WebSubError::Bound("concurrency"));
        }
        if self.max_attempts == 0 {
            return Err(WebSubError::Bound("max_attempts"));
        }
        Ok(())
    }

    /// The delay before attempt `attempt + 1`, after `attempt` failures (from 1): the capped
    /// exponential delay, of which the second half is random ("equal jitter"), so replicas
    /// that failed together do not retry together.
    fn retry_delay(&self, attempt: u32, random: u64) -> Duration {
        let doubled = self
            .first_retry
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let capped = doubled.min(self.max_retry);
        let half = capped / 2;
        let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(random % spread.saturating_add(1))
    }
}

/// One feed URL waiting for its ping.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Failed attempts so far.
    failures: u32,
    /// Not before this instant.
    due: Instant,
}

/// The pending feed URLs: a bounded, coalescing set.
#[derive(Debug)]
struct Queue {
    pending: Mutex<HashMap<String, Pending>>,
    wake: Notify,
    max: usize,
}

impl Queue {
    fn new(max: usize) -> Self {
        Self {
            pending: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a ping of `url` now; one already waiting absorbs it (keeping its retry delay).
    /// False when the set is full.
    fn offer(&self, url: String) -> bool {
        let mut pending = self.lock();
        let len = pending.len();
        match pending.entry(url) {
            Entry::Occupied(_) => {}
            Entry::Vacant(_) if len >= self.max => return false,
            Entry::Vacant(slot) => {
                slot.insert(Pending {
                    failures: 0,
                    due: Instant::now(),
                });
            }
        }
        metrics::gauge!(WEBSUB_PENDING).set(pending.len() as f64);
        drop(pending);
        self.wake.notify_one();
        true
    }

    /// Queues `url` again after a failure, not before `due`. A ping of it queued meanwhile
    /// waits as long (the hub is failing). False when the set is full.
    fn retry(&self, url: String, failures: u32, due: Instant) -> bool {
        let mut pending = self.lock();
        let len = pending.len();
        match pending.entry(url) {
            Entry::Occupied(mut waiting) => {
                let waiting = waiting.get_mut();
                waiting.failures = waiting.failures.max(failures);
                waiting.due = waiting.due.max(due);
            }
            Entry::Vacant(_) if len >= self.max => return false,
            Entry::Vacant(slot) => {
                slot.insert(Pending { failures, due });
            }
        }
        metrics::gauge!(WEBSUB_PENDING).set(pending.len() as f64);
        true
    }

    /// Takes at most `room` URLs that are due at `now`, and the next instant one falls due.
    fn take_due(&self, now: Instant, room: usize) -> (Vec<(String, u32)>, Option<Instant>) {
        let mut pending = self.lock();
        let mut due: Vec<String> = pending
            .iter()
            .filter(|(_, p)| p.due <= now)
            .map(|(url, _)| url.clone())
            .collect();
        due.sort_unstable();
        due.truncate(room);
        let taken: Vec<(String, u32)> = due
            .into_iter()
            .filter_map(|url| pending.remove(&url).map(|p| (url, p.failures)))
            .collect();
        let next = pending.values().map(|p| p.due).min();
        metrics::gauge!(WEBSUB_PENDING).set(pending.len() as f64);
        (taken, next)
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The running publisher: its follower and sender tasks. Stop it with [`Publisher::stop`].
#[derive(Debug)]
pub struct Publisher {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Publisher {
    /// Starts announcing the feeds of `site` to `config.hub`: follows the change log from now
    /// on through `live`, as an anonymous reader's stream.
    pub fn start(
        app: App,
        live: Live,
        site: FeedsConfig,
        config: WebSubConfig,
    ) -> Result<Self, WebSubError> {
        config.check()?;
        let client = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|_| WebSubError::Hub(config.hub.clone()))?;
        let (stop, stopped) = watch::channel(false);
        let queue = Arc::new(Queue::new(config.max_pending));
        tracing::info!(hub = %config.hub, "announcing feed updates to the WebSub hub");
        let follower = tokio::spawn(follow(app, live, site, Arc::clone(&queue), stopped.clone()));
        let sender = tokio::spawn(send(client, queue, config, stopped));
        Ok(Self {
            stop,
            tasks: vec![follower, sender],
        })
    }

    /// Stops both tasks (pings still pending are dropped, and logged) and waits for them, at
    /// most `limit`.
    pub async fn stop(self, limit: Duration) {
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(limit, task).await;
        }
    }
}

/// Resolves once `stop` says so (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Queues `url`, counting it when the set is full.
fn queue_ping(queue: &Queue, url: String) {
    if !queue.offer(url.clone()) {
        metrics::counter!(WEBSUB_PINGS, "outcome" => "dropped").increment(1);
        tracing::warn!(%url, "WebSub ping dropped: the pending set is full");
    }
}

/// Follows the log as an anonymous reader and queues the feeds each batch alters. A stream
/// that ends (storage failed, the consumer fell behind) is opened again from the last entry
/// seen, after a delay that grows with each failure in a row (1 s to 30 s).
async fn follow(
    app: App,
    live: Live,
    site: FeedsConfig,
    queue: Arc<Queue>,
    mut stop: watch::Receiver<bool>,
) {
    // An address no client has: the publisher's stream never takes a client's slot.
    let client = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    let mut since: Option<String> = None;
    let mut failures: u32 = 0;
    loop {
        if failures > 0 {
            let pause = Duration::from_secs(1u64 << failures.min(5)).min(Duration::from_secs(30));
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = stopped(&mut stop) => return,
            }
        }
        let request = LiveRequest {
            viewer: Viewer::Anonymous,
            client,
            since: since.clone(),
            topics: Vec::new(),
            with_bodies: false,
        };
        let subscribed = tokio::select! {
            subscribed = live.subscribe(request) => subscribed,
            () = stopped(&mut stop) => return,
        };
        let mut stream = match subscribed {
            Ok(stream) => stream,
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::warn!(%error, "WebSub publisher cannot follow the change log; trying again");
                continue;
            }
        };
        if since.is_none() {
            since = Some(stream.start().to_owned());
        }
        loop {
            let batch = tokio::select! {
                batch = stream.next() => batch,
                () = stopped(&mut stop) => return,
            };
            let Some(batch) = batch else { break };
            failures = 0;
            match app
                .touched_feeds(&site, &batch.entries, &batch.relations)
                .await
            {
                Ok(urls) => urls.into_iter().for_each(|url| queue_ping(&queue, url)),
                Err(error) => {
                    // The topics of removed stories could not be read: the latest feeds are
                    // still announced.
                    log_unread(&error);
                    for extension in FEED_EXTENSIONS {
                        queue_ping(&queue, feed_url(&site, None, extension));
                    }
                }
            }
            if let Some(last) = batch.entries.last() {
                since = Some(last.cursor.clone());
            }
        }
        failures = failures.saturating_add(1);
    }
}

fn log_unread(error: &AppError) {
    tracing::warn!(%error, "WebSub: topics of removed stories unread; announcing the latest feeds only");
}

/// Sends the due pings, at most `config.concurrency` at once, and queues failures again.
async fn send(
    client: reqwest::Client,
    queue: Arc<Queue>,
    config: WebSubConfig,
    mut stop: watch::Receiver<bool>,
) {
    let hub: Arc<str> = Arc::from(config.hub.as_str());
    let mut running: JoinSet<(String, u32, Result<(), String>)> = JoinSet::new();
    loop {
        let room = config.concurrency.saturating_sub(running.len());
        let (due, next) = if room == 0 {
            (Vec::new(), None)
        } else {
            queue.take_due(Instant::now(), room)
        };
        for (url, failures) in due {
            let client = client.clone();
            let hub = Arc::clone(&hub);
            running.spawn(async move {
                let outcome = ping(&client, &hub, &url).await;
                (url, failures, outcome)
            });
        }
        // Only wait for the next due instant when there is room to send it.
        let next = next.filter(|_| running.len() < config.concurrency);
        tokio::select! {
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Ok((url, failures, outcome)) = done {
                    settle(&queue, &config, url, failures, outcome);
                }
            }
            () = queue.wake.notified() => {}
            () = async {
                match next {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {}
            () = stopped(&mut stop) => {
                let left = queue.len() + running.len();
                if left > 0 {
                    tracing::warn!(left, "WebSub pings not sent: the process is stopping");
                }
                running.abort_all();
                return;
            }
        }
    }
}

/// Counts a ping's outcome and queues it again when it failed and attempts remain.
fn settle(
    queue: &Queue,
    config: &WebSubConfig,
    url: String,
    failures: u32,
    outcome: Result<(), String>,
) {
    let Err(error) = outcome else {
        metrics::counter!(WEBSUB_PINGS, "outcome" => "ok").increment(1);
        tracing::debug!(%url, "WebSub hub pinged");
        return;
    };
    let failures = failures.saturating_add(1);
    if failures >= config.max_attempts {
        metrics::counter!(WEBSUB_PINGS, "outcome" => "failed").increment(1);
        tracing::error!(%url, %error, attempts = failures, "WebSub ping given up");
        return;
    }
    let delay = config.retry_delay(failures, getrandom::u64().unwrap_or(0));
    metrics::counter!(WEBSUB_PINGS, "outcome" => "retry").increment(1);
    tracing::warn!(%url, %error, attempts = failures, retry_in_ms = delay.as_millis() as u64,
        "WebSub ping failed; trying again");
    if !queue.retry(url.clone(), failures, Instant::now() + delay) {
        metrics::counter!(WEBSUB_PINGS, "outcome" => "dropped").increment(1);
        tracing::warn!(%url, "WebSub ping dropped: the pending set is full");
    }
    queue.wake.notify_one();
}

/// One publish ping: `POST hub` with `hub.mode=publish&hub.url=<url>`; any 2xx is success.
async fn ping(client: &reqwest::Client, hub: &str, url: &str) -> Result<(), String> {
    let body = serde_urlencoded::to_string([("hub.mode", "publish"), ("hub.url", url)])
        .map_err(|e| e.to_string())?;
    let response = client
        .post(hub)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the hub answered {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_hubs_are_accepted() {
        assert!(WebSubConfig::new("http://127.0.0.1:9/hub").is_ok());
        for bad in [
            "",
            "https://hub.example/",
            "ftp://hub.example/",
            "http://",
            "http:///hub",
            "http://a b/",
            "hub.example",
        ] {
            assert!(WebSubConfig::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retry_delays_double_up_to_the_cap_with_jitter_in_the_upper_half() {
        let config = WebSubConfig::new("http://hub.test/").unwrap();
        for (attempt, base) in [(1, 1), (2, 2), (3, 4), (9, 256), (10, 300), (40, 300)] {
            let base = Duration::from_secs(base);
            assert_eq!(
                config.retry_delay(attempt, 0),
                base / 2,
                "attempt {attempt}"
            );
            let most = config.retry_delay(attempt, u64::MAX - 7);
            assert!(
                most >= base / 2 && most <= base,
                "attempt {attempt}: {most:?}"
            );
        }
    }

    #[tokio::test]
    async fn the_pending_set_coalesces_and_is_bounded() {
        let queue = Queue::new(2);
        assert!(queue.offer("a".to_owned()));
        assert!(queue.offer("a".to_owned()));
        assert!(queue.offer("b".to_owned()));
        assert!(!queue.offer("c".to_owned()), "full");
        let (taken, next) = queue.take_due(Instant::now(), 1);
        assert_eq!(taken, [("a".to_owned(), 0)]);
        assert!(next.is_some());
        let later = Instant::now() + Duration::from_secs(60);
        assert!(queue.retry("a".to_owned(), 1, later));
        // A fresh change of a failing URL waits for its retry.
        assert!(queue.offer("a".to_owned()));
        let (taken, _) = queue.take_due(Instant::now(), 10);
        assert_eq!(taken, [("b".to_owned(), 0)]);
        assert_eq!(queue.len(), 1);
    }
}
