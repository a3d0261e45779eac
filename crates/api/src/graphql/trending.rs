//! "Hot this week": the trending lists and the `recordView` beacon mutation.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use gazette_app::AppError;
use gazette_domain::trending;
use gazette_domain::{Slug, Topic};

use super::RequestContext;
use super::articles::ArticleNode;
use super::loaders::{Loaders, load_error};
use crate::AppState;
use crate::error::GqlResultExt as _;

/// How far back a trending list looks.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrendingWindow {
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    #[default]
    Week,
    /// The last 30 days.
    Month,
}

impl From<TrendingWindow> for trending::TrendingWindow {
    fn from(window: TrendingWindow) -> Self {
        match window {
            TrendingWindow::Day => Self::Day,
            TrendingWindow::Week => Self::Week,
            TrendingWindow::Month => Self::Month,
        }
    }
}

/// An article on a trending list.
#[derive(SimpleObject)]
pub struct TrendingArticle {
    /// The article.
    article: ArticleNode,
    /// Its score: views weighted by exponential decay (a view one half-life old counts ½).
    score: f64,
    /// Views counted in the window.
    views: i64,
}

/// The trending list for the given window and (known) topic, articles loaded in one
/// statement: [`gazette_app::App::trending`].
pub(crate) async fn trending_list(
    ctx: &Context<'_>,
    window: Option<TrendingWindow>,
    topic: Option<&Topic>,
    first: Option<i32>,
) -> Result<Vec<TrendingArticle>> {
    let state = ctx.data_unchecked::<AppState>();
    let request = ctx.data_unchecked::<RequestContext>();
    let list = state
        .app()
        .trending(
            &request.viewer,
            window.unwrap_or_default().into(),
            topic,
            first,
            request.now,
        )
        .await
        .gql()?;
    let articles: Vec<&gazette_domain::Article> = list.iter().map(|e| &e.article).collect();
    let tags = super::tags(ctx);
    tags.list("trending");
    if let Some(topic) = topic {
        tags.topic(topic.slug.as_str());
    }
    tags.articles(articles.iter().copied());
    ctx.data_unchecked::<Loaders>()
        .prefetch_for_articles(ctx.look_ahead().field("article"), &articles)
        .await
        .map_err(load_error)?;
    Ok(list
        .into_iter()
        .map(|e| TrendingArticle {
            article: ArticleNode::from(e.article),
            score: e.score,
            views: e.views,
        })
        .collect())
}

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
                ctx.data_unchecked::<Loaders>()
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

/// Complexity of a trending list: its length (`first`, default 10, at most 50) times what
/// each entry costs, plus one for the list.
pub fn trending_cost(first: Option<i32>, child: usize) -> usize {
    super::pagination::first_cost(first, 10, trending::MAX_TRENDING, child)
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
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        state.app().check_beacon_rate(request.client_ip).gql()?;
        let outcome = state
            .app()
            .record_view(
                article_id.as_ref().map(|id| id.as_str()),
                slug.as_deref(),
                visitor_id.as_deref(),
                request.client_ip,
                request.now,
            )
            .await
            .gql()?;
        Ok(RecordViewPayload {
            counted: outcome.counted(),
            reason: outcome.reason().map(str::to_owned),
        })
    }
}
