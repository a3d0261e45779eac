//! Gazette's schema history. Each migration names its own tables and columns and never imports
//! entities, so changing an entity cannot rewrite the past. Every migration runs on SQLite and
//! PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20250101_000001_content;
mod m20250201_000002_editorial;
mod m20250301_000003_views;
mod m20250401_000004_search;
mod m20250501_000005_change_log;
mod m20250601_000006_related_keywords;
mod m20250701_000007_search_vector_inline;
mod m20250801_000008_search_rows;
mod m20250901_000009_change_log_seen;
mod m20251001_000010_topic_neighbourhood;
mod m20251101_000011_content_notify;
mod m20251201_000012_persisted_queries;
mod m20251215_000013_related_keywords_names;
mod m20260101_000014_takedown;
mod m20260201_000015_webhooks;
mod m20260301_000016_related_keywords_places;
mod m20260401_000017_related_keywords_more;
mod m20260501_000018_slug_byte_order;
mod m20260601_000019_webhook_claims_by_subscription;

/// Runs Gazette's migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20250101_000001_content::Migration),
            Box::new(m20250201_000002_editorial::Migration),
            Box::new(m20250301_000003_views::Migration),
            Box::new(m20250401_000004_search::Migration),
            Box::new(m20250501_000005_change_log::Migration),
            Box::new(m20250601_000006_related_keywords::Migration),
            Box::new(m20250701_000007_search_vector_inline::Migration),
            Box::new(m20250801_000008_search_rows::Migration),
            Box::new(m20250901_000009_change_log_seen::Migration),
            Box::new(m20251001_000010_topic_neighbourhood::Migration),
            Box::new(m20251101_000011_content_notify::Migration),
            Box::new(m20251201_000012_persisted_queries::Migration),
            Box::new(m20251215_000013_related_keywords_names::Migration),
            Box::new(m20260101_000014_takedown::Migration),
            Box::new(m20260201_000015_webhooks::Migration),
            Box::new(m20260301_000016_related_keywords_places::Migration),
            Box::new(m20260401_000017_related_keywords_more::Migration),
            Box::new(m20260501_000018_slug_byte_order::Migration),
            Box::new(m20260601_000019_webhook_claims_by_subscription::Migration),
        ]
    }
}
