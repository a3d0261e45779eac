//! The Google News sitemap (`urlset` with the `news:` extension) and the archive sitemap (a
//! `sitemapindex` of plain `urlset` pages), written by `sitemap-rs`, which also enforces the
//! limits of 1,000 news URLs per sitemap, 50,000 URLs per `urlset` and 50,000 sitemaps per index.
//!
//! An article the writer refuses (a URL longer than a sitemap may carry, say) is left out and
//! logged; the others are still listed. A `urlset` must hold at least one `url`
//! (sitemap.xsd), so a window with nothing in it lists the newest article without news
//! metadata (Google's own advice for stories older than two days), or the site's home page.

use chrono::{DateTime, Utc};
use gazette_domain::Article;
use sitemap_rs::jiff::Timestamp;
use sitemap_rs::jiff::tz::TimeZone;
use sitemap_rs::news::{News, Publication};
use sitemap_rs::sitemap::Sitemap;
use sitemap_rs::sitemap_index::SitemapIndex;
use sitemap_rs::url::Url;
use sitemap_rs::url_set::UrlSet;

use crate::FeedsConfig;
use gazette_app::feeds::{SitemapIndexEntry, SitemapUrl, article_url};

/// `Content-Type` of the sitemap.
pub const CONTENT_TYPE: &str = "application/xml; charset=utf-8";

/// A failure to write the sitemap (a fault of ours, never of the request).
pub type SitemapError = Box<dyn std::error::Error + Send + Sync>;

fn zoned(t: DateTime<Utc>) -> Result<sitemap_rs::jiff::Zoned, SitemapError> {
    Ok(Timestamp::from_second(t.timestamp())?.to_zoned(TimeZone::UTC))
}

/// The `url` of one article, with news metadata when `news`.
fn entry(site: &FeedsConfig, article: &Article, news: bool) -> Result<Url, SitemapError> {
    let location = article_url(site, article).ok_or("URL too long for a sitemap")?;
    let published = article.published_at.unwrap_or(article.created_at);
    let updated = article.substantive_updated_at.unwrap_or(published);
    let news = if news {
        Some(News::new(
            Publication::new(site.site_name.clone(), site.language.clone()),
            zoned(published)?,
            article.headline.as_str().to_owned(),
        ))
    } else {
        None
    };
    Ok(Url::new(
        location,
        Vec::new(),
        Some(zoned(updated)?),
        None,
        None,
        None,
        None,
        news,
    )?)
}

/// The entries of `articles` that can be written, each logged and left out otherwise.
fn entries(site: &FeedsConfig, articles: &[Article], news: bool) -> Vec<Url> {
    articles
        .iter()
        .filter_map(|article| match entry(site, article, news) {
            Ok(url) => Some(url),
            Err(error) => {
                tracing::warn!(article = %article.id, %error, "article left out of the news sitemap");
                None
            }
        })
        .collect()
}

/// The news entries of `articles` (published in the last two days, newest first).
pub fn news_entries(site: &FeedsConfig, articles: &[Article]) -> Vec<Url> {
    entries(site, articles, true)
}

/// Entries without news metadata for `articles` (the newest older story), or the site's
/// home page when none can be written: what a sitemap lists when its window is empty.
pub fn plain_entries(site: &FeedsConfig, articles: &[Article]) -> Vec<Url> {
    let listed = entries(site, articles, false);
    if !listed.is_empty() {
        return listed;
    }
    // The site URL is checked at start to fit in a sitemap.
    Url::new(
        format!("{}/", site.site_url),
        Vec::new(),
        None,
        None,
        None,
        None,
        None,
        None,
    )
    .map(|home| vec![home])
    .unwrap_or_default()
}

/// The sitemap document of `entries`.
pub fn render(entries: Vec<Url>) -> Result<Vec<u8>, SitemapError> {
    let mut out = Vec::new();
    UrlSet::new(entries)?.write(&mut out)?;
    Ok(out)
}

/// The entries of an archive sitemap page (each logged and left out when it cannot be
/// written), or the site's home page when there are none (an empty archive's first page).
pub fn archive_entries(site: &FeedsConfig, urls: &[SitemapUrl]) -> Vec<Url> {
    let listed: Vec<Url> = urls
        .iter()
        .filter_map(|url| {
            let written = zoned(url.lastmod).and_then(|lastmod| {
                Ok(Url::new(
                    url.loc.clone(),
                    Vec::new(),
                    Some(lastmod),
                    None,
                    None,
                    None,
                    None,
                    None,
                )?)
            });
            match written {
                Ok(entry) => Some(entry),
                Err(error) => {
                    tracing::warn!(article = %url.article_id, %error, "article left out of the archive sitemap");
                    None
                }
            }
        })
        .collect();
    if listed.is_empty() {
        plain_entries(site, &[])
    } else {
        listed
    }
}

/// The archive sitemap's index document.
pub fn render_index(pages: &[SitemapIndexEntry]) -> Result<Vec<u8>, SitemapError> {
    let sitemaps = pages
        .iter()
        .map(|page| -> Result<Sitemap, SitemapError> {
            Ok(Sitemap::new(
                page.loc.clone(),
                page.lastmod.map(zoned).transpose()?,
            ))
        })
        .collect::<Result<Vec<_>, SitemapError>>()?;
    let mut out = Vec::new();
    SitemapIndex::new(sitemaps)?.write(&mut out)?;
    Ok(out)
}
