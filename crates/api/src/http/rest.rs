//! JSON endpoints under `/v1`: articles, topics, authors, trending, search, the view
//! beacon and partner webhooks. Errors are `application/problem+json`. Each handler is described for the OpenAPI
//! document by its `#[utoipa::path]` annotation.

pub mod articles;
pub(crate) mod page;
pub mod params;
pub mod taxonomy;
pub mod webhooks;
pub mod wire;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use gazette_domain::{Article, Slug, ValidationError, Viewer};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::HttpState;
use super::cache::CacheTags;
use super::caller::{Caller, ClientIp};
use super::problems::{BeaconProblems, ListProblems, LookupProblems};
use crate::ApiError;
use page::{Params, Tagged};
use params::{
    CursorSchema, PageSize, SearchText, SlugSchema, TrendingSize, WindowJson, enum_param,
};

/// Largest beacon body accepted; a beacon is a few dozen bytes.
pub const MAX_BEACON_BYTES: usize = 2048;

/// A read of an article: name it by `articleId` or `slug`. Its schema is written out in
/// [`params::beacon_schema`], stating the rules [`record_view`] checks.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Beacon {
    /// The article's id.
    article_id: Option<String>,
    /// The article's slug.
    slug: Option<String>,
    /// An opaque id of the reader's browser, for dedupe.
    visitor_id: Option<String>,
}

impl utoipa::PartialSchema for Beacon {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        params::beacon_schema()
    }
}

impl ToSchema for Beacon {}

/// Whether the view was counted.
#[derive(Serialize, ToSchema)]
struct BeaconAnswer {
    /// The view will be added to the article's count.
    counted: bool,
    /// Why it was not counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    reason: Option<&'static str>,
}

/// Report a view
///
/// `{"articleId": …}` or `{"slug": …}`, optional `visitorId`. Answers 202 at once; the view is
/// written with the next batch. Views of articles that are not public are not counted.
#[utoipa::path(
    post,
    path = "/v1/views",
    tag = "trending",
    request_body = Beacon,
    security(()),
    responses(
        (status = 202, description = "Received", body = BeaconAnswer),
        BeaconProblems,
    ),
)]
pub async fn record_view(
    State(http): State<HttpState>,
    ClientIp(address): ClientIp,
    request: Request,
) -> Response {
    if let Err(error) = http.app.app().check_beacon_rate(address) {
        return ApiError::from(error).into_response();
    }
    let body = match axum::body::to_bytes(request.into_body(), MAX_BEACON_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::PayloadTooLarge {
                limit: MAX_BEACON_BYTES,
            }
            .into_response();
        }
    };
    let beacon: Beacon = match serde_json::from_slice(&body) {
        Ok(beacon) => beacon,
        Err(e) => {
            return ApiError::BadRequest(format!(
                "the body must be a JSON object like {{\"articleId\": \"…\"}}: {e}"
            ))
            .into_response();
        }
    };
    let recorded = http
        .app
        .app()
        .record_view(
            beacon.article_id.as_deref(),
            beacon.slug.as_deref(),
            beacon.visitor_id.as_deref(),
            address,
            http.app.now(),
        )
        .await;
    match recorded {
        Ok(outcome) => (
            StatusCode::ACCEPTED,
            Json(BeaconAnswer {
                counted: outcome.counted(),
                reason: outcome.reason(),
            }),
        )
            .into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// The parameters of `GET /v1/trending`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendingParams {
    /// `day`, `week` (default) or `month`, in any case.
    #[param(value_type = Option<WindowJson>, inline)]
    window: Option<String>,
    /// Only articles of this topic (slug); an unknown topic is a 404.
    #[param(value_type = Option<SlugSchema>)]
    topic: Option<String>,
    /// How many.
    #[param(value_type = Option<TrendingSize>, inline)]
    first: Option<String>,
}

/// A trending entry as JSON.
#[derive(Serialize, ToSchema)]
pub struct TrendingItem {
    /// The article.
    article: ArticleSummary,
    /// Views in the window, each weighted by its age (a view one half-life old counts ½).
    score: f64,
    /// Plain count of views in the window.
    views: i64,
}

/// An article's headline fields, for lists.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArticleSummary {
    /// Stable id (UUID v7).
    id: uuid::Uuid,
    /// URL-safe unique name.
    slug: String,
    /// The headline.
    headline: String,
    /// One-line summary.
    dek: String,
    /// Wire agency or desk.
    source: String,
    /// When it went live.
    #[schema(required = true)]
    published_at: Option<DateTime<Utc>>,
    /// The canonical page on the publisher's site.
    #[schema(required = true)]
    canonical_url: Option<String>,
    /// Minutes to read, rounded up.
    reading_time_minutes: u32,
}

impl From<&Article> for ArticleSummary {
    fn from(a: &Article) -> Self {
        Self {
            id: a.id,
            slug: a.slug.as_str().to_owned(),
            headline: a.headline.as_str().to_owned(),
            dek: a.dek.as_str().to_owned(),
            source: a.source.as_str().to_owned(),
            published_at: a.published_at,
            canonical_url: a.canonical_url.as_ref().map(|u| u.as_str().to_owned()),
            reading_time_minutes: a.reading_time_minutes(),
        }
    }
}

/// The most-read articles of a window.
#[derive(Serialize, ToSchema)]
pub struct TrendingAnswer {
    /// The window of the list.
    window: WindowJson,
    /// The topic asked for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    topic: Option<String>,
    /// Highest score first.
    items: Vec<TrendingItem>,
}

/// Trending articles
///
/// `?window=day|week|month&topic=slug&first=10`: the same list as GraphQL's `trending`.
#[utoipa::path(
    get,
    path = "/v1/trending",
    tag = "trending",
    params(TrendingParams),
    responses(
        (status = 200, description = "The most-read public articles", body = TrendingAnswer),
        LookupProblems,
    ),
)]
pub async fn trending(
    State(http): State<HttpState>,
    Caller(viewer): Caller,
    Params(params): Params<TrendingParams>,
) -> Result<Tagged<TrendingAnswer>, ApiError> {
    let answer = trending_items(&http, &viewer, params).await?;
    let mut tags = CacheTags::new();
    tags.list("trending");
    if let Some(topic) = &answer.topic {
        tags.topic(topic);
    }
    for item in &answer.items {
        tags.article(item.article.id);
    }
    Ok(Tagged(answer, tags))
}

async fn trending_items(
    http: &HttpState,
    viewer: &Viewer,
    params: TrendingParams,
) -> Result<TrendingAnswer, ApiError> {
    let window = match params.window.as_deref() {
        None => WindowJson::default(),
        Some(raw) => enum_param::<WindowJson>("window", raw)?,
    };
    let first = params
        .first
        .as_deref()
        .map(|raw| {
            raw.parse::<i32>()
                .map_err(|_| ValidationError::new("first", "must be a whole number"))
        })
        .transpose()?;
    let topic = params
        .topic
        .as_deref()
        .map(|t| Slug::parse_field("topic", t))
        .transpose()?;
    let items = http
        .app
        .app()
        .trending_by_slug(viewer, window.into(), topic.as_ref(), first, http.app.now())
        .await?;
    Ok(TrendingAnswer {
        window,
        topic: topic.map(|t| t.as_str().to_owned()),
        items: items
            .into_iter()
            .map(|entry| TrendingItem {
                article: ArticleSummary::from(&entry.article),
                score: entry.score,
                views: entry.views,
            })
            .collect(),
    })
}

/// The parameters of `GET /v1/search`.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The query (required): words (hits holding them all first, then, when those are too
    /// few, hits holding some), `"quoted phrases"`, `prefix*`.
    #[param(value_type = SearchText, required = true, inline)]
    q: Option<String>,
    /// How many hits (default 20).
    #[param(value_type = Option<PageSize>, inline)]
    first: Option<String>,
    /// The `endCursor` of the previous page.
    #[param(value_type = Option<CursorSchema>)]
    after: Option<String>,
    /// Only articles of this topic (slug).
    #[param(value_type = Option<SlugSchema>)]
    topic: Option<String>,
    /// Published at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    published_after: Option<String>,
    /// Published before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    published_before: Option<String>,
}

/// A highlighted passage.
#[derive(Serialize, ToSchema)]
#[schema(as = Snippet)]
struct SnippetJson {
    /// The passage as plain text.
    text: String,
    /// The passage as HTML, matches in `<mark>`, everything else escaped.
    html: String,
    /// Matches as `[start, end)` character offsets into `text`.
    #[schema(value_type = Vec<Vec<u64>>)]
    ranges: Vec<[usize; 2]>,
}

impl From<gazette_domain::search::Highlight> for SnippetJson {
    fn from(h: gazette_domain::search::Highlight) -> Self {
        Self {
            html: h.to_html(),
            ranges: h.ranges.iter().map(|&(s, e)| [s, e]).collect(),
            text: h.text,
        }
    }
}

/// Which part of the results a hit belongs to.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SearchTier)]
enum TierJson {
    /// The article matches every word, phrase and prefix of the query. These hits come first.
    AllWords,
    /// Fewer articles matched every word than were asked for: this one matches some of the
    /// query's distinctive words, after every `allWords` hit.
    AnyWord,
}

/// A search hit.
#[derive(Serialize, ToSchema)]
struct SearchItem {
    /// The article.
    article: ArticleSummary,
    /// Relevance (higher is better, comparable within a tier).
    score: f64,
    /// Whether the article matched every word of the query or only some.
    tier: TierJson,
    /// Where the query matched.
    highlights: SearchHighlightsJson,
}

/// Highlighted passages of a hit.
#[derive(Serialize, ToSchema)]
#[schema(as = SearchHighlights)]
struct SearchHighlightsJson {
    /// The headline, whole.
    headline: SnippetJson,
    /// The best body passage (left out for a partner without the right to the full text).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    body: Option<SnippetJson>,
}

/// Where a page of hits sits.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SearchPageInfo)]
struct PageInfoJson {
    /// More hits follow (pass `endCursor` as `after`).
    has_next_page: bool,
    /// Cursor after the last hit; null on an empty page.
    #[schema(required = true, value_type = Option<CursorSchema>)]
    end_cursor: Option<String>,
}

/// A page of search hits, best first.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchAnswer {
    /// The hits.
    items: Vec<SearchItem>,
    /// Where the page sits.
    page_info: PageInfoJson,
}

/// Search articles
///
/// `?q=…&first=&after=&topic=&publishedAfter=&publishedBefore=`: the same results as GraphQL's
/// `search`, public articles only.
#[utoipa::path(
    get,
    path = "/v1/search",
    tag = "search",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of hits", body = SearchAnswer),
        ListProblems,
    ),
)]
pub async fn search(
    State(http): State<HttpState>,
    Caller(viewer): Caller,
    Params(params): Params<SearchParams>,
) -> Result<Tagged<SearchAnswer>, ApiError> {
    let answer = search_items(&http, &viewer, params).await?;
    let mut tags = CacheTags::new();
    tags.list("search");
    for item in &answer.items {
        tags.article(item.article.id);
    }
    Ok(Tagged(answer, tags))
}

async fn search_items(
    http: &HttpState,
    viewer: &Viewer,
    params: SearchParams,
) -> Result<SearchAnswer, ApiError> {
    use gazette_domain::{OffsetCursor, PageRequest};
    let raw = params
        .q
        .ok_or_else(|| ValidationError::new("q", "is required"))?;
    let query = gazette_domain::search::SearchQuery::parse("q", &raw)?;
    let first = params
        .first
        .as_deref()
        .map(|f| {
            f.parse::<i32>()
                .map_err(|_| ValidationError::new("first", "must be a whole number"))
        })
        .transpose()?;
    let page = PageRequest::<OffsetCursor>::from_relay(first, params.after.as_deref(), None, None)?;
    let filter = gazette_persistence::SearchFilter {
        topic: params
            .topic
            .as_deref()
            .map(|t| Slug::parse_field("topic", t))
            .transpose()?,
        published_after: articles::instant("publishedAfter", params.published_after.as_deref())?,
        published_before: articles::instant("publishedBefore", params.published_before.as_deref())?,
    };
    let result = http
        .app
        .app()
        .search(viewer, &query, &filter, &page, http.app.now(), true)
        .await?;
    let end_cursor = result.end_cursor();
    let items = result
        .hits
        .into_iter()
        .map(|hit| SearchItem {
            highlights: SearchHighlightsJson {
                headline: hit.headline.into(),
                body: hit.body.map(SnippetJson::from),
            },
            article: ArticleSummary::from(&hit.article),
            score: hit.score,
            tier: match hit.tier {
                gazette_domain::search::Tier::AllWords => TierJson::AllWords,
                gazette_domain::search::Tier::AnyWord => TierJson::AnyWord,
            },
        })
        .collect();
    Ok(SearchAnswer {
        items,
        page_info: PageInfoJson {
            has_next_page: result.has_next,
            end_cursor,
        },
    })
}
