//! One feed in a format-neutral shape (what the Atom, RSS and JSON Feed writers each render),
//! and what the publication says about itself in every feed and the news sitemap.

use chrono::{DateTime, Utc};
use gazette_domain::values::MAX_SLUG_LEN;
use gazette_domain::{Article, Author, Body, CanonicalUrl, Language, Topic, ValidationError};

/// What feeds and the news sitemap say about the publication.
#[derive(Debug, Clone)]
pub struct FeedsConfig {
    /// The publisher's site, absolute, without a trailing `/`: feeds name themselves under it
    /// and link an article without a canonical URL to `{site_url}/articles/{slug}`.
    pub site_url: String,
    /// The publication's name (feed titles, `news:publication`).
    pub site_name: String,
    /// The publication's language tag (feeds, `news:language`).
    pub language: String,
    /// Items in a feed when the request gives no `limit`.
    pub default_items: u64,
    /// The publisher's logo (absolute http(s) URL), for structured data; none by default.
    pub logo_url: Option<String>,
    /// Articles in one page of the archive sitemap (1 to 50,000; 50,000 by default).
    pub sitemap_page_size: u64,
    /// The WebSub hub feeds name and publications ping (absolute http(s) URL); none by default.
    pub websub_hub: Option<String>,
}

impl Default for FeedsConfig {
    fn default() -> Self {
        Self {
            site_url: "http://127.0.0.1:8080".to_owned(),
            site_name: "Gazette".to_owned(),
            language: "en".to_owned(),
            default_items: gazette_domain::syndication::DEFAULT_FEED_ITEMS,
            logo_url: None,
            sitemap_page_size: gazette_domain::syndication::MAX_SITEMAP_PAGE_URLS,
            websub_hub: None,
        }
    }
}

impl FeedsConfig {
    /// Checked settings: an absolute http(s) site URL (a trailing `/` is dropped), a name, a
    /// language tag, and a default length from 1 to the most a request may ask for.
    pub fn new(
        site_url: &str,
        site_name: &str,
        language: &str,
        default_items: u64,
    ) -> Result<Self, ValidationError> {
        let site_url = CanonicalUrl::parse_field("site URL", site_url)?;
        // `{site}/articles/{slug}` must fit where every article URL goes (a sitemap's `loc`).
        let longest_link = site_url.as_str().len() + "/articles/".len() + MAX_SLUG_LEN;
        if longest_link > CanonicalUrl::MAX_LEN {
            return Err(ValidationError::new(
                "site URL",
                format!(
                    "must be at most {} bytes, so article links fit in a sitemap",
                    CanonicalUrl::MAX_LEN - "/articles/".len() - MAX_SLUG_LEN
                ),
            ));
        }
        let site_name = site_name.trim();
        if site_name.is_empty() || site_name.chars().count() > 200 {
            return Err(ValidationError::new(
                "site name",
                "must be 1 to 200 characters",
            ));
        }
        let language = Language::parse(language.trim())
            .map_err(|e| ValidationError::new("site language", e.message))?;
        let max = gazette_domain::syndication::MAX_FEED_ITEMS;
        if !(1..=max).contains(&default_items) {
            return Err(ValidationError::new(
                "feed items",
                format!("must be from 1 to {max}"),
            ));
        }
        Ok(Self {
            site_url: site_url.as_str().trim_end_matches('/').to_owned(),
            site_name: site_name.to_owned(),
            language: language.as_str().to_owned(),
            default_items,
            logo_url: None,
            sitemap_page_size: gazette_domain::syndication::MAX_SITEMAP_PAGE_URLS,
            websub_hub: None,
        })
    }

    /// These settings with the publisher's logo at `url` (an absolute http(s) URL), or none.
    pub fn with_logo(mut self, url: Option<&str>) -> Result<Self, ValidationError> {
        self.logo_url = url
            .map(|url| CanonicalUrl::parse_field("publisher logo URL", url.trim()))
            .transpose()?
            .map(|url| url.as_str().to_owned());
        Ok(self)
    }

    /// These settings with `size` articles a page of the archive sitemap (1 to 50,000).
    pub fn with_sitemap_page_size(mut self, size: u64) -> Result<Self, ValidationError> {
        let max = gazette_domain::syndication::MAX_SITEMAP_PAGE_URLS;
        if !(1..=max).contains(&size) {
            return Err(ValidationError::new(
                "sitemap page size",
                format!("must be from 1 to {max}"),
            ));
        }
        self.sitemap_page_size = size;
        Ok(self)
    }

    /// These settings with the WebSub hub at `url` (an absolute http(s) URL), or none.
    pub fn with_websub_hub(mut self, url: Option<&str>) -> Result<Self, ValidationError> {
        self.websub_hub = url
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(|url| CanonicalUrl::parse_field("WebSub hub URL", url))
            .transpose()?
            .map(|url| url.as_str().to_owned());
        Ok(self)
    }
}

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
    /// The WebSub hub that announces the feed's updates, when one is configured.
    pub hub: Option<String>,
    /// Language tag.
    pub language: String,
    /// The newest item's update, or the request's instant for an empty feed.
    pub updated: DateTime<Utc>,
    /// The topic's slug, for a topic's feed.
    pub topic: Option<String>,
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

/// The stable identifier of a Gazette article or topic outside the API: `urn:uuid:<id>`. It
/// survives edits and renames; feeds (`id`, `guid`) and ninjs (`uri`) both name articles by it.
pub fn urn(id: uuid::Uuid) -> String {
    id.urn().to_string()
}

/// The page of an article on the publisher's site: its canonical URL, else
/// `{site}/articles/{slug}`. `None`, logged, when it is longer than any feed or sitemap may
/// carry (a row saved before the limit was aligned with the sitemap's): the documents then
/// leave that one article out rather than fail for everyone.
pub fn article_url(site: &FeedsConfig, article: &Article) -> Option<String> {
    page_url(
        site,
        article.id,
        article.slug.as_str(),
        article.canonical_url.as_ref().map(CanonicalUrl::as_str),
    )
}

/// [`article_url`] of the article `id` from its slug and canonical URL alone.
pub fn page_url(
    site: &FeedsConfig,
    id: uuid::Uuid,
    slug: &str,
    canonical_url: Option<&str>,
) -> Option<String> {
    let url = canonical_url.map_or_else(
        || format!("{}/articles/{slug}", site.site_url),
        str::to_owned,
    );
    if url.len() > CanonicalUrl::MAX_LEN {
        tracing::warn!(
            article = %id,
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
            id: urn(article.id),
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
