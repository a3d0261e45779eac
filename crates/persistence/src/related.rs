//! Candidates for related articles, read as keyword profiles (never whole articles), and the
//! upkeep of the stored profiles.

use chrono::{DateTime, Utc};
use gazette_domain::Visibility;
use gazette_domain::related::{Keywords, Profile};
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

/// Candidates for an article's related list: the newest articles of each of its first topics
/// and the newest text matches of its strongest keywords, public at `now`, as the profiles the
/// domain's scoring reads. At most six statements, whatever the size of the archive; no
/// article body is read.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// The source's topic ids, primary first.
    pub source_topics: Vec<Uuid>,
    /// The candidates, newest first; never the source.
    pub profiles: Vec<Profile>,
}

/// How many candidates each source brings.
const PER_TOPIC: u64 = 30;
const BY_TEXT: u64 = 30;
/// Rows whose stored profile is filled per transaction.
const FILL_BATCH: u64 = 500;

type LightRow = (
    Uuid,
    Option<Uuid>,
    String,
    Option<DateTime<Utc>>,
    Option<String>,
);

impl Store {
    /// Related-article candidates for `source` (see [`Candidates`]), found from its
    /// `keywords` (strongest first).
    pub async fn related_candidates(
        &self,
        source: Uuid,
        keywords: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Candidates, StoreError> {
        let now = storage_precision(now);
        // Candidates by topic and by text are independent: they are read side by side.
        let by_topic = async {
            let source_topics = self
                .topic_ids_of_articles(&[source])
                .await?
                .remove(&source)
                .unwrap_or_default();
            let ids = self.topic_candidates(source, &source_topics).await?;
            Ok::<_, StoreError>((source_topics, ids))
        };
        let ((source_topics, mut ids), by_text) =
            tokio::try_join!(by_topic, self.text_candidates(source, keywords))?;
        ids.extend(by_text);
        ids.sort_unstable();
        ids.dedup();
        ids.retain(|id| *id != source);
        let profiles = self.public_profiles(&ids, now).await?;
        Ok(Candidates {
            source_topics,
            profiles,
        })
    }

    /// The newest articles of each of the source's first three topics, in one statement.
    /// Newest first within a topic: ids are UUID v7, ordered by creation time, so the
    /// (topic_id, article_id) index gives them without sorting.
    async fn topic_candidates(
        &self,
        source: Uuid,
        source_topics: &[Uuid],
    ) -> Result<Vec<Uuid>, StoreError> {
        let topics = &source_topics[..source_topics.len().min(3)];
        if topics.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = String::new();
        let mut values: Vec<sea_orm::Value> = Vec::new();
        for (i, topic) in topics.iter().enumerate() {
            if i > 0 {
                sql.push_str(" UNION ALL ");
            }
            sql.push_str(&format!(
                "SELECT article_id FROM (SELECT article_id FROM article_topics \
                 WHERE topic_id = ? AND article_id <> ? ORDER BY article_id DESC LIMIT ?) AS t{i}"
            ));
            values.extend([
                (*topic).into(),
                source.into(),
                i64::try_from(PER_TOPIC).unwrap_or(30).into(),
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

    /// The newest articles holding the two strongest of `keywords` (the domain ranks them).
    async fn text_candidates(
        &self,
        source: Uuid,
        keywords: &[&str],
    ) -> Result<Vec<Uuid>, StoreError> {
        let words: Vec<&str> = keywords
            .iter()
            .copied()
            .filter(|w| w.chars().all(char::is_alphanumeric) && !w.is_empty())
            .take(2)
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.db.get_database_backend();
        let statement = match backend {
            // Planned for the actual words so that common ones walk the primary key backwards.
            DatabaseBackend::Postgres => placeholders(
                backend,
                "SELECT id FROM articles \
                 WHERE search_vector @@ to_tsquery('english', ?) AND id <> ? \
                 ORDER BY id DESC LIMIT ?",
                vec![
                    words
                        .iter()
                        .map(|w| format!("'{w}'"))
                        .collect::<Vec<_>>()
                        .join(" & ")
                        .into(),
                    source.into(),
                    i64::try_from(BY_TEXT).unwrap_or(30).into(),
                ],
            ),
            // Newest matches first (free in FTS5).
            _ => placeholders(
                backend,
                "SELECT article_id FROM article_search WHERE article_search MATCH ? \
                 ORDER BY rowid DESC LIMIT ?",
                vec![
                    words
                        .iter()
                        .map(|w| format!("\"{w}\""))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                        .into(),
                    i64::try_from(BY_TEXT + 1).unwrap_or(31).into(),
                ],
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
        for (id, primary, status, published_at, keywords) in fetched {
            let status = stored_status(id, &status)?;
            if let Some(at) =
                published_at.filter(|_| visibility.admits_parts(status, published_at, None))
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
