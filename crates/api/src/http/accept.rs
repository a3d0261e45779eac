//! Content negotiation for GraphQL responses (GraphQL-over-HTTP), and the media type of a
//! request body.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};

/// The request body's media type without parameters, lower-cased (`application/json` for
/// `Application/JSON; charset=utf-8`); `None` without a `Content-Type` header, empty when it
/// is not text.
pub fn content_type_essence(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().unwrap_or_default();
    let essence = value.split(';').next().unwrap_or_default();
    Some(essence.trim().to_ascii_lowercase())
}

/// The two media types a GraphQL response may be sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphqlMediaType {
    /// `application/graphql-response+json`, the spec's own.
    GraphqlResponse,
    /// `application/json`, for legacy clients.
    Json,
}

impl GraphqlMediaType {
    /// The `Content-Type` value.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// How much a media range accepts `ty/subtype`: the q of the most specific matching range,
/// and whether that range names the type exactly (not `*/*` or `ty/*`).
fn quality(accept: &str, ty: &str, subtype: &str) -> Option<(f32, bool)> {
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .or_else(|| p.trim().strip_prefix("Q="))
            })
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let (rt, rs) = media.split_once('/').unwrap_or((media.as_str(), ""));
        let specificity = match (rt, rs) {
            (t, s) if t == ty && s == subtype => 3,
            (t, "*") if t == ty => 2,
            ("*", "*") => 1,
            _ => continue,
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map(|(specificity, q)| (q, specificity == 3))
}

/// The media type to answer in, or `None` when the client accepts neither (406).
/// No `Accept` header counts as `application/json`, as the spec says; so does a wildcard
/// (`*/*`, which browsers' and Node's `fetch` send on their own): the spec recommends
/// `application/json` for clients that did not ask for the new media type by name.
/// `application/graphql-response+json` is chosen when named, unless `application/json` is
/// preferred by a higher `q`.
pub fn negotiate(headers: &HeaderMap) -> Option<GraphqlMediaType> {
    let Some(accept) = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
    else {
        return Some(GraphqlMediaType::Json);
    };
    let (gql, gql_named) =
        quality(accept, "application", "graphql-response+json").unwrap_or((0.0, false));
    let (json, _) = quality(accept, "application", "json").unwrap_or((0.0, false));
    if gql <= 0.0 && json <= 0.0 {
        None
    } else if json <= 0.0 || (gql_named && gql >= json) {
        Some(GraphqlMediaType::GraphqlResponse)
    } else {
        Some(GraphqlMediaType::Json)
    }
}

/// Whether a browser is asking for a page (GraphiQL): `text/html` named explicitly.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept.split(',').any(|range| {
                range
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .eq_ignore_ascii_case("text/html")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn negotiation_follows_the_spec() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(GraphqlMediaType::Json));
        assert_eq!(
            negotiate(&with_accept("application/json")),
            Some(GraphqlMediaType::Json)
        );
        assert_eq!(
            negotiate(&with_accept("application/graphql-response+json")),
            Some(GraphqlMediaType::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&with_accept(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(GraphqlMediaType::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&with_accept(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(GraphqlMediaType::Json)
        );
        assert_eq!(negotiate(&with_accept("*/*")), Some(GraphqlMediaType::Json));
        assert_eq!(
            negotiate(&with_accept("application/*")),
            Some(GraphqlMediaType::Json)
        );
        assert_eq!(
            negotiate(&with_accept("application/graphql-response+json, */*;q=0.5")),
            Some(GraphqlMediaType::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&with_accept("application/json;q=0, */*")),
            Some(GraphqlMediaType::GraphqlResponse)
        );
        assert_eq!(negotiate(&with_accept("text/html")), None);
        assert_eq!(negotiate(&with_accept("application/json;q=0")), None);
    }

    #[test]
    fn browsers_want_html() {
        assert!(wants_html(&with_accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!wants_html(&with_accept("application/json")));
        assert!(!wants_html(&HeaderMap::new()));
    }
}
