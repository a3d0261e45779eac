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
    usize::try_from(size).unwrap_or(0) * child + 1
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
