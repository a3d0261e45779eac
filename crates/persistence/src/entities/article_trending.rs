//! `article_trending` table: each article's running view counts and decayed-score accumulators
//! per window.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "article_trending")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub article_id: Uuid,
    pub views_day: i64,
    pub views_week: i64,
    pub views_month: i64,
    pub score_day: f64,
    pub score_week: f64,
    pub score_month: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
