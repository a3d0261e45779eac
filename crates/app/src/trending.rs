//! Trending lists and the view beacon, as every surface asks for them.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use gazette_domain::trending::{DEFAULT_TRENDING, TrendingWindow, trending_limit};
use gazette_domain::{Article, Slug, Topic, Viewer};
use uuid::Uuid;

use crate::views::{ArticleRef, ViewOutcome, visitor_id};
use crate::{App, AppError};

/// An article on a trending list.
#[derive(Debug, Clone)]
pub struct TrendingEntry {
    /// The article.
    pub article: Article,
    /// Views weighted by exponential decay (a view one half-life old counts ½).
    pub score: f64,
    /// Views counted in the window.
    pub views: i64,
}

impl App {
    /// The most-read articles of `window` that `viewer` may see in public lists at `now`,
    /// optionally of one `topic`: `first` (default 10) at most 50. The topic is the [`Topic`]
    /// itself: an unknown topic was refused before (see [`App::trending_by_slug`]) and never
    /// reaches the trending cache. The list's ids come from the trending cache, their rows
    /// from [`App::articles_by_ids`] (kept for the content generation).
    pub async fn trending(
        &self,
        viewer: &Viewer,
        window: TrendingWindow,
        topic: Option<&Topic>,
        first: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<Vec<TrendingEntry>, AppError> {
        let limit = trending_limit("first", first.unwrap_or(DEFAULT_TRENDING))?;
        let list = self.views().trending(window, topic, limit, now).await?;
        let ids: Vec<Uuid> = list.iter().map(|c| c.article_id).collect();
        // Articles that stopped being public since the list was cached, and embargoed ones
        // for partners, are left out.
        let mut articles = self
            .articles_by_ids(&ids, viewer.public_visibility(now))
            .await?;
        Ok(list
            .iter()
            .filter_map(|c| {
                Some(TrendingEntry {
                    article: articles.remove(&c.article_id)?,
                    score: c.score,
                    views: c.views,
                })
            })
            .collect())
    }

    /// [`App::trending`] of a topic named by slug: `first` is checked first, then an unknown
    /// topic is [`AppError::unknown_topic`] (REST's 404, GraphQL's `NOT_FOUND`).
    pub async fn trending_by_slug(
        &self,
        viewer: &Viewer,
        window: TrendingWindow,
        topic: Option<&Slug>,
        first: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<Vec<TrendingEntry>, AppError> {
        trending_limit("first", first.unwrap_or(DEFAULT_TRENDING))?;
        let topic = match topic {
            Some(slug) => Some(self.topic(slug).await?),
            None => None,
        };
        self.trending(viewer, window, topic.as_ref(), first, now)
            .await
    }

    /// Whether `client` may send another beacon now; refused with how long to wait.
    pub fn check_beacon_rate(&self, client: IpAddr) -> Result<(), AppError> {
        self.views()
            .check_rate(client)
            .map_err(|wait| AppError::RateLimited {
                retry_after_secs: wait.as_secs() + 1,
            })
    }

    /// Records a view of the article named by `article_id` or `slug` (exactly one) from
    /// `client`, with an optional visitor id: the one beacon of REST and GraphQL.
    pub async fn record_view(
        &self,
        article_id: Option<&str>,
        slug: Option<&str>,
        visitor: Option<&str>,
        client: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<ViewOutcome, AppError> {
        let article = ArticleRef::from_parts(article_id, slug)?;
        let visitor = visitor_id(visitor)?;
        Ok(self.views().record(&article, visitor, client, now).await?)
    }
}
