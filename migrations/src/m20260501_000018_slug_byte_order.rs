//! Topic and author slugs sort in byte order on PostgreSQL too (collation `"C"`), as they do on
//! SQLite (`BINARY`) and in Rust. A database created under a language collation (Debian's
//! `en_US.UTF-8`, for one) otherwise orders `north-korea` after `northern`, ignoring the
//! hyphen: the pages of `topics` and `authors` would differ between the two databases, and
//! the topic box could not be served from the taxonomy kept in memory. Slugs are lowercase
//! ASCII letters, digits and hyphens, so byte order is the alphabetical order readers expect.
//! The unique indexes are rebuilt by the same statements. SQLite needs nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// Sets the collation of the `slug` column of `topics` and `authors` (PostgreSQL only).
async fn collate(manager: &SchemaManager<'_>, collation: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let connection = manager.get_connection();
    for table in ["topics", "authors"] {
        connection
            .execute_unprepared(&format!(
                "ALTER TABLE {table} ALTER COLUMN slug TYPE varchar(120) COLLATE {collation}"
            ))
            .await?;
    }
    Ok(())
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        collate(manager, "\"C\"").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        collate(manager, "\"default\"").await
    }
}
