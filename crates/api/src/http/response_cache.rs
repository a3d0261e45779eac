//! The public response cache: finished answers to anonymous and partner reads, kept in memory
//! and served again without running the handler, recomputing the ETag or compressing again.
//!
//! It sits between the rate-limit layer (a hit still counts against the caller's budget) and
//! the [`caching`](super::cache::caching) layer, and stores what that layer produced: status,
//! headers (ETag, `Cache-Control`, `Vary`, `Surrogate-Key`, content encoding) and body bytes.
//!
//! **What is looked up.** `GET` of any route and `POST /graphql`, from anonymous callers and
//! partners (a partner's answers are keyed by its sorted scope set: no answer shows a
//! partner's token subject). Staff callers, callers whose token does not verify, and every
//! other method pass straight through.
//!
//! **Key.** A SHA-256 over: the method, the path and query as sent, the caller's class, the
//! request headers an answer depends on (`Accept`, `Accept-Encoding`, and for POST
//! `Content-Type`), and for POST the JSON body re-serialised canonically (object keys sorted,
//! whitespace outside strings dropped), so `{"query":…,"variables":…}` and the same fields in
//! another order or layout share an entry. The query text itself is kept as sent.
//!
//! **What is stored.** Only `200` answers the caching layer let be stored (its `Storability`
//! is public or private: never a staff answer, never one marked
//! [`CacheTags::never_store`](super::cache::CacheTags::never_store), like a preview), without
//! `Cache-Control: no-store`, and for GraphQL only query answers without errors
//! ([`GraphqlAnswer`]). A body larger than the entry bound is sent on, not stored.
//!
//! **Freshness.** Each entry carries the [`Freshness`](gazette_app::Freshness) seen before its
//! answer was computed: it is served only while the application's content generation is
//! unchanged (every write moves it; on PostgreSQL so does every other process's write, through
//! `LISTEN`) and until the next scheduled publication or embargo lift. Answers showing trending
//! (`list:trending`) end with the trending cache interval they were computed in; the news
//! sitemap's at most until its oldest story leaves the two-day window. While the cross-process
//! listener is down nothing is served from here.
//!
//! **Bound.** Total bytes (key, headers, body and a fixed overhead per entry), least recently
//! used forgotten first; `x-cache: hit` or `x-cache: miss` tells which it was.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
pub use gazette_app::answers::ResponseCacheConfig;
use gazette_app::answers::{
    AnswerCache, ENTRY_OVERHEAD, Entry, Flight, Key, Landing, caller_class,
};
use sha2::Digest as _;

use super::HttpState;
use super::cache::{Buffered, CacheTags, buffer_up_to, etag_matches, not_modified};

/// `x-cache`: whether the answer came from the response cache.
pub const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// A GraphQL answer that may be kept: a query (not a mutation) answered without errors. The
/// GraphQL handler marks its responses with it; other GraphQL answers are never stored.
#[derive(Debug, Clone, Copy)]
pub struct GraphqlAnswer;

/// One stored answer: what the caching layer produced.
#[derive(Debug)]
pub struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// The cache: finished answers by request key (the store is `gazette_app::answers`).
pub type ResponseCache = AnswerCache<Answer>;

/// The layer (see the module docs).
pub async fn response_cache(
    State(http): State<HttpState>,
    request: Request,
    next: Next,
) -> Response {
    let cache = http.app.response_cache();
    let method = request.method().clone();
    let graphql = request.uri().path() == "/graphql";
    let graphql_post = method == Method::POST && graphql;
    if !cache.enabled() || !(method == Method::GET || graphql_post) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(viewer) = super::caller::Authenticated::of(&parts, &http) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let Some(class) = caller_class(&viewer) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    // A POST body is read (within the body limit) to be part of the key, then handed on.
    let (body, canonical) = if graphql_post {
        match buffer_up_to(body, http.app.config().max_body_bytes).await {
            Ok(Buffered::Whole(bytes)) => {
                let canonical = canonical_json(&bytes);
                (Body::from(bytes), canonical)
            }
            Ok(Buffered::TooLarge(body)) => (body, None),
            // The client went away mid-body: the handler reports it.
            Err(_) => (Body::empty(), None),
        }
    } else {
        (body, Some(Vec::new()))
    };
    let request = Request::from_parts(parts, body);
    // A body that is not JSON (or too large) is the handler's to refuse; nothing to keep.
    let Some(canonical) = canonical else {
        return next.run(request).await;
    };
    let now = http.app.now();
    let freshness = match http.app.app().freshness(now).await {
        Ok(Some(freshness)) => freshness,
        // Not trusted now (the listener is away) or storage failed: computed, not kept.
        Ok(None) | Err(_) => return next.run(request).await,
    };
    let key = key_of(&request, &class, &canonical);
    if let Some(entry) = cache.get(&key, &freshness, now) {
        return hit(&entry, request.headers());
    }
    // Concurrent misses of one key compute it once: the others wait (bounded) for the first,
    // then serve what it kept, or compute it themselves when it kept nothing.
    let _leader = match cache.flight(&key) {
        Flight::Leader(guard) => Some(Landing::new(cache, key, guard)),
        Flight::Follower(running) => {
            Flight::wait(&running).await;
            if let Some(entry) = cache.get(&key, &freshness, now) {
                return hit(&entry, request.headers());
            }
            None
        }
        Flight::Alone => None,
    };
    crate::metrics::cache_lookup("response", false);
    let path_is_sitemap = request.uri().path() == "/sitemap-news.xml";
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(X_CACHE, HeaderValue::from_static("miss"));
    let Some(expires) = storable(&http, &response, graphql) else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let bytes = match buffer_up_to(body, cache.config().max_entry_bytes).await {
        Ok(Buffered::Whole(bytes)) => bytes,
        Ok(Buffered::TooLarge(body)) => return Response::from_parts(parts, body),
        Err(error) => {
            use axum::response::IntoResponse as _;
            return crate::ApiError::internal(&error).into_response();
        }
    };
    let mut headers = parts.headers.clone();
    headers.remove(X_CACHE);
    let weight = ENTRY_OVERHEAD
        + key.len()
        + bytes.len()
        + headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum::<usize>();
    let until = if path_is_sitemap {
        freshness.window_until
    } else {
        None
    };
    cache.put(
        key,
        Entry {
            value: Answer {
                status: parts.status,
                headers,
                body: bytes.clone(),
            },
            freshness,
            expires,
            until,
            weight,
        },
    );
    Response::from_parts(parts, Body::from(bytes))
}

/// A stored answer served: `304` when the request's `If-None-Match` names its ETag.
fn hit(entry: &Entry<Answer>, request_headers: &HeaderMap) -> Response {
    let entry = &entry.value;
    crate::metrics::cache_lookup("response", true);
    let mut response = match request_headers.get(header::IF_NONE_MATCH) {
        Some(candidates)
            if entry
                .headers
                .get(header::ETAG)
                .is_some_and(|etag| etag_matches(candidates, etag)) =>
        {
            not_modified(&entry.response())
        }
        _ => entry.response(),
    };
    response
        .headers_mut()
        .insert(X_CACHE, HeaderValue::from_static("hit"));
    response
}

/// The request's key (see the module docs). Every part is length-prefixed, so no two
/// different requests run together into the same bytes.
fn key_of(request: &Request, class: &str, canonical_body: &[u8]) -> Key {
    let mut hasher = sha2::Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    part(request.method().as_str().as_bytes());
    part(
        request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .as_bytes(),
    );
    part(class.as_bytes());
    for name in [
        header::ACCEPT,
        header::ACCEPT_ENCODING,
        header::CONTENT_TYPE,
    ] {
        for value in request.headers().get_all(&name) {
            part(value.as_bytes());
        }
        part(b"\0");
    }
    part(canonical_body);
    hasher.finalize().into()
}

/// The JSON `body` re-serialised with every object's keys sorted and no insignificant
/// whitespace; `None` when it is not JSON.
fn canonical_json(body: &[u8]) -> Option<Vec<u8>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut out = Vec::with_capacity(body.len());
    write_canonical(&value, &mut out);
    Some(out)
}

fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (name, field)) in fields.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Serialising a string cannot fail.
                let _ = serde_json::to_writer(&mut *out, name);
                out.push(b':');
                write_canonical(field, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

/// Whether `response` may be kept, and until when at most on the monotonic clock: a 200 the
/// caching layer let be stored (it carries the handler's [`CacheTags`], not marked
/// never-store), not `no-store`, and from `/graphql` (GET or POST) a query answer without
/// errors; one showing trending only until the end of trending's cache interval (not at all
/// when trending is not cached).
fn storable(
    http: &HttpState,
    response: &Response,
    graphql: bool,
) -> Option<Option<std::time::Instant>> {
    if response.status() != StatusCode::OK {
        return None;
    }
    if graphql && response.extensions().get::<GraphqlAnswer>().is_none() {
        return None;
    }
    let tags = response.extensions().get::<CacheTags>()?;
    if tags.is_never_store() {
        return None;
    }
    let no_store = response
        .headers()
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|directive| directive.trim().eq_ignore_ascii_case("no-store"));
    if no_store {
        return None;
    }
    if tags.iter().any(|tag| tag == "list:trending") {
        // Forgotten with the trending lists it shows, at the end of their interval.
        return http.app.views().trending_interval_end().map(Some);
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_drops_layout() {
        let a = canonical_json(br#"{ "variables": {"b": 1, "a": [1, 2]}, "query": "{ x }" }"#);
        let b = canonical_json(br#"{"query":"{ x }","variables":{"a":[1,2],"b":1}}"#);
        assert_eq!(a, b);
        assert_eq!(
            a.unwrap(),
            br#"{"query":"{ x }","variables":{"a":[1,2],"b":1}}"#.to_vec()
        );
        assert!(canonical_json(b"not json").is_none());
    }
}
