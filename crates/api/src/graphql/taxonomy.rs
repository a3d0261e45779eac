//! The topic and author queries (their types are in [`super::objects`]).

use async_graphql::connection::Connection;
use async_graphql::{Context, Object, Result};
use gazette_domain::{CursorKey, Slug, SlugCursor};

use super::ContextExt as _;
use super::objects::{AuthorNode, TopicNode};
use super::pagination::{connection, connection_cost, page_request};
use crate::error::GqlResultExt as _;

/// Topic and author reads.
#[derive(Default)]
pub struct TaxonomyQuery;

#[Object]
impl TaxonomyQuery {
    /// One topic by slug; null when absent.
    async fn topic(&self, ctx: &Context<'_>, slug: String) -> Result<Option<TopicNode>> {
        let slug = Slug::parse(&slug).gql()?;
        super::tags(ctx).topic(slug.as_str());
        Ok(optional(ctx.app_state().app().topic(&slug).await)?.map(TopicNode))
    }

    /// Every topic, by slug, as a Relay connection.
    #[graphql(complexity = "connection_cost(first, last, child_complexity)")]
    async fn topics(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, TopicNode>> {
        let page = page_request::<SlugCursor>(first, after, last, before)?;
        super::tags(ctx).list("topics");
        let result = ctx.app_state().app().topics(&page).await.gql()?;
        Ok(connection(
            result,
            |t| SlugCursor(t.slug.as_str().to_owned()).encode(),
            TopicNode,
        ))
    }

    /// One author by slug; null when absent.
    async fn author(&self, ctx: &Context<'_>, slug: String) -> Result<Option<AuthorNode>> {
        let slug = Slug::parse(&slug).gql()?;
        super::tags(ctx).author(slug.as_str());
        Ok(optional(ctx.app_state().app().author(&slug).await)?.map(AuthorNode))
    }

    /// Every author, by slug, as a Relay connection.
    #[graphql(complexity = "connection_cost(first, last, child_complexity)")]
    async fn authors(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, AuthorNode>> {
        let page = page_request::<SlugCursor>(first, after, last, before)?;
        super::tags(ctx).list("authors");
        let result = ctx.app_state().app().authors(&page).await.gql()?;
        Ok(connection(
            result,
            |a| SlugCursor(a.slug.as_str().to_owned()).encode(),
            AuthorNode,
        ))
    }
}

/// A lookup's answer as a nullable GraphQL field: not found is null, any other error a coded
/// error.
fn optional<T>(found: Result<T, gazette_app::AppError>) -> Result<Option<T>> {
    match found {
        Ok(value) => Ok(Some(value)),
        Err(gazette_app::AppError::NotFound(_)) => Ok(None),
        Err(error) => Err(crate::ApiError::from(error).into_graphql()),
    }
}
