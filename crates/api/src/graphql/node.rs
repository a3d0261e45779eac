//! Relay's `node(id:)`: any object by its id.

use async_graphql::{Context, ID, Interface, Object, Result};

use super::ContextExt as _;
use super::loaders::load_error;
use super::objects::{ArticleNode, AuthorNode, TopicNode, parse_uuid};
use crate::error::GqlResultExt as _;

/// An object with a globally unique id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Globally unique id (UUID v7)."))]
pub enum Node {
    /// An article.
    Article(ArticleNode),
    /// A topic.
    Topic(TopicNode),
    /// An author.
    Author(AuthorNode),
}

/// The `node` root field.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any article, topic or author by id; null when absent or not visible.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let uuid = parse_uuid("id", &id).gql()?;
        let state = ctx.app_state();
        let request = ctx.request_context();
        if let Some(gazette_persistence::LookedUp { article, .. }) = state
            .app()
            .article(
                &request.viewer,
                &gazette_app::articles::ArticleKey::Id(uuid),
                request.now(),
                gazette_persistence::LookupExtras::default(),
            )
            .await
            .gql()?
        {
            super::tags(ctx).article(article.id);
            return Ok(Some(Node::Article(article.into())));
        }
        let loaders = ctx.loaders();
        if let Some(topic) = loaders.topic.load_one(uuid).await.map_err(load_error)? {
            super::tags(ctx).topic(topic.slug.as_str());
            return Ok(Some(Node::Topic(TopicNode(topic))));
        }
        let author = loaders.author.load_one(uuid).await.map_err(load_error)?;
        match &author {
            Some(author) => super::tags(ctx).author(author.slug.as_str()),
            None => super::tags(ctx).list("latest"),
        }
        Ok(author.map(|a| Node::Author(AuthorNode(a))))
    }
}
