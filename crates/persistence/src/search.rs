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
