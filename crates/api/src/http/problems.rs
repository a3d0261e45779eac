//! The problem responses every read documents besides its 200: response sets for the
//! handlers' `#[utoipa::path]` annotations (a leaf module, so handlers and the document
//! builder both depend on it and not on each other).

use crate::error::Problem;
use utoipa::{IntoResponses, ToResponse};

// The answers below are those the layers around every read give as well as the handler's:
// the caching layer's 304, the rate-limit layer's 429, the store's 503. Each read lists them;
// the ones worded alike everywhere are written once here and placed with `#[to_response]`.

/// The `If-None-Match` ETag still matches: nothing changed since.
#[derive(ToResponse)]
#[response(headers(("etag" = String, description = "The representation's ETag")))]
pub struct NotModified;

/// The bearer token is invalid, expired or not for this service.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("www-authenticate" = String, description = "The bearer challenge"))
)]
pub struct BadToken(pub Problem);

/// This caller (an address, or a partner's token) has spent its request budget.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(
        ("retry-after" = u64, description = "Seconds to wait"),
        ("ratelimit-limit" = u64, description = "The budget's burst size"),
        ("ratelimit-remaining" = u64, description = "Requests left now: 0"),
        ("ratelimit-reset" = u64, description = "Seconds until a request is allowed")
    )
)]
pub struct BudgetSpent(pub Problem);

/// The server failed; the problem's `detail` carries an id to quote.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct ServerFailed(pub Problem);

/// The database is unavailable for the moment.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("retry-after" = u64, description = "Seconds to wait"))
)]
pub struct StorageUnavailable(pub Problem);

/// What any list read can answer besides its 200.
#[derive(IntoResponses)]
pub enum ListProblems {
    #[response(status = 304)]
    NotModified(#[to_response] NotModified),
    /// A parameter is malformed or out of range (`field` names it), or a combination of them
    /// is not allowed.
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    #[response(status = 401)]
    Unauthenticated(#[to_response] BadToken),
    #[response(status = 429)]
    RateLimited(#[to_response] BudgetSpent),
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    #[response(status = 503)]
    Unavailable(#[to_response] StorageUnavailable),
}

/// What a read of one named thing can answer besides its 200.
#[derive(IntoResponses)]
pub enum LookupProblems {
    #[response(status = 304)]
    NotModified(#[to_response] NotModified),
    /// A parameter is malformed or out of range (`field` names it).
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    #[response(status = 401)]
    Unauthenticated(#[to_response] BadToken),
    /// Nothing by that name, or nothing the caller may see.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    #[response(status = 429)]
    RateLimited(#[to_response] BudgetSpent),
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    #[response(status = 503)]
    Unavailable(#[to_response] StorageUnavailable),
}

/// What a live stream (`GET /v1/live`) can answer instead of its event stream: no 304 (a
/// stream has no representation to revalidate).
#[derive(IntoResponses)]
pub enum StreamProblems {
    /// The topic filter or the cursor is malformed, or the cursor is from another log.
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    #[response(status = 401)]
    Unauthenticated(#[to_response] BadToken),
    /// A topic of the filter does not exist.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// This address holds its most streams at once, or has spent its request budget.
    #[response(
        status = 429,
        content_type = "application/problem+json",
        headers(("retry-after" = u64, description = "Seconds to wait"))
    )]
    RateLimited(Problem),
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    /// The process holds its most streams at once or is stopping, or storage is unavailable.
    #[response(
        status = 503,
        content_type = "application/problem+json",
        headers(("retry-after" = u64, description = "Seconds to wait"))
    )]
    Unavailable(Problem),
}

/// What the readiness check can answer besides its 200: never stored, never rate limited.
#[derive(IntoResponses)]
pub enum ReadinessProblems {
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    /// The database does not answer, or its pool is saturated.
    #[response(
        status = 503,
        content_type = "application/problem+json",
        headers(("retry-after" = u64, description = "Seconds to wait"))
    )]
    Unavailable(Problem),
}

/// What the view beacon can answer besides its 202.
#[derive(IntoResponses)]
pub enum BeaconProblems {
    /// The body is not JSON or does not name exactly one article (`field` says which input).
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    /// The body is larger than 2 KiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// This address sends beacons faster than its rate.
    #[response(
        status = 429,
        content_type = "application/problem+json",
        headers(("retry-after" = u64, description = "Seconds to wait"))
    )]
    RateLimited(Problem),
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    #[response(status = 503)]
    Unavailable(#[to_response] StorageUnavailable),
}

/// What a webhook read, a delete or a secret rotation (no body) can answer besides its
/// success: no 304 (never cached).
#[derive(IntoResponses)]
pub enum WebhookProblems {
    /// A parameter is malformed or out of range (`field` names it: `id`, `first`).
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    /// No bearer token, or one that is invalid, expired or not for this service.
    #[response(
        status = 401,
        content_type = "application/problem+json",
        headers(("www-authenticate" = String, description = "The bearer challenge"))
    )]
    Unauthenticated(Problem),
    /// The token is an editor's: webhooks are for partners and admins.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such subscription, or another partner's.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// This partner has spent its request budget.
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
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    #[response(status = 503)]
    Unavailable(#[to_response] StorageUnavailable),
}

/// What listing webhook subscriptions can answer besides its success (it takes no input).
#[derive(IntoResponses)]
pub enum WebhookListProblems {
    /// No bearer token, or one that is invalid, expired or not for this service.
    #[response(
        status = 401,
        content_type = "application/problem+json",
        headers(("www-authenticate" = String, description = "The bearer challenge"))
    )]
    Unauthenticated(Problem),
    /// The token is an editor's: webhooks are for partners and admins.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// This partner has spent its request budget.
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
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    #[response(status = 503)]
    Unavailable(#[to_response] StorageUnavailable),
}

/// What a webhook write can answer besides its success.
#[derive(IntoResponses)]
pub enum WebhookWriteProblems {
    /// The body is not JSON of the documented shape (`BAD_REQUEST`), or a value breaks a rule
    /// (`BAD_USER_INPUT`, `field` names it: `url` for a target that is not https or not
    /// public, `topics`, `events`, `since`, `id`).
    #[response(status = 400, content_type = "application/problem+json")]
    BadInput(Problem),
    /// No bearer token, or one that is invalid, expired or not for this service.
    #[response(
        status = 401,
        content_type = "application/problem+json",
        headers(("www-authenticate" = String, description = "The bearer challenge"))
    )]
    Unauthenticated(Problem),
    /// The token is an editor's (webhooks are for partners and admins), or webhooks are off.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such subscription (or another partner's), or a topic named does not exist.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The token subject holds its most subscriptions already.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// The body is larger than the server's limit (`GAZETTE_MAX_BODY_BYTES`).
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not sent as `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
    /// This partner has spent its request budget.
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
    #[response(status = 500)]
    Internal(#[to_response] ServerFailed),
    #[response(status = 503)]
    Unavailable(#[to_response] StorageUnavailable),
}
