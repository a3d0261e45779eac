//! Delta sync over GraphQL: `changes(since:, first:)`.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use gazette_domain::changes::{MAX_CHANGES_PAGE, RemovalReason};

use super::ContextExt as _;
use super::loaders::load_error;
use super::objects::ArticleNode;
use crate::error::GqlResultExt as _;
use gazette_app::changes::{Change, ChangeEntry};

/// What a change entry tells a mirror to do.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAction {
    /// Store the article, replacing any copy: you may see it, as it is now.
    Upsert,
    /// Drop the article: you may not see it (any more). A tombstone.
    Remove,
}

/// Why an article left what you may see.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "RemovalReason")]
pub enum RemovalReasonKind {
    /// It was deleted.
    Deleted,
    /// It was archived.
    Archived,
    /// It is not published now (back to draft, or scheduled for later).
    Unpublished,
    /// It is public, but embargoed for you until a later time.
    Embargoed,
    /// It is public, but not for you.
    Withheld,
    /// Its expiry time has passed.
    Expired,
    /// It was killed (a legal or safety takedown).
    Killed,
}

impl From<RemovalReason> for RemovalReasonKind {
    fn from(reason: RemovalReason) -> Self {
        match reason {
            RemovalReason::Deleted => Self::Deleted,
            RemovalReason::Archived => Self::Archived,
            RemovalReason::Unpublished => Self::Unpublished,
            RemovalReason::Embargoed => Self::Embargoed,
            RemovalReason::Withheld => Self::Withheld,
            RemovalReason::Expired => Self::Expired,
            RemovalReason::Killed => Self::Killed,
        }
    }
}

/// One article that changed for you: an upsert carrying the article, or a tombstone.
#[derive(SimpleObject)]
pub struct ArticleChange {
    /// Resume point just after this entry (pass it as `since`).
    cursor: String,
    /// The article's id.
    id: ID,
    /// Store or drop.
    action: ChangeAction,
    /// The article as it is now (`UPSERT` only).
    article: Option<ArticleNode>,
    /// Why it was dropped (`REMOVE` only).
    reason: Option<RemovalReasonKind>,
}

impl From<ChangeEntry> for ArticleChange {
    fn from(entry: ChangeEntry) -> Self {
        let (action, article, reason) = match entry.change {
            Change::Upsert(article) => (ChangeAction::Upsert, Some((*article).into()), None),
            Change::Remove(reason) => (ChangeAction::Remove, None, Some(reason.into())),
        };
        Self {
            cursor: entry.cursor,
            id: ID(entry.article_id.to_string()),
            action,
            article,
            reason,
        }
    }
}

/// A page of changes, in commit order, each article at most once.
#[derive(SimpleObject)]
pub struct ArticleChanges {
    /// The changes.
    entries: Vec<ArticleChange>,
    /// Where to resume: pass it as `since` next time. Always present, also when `entries` is
    /// empty.
    next_cursor: String,
    /// More changes can be read now: ask again at once with `nextCursor`.
    has_more: bool,
}

/// Complexity of `changes`: its page size times what each entry costs.
fn changes_cost(first: Option<i32>, child: usize) -> usize {
    let size = first.unwrap_or(100).clamp(1, MAX_CHANGES_PAGE);
    usize::try_from(size).unwrap_or(0) * child + 1
}

/// Delta sync reads.
#[derive(Default)]
pub struct ChangesQuery;

#[Object]
impl ChangesQuery {
    /// Every article that became visible to you, changed, or stopped being visible to you
    /// (unpublished, archived, deleted, embargoed for you) since `since`, in commit order.
    /// Replay the entries into your copy — `UPSERT` stores `article`, `REMOVE` drops `id` —
    /// then keep `nextCursor` for the next call. Without `since`, reads from the start: a full
    /// initial sync. Scheduled stories and lifted embargoes appear at their time. `first`:
    /// 1 to 500 entries (default 100).
    #[graphql(complexity = "changes_cost(first, child_complexity)")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        since: Option<String>,
        #[graphql(default = 100)] first: Option<i32>,
    ) -> Result<ArticleChanges> {
        let state = ctx.app_state();
        let request = ctx.request_context();
        let page = state
            .app()
            .changes_page(&request.viewer, since.as_deref(), first, request.now())
            .await
            .gql()?;
        let articles: Vec<&gazette_domain::Article> = page.upserted().collect();
        ctx.loaders()
            .prefetch_for_articles(
                ctx.look_ahead().field("entries").field("article"),
                &articles,
            )
            .await
            .map_err(load_error)?;
        let entries = page.entries.into_iter().map(ArticleChange::from).collect();
        Ok(ArticleChanges {
            entries,
            next_cursor: page.next_cursor,
            has_more: page.has_more,
        })
    }
}
