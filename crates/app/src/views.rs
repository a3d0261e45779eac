//! The view beacon's engine: views are checked and added up in memory, then flushed in batches
//! (one transaction a tick) into hourly buckets; trending lists are cached for a few seconds.
//!
//! Nothing here writes per view. A view is counted when its article is public, and once per
//! visitor and article within the dedupe window. Counts that could not be flushed stay pending
//! and are retried; the last flush runs at shutdown, after the HTTP server has drained.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gazette_domain::trending::{Candidate, TrendingWindow, bucket_hour};
use gazette_domain::{ArticleStatus, Slug, Topic, ValidationError, Visibility};
use gazette_persistence::{FlushReport, Store, StoreError, ViewCount};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::clock::Clock;

/// Settings of view counting and trending.
#[derive(Debug, Clone)]
pub struct ViewsConfig {
    /// How often pending counts are written.
    pub flush_interval: Duration,
    /// A visitor's repeat view of an article within this long counts once.
    pub dedupe_window: Duration,
    /// Most (visitor, article) pairs remembered for dedupe; beyond it, repeats count again
    /// rather than memory growing without bound.
    pub dedupe_capacity: usize,
    /// Half-life of a view's weight in trending scores.
    pub half_life: chrono::Duration,
    /// How long a trending list is served from memory (zero: not cached).
    pub trending_cache_ttl: Duration,
    /// How often windows move on and old buckets are dropped.
    pub expiry_interval: Duration,
    /// Beacon requests per second allowed from one address (zero: unlimited, and the address
    /// rules below off too: load tests and exact counts from one address rely on it).
    pub rate_per_second: u32,
    /// Burst allowed above that rate.
    pub rate_burst: u32,
    /// Views of one article counted from one client address (IPv6: its /64) per dedupe
    /// window, whatever visitor ids they carry (zero: no cap). Views without a visitor id
    /// count once per address and article in the window on top of any cap.
    pub address_cap: u32,
    /// Most (address, article) pairs the address rules remember; the least recently seen is
    /// forgotten first, so an address still flooding keeps its tally.
    pub address_capacity: usize,
}

impl Default for ViewsConfig {
    fn default() -> Self {
        Self {
            flush_interval: Duration::from_secs(1),
            dedupe_window: Duration::from_secs(30 * 60),
            dedupe_capacity: 1_000_000,
            half_life: chrono::Duration::hours(24),
            trending_cache_ttl: Duration::from_secs(5),
            expiry_interval: Duration::from_secs(60),
            rate_per_second: 20,
            rate_burst: 40,
            address_cap: 20,
            address_capacity: 200_000,
        }
    }
}

/// Which article a view is of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArticleRef {
    /// By id.
    Id(Uuid),
    /// By slug (earlier slugs of a renamed article resolve too).
    Slug(Slug),
}

impl ArticleRef {
    /// Reads the beacon's `articleId` / `slug` pair: exactly one of them.
    pub fn from_parts(
        article_id: Option<&str>,
        slug: Option<&str>,
    ) -> Result<Self, ValidationError> {
        match (article_id, slug) {
            (Some(id), None) => Uuid::try_parse(id.trim())
                .map(Self::Id)
                .map_err(|_| ValidationError::new("articleId", "must be a UUID")),
            (None, Some(slug)) => Slug::parse(slug).map(Self::Slug),
            (Some(_), Some(_)) => Err(ValidationError::new(
                "articleId",
                "give either `articleId` or `slug`, not both",
            )),
            (None, None) => Err(ValidationError::new(
                "articleId",
                "name the article viewed: `articleId` or `slug`",
            )),
        }
    }
}

/// Longest visitor id accepted, in characters.
pub const MAX_VISITOR_ID_LEN: usize = 200;

/// Reads a beacon's optional visitor id: trimmed, 1 to [`MAX_VISITOR_ID_LEN`] characters (as
/// every length rule, and the OpenAPI schema's `maxLength`, counts them). The one check of the
/// REST beacon and the GraphQL mutation.
pub fn visitor_id(raw: Option<&str>) -> Result<Option<&str>, ValidationError> {
    let visitor = raw.map(str::trim);
    if visitor.is_some_and(|v| v.is_empty() || v.chars().count() > MAX_VISITOR_ID_LEN) {
        return Err(ValidationError::new(
            "visitorId",
            format!("must be 1 to {MAX_VISITOR_ID_LEN} characters"),
        ));
    }
    Ok(visitor)
}

/// What became of a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewOutcome {
    /// Counted.
    Counted,
    /// The same visitor viewed the same article within the dedupe window.
    Repeat,
    /// No public article by that id or slug.
    NotPublic,
    /// One address already counted as many views of the article as it may in the window.
    Capped,
}

impl ViewOutcome {
    /// Whether the view was counted.
    pub fn counted(self) -> bool {
        self == Self::Counted
    }

    /// A short reason for a view that was not counted.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Self::Counted => None,
            Self::Repeat => Some("repeat view within the dedupe window"),
            Self::NotPublic => Some("no public article by that id or slug"),
            Self::Capped => Some("this address has been counted for this article enough for now"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Known {
    id: Uuid,
    status: ArticleStatus,
    published_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

/// How long an article lookup is trusted; a newly unpublished article may still collect views
/// this long in memory, and the flush re-checks every article against the database anyway.
const LOOKUP_TTL: Duration = Duration::from_secs(5);
const LOOKUP_CAPACITY: usize = 100_000;

/// Recent (visitor, article) pairs, for dedupe.
#[derive(Default)]
struct Seen {
    entries: HashMap<(u64, Uuid), Instant>,
    last_sweep: Option<Instant>,
}

/// What one client address has done to one article in the current dedupe window.
#[derive(Debug, Clone, Copy)]
struct Tally {
    since: Instant,
    counted: u32,
    anonymous_seen: bool,
}

/// What the address rules make of a view.
enum AddressRule {
    Admit,
    Repeat,
    Capped,
}

/// The address a client is known by: IPv4 whole (IPv4-mapped IPv6 too), IPv6 by its /64 (one
/// subscriber's network: a client choosing among its 2^64 addresses is still one client).
pub fn client_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        v4 => v4,
    }
}

type TrendingKey = (TrendingWindow, Option<Slug>, usize);
/// A trending list and the end of the interval it was computed in (when it is forgotten).
type CachedList = (Instant, Arc<Vec<Candidate>>);

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    config: ViewsConfig,
    pending: Mutex<HashMap<(Uuid, DateTime<Utc>), i64>>,
    seen: Mutex<Seen>,
    hasher: RandomState,
    lookups: Mutex<HashMap<ArticleRef, (Instant, Option<Known>)>>,
    trending: Mutex<HashMap<TrendingKey, CachedList>>,
    /// Where trending's cache intervals are counted from.
    epoch: Instant,
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Per (hashed address prefix, article): the address rules' memory, bounded.
    tallies: Mutex<lru::LruCache<(u64, Uuid), Tally>>,
}

/// View counting and trending, shared by every handler. Cheap to clone.
#[derive(Clone)]
pub struct Views {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Views {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Views")
            .field("config", &self.inner.config)
            .field("pending", &self.pending_views())
            .finish()
    }
}

/// A poisoned lock only means another thread panicked mid-update of plain counters; the data
/// is still usable, so keep going rather than lose every later view.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Views {
    /// View counting over `store`; the background tasks read `now` from `clock`.
    pub fn new(store: Store, config: ViewsConfig, clock: Arc<dyn Clock>) -> Self {
        let limiter = NonZeroU32::new(config.rate_per_second).map(|rate| {
            let burst =
                NonZeroU32::new(config.rate_burst.max(config.rate_per_second)).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                pending: Mutex::new(HashMap::new()),
                seen: Mutex::new(Seen::default()),
                hasher: RandomState::new(),
                lookups: Mutex::new(HashMap::new()),
                trending: Mutex::new(HashMap::new()),
                epoch: Instant::now(),
                limiter,
                tallies: Mutex::new(lru::LruCache::new(
                    std::num::NonZeroUsize::new(config.address_capacity)
                        .unwrap_or(std::num::NonZeroUsize::MIN),
                )),
                config,
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ViewsConfig {
        &self.inner.config
    }

    /// Whether `address` (IPv6: its /64) may send another beacon now; `Err` carries how long to
    /// wait.
    pub fn check_rate(&self, address: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = &self.inner.limiter else {
            return Ok(());
        };
        limiter
            .check_key(&client_key(address))
            .map_err(|not_until| {
                not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ))
            })
    }

    async fn lookup(&self, article: &ArticleRef) -> Result<Option<Known>, StoreError> {
        if let Some((at, known)) = lock(&self.inner.lookups).get(article)
            && at.elapsed() < LOOKUP_TTL
        {
            return Ok(*known);
        }
        let found = match article {
            ArticleRef::Id(id) => {
                self.inner
                    .store
                    .article_by_id(*id, Visibility::Everything)
                    .await?
            }
            ArticleRef::Slug(slug) => {
                self.inner
                    .store
                    .article_by_slug(slug, Visibility::Everything)
                    .await?
            }
        };
        let known = found.map(|a| Known {
            id: a.id,
            status: a.status,
            published_at: a.published_at,
            expires_at: a.expires_at,
        });
        let mut lookups = lock(&self.inner.lookups);
        if lookups.len() >= LOOKUP_CAPACITY {
            lookups.clear();
        }
        lookups.insert(article.clone(), (Instant::now(), known));
        Ok(known)
    }

    /// Counts one view from `client` at `now` (in memory; the next flush writes it). The one
    /// rule of what counts, for the REST beacon and the GraphQL mutation alike: a public
    /// article; once per visitor id in the dedupe window; and, unless the beacon rate limit is
    /// off, once per address without a visitor id and at most
    /// [`ViewsConfig::address_cap`] per address, so one address cannot buy a place in
    /// trending by inventing visitor ids.
    pub async fn record(
        &self,
        article: &ArticleRef,
        visitor: Option<&str>,
        client: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<ViewOutcome, StoreError> {
        let Some(known) = self.lookup(article).await? else {
            return Ok(ViewOutcome::NotPublic);
        };
        // The one public rule (the domain's), on the columns the lookup keeps.
        if !Visibility::PublicAt(now).admits_parts(
            known.status,
            known.published_at,
            None,
            known.expires_at,
        ) {
            return Ok(ViewOutcome::NotPublic);
        }
        if let Some(visitor) = visitor
            && self.is_repeat(visitor, known.id)
        {
            return Ok(ViewOutcome::Repeat);
        }
        if self.inner.limiter.is_some() {
            match self.address_rule(client, known.id, visitor.is_none()) {
                AddressRule::Admit => {}
                AddressRule::Repeat => return Ok(ViewOutcome::Repeat),
                AddressRule::Capped => return Ok(ViewOutcome::Capped),
            }
        }
        *lock(&self.inner.pending)
            .entry((known.id, bucket_hour(now)))
            .or_default() += 1;
        Ok(ViewOutcome::Counted)
    }

    /// Applies the address rules to a view of `article` from `client` (`anonymous`: without a
    /// visitor id) and, when admitted, counts it in the address's tally.
    fn address_rule(&self, client: IpAddr, article: Uuid, anonymous: bool) -> AddressRule {
        let key = (self.inner.hasher.hash_one(client_key(client)), article);
        let window = self.inner.config.dedupe_window;
        let cap = self.inner.config.address_cap;
        let now = Instant::now();
        let fresh = || Tally {
            since: now,
            counted: 0,
            anonymous_seen: false,
        };
        let mut tallies = lock(&self.inner.tallies);
        let tally = tallies.get_or_insert_mut(key, fresh);
        if now.duration_since(tally.since) >= window {
            *tally = fresh();
        }
        if anonymous && tally.anonymous_seen {
            return AddressRule::Repeat;
        }
        if cap > 0 && tally.counted >= cap {
            return AddressRule::Capped;
        }
        tally.counted += 1;
        tally.anonymous_seen |= anonymous;
        AddressRule::Admit
    }

    /// Remembers (visitor, article) and says whether it was seen within the dedupe window.
    fn is_repeat(&self, visitor: &str, article: Uuid) -> bool {
        let key = (self.inner.hasher.hash_one(visitor), article);
        let window = self.inner.config.dedupe_window;
        let now = Instant::now();
        let mut seen = lock(&self.inner.seen);
        if let Some(at) = seen.entries.get(&key)
            && now.duration_since(*at) < window
        {
            return true;
        }
        if seen.entries.len() >= self.inner.config.dedupe_capacity {
            // Sweep at most once a second: a sweep walks every entry under the lock.
            if seen
                .last_sweep
                .is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1))
            {
                seen.entries
                    .retain(|_, at| now.duration_since(*at) < window);
                seen.last_sweep = Some(now);
            }
            if seen.entries.len() >= self.inner.config.dedupe_capacity {
                // Full of recent visitors: count this view rather than grow without bound.
                return false;
            }
        }
        seen.entries.insert(key, now);
        false
    }

    /// Views counted in memory and not yet written.
    pub fn pending_views(&self) -> i64 {
        lock(&self.inner.pending).values().sum()
    }

    /// Writes every pending count in one transaction. On failure the counts go back to
    /// pending (added to any that arrived meanwhile) for the next attempt.
    pub async fn flush(&self, now: DateTime<Utc>) -> Result<FlushReport, StoreError> {
        let batch = std::mem::take(&mut *lock(&self.inner.pending));
        if batch.is_empty() {
            return Ok(FlushReport::default());
        }
        let counts: Vec<ViewCount> = batch
            .iter()
            .map(|(&(article_id, hour), &views)| ViewCount {
                article_id,
                hour,
                views,
            })
            .collect();
        let started = Instant::now();
        let written = self.inner.store.record_views(&counts, now).await;
        let views: i64 = counts.iter().map(|c| c.views).sum();
        crate::metrics::view_flush(views, started.elapsed(), written.is_ok());
        match written {
            Ok(report) => Ok(report),
            Err(error) => {
                let mut pending = lock(&self.inner.pending);
                for (key, views) in batch {
                    *pending.entry(key).or_default() += views;
                }
                Err(error)
            }
        }
    }

    /// Forgets dedupe entries and rate-limit state older than their windows.
    fn sweep(&self) {
        let window = self.inner.config.dedupe_window;
        let now = Instant::now();
        let mut seen = lock(&self.inner.seen);
        seen.entries
            .retain(|_, at| now.duration_since(*at) < window);
        seen.last_sweep = Some(now);
        drop(seen);
        if let Some(limiter) = &self.inner.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let now = Instant::now();
        lock(&self.inner.trending).retain(|_, (until, _)| now < *until);
    }

    /// The end of the current trending interval (`None` when trending is not cached). Trending
    /// is cached in fixed intervals of `trending_cache_ttl` counted from the start: every list,
    /// and every cached answer showing one, is forgotten at the end of the interval it was
    /// computed in, so views move trending at those instants and never later.
    pub fn trending_interval_end(&self) -> Option<Instant> {
        let ttl = self.inner.config.trending_cache_ttl;
        if ttl.is_zero() {
            return None;
        }
        let intervals = self.inner.epoch.elapsed().as_nanos() / ttl.as_nanos() + 1;
        let offset = u64::try_from(intervals.saturating_mul(ttl.as_nanos())).unwrap_or(u64::MAX);
        self.inner.epoch.checked_add(Duration::from_nanos(offset))
    }

    /// The trending list, from memory when a fresh enough copy is there. A topic's list takes
    /// the [`Topic`] itself, so only a topic that exists ever reaches the cache.
    pub async fn trending(
        &self,
        window: TrendingWindow,
        topic: Option<&Topic>,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Arc<Vec<Candidate>>, StoreError> {
        let interval_end = self.trending_interval_end();
        let key = (window, topic.map(|t| t.slug.clone()), limit);
        if interval_end.is_some()
            && let Some((until, list)) = lock(&self.inner.trending).get(&key)
            && Instant::now() < *until
        {
            crate::metrics::cache_lookup("trending", true);
            return Ok(Arc::clone(list));
        }
        if interval_end.is_some() {
            crate::metrics::cache_lookup("trending", false);
        }
        let list = Arc::new(
            self.inner
                .store
                .trending(window, key.1.as_ref(), limit, now)
                .await?,
        );
        if let Some(until) = interval_end {
            lock(&self.inner.trending).insert(key, (until, Arc::clone(&list)));
        }
        Ok(list)
    }

    /// Starts the flusher and the expiry task. Call [`ViewTasks::shutdown`] after the HTTP
    /// server has stopped, so the last views are written before the process exits.
    pub fn spawn_tasks(&self) -> ViewTasks {
        let (stop, stopped) = watch::channel(false);
        let flusher = tokio::spawn(flush_loop(self.clone(), stopped.clone()));
        let expirer = tokio::spawn(expiry_loop(self.clone(), stopped));
        ViewTasks {
            stop,
            handles: vec![flusher, expirer],
        }
    }
}

async fn flush_loop(views: Views, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(views.config().flush_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sweeps = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(error) = views.flush(views.inner.clock.now()).await {
                    tracing::warn!(%error, pending = views.pending_views(), "view flush failed; will retry");
                }
            }
            _ = sweeps.tick() => views.sweep(),
            _ = stopped.changed() => break,
        }
    }
    // Shutdown: write what is left, retrying for a while if the database is away.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match views.flush(views.inner.clock.now()).await {
            Ok(report) => {
                tracing::info!(counted = report.counted, "final view flush done");
                return;
            }
            Err(error) if Instant::now() < deadline => {
                tracing::warn!(%error, "final view flush failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => {
                tracing::error!(%error, lost = views.pending_views(), "views could not be written before exit");
                return;
            }
        }
    }
}

async fn expiry_loop(views: Views, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(views.config().expiry_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(error) = views.inner.store.expire_trending(views.inner.clock.now()).await {
                    tracing::warn!(%error, "trending expiry failed; will retry");
                }
            }
            _ = stopped.changed() => return,
        }
    }
}

/// The running background tasks of view counting.
#[derive(Debug)]
pub struct ViewTasks {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl ViewTasks {
    /// Stops the tasks; returns once the final flush has been attempted.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_known_by_ipv4_address_or_ipv6_slash_64() {
        let key = |a: &str| client_key(a.parse().unwrap());
        assert_eq!(key("203.0.113.7"), key("203.0.113.7"));
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        assert_eq!(key("::ffff:203.0.113.7"), key("203.0.113.7"));
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(
            key("2001:db8:1:2::1"),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
    }
}
