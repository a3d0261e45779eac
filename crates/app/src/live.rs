//! Live updates: the change log pushed as it grows, to the GraphQL subscription and the SSE
//! stream alike.
//!
//! A stream is the `changes` use case ([`crate::changes::read_changes`]) read again each time
//! something may have changed, from the stream's own cursor, for the stream's own viewer: its
//! events are exactly the entries `changes` would give that caller, judged at the instant they
//! are read (a scheduled story is announced once its time has come, an embargoed one is never
//! sent to a reader before it lifts).
//!
//! **Waking.** A stream's task sleeps until told: by the application's content signal (every
//! write this process commits; on PostgreSQL every write another process commits, through the
//! LISTEN/NOTIFY listener, and the listener's reconnections), or by the process's one due
//! ticker, which looks every `check_every` (default 1 s) whether the next scheduled publication
//! or embargo lift has come (on the application's clock, so tests move time instead of waiting)
//! and whether the cross-process listener is away (then it wakes streams every tick, as nothing
//! else would). Between wakes a stream costs no statement.
//!
//! **Bounds.** At most `max_subscribers` streams per process and `max_per_client` per client
//! address ([`gazette_domain::live::Slots`]); at most `max_topics` topics per filter; each
//! stream buffers at most `queue` pages of at most [`PAGE`] entries for its consumer: a consumer
//! that falls further behind is disconnected (it resumes from its last cursor when it
//! reconnects), never buffered without limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use gazette_domain::changes::ChangeCursor;
use gazette_domain::live::{Refusal, Slots, passes_filter, topic_filter};
use gazette_domain::{Body, CursorKey as _, Viewer};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::changes::{Change, ChangeEntry};
use crate::{App, AppError, Relations};

/// Entries read from the log at a time (one batch of a stream).
pub const PAGE: i32 = 100;

/// How many live streams a process holds and how much each may buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveConfig {
    /// Streams open at once in this process (GraphQL subscriptions and SSE streams together).
    pub max_subscribers: usize,
    /// Streams open at once from one client address.
    pub max_per_client: usize,
    /// Topics one filter may name.
    pub max_topics: usize,
    /// Batches a stream holds for a consumer that has not taken them; one more and it is
    /// disconnected.
    pub queue: usize,
    /// How often the due ticker looks whether a scheduled instant has come.
    pub check_every: Duration,
    /// How often an idle SSE stream sends a comment line (so proxies keep it open).
    pub heartbeat: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            max_subscribers: 10_000,
            max_per_client: 8,
            max_topics: 20,
            queue: 16,
            check_every: Duration::from_secs(1),
            heartbeat: Duration::from_secs(15),
        }
    }
}

/// What a stream asks for.
#[derive(Debug, Clone)]
pub struct LiveRequest {
    /// Who asks: the events are what `changes` gives them.
    pub viewer: Viewer,
    /// The client's address (the per-address limit).
    pub client: IpAddr,
    /// Resume after this change cursor (an SSE `Last-Event-ID`); absent: from now on.
    pub since: Option<String>,
    /// Only articles in one of these topics (slugs; removals always pass); empty: all.
    pub topics: Vec<String>,
    /// Load the bodies the viewer may read with each batch (the SSE stream sends them; the
    /// GraphQL subscription loads what its selection asks for itself).
    pub with_bodies: bool,
}

/// Entries read together, judged at one instant.
#[derive(Debug, Clone)]
pub struct LiveBatch {
    /// The entries, in commit order, each with its cursor.
    pub entries: Vec<ChangeEntry>,
    /// Topics and authors of the articles upserted.
    pub relations: Arc<Relations>,
    /// Bodies the viewer may read, when asked for.
    pub bodies: HashMap<Uuid, Body>,
    /// The instant the entries were judged at.
    pub now: DateTime<Utc>,
}

/// Live streams of one process: their slots, the due ticker, and the switch that ends them all
/// at shutdown. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Live {
    inner: Arc<LiveInner>,
}

#[derive(Debug)]
struct LiveInner {
    app: App,
    config: LiveConfig,
    slots: Mutex<Slots>,
    /// Told when a scheduled instant came, or every tick while other processes' writes may
    /// go unheard.
    due: watch::Sender<()>,
    /// The due ticker, started with the first stream.
    ticker: OnceLock<()>,
    /// True once the process stops: every stream ends.
    closing: watch::Sender<bool>,
}

/// One open stream: its batches, in order. Dropping it ends the stream and frees its slot.
#[derive(Debug)]
pub struct LiveStream {
    batches: mpsc::Receiver<LiveBatch>,
    start: String,
    _slot: Slot,
}

impl LiveStream {
    /// The cursor the stream started after (what a client resumes from if it hears nothing).
    pub fn start(&self) -> &str {
        &self.start
    }

    /// The next batch; `None` when the stream ended (the process stops, the consumer fell too
    /// far behind, or storage failed: resume from the last cursor).
    pub async fn next(&mut self) -> Option<LiveBatch> {
        self.batches.recv().await
    }
}

/// A taken slot, given back on drop.
#[derive(Debug)]
struct Slot {
    live: Arc<LiveInner>,
    client: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.live.slots().give_back(self.client);
        metrics::gauge!("gazette_live_streams").decrement(1.0);
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::ClientFull { limit } => {
                tracing::debug!(limit, "live stream refused: too many from this address");
                Self::RateLimited {
                    retry_after_secs: 5,
                }
            }
            Refusal::ServerFull { limit } => {
                tracing::warn!(limit, "live stream refused: the process holds its maximum");
                Self::Unavailable
            }
        }
    }
}

impl LiveInner {
    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Live {
    /// Live streams over `app`, bounded by `config`.
    pub fn new(app: App, config: LiveConfig) -> Self {
        Self {
            inner: Arc::new(LiveInner {
                slots: Mutex::new(Slots::new(config.max_subscribers, config.max_per_client)),
                app,
                config,
                due: watch::Sender::new(()),
                ticker: OnceLock::new(),
                closing: watch::Sender::new(false),
            }),
        }
    }

    /// The bounds.
    pub fn config(&self) -> &LiveConfig {
        &self.inner.config
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.inner.slots().open()
    }

    /// Whether `client` could open a stream now (before a WebSocket is upgraded, so a refusal
    /// is an HTTP status; the subscription itself takes the slot).
    pub fn admits(&self, client: IpAddr) -> Result<(), AppError> {
        if *self.inner.closing.borrow() {
            return Err(AppError::Unavailable);
        }
        Ok(self.inner.slots().check(client)?)
    }

    /// Ends every stream (the process is stopping) and refuses new ones.
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Opens a stream: checks the filter and the cursor (bad input names `topic` or `since`),
    /// takes a slot (refused: [`AppError::RateLimited`] for the address's limit,
    /// [`AppError::Unavailable`] for the process's), reads what the cursor missed, then follows
    /// the log.
    pub async fn subscribe(&self, request: LiveRequest) -> Result<LiveStream, AppError> {
        let live = &self.inner;
        let slugs = topic_filter(&request.topics, live.config.max_topics)?;
        let since = ChangeCursor::parse_since(request.since.as_deref())?;
        if *live.closing.borrow() {
            return Err(AppError::Unavailable);
        }
        live.slots().take(request.client)?;
        metrics::gauge!("gazette_live_streams").increment(1.0);
        let slot = Slot {
            live: Arc::clone(live),
            client: request.client,
        };
        let store = live.app.store();
        let wanted: Vec<Uuid> = if slugs.is_empty() {
            Vec::new()
        } else {
            let found = store.topics_by_slugs(&slugs).await?;
            if let Some(unknown) = slugs.iter().find(|s| !found.contains_key(*s)) {
                return Err(AppError::unknown_topic(unknown));
            }
            found.values().map(|t| t.id).collect()
        };
        let cursor = match request.since {
            Some(_) => since.encode(),
            None => ChangeCursor(store.change_log_head().await?).encode(),
        };
        let mut follower = Follower {
            app: live.app.clone(),
            viewer: request.viewer,
            wanted,
            with_bodies: request.with_bodies,
            cursor,
        };
        let (sender, batches) = mpsc::channel(live.config.queue.max(1));
        // Listening before the first read: nothing committed meanwhile goes unnoticed.
        let wake = Wake {
            content: live.app.content_signal(),
            due: live.due.subscribe(),
            closing: live.closing.subscribe(),
        };
        // Read once here: a cursor from elsewhere is refused before the stream starts.
        let start = follower.cursor.clone();
        let (first, more) = follower.read().await?;
        self.start_ticker();
        tokio::spawn(follower.follow(first, more, sender, wake));
        Ok(LiveStream {
            batches,
            start,
            _slot: slot,
        })
    }

    /// Starts the due ticker once per process.
    fn start_ticker(&self) {
        let live = Arc::clone(&self.inner);
        self.inner.ticker.get_or_init(|| {
            tokio::spawn(due_ticker(live));
        });
    }
}

/// Every `check_every`: tells streams when a scheduled publication or an embargo lift came
/// due since the last look (one indexed read per tick, only while streams are open), and every
/// tick while the cross-process listener is away or storage fails.
async fn due_ticker(live: Arc<LiveInner>) {
    let mut closing = live.closing.subscribe();
    let mut looked = live.app.now();
    loop {
        tokio::select! {
            () = tokio::time::sleep(live.config.check_every) => {}
            _ = closing.wait_for(|closing| *closing) => return,
        }
        let now = live.app.now();
        if live.due.receiver_count() == 0 {
            looked = now;
            continue;
        }
        let trusted = matches!(live.app.freshness(now).await, Ok(Some(_)));
        // The first instant after the last look at which something came due by itself.
        let due = live
            .app
            .store()
            .next_visibility_change(looked, looked)
            .await;
        let came = matches!(due, Ok((Some(at), _)) if at <= now);
        if came || !trusted || due.is_err() {
            live.due.send_replace(());
        }
        looked = now;
    }
}

/// What wakes a stream's task.
struct Wake {
    content: watch::Receiver<()>,
    due: watch::Receiver<()>,
    closing: watch::Receiver<bool>,
}

/// One stream's reader: its viewer, filter and cursor.
struct Follower {
    app: App,
    viewer: Viewer,
    wanted: Vec<Uuid>,
    with_bodies: bool,
    cursor: String,
}

impl Follower {
    /// Reads one page after the cursor and moves it: the batch to send (if anything passed the
    /// filter) and whether more can be read at once.
    async fn read(&mut self) -> Result<(Option<LiveBatch>, bool), AppError> {
        let now = self.app.now();
        let (page, relations) = self
            .app
            .changes(&self.viewer, Some(self.cursor.as_str()), Some(PAGE), now)
            .await?;
        self.cursor.clone_from(&page.next_cursor);
        let entries: Vec<ChangeEntry> = page
            .entries
            .into_iter()
            .filter(|entry| {
                let topics = match &entry.change {
                    Change::Upsert(article) => Some(
                        relations
                            .topic_ids
                            .get(&article.id)
                            .map_or(&[][..], Vec::as_slice),
                    ),
                    Change::Remove(_) => None,
                };
                passes_filter(&self.wanted, topics)
            })
            .collect();
        if entries.is_empty() {
            return Ok((None, page.has_more));
        }
        let bodies = if self.with_bodies {
            let readable: Vec<Uuid> = entries
                .iter()
                .filter_map(|e| match &e.change {
                    Change::Upsert(a) => {
                        gazette_domain::syndication::may_read_body(&self.viewer, a, now)
                            .then_some(a.id)
                    }
                    Change::Remove(_) => None,
                })
                .collect();
            self.app.bodies(&readable).await?
        } else {
            HashMap::new()
        };
        let batch = LiveBatch {
            entries,
            relations: Arc::new(relations),
            bodies,
            now,
        };
        Ok((Some(batch), page.has_more))
    }

    /// Sends `first`, then reads on each wake until the consumer goes, falls behind, storage
    /// fails, or the process stops.
    async fn follow(
        mut self,
        first: Option<LiveBatch>,
        mut more: bool,
        sender: mpsc::Sender<LiveBatch>,
        mut wake: Wake,
    ) {
        if !send(&sender, first) {
            return;
        }
        loop {
            while more {
                match self.read().await {
                    Ok((batch, again)) => {
                        if !send(&sender, batch) {
                            return;
                        }
                        more = again;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "live stream ends: reading the change log failed");
                        return;
                    }
                }
            }
            tokio::select! {
                changed = wake.content.changed() => if changed.is_err() { return },
                changed = wake.due.changed() => if changed.is_err() { return },
                _ = wake.closing.wait_for(|closing| *closing) => return,
                () = sender.closed() => return,
            }
            more = true;
        }
    }
}

/// Hands `batch` (if any) to the consumer; false when the stream must end (the consumer left,
/// or holds a full queue: a slow consumer is disconnected, not buffered without limit).
fn send(sender: &mpsc::Sender<LiveBatch>, batch: Option<LiveBatch>) -> bool {
    let Some(batch) = batch else {
        return !sender.is_closed();
    };
    match sender.try_send(batch) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::info!("live stream ends: its consumer fell too far behind");
            metrics::counter!("gazette_live_slow_consumers_total").increment(1);
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}
