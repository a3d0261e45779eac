//! Cursor pagination for REST lists: the page requests, opaque cursors and limits of GraphQL's
//! connections, read from query parameters.

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use gazette_domain::{CursorKey, PageRequest, ValidationError};
use gazette_persistence::Page;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::params::{CursorSchema, PageSize};
use crate::ApiError;
use crate::http::cache::{AttachTags as _, CacheTags};

/// Relay-style page parameters, exactly as GraphQL's connections take them: `first` (with
/// `after`) reads forwards, `last` (with `before`) backwards.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size reading forwards (20 when neither `first` nor `last` is given).
    #[param(value_type = Option<PageSize>, inline)]
    pub first: Option<String>,
    /// The `endCursor` of an earlier page of the same list: the page after it; not with
    /// `last` or `before`.
    #[param(value_type = Option<CursorSchema>)]
    pub after: Option<String>,
    /// Page size reading backwards from the end (or from `before`); not with `first`.
    #[param(value_type = Option<PageSize>, inline)]
    pub last: Option<String>,
    /// The `startCursor` of an earlier page of the same list: the page before it.
    #[param(value_type = Option<CursorSchema>)]
    pub before: Option<String>,
}

impl PageParams {
    /// The validated page request; errors name the parameter at fault.
    pub fn page_request<C: CursorKey>(&self) -> Result<PageRequest<C>, ValidationError> {
        PageRequest::from_relay(
            count("first", self.first.as_deref())?,
            self.after.as_deref(),
            count("last", self.last.as_deref())?,
            self.before.as_deref(),
        )
    }
}

/// A page size from the query string. Numbers beyond `i32` saturate so the range check, not
/// the parser, explains what is wrong with them.
fn count(field: &str, raw: Option<&str>) -> Result<Option<i32>, ValidationError> {
    raw.map(|raw| {
        raw.trim()
            .parse::<i64>()
            .map(|n| i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX }))
            .map_err(|_| ValidationError::new(field, "must be a whole number"))
    })
    .transpose()
}

/// Where a page sits in its list, as in a Relay connection's `pageInfo`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    /// More items follow this page (pass `endCursor` as `after`).
    pub has_next_page: bool,
    /// Items precede this page (pass `startCursor` as `before`).
    pub has_previous_page: bool,
    /// Cursor of the first item; null on an empty page.
    #[schema(required = true, value_type = Option<CursorSchema>)]
    pub start_cursor: Option<String>,
    /// Cursor of the last item; null on an empty page.
    #[schema(required = true, value_type = Option<CursorSchema>)]
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// The page info of `page`, each item's cursor made by `cursor`.
    pub fn of<T>(page: &Page<T>, cursor: impl Fn(&T) -> String) -> Self {
        Self {
            has_next_page: page.has_next,
            has_previous_page: page.has_previous,
            start_cursor: page.items.first().map(&cursor),
            end_cursor: page.items.last().map(&cursor),
        }
    }
}

/// The query parameters of a request; a query string that cannot be read at all (a repeated
/// parameter, broken percent-encoding) is a 400. Unknown parameters are ignored.
pub fn query<T>(params: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    params
        .map(|Query(params)| params)
        .map_err(|rejection| ApiError::BadRequest(format!("malformed query string: {rejection}")))
}

/// A JSON document of another media type (ninjs, JSON-LD) with its cache tags and, for a list,
/// the `Link` to the next page.
pub fn document<T: Serialize>(
    body: &T,
    content_type: &'static str,
    tags: CacheTags,
    next: Option<HeaderValue>,
) -> Response {
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(next) = next {
        response.headers_mut().insert(header::LINK, next);
    }
    tags.attach(&mut response);
    response
}

/// The `Link` header naming the next page: this request's URI with `key` set to `cursor` and
/// the parameters in `dropped` (a backwards page's) left out.
pub fn next_link(uri: &Uri, key: &str, cursor: &str, dropped: &[&str]) -> Option<HeaderValue> {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).ok()?;
    pairs.retain(|(name, _)| name != key && !dropped.contains(&name.as_str()));
    pairs.push((key.to_owned(), cursor.to_owned()));
    let query = serde_urlencoded::to_string(&pairs).ok()?;
    HeaderValue::from_str(&format!("<{}?{query}>; rel=\"next\"", uri.path())).ok()
}

/// Reads a `{slug}` path segment; a malformed slug is bad input naming `slug`.
pub fn path_slug(
    path: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<gazette_domain::Slug, ApiError> {
    let axum::extract::Path(raw) =
        path.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    Ok(gazette_domain::Slug::parse(&raw)?)
}

/// Query parameters of type `T`, as an extractor: a malformed query string is refused with a
/// problem (400, `BAD_REQUEST`) before the handler runs.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        query(Query::<T>::from_request_parts(parts, state).await).map(Self)
    }
}

/// A `{slug}` path segment, checked, as an extractor: a malformed slug is refused with a
/// problem naming `slug`.
#[derive(Debug)]
pub struct SlugPath(pub gazette_domain::Slug);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for SlugPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let path = axum::extract::Path::<String>::from_request_parts(parts, state).await;
        path_slug(path).map(Self)
    }
}

/// A JSON answer with the cache tags of what it shows.
#[derive(Debug)]
pub struct Tagged<T>(pub T, pub CacheTags);

impl<T: Serialize> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.0).into_response();
        self.1.attach(&mut response);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_parse_or_name_their_parameter() {
        assert_eq!(count("first", None).unwrap(), None);
        assert_eq!(count("first", Some("7")).unwrap(), Some(7));
        assert_eq!(count("last", Some("abc")).unwrap_err().field, "last");
        assert_eq!(count("first", Some("99999999999")).unwrap(), Some(i32::MAX));
        let too_big = PageParams {
            first: Some("99999999999".into()),
            ..PageParams::default()
        };
        let error = too_big
            .page_request::<gazette_domain::SlugCursor>()
            .unwrap_err();
        assert_eq!(error.field, "first");
    }
}
