//! Partner webhooks: subscriptions (each with its durable cursor into the change log), the
//! deliveries enqueued from the log (the outbox: one row per message, its id the Standard
//! Webhooks `webhook-id`, stable across retries) and the attempts made to send them.
//!
//! Due deliveries are claimed through `idx_webhook_deliveries_due` (status, next attempt); a
//! subscription's log is read newest first through `idx_webhook_deliveries_subscription`, each
//! delivery's attempts through `idx_webhook_attempts_delivery`, unique on the attempt number
//! (so no attempt is ever recorded, hence sent, twice). Deleting a subscription deletes its
//! deliveries and attempts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SUBSCRIPTIONS: &str = "webhook_subscriptions";
const DELIVERIES: &str = "webhook_deliveries";
const ATTEMPTS: &str = "webhook_attempts";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SUBSCRIPTIONS)
                    .col(uuid("id").primary_key())
                    .col(string_len("owner_sub", 256))
                    // Space-separated scopes of the owner's token when it subscribed: the
                    // deliveries are what `changes` gives a partner with these scopes.
                    .col(text("owner_scopes"))
                    .col(text("url"))
                    // Space-separated topic ids (empty: every topic).
                    .col(text("topic_ids"))
                    // Space-separated event kinds (`article.published` …).
                    .col(text("events"))
                    .col(text("secret"))
                    .col(text_null("previous_secret"))
                    .col(timestamp_with_time_zone_null("previous_secret_until"))
                    .col(big_integer("cursor"))
                    .col(string_len("status", 16))
                    .col(text_null("paused_reason"))
                    .col(integer("consecutive_failures"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_subscriptions_owner")
                    .table(SUBSCRIPTIONS)
                    .col("owner_sub")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DELIVERIES)
                    .col(uuid("id").primary_key())
                    .col(uuid("subscription_id"))
                    .col(big_integer("seq"))
                    .col(uuid("article_id"))
                    .col(string_len("event", 32))
                    .col(text("payload"))
                    .col(string_len("status", 16))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("claimed_until"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_subscription")
                            .from(DELIVERIES, "subscription_id")
                            .to(SUBSCRIPTIONS, "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_due")
                    .table(DELIVERIES)
                    .col("status")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_subscription")
                    .table(DELIVERIES)
                    .col("subscription_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ATTEMPTS)
                    .col(uuid("id").primary_key())
                    .col(uuid("delivery_id"))
                    .col(uuid("subscription_id"))
                    .col(integer("attempt"))
                    .col(timestamp_with_time_zone("attempted_at"))
                    .col(integer_null("status_code"))
                    .col(big_integer("latency_ms"))
                    .col(text_null("error"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_attempts_delivery")
                            .from(ATTEMPTS, "delivery_id")
                            .to(DELIVERIES, "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_attempts_delivery")
                    .table(ATTEMPTS)
                    .col("delivery_id")
                    .col("attempt")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [ATTEMPTS, DELIVERIES, SUBSCRIPTIONS] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
