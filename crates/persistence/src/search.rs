//! Full-text search on the database's own engine: FTS5 with bm25 on SQLite, `tsvector` with
//! `ts_rank_cd` on PostgreSQL. Readers only ever find articles public at the request's instant,
//! partners only those out of embargo too.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use gazette_domain::related::COMMON_AT;
use gazette_domain::search::{SearchQuery, Tier};
use gazette_domain::{Article, MAX_PAGE_SIZE, OffsetCursor, Slug, Visibility};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};
use uuid::Uuid;

use crate::convert::stored_status;
use crate::{Page, Store, StoreError};

/// Narrows a search; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// Tagged with this topic.
    pub topic: Option<Slug>,
    /// Published at or after.
    pub published_after: Option<DateTime<Utc>>,
    /// Published before.
    pub published_before: Option<DateTime<Utc>>,
}

/// One search result: the article, its relevance (higher is better, comparable within a
/// tier) and the tier it came from.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The article.
    pub article: Article,
    /// The engine's relevance score.
    pub score: f64,
    /// Whether it matched every clause or only some.
    pub tier: Tier,
}

impl Store {
    /// Articles matching `query` that `visibility` admits (callers pass the viewer's public
    /// visibility: readers' search never shows drafts, partners' never shows embargoed
    /// stories), `limit` from `offset`, in two tiers: every article matching all the query's
    /// clauses, most relevant first (ties: newer first); then, when those are fewer than the
    /// page asks for, the articles matching any of the query's distinctive clauses (those
    /// found in fewer than [`COMMON_AT`] articles; all of them when every clause is common),
    /// ranked the same way. Offsets count through both tiers, so pages never repeat or skip.
    ///
    /// The engine ranks matches on its own (no join), a window of the best at a time; the
    /// window's articles are then read by primary key and kept when public at `now` and inside
    /// the filter. The window grows until the page is full or the matches run out, so a
    /// typical page costs three statements however many articles match; the second tier adds
    /// one statement counting the clauses and its own ranked windows.
    pub async fn search(
        &self,
        query: &SearchQuery,
        filter: &SearchFilter,
        offset: u64,
        limit: u64,
        visibility: Visibility,
    ) -> Result<Page<Hit>, StoreError> {
        let empty = || Page {
            items: Vec::new(),
            has_next: false,
            has_previous: offset > 0,
        };
        if query.is_empty() {
            return Ok(empty());
        }
        // Cursors are bounded where they are parsed (`OffsetCursor::MAX`); bound again here so
        // no caller can make this arithmetic overflow.
        let offset = offset.min(OffsetCursor::MAX);
        let limit = limit.min(u64::try_from(MAX_PAGE_SIZE).unwrap_or(100));
        let wanted = usize::try_from(offset + limit + 1).unwrap_or(usize::MAX);
        let all = (query.to_fts5(), query.to_tsquery());
        let mut kept = self
            .ranked_tier(&all, filter, visibility, wanted, &HashSet::new())
            .await?;
        let mut tiers = vec![Tier::AllWords; kept.len()];
        if kept.len() < wanted && query.clauses().len() > 1 {
            let distinctive = self.distinctive_clauses(query).await?;
            if !distinctive.is_empty() {
                let any = (
                    query.to_fts5_any(&distinctive),
                    query.to_tsquery_any(&distinctive),
                );
                let seen: HashSet<Uuid> = kept.iter().map(|m| m.id).collect();
                let more = self
                    .ranked_tier(&any, filter, visibility, wanted - kept.len(), &seen)
                    .await?;
                tiers.extend(std::iter::repeat_n(Tier::AnyWord, more.len()));
                kept.extend(more);
            }
        }
        let has_next = kept.len() >= wanted;
        let page: Vec<(Uuid, f64, Tier)> = kept
            .into_iter()
            .zip(tiers)
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(m, tier)| (m.id, m.score, tier))
            .collect();
        // Only the page's articles are read whole; one deleted in between is skipped.
        let ids: Vec<Uuid> = page.iter().map(|(id, _, _)| *id).collect();
        let mut articles = self.articles_by_ids(&ids, visibility).await?;
        let items = page
            .into_iter()
            .filter_map(|(id, score, tier)| {
                articles.remove(&id).map(|article| Hit {
                    article,
                    score,
                    tier,
                })
            })
            .collect();
        Ok(Page {
            items,
            has_next,
            has_previous: offset > 0,
        })
    }

    /// The best `wanted` visible matches of one tier's query (FTS5 and `to_tsquery` forms),
    /// `exclude` left out, best first. The window of ranked matches grows until enough are
    /// kept or the matches run out.
    async fn ranked_tier(
        &self,
        query: &(String, String),
        filter: &SearchFilter,
        visibility: Visibility,
        wanted: usize,
        exclude: &HashSet<Uuid>,
    ) -> Result<Vec<Match>, StoreError> {
        let end = u64::try_from(wanted + exclude.len()).unwrap_or(MAX_WINDOW);
        let mut window = (end * 2 + 20).min(MAX_WINDOW);
        loop {
            let mut ranked = self.ranked_matches(query, window).await?;
            let exhausted = (ranked.len() as u64) < window;
            ranked.retain(|(id, _)| !exclude.contains(id));
            let mut kept = self.keep_visible(ranked, filter, visibility).await?;
            if kept.len() >= wanted || exhausted || window >= MAX_WINDOW {
                kept.truncate(wanted);
                return Ok(kept);
            }
            window = (window * 4).min(MAX_WINDOW);
        }
    }

    /// The indices of the query's distinctive clauses: those found in fewer than
    /// [`COMMON_AT`] articles (counted in one statement, up to that many), or every clause
    /// found at all when all are common.
    async fn distinctive_clauses(&self, query: &SearchQuery) -> Result<Vec<usize>, StoreError> {
        let backend = self.db.get_database_backend();
        let cap = i64::try_from(COMMON_AT).unwrap_or(500);
        let mut columns = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        for i in 0..query.clauses().len() {
            match backend {
                DatabaseBackend::Postgres => {
                    columns.push(format!(
                        "(SELECT count(*) FROM (SELECT 1 FROM articles WHERE search_vector @@ \
                         (to_tsquery('english', ?) || to_tsquery('simple', ?)) LIMIT ?) AS t{i})"
                    ));
                    let one = query.to_tsquery_any(&[i]);
                    values.extend([one.clone().into(), one.into(), cap.into()]);
                }
                _ => {
                    columns.push(format!(
                        "(SELECT count(*) FROM (SELECT 1 FROM article_search \
                         WHERE article_search MATCH ? LIMIT ?) AS t{i})"
                    ));
                    values.extend([query.to_fts5_any(&[i]).into(), cap.into()]);
                }
            }
        }
        let statement = placeholders(backend, &format!("SELECT {}", columns.join(", ")), values);
        let rows = self.query_planned_for_values(statement).await?;
        let Some(row) = rows.first() else {
            return Ok(Vec::new());
        };
        let mut counts = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            counts.push(u64::try_from(row.try_get_by_index::<i64>(i)?).unwrap_or(0));
        }
        let rare: Vec<usize> = (0..counts.len())
            .filter(|i| (1..COMMON_AT).contains(&counts[*i]))
            .collect();
        Ok(if rare.is_empty() {
            (0..counts.len()).filter(|i| counts[*i] > 0).collect()
        } else {
            rare
        })
    }

    /// The engine's best `window` matches of `query` (FTS5 and `to_tsquery` forms), best
    /// first: (article id, score).
    async fn ranked_matches(
        &self,
        query: &(String, String),
        window: u64,
    ) -> Result<Vec<(Uuid, f64)>, StoreError> {
        let backend = self.db.get_database_backend();
        let window = i64::try_from(window).unwrap_or(i64::MAX);
        let statement = match backend {
            // The newest RANKED_MATCHES matches are ranked. The query is spelled out where
            // the matches are found (not joined from a CTE) and planned for its actual words
            // (see `query_planned_for_values`), so the planner sees how common they are: a rare
            // word is looked up in the GIN index, a common one found by walking the primary key
            // backwards (UUID v7 ids are time-ordered), which stops after a few thousand rows,
            // each tested on its own page (the vector is stored in the row: migration 7).
            // `ts_rank` (cheap) narrows them to the best PG_RERANKED, which `ts_rank_cd` (cover
            // density, four times dearer) orders.
            DatabaseBackend::Postgres => {
                let tsquery = query.1.clone();
                let q = "(to_tsquery('english', ?) || to_tsquery('simple', ?))";
                let reranked = window.max(PG_RERANKED);
                placeholders(
                    backend,
                    &format!(
                        "WITH matches AS (SELECT id, search_vector FROM articles \
                           WHERE search_vector @@ {q} ORDER BY id DESC LIMIT ?), \
                         best AS (SELECT id, search_vector FROM matches \
                           ORDER BY ts_rank(search_vector, {q}, 32) DESC, id DESC LIMIT ?) \
                         SELECT id, CAST(ts_rank_cd(search_vector, {q}, 32) AS DOUBLE PRECISION) \
                         AS score FROM best ORDER BY score DESC, id DESC LIMIT ?"
                    ),
                    vec![
                        tsquery.clone().into(),
                        tsquery.clone().into(),
                        i64::try_from(RANKED_MATCHES).unwrap_or(i64::MAX).into(),
                        tsquery.clone().into(),
                        tsquery.clone().into(),
                        reranked.into(),
                        tsquery.clone().into(),
                        tsquery.into(),
                        window.into(),
                    ],
                )
            }
            // bm25 is computed for the newest RANKED_MATCHES matches only (rowid order is
            // creation order, an edit keeping its row's rowid; walked backwards for free): a
            // word found in a tenth of a large archive would otherwise have every match scored.
            _ => placeholders(
                backend,
                "SELECT article_id, score FROM ( \
                   SELECT article_id, -bm25(article_search, 0.0, 10.0, 4.0, 1.0) AS score \
                   FROM article_search WHERE article_search MATCH ? \
                   ORDER BY rowid DESC LIMIT ?) \
                 ORDER BY score DESC, article_id DESC LIMIT ?",
                vec![
                    query.0.clone().into(),
                    i64::try_from(RANKED_MATCHES).unwrap_or(i64::MAX).into(),
                    window.into(),
                ],
            ),
        };
        let rows = self
            .query_planned_for_values(statement)
            .await
            .map_err(|e| match backend {
                // A query our parser let through but the engine refused is still the client's.
                DatabaseBackend::Sqlite if e.to_string().contains("fts5") => StoreError::Invalid(
                    gazette_domain::ValidationError::new("query", "cannot be searched as written"),
                ),
                _ => StoreError::from(e),
            })?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get_by_index::<Uuid>(0)?,
                    row.try_get_by_index::<f64>(1)?,
                ))
            })
            .collect::<Result<_, sea_orm::DbErr>>()
            .map_err(StoreError::from)
    }

    /// The ranked matches whose articles `visibility` admits and inside `filter`, in rank order
    /// (ties: newer first, then higher id), decided on a few light columns (no article is read
    /// whole here).
    async fn keep_visible(
        &self,
        ranked: Vec<(Uuid, f64)>,
        filter: &SearchFilter,
        visibility: Visibility,
    ) -> Result<Vec<Match>, StoreError> {
        use crate::entities::articles::{self, Column};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
        if ranked.is_empty() {
            return Ok(Vec::new());
        }
        type Row = (
            Uuid,
            String,
            Option<DateTime<Utc>>,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        );
        let rows: Vec<Row> = articles::Entity::find()
            .select_only()
            .columns([
                Column::Id,
                Column::Status,
                Column::PublishedAt,
                Column::CreatedAt,
                Column::EmbargoUntil,
                Column::ExpiresAt,
            ])
            .filter(Column::Id.is_in(ranked.iter().map(|r| r.0)))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut admitted: HashMap<Uuid, Option<DateTime<Utc>>> = HashMap::new();
        for (id, status, published_at, created_at, embargo_until, expires_at) in rows {
            let status = stored_status(id, &status)?;
            let at = published_at.unwrap_or(created_at);
            if visibility.admits_parts(status, published_at, embargo_until, expires_at)
                && filter.published_after.is_none_or(|after| at >= after)
                && filter.published_before.is_none_or(|before| at < before)
            {
                admitted.insert(id, published_at);
            }
        }
        if let Some(topic) = &filter.topic {
            let Some(topic) = self.topic_by_slug(topic).await? else {
                return Ok(Vec::new());
            };
            let keys: Vec<Uuid> = admitted.keys().copied().collect();
            let tagged = self.topic_ids_of_articles(&keys).await?;
            admitted.retain(|id, _| tagged.get(id).is_some_and(|t| t.contains(&topic.id)));
        }
        let mut kept: Vec<Match> = ranked
            .into_iter()
            .filter_map(|(id, score)| {
                admitted.remove(&id).map(|published_at| Match {
                    id,
                    score,
                    published_at,
                })
            })
            .collect();
        kept.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.published_at.cmp(&a.published_at))
                .then(b.id.cmp(&a.id))
        });
        Ok(kept)
    }
}

/// A match that survived the filters.
struct Match {
    id: Uuid,
    score: f64,
    published_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Runs a read whose best plan depends on its parameters (how common the searched words
    /// are). The store's PostgreSQL connections run prepared statements on their generic plan
    /// (`Store::connect`), which cannot tell a rare word from a common one; on PostgreSQL the
    /// statement therefore runs in a read transaction with `plan_cache_mode =
    /// force_custom_plan`.
    pub(crate) async fn query_planned_for_values(
        &self,
        statement: Statement,
    ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
        if self.db.get_database_backend() != DatabaseBackend::Postgres {
            return self.db.query_all_raw(statement).await;
        }
        let txn = self.db.begin().await?;
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
        let rows = txn.query_all_raw(statement).await?;
        txn.commit().await?;
        Ok(rows)
    }
}

/// Largest window of ranked matches read for one page.
const MAX_WINDOW: u64 = 20_000;
/// How many of the newest matches are ranked by relevance (SQLite's bm25, PostgreSQL's
/// `ts_rank`): a search pages through at most this many hits.
const RANKED_MATCHES: u64 = gazette_domain::search::MAX_RANKED_HITS;
/// How many of those `ts_rank_cd` orders (at least; more when a deep page needs them).
const PG_RERANKED: i64 = 200;

/// `?` placeholders in the backend's own syntax.
pub(crate) fn placeholders(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}
