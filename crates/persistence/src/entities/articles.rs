//! `articles` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub headline: String,
    #[sea_orm(column_type = "Text")]
    pub dek: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    #[sea_orm(column_type = "Text")]
    pub body_html: String,
    #[sea_orm(column_type = "Text")]
    pub body_text: String,
    pub source: String,
    pub language: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub canonical_url: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub hero_image: Option<String>,
    pub primary_topic_id: Option<Uuid>,
    pub word_count: i32,
    pub status: String,
    pub published_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub syndicatable: bool,
    pub embargo_until: Option<DateTimeUtc>,
    pub version: i32,
    pub substantive_updated_at: Option<DateTimeUtc>,
    /// The related-articles keyword profile (`Keywords::encode`); NULL until backfilled.
    #[sea_orm(column_type = "Text", nullable)]
    pub related_keywords: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub killed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub kill_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// An article row without its texts (`body`, `body_html`, `body_text`) and keyword profile:
/// what every list and lookup reads.
#[derive(Clone, Debug, PartialEq, Eq, DerivePartialModel)]
#[sea_orm(entity = "Entity")]
pub struct Lean {
    pub id: Uuid,
    pub slug: String,
    pub headline: String,
    pub dek: String,
    pub source: String,
    pub language: String,
    pub canonical_url: Option<String>,
    pub hero_image: Option<String>,
    pub primary_topic_id: Option<Uuid>,
    pub word_count: i32,
    pub status: String,
    pub published_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub syndicatable: bool,
    pub embargo_until: Option<DateTimeUtc>,
    pub version: i32,
    pub substantive_updated_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub killed_at: Option<DateTimeUtc>,
    pub kill_reason: Option<String>,
}

impl From<Model> for Lean {
    fn from(row: Model) -> Self {
        Self {
            id: row.id,
            slug: row.slug,
            headline: row.headline,
            dek: row.dek,
            source: row.source,
            language: row.language,
            canonical_url: row.canonical_url,
            hero_image: row.hero_image,
            primary_topic_id: row.primary_topic_id,
            word_count: row.word_count,
            status: row.status,
            published_at: row.published_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            syndicatable: row.syndicatable,
            embargo_until: row.embargo_until,
            version: row.version,
            substantive_updated_at: row.substantive_updated_at,
            expires_at: row.expires_at,
            killed_at: row.killed_at,
            kill_reason: row.kill_reason,
        }
    }
}
