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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
