//! Related articles look for a story's neighbours: the articles of its topics published just
//! before and just after it, wherever it sits in the archive.
//!
//! The index on `articles (primary_topic_id)` becomes `(primary_topic_id, published_at, id)`,
//! so "the articles of this topic published nearest to this instant" is two short range scans
//! (one backwards, one forwards) on both databases. The new index answers every lookup the old
//! one did, so the old one is dropped.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_topic_published")
                    .table("articles")
                    .col("primary_topic_id")
                    .col("published_at")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_articles_primary_topic")
                    .table("articles")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_primary_topic")
                    .table("articles")
                    .col("primary_topic_id")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_articles_topic_published")
                    .table("articles")
                    .to_owned(),
            )
            .await
    }
}
