//! Feeds for readers and syndication partners: Atom 1.0, RSS 2.0 and JSON Feed 1.1, overall
//! (`/feeds/latest.{atom,rss,json}`) and per topic (`/feeds/topics/{slug}.{atom,rss,json}`),
//! the Google News sitemap (`/sitemap-news.xml`) and the archive sitemap (`/sitemap.xml`, an
//! index of `/sitemaps/articles-{n}.xml`).
//!
//! Storage picks the articles the caller may see (partners never get embargoed ones); the
//! domain decides, item by item, whether the caller gets the full text or the dek. Errors are
//! problem documents, like every other REST error.

mod atom;
mod json_feed;
mod rss;
mod sitemap;
mod xml;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gazette_domain::syndication::{FeedContent, feed_limit};
use gazette_domain::{Article, Viewer};
use gazette_persistence::ArticleFilter;
use serde::Deserialize;

use super::HttpState;
use super::cache::{AttachTags as _, CacheTags};
use super::caller::Caller;
use crate::ApiError;

/// A feed format, named by the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.atom`
    Atom,
    /// `.rss`
    Rss,
    /// `.json`
    Json,
}

impl Format {
    /// Splits `korea.atom` into the slug and the format; `None` for any other extension.
    fn split(file: &str) -> Option<(&str, Self)> {
        let (stem, extension) = file.rsplit_once('.')?;
        let format = match extension {
            "atom" => Self::Atom,
            "rss" => Self::Rss,
            "json" => Self::Json,
            _ => return None,
        };
        Some((stem, format))
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Atom => "atom",
            Self::Rss => "rss",
            Self::Json => "json",
        }
    }
}

/// `?limit=` and `?content=`.
#[derive(Debug, Deserialize)]
pub struct FeedParams {
    limit: Option<String>,
    content: Option<String>,
}

type Params = Result<Query<FeedParams>, axum::extract::rejection::QueryRejection>;

/// `GET /feeds/latest.atom`
pub async fn latest_atom(state: State<HttpState>, caller: Caller, params: Params) -> Response {
    respond(feed(state, caller, None, Format::Atom, params).await)
}

/// `GET /feeds/latest.rss`
pub async fn latest_rss(state: State<HttpState>, caller: Caller, params: Params) -> Response {
    respond(feed(state, caller, None, Format::Rss, params).await)
}

/// `GET /feeds/latest.json`
pub async fn latest_json(state: State<HttpState>, caller: Caller, params: Params) -> Response {
    respond(feed(state, caller, None, Format::Json, params).await)
}

/// `GET /feeds/topics/{slug}.atom|.rss|.json`: one topic's articles (primary or further).
pub async fn topic(
    state: State<HttpState>,
    caller: Caller,
    Path(file): Path<String>,
    params: Params,
) -> Response {
    let Some((slug, format)) = Format::split(&file) else {
        return ApiError::NotFound(format!(
            "feed `{file}` (a topic feed ends in .atom, .rss or .json)"
        ))
        .into_response();
    };
    respond(feed(state, caller, Some(slug), format, params).await)
}

/// `GET /sitemap-news.xml`: articles published in the last two days, newest first, at most
/// 1,000, with `news:publication`, `news:publication_date` and `news:title`.
pub async fn news_sitemap(State(http): State<HttpState>, Caller(viewer): Caller) -> Response {
    respond(news_sitemap_document(&http, &viewer).await)
}

/// `GET /sitemap.xml`: the archive sitemap's index, one `<sitemap>` a page of
/// `/sitemaps/articles-{n}.xml`, each with the latest `lastmod` of its URLs.
pub async fn sitemap_index(State(http): State<HttpState>) -> Response {
    respond(sitemap_index_document(&http).await)
}

/// `GET /sitemaps/articles-{n}.xml`: page `n` (from 1) of the archive sitemap; 404 for any
/// other name or a page past the end.
pub async fn archive_sitemap(State(http): State<HttpState>, Path(file): Path<String>) -> Response {
    let Some(number) = gazette_domain::syndication::archive_sitemap_page(&file) else {
        return ApiError::NotFound(format!(
            "sitemap `{file}` (pages are named articles-1.xml, articles-2.xml, …)"
        ))
        .into_response();
    };
    respond(archive_sitemap_document(&http, number).await)
}

/// A rendered document with its type and cache tags, or a problem.
struct Document {
    body: Vec<u8>,
    content_type: &'static str,
    tags: CacheTags,
    /// `Link` header values (WebSub's `rel="hub"` and `rel="self"`).
    links: Vec<String>,
}

fn respond(result: Result<Document, ApiError>) -> Response {
    match result {
        Ok(document) => {
            let mut response = document.body.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(document.content_type),
            );
            document.tags.attach(&mut response);
            for link in document.links {
                if let Ok(value) = HeaderValue::from_str(&link) {
                    response.headers_mut().append(header::LINK, value);
                }
            }
            response
        }
        Err(error) => {
            let unauthenticated = matches!(error, ApiError::Unauthenticated(_));
            let mut response = error.into_response();
            if unauthenticated {
                // RFC 9110: a 401 names the scheme that would be accepted.
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer scope=\"syndication\""),
                );
            }
            response
        }
    }
}

fn internal(error: &(dyn std::error::Error + 'static)) -> ApiError {
    ApiError::internal(error)
}

async fn feed(
    State(http): State<HttpState>,
    Caller(viewer): Caller,
    topic: Option<&str>,
    format: Format,
    params: Params,
) -> Result<Document, ApiError> {
    let Ok(Query(params)) = params else {
        return Err(ApiError::BadRequest("malformed query string".to_owned()));
    };
    let site = &http.app.config().feeds;
    let limit = feed_limit("limit", params.limit.as_deref(), site.default_items)?;
    let content = FeedContent::parse("content", params.content.as_deref())?;
    let feed = http
        .app
        .app()
        .feed(
            &viewer,
            site,
            topic,
            content,
            limit,
            format.extension(),
            http.app.now(),
        )
        .await?;
    let mut tags = CacheTags::new();
    match &feed.topic {
        None => tags.list("latest"),
        Some(slug) => tags.topic(slug),
    };
    for item in &feed.items {
        tags.article(item.article_id);
    }
    let (body, content_type) = match format {
        Format::Atom => (
            xml::writable(atom::render(&feed).map_err(|e| internal(&e))?),
            atom::CONTENT_TYPE,
        ),
        Format::Rss => (
            xml::writable(rss::render(&feed).map_err(|e| internal(&e))?),
            rss::CONTENT_TYPE,
        ),
        Format::Json => (
            json_feed::render(&feed).map_err(|e| internal(&e))?,
            json_feed::CONTENT_TYPE,
        ),
    };
    // WebSub discovery (W3C WebSub §4): the hub and the feed's own URL, as headers too.
    let links = match &feed.hub {
        Some(hub) => vec![
            format!("<{hub}>; rel=\"hub\""),
            format!("<{}>; rel=\"self\"", feed.self_url),
        ],
        None => Vec::new(),
    };
    Ok(Document {
        body,
        content_type,
        tags,
        links,
    })
}

async fn news_sitemap_document(http: &HttpState, viewer: &Viewer) -> Result<Document, ApiError> {
    let now = http.app.now();
    let app = http.app.app();
    let site = &http.app.config().feeds;
    let recent = app.news_sitemap(viewer, now).await?;
    let mut entries = sitemap::news_entries(site, &recent);
    let mut shown: Vec<&Article> = recent.iter().collect();
    // A urlset must hold at least one url (sitemap.xsd): with nothing written in the window,
    // list the newest article without news metadata, as Google asks of stories older than two
    // days, or the site's home page when there is none.
    let older;
    if entries.is_empty() {
        older = app
            .newest_public(viewer, &ArticleFilter::default(), 1, now)
            .await?;
        entries = sitemap::plain_entries(site, &older);
        shown = older.iter().collect();
    }
    let body = xml::writable(sitemap::render(entries).map_err(|e| internal(&*e))?);
    let mut tags = CacheTags::new();
    tags.list("latest");
    for article in shown {
        tags.article(article.id);
    }
    Ok(Document {
        body,
        content_type: sitemap::CONTENT_TYPE,
        tags,
        links: Vec::new(),
    })
}

async fn sitemap_index_document(http: &HttpState) -> Result<Document, ApiError> {
    let site = &http.app.config().feeds;
    let pages = http.app.app().sitemap_index(site, http.app.now()).await?;
    let body = xml::writable(sitemap::render_index(&pages).map_err(|e| internal(&*e))?);
    let mut tags = CacheTags::new();
    tags.list("latest").list("archive");
    Ok(Document {
        body,
        content_type: sitemap::CONTENT_TYPE,
        tags,
        links: Vec::new(),
    })
}

async fn archive_sitemap_document(http: &HttpState, number: u64) -> Result<Document, ApiError> {
    let site = &http.app.config().feeds;
    let urls = http
        .app
        .app()
        .sitemap_page(site, number, http.app.now())
        .await?;
    let entries = sitemap::archive_entries(site, &urls);
    let body = xml::writable(sitemap::render(entries).map_err(|e| internal(&*e))?);
    // Article tags beyond the header's room are dropped, list tags kept (`cache.rs`).
    let mut tags = CacheTags::new();
    tags.list("latest").list("archive");
    for url in &urls {
        tags.article(url.article_id);
    }
    Ok(Document {
        body,
        content_type: sitemap::CONTENT_TYPE,
        tags,
        links: Vec::new(),
    })
}
