//! Storage rows to domain values: one conversion per type, in one place.

use gazette_domain::{
    Article, ArticleStatus, Author, Body, CanonicalUrl, Dek, Headline, Language, Name, Slug,
    Source, Syndication, Topic, ValidationError,
};

use chrono::{DateTime, Utc};

use crate::StoreError;
use crate::entities::{articles, authors, topics};

fn corrupt(table: &str, id: uuid::Uuid) -> impl Fn(ValidationError) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{table} {id}: {e}"))
}

/// A stored slug of a `table` row; a slug the domain refuses is corrupt data.
pub(crate) fn stored_slug(table: &str, id: uuid::Uuid, raw: &str) -> Result<Slug, StoreError> {
    Slug::parse(raw).map_err(corrupt(table, id))
}

/// An article's stored status; a value the domain does not know is corrupt data.
pub(crate) fn stored_status(id: uuid::Uuid, raw: &str) -> Result<ArticleStatus, StoreError> {
    ArticleStatus::parse(raw).map_err(corrupt("article", id))
}

impl TryFrom<articles::Model> for Article {
    type Error = StoreError;

    fn try_from(row: articles::Model) -> Result<Self, StoreError> {
        Article::try_from(articles::Lean::from(row))
    }
}

/// A stored body, parsed; a body the domain refuses is corrupt data.
pub(crate) fn stored_body(id: uuid::Uuid, raw: &str) -> Result<Body, StoreError> {
    crate::stored::body_from_json(raw).map_err(corrupt("article", id))
}

impl TryFrom<articles::Lean> for Article {
    type Error = StoreError;

    fn try_from(row: articles::Lean) -> Result<Self, StoreError> {
        let bad = corrupt("article", row.id);
        let hero_image = row
            .hero_image
            .as_deref()
            .map(crate::stored::hero_from_json)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("article {}: hero_image: {e}", row.id)))?;
        Ok(Article {
            id: row.id,
            slug: Slug::parse(&row.slug).map_err(&bad)?,
            // Stored text is read as saved: see `from_stored`.
            headline: Headline::from_stored(row.headline),
            dek: Dek::from_stored(row.dek),
            word_count: u32::try_from(row.word_count).map_err(|_| {
                StoreError::Corrupt(format!("article {}: word_count {}", row.id, row.word_count))
            })?,
            source: Source::from_stored(row.source),
            language: Language::parse(&row.language).map_err(&bad)?,
            canonical_url: row.canonical_url.map(CanonicalUrl::from_stored),
            hero_image,
            primary_topic_id: row.primary_topic_id,
            status: stored_status(row.id, &row.status)?,
            published_at: row.published_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            substantive_updated_at: row.substantive_updated_at,
            syndication: Syndication {
                syndicatable: row.syndicatable,
                embargo_until: row.embargo_until,
            },
            expires_at: row.expires_at,
            kill: match (row.killed_at, row.kill_reason) {
                (Some(at), Some(reason)) => Some(gazette_domain::Kill {
                    at,
                    reason: gazette_domain::KillReason::from_stored(reason),
                }),
                _ => None,
            },
            version: row.version,
        })
    }
}

/// A topic's columns as read, the ones its domain value holds: id, slug, name, description,
/// parent, update time (a whole row, or a join's share of one).
pub(crate) type TopicColumns = (
    uuid::Uuid,
    String,
    String,
    String,
    Option<uuid::Uuid>,
    DateTime<Utc>,
);

/// A topic from its stored columns.
pub(crate) fn topic(
    (id, slug, name, description, parent_id, updated_at): TopicColumns,
) -> Result<Topic, StoreError> {
    Ok(Topic {
        id,
        slug: stored_slug("topic", id, &slug)?,
        name: Name::from_stored(name),
        description,
        parent_id,
        updated_at,
    })
}

impl TryFrom<topics::Model> for Topic {
    type Error = StoreError;

    fn try_from(row: topics::Model) -> Result<Self, StoreError> {
        topic((
            row.id,
            row.slug,
            row.name,
            row.description,
            row.parent_id,
            row.updated_at,
        ))
    }
}

/// An author's columns as read, the ones its domain value holds: id, slug, name, bio, update
/// time.
pub(crate) type AuthorColumns = (uuid::Uuid, String, String, String, DateTime<Utc>);

/// An author from its stored columns.
pub(crate) fn author(
    (id, slug, name, bio, updated_at): AuthorColumns,
) -> Result<Author, StoreError> {
    Ok(Author {
        id,
        slug: stored_slug("author", id, &slug)?,
        name: Name::from_stored(name),
        bio,
        updated_at,
    })
}

impl TryFrom<authors::Model> for Author {
    type Error = StoreError;

    fn try_from(row: authors::Model) -> Result<Self, StoreError> {
        author((row.id, row.slug, row.name, row.bio, row.updated_at))
    }
}

/// Converts every row, failing on the first corrupt one.
pub(crate) fn all<M, T>(rows: Vec<M>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<M, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}
