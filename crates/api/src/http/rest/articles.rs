//! `GET /v1/articles`, `/v1/articles/{slug}`, `/v1/topics/{slug}/articles` and
//! `/v1/authors/{slug}/articles`: the reads of GraphQL's `articles`, `article(slug:)`,
//! `Topic.articles` and `Author.articles`, with the same filters, cursors and visibility.

use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use gazette_app::App;
use gazette_app::articles::{ArticleKey, FullArticle, article_cursor, article_filter};
use gazette_domain::{Article, ArticleCursor, ArticleOrder, Body, ValidationError, Viewer};
use gazette_persistence::{ArticleFilter, LookedUp, LookupExtras};
use serde::Deserialize;
use utoipa::IntoParams;

use super::page::{PageInfo, PageParams, Params, SlugPath, Tagged, document, next_link, path_slug};
use super::params::{
    ArticleFormatJson, ArticleFormatParams, ListFormatJson, ListFormatParams, OrderJson,
    SlugSchema, enum_param,
};
use super::wire::{ArticleJson, ArticleList, ArticleListItem, BlockJson, CorrectionJson};
use crate::ApiError;
use crate::http::HttpState;
use crate::http::cache::{AttachTags as _, CacheTags};
use crate::http::caller::Caller;
use crate::http::problems::{ListProblems, LookupProblems};
use gazette_app::Relations;
use gazette_formats::jsonld::{self, NewsArticle, NewsArticleJson};
use gazette_formats::ninjs::{CONTENT_TYPE as NINJS, NinjsJson};

/// Filters of the article list, combined with AND (GraphQL's `ArticleFilter`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ArticleFilterParams {
    /// Topic slug (primary or further topic). An unknown topic gives an empty list.
    #[param(value_type = Option<SlugSchema>)]
    pub topic: Option<String>,
    /// Author slug. An unknown author gives an empty list.
    #[param(value_type = Option<SlugSchema>)]
    pub author: Option<String>,
    /// Source, exactly ("News1").
    pub source: Option<String>,
    /// Published at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub published_after: Option<String>,
    /// Published before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub published_before: Option<String>,
}

/// The order parameter of article lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct OrderParams {
    /// `newest` (default) or `oldest`, in any case.
    #[param(value_type = Option<OrderJson>, inline)]
    pub order_by: Option<String>,
}

impl OrderParams {
    fn parse(&self) -> Result<ArticleOrder, ValidationError> {
        let order = match self.order_by.as_deref() {
            None => OrderJson::default(),
            Some(raw) => enum_param::<OrderJson>("orderBy", raw)?,
        };
        Ok(order.into())
    }
}

impl ArticleFilterParams {
    fn parse(self) -> Result<ArticleFilter, ValidationError> {
        let published = [
            instant("publishedAfter", self.published_after.as_deref())?,
            instant("publishedBefore", self.published_before.as_deref())?,
        ];
        let (topic, author) = (self.topic.as_deref(), self.author.as_deref());
        article_filter("", topic, author, self.source, published)
    }
}

/// An RFC 3339 instant from a query parameter.
pub fn instant(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ValidationError> {
    raw.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| ValidationError::new(field, "must be an RFC 3339 instant"))
    })
    .transpose()
}

/// Tags for the articles in a response and the topics and authors named in them.
fn tag_articles(tags: &mut CacheTags, articles: &[Article], relations: &Relations) {
    for article in articles {
        tags.article(article.id);
        let (topics, authors) = relations.of(article);
        for topic in topics {
            tags.topic(topic.slug.as_str());
        }
        for author in authors {
            tags.author(author.slug.as_str());
        }
    }
    for topic in articles
        .iter()
        .filter_map(|a| a.primary_topic_id)
        .filter_map(|id| relations.topics.get(&id))
    {
        tags.topic(topic.slug.as_str());
    }
}

/// A page of the article list under `filter`, as `viewer` may see it, in `format`, tagged with
/// `tags` and what it shows.
async fn article_page(
    http: &HttpState,
    viewer: &Viewer,
    filter: &ArticleFilter,
    order: ArticleOrder,
    (page, format, uri): (&PageParams, ListFormatJson, &Uri),
    mut tags: CacheTags,
) -> Result<Response, ApiError> {
    let request = page.page_request::<ArticleCursor>()?;
    let now = http.app.now();
    let app = http.app.app();
    let ids = LookupExtras {
        topic_ids: true,
        author_ids: true,
        body: false,
    };
    let mut listed = app
        .articles(viewer, filter, order, &request, now, ids)
        .await?;
    let ids = gazette_app::ListedIds::of(&mut listed);
    let result = listed.page;
    let relations = app.relations(&result.items, ids).await?;
    tag_articles(&mut tags, &result.items, &relations);
    let page_info = PageInfo::of(&result, article_cursor);
    if format == ListFormatJson::Ninjs {
        let site = &http.app.config().feeds;
        let items: Vec<NinjsJson> = (result.items.iter())
            .map(|a| NinjsJson::article(a, &relations, None, site, now))
            .collect();
        let next = (page_info.end_cursor.as_deref())
            .filter(|_| page_info.has_next_page)
            .and_then(|cursor| next_link(uri, "after", cursor, &["before", "last"]));
        return Ok(document(&items, NINJS, tags, next));
    }
    let items = result
        .items
        .iter()
        .map(|a| ArticleListItem::new(a, &relations, now))
        .collect();
    Ok(Tagged(ArticleList { items, page_info }, tags).into_response())
}

/// List articles
///
/// Articles with a publish time, newest first by default, a page at a time (cursors and limits
/// as GraphQL's `articles`). Readers and partners see public articles only; editors also see
/// scheduled and archived ones.
#[utoipa::path(
    get,
    path = "/v1/articles",
    tag = "articles",
    params(PageParams, ArticleFilterParams, OrderParams, ListFormatParams),
    responses(
        (status = 200, description = "A page of articles", content(
            (ArticleList = "application/json"),
            (Vec<NinjsJson> = "application/ninjs+json"),
        ), headers(("link" = String, description = "ninjs only, when a next page exists: `<{this path}?{these parameters}&after={cursor}>; rel=\"next\"`"))),
        ListProblems,
    ),
)]
pub async fn list_articles(
    State(http): State<HttpState>,
    Caller(viewer): Caller,
    OriginalUri(uri): OriginalUri,
    Params(page): Params<PageParams>,
    Params(filter): Params<ArticleFilterParams>,
    Params(order): Params<OrderParams>,
    Params(format): Params<ListFormatParams>,
) -> Result<Response, ApiError> {
    let (filter, order, format) = (filter.parse()?, order.parse()?, format.parse()?);
    let mut tags = CacheTags::new();
    tags.list("latest");
    article_page(&http, &viewer, &filter, order, (&page, format, &uri), tags).await
}

/// Get an article
///
/// One article in full, as GraphQL's `article(slug:)`. An earlier slug of a renamed article
/// answers 301 with the article's current path in `Location` (GraphQL answers the article
/// with its new `slug`). Partners get `body`, `bodyHtml` and `bodyText` as null for now.
#[utoipa::path(
    get,
    path = "/v1/articles/{slug}",
    tag = "articles",
    params(
        ("slug" = SlugSchema, Path, description = "The article's slug (or an earlier one)"),
        ArticleFormatParams,
    ),
    responses(
        (status = 200, description = "The article", content(
            (ArticleJson = "application/json"),
            (NinjsJson = "application/ninjs+json"),
            (NewsArticleJson = "application/ld+json"),
        )),
        (status = 301, description = "The article moved: its current path is in `Location`",
            headers(("location" = String, description = "`/v1/articles/{current slug}`"))),
        LookupProblems,
    ),
)]
pub async fn get_article(
    State(http): State<HttpState>,
    Caller(viewer): Caller,
    path: Result<Path<String>, PathRejection>,
    Params(format): Params<ArticleFormatParams>,
) -> Response {
    let (asked, format) = match path_slug(path).and_then(|slug| Ok((slug, format.parse()?))) {
        Ok(asked) => asked,
        Err(error) => return error.into_response(),
    };
    let now = http.app.now();
    let app = http.app.app();
    // The article with its topic and author ids and its body in one statement (the body is
    // shown only to a caller who may read it).
    let extras = LookupExtras {
        topic_ids: true,
        author_ids: true,
        body: true,
    };
    let found = match app
        .article(&viewer, &ArticleKey::Slug(asked.clone()), now, extras)
        .await
    {
        Ok(Some(found)) => found,
        Ok(None) => return ApiError::NotFound(format!("article `{asked}`")).into_response(),
        Err(error) => return ApiError::from(error).into_response(),
    };
    let article = &found.article;
    let mut tags = CacheTags::new();
    tags.article(article.id);
    if article.slug != asked {
        let mut location = format!("/v1/articles/{}", article.slug);
        if let Some(format) = format_query(format) {
            location.push_str(format);
        }
        let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
        if let Ok(location) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        tags.attach(&mut response);
        return response;
    }
    let answer = full_article(app, &viewer, found, now).await;
    match answer {
        Ok((full, body)) => {
            let (article, relations) = (&full.article, &full.relations);
            tag_articles(&mut tags, std::slice::from_ref(article), relations);
            match format {
                ArticleFormatJson::Json => {
                    Tagged(article_json(&full, body.as_ref(), now), tags).into_response()
                }
                ArticleFormatJson::Ninjs => {
                    let site = &http.app.config().feeds;
                    let item = NinjsJson::article(article, relations, body.as_ref(), site, now);
                    document(&item, NINJS, tags, None)
                }
                ArticleFormatJson::Jsonld => {
                    let (_, authors) = relations.of(article);
                    let news = NewsArticle {
                        article,
                        authors: &authors,
                        section: relations.primary_topic(article),
                        corrections: &full.corrections,
                    };
                    let site = &http.app.config().feeds;
                    document(&news.json_ld(site), jsonld::CONTENT_TYPE, tags, None)
                }
            }
        }
        Err(error) => error.into_response(),
    }
}

/// The query a redirect keeps: the format asked for, when it is not the default.
fn format_query(format: ArticleFormatJson) -> Option<&'static str> {
    match format {
        ArticleFormatJson::Json => None,
        ArticleFormatJson::Ninjs => Some("?format=ninjs"),
        ArticleFormatJson::Jsonld => Some("?format=jsonld"),
    }
}

/// The article with its relations and corrections, and its body when `viewer` may read it.
async fn full_article(
    app: &App,
    viewer: &Viewer,
    found: LookedUp,
    now: DateTime<Utc>,
) -> Result<(FullArticle, Option<Body>), ApiError> {
    let LookedUp {
        article,
        topic_ids,
        author_ids,
        body,
    } = found;
    // The body only for a caller who may read it.
    let readable = gazette_domain::syndication::may_read_body(viewer, &article, now);
    let body = body.filter(|_| readable);
    Ok((
        app.full_article(article, topic_ids, author_ids).await?,
        body,
    ))
}

/// The JSON of an article in full.
fn article_json(full: &FullArticle, body: Option<&Body>, now: DateTime<Utc>) -> ArticleJson {
    let (article, relations) = (&full.article, &full.relations);
    ArticleJson {
        summary: ArticleListItem::new(article, relations, now),
        body: body.map(|b| b.blocks().iter().map(BlockJson::from).collect()),
        body_html: body.map(Body::to_html),
        body_text: body.map(Body::to_plain_text),
        created_at: article.created_at,
        version: article.version,
        corrections: full.corrections.iter().map(CorrectionJson::from).collect(),
        previous_slugs: full.previous_slugs.clone(),
    }
}

/// List a topic's articles
///
/// Articles filed under the topic (primary or further), as GraphQL's `Topic.articles`.
#[utoipa::path(
    get,
    path = "/v1/topics/{slug}/articles",
    tag = "topics",
    params(
        ("slug" = SlugSchema, Path, description = "The topic's slug"),
        PageParams, OrderParams, ListFormatParams,
    ),
    responses(
        (status = 200, description = "A page of the topic's articles", content(
            (ArticleList = "application/json"),
            (Vec<NinjsJson> = "application/ninjs+json"),
        ), headers(("link" = String, description = "ninjs only, when a next page exists: `<{this path}?{these parameters}&after={cursor}>; rel=\"next\"`"))),
        LookupProblems,
    ),
)]
pub async fn topic_articles(
    State(http): State<HttpState>,
    Caller(viewer): Caller,
    OriginalUri(uri): OriginalUri,
    SlugPath(slug): SlugPath,
    Params(page): Params<PageParams>,
    Params(order): Params<OrderParams>,
    Params(format): Params<ListFormatParams>,
) -> Result<Response, ApiError> {
    let (order, format) = (order.parse()?, format.parse()?);
    http.app.app().topic(&slug).await?;
    let filter = ArticleFilter {
        topic: Some(slug.clone()),
        ..ArticleFilter::default()
    };
    let mut tags = CacheTags::new();
    tags.topic(slug.as_str());
    article_page(&http, &viewer, &filter, order, (&page, format, &uri), tags).await
}

/// List an author's articles
///
/// Articles in the author's byline, as GraphQL's `Author.articles`.
#[utoipa::path(
    get,
    path = "/v1/authors/{slug}/articles",
    tag = "authors",
    params(
        ("slug" = SlugSchema, Path, description = "The author's slug"),
        PageParams, OrderParams, ListFormatParams,
    ),
    responses(
        (status = 200, description = "A page of the author's articles", content(
            (ArticleList = "application/json"),
            (Vec<NinjsJson> = "application/ninjs+json"),
        ), headers(("link" = String, description = "ninjs only, when a next page exists: `<{this path}?{these parameters}&after={cursor}>; rel=\"next\"`"))),
        LookupProblems,
    ),
)]
pub async fn author_articles(
    State(http): State<HttpState>,
    Caller(viewer): Caller,
    OriginalUri(uri): OriginalUri,
    SlugPath(slug): SlugPath,
    Params(page): Params<PageParams>,
    Params(order): Params<OrderParams>,
    Params(format): Params<ListFormatParams>,
) -> Result<Response, ApiError> {
    let (order, format) = (order.parse()?, format.parse()?);
    http.app.app().author(&slug).await?;
    let filter = ArticleFilter {
        author: Some(slug.clone()),
        ..ArticleFilter::default()
    };
    let mut tags = CacheTags::new();
    tags.author(slug.as_str());
    article_page(&http, &viewer, &filter, order, (&page, format, &uri), tags).await
}
