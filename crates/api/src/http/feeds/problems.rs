//! The problem responses of the feed and sitemap routes besides their 200, as response sets for
//! the handlers' `#[utoipa::path]` annotations, in the words of [`crate::http::problems`] (whose
//! sets the `/v1` reads use). The 304, 429 and 503 come from the layers around every route
//! (caching, rate limits, the store's admission).

use crate::error::Problem;
use crate::http::problems::{BadToken, BudgetSpent, NotModified, ServerFailed, StorageUnavailable};
use utoipa::{IntoResponses, ToResponse};

/// The bearer token is invalid, expired or not for this service, or `content=full` was
/// asked for without one.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("www-authenticate" = String, description = "The bearer challenge"))
)]
pub struct FullTextUnauthenticated(pub Problem);

/// `content=full` with a token that can never have full text (a partner's without the
/// `syndication` scope).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct FullTextForbidden(pub Problem);

/// What the latest feeds can answer besides their 200.
#[derive(IntoResponses)]
pub enum FeedProblems {
    #[response(status = 304)]
    NotModified(#[to_response] NotModified),
    /// `limit` or `content` is malformed or out of range (`field` names it), or the query
    /// string cannot be read (a repeated parameter).
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    #[response(status = 401)]
    Unauthenticated(#[to_response] FullTextUnauthenticated),
    #[response(status = 403)]
    Forbidden(#[to_response] FullTextForbidden),
    #[response(status = 429)]
    RateLimited(#[to_response] BudgetSpent),
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    #[response(status = 503)]
    Unavailable(#[to_response] StorageUnavailable),
}

/// What a topic feed can answer besides its 200.
#[derive(IntoResponses)]
pub enum TopicFeedProblems {
    #[response(status = 304)]
    NotModified(#[to_response] NotModified),
    /// `limit` or `content` is malformed or out of range, or the file name is not a slug
    /// and a feed extension (`field` names it: `limit`, `content`, `file`).
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    #[response(status = 401)]
    Unauthenticated(#[to_response] FullTextUnauthenticated),
    #[response(status = 403)]
    Forbidden(#[to_response] FullTextForbidden),
    /// No topic has that slug.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    #[response(status = 429)]
    RateLimited(#[to_response] BudgetSpent),
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    #[response(status = 503)]
    Unavailable(#[to_response] StorageUnavailable),
}

/// What the news sitemap can answer besides its 200 (it takes no parameters).
#[derive(IntoResponses)]
pub enum NewsSitemapProblems {
    #[response(status = 304)]
    NotModified(#[to_response] NotModified),
    #[response(status = 401)]
    Unauthenticated(#[to_response] BadToken),
    #[response(status = 429)]
    RateLimited(#[to_response] BudgetSpent),
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    #[response(status = 503)]
    Unavailable(#[to_response] StorageUnavailable),
}

/// What the archive sitemap's index can answer besides its 200 (it reads no token and takes
/// no parameters).
#[derive(IntoResponses)]
pub enum SitemapIndexProblems {
    #[response(status = 304)]
    NotModified(#[to_response] NotModified),
    #[response(status = 429)]
    RateLimited(#[to_response] BudgetSpent),
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    #[response(status = 503)]
    Unavailable(#[to_response] StorageUnavailable),
}

/// What a page of the archive sitemap can answer besides its 200 (it reads no token).
#[derive(IntoResponses)]
pub enum ArchiveSitemapProblems {
    #[response(status = 304)]
    NotModified(#[to_response] NotModified),
    /// The file name is not `articles-{n}.xml` with `n` from 1 to 50,000 (`field` is `file`).
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    /// A page past the end of the archive.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    #[response(status = 429)]
    RateLimited(#[to_response] BudgetSpent),
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    #[response(status = 503)]
    Unavailable(#[to_response] StorageUnavailable),
}
