//! The API's errors, mapped once to GraphQL error codes and to HTTP problem responses.

use async_graphql::ErrorExtensions as _;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gazette_domain::ValidationError;
use gazette_persistence::StoreError;
use serde::Serialize;

/// An error a client sees, with a stable code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The input broke a rule; `field` says which input.
    #[error("{0}")]
    BadInput(ValidationError),
    /// The request itself is malformed (not JSON, wrong shape, …).
    #[error("{0}")]
    BadRequest(String),
    /// Nothing there.
    #[error("{0} not found")]
    NotFound(String),
    /// The write clashes with stored data.
    #[error("{0}")]
    Conflict(String),
    /// No credentials, and the operation needs them.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The save was based on an older version; nothing was written.
    #[error("the article is at version {current}; reload it and apply your change again")]
    VersionConflict {
        /// The stored version.
        current: i32,
    },
    /// The status change is not allowed from the article's current status.
    #[error("{0}")]
    InvalidTransition(String),
    /// A preview token that is expired, forged or for an older revision.
    #[error("{0}")]
    InvalidPreviewToken(String),
    /// Too many requests from this client; retry after the given time.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The request body is not of a media type the route reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The request body is larger than allowed.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The database is unreachable or saturated; retry later.
    #[error("the service is temporarily unavailable; retry shortly")]
    Unavailable,
    /// The request (or one of its database statements) ran past its time limit.
    #[error("{0}")]
    Timeout(String),
    /// A fault of ours; details are in the log under the request's id.
    #[error("internal error (request id {request_id})")]
    Internal {
        /// The request's `x-request-id`, quoted to support so the log lines can be found.
        request_id: String,
    },
}

impl ApiError {
    /// The stable machine-readable code (`extensions.code`, problem `code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadInput(_) => "BAD_USER_INPUT",
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict(_) => "CONFLICT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::VersionConflict { .. } => "VERSION_CONFLICT",
            Self::InvalidTransition(_) => "INVALID_TRANSITION",
            Self::InvalidPreviewToken(_) => "INVALID_PREVIEW_TOKEN",
            Self::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Timeout(_) => "TIMEOUT",
            Self::Internal { .. } => "INTERNAL",
        }
    }

    /// The HTTP status for REST and transport-level failures.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadInput(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::VersionConflict { .. } | Self::InvalidTransition(_) => {
                StatusCode::CONFLICT
            }
            Self::Unauthenticated(_) | Self::InvalidPreviewToken(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Logs an internal failure with its cause chain and returns the opaque error clients see.
    pub fn internal(err: &(dyn std::error::Error + 'static)) -> Self {
        // The request's own id (also in its `x-request-id` header and on every log line of the
        // request); outside a request, a fresh one so the log line can still be found.
        let request_id = crate::http::observe::current_request_id()
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), |id| id.to_string());
        let mut chain = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(%request_id, error = %chain, "internal error");
        Self::Internal { request_id }
    }

    /// This error as a GraphQL error with `extensions.code` (and `field` for bad input).
    pub fn into_graphql(self) -> async_graphql::Error {
        let code = self.code();
        let field = match &self {
            Self::BadInput(e) => Some(e.field.clone()),
            _ => None,
        };
        let current_version = match &self {
            Self::VersionConflict { current } => Some(*current),
            _ => None,
        };
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = &field {
                ext.set("field", field.as_str());
            }
            if let Some(current) = current_version {
                ext.set("currentVersion", current);
            }
        })
    }
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        Self::BadInput(err)
    }
}

impl From<gazette_app::AppError> for ApiError {
    /// The one mapping of the use cases' errors to what clients see (a GraphQL code and a
    /// problem+json status both follow from the variant).
    fn from(err: gazette_app::AppError) -> Self {
        use gazette_app::AppError;
        match err {
            AppError::Invalid(e) => Self::BadInput(e),
            AppError::NotFound(what) => Self::NotFound(what),
            AppError::Unauthenticated(why) => Self::Unauthenticated(why),
            AppError::Forbidden(why) => Self::Forbidden(why),
            AppError::PreviewRefused(why) => Self::InvalidPreviewToken(why),
            AppError::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            AppError::Conflict(why) => Self::Conflict(why),
            AppError::VersionConflict { current } => Self::VersionConflict { current },
            AppError::InvalidTransition(why) => Self::InvalidTransition(why),
            AppError::Unavailable => Self::Unavailable,
            AppError::Timeout(why) => Self::Timeout(why),
            internal @ AppError::Internal(_) => Self::internal(&internal),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        Self::from_store(&err)
    }
}

impl ApiError {
    /// Sorts a storage failure into what the client may know of it (the use cases' rule).
    pub fn from_store(err: &StoreError) -> Self {
        gazette_app::AppError::from_store(err).into()
    }
}

/// `Result` to GraphQL result, through [`ApiError`] so every error carries a code.
pub trait GqlResultExt<T> {
    /// Maps the error to a coded GraphQL error.
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T, E: Into<ApiError>> GqlResultExt<T> for Result<T, E> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.into().into_graphql())
    }
}

/// An RFC 9457 problem body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// Stable code, as in GraphQL `extensions.code`.
    pub code: &'static str,
    /// The input field at fault, for bad input.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let field = match &self {
            Self::BadInput(e) => Some(e.field.clone()),
            _ => None,
        };
        let problem = Problem {
            kind: format!(
                "https://gazette.dev/problems/{}",
                self.code().to_ascii_lowercase().replace('_', "-")
            ),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: self.code(),
            field,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Self::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
