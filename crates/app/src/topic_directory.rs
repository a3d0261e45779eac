//! The taxonomy in memory: every topic, read in one statement once per content generation.
//!
//! Nearly every read shows topics (a list's items, an article's section, a feed's categories),
//! and the topics are few and change seldom. Reading their rows from the database for every
//! request was half of the front page's list ("BENCHMARKS.md", "Topics from memory"). The
//! directory is valid for the content generation it was read at: a topic written on this
//! process, or on another one sharing PostgreSQL, moves the generation, and the next read
//! builds the directory again. While the generation cannot be trusted (the cross-process
//! listener is not connected), or when the taxonomy holds more than [`MAX_TOPICS_IN_MEMORY`]
//! topics, there is no directory and reads go to the database as before.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use gazette_domain::{Direction, PageRequest, Slug, SlugCursor, Topic};
use gazette_persistence::{Page, StoreError};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::{App, AppError};

/// The most topics kept in memory (about 3 MB of them); a larger taxonomy is read from the
/// database on every request.
pub const MAX_TOPICS_IN_MEMORY: usize = 10_000;

/// Every topic, as of one content generation.
#[derive(Debug)]
pub struct TopicDirectory {
    by_id: HashMap<Uuid, Topic>,
    by_slug: HashMap<Slug, Uuid>,
    /// Every id, in slug order (byte order: the databases' order of slugs too).
    in_slug_order: Vec<Uuid>,
}

impl TopicDirectory {
    fn new(mut topics: Vec<Topic>) -> Self {
        topics.sort_unstable_by(|a, b| a.slug.as_str().cmp(b.slug.as_str()));
        let in_slug_order = topics.iter().map(|t| t.id).collect();
        let by_slug = topics.iter().map(|t| (t.slug.clone(), t.id)).collect();
        let by_id = topics.into_iter().map(|t| (t.id, t)).collect();
        Self {
            by_id,
            by_slug,
            in_slug_order,
        }
    }

    /// A page of topics in slug order, as [`Store::list_topics`] reads it.
    ///
    /// [`Store::list_topics`]: gazette_persistence::Store::list_topics
    pub fn page(&self, page: &PageRequest<SlugCursor>) -> Page<Topic> {
        let slug_of = |id: &Uuid| self.by_id.get(id).map_or("", |t| t.slug.as_str());
        let take = usize::try_from(page.limit.saturating_add(1)).unwrap_or(usize::MAX);
        let ids = &self.in_slug_order;
        let cursor = page.cursor.as_ref();
        let read: Vec<Topic> = match page.direction {
            Direction::Forward => {
                let start =
                    cursor.map_or(0, |c| ids.partition_point(|id| slug_of(id) <= c.0.as_str()));
                ids[start..]
                    .iter()
                    .take(take)
                    .filter_map(|id| self.by_id.get(id).cloned())
                    .collect()
            }
            Direction::Backward => {
                let end = cursor.map_or(ids.len(), |c| {
                    ids.partition_point(|id| slug_of(id) < c.0.as_str())
                });
                ids[..end]
                    .iter()
                    .rev()
                    .take(take)
                    .filter_map(|id| self.by_id.get(id).cloned())
                    .collect()
            }
        };
        Page::of_keyset_read(read, page)
    }

    /// The topic with this id. A topic created after the directory was read is absent: ask
    /// the database for what is missing.
    pub fn get(&self, id: &Uuid) -> Option<&Topic> {
        self.by_id.get(id)
    }

    /// The topic with this slug (as [`TopicDirectory::get`]).
    pub fn by_slug(&self, slug: &Slug) -> Option<&Topic> {
        self.by_slug.get(slug).and_then(|id| self.by_id.get(id))
    }
}

/// The last directory read and the generation it was read at (`None` inside: the taxonomy
/// was too large to keep).
#[derive(Debug, Default)]
pub(crate) struct Directory {
    last: RwLock<Option<(u64, Option<Arc<TopicDirectory>>)>>,
    /// One read of the taxonomy at a time; the others wait for it (at most as long as the
    /// reader's statement may take).
    load: Mutex<()>,
}

impl Directory {
    fn current(&self, generation: u64) -> Option<Option<Arc<TopicDirectory>>> {
        let last = self.last.read().unwrap_or_else(PoisonError::into_inner);
        match &*last {
            Some((at, directory)) if *at == generation => Some(directory.clone()),
            _ => None,
        }
    }
}

impl App {
    /// Every topic as of the current content generation, read from the database when the
    /// generation moved since the last read (one statement, one reader at a time). `None`
    /// when the generation cannot be trusted or the taxonomy is larger than
    /// [`MAX_TOPICS_IN_MEMORY`]: read topics from the database then.
    pub async fn topic_directory(&self) -> Result<Option<Arc<TopicDirectory>>, StoreError> {
        let Some(generation) = self.trusted_generation() else {
            return Ok(None);
        };
        let directory = &self.inner.topics;
        if let Some(current) = directory.current(generation) {
            return Ok(current);
        }
        let _one = directory.load.lock().await;
        if let Some(current) = directory.current(generation) {
            return Ok(current);
        }
        // The generation read before the topics: a write committed meanwhile moves it past
        // this one, and the next read builds the directory again.
        let limit = MAX_TOPICS_IN_MEMORY as u64 + 1;
        let topics = self.store().all_topics(limit).await?;
        let read =
            (topics.len() <= MAX_TOPICS_IN_MEMORY).then(|| Arc::new(TopicDirectory::new(topics)));
        *directory
            .last
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some((generation, read.clone()));
        Ok(read)
    }

    /// Topics by id: from the directory where it holds them, the rest from the database (one
    /// statement, only when one is missing: no directory, or an id read after it).
    pub async fn topics_by_ids(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Topic>, StoreError> {
        let directory = self.topic_directory().await?;
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match directory.as_deref().and_then(|d| d.get(id)) {
                Some(topic) => {
                    found.insert(*id, topic.clone());
                }
                None => missing.push(*id),
            }
        }
        found.extend(self.store().topics_by_ids(&missing).await?);
        Ok(found)
    }

    /// Topics by slug: from the directory alone when there is one (a slug it lacks names no
    /// topic as of the current content generation: a made-up slug costs no statement), from
    /// the database otherwise (one statement). Slugs with no topic are absent from the map.
    pub async fn topics_by_slugs(
        &self,
        slugs: &[Slug],
    ) -> Result<HashMap<Slug, Topic>, StoreError> {
        match self.topic_directory().await? {
            Some(directory) => Ok(slugs
                .iter()
                .filter_map(|slug| Some((slug.clone(), directory.by_slug(slug)?.clone())))
                .collect()),
            None => self.store().topics_by_slugs(slugs).await,
        }
    }

    /// The topic named `slug`, or `None` ([`App::topics_by_slugs`] for one slug).
    pub async fn topic_by_slug(&self, slug: &Slug) -> Result<Option<Topic>, AppError> {
        let mut found = self.topics_by_slugs(std::slice::from_ref(slug)).await?;
        Ok(found.remove(slug))
    }
}
