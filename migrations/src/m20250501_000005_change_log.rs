//! Delta sync: the change log and the changes that time alone will make.
//!
//! `article_changes` holds one row per article that has ever been public or scheduled: the
//! position of its latest change (`seq`, increasing in commit order) and when that change took
//! effect. `article_change_due` holds future instants (a scheduled publication, an embargo
//! lifting) that become log rows when their time comes. Neither references `articles`: a
//! deleted article keeps its row, which readers turn into a tombstone.
//!
//! Existing public and scheduled articles are logged here, so a read from the start of the log
//! is a full initial sync.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BACKFILL_LOG: &str = "INSERT INTO article_changes (article_id, effective_at) \
     SELECT id, updated_at FROM articles WHERE status IN ('published', 'scheduled') \
     ORDER BY published_at, id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        // SQLite: AUTOINCREMENT, so a number is never handed out twice even after the row
        // holding the highest one is replaced (which a plain rowid would reuse).
        let mut seq = ColumnDef::new("seq");
        match backend {
            DatabaseBackend::Sqlite => seq.integer(),
            _ => seq.big_integer(),
        };
        seq.not_null().primary_key().auto_increment();
        manager
            .create_table(
                Table::create()
                    .table("article_changes")
                    .col(seq)
                    .col(uuid("article_id").unique_key())
                    .col(timestamp_with_time_zone("effective_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("article_change_due")
                    .col(uuid("article_id"))
                    .col(timestamp_with_time_zone("due_at"))
                    .primary_key(Index::create().col("article_id").col("due_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_article_change_due_at")
                    .table("article_change_due")
                    .col("due_at")
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        db.execute_unprepared(BACKFILL_LOG).await?;
        // Future publications and embargoes of what was just logged.
        let later = |column: &str| match backend {
            DatabaseBackend::Sqlite => format!("julianday({column}) > julianday('now')"),
            _ => format!("{column} > now()"),
        };
        db.execute_unprepared(&format!(
            "INSERT INTO article_change_due (article_id, due_at) \
             SELECT id, published_at FROM articles \
             WHERE status IN ('published', 'scheduled') AND {} \
             UNION \
             SELECT id, embargo_until FROM articles \
             WHERE status IN ('published', 'scheduled') AND {}",
            later("published_at"),
            later("embargo_until"),
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["article_change_due", "article_changes"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
