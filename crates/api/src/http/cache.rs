//! HTTP caching: what a public response contains, named for CDNs.
//!
//! Handlers attach [`CacheTags`] to a response as an extension; the caching layer turns them
//! into `Surrogate-Key` and `Cache-Tag` headers (and adds ETag, `Cache-Control` and `Vary`).

use std::collections::BTreeSet;

use axum::response::Response;
use uuid::Uuid;

/// The cache tags of one response: `article:<id>`, `topic:<slug>`, `list:latest`,
/// `list:trending`, … A CDN purges every response carrying a tag when what it names changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheTags(BTreeSet<String>);

impl CacheTags {
    /// No tags yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `article:<id>`.
    pub fn article(&mut self, id: Uuid) -> &mut Self {
        self.0.insert(format!("article:{id}"));
        self
    }

    /// Adds `topic:<slug>`.
    pub fn topic(&mut self, slug: &str) -> &mut Self {
        self.0.insert(format!("topic:{slug}"));
        self
    }

    /// Adds `author:<slug>`.
    pub fn author(&mut self, slug: &str) -> &mut Self {
        self.0.insert(format!("author:{slug}"));
        self
    }

    /// Adds `list:<name>` (`latest`, `trending`, `topics`, …).
    pub fn list(&mut self, name: &str) -> &mut Self {
        self.0.insert(format!("list:{name}"));
        self
    }

    /// Adds every tag of `other`.
    pub fn extend(&mut self, other: &CacheTags) -> &mut Self {
        self.0.extend(other.0.iter().cloned());
        self
    }

    /// Whether no tag was added.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tags, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Attaches the tags to `response` for the caching layer to publish.
    pub fn attach(self, response: &mut Response) {
        if let Some(existing) = response.extensions_mut().get_mut::<CacheTags>() {
            existing.0.extend(self.0);
        } else {
            response.extensions_mut().insert(self);
        }
    }
}

/// How public responses may be cached.
#[derive(Debug, Clone)]
pub struct CachePolicy {
    /// `max-age` of anonymous 200 responses, in seconds.
    pub max_age_secs: u32,
    /// `stale-while-revalidate` of anonymous 200 responses, in seconds.
    pub stale_while_revalidate_secs: u32,
    /// Largest body hashed for an ETag; larger bodies go out without one.
    pub max_etag_body_bytes: usize,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            max_age_secs: 30,
            stale_while_revalidate_secs: 300,
            max_etag_body_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Longest `Surrogate-Key` / `Cache-Tag` header sent (Fastly and Cloudflare both stop at 16 KB).
pub const MAX_TAG_HEADER_BYTES: usize = 15 * 1024;

/// The caching layer, for every GET and HEAD: a strong ETag over the bytes sent (after
/// compression, so each encoding has its own), `304 Not Modified` when `If-None-Match` names
/// it, `Cache-Control` (public for anonymous 200s, `private, no-cache` when a token was sent,
/// `no-store` for errors, unless the handler chose), `Vary: Authorization`, and the response's
/// [`CacheTags`] as `Surrogate-Key` and `Cache-Tag`.
pub async fn caching(
    axum::extract::State(policy): axum::extract::State<CachePolicy>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::{Method, header};
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return next.run(request).await;
    }
    let authenticated = request.headers().contains_key(header::AUTHORIZATION);
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    append_vary(headers, "authorization");
    if let Some(tags) = response.extensions_mut().remove::<CacheTags>() {
        publish_tags(response.headers_mut(), &tags);
    }
    let status = response.status();
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        let value = if status != axum::http::StatusCode::OK {
            "no-store".to_owned()
        } else if authenticated {
            "private, no-cache".to_owned()
        } else {
            format!(
                "public, max-age={}, stale-while-revalidate={}",
                policy.max_age_secs, policy.stale_while_revalidate_secs
            )
        };
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            response.headers_mut().insert(header::CACHE_CONTROL, value);
        }
    }
    if status != axum::http::StatusCode::OK {
        return response;
    }
    let response = match response.headers().get(header::ETAG).cloned() {
        Some(etag) => (response, etag),
        None => {
            let (mut parts, body) = response.into_parts();
            let bytes = match axum::body::to_bytes(body, policy.max_etag_body_bytes).await {
                Ok(bytes) => bytes,
                Err(error) => {
                    use axum::response::IntoResponse as _;
                    return crate::ApiError::internal(&error).into_response();
                }
            };
            let etag = strong_etag(&bytes);
            parts.headers.insert(header::ETAG, etag.clone());
            (
                Response::from_parts(parts, axum::body::Body::from(bytes)),
                etag,
            )
        }
    };
    let (response, etag) = response;
    match if_none_match {
        Some(candidates) if etag_matches(&candidates, &etag) => not_modified(&response),
        _ => response,
    }
}

/// A strong validator: the first 128 bits of the SHA-256 of the bytes sent, in hex.
pub fn strong_etag(bytes: &[u8]) -> axum::http::HeaderValue {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(bytes);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in &digest[..16] {
        tag.push_str(&format!("{byte:02x}"));
    }
    tag.push('"');
    axum::http::HeaderValue::from_str(&tag).expect("hex is a valid header value")
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 prescribes for it), or
/// is `*`.
pub fn etag_matches(
    if_none_match: &axum::http::HeaderValue,
    etag: &axum::http::HeaderValue,
) -> bool {
    let Ok(candidates) = if_none_match.to_str() else {
        return false;
    };
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(etag);
    candidates
        .split(',')
        .any(|candidate| candidate.trim() == "*" || opaque(candidate) == ours)
}

/// `304 Not Modified` for `response`: its validators and caching headers, no body.
fn not_modified(response: &Response) -> Response {
    use axum::http::header;
    let mut answer = Response::new(axum::body::Body::empty());
    *answer.status_mut() = axum::http::StatusCode::NOT_MODIFIED;
    for name in [
        header::ETAG,
        header::CACHE_CONTROL,
        header::VARY,
        header::CONTENT_LOCATION,
        header::EXPIRES,
        header::DATE,
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
    ]
    .into_iter()
    .chain(
        ["surrogate-key", "cache-tag"]
            .into_iter()
            .map(axum::http::HeaderName::from_static),
    ) {
        for value in response.headers().get_all(&name) {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    answer
}

/// Adds `field` to `Vary` unless it is there already, keeping one comma-separated header.
pub fn append_vary(headers: &mut axum::http::HeaderMap, field: &str) {
    let mut fields: Vec<String> = headers
        .get_all(axum::http::header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect();
    if fields
        .iter()
        .any(|v| v == "*" || v.eq_ignore_ascii_case(field))
    {
        return;
    }
    fields.push(field.to_ascii_lowercase());
    if let Ok(value) = axum::http::HeaderValue::from_str(&fields.join(", ")) {
        headers.insert(axum::http::header::VARY, value);
    }
}

/// Writes `tags` as `Surrogate-Key` (space-separated, Fastly) and `Cache-Tag` (comma-separated,
/// Cloudflare). When they would not fit in [`MAX_TAG_HEADER_BYTES`], list and topic tags are
/// kept before article tags, so a purge by list still reaches the response.
fn publish_tags(headers: &mut axum::http::HeaderMap, tags: &CacheTags) {
    let (articles, others): (Vec<&str>, Vec<&str>) =
        tags.iter().partition(|t| t.starts_with("article:"));
    let mut chosen = Vec::new();
    let mut length = 0;
    for tag in others.into_iter().chain(articles) {
        if length + tag.len() + 1 > MAX_TAG_HEADER_BYTES {
            break;
        }
        length += tag.len() + 1;
        chosen.push(tag);
    }
    if chosen.is_empty() {
        return;
    }
    for (name, separator) in [("surrogate-key", " "), ("cache-tag", ",")] {
        if let Ok(value) = axum::http::HeaderValue::from_str(&chosen.join(separator)) {
            headers.insert(axum::http::HeaderName::from_static(name), value);
        }
    }
}
