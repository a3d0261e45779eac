//! JSON endpoints under `/v1`: the view beacon and trending. Errors are
//! `application/problem+json`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use gazette_domain::syndication::may_read_body;
use gazette_domain::trending::{TrendingWindow, trending_limit};
use gazette_domain::{Article, Slug, ValidationError, Viewer};
use serde::{Deserialize, Serialize};

use super::HttpState;
use crate::ApiError;
use crate::views::{ArticleRef, MAX_VISITOR_ID_LEN};

/// Largest beacon body accepted; a beacon is a few dozen bytes.
pub const MAX_BEACON_BYTES: usize = 2048;

/// The caller's address as the connection gives it (no proxy header is trusted).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip()),
        ))
    }
}

/// The caller of a REST or feed request, as its `Authorization` header names it: anonymous
/// without one. A present but invalid token is refused with 401 and a `WWW-Authenticate`
/// challenge (problem body), never served as anonymous.
#[derive(Debug, Clone)]
pub struct Caller(pub gazette_domain::Viewer);

impl axum::extract::FromRequestParts<HttpState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        http: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        http.app
            .auth()
            .authenticate(&parts.headers)
            .map(Self)
            .map_err(|error| {
                tracing::debug!(error = %error, "bearer token refused");
                let challenge = error.www_authenticate();
                let mut response = ApiError::Unauthenticated(error.to_string()).into_response();
                response
                    .headers_mut()
                    .insert(axum::http::header::WWW_AUTHENTICATE, challenge);
                response
            })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Beacon {
    article_id: Option<String>,
    slug: Option<String>,
    visitor_id: Option<String>,
}

#[derive(Serialize)]
struct BeaconAnswer {
    counted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

/// `POST /v1/views`: `{"articleId": …}` or `{"slug": …}`, optional `visitorId`. Answers 202 at
/// once; the view is written with the next batch.
pub async fn record_view(
    State(http): State<HttpState>,
    ClientIp(address): ClientIp,
    request: Request,
) -> Response {
    let views = http.app.views();
    if let Err(wait) = views.check_rate(address) {
        return ApiError::RateLimited {
            retry_after_secs: wait.as_secs() + 1,
        }
        .into_response();
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
    let article = match ArticleRef::from_parts(beacon.article_id.as_deref(), beacon.slug.as_deref())
    {
        Ok(article) => article,
        Err(e) => return ApiError::BadInput(e).into_response(),
    };
    let visitor = beacon.visitor_id.as_deref().map(str::trim);
    if visitor.is_some_and(|v| v.is_empty() || v.len() > MAX_VISITOR_ID_LEN) {
        return ApiError::BadInput(ValidationError::new(
            "visitorId",
            format!("must be 1 to {MAX_VISITOR_ID_LEN} characters"),
        ))
        .into_response();
    }
    match views.record(&article, visitor, Utc::now()).await {
        Ok(outcome) => (
            StatusCode::ACCEPTED,
            Json(BeaconAnswer {
                counted: outcome.counted(),
                reason: outcome.reason(),
            }),
        )
            .into_response(),
        Err(error) => ApiError::from_store(&error).into_response(),
    }
}

#[derive(Deserialize)]
pub struct TrendingParams {
    window: Option<String>,
    topic: Option<String>,
    first: Option<String>,
}

/// A trending entry as JSON.
#[derive(Serialize)]
pub struct TrendingItem {
    article: ArticleSummary,
    score: f64,
    views: i64,
}

/// An article's headline fields, for lists.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArticleSummary {
    id: uuid::Uuid,
    slug: String,
    headline: String,
    dek: String,
    source: String,
    published_at: Option<DateTime<Utc>>,
    canonical_url: Option<String>,
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

#[derive(Serialize)]
struct TrendingAnswer {
    window: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    topic: Option<String>,
    items: Vec<TrendingItem>,
}

/// `GET /v1/trending?window=day|week|month&topic=slug&first=10`: the same list as GraphQL's
/// `trending`.
pub async fn trending(
    State(http): State<HttpState>,
    Caller(viewer): Caller,
    params: Result<Query<TrendingParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return ApiError::BadRequest("malformed query string".to_owned()).into_response();
    };
    match trending_items(&http, &viewer, params).await {
        Ok(answer) => {
            let mut tags = crate::http::cache::CacheTags::new();
            tags.list("trending");
            if let Some(topic) = &answer.topic {
                tags.topic(topic);
            }
            for item in &answer.items {
                tags.article(item.article.id);
            }
            let mut response = Json(answer).into_response();
            tags.attach(&mut response);
            response
        }
        Err(error) => error.into_response(),
    }
}

async fn trending_items(
    http: &HttpState,
    viewer: &Viewer,
    params: TrendingParams,
) -> Result<TrendingAnswer, ApiError> {
    let window = match params.window.as_deref() {
        None => TrendingWindow::Week,
        Some(raw) => TrendingWindow::parse("window", raw)?,
    };
    let first = match params.first.as_deref() {
        None => 10,
        Some(raw) => raw
            .parse::<i32>()
            .map_err(|_| ValidationError::new("first", "must be a whole number"))?,
    };
    let limit = trending_limit("first", first)?;
    let topic = params
        .topic
        .as_deref()
        .map(|t| Slug::parse_field("topic", t))
        .transpose()?;
    let store = http.app.store();
    if let Some(topic) = &topic
        && store.topic_by_slug(topic).await?.is_none()
    {
        return Err(ApiError::NotFound(format!("topic `{topic}`")));
    }
    let now = Utc::now();
    let items = http
        .app
        .views()
        .trending_articles(
            window,
            topic.clone(),
            limit,
            viewer.public_visibility(now),
            now,
        )
        .await?;
    Ok(TrendingAnswer {
        window: window.as_str(),
        topic: topic.map(|t| t.as_str().to_owned()),
        items: items
            .into_iter()
            .map(|(article, score, views)| TrendingItem {
                article: ArticleSummary::from(&article),
                score,
                views,
            })
            .collect(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchParams {
    q: Option<String>,
    first: Option<String>,
    after: Option<String>,
    topic: Option<String>,
    published_after: Option<String>,
    published_before: Option<String>,
}

#[derive(Serialize)]
struct SnippetJson {
    text: String,
    html: String,
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

#[derive(Serialize)]
struct SearchItem {
    article: ArticleSummary,
    score: f64,
    highlights: SearchHighlightsJson,
}

#[derive(Serialize)]
struct SearchHighlightsJson {
    headline: SnippetJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<SnippetJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageInfoJson {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchAnswer {
    items: Vec<SearchItem>,
    page_info: PageInfoJson,
}

/// `GET /v1/search?q=…&first=&after=&topic=&publishedAfter=&publishedBefore=`: the same
/// results as GraphQL's `search`.
pub async fn search(
    State(http): State<HttpState>,
    Caller(viewer): Caller,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return ApiError::BadRequest("malformed query string".to_owned()).into_response();
    };
    match search_items(&http, &viewer, params).await {
        Ok(answer) => {
            let mut tags = crate::http::cache::CacheTags::new();
            tags.list("search");
            for item in &answer.items {
                tags.article(item.article.id);
            }
            let mut response = Json(answer).into_response();
            tags.attach(&mut response);
            response
        }
        Err(error) => error.into_response(),
    }
}

fn instant(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ValidationError> {
    raw.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| ValidationError::new(field, "must be an RFC 3339 instant"))
    })
    .transpose()
}

async fn search_items(
    http: &HttpState,
    viewer: &Viewer,
    params: SearchParams,
) -> Result<SearchAnswer, ApiError> {
    use gazette_domain::{CursorKey, OffsetCursor, PageRequest};
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
    let now = Utc::now();
    let offset = page.cursor.map_or(0, |c| c.0);
    let filter = gazette_persistence::SearchFilter {
        topic: params
            .topic
            .as_deref()
            .map(|t| Slug::parse_field("topic", t))
            .transpose()?,
        published_after: instant("publishedAfter", params.published_after.as_deref())?,
        published_before: instant("publishedBefore", params.published_before.as_deref())?,
    };
    let result = http
        .app
        .store()
        .search(
            &query,
            &filter,
            offset,
            page.limit,
            viewer.public_visibility(now),
        )
        .await?;
    let count = result.items.len() as u64;
    let items = result
        .items
        .into_iter()
        .map(|hit| SearchItem {
            highlights: SearchHighlightsJson {
                headline: gazette_domain::search::highlight(
                    hit.article.headline.as_str(),
                    &query,
                    usize::MAX,
                )
                .into(),
                // No body passage for a partner without the right to the full text.
                body: may_read_body(viewer, &hit.article, now).then(|| {
                    gazette_domain::search::highlight(
                        &hit.article.body.to_plain_text(),
                        &query,
                        crate::graphql::SNIPPET_CHARS,
                    )
                    .into()
                }),
            },
            article: ArticleSummary::from(&hit.article),
            score: hit.score,
        })
        .collect();
    Ok(SearchAnswer {
        items,
        page_info: PageInfoJson {
            has_next_page: result.has_next,
            end_cursor: (count > 0).then(|| OffsetCursor(offset + count).encode()),
        },
    })
}
