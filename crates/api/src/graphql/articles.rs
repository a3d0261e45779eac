//! The article queries (the `Article` type is in [`super::objects`]).

use std::collections::HashMap;

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, Result};
use gazette_domain::{Article, CursorKey, EditedCursor, Slug, ValidationError};
use gazette_persistence::{LookedUp, LookupExtras};

use super::ContextExt as _;

use super::loaders::{Known, load_error, selects_body};
use super::objects::{
    ArticleFilterInput, ArticleNode, ArticleOrderBy, ArticleStatus, article_connection, parse_uuid,
};
use super::pagination::{connection, connection_cost, page_request};
use crate::error::GqlResultExt as _;

/// Article reads.
#[derive(Default)]
pub struct ArticleQuery;

#[Object]
impl ArticleQuery {
    /// One article by slug or by id (exactly one of them); null when absent or not visible.
    async fn article(
        &self,
        ctx: &Context<'_>,
        slug: Option<String>,
        id: Option<ID>,
    ) -> Result<Option<ArticleNode>> {
        let state = ctx.app_state();
        let request = ctx.request_context();
        let key = match (slug, id) {
            (Some(slug), None) => {
                gazette_app::articles::ArticleKey::Slug(Slug::parse(&slug).gql()?)
            }
            (None, Some(id)) => gazette_app::articles::ArticleKey::Id(parse_uuid("id", &id).gql()?),
            _ => {
                return Err(crate::ApiError::from(ValidationError::new(
                    "slug",
                    "give exactly one of `slug` and `id`",
                ))
                .into_graphql());
            }
        };
        let node = ctx.look_ahead();
        let extras = LookupExtras {
            topic_ids: node.field("topics").exists(),
            author_ids: node.field("authors").exists(),
            body: selects_body(&node),
        };
        let found = state
            .app()
            .article(&request.viewer, &key, request.now(), extras)
            .await
            .gql()?;
        let Some(LookedUp {
            article,
            topic_ids,
            author_ids,
            body,
        }) = found
        else {
            // Purged when an article is published, in case this is the one.
            super::tags(ctx).list("latest");
            return Ok(None);
        };
        super::tags(ctx).article(article.id);
        // Its corrections… each in one statement, at once; its topic and author ids and its
        // body came with it.
        let id = article.id;
        let known = Known {
            topic_ids: topic_ids.map(|ids| HashMap::from([(id, ids)])),
            author_ids: author_ids.map(|ids| HashMap::from([(id, ids)])),
            bodies: body.map(|body| HashMap::from([(id, body)])),
        };
        ctx.loaders()
            .prefetch_known(node, &[&article], known)
            .await
            .map_err(load_error)?;
        Ok(Some(ArticleNode::from(article)))
    }

    /// The newsroom's list (editors and admins only): every article in the given statuses
    /// (all when omitted), drafts included, last saved first.
    #[graphql(
        complexity = "connection_cost(first, last, child_complexity)",
        guard = "super::StaffOnly"
    )]
    async fn editorial_articles(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<ArticleStatus>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, ArticleNode>> {
        let staff = ctx.staff()?;
        let page = page_request::<EditedCursor>(first, after, last, before)?;
        let statuses: Vec<gazette_domain::ArticleStatus> = status
            .unwrap_or_default()
            .into_iter()
            .map(gazette_domain::ArticleStatus::from)
            .collect();
        let result = ctx
            .app_state()
            .app()
            .editorial_articles(&staff, &statuses, &page)
            .await
            .gql()?;
        let articles: Vec<&Article> = result.items.iter().collect();
        ctx.loaders()
            .prefetch_for_articles(ctx.look_ahead().field("edges").field("node"), &articles)
            .await
            .map_err(load_error)?;
        Ok(connection(
            result,
            |a| {
                EditedCursor {
                    updated_at: a.updated_at,
                    id: a.id,
                }
                .encode()
            },
            ArticleNode::from,
        ))
    }

    /// Articles, newest first by default, as a Relay connection (at most 100 a page).
    #[graphql(complexity = "connection_cost(first, last, child_complexity)")]
    #[expect(
        clippy::too_many_arguments,
        reason = "the arguments are the field's GraphQL contract"
    )]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ArticleFilterInput>,
        #[graphql(default_with = "Some(ArticleOrderBy::Newest)")] order_by: Option<ArticleOrderBy>,
    ) -> Result<Connection<String, ArticleNode>> {
        let filter = filter.unwrap_or_default().parse().gql()?;
        super::tags(ctx).list("latest");
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
