//! Topics, authors, articles and the joins between them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    name: &str,
    from_table: &'static str,
    from_col: &'static str,
    to_table: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from_table, from_col)
        .to(to_table, "id")
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("topics")
                    .col(uuid("id").primary_key())
                    .col(string_len_uniq("slug", 120))
                    .col(string_len("name", 120))
                    .col(text("description"))
                    .col(uuid_null("parent_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_topics_parent",
                        "topics",
                        "parent_id",
                        "topics",
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("authors")
                    .col(uuid("id").primary_key())
                    .col(string_len_uniq("slug", 120))
                    .col(string_len("name", 120))
                    .col(text("bio"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("articles")
                    .col(uuid("id").primary_key())
                    .col(string_len_uniq("slug", 120))
                    .col(string_len("headline", 400))
                    .col(text("dek"))
                    .col(text("body"))
                    .col(text("body_html"))
                    .col(text("body_text"))
                    .col(string_len("source", 80))
                    .col(string_len("language", 35))
                    .col(text_null("canonical_url"))
                    .col(text_null("hero_image"))
                    .col(uuid_null("primary_topic_id"))
                    .col(integer("word_count"))
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(boolean("syndicatable").default(false))
                    .col(timestamp_with_time_zone_null("embargo_until"))
                    .col(integer("version").default(1))
                    .foreign_key(&mut fk(
                        "fk_articles_primary_topic",
                        "articles",
                        "primary_topic_id",
                        "topics",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        // The reader's list: visible statuses ordered by publish time, then id.
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_status_published")
                    .table("articles")
                    .col("status")
                    .col("published_at")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_published")
                    .table("articles")
                    .col("published_at")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_primary_topic")
                    .table("articles")
                    .col("primary_topic_id")
                    .to_owned(),
            )
            .await?;

        for (table, other, other_table) in [
            ("article_topics", "topic_id", "topics"),
            ("article_authors", "author_id", "authors"),
        ] {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .col(uuid("article_id"))
                        .col(uuid(other))
                        .col(integer("position"))
                        .primary_key(Index::create().col("article_id").col(other))
                        .foreign_key(&mut fk(
                            &format!("fk_{table}_article"),
                            table,
                            "article_id",
                            "articles",
                            ForeignKeyAction::Cascade,
                        ))
                        .foreign_key(&mut fk(
                            &format!("fk_{table}_{other}"),
                            table,
                            other,
                            other_table,
                            ForeignKeyAction::Restrict,
                        ))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_{table}_{other}"))
                        .table(table)
                        .col(other)
                        .col("article_id")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "article_authors",
            "article_topics",
            "articles",
            "authors",
            "topics",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
