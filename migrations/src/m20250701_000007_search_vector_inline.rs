//! PostgreSQL keeps each article's `tsvector` in the article's row.
//!
//! A common word is searched by walking the newest articles and testing their `search_vector`
//! (see the persistence crate's `search`). With the default storage (`EXTENDED`), the vector of
//! a typical article was moved out of line to the TOAST table, so every row tested cost a TOAST
//! index probe and a TOAST page besides its own page: at 100,000 articles, ranking the newest
//! 1,000 matches of two common words read about 4,700 buffers. `MAIN` keeps the vector in the
//! row (compressed when large) and moves the bodies out first; the same read touches about
//! 720. Existing rows are rewritten once so that their vectors move in (the generated column is
//! recomputed by `SET search_vector = DEFAULT`). SQLite has no TOAST: nothing to do there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared(
                "ALTER TABLE articles ALTER COLUMN search_vector SET STORAGE MAIN",
            )
            .await?;
            db.execute_unprepared("UPDATE articles SET search_vector = DEFAULT")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE articles ALTER COLUMN search_vector SET STORAGE EXTENDED",
                )
                .await?;
        }
        Ok(())
    }
}
