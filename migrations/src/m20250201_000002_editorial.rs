//! The newsroom's records: revisions of every save, public corrections, old slugs that still
//! resolve, and the time of the last substantive change.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn article_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_article"))
        .from(table, "article_id")
        .to("articles", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("articles")
                    .add_column(timestamp_with_time_zone_null("substantive_updated_at"))
                    .to_owned(),
            )
            .await?;
        // The newsroom's list: last saved first.
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_updated")
                    .table("articles")
                    .col("updated_at")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("article_revisions")
                    .col(uuid("article_id"))
                    .col(integer("version"))
                    .col(string_len("editor", 200))
                    .col(string_len("action", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(text("state"))
                    .col(text("changes"))
                    .primary_key(Index::create().col("article_id").col("version"))
                    .foreign_key(&mut article_fk("article_revisions"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("article_corrections")
                    .col(uuid("id").primary_key())
                    .col(uuid("article_id"))
                    .col(text("text"))
                    .col(string_len("editor", 200))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut article_fk("article_corrections"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_article_corrections_article")
                    .table("article_corrections")
                    .col("article_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("slug_redirects")
                    .col(string_len("slug", 120).primary_key())
                    .col(uuid("article_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut article_fk("slug_redirects"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_slug_redirects_article")
                    .table("slug_redirects")
                    .col("article_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["slug_redirects", "article_corrections", "article_revisions"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_articles_updated")
                    .table("articles")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("articles")
                    .drop_column("substantive_updated_at")
                    .to_owned(),
            )
            .await
    }
}
