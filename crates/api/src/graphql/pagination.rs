//! Relay connection helpers shared by every list.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{OutputType, Result};
use gazette_domain::{CursorKey, PageRequest};
use gazette_persistence::Page;

use crate::error::GqlResultExt as _;

/// Complexity of a connection field: its page size times what each node costs.
pub fn connection_cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let size = first
        .or(last)
        .unwrap_or(20)
        .clamp(0, gazette_domain::MAX_PAGE_SIZE);
    list_cost(usize::try_from(size).unwrap_or(0), child)
}

/// Complexity of any list: the most items it can hold times what each costs, plus one for the
/// list itself. Every list field is charged this way, so a nested list multiplies.
pub fn list_cost(size: usize, child: usize) -> usize {
    size.saturating_mul(child).saturating_add(1)
}

/// Complexity of a list with a `first` argument: `first` (or `default` when absent) clamped to
/// 1…`max`, times what each item costs. Out-of-range values are refused by the resolver; the
/// clamp only keeps the charge well-defined.
pub fn first_cost(first: Option<i32>, default: i32, max: i32, child: usize) -> usize {
    let size = first.unwrap_or(default).clamp(1, max);
    list_cost(usize::try_from(size).unwrap_or(1), child)
}

/// The sizes the cost model charges lists without a page size: the domain's maximum where
/// there is one, a generous nominal size where the data has none.
pub mod sizes {
    /// Topics of an article (the domain's maximum).
    pub const TOPICS_PER_ARTICLE: usize = 20;
    /// Authors of an article (the domain's maximum).
    pub const AUTHORS_PER_ARTICLE: usize = 20;
    /// Blocks of a body (the domain's maximum).
    pub const BODY_BLOCKS: usize = gazette_domain::body::MAX_BLOCKS;
    /// A whole body rendered as one string (`bodyHtml`, `bodyText`): charged as this many
    /// fields, so that a list of bodies costs what it reads and writes rather than one field a
    /// body. Measured with `make bench BENCH=abuse`: rendering and writing one seeded body as
    /// HTML takes about 44 µs of server time, some 40 times a short scalar field.
    pub const BODY_TEXT: usize = 50;
    /// Corrections of an article (nominal: corrections are few).
    pub const CORRECTIONS_PER_ARTICLE: usize = 20;
    /// Child topics of a topic (nominal: a section holds a few dozen topics).
    pub const CHILD_TOPICS: usize = 50;
    /// Field changes of a revision (nominal: an article has fewer fields).
    pub const REVISION_CHANGES: usize = 30;
}

/// Validates Relay arguments into a page request.
pub fn page_request<C: CursorKey>(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<PageRequest<C>> {
    PageRequest::from_relay(first, after.as_deref(), last, before.as_deref()).gql()
}

/// Builds a connection from a storage page, each node with its cursor.
pub fn connection<T, N: OutputType>(
    page: Page<T>,
    cursor: impl Fn(&T) -> String,
    node: impl Fn(T) -> N,
) -> Connection<String, N> {
    let mut connection = Connection::new(page.has_previous, page.has_next);
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|item| Edge::new(cursor(&item), node(item))),
    );
    connection
}
