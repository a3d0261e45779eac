//! How fresh a cached answer is: the content generation, and the next instant at which what
//! readers may see changes by itself.
//!
//! - Every write use case (articles, corrections, topics, authors) moves the generation once it
//!   has committed ([`App::content_changed`]), so the next read on this process computes its
//!   answer again.
//! - On PostgreSQL, [`App::follow_content_changes`] listens for the notifications every
//!   process's writes send (the content tables' triggers) and moves the generation on each, and
//!   on each reconnection (notifications may have been missed meanwhile). While it is not
//!   connected, [`App::freshness`] answers `None`: nothing cached may be served.
//! - A scheduled story going live, an embargo lifting or a story expiring changes answers
//!   without any write: a [`Freshness`] carries the next such instant, and an answer never
//!   outlives it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use gazette_persistence::{ContentListener, ListenEvent};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use crate::{App, AppError};

/// What a cached answer computed now depends on: the content generation it saw, and the first
/// instant from which it may show something that was not visible when it was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// The content generation when the answer was computed.
    pub generation: u64,
    /// The next scheduled publication, embargo lift or expiry after `now` (`None`: nothing is
    /// due).
    pub until: Option<DateTime<Utc>>,
    /// When the oldest story of the news sitemap's window leaves it (only answers listing that
    /// window, the news sitemap, depend on it; `None`: the window is empty).
    pub window_until: Option<DateTime<Utc>>,
}

impl Freshness {
    /// Whether an answer stamped with `self` may still be served at `now` on a process whose
    /// freshness is `current`.
    pub fn still_valid(&self, current: &Freshness, now: DateTime<Utc>) -> bool {
        self.generation == current.generation && self.until.is_none_or(|until| now < until)
    }
}

/// The generation, whether it can be trusted, and the cached next due instant.
#[derive(Debug)]
pub(crate) struct Generation {
    value: AtomicU64,
    /// False while the cross-process listener is not connected (never on SQLite).
    trusted: AtomicBool,
    /// The last [`Freshness`] computed (recomputed when the generation moves or one of its
    /// instants passes).
    last: RwLock<Option<Freshness>>,
    /// One recomputation at a time.
    refresh: Mutex<()>,
    /// Told on every move of `value`: live streams wake on it.
    signal: watch::Sender<()>,
}

impl Generation {
    pub(crate) fn new() -> Self {
        Self {
            value: AtomicU64::new(0),
            trusted: AtomicBool::new(true),
            last: RwLock::new(None),
            refresh: Mutex::new(()),
            signal: watch::Sender::new(()),
        }
    }
}

/// Bounds of the cross-process listener.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// After this long without a notification, the connection is checked with `SELECT 1`.
const PROBE_EVERY: Duration = Duration::from_secs(15);
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Reconnection backoff: from the first to the last, doubling.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_LAST: Duration = Duration::from_secs(5);

impl App {
    /// The content generation: it moves on every content write this process makes and every
    /// change another process signals.
    pub fn content_generation(&self) -> u64 {
        self.inner.generation.value.load(Ordering::Acquire)
    }

    /// The content generation, when it can be trusted to have moved on every change (not
    /// while the cross-process listener is disconnected).
    pub(crate) fn trusted_generation(&self) -> Option<u64> {
        let generation = &self.inner.generation;
        generation
            .trusted
            .load(Ordering::Acquire)
            .then(|| generation.value.load(Ordering::Acquire))
    }

    /// Content changed: every answer computed before is out of date. Called by the write use
    /// cases after their transaction committed; also by whoever writes content behind the
    /// application's back on a database that cannot signal it (SQLite).
    pub fn content_changed(&self) {
        self.inner.generation.value.fetch_add(1, Ordering::AcqRel);
        self.inner.generation.signal.send_replace(());
    }

    /// A receiver told each time content changes (this process's writes, and on PostgreSQL
    /// other processes' writes and the listener's reconnections): what live streams wake on.
    pub fn content_signal(&self) -> watch::Receiver<()> {
        self.inner.generation.signal.subscribe()
    }

    /// What an answer computed now depends on, or `None` when no cached answer may be served
    /// (the cross-process listener is not connected). Reads the next due instant from storage
    /// only when the generation moved or the last one passed.
    pub async fn freshness(&self, now: DateTime<Utc>) -> Result<Option<Freshness>, AppError> {
        let generation = &self.inner.generation;
        if !generation.trusted.load(Ordering::Acquire) {
            return Ok(None);
        }
        if let Some(last) = self.last_freshness(now) {
            return Ok(Some(last));
        }
        let _one = generation.refresh.lock().await;
        if let Some(last) = self.last_freshness(now) {
            return Ok(Some(last));
        }
        let current = self.content_generation();
        let window = gazette_domain::syndication::NEWS_SITEMAP_WINDOW;
        let (until, oldest) = self
            .store()
            .next_visibility_change(now, now - window)
            .await?;
        let fresh = Freshness {
            generation: current,
            until,
            window_until: oldest.map(|at| at + window),
        };
        *generation
            .last
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(fresh);
        Ok(Some(fresh))
    }

    /// The last freshness computed, if it is of the current generation and none of its
    /// instants has come.
    fn last_freshness(&self, now: DateTime<Utc>) -> Option<Freshness> {
        let last = (*self
            .inner
            .generation
            .last
            .read()
            .unwrap_or_else(PoisonError::into_inner))?;
        let current = last.generation == self.content_generation()
            && last.until.is_none_or(|until| now < until)
            && last.window_until.is_none_or(|until| now < until);
        current.then_some(last)
    }

    /// On PostgreSQL: listens (on a connection of its own to `database_url`) for the content
    /// notifications every process's writes send, and moves the generation on each. Connects
    /// once before returning (within a few seconds), so a server that starts serving trusts its
    /// cache from the first request when the database is there; until connected, and whenever
    /// the connection is lost, [`App::freshness`] answers `None`. Reconnects by itself with a
    /// bounded backoff; stops when `stop` turns true. `None` on other databases.
    pub async fn follow_content_changes(
        &self,
        database_url: &str,
        stop: watch::Receiver<bool>,
    ) -> Option<JoinHandle<()>> {
        if !self.store().is_postgres() {
            return None;
        }
        self.inner
            .generation
            .trusted
            .store(false, Ordering::Release);
        let first = match ContentListener::connect(
            database_url,
            CONNECT_TIMEOUT,
            self.store().session_tag(),
        )
        .await
        {
            Ok(listener) => {
                self.listening();
                Some(listener)
            }
            Err(error) => {
                tracing::warn!(%error, "content change listener: not connected; the response cache serves nothing until it is");
                None
            }
        };
        let app = self.clone();
        let url: Arc<str> = database_url.into();
        Some(tokio::spawn(listen_loop(app, url, first, stop)))
    }

    /// The listener (re)connected: whatever was missed meanwhile is forgotten.
    fn listening(&self) {
        self.content_changed();
        self.inner.generation.trusted.store(true, Ordering::Release);
    }

    fn not_listening(&self) {
        self.inner
            .generation
            .trusted
            .store(false, Ordering::Release);
        self.content_changed();
    }
}

async fn listen_loop(
    app: App,
    url: Arc<str>,
    mut listener: Option<ContentListener>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = BACKOFF_FIRST;
    loop {
        if *stop.borrow() {
            return;
        }
        match listener.as_mut() {
            Some(connected) => {
                let event = tokio::select! {
                    event = connected.next(PROBE_EVERY, PROBE_TIMEOUT) => event,
                    _ = stop.changed() => return,
                };
                match event {
                    ListenEvent::Changed => app.content_changed(),
                    ListenEvent::Lost => {
                        tracing::warn!("content change listener: connection lost; reconnecting");
                        app.not_listening();
                        listener = None;
                    }
                }
            }
            None => {
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                match ContentListener::connect(&url, CONNECT_TIMEOUT, app.store().session_tag())
                    .await
                {
                    Ok(connected) => {
                        tracing::info!("content change listener: connected");
                        app.listening();
                        listener = Some(connected);
                        backoff = BACKOFF_FIRST;
                    }
                    Err(error) => {
                        tracing::debug!(%error, "content change listener: still not connected");
                        backoff = (backoff * 2).min(BACKOFF_LAST);
                    }
                }
            }
        }
    }
}
