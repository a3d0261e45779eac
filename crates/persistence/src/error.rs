//! What can go wrong in storage.

use gazette_domain::{EditError, TransitionError, ValidationError};
use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

use crate::gate::{SATURATED, UNREACHABLE};

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
    /// The database cannot be reached, or its pool is saturated; try again later.
    #[error("database unavailable")]
    Unavailable(#[source] DbErr),
    /// A statement ran past its time limit (PostgreSQL's `statement_timeout`, SQLite's busy
    /// timeout on the write lock); nothing it would have written was kept.
    #[error("the database took too long")]
    Timeout(#[source] DbErr),
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
        if is_unavailable(&err) {
            Self::Unavailable(err)
        } else if is_timeout(&err) {
            Self::Timeout(err)
        } else {
            Self::Database(err)
        }
    }
}

impl StoreError {
    /// Whether the store refused the statement itself (pool saturated, database known to be
    /// unreachable) rather than the database failing it: expected under load and during an
    /// outage, so not worth a log line per request.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Unavailable(DbErr::Custom(m)) if m == SATURATED || m == UNREACHABLE)
    }
}

/// The database cannot serve now: the gate refused, or the connection failed.
fn is_unavailable(err: &DbErr) -> bool {
    matches!(err, DbErr::Custom(m) if m == SATURATED || m == UNREACHABLE)
        || is_connection_failure(err)
}

/// The sqlx error inside a sea-orm one.
fn sqlx_error(err: &DbErr) -> Option<&sqlx::Error> {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

/// The connection to the database failed (refused, dropped, never established): what the
/// circuit breaker counts. A statement the database refused on its merits is not one.
pub(crate) fn is_connection_failure(err: &DbErr) -> bool {
    if matches!(err, DbErr::ConnectionAcquire(_)) {
        // The gate never lets more statements ask than the pool holds, so sqlx timing out
        // means it could not open a connection.
        return true;
    }
    if let Some(e) = sqlx_error(err) {
        return match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL class 08 (connection exception), 57P01–57P03 (shutting down,
            // cannot connect now), 53300 (too many connections), 55000 on connect (the
            // database does not allow connections).
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                code.starts_with("08")
                    || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
                    || (matches!(err, DbErr::Conn(_)) && code == "55000")
            }),
            _ => false,
        };
    }
    match err {
        DbErr::Conn(_) => true,
        DbErr::Exec(e) | DbErr::Query(e) => is_connection_failure_text(&e.to_string()),
        _ => false,
    }
}

/// A statement ran out of time: PostgreSQL cancelled it (57014) or gave up on a lock
/// (55P03); SQLite stayed busy or locked past the busy timeout (result codes 5 and 6 and
/// their extended forms).
fn is_timeout(err: &DbErr) -> bool {
    let Some(sqlx::Error::Database(db)) = sqlx_error(err) else {
        return false;
    };
    let Some(code) = db.code() else { return false };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
    } else {
        matches!(&*code, "57014" | "55P03")
    }
}

/// sqlx reports some dropped sockets only as text.
fn is_connection_failure_text(message: &str) -> bool {
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
