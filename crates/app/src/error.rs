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
    /// The write clashes with data saved meanwhile.
    #[error("{0}")]
    Conflict(String),
    /// The save was based on an older version; nothing was written.
    #[error("the article is at version {current}; reload it and apply your change again")]
    VersionConflict {
        /// The stored version.
        current: i32,
    },
    /// The status change is not allowed from the article's current status.
    #[error("{0}")]
    InvalidTransition(String),
    /// The database is unreachable or saturated; retry later.
    #[error("the service is temporarily unavailable; retry shortly")]
    Unavailable,
    /// A database statement ran past its time limit.
    #[error("{0}")]
    Timeout(String),
    /// A fault of ours: the failure with its cause chain, for the log only.
    #[error("{0}")]
    Internal(String),
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

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        Self::from_store(&err)
    }
}

impl AppError {
    /// Sorts a storage failure into what a caller may know of it (an outage is counted and
    /// logged here; the database's own words go to the log only).
    pub fn from_store(err: &StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Self::NotFound(what.clone()),
            StoreError::Conflict(conflict) => Self::from_conflict(conflict),
            StoreError::Invalid(e) => Self::Invalid(e.clone()),
            StoreError::VersionConflict { current } => Self::VersionConflict { current: *current },
            StoreError::Transition(e) => Self::InvalidTransition(e.to_string()),
            StoreError::Unavailable(cause) => {
                crate::metrics::db_unavailable(err.is_pool_timeout());
                if err.is_refusal() {
                    tracing::debug!(error = %cause, "database statement refused");
                } else {
                    tracing::warn!(error = %cause, "database unavailable");
                }
                Self::Unavailable
            }
            StoreError::Timeout(cause) => {
                tracing::warn!(error = %cause, "database statement timed out");
                Self::Timeout("the database took too long to answer; try again".to_owned())
            }
            StoreError::Corrupt(_) | StoreError::Database(_) => {
                let mut chain = err.to_string();
                let mut source = std::error::Error::source(err);
                while let Some(cause) = source {
                    chain.push_str(": ");
                    chain.push_str(&cause.to_string());
                    source = cause.source();
                }
                Self::Internal(chain)
            }
        }
    }

    /// A broken unique rule, in stable words: a taken slug is the caller's input at fault
    /// (naming `slug`); any other rule is a conflict with a write made meanwhile.
    fn from_conflict(conflict: &gazette_persistence::Conflict) -> Self {
        use gazette_persistence::UniqueRule;
        if !conflict.detail().is_empty() {
            tracing::info!(rule = ?conflict.rule, detail = conflict.detail(), "unique rule broken");
        }
        let taken = |by: &str| {
            Self::Invalid(ValidationError::new(
                "slug",
                format!("is taken by another {by}"),
            ))
        };
        match conflict.rule {
            UniqueRule::ArticleSlug => taken("article"),
            UniqueRule::TopicSlug => taken("topic"),
            UniqueRule::AuthorSlug => taken("author"),
            UniqueRule::Other => Self::Conflict(
                "the write conflicts with data saved meanwhile; reload and try again".to_owned(),
            ),
        }
    }
}
