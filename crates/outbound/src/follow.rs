//! The follower both announcers share: it follows the change log as an anonymous reader's
//! live stream does ([`gazette_app::live`]), turns each batch into keys (feed URLs to ping,
//! cache tags to purge) with [`Announce::keys`], and sends them with [`Announce::send`].
//!
//! **Never in the editor's way.** The stream is woken by the application's content signal
//! (every write this process commits; on PostgreSQL every other process's too, through
//! LISTEN/NOTIFY) and by the due ticker. A save commits and answers; the request happens
//! after, in this module's own tasks.
//!
//! **Bounds.** Pending keys are a set (a key changed ten times before its request goes out is
//! sent once) of at most [`Bounds::max_pending`]; a key that finds it full is dropped, logged
//! and counted (`outcome="dropped"`). At most [`Bounds::concurrency`] requests are in flight,
//! each carrying at most [`Bounds::batch`] keys, each within the client's time limit. A failed
//! request (network error, timeout, any status but 2xx) queues its keys again after an
//! exponential delay with jitter (from [`Bounds::first_retry`], doubling, capped at
//! [`Bounds::max_retry`]), at most [`Bounds::max_attempts`] times in all, then they are given
//! up, logged and counted. Outcomes are counted per key.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gazette_app::live::{Live, LiveBatch, LiveRequest};
use gazette_domain::Viewer;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::http::Poster;

/// What one follower announces, and where.
pub(crate) trait Announce: Send + Sync + 'static {
    /// What one request is called in logs ("WebSub ping", "CDN purge").
    const WHAT: &'static str;
    /// The counter of keys by `outcome`.
    const SENT: &'static str;
    /// The gauge of keys waiting.
    const PENDING: &'static str;

    /// The keys a batch of the log alters.
    fn keys(&self, batch: &LiveBatch) -> impl Future<Output = Vec<String>> + Send;

    /// Sends one request for `keys` (at most [`Bounds::batch`] of them).
    fn send(&self, keys: &[String]) -> impl Future<Output = Result<(), String>> + Send;
}

/// How many keys wait, how many go out at once, and how hard a failure is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Most keys waiting to be sent.
    pub max_pending: usize,
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// Most keys in one request.
    pub batch: usize,
    /// Time limit of one request, connection included.
    pub request_timeout: Duration,
    /// Delay before the first retry (before jitter); each further retry doubles it.
    pub first_retry: Duration,
    /// Longest delay between two attempts.
    pub max_retry: Duration,
    /// Attempts of one key in all, the first included.
    pub max_attempts: u32,
}

impl Default for Bounds {
    /// 4,096 pending keys, 4 requests at once of one key each, 10 s per request, retries from
    /// 1 s doubling up to 5 min, 8 attempts.
    fn default() -> Self {
        Self {
            max_pending: 4096,
            concurrency: 4,
            batch: 1,
            request_timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(300),
            max_attempts: 8,
        }
    }
}

/// Why a follower did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A bound is zero.
    #[error("{0} must be at least 1")]
    Bound(&'static str),
    /// The TLS client could not be built.
    #[error("TLS: {0}")]
    Tls(#[from] crate::http::TlsError),
}

impl Bounds {
    pub(crate) fn check(&self) -> Result<(), StartError> {
        for (name, value) in [
            ("max_pending", self.max_pending),
            ("concurrency", self.concurrency),
            ("batch", self.batch),
            ("max_attempts", self.max_attempts as usize),
        ] {
            if value == 0 {
                return Err(StartError::Bound(name));
            }
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

/// One key waiting for its request.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Failed attempts so far.
    failures: u32,
    /// Not before this instant.
    due: Instant,
}

/// The pending keys: a bounded, coalescing set.
#[derive(Debug)]
struct Queue {
    pending: Mutex<HashMap<String, Pending>>,
    wake: Notify,
    max: usize,
    /// The gauge its size is reported to.
    gauge: &'static str,
}

impl Queue {
    fn new(max: usize, gauge: &'static str) -> Self {
        Self {
            pending: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            max,
            gauge,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `key` now; one already waiting absorbs it (keeping its retry delay). False
    /// when the set is full.
    fn offer(&self, key: String) -> bool {
        let mut pending = self.lock();
        let len = pending.len();
        match pending.entry(key) {
            Entry::Occupied(_) => {}
            Entry::Vacant(_) if len >= self.max => return false,
            Entry::Vacant(slot) => {
                slot.insert(Pending {
                    failures: 0,
                    due: Instant::now(),
                });
            }
        }
        metrics::gauge!(self.gauge).set(pending.len() as f64);
        drop(pending);
        self.wake.notify_one();
        true
    }

    /// Queues `key` again after a failure, not before `due`. The same key queued meanwhile
    /// waits as long (the endpoint is failing). False when the set is full.
    fn retry(&self, key: String, failures: u32, due: Instant) -> bool {
        let mut pending = self.lock();
        let len = pending.len();
        match pending.entry(key) {
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
        metrics::gauge!(self.gauge).set(pending.len() as f64);
        true
    }

    /// Takes at most `room` keys that are due at `now`, and the next instant one falls due.
    fn take_due(&self, now: Instant, room: usize) -> (Vec<(String, u32)>, Option<Instant>) {
        let mut pending = self.lock();
        let mut due: Vec<String> = pending
            .iter()
            .filter(|(_, p)| p.due <= now)
            .map(|(key, _)| key.clone())
            .collect();
        due.sort_unstable();
        due.truncate(room);
        let taken: Vec<(String, u32)> = due
            .into_iter()
            .filter_map(|key| pending.remove(&key).map(|p| (key, p.failures)))
            .collect();
        let next = pending.values().map(|p| p.due).min();
        metrics::gauge!(self.gauge).set(pending.len() as f64);
        (taken, next)
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// A running follower: its follower and sender tasks. Stop it with [`Follower::stop`].
#[derive(Debug)]
pub struct Follower {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Follower {
    /// Starts following the change log from now on through `live`, as an anonymous reader's
    /// stream, sending what the announcer makes of it (`announce` builds it around the client
    /// it sends with).
    pub(crate) fn start<A: Announce>(
        live: Live,
        bounds: Bounds,
        announce: impl FnOnce(Poster) -> A,
    ) -> Result<Self, StartError> {
        bounds.check()?;
        let announce = announce(Poster::new(bounds.request_timeout)?);
        let (stop, stopped) = watch::channel(false);
        let queue = Arc::new(Queue::new(bounds.max_pending, A::PENDING));
        let announce = Arc::new(announce);
        let follower = tokio::spawn(follow(
            live,
            Arc::clone(&announce),
            Arc::clone(&queue),
            stopped.clone(),
        ));
        let sender = tokio::spawn(send(announce, queue, bounds, stopped));
        Ok(Self {
            stop,
            tasks: vec![follower, sender],
        })
    }

    /// Stops both tasks (keys still pending are dropped, and logged) and waits for them, at
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

/// Queues `key`, counting it when the set is full.
fn queue_key<A: Announce>(queue: &Queue, key: String) {
    if !queue.offer(key.clone()) {
        metrics::counter!(A::SENT, "outcome" => "dropped").increment(1);
        tracing::warn!(%key, "{} dropped: the pending set is full", A::WHAT);
    }
}

/// Follows the log as an anonymous reader and queues the keys each batch alters. A stream
/// that ends (storage failed, the consumer fell behind) is opened again from the last entry
/// seen, after a delay that grows with each failure in a row (1 s to 30 s).
async fn follow<A: Announce>(
    live: Live,
    announce: Arc<A>,
    queue: Arc<Queue>,
    mut stop: watch::Receiver<bool>,
) {
    // An address no client has: the follower's stream never takes a client's slot.
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
                tracing::warn!(%error, "{}s cannot follow the change log; trying again", A::WHAT);
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
            let Ok(batch) = batch else { break };
            failures = 0;
            for key in announce.keys(&batch).await {
                queue_key::<A>(&queue, key);
            }
            if let Some(last) = batch.entries.last() {
                since = Some(last.cursor.clone());
            }
        }
        failures = failures.saturating_add(1);
    }
}

/// What one request was for and how it went.
type Sent = (Vec<(String, u32)>, Result<(), String>);

/// Sends the due keys, at most `bounds.batch` per request and `bounds.concurrency` requests
/// at once, and queues failures again.
async fn send<A: Announce>(
    announce: Arc<A>,
    queue: Arc<Queue>,
    bounds: Bounds,
    mut stop: watch::Receiver<bool>,
) {
    let mut running: JoinSet<Sent> = JoinSet::new();
    loop {
        let mut next = None;
        while running.len() < bounds.concurrency {
            let (due, upcoming) = queue.take_due(Instant::now(), bounds.batch);
            next = upcoming;
            if due.is_empty() {
                break;
            }
            let announce = Arc::clone(&announce);
            running.spawn(async move {
                let keys: Vec<String> = due.iter().map(|(key, _)| key.clone()).collect();
                let outcome = announce.send(&keys).await;
                (due, outcome)
            });
        }
        // Only wait for the next due instant when there is room to send it.
        let next = next.filter(|_| running.len() < bounds.concurrency);
        tokio::select! {
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Ok((keys, outcome)) = done {
                    settle::<A>(&queue, &bounds, keys, outcome);
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
                    tracing::warn!(left, "{}s not sent: the process is stopping", A::WHAT);
                }
                running.abort_all();
                return;
            }
        }
    }
}

/// Counts a request's keys by outcome and queues them again when it failed and attempts
/// remain.
fn settle<A: Announce>(
    queue: &Queue,
    bounds: &Bounds,
    keys: Vec<(String, u32)>,
    outcome: Result<(), String>,
) {
    let Err(error) = outcome else {
        metrics::counter!(A::SENT, "outcome" => "ok").increment(keys.len() as u64);
        tracing::debug!(keys = keys.len(), first = ?keys.first().map(|k| &k.0), "{} sent", A::WHAT);
        return;
    };
    let random = getrandom::u64().unwrap_or(0);
    let now = Instant::now();
    for (key, failures) in keys {
        let failures = failures.saturating_add(1);
        if failures >= bounds.max_attempts {
            metrics::counter!(A::SENT, "outcome" => "failed").increment(1);
            tracing::error!(%key, %error, attempts = failures, "{} given up", A::WHAT);
            continue;
        }
        let delay = bounds.retry_delay(failures, random);
        metrics::counter!(A::SENT, "outcome" => "retry").increment(1);
        tracing::warn!(%key, %error, attempts = failures, retry_in_ms = delay.as_millis() as u64,
            "{} failed; trying again", A::WHAT);
        if !queue.retry(key.clone(), failures, now + delay) {
            metrics::counter!(A::SENT, "outcome" => "dropped").increment(1);
            tracing::warn!(%key, "{} dropped: the pending set is full", A::WHAT);
        }
    }
    queue.wake.notify_one();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_up_to_the_cap_with_jitter_in_the_upper_half() {
        let bounds = Bounds::default();
        for (attempt, base) in [(1, 1), (2, 2), (3, 4), (9, 256), (10, 300), (40, 300)] {
            let base = Duration::from_secs(base);
            assert_eq!(
                bounds.retry_delay(attempt, 0),
                base / 2,
                "attempt {attempt}"
            );
            let most = bounds.retry_delay(attempt, u64::MAX - 7);
            assert!(
                most >= base / 2 && most <= base,
                "attempt {attempt}: {most:?}"
            );
        }
    }

    #[test]
    fn zero_bounds_are_refused() {
        assert!(Bounds::default().check().is_ok());
        let bounds = Bounds {
            batch: 0,
            ..Bounds::default()
        };
        assert!(matches!(bounds.check(), Err(StartError::Bound("batch"))));
    }

    #[tokio::test]
    async fn the_pending_set_coalesces_and_is_bounded() {
        let queue = Queue::new(2, "test_pending");
        assert!(queue.offer("a".to_owned()));
        assert!(queue.offer("a".to_owned()));
        assert!(queue.offer("b".to_owned()));
        assert!(!queue.offer("c".to_owned()), "full");
        let (taken, next) = queue.take_due(Instant::now(), 1);
        assert_eq!(taken, [("a".to_owned(), 0)]);
        assert!(next.is_some());
        let later = Instant::now() + Duration::from_secs(60);
        assert!(queue.retry("a".to_owned(), 1, later));
        // A fresh change of a failing key waits for its retry.
        assert!(queue.offer("a".to_owned()));
        let (taken, _) = queue.take_due(Instant::now(), 10);
        assert_eq!(taken, [("b".to_owned(), 0)]);
        assert_eq!(queue.len(), 1);
    }
}
