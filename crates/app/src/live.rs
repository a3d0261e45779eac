//! Live updates: the change log pushed as it grows, to the GraphQL subscription and the SSE
//! stream alike.
//!
//! A stream's events are the `changes` use case ([`crate::changes::read_changes`]) read again
//! each time something may have changed: exactly the entries `changes` would give its caller,
//! judged at the instant they are read (a scheduled story is announced once its time has come,
//! an embargoed one is never sent to a reader before it lifts).
//!
//! **One reader per class, not per stream.** What `changes` gives a caller depends only on
//! their [`ReaderClass`] (anonymous, partner with or without syndication, editor, admin), so a
//! process runs one *hub* per class (and per "with bodies"), started with its first stream and
//! ended with its last: the hub reads the log once per wake and broadcasts each batch to every
//! stream of its class, which keeps the entries that pass its own topic filter. A write costs
//! the same few statements with one stream open or ten thousand, and an idle stream is a
//! broadcast receiver, not a task. A stream that resumes from an older cursor (`since`,
//! `Last-Event-ID`) first reads what it missed on its own, up to where the hub stood when it
//! joined, then follows the hub (entries it already read are skipped by position).
//!
//! **Waking.** A hub sleeps until told: by the application's content signal (every write this
//! process commits; on PostgreSQL every write another process commits, through the
//! LISTEN/NOTIFY listener, and the listener's reconnections), or by the process's one due
//! ticker, which looks every `check_every` (default 1 s) whether the next scheduled publication
//! or embargo lift has come (on the application's clock, so tests move time instead of waiting)
//! and whether the cross-process listener is away (then it wakes hubs every tick, as nothing
//! else would). Between wakes nothing reads.
//!
//! **Bounds.** At most `max_subscribers` streams per process and `max_per_client` per client
//! address ([`gazette_domain::live::Slots`]); at most `max_topics` topics per filter; at most
//! one hub per class (ten in all); each hub keeps its last `queue` batches of at most [`PAGE`]
//! entries for its streams: a consumer that falls further behind is disconnected (it resumes
//! from its last cursor when it reconnects), never buffered without limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use gazette_domain::changes::ChangeCursor;
use gazette_domain::live::{ReaderClass, Refusal, Slots, passes_filter, topic_filter};
use gazette_domain::{Body, CursorKey as _, Viewer};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use crate::changes::{Change, ChangeEntry};
use crate::{App, AppError, Relations};

/// Entries read from the log at a time (one batch).
pub const PAGE: i32 = 100;

/// How many live streams a process holds and how much each may fall behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveConfig {
    /// Streams open at once in this process (GraphQL subscriptions and SSE streams together).
    pub max_subscribers: usize,
    /// Streams open at once from one client address.
    pub max_per_client: usize,
    /// Topics one filter may name.
    pub max_topics: usize,
    /// Batches a stream may leave untaken; one more and it is disconnected.
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
    pub bodies: Arc<HashMap<Uuid, Body>>,
    /// The instant the entries were judged at.
    pub now: DateTime<Utc>,
}

/// Why a stream ended (the error of [`LiveStream::next`]): in every case the client resumes from the last
/// cursor it received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveEnd {
    /// Its consumer fell more than `queue` batches behind.
    Behind,
    /// The process is stopping.
    Closing,
    /// Reading the change log failed.
    Failed,
}

impl LiveEnd {
    /// The reason as clients read it: `behind`, `closing` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Behind => "behind",
            Self::Closing => "closing",
            Self::Failed => "failed",
        }
    }
}

/// A batch as a hub read it, before a stream's filter: with the log position it reached.
#[derive(Debug)]
struct HubBatch {
    batch: LiveBatch,
    /// The position of each entry (parallel to `batch.entries`).
    positions: Vec<i64>,
    /// The position the read reached (at or after the last entry's).
    reached: i64,
}

/// Live streams of one process: their slots, hubs, the due ticker, and the switch that ends
/// them all at shutdown. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Live {
    inner: Arc<LiveInner>,
}

#[derive(Debug)]
struct LiveInner {
    app: App,
    config: LiveConfig,
    slots: Mutex<Slots>,
    /// The running hubs, at most one per key (so at most ten).
    hubs: Mutex<HashMap<HubKey, Arc<Hub>>>,
    /// Told when a scheduled instant came, or every tick while other processes' writes may
    /// go unheard.
    due: watch::Sender<()>,
    /// The due ticker, started with the first stream.
    ticker: OnceLock<()>,
    /// True once the process stops: every stream ends.
    closing: watch::Sender<bool>,
}

/// What one hub reads: the log as one class of reader sees it, with or without bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct HubKey {
    class: ReaderClass,
    with_bodies: bool,
}

/// One reader of the log for every stream of its key.
#[derive(Debug)]
struct Hub {
    batches: broadcast::Sender<Arc<HubBatch>>,
    /// Where the hub's reads have reached: every entry at or before it has been broadcast.
    /// Moved before the batch is sent, so a stream that joins and then reads it misses nothing.
    reached: Mutex<i64>,
}

impl Hub {
    fn reached(&self) -> i64 {
        *self.reached.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reach(&self, position: i64) {
        let mut reached = self.reached.lock().unwrap_or_else(PoisonError::into_inner);
        *reached = (*reached).max(position);
    }
}

/// One open stream: its batches, in order. Dropping it ends the stream and frees its slot.
#[derive(Debug)]
pub struct LiveStream {
    start: String,
    /// The first batch, read when the stream opened.
    first: Option<LiveBatch>,
    /// Reads what the stream's cursor missed, until it reaches `joined_at`.
    catch_up: Option<Reader>,
    /// Where the hub stood when this stream joined it.
    joined_at: i64,
    /// The hub's batches from the moment this stream joined.
    batches: broadcast::Receiver<Arc<HubBatch>>,
    /// Entries at or before this position were sent already.
    position: i64,
    /// Topic ids an upsert must carry one of (empty: all).
    wanted: Vec<Uuid>,
    closing: watch::Receiver<bool>,
    _slot: Slot,
}

impl LiveStream {
    /// The cursor the stream started after (what a client resumes from if it hears nothing).
    pub fn start(&self) -> &str {
        &self.start
    }

    /// The next batch, or why the stream ended (the process stops, the consumer fell too far
    /// behind, or storage failed: resume from the last cursor). Not to be called again after
    /// an end.
    pub async fn next(&mut self) -> Result<LiveBatch, LiveEnd> {
        if let Some(first) = self.first.take() {
            return Ok(first);
        }
        while let Some(reader) = &mut self.catch_up {
            if *self.closing.borrow() {
                return Err(LiveEnd::Closing);
            }
            if reader.position >= self.joined_at {
                self.catch_up = None;
                break;
            }
            match reader.read().await {
                Ok((batch, more)) => {
                    self.position = self.position.max(reader.position);
                    if !more {
                        self.catch_up = None;
                    }
                    if let Some(batch) = batch.and_then(|b| keep(&b, &self.wanted, 0)) {
                        return Ok(batch);
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "live stream ends: reading the change log failed");
                    return Err(LiveEnd::Failed);
                }
            }
        }
        loop {
            match self.batches.recv().await {
                Ok(read) => {
                    let kept = keep(&read, &self.wanted, self.position);
                    self.position = self.position.max(read.reached);
                    if let Some(batch) = kept {
                        return Ok(batch);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    tracing::info!("live stream ends: its consumer fell too far behind");
                    metrics::counter!("gazette_live_slow_consumers_total").increment(1);
                    return Err(LiveEnd::Behind);
                }
                // The hub stopped: storage failed or the process is closing.
                Err(broadcast::error::RecvError::Closed) => {
                    return Err(if *self.closing.borrow() {
                        LiveEnd::Closing
                    } else {
                        LiveEnd::Failed
                    });
                }
            }
        }
    }
}

/// The part of `read` a stream keeps: entries after `after` that pass its topic filter.
fn keep(read: &HubBatch, wanted: &[Uuid], after: i64) -> Option<LiveBatch> {
    let entries: Vec<ChangeEntry> = read
        .batch
        .entries
        .iter()
        .zip(&read.positions)
        .filter(|(entry, position)| {
            **position > after && passes_filter(wanted, upsert_topics(entry, &read.batch))
        })
        .map(|(entry, _)| entry.clone())
        .collect();
    (!entries.is_empty()).then(|| LiveBatch {
        entries,
        relations: Arc::clone(&read.batch.relations),
        bodies: Arc::clone(&read.batch.bodies),
        now: read.batch.now,
    })
}

/// The topics of an upserted article (`None` for a removal: its topics are not told).
fn upsert_topics<'a>(entry: &ChangeEntry, batch: &'a LiveBatch) -> Option<&'a [Uuid]> {
    match &entry.change {
        Change::Upsert(article) => Some(
            batch
                .relations
                .topic_ids
                .get(&article.id)
                .map_or(&[][..], Vec::as_slice),
        ),
        Change::Remove(_) => None,
    }
}

/// The log position a cursor this module made stands for.
fn position_of(cursor: &str) -> i64 {
    ChangeCursor::parse_since(Some(cursor)).map_or(0, |c| c.0)
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

    fn hubs(&self) -> std::sync::MutexGuard<'_, HashMap<HubKey, Arc<Hub>>> {
        self.hubs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Live {
    /// Live streams over `app`, bounded by `config`.
    pub fn new(app: App, config: LiveConfig) -> Self {
        Self {
            inner: Arc::new(LiveInner {
                slots: Mutex::new(Slots::new(config.max_subscribers, config.max_per_client)),
                hubs: Mutex::new(HashMap::new()),
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

    /// Readers of the log running now (one per class of reader with a stream open).
    pub fn hubs(&self) -> usize {
        self.inner.hubs().len()
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

    /// Resolves once [`Live::close`] has been called (at once if it has).
    pub fn closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut closing = self.inner.closing.subscribe();
        async move {
            // An error means the sender is gone: no stream is left to end either.
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// Opens a stream: checks the filter and the cursor (bad input names `topic` or `since`),
    /// takes a slot (refused: [`AppError::RateLimited`] for the address's limit,
    /// [`AppError::Unavailable`] for the process's), joins its class's hub, reads what the
    /// cursor missed, then follows the hub.
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
        let position = match request.since {
            Some(_) => since.0,
            None => store.change_log_head().await?,
        };
        let key = HubKey {
            class: ReaderClass::of(&request.viewer),
            with_bodies: request.with_bodies,
        };
        let mut reader = Reader {
            app: live.app.clone(),
            viewer: request.viewer,
            with_bodies: request.with_bodies,
            position,
        };
        // Read once before joining: a cursor from elsewhere is refused before the stream
        // starts, and a hub this stream starts begins where that read ended, on the log. A
        // batch the hub sends after the join reaches the stream; what it sent before is at or
        // before `joined_at`, up to which the stream reads on its own (and entries at or
        // before its own position are skipped), whichever of the two is ahead.
        let start = ChangeCursor(position).encode();
        let (first, more) = reader.read().await?;
        let first = first.and_then(|b| keep(&b, &wanted, 0));
        // A stream far behind does not start its hub there (the hub would send the backlog to
        // every stream of the class): a new hub starts at the head of the log.
        let hub_start = if more {
            store.change_log_head().await?
        } else {
            reader.position
        };
        let (batches, joined_at) = self.join(key, hub_start);
        Ok(LiveStream {
            start,
            first,
            position: reader.position,
            catch_up: (more || joined_at > reader.position).then_some(reader),
            joined_at,
            batches,
            wanted,
            closing: live.closing.subscribe(),
            _slot: slot,
        })
    }

    /// Subscribes to the hub of `key`, starting it (reading from `position`) when none runs:
    /// the hub's batches from now on, and where it stood.
    fn join(&self, key: HubKey, position: i64) -> (broadcast::Receiver<Arc<HubBatch>>, i64) {
        let live = &self.inner;
        let mut hubs = live.hubs();
        if let Some(hub) = hubs.get(&key) {
            return (hub.batches.subscribe(), hub.reached());
        }
        let (batches, receiver) = broadcast::channel(live.config.queue.max(1));
        let hub = Arc::new(Hub {
            batches,
            reached: Mutex::new(position),
        });
        hubs.insert(key, Arc::clone(&hub));
        drop(hubs);
        let wake = Wake {
            content: live.app.content_signal(),
            due: live.due.subscribe(),
            closing: live.closing.subscribe(),
        };
        let reader = Reader {
            app: live.app.clone(),
            viewer: key.class.viewer(),
            with_bodies: key.with_bodies,
            position,
        };
        self.start_ticker();
        tokio::spawn(run_hub(Arc::clone(live), key, hub, reader, wake));
        (receiver, position)
    }

    /// Starts the due ticker once per process.
    fn start_ticker(&self) {
        let live = Arc::clone(&self.inner);
        self.inner.ticker.get_or_init(|| {
            tokio::spawn(due_ticker(live));
        });
    }
}

/// A hub's life: read what the log holds after its position and broadcast it, on every wake,
/// until its last stream goes, storage fails or the process stops.
async fn run_hub(
    live: Arc<LiveInner>,
    key: HubKey,
    hub: Arc<Hub>,
    mut reader: Reader,
    mut wake: Wake,
) {
    loop {
        let mut more = true;
        while more {
            match reader.read().await {
                Ok((batch, again)) => {
                    hub.reach(reader.position);
                    if let Some(batch) = batch {
                        // No receiver: the check below ends the hub.
                        let _ = hub.batches.send(Arc::new(batch));
                    }
                    more = again;
                }
                Err(error) => {
                    tracing::warn!(%error, "live streams end: reading the change log failed");
                    live.hubs().remove(&key);
                    return;
                }
            }
        }
        {
            // Under the registry's lock: a stream joins either before this (and is counted)
            // or after the hub is gone (and starts a new one).
            let mut hubs = live.hubs();
            if hub.batches.receiver_count() == 0 {
                hubs.remove(&key);
                return;
            }
        }
        tokio::select! {
            changed = wake.content.changed() => if changed.is_err() { break },
            changed = wake.due.changed() => if changed.is_err() { break },
            _ = wake.closing.wait_for(|closing| *closing) => break,
        }
    }
    live.hubs().remove(&key);
}

/// Every `check_every`: tells hubs when a scheduled publication or an embargo lift came
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

/// What wakes a hub.
struct Wake {
    content: watch::Receiver<()>,
    due: watch::Receiver<()>,
    closing: watch::Receiver<bool>,
}

/// A reader of the log from a position, as one viewer.
#[derive(Debug)]
struct Reader {
    app: App,
    viewer: Viewer,
    with_bodies: bool,
    position: i64,
}

impl Reader {
    /// Reads one page after the position and moves it: what was read (if any entry is for
    /// this viewer) and whether more can be read at once.
    async fn read(&mut self) -> Result<(Option<HubBatch>, bool), AppError> {
        let now = self.app.now();
        let cursor = ChangeCursor(self.position).encode();
        let (page, relations) = self
            .app
            .changes(&self.viewer, Some(cursor.as_str()), Some(PAGE), now)
            .await?;
        self.position = position_of(&page.next_cursor).max(self.position);
        if page.entries.is_empty() {
            return Ok((None, page.has_more));
        }
        let bodies = if self.with_bodies {
            let readable: Vec<Uuid> = page
                .upserted()
                .filter(|a| gazette_domain::syndication::may_read_body(&self.viewer, a, now))
                .map(|a| a.id)
                .collect();
            self.app.bodies(&readable).await?
        } else {
            HashMap::new()
        };
        let positions = page
            .entries
            .iter()
            .map(|e| position_of(&e.cursor))
            .collect();
        let batch = HubBatch {
            batch: LiveBatch {
                entries: page.entries,
                relations: Arc::new(relations),
                bodies: Arc::new(bodies),
                now,
            },
            positions,
            reached: self.position,
        };
        Ok((Some(batch), page.has_more))
    }
}
