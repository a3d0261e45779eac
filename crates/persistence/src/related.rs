//! Candidates for related articles, read as keyword profiles (never whole articles), and the
//! upkeep of the stored profiles.

use chrono::{DateTime, Utc};
use gazette_domain::Visibility;
use gazette_domain::related::{COMMON_AT, Keywords, Profile, Rarity, SEARCHED_KEYWORDS};
use gazette_domain::search::SearchQuery;
use gazette_domain::time::storage_precision;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::convert::stored_status;
use crate::entities::articles;
use crate::search::placeholders;
use crate::{Store, StoreError};

/// Candidates for an article's related list, public at `now`, as the profiles the domain's
/// scoring reads: its neighbourhood (the articles of its first topics published nearest to it,
/// before and after) and the best text matches of any of its most distinctive keywords (rare in
/// the full-text index), with how common its strongest keywords are there ([`Rarity`]). A
/// handful of statements whatever the size of the archive; no article body is read.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// The source's topic ids, primary first.
    pub source_topics: Vec<Uuid>,
    /// The candidates, newest first; never the source.
    pub profiles: Vec<Profile>,
    /// How common the source's strongest keywords are in the full-text index.
    pub rarity: Rarity,
}

/// How long a word's count is reused: counts move slowly, and counting a common word is the
/// dearest part of a related list (up to [`COMMON_AT`] matches read).
const WORD_COUNT_TTL: std::time::Duration = std::time::Duration::from_secs(600);
/// Most words whose count is kept.
const WORD_COUNT_CAPACITY: usize = 20_000;

/// Words' article counts, reused for [`WORD_COUNT_TTL`]; the least recently used are
/// forgotten beyond [`WORD_COUNT_CAPACITY`].
#[derive(Debug)]
pub(crate) struct WordCounts {
    counts: std::sync::Mutex<lru::LruCache<String, (u64, std::time::Instant)>>,
}

impl Default for WordCounts {
    fn default() -> Self {
        let capacity =
            std::num::NonZeroUsize::new(WORD_COUNT_CAPACITY).unwrap_or(std::num::NonZeroUsize::MIN);
        Self {
            counts: std::sync::Mutex::new(lru::LruCache::new(capacity)),
        }
    }
}

impl WordCounts {
    fn lock(&self) -> std::sync::MutexGuard<'_, lru::LruCache<String, (u64, std::time::Instant)>> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, word: &str) -> Option<u64> {
        self.lock()
            .get(word)
            .filter(|(_, at)| at.elapsed() < WORD_COUNT_TTL)
            .map(|(count, _)| *count)
    }

    fn put(&self, word: &str, count: u64) {
        self.lock()
            .put(word.to_owned(), (count, std::time::Instant::now()));
    }
}

/// Neighbours per topic on each side of the source's publish time.
const NEAR: u64 = 15;
/// Topics of the source whose neighbourhood is read.
const NEIGHBOURHOOD_TOPICS: usize = 3;
/// Candidates by text.
const BY_TEXT: u64 = 30;
/// Rows whose stored profile is filled per transaction.
const FILL_BATCH: u64 = 500;

type LightRow = (
    Uuid,
    Option<Uuid>,
    String,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<DateTime<Utc>>,
);

impl Store {
    /// Related-article candidates for `source`, published (or written) at `at`, with
    /// `keywords` its keyword profile (see [`Candidates`]).
    pub async fn related_candidates(
        &self,
        source: Uuid,
        at: DateTime<Utc>,
        keywords: &Keywords,
        now: DateTime<Utc>,
    ) -> Result<Candidates, StoreError> {
        let now = storage_precision(now);
        let at = storage_precision(at);
        // Candidates by topic and by text are independent: they are read side by side.
        let by_topic = async {
            let source_topics = self
                .topic_ids_of_articles(&[source])
                .await?
                .remove(&source)
                .unwrap_or_default();
            let ids = self.neighbourhood(source, &source_topics, at, now).await?;
            Ok::<_, StoreError>((source_topics, ids))
        };
        let by_text = async {
            let rarity = self.rarity(&keywords.to_count()).await?;
            let ids = self.text_candidates(&keywords.distinctive(&rarity)).await?;
            Ok::<_, StoreError>((rarity, ids))
        };
        let ((source_topics, mut ids), (rarity, by_text)) = tokio::try_join!(by_topic, by_text)?;
        ids.extend(by_text);
        ids.sort_unstable();
        ids.dedup();
        ids.retain(|id| *id != source);
        let profiles = self.public_profiles(&ids, now).await?;
        Ok(Candidates {
            source_topics,
            profiles,
            rarity,
        })
    }

    /// The articles whose primary topic is one of the source's first topics, published
    /// nearest to `at`: [`NEAR`] before and [`NEAR`] after (up to `now`) per topic, in one
    /// statement of two range scans per topic on `(primary_topic_id, published_at, id)`.
    async fn neighbourhood(
        &self,
        source: Uuid,
        source_topics: &[Uuid],
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError> {
        let topics = &source_topics[..source_topics.len().min(NEIGHBOURHOOD_TOPICS)];
        if topics.is_empty() {
            return Ok(Vec::new());
        }
        let near = i64::try_from(NEAR).unwrap_or(15);
        let mut sql = String::new();
        let mut values: Vec<sea_orm::Value> = Vec::new();
        for (i, topic) in topics.iter().enumerate() {
            if i > 0 {
                sql.push_str(" UNION ALL ");
            }
            sql.push_str(&format!(
                "SELECT id FROM (SELECT id FROM articles WHERE primary_topic_id = ? \
                   AND published_at <= ? AND id <> ? \
                   ORDER BY published_at DESC, id DESC LIMIT ?) AS before{i} \
                 UNION ALL \
                 SELECT id FROM (SELECT id FROM articles WHERE primary_topic_id = ? \
                   AND published_at > ? AND published_at <= ? \
                   ORDER BY published_at ASC, id ASC LIMIT ?) AS after{i}"
            ));
            values.extend([
                (*topic).into(),
                at.into(),
                source.into(),
                near.into(),
                (*topic).into(),
                at.into(),
                now.into(),
                near.into(),
            ]);
        }
        let statement = placeholders(self.db.get_database_backend(), &sql, values);
        self.db
            .query_all_raw(statement)
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<Uuid>(0).map_err(StoreError::from))
            .collect()
    }

    /// How many articles of the full-text index hold each of `keywords` (keyword, word as
    /// written), counted up to [`COMMON_AT`], in one statement for the words not counted in
    /// the last [`WORD_COUNT_TTL`]. The engine stems the written word itself, so the count is
    /// in the index's own word forms; a place counts the articles holding it or its people
    /// (`korea` or `korean`).
    async fn rarity(&self, keywords: &[(&str, &str)]) -> Result<Rarity, StoreError> {
        let mut counts: Vec<(String, u64)> = Vec::with_capacity(keywords.len());
        let mut unknown: Vec<(&str, &str)> = Vec::new();
        for (keyword, written) in keywords.iter().copied() {
            if written.is_empty() || !written.chars().all(char::is_alphanumeric) {
                continue;
            }
            match self.word_counts.get(written) {
                Some(count) => counts.push((keyword.to_owned(), count)),
                None => unknown.push((keyword, written)),
            }
        }
        if unknown.is_empty() {
            return Ok(Rarity::new(counts));
        }
        let backend = self.db.get_database_backend();
        let cap = i64::try_from(COMMON_AT).unwrap_or(500);
        let mut columns = Vec::with_capacity(unknown.len());
        let mut values: Vec<sea_orm::Value> = Vec::new();
        for (i, (_, written)) in unknown.iter().enumerate() {
            match backend {
                DatabaseBackend::Postgres => {
                    columns.push(format!(
                        "(SELECT count(*) FROM (SELECT 1 FROM articles WHERE search_vector @@ \
                         (to_tsquery('english', ?) || to_tsquery('simple', ?)) LIMIT ?) AS t{i})"
                    ));
                    let term = tsquery_any(&[written]);
                    values.extend([term.clone().into(), term.into(), cap.into()]);
                }
                _ => {
                    columns.push(format!(
                        "(SELECT count(*) FROM (SELECT 1 FROM article_search \
                         WHERE article_search MATCH ? LIMIT ?) AS t{i})"
                    ));
                    values.extend([fts5_any(&[written]).into(), cap.into()]);
                }
            }
        }
        let statement = placeholders(backend, &format!("SELECT {}", columns.join(", ")), values);
        let rows = self.query_planned_for_values(statement).await?;
        if let Some(row) = rows.first() {
            for (i, (keyword, written)) in unknown.iter().enumerate() {
                let count = u64::try_from(row.try_get_by_index::<i64>(i)?).unwrap_or(0);
                self.word_counts.put(written, count);
                counts.push(((*keyword).to_owned(), count));
            }
        }
        Ok(Rarity::new(counts))
    }

    /// The articles best matching any of `words` (as written; the domain picked the source's
    /// most distinctive), by the engine's relevance, at most [`BY_TEXT`] + 1 (the source may
    /// be one). Every word is rarer than [`COMMON_AT`], so at most a few thousand matches are
    /// ranked.
    async fn text_candidates(&self, words: &[&str]) -> Result<Vec<Uuid>, StoreError> {
        let words: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| !w.is_empty() && w.chars().all(char::is_alphanumeric))
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.db.get_database_backend();
        let ranked = i64::try_from(COMMON_AT * SEARCHED_KEYWORDS as u64).unwrap_or(2_500);
        let limit = i64::try_from(BY_TEXT + 1).unwrap_or(31);
        let statement = match backend {
            DatabaseBackend::Postgres => {
                let tsquery = tsquery_any(&words);
                let q = "(to_tsquery('english', ?) || to_tsquery('simple', ?))";
                // The matches are read through the full-text index first (a materialized CTE):
                // with statistics, the planner overestimates an any-word query (the two
                // configurations' terms are counted twice) and would walk the primary key
                // backwards through the whole table for a few matches (about 400 ms at 100,000
                // articles, against 2 ms). Every word is rarer than `COMMON_AT` (counted), so
                // the matches are at most a few thousand.
                placeholders(
                    backend,
                    &format!(
                        "WITH matches AS MATERIALIZED (SELECT id, search_vector FROM articles \
                           WHERE search_vector @@ {q}) \
                         SELECT id FROM (SELECT id, search_vector FROM matches \
                           ORDER BY id DESC LIMIT ?) AS m \
                         ORDER BY ts_rank(search_vector, {q}, 32) DESC, id DESC LIMIT ?"
                    ),
                    vec![
                        tsquery.clone().into(),
                        tsquery.clone().into(),
                        ranked.into(),
                        tsquery.clone().into(),
                        tsquery.into(),
                        limit.into(),
                    ],
                )
            }
            _ => placeholders(
                backend,
                "SELECT article_id FROM ( \
                   SELECT article_id, bm25(article_search, 0.0, 10.0, 4.0, 1.0) AS rank \
                   FROM article_search WHERE article_search MATCH ? \
                   ORDER BY rowid DESC LIMIT ?) \
                 ORDER BY rank, article_id DESC LIMIT ?",
                vec![fts5_any(&words).into(), ranked.into(), limit.into()],
            ),
        };
        self.query_planned_for_values(statement)
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<Uuid>(0).map_err(StoreError::from))
            .collect()
    }

    /// The profiles of those of `ids` public at `now`, newest first: a handful of light
    /// columns and the stored keywords (computed here for a row not yet filled).
    async fn public_profiles(
        &self,
        ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<Profile>, StoreError> {
        use articles::Column;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Visibility is checked here rather than in SQL, so the planner probes the primary key
        // (see `articles::allowed`).
        let light = articles::Entity::find()
            .select_only()
            .columns([
                Column::Id,
                Column::PrimaryTopicId,
                Column::Status,
                Column::PublishedAt,
                Column::RelatedKeywords,
                Column::ExpiresAt,
            ])
            .filter(Column::Id.is_in(ids.iter().copied()))
            .into_tuple::<LightRow>()
            .all(&self.db);
        // The candidates' topics are read alongside (a few of them may turn out not public).
        let (fetched, mut topics) = tokio::try_join!(
            async { light.await.map_err(StoreError::from) },
            self.topic_ids_of_articles(ids),
        )?;
        // Readers are not held back by a syndication embargo, so it is not read.
        let visibility = Visibility::PublicAt(now);
        let mut rows = Vec::with_capacity(fetched.len());
        for (id, primary, status, published_at, keywords, expires_at) in fetched {
            let status = stored_status(id, &status)?;
            if let Some(at) = published_at
                .filter(|_| visibility.admits_parts(status, published_at, None, expires_at))
            {
                rows.push((id, primary, at, keywords));
            }
        }
        let unfilled: Vec<Uuid> = rows.iter().filter(|r| r.3.is_none()).map(|r| r.0).collect();
        let mut computed = self.keywords_from_texts(&unfilled).await?;
        rows.sort_by_key(|r| std::cmp::Reverse(r.0));
        Ok(rows
            .into_iter()
            .map(|(id, primary_topic, published_at, stored)| Profile {
                id,
                primary_topic,
                topics: topics.remove(&id).unwrap_or_default(),
                keywords: match stored {
                    Some(stored) => Keywords::decode(&stored),
                    None => computed.remove(&id).unwrap_or_default(),
                },
                published_at,
            })
            .collect())
    }

    /// Keyword profiles of `ids` computed from their texts.
    async fn keywords_from_texts(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Keywords>, StoreError> {
        Ok(self
            .texts(ids)
            .await?
            .into_iter()
            .map(|(id, _, keywords)| (id, keywords))
            .collect())
    }

    /// The keyword profile of an article's texts (headline, dek and stored body text), computed
    /// as its save computes it; `None` for an unknown id. One statement of four columns.
    pub async fn keyword_profile(&self, id: Uuid) -> Result<Option<Keywords>, StoreError> {
        Ok(self
            .texts(&[id])
            .await?
            .pop()
            .map(|(_, _, keywords)| keywords))
    }

    /// Each of `ids` with its version and the keyword profile of its texts.
    async fn texts(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, i32, Keywords)>, StoreError> {
        use articles::Column;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(Uuid, i32, String, String, String)> = articles::Entity::find()
            .select_only()
            .columns([
                Column::Id,
                Column::Version,
                Column::Headline,
                Column::Dek,
                Column::BodyText,
            ])
            .filter(Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, version, headline, dek, body)| {
                (id, version, Keywords::of(&headline, &dek, &body))
            })
            .collect())
    }

    /// Stores the keyword profile of every article that has none yet (rows written before the
    /// column existed), a batch per transaction; returns how many were filled. A row saved
    /// meanwhile keeps the profile its save wrote (the update requires the version read).
    pub async fn fill_related_keywords(&self) -> Result<u64, StoreError> {
        use articles::Column;
        let mut filled = 0;
        let mut after: Option<Uuid> = None;
        loop {
            let mut select = articles::Entity::find()
                .select_only()
                .column(Column::Id)
                .filter(Column::RelatedKeywords.is_null());
            if let Some(after) = after {
                select = select.filter(Column::Id.gt(after));
            }
            let ids: Vec<Uuid> = select
                .order_by_asc(Column::Id)
                .limit(FILL_BATCH)
                .into_tuple()
                .all(&self.db)
                .await?;
            let Some(last) = ids.last().copied() else {
                return Ok(filled);
            };
            after = Some(last);
            let profiles = self.texts(&ids).await?;
            let txn = self.begin_write().await?;
            for (id, version, keywords) in profiles {
                let result = articles::Entity::update_many()
                    .col_expr(
                        Column::RelatedKeywords,
                        sea_orm::sea_query::Expr::value(keywords.encode()),
                    )
                    .filter(Column::Id.eq(id))
                    .filter(Column::Version.eq(version))
                    .filter(Column::RelatedKeywords.is_null())
                    .exec(&txn)
                    .await?;
                filled += result.rows_affected;
            }
            txn.commit().await?;
        }
    }
}

/// Any of `words` (letters and digits only), a place with its people, in PostgreSQL's
/// `to_tsquery` syntax: `('korea' | 'korean') | 'tuna'`, as search's any-word tier writes it.
fn tsquery_any(words: &[&str]) -> String {
    let query = SearchQuery::of_words(words.iter().copied());
    query.to_tsquery_any(&every_clause(&query))
}

/// As [`tsquery_any`], for SQLite's FTS5: `("korea" OR "korean") OR "tuna"`.
fn fts5_any(words: &[&str]) -> String {
    let query = SearchQuery::of_words(words.iter().copied());
    query.to_fts5_any(&every_clause(&query))
}

fn every_clause(query: &SearchQuery) -> Vec<usize> {
    (0..query.clauses().len()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_asked_for_with_its_people() {
        assert_eq!(
            tsquery_any(&["korea", "tuna"]),
            "('korea' | 'korean') | 'tuna'"
        );
        assert_eq!(fts5_any(&["russian"]), r#"("russian" OR "russia")"#);
    }

    #[test]
    fn word_counts_keep_at_most_their_capacity_and_the_recently_used() {
        let counts = WordCounts::default();
        counts.put("first", 1);
        for n in 0..WORD_COUNT_CAPACITY {
            counts.put(&format!("w{n}"), 2);
            if n == WORD_COUNT_CAPACITY / 2 {
                // Used again half-way: it outlives words put before that.
                assert_eq!(counts.get("first"), Some(1));
            }
        }
        assert_eq!(counts.lock().len(), WORD_COUNT_CAPACITY);
        assert_eq!(counts.get("first"), Some(1));
        assert_eq!(counts.get("w0"), None);
        assert_eq!(
            counts.get(&format!("w{}", WORD_COUNT_CAPACITY - 1)),
            Some(2)
        );
    }
}
