//! The use cases' errors: what went wrong in words of the application, not of a wire. The
//! HTTP crate maps each once to a GraphQL code and a problem+json status.

use gazette_domain::ValidationError;
use gazette_persistence::StoreError;

/// Why a use case did not answer.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input broke a rule; the error names the input.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// Nothing by that name (`topic \`korea\``, `article \`…\``).
    #[error("{0} not found")]
    NotFound(String),
    /// The use case needs credentials the caller did not give.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A preview token that no longer opens its article (deleted, or saved again since).
    #[error("{0}")]
    PreviewRefused(String),
    /// Too many requests from this client; retry after the given time.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// Storage failed or refused; the HTTP crate sorts what a client may know of it.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    /// The error of a topic slug that names no topic: the one unknown-topic rule of trending,
    /// topic pages and topic feeds.
    pub fn unknown_topic(slug: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("topic `{slug}`"))
    }

    /// The error of an author slug that names no author.
    pub fn unknown_author(slug: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("author `{slug}`"))
    }
}
