//! The change log remembers whether readers have ever been able to see each article.
//!
//! A tombstone names an article's id (and, through UUID v7, when it was created). A reader must
//! never get one for a story it could never see (a scheduled story taken back before it went
//! live, a draft deleted), so each log row records whether the article has ever been public;
//! entries of articles that never were say nothing to readers and partners.
//!
//! Existing rows: an article that still exists counts as seen when its publish time has passed
//! (a story unpublished or archived keeps its past publish time); a row whose article is gone
//! keeps its tombstone (what it was cannot be told any more, and a mirror may hold it).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("article_changes")
                    .add_column(
                        ColumnDef::new("ever_public")
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        let passed = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => "julianday(a.published_at) <= julianday('now')",
            _ => "a.published_at <= now()",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE article_changes SET ever_public = TRUE WHERE NOT EXISTS \
                   (SELECT 1 FROM articles a WHERE a.id = article_changes.article_id) \
                 OR EXISTS (SELECT 1 FROM articles a WHERE a.id = article_changes.article_id \
                   AND a.published_at IS NOT NULL AND {passed})"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("article_changes")
                    .drop_column("ever_public")
                    .to_owned(),
            )
            .await
    }
}
