//! Claims of webhook deliveries go subscription by subscription (at most
//! `GAZETTE_WEBHOOK_PER_SUBSCRIPTION` of one subscription in flight at once), so the claim
//! reads each subscription's oldest claimable deliveries and counts its live claims; these two
//! indexes make both a short range read however long the subscription's backlog or history.

use sea_orm_migration::prelude::*;

const DELIVERIES: &str = "webhook_deliveries";
const CLAIMABLE: &str = "idx_webhook_deliveries_claimable";
const CLAIMED: &str = "idx_webhook_deliveries_claimed";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(CLAIMABLE)
                    .table(DELIVERIES)
                    .col("subscription_id")
                    .col("status")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(CLAIMED)
                    .table(DELIVERIES)
                    .col("subscription_id")
                    .col("claimed_until")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [CLAIMED, CLAIMABLE] {
            manager
                .drop_index(Index::drop().name(name).table(DELIVERIES).to_owned())
                .await?;
        }
        Ok(())
    }
}
