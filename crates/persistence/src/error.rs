//! What can go wrong in storage.

use gazette_domain::{EditError, TransitionError, ValidationError};
use sea_orm::{DbErr, SqlErr};

/// A storage failure, sorted by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The write clashes with stored data (a taken slug, …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input broke a rule only storage can check (an unknown topic, …).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The save was based on an older version than the stored one; nothing was written.
    #[error("the article is at version {current}; reload it and apply your change again")]
    VersionConflict {
        /// The stored version.
        current: i32,
    },
    /// The status change is not allowed from where the article is.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The database cannot be reached; try again later.
    #[error("database unavailable")]
    Unavailable(#[source] DbErr),
    /// Stored data does not read back as valid domain data.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Any other database failure.
    #[error("database error")]
    Database(#[source] DbErr),
}

impl StoreError {
    /// Whether no pooled connection came free within the acquire timeout (the pool is
    /// saturated), as opposed to the database being unreachable.
    pub fn is_pool_timeout(&self) -> bool {
        matches!(
            self,
            Self::Unavailable(DbErr::ConnectionAcquire(
                sea_orm::error::ConnAcquireErr::Timeout
            ))
        )
    }
}

impl From<EditError> for StoreError {
    fn from(err: EditError) -> Self {
        match err {
            EditError::Invalid(e) => Self::Invalid(e),
            EditError::Transition(e) => Self::Transition(e),
        }
    }
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
            return Self::Conflict(detail);
        }
        match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Self::Unavailable(err),
            DbErr::Exec(ref e) | DbErr::Query(ref e) if is_connection_failure(&e.to_string()) => {
                Self::Unavailable(err)
            }
            other => Self::Database(other),
        }
    }
}

/// sqlx reports a dropped socket as an I/O error inside Exec/Query.
fn is_connection_failure(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "connection refused",
        "connection reset",
        "broken pipe",
        "pool timed out",
        "io error",
        "error communicating with database",
        "terminating connection",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}
