//! The related-articles keyword profile keeps 80 keywords instead of 40, so every stored profile
//! is computed again: the column is emptied here and the store fills it after migrating, as
//! after migrations 13 and 16 (readers compute a row's profile from its texts meanwhile).
//! Nothing to undo: going down leaves the profiles to be filled again the same way.

use sea_orm_migration::prelude::*;

/// Forgets every stored profile (the store computes them again).
async fn empty_profiles(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared("UPDATE articles SET related_keywords = NULL")
        .await
        .map(|_| ())
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        empty_profiles(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        empty_profiles(manager).await
    }
}
