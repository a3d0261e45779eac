//! sea-orm entities, one per table, in the shape `sea-orm-cli generate entity` writes.
//! Not edited for behaviour: conversions and queries live beside them, in the parent module.

pub mod article_authors;
pub mod article_change_due;
pub mod article_changes;
pub mod article_corrections;
pub mod article_revisions;
pub mod article_topics;
pub mod article_trending;
pub mod article_view_buckets;
pub mod articles;
pub mod authors;
pub mod persisted_queries;
pub mod slug_redirects;
pub mod topics;
pub mod trending_state;
pub mod webhook_attempts;
pub mod webhook_deliveries;
pub mod webhook_subscriptions;
