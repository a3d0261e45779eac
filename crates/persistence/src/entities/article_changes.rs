//! `article_changes` table: the change log, one row per article that has ever been public or
//! scheduled, at the position of its latest change.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "article_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub article_id: Uuid,
    pub effective_at: DateTimeUtc,
    /// Readers have been able to see the article at some point.
    pub ever_public: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
