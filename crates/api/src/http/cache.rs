//! HTTP caching: what a public response contains, named for CDNs.
//!
//! Handlers attach [`CacheTags`] to a response as an extension; the caching layer turns them
//! into `Surrogate-Key` and `Cache-Tag` headers (and adds ETag, `Cache-Control` and `Vary`).

use axum::response::Response;
pub use gazette_app::tags::{CacheTags, Storability};

/// Attaches tags to a response for the caching layer to publish.
pub trait AttachTags {
    /// Adds `self` to the tags `response` already carries.
    fn attach(self, response: &mut Response);
}

impl AttachTags for CacheTags {
    fn attach(self, response: &mut Response) {
        if let Some(existing) = response.extensions_mut().get_mut::<CacheTags>() {
            existing.extend(&self);
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

/// The `Cache-Control` value of `storability` under `policy`.
fn cache_control(storability: Storability, policy: &CachePolicy) -> String {
    match storability {
        Storability::Public => format!(
            "public, max-age={}, stale-while-revalidate={}",
            policy.max_age_secs, policy.stale_while_revalidate_secs
        ),
        Storability::Private => "private, no-cache".to_owned(),
        Storability::NoStore => "no-store".to_owned(),
    }
}

/// The caching layer. Every staff answer and every answer showing a preview is `no-store`,
/// whatever the method. Every GET and HEAD gets `Cache-Control` by [`Storability`] (`no-store`
/// for errors, and whenever the rule says so, whatever the handler chose; a handler's own
/// stricter choice is kept otherwise), a strong ETag over the bytes sent (after compression,
/// so each encoding has its own) up to the configured size, `304 Not Modified` when
/// `If-None-Match` names it, `Vary: Authorization`, and the response's [`CacheTags`] as
/// `Surrogate-Key` and `Cache-Tag`. A body over the ETag limit is sent as it is, without one.
pub async fn caching(
    axum::extract::State(http): axum::extract::State<super::HttpState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::{Method, header};
    let read = request.method() == Method::GET || request.method() == Method::HEAD;
    let (parts, body) = request.into_parts();
    // Verified once per request (the rate-limit layer leaves the outcome on the request).
    let viewer = super::caller::Authenticated::of(&parts, &http).ok();
    let if_none_match = parts.headers.get(header::IF_NONE_MATCH).cloned();
    let mut response = next
        .run(axum::extract::Request::from_parts(parts, body))
        .await;
    let policy = &http.app.config().cache;
    // Left on the response for the response cache outside this layer.
    let tags = response
        .extensions()
        .get::<CacheTags>()
        .cloned()
        .unwrap_or_default();
    if !read {
        // Answers to POST are not stored unless they say so; staff answers and previews say
        // explicitly that they must not be.
        if Storability::of(viewer.as_ref(), tags.is_never_store()) == Storability::NoStore {
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
        }
        return response;
    }
    append_vary(response.headers_mut(), "authorization");
    publish_tags(response.headers_mut(), &tags);
    let status = response.status();
    let storability = if status == axum::http::StatusCode::OK {
        Storability::of(viewer.as_ref(), tags.is_never_store())
    } else {
        Storability::NoStore
    };
    if (storability == Storability::NoStore
        || !response.headers().contains_key(header::CACHE_CONTROL))
        && let Ok(value) = header::HeaderValue::from_str(&cache_control(storability, policy))
    {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    if storability == Storability::NoStore {
        // Nobody keeps it, so nobody revalidates it: no ETag to compute.
        response.headers_mut().remove(header::ETAG);
        return response;
    }
    let etag = match response.headers().get(header::ETAG).cloned() {
        Some(etag) => etag,
        None => {
            let (mut parts, body) = response.into_parts();
            match buffer_up_to(body, policy.max_etag_body_bytes).await {
                Ok(Buffered::Whole(bytes)) => {
                    let etag = strong_etag(&bytes);
                    parts.headers.insert(header::ETAG, etag.clone());
                    response = Response::from_parts(parts, axum::body::Body::from(bytes));
                    etag
                }
                // Too large to hash: answered as it is, without a validator.
                Ok(Buffered::TooLarge(body)) => return Response::from_parts(parts, body),
                Err(error) => {
                    use axum::response::IntoResponse as _;
                    return crate::ApiError::internal(&error).into_response();
                }
            }
        }
    };
    match if_none_match {
        Some(candidates) if etag_matches(&candidates, &etag) => not_modified(&response),
        _ => response,
    }
}

/// A body read into memory, or, past the limit, handed back whole to be streamed on.
pub(super) enum Buffered {
    Whole(axum::body::Bytes),
    TooLarge(axum::body::Body),
}

/// Reads `body` while it stays within `limit` bytes. Past it, the chunks read so far and the
/// unread rest are put back together, so nothing is lost and nothing more is held.
pub(super) async fn buffer_up_to(
    mut body: axum::body::Body,
    limit: usize,
) -> Result<Buffered, axum::Error> {
    use axum::body::HttpBody as _;
    if body.size_hint().lower() > limit as u64 {
        return Ok(Buffered::TooLarge(body));
    }
    let mut chunks: Vec<axum::body::Bytes> = Vec::new();
    let mut length = 0usize;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        // Trailers: our handlers send none, and an ETag covers the body only.
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        length = length.saturating_add(data.len());
        chunks.push(data);
        if length > limit {
            return Ok(Buffered::TooLarge(axum::body::Body::new(Replayed {
                read: chunks.into(),
                rest: body,
            })));
        }
    }
    let mut whole = Vec::with_capacity(length);
    for chunk in chunks {
        whole.extend_from_slice(&chunk);
    }
    Ok(Buffered::Whole(whole.into()))
}

/// The chunks already read from a body, then the rest of it.
struct Replayed {
    read: std::collections::VecDeque<axum::body::Bytes>,
    rest: axum::body::Body,
}

impl axum::body::HttpBody for Replayed {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Some(chunk) = self.read.pop_front() {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(chunk))));
        }
        std::pin::Pin::new(&mut self.rest).poll_frame(cx)
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
pub(super) fn not_modified(response: &Response) -> Response {
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
