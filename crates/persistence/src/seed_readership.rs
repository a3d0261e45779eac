//! Sample readership: views for the sample stories, so "Hot this week" on a freshly seeded
//! database ranks them as the reference page does. Added once, to a database nobody has read
//! anything in; the views age out of the week window like any others.

use chrono::{DateTime, Duration, Utc};
use gazette_domain::trending::bucket_hour;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::entities::articles;
use crate::{Store, StoreError, ViewCount};

/// Views per sample story, most read first: the order of the reference page's "Hot this week"
/// (its five entries), then three more so the health, nature and markets topics have a
/// trending box of their own. The sample page's own story has none: the page it is read on
/// does not list it.
pub const SAMPLE_READERSHIP: &[(&str, i64)] = &[
    (
        "mexico-decries-u-s-livestock-ban-as-unilateral-and-unjustified",
        50,
    ),
    (
        "nasdaq-gains-4-4-as-tech-shares-lead-broad-market-surge",
        40,
    ),
    (
        "brent-settles-at-64-96-as-u-s-china-tariff-truce-boosts-market-optimism",
        30,
    ),
    (
        "facing-sales-slump-apple-cuts-iphone-16-pro-prices-ahead-of-chinas-618-festival",
        20,
    ),
    (
        "your-sofa-is-dirtier-than-a-toilet-heres-whats-lurking-in-the-cushions",
        10,
    ),
    (
        "rust-bulges-and-hidden-toxins-how-to-spot-dangerous-canned-goods",
        6,
    ),
    (
        "3-81-carat-diamond-found-in-arkansas-state-park-named-after-a-dog",
        4,
    ),
    (
        "from-tariff-turbulence-to-takeoff-boeing-soars-on-trade-optimism",
        2,
    ),
];

/// Records [`SAMPLE_READERSHIP`] in the hour of `now` when no view has been stored yet (load
/// the sample content first); returns the views added (0 when the database already had views).
/// `half_life` sets up the trending state when no server has yet (a server started later with
/// another half-life recomputes it, as it always does).
pub async fn seed_sample_readership(
    store: &Store,
    half_life: Duration,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    if store.total_views().await? > 0 {
        return Ok(0);
    }
    store.init_trending(half_life, now).await?;
    let slugs = SAMPLE_READERSHIP.iter().map(|(slug, _)| *slug);
    let ids: Vec<(Uuid, String)> = articles::Entity::find()
        .select_only()
        .column(articles::Column::Id)
        .column(articles::Column::Slug)
        .filter(articles::Column::Slug.is_in(slugs))
        .into_tuple()
        .all(&store.db)
        .await?;
    let hour = bucket_hour(now);
    let counts: Vec<ViewCount> = SAMPLE_READERSHIP
        .iter()
        .filter_map(|(slug, views)| {
            let (id, _) = ids.iter().find(|(_, s)| s == slug)?;
            Some(ViewCount {
                article_id: *id,
                hour,
                views: *views,
            })
        })
        .collect();
    Ok(store.record_views(&counts, now).await?.counted)
}
