//! The archive sitemap: an index (`/sitemap.xml`) of pages (`/sitemaps/articles-{n}.xml`)
//! that together list every article an anonymous reader may see at `now`, each once, with its
//! substantive-update time (JSON-LD's `dateModified`) as `lastmod`.
//!
//! Pages hold [`FeedsConfig::sitemap_page_size`] articles in publish order, oldest first: new
//! stories fill the last page and older pages stay as they were (a kill or an expiry moves the
//! later articles one place back, which the next crawl picks up).

use chrono::{DateTime, Utc};
use gazette_domain::Viewer;
use gazette_domain::syndication::MAX_SITEMAP_PAGES;

use super::{FeedsConfig, page_url};
use crate::{App, AppError};

/// One page as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitemapIndexEntry {
    /// The page's URL.
    pub loc: String,
    /// The latest `lastmod` of its URLs; none for the page of an empty archive.
    pub lastmod: Option<DateTime<Utc>>,
}

/// One URL of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitemapUrl {
    /// The article.
    pub article_id: uuid::Uuid,
    /// Its page on the site (canonical URL, else `{site}/articles/{slug}`).
    pub loc: String,
    /// Its last substantive update, else its publish time.
    pub lastmod: DateTime<Utc>,
}

/// The URL of archive sitemap page `number`.
pub fn sitemap_page_url(site: &FeedsConfig, number: u64) -> String {
    format!("{}/sitemaps/articles-{number}.xml", site.site_url)
}

impl App {
    /// The archive sitemap's index at `now`: one entry a page, at most 50,000 pages (beyond
    /// them, logged). An empty archive still has its first page (a sitemap index must list
    /// one), which then lists the site's home page.
    pub async fn sitemap_index(
        &self,
        site: &FeedsConfig,
        now: DateTime<Utc>,
    ) -> Result<Vec<SitemapIndexEntry>, AppError> {
        let pages = self
            .store()
            .archive_sitemap_pages(
                Viewer::Anonymous.public_visibility(now),
                site.sitemap_page_size,
                MAX_SITEMAP_PAGES,
            )
            .await?;
        if pages.len() as u64 >= MAX_SITEMAP_PAGES {
            tracing::warn!(
                pages = pages.len(),
                "the archive sitemap index lists its most pages: raise the page size"
            );
        }
        if pages.is_empty() {
            return Ok(vec![SitemapIndexEntry {
                loc: sitemap_page_url(site, 1),
                lastmod: None,
            }]);
        }
        Ok(pages
            .into_iter()
            .map(|page| SitemapIndexEntry {
                loc: sitemap_page_url(site, page.number),
                lastmod: Some(page.lastmod),
            })
            .collect())
    }

    /// Page `number` (from 1) of the archive sitemap at `now`. A page past the end is not
    /// found, except the first (empty when the archive is: the caller lists the home page).
    pub async fn sitemap_page(
        &self,
        site: &FeedsConfig,
        number: u64,
        now: DateTime<Utc>,
    ) -> Result<Vec<SitemapUrl>, AppError> {
        let entries = self
            .store()
            .archive_sitemap_page(
                Viewer::Anonymous.public_visibility(now),
                site.sitemap_page_size,
                number,
            )
            .await?;
        if entries.is_empty() && number > 1 {
            return Err(AppError::NotFound(format!(
                "sitemap page {number} (the index at /sitemap.xml lists the pages)"
            )));
        }
        Ok(entries
            .into_iter()
            .filter_map(|entry| {
                Some(SitemapUrl {
                    article_id: entry.id,
                    loc: page_url(site, entry.id, &entry.slug, entry.canonical_url.as_deref())?,
                    lastmod: entry.lastmod,
                })
            })
            .collect())
    }
}
