//! Takedowns: an article may expire at an instant (`expires_at`), and may be killed (status
//! `killed`, with `killed_at` and `kill_reason`). Both are read at query time; the index on
//! `expires_at` serves the response cache's "next instant anything changes by itself" probe.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_articles_expires_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [
            ColumnDef::new("expires_at")
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new("killed_at")
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new("kill_reason").text().null().to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("articles")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table("articles")
                    .col("expires_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table("articles").to_owned())
            .await?;
        for column in ["kill_reason", "killed_at", "expires_at"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("articles")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
