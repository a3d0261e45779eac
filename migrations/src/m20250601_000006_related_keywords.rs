//! Each article's related-articles keywords, computed when the article is written.
//!
//! Ranking related articles compares keyword profiles of a hundred or so candidates; reading
//! and re-tokenizing their bodies on every uncached list dominated its cost. The column holds
//! the profile in the domain's stored form (`gazette_domain::related::Keywords::encode`).
//! Existing rows start NULL and are filled by the store after migrating (the profile is domain
//! code, which a frozen migration does not call); readers compute a NULL row's profile from its
//! texts meanwhile.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("articles")
                    .add_column(ColumnDef::new("related_keywords").text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("articles")
                    .drop_column("related_keywords")
                    .to_owned(),
            )
            .await
    }
}
