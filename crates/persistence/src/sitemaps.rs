//! The archive sitemap: every article a visibility admits, in publish order (oldest first, then
//! id), cut into pages of a fixed size.
//!
//! Oldest first, so a new publication lands on the last page and the earlier pages keep their
//! articles; only a removal (kill, expiry) moves later articles one place back. Each statement
//! reads only the columns a sitemap writes, through the `(published_at, id)` index.

use chrono::{DateTime, Utc};
use gazette_domain::Visibility;
use sea_orm::sea_query::{Expr, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use crate::articles::visible;
use crate::entities::articles::{self, Column};
use crate::{Store, StoreError};

/// One page of the archive sitemap, as its index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivePage {
    /// From 1.
    pub number: u64,
    /// Articles on it.
    pub urls: u64,
    /// The latest substantive update (else publish time) of its articles.
    pub lastmod: DateTime<Utc>,
}

/// One article of an archive sitemap page: what its `<url>` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// The article.
    pub id: Uuid,
    /// Its slug.
    pub slug: String,
    /// Its canonical URL, when it has one.
    pub canonical_url: Option<String>,
    /// Its last substantive update, else its publish time.
    pub lastmod: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct PageRow {
    page: i64,
    urls: i64,
    lastmod: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct EntryRow {
    id: Uuid,
    slug: String,
    canonical_url: Option<String>,
    published_at: Option<DateTime<Utc>>,
    substantive_updated_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

/// The archive as `visibility` admits it, with a publish time.
fn archive(visibility: Visibility) -> sea_orm::Select<articles::Entity> {
    visible(articles::Entity::find(), visibility).filter(Column::PublishedAt.is_not_null())
}

impl Store {
    /// The pages of the archive sitemap with `page_size` articles each (the last one fewer),
    /// at most `max_pages` of them: one statement numbering the visible articles in publish
    /// order (a window function over the `(published_at, id)` index) and grouping them by page.
    pub async fn archive_sitemap_pages(
        &self,
        visibility: Visibility,
        page_size: u64,
        max_pages: u64,
    ) -> Result<Vec<ArchivePage>, StoreError> {
        let size = page_size.max(1);
        let numbered = archive(visibility)
            .select_only()
            .expr_as(
                Expr::cust(r#"ROW_NUMBER() OVER (ORDER BY "published_at", "id")"#),
                "rn",
            )
            .expr_as(
                Expr::cust(r#"COALESCE("substantive_updated_at", "published_at")"#),
                "changed",
            )
            .into_query();
        let page = Expr::cust(format!(r#"("rn" - 1) / {size}"#));
        let statement = Query::select()
            .expr_as(page.clone(), "page")
            .expr_as(Expr::cust("COUNT(*)"), "urls")
            .expr_as(Expr::cust(r#"MAX("changed")"#), "lastmod")
            .from_subquery(numbered, "numbered")
            .add_group_by([page.clone()])
            .order_by_expr(page, Order::Asc)
            .to_owned();
        let backend = self.db.get_database_backend();
        let mut statement = backend.build(&statement);
        statement.sql.push_str(&format!(" LIMIT {max_pages}"));
        let rows = PageRow::find_by_statement(statement).all(&self.db).await?;
        Ok(rows
            .into_iter()
            .map(|row| ArchivePage {
                number: u64::try_from(row.page).unwrap_or(0) + 1,
                urls: u64::try_from(row.urls).unwrap_or(0),
                lastmod: row.lastmod,
            })
            .collect())
    }

    /// Page `number` (from 1) of the archive sitemap with `page_size` articles a page: the
    /// visible articles at places `(number - 1) * page_size ..` in publish order.
    pub async fn archive_sitemap_page(
        &self,
        visibility: Visibility,
        page_size: u64,
        number: u64,
    ) -> Result<Vec<ArchiveEntry>, StoreError> {
        let size = page_size.max(1);
        let skip = number.saturating_sub(1).saturating_mul(size);
        let select = archive(visibility)
            .select_only()
            .columns([
                Column::Id,
                Column::Slug,
                Column::CanonicalUrl,
                Column::PublishedAt,
                Column::SubstantiveUpdatedAt,
                Column::CreatedAt,
            ])
            .order_by_asc(Column::PublishedAt)
            .order_by_asc(Column::Id);
        let mut statement = select.build(self.db.get_database_backend());
        // Literals, not bound parameters: see `limit.rs`.
        statement
            .sql
            .push_str(&format!(" LIMIT {size} OFFSET {skip}"));
        let rows = EntryRow::find_by_statement(statement).all(&self.db).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let published = row.published_at.unwrap_or(row.created_at);
                ArchiveEntry {
                    id: row.id,
                    slug: row.slug,
                    canonical_url: row.canonical_url,
                    lastmod: row.substantive_updated_at.unwrap_or(published),
                }
            })
            .collect())
    }
}
