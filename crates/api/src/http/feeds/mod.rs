//! Feeds for readers and syndication partners: Atom 1.0, RSS 2.0 and JSON Feed 1.1, overall
//! (`/feeds/latest.{atom,rss,json}`) and per topic (`/feeds/topics/{slug}.{atom,rss,json}`),
//! the Google News sitemap (`/sitemap-news.xml`) and the archive sitemap (`/sitemap.xml`, an
//! index of `/sitemaps/articles-{n}.xml`).
//!
//! Storage picks the articles the caller may see (partners never get embargoed ones); the
//! domain decides, item by item, whether the caller gets the full text or the dek. Errors are
//! problem documents, like every other REST error: a `{file}` that is not a feed's or a page's
//! name is a 400 naming `file` (the OpenAPI document states both patterns), a well-formed one
//! that names nothing a 404.

mod atom;
mod json_feed;
pub mod problems;
mod rss;
pub mod schemas;
mod sitemap;
mod xml;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gazette_domain::syndication::{
    FeedContent, FeedFormat as Format, archive_sitemap_page, feed_limit, topic_feed_file,
};
use gazette_domain::{Article, Viewer};
use gazette_persistence::ArticleFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use self::json_feed::JsonFeed;
use self::problems::{
    ArchiveSitemapProblems, FeedProblems, NewsSitemapProblems, SitemapIndexProblems,
    TopicFeedProblems,
};
use self::schemas::{
    ArchiveSitemapFile, AtomFeed, FeedContentJson, FeedSize, RssFeed, SitemapIndex, SitemapUrlset,
    TopicFeedFile,
};
use super::HttpState;
use super::cache::{AttachTags as _, CacheTags};
use super::caller::Caller;
use super::rest::params::enum_param;
use crate::ApiError;

/// `?limit=` and `?content=` of every feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// How many articles, newest first: 1 to 100 (the server's `GAZETTE_FEED_ITEMS` when left
    /// out, 50 unless set).
    #[param(value_type = Option<FeedSize>, inline)]
    limit: Option<String>,
    /// `full` or `summary`, in any case. Left out, each item carries the full text where the
    /// caller is granted it (the newsroom; a partner with the `syndication` scope, for
    /// syndicatable stories out of embargo) and the dek elsewhere. `full` needs such a token
    /// (401 without one, 403 with a token that lacks the scope).
    #[param(value_type = Option<FeedContentJson>, inline)]
    content: Option<String>,
}

type Params = Result<Query<FeedParams>, axum::extract::rejection::QueryRejection>;

/// The latest articles as Atom
///
/// The newest public articles, as Atom 1.0. Each entry carries the dek as `summary` and, where
/// the caller is granted it, the full text as `content`. With a WebSub hub configured, the
/// feed names it (`atom:link rel="hub"` and the `Link` header).
#[utoipa::path(
    get,
    path = "/feeds/latest.atom",
    tag = "feeds",
    params(FeedParams),
    responses(
        (status = 200, description = "The feed", content((AtomFeed = "application/atom+xml")),
            headers(("link" = String, description = "With a WebSub hub configured: `<{hub}>; rel=\"hub\"` and `<{this feed's URL}>; rel=\"self\"`, as two values"))),
        FeedProblems,
    ),
)]
pub async fn latest_atom(state: State<HttpState>, caller: Caller, params: Params) -> Response {
    respond(feed(state, caller, None, Format::Atom, params).await)
}

/// The latest articles as RSS
///
/// The newest public articles, as RSS 2.0: the dek as `description` and, where the caller is
/// granted it, the full text as `content:encoded`.
#[utoipa::path(
    get,
    path = "/feeds/latest.rss",
    tag = "feeds",
    params(FeedParams),
    responses(
        (status = 200, description = "The feed", content((RssFeed = "application/rss+xml")),
            headers(("link" = String, description = "With a WebSub hub configured: `<{hub}>; rel=\"hub\"` and `<{this feed's URL}>; rel=\"self\"`, as two values"))),
        FeedProblems,
    ),
)]
pub async fn latest_rss(state: State<HttpState>, caller: Caller, params: Params) -> Response {
    respond(feed(state, caller, None, Format::Rss, params).await)
}

/// The latest articles as JSON Feed
///
/// The newest public articles, as JSON Feed 1.1: the dek as `summary` and `content_text`, or,
/// where the caller is granted it, the full text as `content_html`.
#[utoipa::path(
    get,
    path = "/feeds/latest.json",
    tag = "feeds",
    params(FeedParams),
    responses(
        (status = 200, description = "The feed", content((JsonFeed = "application/feed+json")),
            headers(("link" = String, description = "With a WebSub hub configured: `<{hub}>; rel=\"hub\"` and `<{this feed's URL}>; rel=\"self\"`, as two values"))),
        FeedProblems,
    ),
)]
pub async fn latest_json(state: State<HttpState>, caller: Caller, params: Params) -> Response {
    respond(feed(state, caller, None, Format::Json, params).await)
}

/// One topic's articles as a feed
///
/// The newest public articles of a topic (primary or further), in the format the file's
/// extension names: Atom 1.0, RSS 2.0 or JSON Feed 1.1, as the latest feeds.
#[utoipa::path(
    get,
    path = "/feeds/topics/{file}",
    tag = "feeds",
    params(
        ("file" = TopicFeedFile, Path, description = "The topic's slug and the format"),
        FeedParams,
    ),
    responses(
        (status = 200, description = "The topic's feed", content(
            (AtomFeed = "application/atom+xml"),
            (RssFeed = "application/rss+xml"),
            (JsonFeed = "application/feed+json"),
        ), headers(("link" = String, description = "With a WebSub hub configured: `<{hub}>; rel=\"hub\"` and `<{this feed's URL}>; rel=\"self\"`, as two values"))),
        TopicFeedProblems,
    ),
)]
pub async fn topic(
    state: State<HttpState>,
    caller: Caller,
    Path(file): Path<String>,
    params: Params,
) -> Response {
    match topic_feed_file("file", &file) {
        Ok((slug, format)) => respond(feed(state, caller, Some(slug), format, params).await),
        Err(error) => respond(Err(error.into())),
    }
}

/// The Google News sitemap
///
/// Articles published in the last two days, newest first, at most 1,000, with
/// `news:publication`, `news:publication_date` and `news:title`. With none in the window it
/// lists the newest article without news metadata (or the site's home page), as a `urlset`
/// must hold one `url`.
#[utoipa::path(
    get,
    path = "/sitemap-news.xml",
    tag = "sitemaps",
    responses(
        (status = 200, description = "The news sitemap", content((SitemapUrlset = "application/xml"))),
        NewsSitemapProblems,
    ),
)]
pub async fn news_sitemap(State(http): State<HttpState>, Caller(viewer): Caller) -> Response {
    respond(news_sitemap_document(&http, &viewer).await)
}

/// The archive sitemap's index
///
/// One `<sitemap>` a page of `/sitemaps/articles-{n}.xml`, each with the latest `lastmod` of
/// its URLs. The same for every caller: no token is read.
#[utoipa::path(
    get,
    path = "/sitemap.xml",
    tag = "sitemaps",
    security(()),
    responses(
        (status = 200, description = "The sitemap index", content((SitemapIndex = "application/xml"))),
        SitemapIndexProblems,
    ),
)]
pub async fn sitemap_index(State(http): State<HttpState>) -> Response {
    respond(sitemap_index_document(&http).await)
}

/// A page of the archive sitemap
///
/// Every public article once, in publish order, a page at a time (`GAZETTE_SITEMAP_PAGE_SIZE`
/// URLs a page), each with its `lastmod`. An empty archive's first page lists the site's home
/// page. The same for every caller: no token is read.
#[utoipa::path(
    get,
    path = "/sitemaps/{file}",
    tag = "sitemaps",
    security(()),
    params(("file" = ArchiveSitemapFile, Path, description = "The page's file name")),
    responses(
        (status = 200, description = "The page", content((SitemapUrlset = "application/xml"))),
        ArchiveSitemapProblems,
    ),
)]
pub async fn archive_sitemap(State(http): State<HttpState>, Path(file): Path<String>) -> Response {
    match archive_sitemap_page("file", &file) {
        Ok(number) => respond(archive_sitemap_document(&http, number).await),
        Err(error) => respond(Err(error.into())),
    }
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
    let content = match params.content.as_deref() {
        None => FeedContent::AsGranted,
        Some(raw) => enum_param::<FeedContentJson>("content", raw)?.into(),
    };
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
