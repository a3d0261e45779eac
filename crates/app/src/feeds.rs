//! What goes into a feed and the news sitemap: the newest public articles for the caller,
//! each with its topics and authors, and whether the caller gets its full text.

use chrono::{DateTime, Utc};
use gazette_domain::syndication::{
    FeedContent, FullTextRefusal, NEWS_SITEMAP_MAX_URLS, NEWS_SITEMAP_WINDOW,
};
use gazette_domain::{Article, ArticleCursor, ArticleOrder, Body, Direction, PageRequest, Viewer};
use gazette_persistence::ArticleFilter;

use crate::articles::{Relations, relations};
use crate::{App, AppError};

/// A feed's articles, newest first, with their topics and authors.
#[derive(Debug, Clone)]
pub struct FeedItems {
    /// The articles, each with whether the caller gets its full text.
    pub articles: Vec<(Article, bool)>,
    /// Their topics and authors.
    pub relations: Relations,
    /// The bodies of the full-text articles (and only theirs), by article id.
    pub bodies: std::collections::HashMap<uuid::Uuid, Body>,
}

impl App {
    /// Whether `viewer` may ask for `content` (full text needs a partner with the
    /// `syndication` scope).
    pub fn check_feed_content(viewer: &Viewer, content: FeedContent) -> Result<(), AppError> {
        content.check(viewer).map_err(|refusal| match refusal {
            FullTextRefusal::Unauthenticated => AppError::Unauthenticated(refusal.to_string()),
            FullTextRefusal::Forbidden => AppError::Forbidden(refusal.to_string()),
        })
    }

    /// The newest `limit` articles under `filter` that are public for `viewer` at `now`
    /// (partners: out of embargo too), newest first by publish time.
    pub async fn newest_public(
        &self,
        viewer: &Viewer,
        filter: &ArticleFilter,
        limit: u64,
        now: DateTime<Utc>,
    ) -> Result<Vec<Article>, AppError> {
        let page = PageRequest::<ArticleCursor> {
            direction: Direction::Forward,
            limit,
            cursor: None,
        };
        Ok(self
            .store()
            .list_articles(
                filter,
                ArticleOrder::Newest,
                &page,
                viewer.public_visibility(now),
            )
            .await?
            .items)
    }

    /// A feed's items: the newest `limit` public articles under `filter`, each with whether
    /// `content` gives `viewer` its full text, and their topics and authors.
    pub async fn feed_items(
        &self,
        viewer: &Viewer,
        filter: &ArticleFilter,
        content: FeedContent,
        limit: u64,
        now: DateTime<Utc>,
    ) -> Result<FeedItems, AppError> {
        Self::check_feed_content(viewer, content)?;
        let articles = self.newest_public(viewer, filter, limit, now).await?;
        let full_text: Vec<uuid::Uuid> = articles
            .iter()
            .filter(|a| content.includes_full_text(viewer, a, now))
            .map(|a| a.id)
            .collect();
        // Only the full-text items' bodies are read, in one statement beside the relations.
        let (relations, bodies) = tokio::try_join!(
            relations(self.store(), &articles),
            self.store().article_bodies(&full_text)
        )?;
        let articles = articles
            .into_iter()
            .map(|a| {
                let full = full_text.contains(&a.id);
                (a, full)
            })
            .collect();
        Ok(FeedItems {
            articles,
            relations,
            bodies,
        })
    }

    /// The news sitemap's articles: those published in the last two days that are public
    /// for `viewer` at `now`, at most 1,000, newest first.
    pub async fn news_sitemap(
        &self,
        viewer: &Viewer,
        now: DateTime<Utc>,
    ) -> Result<Vec<Article>, AppError> {
        let filter = ArticleFilter {
            published_after: Some(now - NEWS_SITEMAP_WINDOW),
            ..ArticleFilter::default()
        };
        self.newest_public(viewer, &filter, NEWS_SITEMAP_MAX_URLS, now)
            .await
    }
}
