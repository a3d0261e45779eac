//! Article rows by id, kept for one content generation: the articles of trending and related
//! lists.
//!
//! A story page shows "Hot this week" and the story's related articles: two lists of ids
//! (each from its own cache) whose rows were read from the database for every reader, one
//! statement each. The same few hundred stories fill those lists on every page, so their rows
//! are kept here, at most [`MAX_ARTICLE_ROWS`] of them (least recently asked for forgotten
//! first), and only as long as the content generation they were read at: a write on this
//! process, or on another one sharing PostgreSQL, moves the generation, and the next read
//! reads again. While the generation cannot be trusted (the cross-process listener is not
//! connected), nothing is kept. Rows are kept whatever their visibility and filtered for each
//! reader at the reader's own `now`, so a scheduled story going live or one expiring needs no
//! write to show.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use gazette_domain::{Article, Visibility};
use gazette_persistence::StoreError;
use lru::LruCache;
use uuid::Uuid;

use crate::App;

/// The most article rows kept in memory (a row without its body is under 2 KB: a few MB).
pub const MAX_ARTICLE_ROWS: usize = 4_096;

/// The rows read at one content generation.
#[derive(Debug)]
pub(crate) struct ArticleRows {
    rows: Mutex<(u64, LruCache<Uuid, Article>)>,
}

impl Default for ArticleRows {
    fn default() -> Self {
        let bound = NonZeroUsize::new(MAX_ARTICLE_ROWS).unwrap_or(NonZeroUsize::MIN);
        Self {
            rows: Mutex::new((0, LruCache::new(bound))),
        }
    }
}

impl ArticleRows {
    /// Moves the rows found for `ids` at `generation` into `found` and answers the ids missing
    /// (all of them when the rows kept are of another generation, which are then dropped).
    fn take(&self, generation: u64, ids: &[Uuid], found: &mut HashMap<Uuid, Article>) -> Vec<Uuid> {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        if rows.0 != generation {
            rows.1.clear();
            rows.0 = generation;
        }
        let mut missing = Vec::new();
        for id in ids {
            match rows.1.get(id) {
                Some(article) => {
                    found.insert(*id, article.clone());
                }
                None => missing.push(*id),
            }
        }
        missing
    }

    /// Keeps `read`, read after `generation` was current, unless the generation moved since.
    fn keep(&self, generation: u64, read: &HashMap<Uuid, Article>) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        if rows.0 == generation {
            for (id, article) in read {
                rows.1.put(*id, article.clone());
            }
        }
    }
}

impl App {
    /// The articles among `ids` that `visibility` admits, keyed by id: from memory where they
    /// were read at the current content generation, the rest in one statement (none when all
    /// are kept).
    pub async fn articles_by_ids(
        &self,
        ids: &[Uuid],
        visibility: Visibility,
    ) -> Result<HashMap<Uuid, Article>, StoreError> {
        let Some(generation) = self.trusted_generation() else {
            return self.store().articles_by_ids(ids, visibility).await;
        };
        let kept = &self.inner.article_rows;
        let mut found = HashMap::with_capacity(ids.len());
        let missing = kept.take(generation, ids, &mut found);
        crate::metrics::cache_lookup("article_rows", missing.is_empty());
        if !missing.is_empty() {
            let read = self
                .store()
                .articles_by_ids(&missing, Visibility::Everything)
                .await?;
            kept.keep(generation, &read);
            found.extend(read);
        }
        found.retain(|_, article| visibility.admits(article));
        Ok(found)
    }
}
