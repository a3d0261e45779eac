//! Views: hourly buckets per article, the running trending accumulators fed from them, and the
//! accumulators' shared state (base time, half-life, how far each window has been expired).

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
            .create_table(
                Table::create()
                    .table("article_view_buckets")
                    .col(uuid("article_id"))
                    .col(timestamp_with_time_zone("hour"))
                    .col(big_integer("views"))
                    .primary_key(Index::create().col("article_id").col("hour"))
                    .foreign_key(&mut article_fk("article_view_buckets"))
                    .to_owned(),
            )
            .await?;
        // Expiry and compaction walk buckets by hour.
        manager
            .create_index(
                Index::create()
                    .name("idx_article_view_buckets_hour")
                    .table("article_view_buckets")
                    .col("hour")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("article_trending")
                    .col(uuid("article_id").primary_key())
                    .col(big_integer("views_day").default(0))
                    .col(big_integer("views_week").default(0))
                    .col(big_integer("views_month").default(0))
                    .col(double("score_day").default(0.0))
                    .col(double("score_week").default(0.0))
                    .col(double("score_month").default(0.0))
                    .foreign_key(&mut article_fk("article_trending"))
                    .to_owned(),
            )
            .await?;
        // A trending list is the first rows of one of these indexes.
        for window in ["day", "week", "month"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_article_trending_{window}"))
                        .table("article_trending")
                        .col(format!("score_{window}"))
                        .col("article_id")
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("trending_state")
                    .col(integer("id").primary_key())
                    .col(timestamp_with_time_zone("base"))
                    .col(big_integer("half_life_secs"))
                    .col(timestamp_with_time_zone("day_from"))
                    .col(timestamp_with_time_zone("week_from"))
                    .col(timestamp_with_time_zone("month_from"))
                    .col(big_integer("flushes").default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["trending_state", "article_trending", "article_view_buckets"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
