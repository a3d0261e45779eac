//! "Hot this week": the trending query and the `recordView` beacon mutation (the trending
//! entry type and list are in [`super::objects`]).

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use gazette_app::AppError;
use gazette_domain::Slug;

use super::ContextExt as _;
use super::loaders::load_error;
use super::objects::{TrendingArticle, TrendingWindow, trending_cost, trending_list};
use crate::error::GqlResultExt as _;

/// Trending reads.
#[derive(Default)]
pub struct TrendingQuery;

#[Object]
impl TrendingQuery {
    /// The most-read public articles of the window (default WEEK), optionally of one topic:
    /// `first` (default 10) at most 50. Cached for a few seconds. A `topic` that does not
    /// exist is a `NOT_FOUND` error and null, as `GET /v1/trending?topic=` answers 404.
    #[graphql(complexity = "trending_cost(first, child_complexity)")]
    async fn trending(
        &self,
        ctx: &Context<'_>,
        window: Option<TrendingWindow>,
        topic: Option<String>,
        first: Option<i32>,
    ) -> Result<Option<Vec<TrendingArticle>>> {
        let topic = topic
            .as_deref()
            .map(|t| Slug::parse_field("topic", t))
            .transpose()
            .gql()?;
        let topic = match topic {
            // Every `trending(topic:)` of the request is looked up in one statement; an
            // unknown topic is the use case's one error, and never reaches the trending cache.
            Some(slug) => Some(
                ctx.loaders()
                    .topic_by_slug
                    .load_one(slug.clone())
                    .await
                    .map_err(load_error)?
                    .ok_or_else(|| AppError::unknown_topic(&slug))
                    .gql()?,
            ),
            None => None,
        };
        trending_list(ctx, window, topic.as_ref(), first)
            .await
            .map(Some)
    }
}

/// What became of a recorded view.
#[derive(SimpleObject)]
pub struct RecordViewPayload {
    /// Whether the view was counted.
    counted: bool,
    /// Why not, when it was not (a repeat, or no public article).
    reason: Option<String>,
}

/// The beacon as a mutation.
#[derive(Default)]
pub struct ViewMutation;

#[Object]
impl ViewMutation {
    /// Records that the article (by `articleId` or `slug`) was read. Answers at once; views are
    /// written in batches. A `visitorId` reading the same article again within 30 minutes
    /// counts once; without one, an address counts once per article in that time; and one
    /// address counts at most a configured number of views of an article in it, whatever
    /// visitor ids it sends. Anyone may call it; each address is rate-limited.
    async fn record_view(
        &self,
        ctx: &Context<'_>,
        article_id: Option<ID>,
        slug: Option<String>,
        visitor_id: Option<String>,
    ) -> Result<RecordViewPayload> {
        let state = ctx.app_state();
        let request = ctx.request_context();
        state.app().check_beacon_rate(request.client_ip).gql()?;
        let outcome = state
            .app()
            .record_view(
                article_id.as_ref().map(|id| id.as_str()),
                slug.as_deref(),
                visitor_id.as_deref(),
                request.client_ip,
                request.now(),
            )
            .await
            .gql()?;
        Ok(RecordViewPayload {
            counted: outcome.counted(),
            reason: outcome.reason().map(str::to_owned),
        })
    }
}
