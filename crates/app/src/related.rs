//! Related articles: candidates from storage, ranked by the domain's rules, cached briefly.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gazette_domain::Article;
use gazette_domain::related::{Profile, rank};
use gazette_persistence::{Candidates, Store, StoreError};
use lru::LruCache;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// Most related articles a list may ask for.
pub const MAX_RELATED: usize = 20;

/// Most articles whose ranking is kept (least recently asked for forgotten first); one is
/// about a kilobyte.
pub const MAX_CACHED: usize = 10_000;

/// A ranking: article ids, best first, with their scores.
pub type Ranked = Arc<Vec<(Uuid, f64)>>;

/// What [`rank`] reads for `source` at `now`: its profile (stored keywords, topics, publish
/// time; the candidates' `source_topics` are moved into it) and its candidates with the
/// rarity of its words, as storage gives them.
pub async fn ranking_inputs(
    store: &Store,
    source: &Article,
    now: DateTime<Utc>,
) -> Result<(Profile, Candidates), StoreError> {
    let keywords = store.keyword_profile(source.id).await?.unwrap_or_default();
    let at = source.published_at.unwrap_or(source.created_at);
    let mut candidates = store
        .related_candidates(source.id, at, &keywords, now)
        .await?;
    let profile = Profile {
        id: source.id,
        primary_topic: source.primary_topic_id,
        topics: std::mem::take(&mut candidates.source_topics),
        keywords,
        published_at: at,
    };
    Ok((profile, candidates))
}

/// Related-article lists, cached per article for a short time, in a map bounded by
/// [`MAX_CACHED`], and single flight: concurrent misses of one article rank it once, the
/// others wait for that ranking (a ranking reads several statements' worth of candidates, and
/// a popular story's page asked by many readers at once would otherwise rank it once each).
pub struct Related {
    store: Store,
    ttl: Duration,
    cache: Mutex<LruCache<Uuid, Arc<Slot>>>,
}

/// One article's ranking: computed once by whichever request gets there first (a failed or
/// abandoned computation leaves it empty for the next), served until `born + ttl`.
struct Slot {
    born: Instant,
    ranked: OnceCell<Ranked>,
}

impl std::fmt::Debug for Related {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Related").field("ttl", &self.ttl).finish()
    }
}

impl Related {
    /// Related lists over `store`, each kept for `ttl` (zero: not cached).
    pub fn new(store: Store, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            cache: Mutex::new(LruCache::new(
                NonZeroUsize::new(MAX_CACHED).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// Every article related to `source` (a few more than [`MAX_RELATED`]), best first, with
    /// its score, whatever its visibility: the ranking is shared by every viewer, the filter
    /// is each viewer's own ([`App::related_articles`](crate::App::related_articles)).
    pub async fn ranking(
        &self,
        source: &Article,
        now: DateTime<Utc>,
    ) -> Result<Ranked, StoreError> {
        let compute = || async {
            let (source_profile, candidates) = ranking_inputs(&self.store, source, now).await?;
            Ok::<_, StoreError>(Arc::new(rank(
                &source_profile,
                &candidates.rarity,
                &candidates.profiles,
                MAX_RELATED + 5,
            )))
        };
        if self.ttl.is_zero() {
            return compute().await;
        }
        let slot = {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            match cache.get(&source.id) {
                Some(slot) if slot.born.elapsed() < self.ttl => Arc::clone(slot),
                _ => {
                    let slot = Arc::new(Slot {
                        born: Instant::now(),
                        ranked: OnceCell::new(),
                    });
                    cache.put(source.id, Arc::clone(&slot));
                    slot
                }
            }
        };
        // A request that finds the ranking done, or in progress and waits for it, is a hit.
        let mut computed_here = false;
        let ranked = slot
            .ranked
            .get_or_try_init(|| {
                computed_here = true;
                compute()
            })
            .await;
        crate::metrics::cache_lookup("related", !computed_here);
        Ok(Arc::clone(ranked?))
    }
}
