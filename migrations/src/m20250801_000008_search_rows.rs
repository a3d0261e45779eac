//! SQLite remembers which full-text row holds each article.
//!
//! FTS5 indexes words, not the `article_id` column (`UNINDEXED`), so an edit or a delete that
//! dropped an article's row `WHERE article_id = ?` scanned the whole full-text table: about
//! 70 ms per save at 100,000 articles, with the write lock held. `article_search_rows` maps each
//! article to its FTS rowid, so the row is found by rowid. PostgreSQL's vector is a column of
//! the article: nothing to do there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            let db = manager.get_connection();
            db.execute_unprepared(
                "CREATE TABLE article_search_rows (\
                   article_id BLOB NOT NULL PRIMARY KEY, \
                   search_rowid INTEGER NOT NULL UNIQUE\
                 ) WITHOUT ROWID",
            )
            .await?;
            db.execute_unprepared(
                "INSERT INTO article_search_rows (article_id, search_rowid) \
                 SELECT article_id, rowid FROM article_search",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE IF EXISTS article_search_rows")
                .await?;
        }
        Ok(())
    }
}
