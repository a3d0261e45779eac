//! Feeds for readers and syndication partners: Atom 1.0, RSS 2.0 and JSON Feed 1.1, overall
//! (`/feeds/latest.{atom,rss,json}`) and per topic (`/feeds/topics/{slug}.{atom,rss,json}`),
//! and the Google News sitemap (`/sitemap-news.xml`).
//!
//! Storage picks the articles the caller may see (partners never get embargoed ones); the
//! domain decides, item by item, whether the caller gets the full text or the dek. Errors are
//! problem documents, like every other REST error.

mod atom;
mod json_feed;
mod model;
mod rss;
mod sitemap;
mod xml;

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use gazette_domain::syndication::{
    FeedContent, FullTextRefusal, NEWS_SITEMAP_MAX_URLS, NEWS_SITEMAP_WINDOW, feed_limit,
};
use gazette_domain::{
    Article, ArticleCursor, ArticleOrder, Direction, PageRequest, Slug, Topic, Viewer,
};
use gazette_persistence::ArticleFilter;
use serde::Deserialize;

use self::model::{Feed, Item};
use super::HttpState;
use super::cache::CacheTags;
use super::rest::Caller;
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

/// A rendered document with its type and cache tags, or a problem.
struct Document {
    body: Vec<u8>,
    content_type: &'static str,
    tags: CacheTags,
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
    topic_slug: Option<&str>,
    format: Format,
    params: Params,
) -> Result<Document, ApiError> {
    let Ok(Query(params)) = params else {
        return Err(ApiError::BadRequest("malformed query string".to_owned()));
    };
    let site = &http.app.config().feeds;
    let limit = feed_limit("limit", params.limit.as_deref(), site.default_items)?;
    let content = FeedContent::parse("content", params.content.as_deref())?;
    content.check(&viewer).map_err(|refusal| match refusal {
        FullTextRefusal::Unauthenticated => ApiError::Unauthenticated(refusal.to_string()),
        FullTextRefusal::Forbidden => ApiError::Forbidden(refusal.to_string()),
    })?;
    let store = http.app.store();
    let topic = match topic_slug {
        None => None,
        Some(raw) => {
            let unknown = || ApiError::NotFound(format!("topic `{raw}`"));
            let slug = Slug::parse(raw).map_err(|_| unknown())?;
            Some(store.topic_by_slug(&slug).await?.ok_or_else(unknown)?)
        }
    };
    let now = Utc::now();
    let filter = ArticleFilter {
        topic: topic.as_ref().map(|t| t.slug.clone()),
        ..ArticleFilter::default()
    };
    let articles = newest(&http, &filter, limit, &viewer, now).await?;
    let items = items(&http, &articles, |article| {
        content.includes_full_text(&viewer, article, now)
    })
    .await?;

    let path = match &topic {
        None => format!("/feeds/latest.{}", format.extension()),
        Some(t) => format!("/feeds/topics/{}.{}", t.slug, format.extension()),
    };
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
    let self_url = format!("{}{path}", site.site_url);
    let feed = Feed {
        id: self_url.clone(),
        title,
        description,
        home_url: site.site_url.clone(),
        self_url,
        language: site.language.clone(),
        updated: items.iter().map(|i| i.updated).max().unwrap_or(now),
        items,
    };

    let mut tags = CacheTags::new();
    match &topic {
        None => tags.list("latest"),
        Some(t) => tags.topic(t.slug.as_str()),
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
    Ok(Document {
        body,
        content_type,
        tags,
    })
}

/// The newest `limit` articles in `filter` that are public for `viewer` (partners: out of
/// embargo too), newest first by publish time.
async fn newest(
    http: &HttpState,
    filter: &ArticleFilter,
    limit: u64,
    viewer: &Viewer,
    now: DateTime<Utc>,
) -> Result<Vec<Article>, ApiError> {
    let page = PageRequest::<ArticleCursor> {
        direction: Direction::Forward,
        limit,
        cursor: None,
    };
    Ok(http
        .app
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

/// Feed items of `articles` with their bylines and topics (four statements for the lot).
async fn items(
    http: &HttpState,
    articles: &[Article],
    full_text: impl Fn(&Article) -> bool,
) -> Result<Vec<Item>, ApiError> {
    let store = http.app.store();
    let ids: Vec<uuid::Uuid> = articles.iter().map(|a| a.id).collect();
    let topic_ids = store.topic_ids_of_articles(&ids).await?;
    let author_ids = store.author_ids_of_articles(&ids).await?;
    let all_topics: Vec<uuid::Uuid> = topic_ids.values().flatten().copied().collect();
    let all_authors: Vec<uuid::Uuid> = author_ids.values().flatten().copied().collect();
    let topics: HashMap<uuid::Uuid, Topic> = store.topics_by_ids(&all_topics).await?;
    let authors = store.authors_by_ids(&all_authors).await?;
    let site = &http.app.config().feeds;
    Ok(articles
        .iter()
        .filter_map(|article| {
            let of = |map: &HashMap<uuid::Uuid, Vec<uuid::Uuid>>| {
                map.get(&article.id).cloned().unwrap_or_default()
            };
            Item::new(
                site,
                article,
                of(&author_ids)
                    .iter()
                    .filter_map(|id| authors.get(id))
                    .collect(),
                of(&topic_ids)
                    .iter()
                    .filter_map(|id| topics.get(id))
                    .collect(),
                full_text(article),
            )
        })
        .collect())
}

async fn news_sitemap_document(http: &HttpState, viewer: &Viewer) -> Result<Document, ApiError> {
    let now = Utc::now();
    let filter = ArticleFilter {
        published_after: Some(now - NEWS_SITEMAP_WINDOW),
        ..ArticleFilter::default()
    };
    let site = &http.app.config().feeds;
    let recent = newest(http, &filter, NEWS_SITEMAP_MAX_URLS, viewer, now).await?;
    let mut entries = sitemap::news_entries(site, &recent);
    let mut shown: Vec<&Article> = recent.iter().collect();
    // A urlset must hold at least one url (sitemap.xsd): with nothing written in the window,
    // list the newest article without news metadata, as Google asks of stories older than two
    // days, or the site's home page when there is none.
    let older;
    if entries.is_empty() {
        older = newest(http, &ArticleFilter::default(), 1, viewer, now).await?;
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
    })
}
