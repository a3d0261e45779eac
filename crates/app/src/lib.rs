//! Gazette's use cases: every question a surface asks (an article, a list, trending, search,
//! related articles, topics, authors, changes, a feed's items) and the background work behind
//! them (view counting, the trending and related caches), written once. GraphQL resolvers,
//! REST handlers and feeds parse their wire input, call one function here, and map the
//! answer and the [`AppError`]; they therefore agree by construction.
//!
//! This crate knows the domain and storage only: no HTTP, GraphQL, OpenAPI or wire format
//! (`scripts/check-layers.sh` holds it to that). `now` comes from the [`Clock`] the [`App`]
//! holds, so tests move time instead of sleeping on it.

pub mod answers;
pub mod articles;
pub mod changes;
pub mod clock;
pub mod editorial;
mod error;
pub mod feeds;
pub mod freshness;
mod kept;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod persisted;
pub mod related;
pub mod search;
pub mod tags;
pub mod taxonomy;
pub mod topic_directory;
pub mod trending;
pub mod views;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gazette_persistence::Store;

pub use articles::{ListedIds, Relations};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::AppError;
pub use freshness::Freshness;
pub use kept::MAX_KEPT_ROWS;
pub use topic_directory::TopicDirectory;
pub use views::{Views, ViewsConfig};

/// The application: storage, the clock, and the in-memory engines. Cheap to clone; built once
/// by the server (and by tests) and shared by every surface.
#[derive(Clone, Debug)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    views: Views,
    related: related::Related,
    generation: freshness::Generation,
    topics: topic_directory::Directory,
    kept_articles: kept::Kept<gazette_domain::Article>,
    kept_authors: kept::Kept<gazette_domain::Author>,
}

impl App {
    /// The use cases over `store`: view counting as `views` says, related lists kept for
    /// `related_cache_ttl` (zero: not cached), `now` read from `clock`.
    pub fn new(
        store: Store,
        views: ViewsConfig,
        related_cache_ttl: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                views: Views::new(store.clone(), views, Arc::clone(&clock)),
                related: related::Related::new(store.clone(), related_cache_ttl),
                generation: freshness::Generation::new(),
                topics: topic_directory::Directory::default(),
                kept_articles: kept::Kept::new("kept_articles"),
                kept_authors: kept::Kept::new("kept_authors"),
                store,
                clock,
            }),
        }
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The clock every read and background task asks.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The current instant at the precision both databases keep: one per request, so every
    /// part of an answer sees the same "now".
    pub fn now(&self) -> DateTime<Utc> {
        gazette_domain::time::storage_precision(self.inner.clock.now())
    }

    /// View counting and trending.
    pub fn views(&self) -> &Views {
        &self.inner.views
    }

    /// Related-article lists.
    pub fn related(&self) -> &related::Related {
        &self.inner.related
    }
}
