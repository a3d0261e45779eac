//! `trending_state` table: one row, the accumulators' base time, half-life and window edges.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "trending_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub base: DateTimeUtc,
    pub half_life_secs: i64,
    pub day_from: DateTimeUtc,
    pub week_from: DateTimeUtc,
    pub month_from: DateTimeUtc,
    pub flushes: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
