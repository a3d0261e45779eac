//! What goes into a feed and the news sitemap: the newest public articles for the caller,
//! each with its topics and authors, and whether the caller gets its full text.

use chrono::{DateTime, Utc};
use gazette_domain::syndication::{
    FeedContent, FullTextRefusal, NEWS_SITEMAP_MAX_URLS, NEWS_SITEMAP_WINDOW,
};
use gazette_domain::{
    Article, ArticleCursor, ArticleOrder, Body, Direction, PageRequest, Slug, Viewer,
};
use gazette_persistence::{ArticleFilter, ArticleList, LookupExtras};

mod model;
mod sitemaps;

pub use model::{Feed, FeedsConfig, Item, ItemTopic, article_url, page_url, urn};
pub use sitemaps::{SitemapIndexEntry, SitemapUrl};

/// The extensions of the feed formats (Atom, RSS, JSON Feed), as their URLs end.
pub const FEED_EXTENSIONS: [&str; 3] = ["atom", "rss", "json"];

/// The URL of a feed under `site`: `/feeds/latest.{extension}`, or
/// `/feeds/topics/{slug}.{extension}` for a topic's.
pub fn feed_url(site: &FeedsConfig, topic: Option<&str>, extension: &str) -> String {
    match topic {
        None => format!("{}/feeds/latest.{extension}", site.site_url),
        Some(slug) => format!("{}/feeds/topics/{slug}.{extension}", site.site_url),
    }
}

use crate::articles::Relations;
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
        Ok(self
            .newest_public_list(viewer, filter, limit, now, LookupExtras::default())
            .await?
            .page
            .items)
    }

    /// [`App::newest_public`], with each article's topic and author ids as `extras` asks.
    async fn newest_public_list(
        &self,
        viewer: &Viewer,
        filter: &ArticleFilter,
        limit: u64,
        now: DateTime<Utc>,
        extras: LookupExtras,
    ) -> Result<ArticleList, AppError> {
        let page = PageRequest::<ArticleCursor> {
            direction: Direction::Forward,
            limit,
            cursor: None,
        };
        let visibility = viewer.public_visibility(now);
        Ok(self
            .store()
            .list_articles(filter, ArticleOrder::Newest, &page, visibility, extras)
            .await?)
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
        let ids = LookupExtras {
            topic_ids: true,
            author_ids: true,
            body: false,
        };
        let mut listed = self
            .newest_public_list(viewer, filter, limit, now, ids)
            .await?;
        let listed_ids = crate::ListedIds::of(&mut listed);
        let articles = listed.page.items;
        let full_text: Vec<uuid::Uuid> = articles
            .iter()
            .filter(|a| content.includes_full_text(viewer, a, now))
            .map(|a| a.id)
            .collect();
        // Only the full-text items' bodies are read, in one statement beside the relations.
        let (relations, bodies) = tokio::try_join!(
            self.relations(&articles, listed_ids),
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

impl FeedItems {
    /// The feed items of the selected articles with their bylines and topics (the body only
    /// where the caller gets the full text).
    fn items(&self, site: &FeedsConfig) -> Vec<Item> {
        self.articles
            .iter()
            .filter_map(|(article, full_text)| {
                let (topics, authors) = self.relations.of(article);
                let body = self.bodies.get(&article.id).filter(|_| *full_text);
                Item::new(site, article, authors, topics, body)
            })
            .collect()
    }
}

impl App {
    /// The feed `viewer` gets of `topic` (a slug as requested; every topic when `None`) at
    /// `now`: its newest `limit` public articles with `content` (full text needs a partner
    /// with the `syndication` scope), titled and linked under `site`; `extension` names the
    /// format in the feed's own URL. An unknown or malformed topic is not found.
    #[allow(clippy::too_many_arguments)]
    pub async fn feed(
        &self,
        viewer: &Viewer,
        site: &FeedsConfig,
        topic: Option<&str>,
        content: FeedContent,
        limit: u64,
        extension: &str,
        now: DateTime<Utc>,
    ) -> Result<Feed, AppError> {
        Self::check_feed_content(viewer, content)?;
        let topic = match topic {
            None => None,
            // A malformed slug names no topic either: the same 404.
            Some(raw) => Some(
                self.topic(&Slug::parse(raw).map_err(|_| AppError::unknown_topic(raw))?)
                    .await?,
            ),
        };
        let filter = ArticleFilter {
            topic: topic.as_ref().map(|t| t.slug.clone()),
            ..ArticleFilter::default()
        };
        let items = self
            .feed_items(viewer, &filter, content, limit, now)
            .await?
            .items(site);
        let self_url = feed_url(site, topic.as_ref().map(|t| t.slug.as_str()), extension);
        let (title, description) = match &topic {
            None => (
                format!("{}: latest", site.site_name),
                format!("The latest stories from {}", site.site_name),
            ),
            Some(t) if !t.description.trim().is_empty() => (
                format!("{}: {}", site.site_name, t.name.as_str()),
                t.description.clone(),
            ),
            Some(t) => (
                format!("{}: {}", site.site_name, t.name.as_str()),
                format!("Stories on {} from {}", t.name.as_str(), site.site_name),
            ),
        };
        Ok(Feed {
            id: self_url.clone(),
            title,
            description,
            home_url: site.site_url.clone(),
            self_url,
            hub: site.websub_hub.clone(),
            language: site.language.clone(),
            updated: items.iter().map(|i| i.updated).max().unwrap_or(now),
            topic: topic.map(|t| t.slug.as_str().to_owned()),
            items,
        })
    }
}

impl App {
    /// The URLs of the feeds a batch of changes (as a reader's live stream gives them) alters,
    /// in every format: the latest feeds whenever anything changed, and the feeds of each
    /// changed article's topics (a removed article's topics are read, one statement). A story
    /// moved out of a topic is not announced on the topic it left: the log names only where
    /// it is now.
    pub async fn touched_feeds(
        &self,
        site: &FeedsConfig,
        entries: &[crate::changes::ChangeEntry],
        relations: &Relations,
    ) -> Result<std::collections::BTreeSet<String>, AppError> {
        use crate::changes::Change;
        let mut topics: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let mut removed = Vec::new();
        for entry in entries {
            match &entry.change {
                Change::Upsert(article) => {
                    let (listed, _) = relations.of(article);
                    topics.extend(listed.into_iter().map(|t| t.slug.as_str().to_owned()));
                }
                Change::Remove(_) => removed.push(entry.article_id),
            }
        }
        if !removed.is_empty() {
            for listed in self.store().topics_of_articles(&removed).await?.values() {
                topics.extend(listed.iter().map(|t| t.slug.as_str().to_owned()));
            }
        }
        let mut urls = std::collections::BTreeSet::new();
        if entries.is_empty() {
            return Ok(urls);
        }
        for extension in FEED_EXTENSIONS {
            urls.insert(feed_url(site, None, extension));
            for slug in &topics {
                urls.insert(feed_url(site, Some(slug), extension));
            }
        }
        Ok(urls)
    }
}
