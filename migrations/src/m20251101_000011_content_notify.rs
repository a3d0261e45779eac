//! Every process serving one PostgreSQL database learns at once that content changed: a
//! statement-level trigger on each content table sends `NOTIFY gazette_content` (delivered when
//! the writing transaction commits, at most once per transaction), and each `gazette serve`
//! listens and forgets its cached responses. The payload is the writing session's
//! `gazette.process` setting (each Gazette process names its connections), so a process can
//! skip the echo of its own writes. The view counts and trending tables, the change
//! log (appended by reads) and revisions (written with their article) notify nothing.
//!
//! SQLite has no other process to tell: there this migration does nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose changes readers see.
const CONTENT_TABLES: [&str; 7] = [
    "articles",
    "topics",
    "authors",
    "article_topics",
    "article_authors",
    "article_corrections",
    "slug_redirects",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION gazette_notify_content() RETURNS trigger \
             LANGUAGE plpgsql AS $$ BEGIN \
             PERFORM pg_notify('gazette_content', \
             coalesce(current_setting('gazette.process', true), '')); \
             RETURN NULL; END $$",
        )
        .await?;
        for table in CONTENT_TABLES {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_notify_content \
                 AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION gazette_notify_content()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in CONTENT_TABLES {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {table}_notify_content ON {table}"
            ))
            .await?;
        }
        db.execute_unprepared("DROP FUNCTION IF EXISTS gazette_notify_content()")
            .await?;
        Ok(())
    }
}
