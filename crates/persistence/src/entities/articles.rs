//! `articles` table.

use sea_orm::entity::prelude::*;
use sea_orm::{FromQueryResult, QueryResult, QuerySelect, TryGetable};

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
/// what every list and lookup reads. Its columns are [`LEAN_COLUMNS`], selected and read back
/// by position (see [`Cells`]).
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// The columns of [`Lean`], in the order they are selected and read.
pub(crate) const LEAN_COLUMNS: [Column; 21] = [
    Column::Id,
    Column::Slug,
    Column::Headline,
    Column::Dek,
    Column::Source,
    Column::Language,
    Column::CanonicalUrl,
    Column::HeroImage,
    Column::PrimaryTopicId,
    Column::WordCount,
    Column::Status,
    Column::PublishedAt,
    Column::CreatedAt,
    Column::UpdatedAt,
    Column::Syndicatable,
    Column::EmbargoUntil,
    Column::Version,
    Column::SubstantiveUpdatedAt,
    Column::ExpiresAt,
    Column::KilledAt,
    Column::KillReason,
];

impl sea_orm::PartialModelTrait for Lean {
    fn select_cols_nested<S: QuerySelect>(
        mut select: S,
        prefix: Option<&str>,
        alias: Option<&'static str>,
    ) -> S {
        for column in LEAN_COLUMNS {
            select = match (prefix, alias) {
                (None, None) => select.column(column),
                (prefix, alias) => {
                    let expr = match alias {
                        Some(table) => Expr::col((sea_orm::sea_query::Alias::new(table), column)),
                        None => Expr::col(column),
                    };
                    select.column_as(expr, format!("{}{}", prefix.unwrap_or(""), column.as_str()))
                }
            };
        }
        select
    }
}

impl FromQueryResult for Lean {
    /// By position when read alone (as every read does): sea-orm's read by name hashes each
    /// column's name and, for a NULL in a nullable column, formats an error message it then
    /// drops, a tenth of a list's instructions; by name (the `prefix`) when nested.
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        let mut cells = Cells { res, pre, next: 0 };
        Ok(Self {
            id: cells.value()?,
            slug: cells.value()?,
            headline: cells.value()?,
            dek: cells.value()?,
            source: cells.value()?,
            language: cells.value()?,
            canonical_url: cells.nullable()?,
            hero_image: cells.nullable()?,
            primary_topic_id: cells.nullable()?,
            word_count: cells.value()?,
            status: cells.value()?,
            published_at: cells.nullable()?,
            created_at: cells.value()?,
            updated_at: cells.value()?,
            syndicatable: cells.value()?,
            embargo_until: cells.nullable()?,
            version: cells.value()?,
            substantive_updated_at: cells.nullable()?,
            expires_at: cells.nullable()?,
            killed_at: cells.nullable()?,
            kill_reason: cells.nullable()?,
        })
    }
}

/// Reads a row's columns one after the other, in [`LEAN_COLUMNS`]' order.
struct Cells<'r> {
    res: &'r QueryResult,
    pre: &'r str,
    next: usize,
}

/// A column type both drivers decode.
trait Cell:
    TryGetable
    + for<'a> sea_orm::sqlx::Decode<'a, sea_orm::sqlx::Sqlite>
    + sea_orm::sqlx::Type<sea_orm::sqlx::Sqlite>
    + for<'a> sea_orm::sqlx::Decode<'a, sea_orm::sqlx::Postgres>
    + sea_orm::sqlx::Type<sea_orm::sqlx::Postgres>
{
}

impl<T> Cell for T where
    T: TryGetable
        + for<'a> sea_orm::sqlx::Decode<'a, sea_orm::sqlx::Sqlite>
        + sea_orm::sqlx::Type<sea_orm::sqlx::Sqlite>
        + for<'a> sea_orm::sqlx::Decode<'a, sea_orm::sqlx::Postgres>
        + sea_orm::sqlx::Type<sea_orm::sqlx::Postgres>
{
}

impl Cells<'_> {
    fn nullable<T: Cell>(&mut self) -> Result<Option<T>, DbErr> {
        use sea_orm::sqlx::Row as _;
        let i = self.next;
        self.next += 1;
        let column = LEAN_COLUMNS[i];
        let decoded = if !self.pre.is_empty() {
            return self.res.try_get::<Option<T>>(self.pre, column.as_str());
        } else if let Some(row) = self.res.try_as_sqlite_row() {
            row.try_get::<Option<T>, usize>(i)
        } else if let Some(row) = self.res.try_as_pg_row() {
            row.try_get::<Option<T>, usize>(i)
        } else {
            return self.res.try_get_by_index::<Option<T>>(i);
        };
        decoded.map_err(|e| DbErr::Type(format!("articles.{}: {e}", column.as_str())))
    }

    fn value<T: Cell>(&mut self) -> Result<T, DbErr> {
        let column = LEAN_COLUMNS[self.next];
        self.nullable()?
            .ok_or_else(|| DbErr::Type(format!("articles.{}: NULL", column.as_str())))
    }
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
