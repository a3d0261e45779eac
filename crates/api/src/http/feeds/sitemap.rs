//! The Google News sitemap (`urlset` with the `news:` extension), written by `sitemap-rs`,
//! which also enforces Google's limit of 1,000 news URLs per sitemap.

use chrono::{DateTime, Utc};
use gazette_domain::Article;
use sitemap_rs::jiff::Timestamp;
use sitemap_rs::jiff::tz::TimeZone;
use sitemap_rs::news::{News, Publication};
use sitemap_rs::url::Url;
use sitemap_rs::url_set::UrlSet;

use super::model::article_url;
use crate::FeedsConfig;

/// `Content-Type` of the sitemap.
pub const CONTENT_TYPE: &str = "application/xml; charset=utf-8";

/// A failure to write the sitemap (a fault of ours, never of the request).
pub type SitemapError = Box<dyn std::error::Error + Send + Sync>;

fn zoned(t: DateTime<Utc>) -> Result<sitemap_rs::jiff::Zoned, SitemapError> {
    Ok(Timestamp::from_second(t.timestamp())?.to_zoned(TimeZone::UTC))
}

/// The news sitemap of `articles` (published in the last two days, newest first).
pub fn render(site: &FeedsConfig, articles: &[Article]) -> Result<Vec<u8>, SitemapError> {
    let urls = articles
        .iter()
        .map(|article| {
            let published = article.published_at.unwrap_or(article.created_at);
            let updated = article.substantive_updated_at.unwrap_or(published);
            Ok(Url::new(
                article_url(site, article),
                Vec::new(),
                Some(zoned(updated)?),
                None,
                None,
                None,
                None,
                Some(News::new(
                    Publication::new(site.site_name.clone(), site.language.clone()),
                    zoned(published)?,
                    article.headline.as_str().to_owned(),
                )),
            )?)
        })
        .collect::<Result<Vec<Url>, SitemapError>>()?;
    let mut out = Vec::new();
    UrlSet::new(urls)?.write(&mut out)?;
    Ok(out)
}
