//! Delta sync, shared by GraphQL `changes` and `GET /v1/changes`: a page of the change log
//! after a cursor, each entry judged for the caller on the article's current state.
//!
//! A read is a bounded number of statements whatever the page size: the due check (plus, when
//! a publication or an embargo has just come due, one short write), the log page (and, when it
//! is empty, the log's head, to refuse a cursor from elsewhere), and one batch load of its
//! articles.

use chrono::{DateTime, Utc};
use gazette_domain::changes::{
    ChangeCursor, ChangeOutcome, RemovalReason, changes_page_size, log_page, outcome,
};
use gazette_domain::{Article, CursorKey as _, ValidationError, Viewer, Visibility};
use gazette_persistence::Store;
use uuid::Uuid;

use crate::AppError;

/// What an entry tells the caller to do with one article.
#[derive(Debug, Clone)]
pub enum Change {
    /// Store or replace it: the caller may see it, as it is now.
    Upsert(Box<Article>),
    /// Drop it: the caller may not see it (any more).
    Remove(RemovalReason),
}

/// One entry of a changes page.
#[derive(Debug, Clone)]
pub struct ChangeEntry {
    /// Resume point just after this entry.
    pub cursor: String,
    /// The article.
    pub article_id: Uuid,
    /// What to do with it.
    pub change: Change,
}

/// A page of changes for one caller.
#[derive(Debug, Clone)]
pub struct ChangesPage {
    /// Entries in commit order, each article at most once.
    pub entries: Vec<ChangeEntry>,
    /// Where to resume: after the last entry, or where the read began when it is empty.
    pub next_cursor: String,
    /// More entries can be read now (ask again with `next_cursor` at once).
    pub has_more: bool,
}

impl ChangesPage {
    /// The articles to upsert, in entry order.
    pub fn upserted(&self) -> impl Iterator<Item = &Article> {
        self.entries.iter().filter_map(|e| match &e.change {
            Change::Upsert(article) => Some(article.as_ref()),
            Change::Remove(_) => None,
        })
    }
}

/// Reads the changes after `since` (absent: from the start of the log) for `viewer` at `now`:
/// at most `first` entries (default 100, at most 500). A malformed cursor is bad input naming
/// `since`; a page size out of range names `first`.
pub async fn read_changes(
    store: &Store,
    viewer: &Viewer,
    since: Option<&str>,
    first: Option<i32>,
    now: DateTime<Utc>,
) -> Result<ChangesPage, AppError> {
    let since = ChangeCursor::parse_since(since)?;
    let limit = changes_page_size(first)?;
    store.materialize_due_changes(now).await?;
    let rows = store.change_log_after(since.0, limit + 1).await?;
    if rows.is_empty() && since.0 > store.change_log_head().await? {
        // Positions only grow: this cursor is from another database (or was made up). Reading
        // on would silently wait for a log that may never reach it.
        return Err(ValidationError::new(
            "since",
            "is ahead of this change log; sync again from the start, without `since`",
        )
        .into());
    }
    let page = log_page(since, &rows, limit, now);
    let ids: Vec<Uuid> = page.entries.iter().map(|e| e.article_id).collect();
    // Every status: whether this caller may see each one is decided below, by the one rule.
    let mut articles = store.articles_by_ids(&ids, Visibility::Everything).await?;
    let entries = page
        .entries
        .iter()
        .filter_map(|entry| {
            let change = match outcome(
                viewer,
                articles.get(&entry.article_id),
                entry.ever_public,
                now,
            ) {
                ChangeOutcome::Upsert(_) => articles
                    .remove(&entry.article_id)
                    .map_or(Change::Remove(RemovalReason::Deleted), |a| {
                        Change::Upsert(Box::new(a))
                    }),
                ChangeOutcome::Remove(reason) => Change::Remove(reason),
                // Never shown to this caller: the page's cursor still moves past it.
                ChangeOutcome::Unseen => return None,
            };
            Some(ChangeEntry {
                cursor: ChangeCursor(entry.seq).encode(),
                article_id: entry.article_id,
                change,
            })
        })
        .collect();
    Ok(ChangesPage {
        entries,
        next_cursor: page.next.encode(),
        has_more: page.has_more,
    })
}

impl crate::App {
    /// [`read_changes`] on this application's store.
    pub async fn changes_page(
        &self,
        viewer: &Viewer,
        since: Option<&str>,
        first: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<ChangesPage, AppError> {
        read_changes(self.store(), viewer, since, first, now).await
    }

    /// [`read_changes`] on this application's store: the changes after `since` for `viewer`
    /// at `now`, with the topics and authors of the articles to upsert.
    pub async fn changes(
        &self,
        viewer: &Viewer,
        since: Option<&str>,
        first: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<(ChangesPage, crate::Relations), AppError> {
        let page = self.changes_page(viewer, since, first, now).await?;
        let upserted: Vec<Article> = page.upserted().cloned().collect();
        let relations = self
            .relations(&upserted, crate::ListedIds::default())
            .await?;
        Ok((page, relations))
    }
}
