//! Rows kept for one content generation: the articles of trending and related lists, and
//! authors.
//!
//! A story page shows "Hot this week" and the story's related articles, two lists of ids (each
//! from its own cache) whose rows were read from the database for every reader, one statement
//! each, and its byline, one more. The same few hundred stories and bylines fill those on
//! every page, so their rows are kept here, at most [`MAX_KEPT_ROWS`] of each kind (least
//! recently asked for forgotten first), and only as long as the content generation they were
//! read at: a write on this process, or on another one sharing PostgreSQL, moves the
//! generation, and the next read reads again. While the generation cannot be trusted (the
//! cross-process listener is not connected), nothing is kept. Articles are kept whatever
//! their visibility and filtered for each reader at the reader's own `now`, so a scheduled
//! story going live or one expiring needs no write to show.

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use gazette_domain::{Article, Author, Visibility};
use gazette_persistence::StoreError;
use lru::LruCache;
use uuid::Uuid;

use crate::App;

/// The most rows of each kind kept in memory (an article row without its body is under 2 KB:
/// a few MB in all).
pub const MAX_KEPT_ROWS: usize = 4_096;

/// Rows by id, read at one content generation.
#[derive(Debug)]
pub(crate) struct Kept<V> {
    /// What the rows are, for the cache metrics.
    name: &'static str,
    rows: Mutex<(u64, LruCache<Uuid, V>)>,
}

impl<V: Clone> Kept<V> {
    pub(crate) fn new(name: &'static str) -> Self {
        let bound = NonZeroUsize::new(MAX_KEPT_ROWS).unwrap_or(NonZeroUsize::MIN);
        Self {
            name,
            rows: Mutex::new((0, LruCache::new(bound))),
        }
    }

    /// Moves the rows found for `ids` at `generation` into `found` and answers the ids missing:
    /// all of them when the rows kept are of an older generation (they are dropped) or of a
    /// newer one (a reader that read the generation just before a write; it keeps nothing).
    fn take(&self, generation: u64, ids: &[Uuid], found: &mut HashMap<Uuid, V>) -> Vec<Uuid> {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        if rows.0 > generation {
            return ids.to_vec();
        }
        if rows.0 < generation {
            rows.1.clear();
            rows.0 = generation;
        }
        let mut missing = Vec::new();
        for id in ids {
            match rows.1.get(id) {
                Some(row) => {
                    found.insert(*id, row.clone());
                }
                None => missing.push(*id),
            }
        }
        missing
    }

    /// Keeps `read`, read after `generation` was current, unless the generation moved since.
    fn keep(&self, generation: u64, read: &HashMap<Uuid, V>) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        if rows.0 == generation {
            for (id, row) in read {
                rows.1.put(*id, row.clone());
            }
        }
    }
}

impl App {
    /// The rows of `ids` from `kept` where they were read at the current content generation,
    /// the rest by `read` (called once, with the ids missing; not at all when none is).
    async fn kept_or_read<V, F, Fut>(
        &self,
        kept: &Kept<V>,
        ids: &[Uuid],
        read: F,
    ) -> Result<HashMap<Uuid, V>, StoreError>
    where
        V: Clone,
        F: FnOnce(Vec<Uuid>) -> Fut,
        Fut: Future<Output = Result<HashMap<Uuid, V>, StoreError>>,
    {
        let Some(generation) = self.trusted_generation() else {
            return read(ids.to_vec()).await;
        };
        let mut found = HashMap::with_capacity(ids.len());
        let missing = kept.take(generation, ids, &mut found);
        crate::metrics::cache_lookup(kept.name, missing.is_empty());
        if !missing.is_empty() {
            let read = read(missing).await?;
            kept.keep(generation, &read);
            found.extend(read);
        }
        Ok(found)
    }

    /// The articles among `ids` that `visibility` admits, keyed by id: from memory where they
    /// were read at the current content generation, the rest in one statement (none when all
    /// are kept).
    pub async fn articles_by_ids(
        &self,
        ids: &[Uuid],
        visibility: Visibility,
    ) -> Result<HashMap<Uuid, Article>, StoreError> {
        let store = self.store();
        let mut found = self
            .kept_or_read(&self.inner.kept_articles, ids, |missing| async move {
                store
                    .articles_by_ids(&missing, Visibility::Everything)
                    .await
            })
            .await?;
        found.retain(|_, article| visibility.admits(article));
        Ok(found)
    }

    /// Authors by id, as [`App::articles_by_ids`] reads articles.
    pub async fn authors_by_ids(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Author>, StoreError> {
        let store = self.store();
        self.kept_or_read(&self.inner.kept_authors, ids, |missing| async move {
            store.authors_by_ids(&missing).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<Uuid> {
        (0..n).map(|_| Uuid::now_v7()).collect()
    }

    #[test]
    fn at_most_the_bound_is_kept_and_a_new_generation_starts_empty() {
        let kept = Kept::<u32>::new("test");
        let all = ids(MAX_KEPT_ROWS + 100);
        let read: HashMap<Uuid, u32> = all.iter().map(|id| (*id, 1)).collect();
        let mut found = HashMap::new();
        assert_eq!(kept.take(1, &all, &mut found).len(), all.len());
        kept.keep(1, &read);
        found.clear();
        let missing = kept.take(1, &all, &mut found);
        assert_eq!(found.len(), MAX_KEPT_ROWS, "the bound holds");
        assert_eq!(missing.len(), 100);

        // A reader of an older generation takes nothing and keeps nothing.
        found.clear();
        assert_eq!(kept.take(0, &all[..10], &mut found).len(), 10);
        assert!(found.is_empty());

        // The next generation drops every row; rows read before it moved are not kept.
        found.clear();
        assert_eq!(kept.take(2, &all, &mut found).len(), all.len());
        kept.keep(1, &read);
        assert_eq!(kept.take(2, &all[..10], &mut found).len(), 10);
        assert!(found.is_empty());
    }
}
