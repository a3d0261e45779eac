//! Topics and authors: their types and queries.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use gazette_domain::{Author, CursorKey, Slug, SlugCursor, Topic};
use gazette_persistence::ArticleFilter;

use super::articles::{ArticleNode, ArticleOrderBy, article_connection};
use super::loaders::{Loaders, ParentKey, load_error};
use super::pagination::{connection, connection_cost, page_request};
use crate::AppState;
use crate::error::GqlResultExt as _;

/// A topic or section as clients see it.
#[derive(Clone)]
pub struct TopicNode(pub Topic);

/// An author as clients see it.
#[derive(Clone)]
pub struct AuthorNode(pub Author);

/// A topic; sections are topics with no parent.
#[Object(name = "Topic")]
impl TopicNode {
    /// Stable id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// URL-safe unique name.
    async fn slug(&self) -> &str {
        self.0.slug.as_str()
    }
    /// Display name.
    async fn name(&self) -> &str {
        self.0.name.as_str()
    }
    /// What the topic covers.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Last change.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The section this topic belongs to.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<TopicNode>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(ctx
            .data_unchecked::<Loaders>()
            .topic
            .load_one(parent)
            .await
            .map_err(load_error)?
            .map(TopicNode))
    }
    /// The most-read articles of this topic (see `Query.trending`).
    #[graphql(complexity = "super::trending::trending_cost(first, child_complexity)")]
    async fn trending(
        &self,
        ctx: &Context<'_>,
        window: Option<super::trending::TrendingWindow>,
        first: Option<i32>,
    ) -> Result<Vec<super::trending::TrendingArticle>> {
        super::trending::trending_list(ctx, window, Some(&self.0), first).await
    }
    /// Topics under this one, by slug.
    #[graphql(
        complexity = "super::pagination::list_cost(super::pagination::sizes::CHILD_TOPICS, child_complexity)"
    )]
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<TopicNode>> {
        let children = ctx
            .data_unchecked::<Loaders>()
            .children
            .load_one(ParentKey(self.0.id))
            .await
            .map_err(load_error)?;
        Ok(children
            .unwrap_or_default()
            .into_iter()
            .map(TopicNode)
            .collect())
    }
    /// Articles tagged with this topic, newest first by default.
    #[graphql(complexity = "connection_cost(first, last, child_complexity)")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(default_with = "Some(ArticleOrderBy::Newest)")] order_by: Option<ArticleOrderBy>,
    ) -> Result<Connection<String, ArticleNode>> {
        super::tags(ctx).topic(self.0.slug.as_str());
        let filter = ArticleFilter {
            topic: Some(self.0.slug.clone()),
            ..ArticleFilter::default()
        };
        article_connection(
            ctx,
            filter,
            order_by.unwrap_or_default(),
            first,
            after,
            last,
            before,
        )
        .await
    }
}

/// A writer.
#[Object(name = "Author")]
impl AuthorNode {
    /// Stable id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// URL-safe unique name.
    async fn slug(&self) -> &str {
        self.0.slug.as_str()
    }
    /// Display name.
    async fn name(&self) -> &str {
        self.0.name.as_str()
    }
    /// Short biography.
    async fn bio(&self) -> &str {
        &self.0.bio
    }
    /// Articles by this author, newest first by default.
    #[graphql(complexity = "connection_cost(first, last, child_complexity)")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(default_with = "Some(ArticleOrderBy::Newest)")] order_by: Option<ArticleOrderBy>,
    ) -> Result<Connection<String, ArticleNode>> {
        super::tags(ctx).author(self.0.slug.as_str());
        let filter = ArticleFilter {
            author: Some(self.0.slug.clone()),
            ..ArticleFilter::default()
        };
        article_connection(
            ctx,
            filter,
            order_by.unwrap_or_default(),
            first,
            after,
            last,
            before,
        )
        .await
    }
}

/// Topic and author reads.
#[derive(Default)]
pub struct TaxonomyQuery;

#[Object]
impl TaxonomyQuery {
    /// One topic by slug; null when absent.
    async fn topic(&self, ctx: &Context<'_>, slug: String) -> Result<Option<TopicNode>> {
        let slug = Slug::parse(&slug).gql()?;
        super::tags(ctx).topic(slug.as_str());
        Ok(optional(ctx.data_unchecked::<AppState>().app().topic(&slug).await)?.map(TopicNode))
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
        let result = ctx
            .data_unchecked::<AppState>()
            .app()
            .topics(&page)
            .await
            .gql()?;
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
        Ok(optional(ctx.data_unchecked::<AppState>().app().author(&slug).await)?.map(AuthorNode))
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
        let result = ctx
            .data_unchecked::<AppState>()
            .app()
            .authors(&page)
            .await
            .gql()?;
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
