//! Article writes.

use chrono::{DateTime, Utc};
use gazette_domain::{Article, NewArticle};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait};
use uuid::Uuid;

use crate::entities::{article_authors, article_topics, articles};
use crate::{Store, StoreError};

/// The rows one new article becomes.
pub(crate) struct ArticleRows {
    pub(crate) article: articles::ActiveModel,
    pub(crate) topics: Vec<article_topics::ActiveModel>,
    pub(crate) authors: Vec<article_authors::ActiveModel>,
}

/// Builds the rows of `new` with resolved topic ids (primary first) and author ids.
pub(crate) fn article_rows(
    id: Uuid,
    new: &NewArticle,
    topic_ids: &[Uuid],
    author_ids: &[Uuid],
    now: DateTime<Utc>,
) -> ArticleRows {
    let primary_topic_id = new.primary_topic.as_ref().and(topic_ids.first().copied());
    let article = articles::ActiveModel {
        id: Set(id),
        slug: Set(new.slug.as_str().to_owned()),
        headline: Set(new.headline.as_str().to_owned()),
        dek: Set(new.dek.as_str().to_owned()),
        body: Set(new.body.to_json()),
        body_html: Set(new.body.to_html()),
        body_text: Set(new.body.to_plain_text()),
        source: Set(new.source.as_str().to_owned()),
        language: Set(new.language.as_str().to_owned()),
        canonical_url: Set(new.canonical_url.as_ref().map(|u| u.as_str().to_owned())),
        hero_image: Set(new
            .hero_image
            .as_ref()
            .map(|h| serde_json::to_string(h).unwrap_or_default())),
        primary_topic_id: Set(primary_topic_id),
        word_count: Set(i32::try_from(new.body.word_count()).unwrap_or(i32::MAX)),
        status: Set(new.status.as_str().to_owned()),
        published_at: Set(new
            .published_at
            .map(gazette_domain::time::storage_precision)),
        created_at: Set(now),
        updated_at: Set(now),
        syndicatable: Set(new.syndication.syndicatable),
        embargo_until: Set(new
            .syndication
            .embargo_until
            .map(gazette_domain::time::storage_precision)),
        version: Set(1),
    };
    let topics = topic_ids
        .iter()
        .enumerate()
        .map(|(i, topic_id)| article_topics::ActiveModel {
            article_id: Set(id),
            topic_id: Set(*topic_id),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
        })
        .collect();
    let authors = author_ids
        .iter()
        .enumerate()
        .map(|(i, author_id)| article_authors::ActiveModel {
            article_id: Set(id),
            author_id: Set(*author_id),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
        })
        .collect();
    ArticleRows {
        article,
        topics,
        authors,
    }
}

/// Inserts prepared rows: articles first, then their joins, a multi-row statement each.
pub(crate) async fn insert_rows<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<ArticleRows>,
) -> Result<(), StoreError> {
    let mut articles_rows = Vec::with_capacity(rows.len());
    let mut topic_rows = Vec::new();
    let mut author_rows = Vec::new();
    for r in rows {
        articles_rows.push(r.article);
        topic_rows.extend(r.topics);
        author_rows.extend(r.authors);
    }
    // Stay well under SQLite's and PostgreSQL's bound-parameter limits.
    for chunk in articles_rows.chunks(400) {
        articles::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    for chunk in topic_rows.chunks(2000) {
        article_topics::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    for chunk in author_rows.chunks(2000) {
        article_authors::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Creates an article with its topics and authors in one transaction. A taken slug is a
    /// conflict; unknown topics or authors are invalid input; nothing is written on failure.
    pub async fn create_article(
        &self,
        new: &NewArticle,
        now: DateTime<Utc>,
    ) -> Result<Article, StoreError> {
        new.check()?;
        let now = gazette_domain::time::storage_precision(now);
        let txn = self.db.begin().await?;
        let topic_slugs: Vec<_> = new.primary_topic.iter().chain(&new.topics).collect();
        let topic_ids = Self::topic_ids(&txn, "topics", &topic_slugs).await?;
        let author_ids = Self::author_ids(&txn, &new.authors).await?;
        let id = Uuid::now_v7();
        insert_rows(
            &txn,
            vec![article_rows(id, new, &topic_ids, &author_ids, now)],
        )
        .await?;
        let row = articles::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("article {id}")))?;
        txn.commit().await?;
        Article::try_from(row)
    }
}
