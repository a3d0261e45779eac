//! The problem responses of the feed and sitemap routes besides their 200, as response sets for
//! the handlers' `#[utoipa::path]` annotations, in the words of [`crate::http::problems`] (whose
//! sets the `/v1` reads use). The 304, 429 and 503 come from the layers around every route
//! (caching, rate limits, the store's admission).

use crate::error::Problem;
use utoipa::IntoResponses;

/// What the latest feeds can answer besides their 200.
#[derive(IntoResponses)]
pub enum FeedProblems {
    /// The `If-None-Match` ETag still matches: nothing changed since.
    #[response(status = 304, headers(("etag" = String, description = "The representation's ETag")))]
    NotModified,
    /// `limit` or `content` is malformed or out of range (`field` names it), or the query
    /// string cannot be read (a repeated parameter).
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    /// The bearer token is invalid, expired or not for this service, or `content=full` was
    /// asked for without one.
    #[response(
        status = 401,
        content_type = "application/problem+json",
        headers(("www-authenticate" = String, description = "The bearer challenge"))
    )]
    Unauthenticated(Problem),
    /// `content=full` with a token that can never have full text (a partner's without the
    /// `syndication` scope).
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// This caller (an address, or a partner's token) has spent its request budget.
    #[response(
        status = 429,
        content_type = "application/problem+json",
        headers(
            ("retry-after" = u64, description = "Seconds to wait"),
            ("ratelimit-limit" = u64, description = "The budget's burst size"),
            ("ratelimit-remaining" = u64, description = "Requests left now: 0"),
            ("ratelimit-reset" = u64, description = "Seconds until a request is allowed")
        )
    )]
    RateLimited(Problem),
    /// The server failed; the problem's `detail` carries an id to quote.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
    /// The database is unavailable for the moment.
    #[response(
        status = 503,
        content_type = "application/problem+json",
        headers(("retry-after" = u64, description = "Seconds to wait"))
    )]
    Unavailable(Problem),
}

/// What a topic feed can answer besides its 200.
#[derive(IntoResponses)]
pub enum TopicFeedProblems {
    /// The `If-None-Match` ETag still matches: nothing changed since.
    #[response(status = 304, headers(("etag" = String, description = "The representation's ETag")))]
    NotModified,
    /// `limit` or `content` is malformed or out of range, or the file name is not a slug
    /// and a feed extension (`field` names it: `limit`, `content`, `file`).
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    /// The bearer token is invalid, expired or not for this service, or `content=full` was
    /// asked for without one.
    #[response(
        status = 401,
        content_type = "application/problem+json",
        headers(("www-authenticate" = String, description = "The bearer challenge"))
    )]
    Unauthenticated(Problem),
    /// `content=full` with a token that can never have full text (a partner's without the
    /// `syndication` scope).
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No topic has that slug.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// This caller (an address, or a partner's token) has spent its request budget.
    #[response(
        status = 429,
        content_type = "application/problem+json",
        headers(
            ("retry-after" = u64, description = "Seconds to wait"),
            ("ratelimit-limit" = u64, description = "The budget's burst size"),
            ("ratelimit-remaining" = u64, description = "Requests left now: 0"),
            ("ratelimit-reset" = u64, description = "Seconds until a request is allowed")
        )
    )]
    RateLimited(Problem),
    /// The server failed; the problem's `detail` carries an id to quote.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
    /// The database is unavailable for the moment.
    #[response(
        status = 503,
        content_type = "application/problem+json",
        headers(("retry-after" = u64, description = "Seconds to wait"))
    )]
    Unavailable(Problem),
}

/// What the news sitemap can answer besides its 200 (it takes no parameters).
#[derive(IntoResponses)]
pub enum NewsSitemapProblems {
    /// The `If-None-Match` ETag still matches: nothing changed since.
    #[response(status = 304, headers(("etag" = String, description = "The representation's ETag")))]
    NotModified,
    /// The bearer token is invalid, expired or not for this service.
    #[response(
        status = 401,
        content_type = "application/problem+json",
        headers(("www-authenticate" = String, description = "The bearer challenge"))
    )]
    Unauthenticated(Problem),
    /// This caller (an address, or a partner's token) has spent its request budget.
    #[response(
        status = 429,
        content_type = "application/problem+json",
        headers(
            ("retry-after" = u64, description = "Seconds to wait"),
            ("ratelimit-limit" = u64, description = "The budget's burst size"),
            ("ratelimit-remaining" = u64, description = "Requests left now: 0"),
            ("ratelimit-reset" = u64, description = "Seconds until a request is allowed")
        )
    )]
    RateLimited(Problem),
    /// The server failed; the problem's `detail` carries an id to quote.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
    /// The database is unavailable for the moment.
    #[response(
        status = 503,
        content_type = "application/problem+json",
        headers(("retry-after" = u64, description = "Seconds to wait"))
    )]
    Unavailable(Problem),
}

/// What the archive sitemap's index can answer besides its 200 (it reads no token and takes
/// no parameters).
#[derive(IntoResponses)]
pub enum SitemapIndexProblems {
    /// The `If-None-Match` ETag still matches: nothing changed since.
    #[response(status = 304, headers(("etag" = String, description = "The representation's ETag")))]
    NotModified,
    /// This caller (an address, or a partner's token) has spent its request budget.
    #[response(
        status = 429,
        content_type = "application/problem+json",
        headers(
            ("retry-after" = u64, description = "Seconds to wait"),
            ("ratelimit-limit" = u64, description = "The budget's burst size"),
            ("ratelimit-remaining" = u64, description = "Requests left now: 0"),
            ("ratelimit-reset" = u64, description = "Seconds until a request is allowed")
        )
    )]
    RateLimited(Problem),
    /// The server failed; the problem's `detail` carries an id to quote.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
    /// The database is unavailable for the moment.
    #[response(
        status = 503,
        content_type = "application/problem+json",
        headers(("retry-after" = u64, description = "Seconds to wait"))
    )]
    Unavailable(Problem),
}

/// What a page of the archive sitemap can answer besides its 200 (it reads no token).
#[derive(IntoResponses)]
pub enum ArchiveSitemapProblems {
    /// The `If-None-Match` ETag still matches: nothing changed since.
    #[response(status = 304, headers(("etag" = String, description = "The representation's ETag")))]
    NotModified,
    /// The file name is not `articles-{n}.xml` with `n` from 1 to 50,000 (`field` is `file`).
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    /// A page past the end of the archive.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// This caller (an address, or a partner's token) has spent its request budget.
    #[response(
        status = 429,
        content_type = "application/problem+json",
        headers(
            ("retry-after" = u64, description = "Seconds to wait"),
            ("ratelimit-limit" = u64, description = "The budget's burst size"),
            ("ratelimit-remaining" = u64, description = "Requests left now: 0"),
            ("ratelimit-reset" = u64, description = "Seconds until a request is allowed")
        )
    )]
    RateLimited(Problem),
    /// The server failed; the problem's `detail` carries an id to quote.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
    /// The database is unavailable for the moment.
    #[response(
        status = 503,
        content_type = "application/problem+json",
        headers(("retry-after" = u64, description = "Seconds to wait"))
    )]
    Unavailable(Problem),
}
