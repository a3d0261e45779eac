//! One feed in a format-neutral shape: what the Atom, RSS and JSON Feed writers each render.

use chrono::{DateTime, Utc};
use gazette_domain::{Article, Author, Body, CanonicalUrl, Topic};

use crate::FeedsConfig;

/// A feed: its own metadata and its items, newest first.
#[derive(Debug, Clone)]
pub struct Feed {
    /// Stable feed id (its canonical self URL).
    pub id: String,
    /// Title.
    pub title: String,
    /// One line about it.
    pub description: String,
    /// The publisher's site.
    pub home_url: String,
    /// Where the feed itself is.
    pub self_url: String,
    /// Language tag.
    pub language: String,
    /// The newest item's update, or the request's instant for an empty feed.
    pub updated: DateTime<Utc>,
    /// The items.
    pub items: Vec<Item>,
}

/// One article in a feed.
#[derive(Debug, Clone)]
pub struct Item {
    /// The article's id.
    pub article_id: uuid::Uuid,
    /// Stable across edits and slug changes: `urn:uuid:<id>`.
    pub id: String,
    /// The article's page: its canonical URL, else `{site}/articles/{slug}`.
    pub url: String,
    /// Headline.
    pub title: String,
    /// Dek.
    pub summary: String,
    /// The body as HTML, only where the caller is granted full text.
    pub content_html: Option<String>,
    /// When it went live.
    pub published: DateTime<Utc>,
    /// Its last substantive change, else its publish time.
    pub updated: DateTime<Utc>,
    /// Byline names, in order.
    pub authors: Vec<String>,
    /// Topics, the primary one first.
    pub topics: Vec<ItemTopic>,
    /// Language tag.
    pub language: String,
}

/// A topic as a feed category.
#[derive(Debug, Clone)]
pub struct ItemTopic {
    /// Slug (the category term).
    pub slug: String,
    /// Display name (the label).
    pub name: String,
}

/// The page of an article on the publisher's site: its canonical URL, else
/// `{site}/articles/{slug}`. `None`, logged, when it is longer than any feed or sitemap may
/// carry (a row saved before the limit was aligned with the sitemap's): the documents then
/// leave that one article out rather than fail for everyone.
pub fn article_url(site: &FeedsConfig, article: &Article) -> Option<String> {
    let url = article.canonical_url.as_ref().map_or_else(
        || format!("{}/articles/{}", site.site_url, article.slug),
        |url| url.as_str().to_owned(),
    );
    if url.len() > CanonicalUrl::MAX_LEN {
        tracing::warn!(
            article = %article.id,
            bytes = url.len(),
            "article left out of feeds and the sitemap: its URL is longer than they may carry"
        );
        return None;
    }
    Some(url)
}

impl Item {
    /// The feed item of `article`, with `body` when given (the full text, which the
    /// syndication rules decide for the caller); `None` when the article cannot be written in a feed (see
    /// [`article_url`]).
    pub fn new(
        site: &FeedsConfig,
        article: &Article,
        authors: Vec<&Author>,
        topics: Vec<&Topic>,
        body: Option<&Body>,
    ) -> Option<Self> {
        let published = article.published_at.unwrap_or(article.created_at);
        let url = article_url(site, article)?;
        Some(Self {
            article_id: article.id,
            id: format!("urn:uuid:{}", article.id),
            url,
            title: article.headline.as_str().to_owned(),
            summary: article.dek.as_str().to_owned(),
            content_html: body.map(Body::to_html),
            published,
            updated: article.substantive_updated_at.unwrap_or(published),
            authors: authors
                .into_iter()
                .map(|a| a.name.as_str().to_owned())
                .collect(),
            topics: topics
                .into_iter()
                .map(|t| ItemTopic {
                    slug: t.slug.as_str().to_owned(),
                    name: t.name.as_str().to_owned(),
                })
                .collect(),
            language: article.language.as_str().to_owned(),
        })
    }
}
