//! The automatic persisted query registry, shared by every process on the database: a query
//! registered with one node runs by its hash on any other.
//!
//! One row per query: its SHA-256 (lower-case hex, the key), its text, when it was registered
//! and when a node last read it. The registry is bounded in rows; the least recently used go
//! first, found through the `last_used_at` index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("persisted_queries")
                    .col(string_len("hash", 64).primary_key())
                    .col(text("query"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("last_used_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_persisted_queries_last_used_at")
                    .table("persisted_queries")
                    .col("last_used_at")
                    .col("hash")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("persisted_queries").to_owned())
            .await
    }
}
