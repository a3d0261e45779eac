//! What can go wrong in storage.

use gazette_domain::{EditError, TransitionError, ValidationError};
use sea_orm::{DbErr, SqlErr};

/// A storage failure, sorted by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The write broke a unique rule of the schema that no check before it caught (two saves
    /// racing for one slug, say). Says which rule, never the database's words.
    #[error("{0}")]
    Conflict(Conflict),
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

/// A unique rule of the schema a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueRule {
    /// Another article has this slug.
    ArticleSlug,
    /// Another topic has this slug.
    TopicSlug,
    /// Another author has this slug.
    AuthorSlug,
    /// A rule with no message of its own (a row written twice by racing saves).
    Other,
}

/// Which unique rule a write broke. The database's own text is kept for the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The rule.
    pub rule: UniqueRule,
    detail: String,
}

impl Conflict {
    /// Sorts a unique violation by the constraint it names: SQLite says
    /// `UNIQUE constraint failed: articles.slug`, PostgreSQL names the constraint
    /// (`"articles_slug_key"`, the name a column's `UNIQUE` gets).
    pub fn from_database(detail: String) -> Self {
        let names = |table: &str| {
            detail.contains(&format!("{table}.slug"))
                || detail.contains(&format!("\"{table}_slug_key\""))
        };
        let rule = if names("articles") {
            UniqueRule::ArticleSlug
        } else if names("topics") {
            UniqueRule::TopicSlug
        } else if names("authors") {
            UniqueRule::AuthorSlug
        } else {
            UniqueRule::Other
        };
        Self { rule, detail }
    }

    /// A rule a check before the write found broken: the same error a racing write gets from
    /// the database, so clients see one answer whichever caught it.
    pub fn of(rule: UniqueRule) -> Self {
        Self {
            rule,
            detail: String::new(),
        }
    }

    /// The database's own words, for the log (never for a client).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.rule {
            UniqueRule::ArticleSlug => "the slug is taken by another article",
            UniqueRule::TopicSlug => "the slug is taken by another topic",
            UniqueRule::AuthorSlug => "the slug is taken by another author",
            UniqueRule::Other => "the write conflicts with data saved meanwhile",
        })
    }
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
            return Self::Conflict(Conflict::from_database(detail));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_are_sorted_by_constraint_on_both_databases() {
        for (detail, rule) in [
            (
                "UNIQUE constraint failed: articles.slug",
                UniqueRule::ArticleSlug,
            ),
            (
                "UNIQUE constraint failed: topics.slug",
                UniqueRule::TopicSlug,
            ),
            (
                "UNIQUE constraint failed: authors.slug",
                UniqueRule::AuthorSlug,
            ),
            (
                "duplicate key value violates unique constraint \"articles_slug_key\"",
                UniqueRule::ArticleSlug,
            ),
            (
                "duplicate key value violates unique constraint \"topics_slug_key\"",
                UniqueRule::TopicSlug,
            ),
            (
                "duplicate key value violates unique constraint \"authors_slug_key\"",
                UniqueRule::AuthorSlug,
            ),
            (
                "UNIQUE constraint failed: article_revisions.article_id, article_revisions.version",
                UniqueRule::Other,
            ),
            (
                "duplicate key value violates unique constraint \"slug_redirects_pkey\"",
                UniqueRule::Other,
            ),
        ] {
            let conflict = Conflict::from_database(detail.to_owned());
            assert_eq!(conflict.rule, rule, "{detail}");
            let shown = conflict.to_string();
            assert!(
                !shown.contains("constraint") && !shown.contains('_'),
                "{shown}"
            );
        }
    }
}
