//! Full-text search on the database's own engine: FTS5 with bm25 on SQLite, `tsvector` with
//! `ts_rank_cd` on PostgreSQL. Readers only ever find articles public at the request's instant.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use gazette_domain::search::SearchQuery;
use gazette_domain::time::storage_precision;
use gazette_domain::{Article, ArticleStatus, Slug, Visibility};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};
use uuid::Uuid;

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

/// One search result: the article and its relevance (higher is better).
#[derive(Debug, Clone)]
pub struct Hit {
    /// The article.
    pub article: Article,
    /// The engine's relevance score.
    pub score: f64,
}

impl Store {
    /// Public articles matching `query`, most relevant first (ties: newer first), `limit`
    /// from `offset`. Two statements: the ranked ids, then the articles by primary key.
    pub async fn search(
        &self,
        query: &SearchQuery,
        filter: &SearchFilter,
        offset: u64,
        limit: u64,
        now: DateTime<Utc>,
    ) -> Result<Page<Hit>, StoreError> {
        if query.is_empty() {
            return Ok(Page {
                items: Vec::new(),
                has_next: false,
                has_previous: offset > 0,
            });
        }
        let now = storage_precision(now);
        let backend = self.db.get_database_backend();
        let mut values: Vec<Value> = Vec::new();
        let mut conditions: Vec<String> = vec![
            format!(
                "a.status IN ({})",
                vec!["?"; ArticleStatus::PUBLIC.len()].join(", ")
            ),
            "a.published_at <= ?".to_owned(),
        ];
        let (head, rank_order) = match backend {
            DatabaseBackend::Postgres => {
                values.push(query.to_tsquery().into());
                values.push(query.to_tsquery().into());
                (
                    "SELECT a.id, CAST(ts_rank_cd(a.search_vector, q.query, 32) AS DOUBLE PRECISION) AS score \
                     FROM articles a, \
                     (SELECT to_tsquery('english', ?) || to_tsquery('simple', ?) AS query) q \
                     WHERE a.search_vector @@ q.query"
                        .to_owned(),
                    "score DESC",
                )
            }
            _ => {
                values.push(query.to_fts5().into());
                // FTS first (materialized), then each hit's article by primary key.
                (
                    "WITH hits AS MATERIALIZED ( \
                       SELECT article_id, -bm25(article_search, 0.0, 10.0, 4.0, 1.0) AS score \
                       FROM article_search WHERE article_search MATCH ?) \
                     SELECT a.id, hits.score AS score FROM hits \
                     JOIN articles a ON a.id = hits.article_id WHERE 1 = 1"
                        .to_owned(),
                    "score DESC",
                )
            }
        };
        values.extend(ArticleStatus::PUBLIC.map(|s| Value::from(s.as_str())));
        values.push(now.into());
        if let Some(after) = filter.published_after {
            conditions.push("a.published_at >= ?".to_owned());
            values.push(storage_precision(after).into());
        }
        if let Some(before) = filter.published_before {
            conditions.push("a.published_at < ?".to_owned());
            values.push(storage_precision(before).into());
        }
        if let Some(topic) = &filter.topic {
            conditions.push(
                "EXISTS (SELECT 1 FROM article_topics t JOIN topics tp ON tp.id = t.topic_id \
                 WHERE t.article_id = a.id AND tp.slug = ?)"
                    .to_owned(),
            );
            values.push(topic.as_str().into());
        }
        values.push(i64::try_from(limit + 1).unwrap_or(i64::MAX).into());
        values.push(i64::try_from(offset).unwrap_or(i64::MAX).into());
        let sql = format!(
            "{head} AND {} ORDER BY {rank_order}, a.published_at DESC, a.id DESC LIMIT ? OFFSET ?",
            conditions.join(" AND ")
        );
        let rows = self
            .db
            .query_all_raw(placeholders(backend, &sql, values))
            .await
            .map_err(|e| match backend {
                // A query our parser let through but the engine refused is still the client's.
                DatabaseBackend::Sqlite if e.to_string().contains("fts5") => StoreError::Invalid(
                    gazette_domain::ValidationError::new("query", "cannot be searched as written"),
                ),
                _ => StoreError::from(e),
            })?;
        let mut ranked: Vec<(Uuid, f64)> = rows
            .iter()
            .map(|row| {
                Ok((
                    row.try_get_by_index::<Uuid>(0)?,
                    row.try_get_by_index::<f64>(1)?,
                ))
            })
            .collect::<Result<_, sea_orm::DbErr>>()?;
        let has_next = ranked.len() as u64 > limit;
        ranked.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let ids: Vec<Uuid> = ranked.iter().map(|r| r.0).collect();
        let mut articles: HashMap<Uuid, Article> = self
            .articles_by_ids(&ids, Visibility::PublicAt(now))
            .await?;
        let items = ranked
            .into_iter()
            .filter_map(|(id, score)| articles.remove(&id).map(|article| Hit { article, score }))
            .collect();
        Ok(Page {
            items,
            has_next,
            has_previous: offset > 0,
        })
    }
}

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

/// Candidates for an article's related list: the newest articles of each of its first topics,
/// and the best text matches of its strongest keywords, public at `now`, with each one's topic
/// ids. At most six statements, whatever the size of the archive.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// The candidate articles.
    pub articles: Vec<Article>,
    /// Topic ids of the candidates and of the source, primary first.
    pub topics: HashMap<Uuid, Vec<Uuid>>,
}

/// How many candidates each source brings.
const PER_TOPIC: u64 = 60;
const BY_TEXT: u64 = 60;

impl Store {
    /// Related-article candidates for `source` (see [`Candidates`]).
    pub async fn related_candidates(
        &self,
        source: &Article,
        keywords: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Candidates, StoreError> {
        use crate::entities::article_topics;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        let now = storage_precision(now);
        let source_topics = self
            .topic_ids_of_articles(&[source.id])
            .await?
            .remove(&source.id)
            .unwrap_or_default();
        let mut ids: Vec<Uuid> = Vec::new();
        // Newest first within a topic: ids are UUID v7, ordered by creation time, so the
        // (topic_id, article_id) index gives them without sorting.
        for topic in source_topics.iter().take(3) {
            let found: Vec<Uuid> = article_topics::Entity::find()
                .select_only()
                .column(article_topics::Column::ArticleId)
                .filter(article_topics::Column::TopicId.eq(*topic))
                .filter(article_topics::Column::ArticleId.ne(source.id))
                .order_by_desc(article_topics::Column::ArticleId)
                .limit(PER_TOPIC)
                .into_tuple()
                .all(&self.db)
                .await?;
            ids.extend(found);
        }
        let words: Vec<&str> = keywords
            .iter()
            .copied()
            .filter(|w| w.chars().all(char::is_alphanumeric) && !w.is_empty())
            .take(6)
            .collect();
        if !words.is_empty() {
            let backend = self.db.get_database_backend();
            let statement = match backend {
                DatabaseBackend::Postgres => placeholders(
                    backend,
                    "SELECT a.id FROM articles a, \
                     (SELECT to_tsquery('english', ?) AS query) q \
                     WHERE a.search_vector @@ q.query AND a.id <> ? \
                     ORDER BY ts_rank_cd(a.search_vector, q.query, 32) DESC LIMIT ?",
                    vec![
                        words
                            .iter()
                            .map(|w| format!("'{w}'"))
                            .collect::<Vec<_>>()
                            .join(" | ")
                            .into(),
                        source.id.into(),
                        i64::try_from(BY_TEXT).unwrap_or(60).into(),
                    ],
                ),
                _ => placeholders(
                    backend,
                    "SELECT article_id FROM article_search WHERE article_search MATCH ? \
                     ORDER BY bm25(article_search, 0.0, 10.0, 4.0, 1.0) LIMIT ?",
                    vec![
                        words
                            .iter()
                            .map(|w| format!("\"{w}\""))
                            .collect::<Vec<_>>()
                            .join(" OR ")
                            .into(),
                        i64::try_from(BY_TEXT + 1).unwrap_or(61).into(),
                    ],
                ),
            };
            for row in self.db.query_all_raw(statement).await? {
                ids.push(row.try_get_by_index::<Uuid>(0)?);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids.retain(|id| *id != source.id);
        let mut articles: Vec<Article> = self
            .articles_by_ids(&ids, Visibility::PublicAt(now))
            .await?
            .into_values()
            .collect();
        articles.sort_by_key(|a| std::cmp::Reverse(a.id));
        let topic_ids: Vec<Uuid> = articles.iter().map(|a| a.id).collect();
        let mut topics = self.topic_ids_of_articles(&topic_ids).await?;
        topics.insert(source.id, source_topics);
        Ok(Candidates { articles, topics })
    }
}
