//! Articles: the `Article` type, its body blocks, and the article queries.

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Union};
use chrono::{DateTime, Utc};
use gazette_domain::syndication::may_read_body;
use gazette_domain::{
    Article, ArticleCursor, ArticleOrder, Block, CursorKey, EditedCursor, Slug, ValidationError,
};
use gazette_persistence::ArticleFilter;
use uuid::Uuid;

use super::RequestContext;
use super::editorial::{CorrectionNode, RevisionNode, require_staff};
use super::loaders::{ArticleKey, Loaders, load_error};
use super::pagination::{connection, connection_cost, first_cost, list_cost, page_request, sizes};
use super::taxonomy::{AuthorNode, TopicNode};
use crate::AppState;
use crate::error::GqlResultExt as _;

/// The most related articles one list may hold, as the `first` argument counts.
const MAX_RELATED: i32 = gazette_app::related::MAX_RELATED as i32;

/// An article as clients see it.
#[derive(Clone)]
pub struct ArticleNode(pub Arc<Article>);

impl From<Article> for ArticleNode {
    fn from(article: Article) -> Self {
        Self(Arc::new(article))
    }
}

/// A paragraph of text.
#[derive(SimpleObject)]
pub struct ParagraphBlock {
    /// The text.
    text: String,
}

/// A sub-heading.
#[derive(SimpleObject)]
pub struct HeadingBlock {
    /// 2, 3 or 4.
    level: i32,
    /// The text.
    text: String,
}

/// Quoted speech.
#[derive(SimpleObject)]
pub struct QuoteBlock {
    /// The quoted words.
    text: String,
    /// Who said them.
    attribution: Option<String>,
}

/// A picture.
#[derive(SimpleObject)]
pub struct Image {
    /// Absolute URL.
    url: String,
    /// Text alternative.
    alt: String,
    /// Caption.
    caption: Option<String>,
    /// Photographer or agency.
    credit: Option<String>,
}

/// A picture inside the body.
#[derive(SimpleObject)]
pub struct ImageBlock {
    /// The picture.
    image: Image,
}

/// Third-party content referenced by URL.
#[derive(SimpleObject)]
pub struct EmbedBlock {
    /// The embedded resource.
    url: String,
    /// Who hosts it.
    provider: Option<String>,
    /// Caption.
    caption: Option<String>,
}

/// One block of an article body.
#[derive(Union)]
pub enum BodyBlock {
    /// Paragraph.
    Paragraph(ParagraphBlock),
    /// Heading.
    Heading(HeadingBlock),
    /// Quote.
    Quote(QuoteBlock),
    /// Image.
    Image(ImageBlock),
    /// Embed.
    Embed(EmbedBlock),
}

impl From<&Block> for BodyBlock {
    fn from(block: &Block) -> Self {
        match block.clone() {
            Block::Paragraph { text } => Self::Paragraph(ParagraphBlock { text }),
            Block::Heading { level, text } => Self::Heading(HeadingBlock {
                level: i32::from(level),
                text,
            }),
            Block::Quote { text, attribution } => Self::Quote(QuoteBlock { text, attribution }),
            Block::Image {
                url,
                alt,
                caption,
                credit,
            } => Self::Image(ImageBlock {
                image: Image {
                    url,
                    alt,
                    caption,
                    credit,
                },
            }),
            Block::Embed {
                url,
                provider,
                caption,
            } => Self::Embed(EmbedBlock {
                url,
                provider,
                caption,
            }),
        }
    }
}

/// An article's life-cycle status.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ArticleStatus {
    /// Being written.
    Draft,
    /// Goes live at its publish time.
    Scheduled,
    /// Live.
    Published,
    /// Taken down.
    Archived,
}

impl From<ArticleStatus> for gazette_domain::ArticleStatus {
    fn from(status: ArticleStatus) -> Self {
        match status {
            ArticleStatus::Draft => Self::Draft,
            ArticleStatus::Scheduled => Self::Scheduled,
            ArticleStatus::Published => Self::Published,
            ArticleStatus::Archived => Self::Archived,
        }
    }
}

impl From<gazette_domain::ArticleStatus> for ArticleStatus {
    fn from(status: gazette_domain::ArticleStatus) -> Self {
        use gazette_domain::ArticleStatus as S;
        match status {
            S::Draft => Self::Draft,
            S::Scheduled => Self::Scheduled,
            S::Published => Self::Published,
            S::Archived => Self::Archived,
        }
    }
}

impl ArticleNode {
    /// Refuses the body to a partner the syndication rules give no full text.
    fn body_readable(&self, ctx: &Context<'_>) -> Result<()> {
        let request = ctx.data_unchecked::<RequestContext>();
        if may_read_body(&request.viewer, &self.0, request.now) {
            Ok(())
        } else {
            Err(crate::ApiError::Forbidden(super::search::BODY_FORBIDDEN.to_owned()).into_graphql())
        }
    }
}

/// A news article.
#[Object(name = "Article")]
impl ArticleNode {
    /// Stable id (UUID v7).
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// URL-safe unique name.
    async fn slug(&self) -> &str {
        self.0.slug.as_str()
    }
    /// The headline.
    async fn headline(&self) -> &str {
        self.0.headline.as_str()
    }
    /// One-line summary.
    async fn dek(&self) -> &str {
        self.0.dek.as_str()
    }
    /// The body as typed blocks, in order. A partner without the right to the full text (the
    /// `syndication` scope and a syndicatable article) gets a `FORBIDDEN` error here (null).
    #[graphql(complexity = "list_cost(sizes::BODY_BLOCKS, child_complexity)")]
    async fn body(&self, ctx: &Context<'_>) -> Result<Option<Vec<BodyBlock>>> {
        self.body_readable(ctx)?;
        Ok(Some(
            self.0.body.blocks().iter().map(BodyBlock::from).collect(),
        ))
    }
    /// The body as HTML; every text is escaped. `FORBIDDEN` as `body`.
    async fn body_html(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.body_readable(ctx)?;
        Ok(Some(self.0.body.to_html()))
    }
    /// The body as plain text, blocks separated by blank lines. `FORBIDDEN` as `body`.
    async fn body_text(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.body_readable(ctx)?;
        Ok(Some(self.0.body.to_plain_text()))
    }
    /// Wire agency or desk ("News1").
    async fn source(&self) -> &str {
        self.0.source.as_str()
    }
    /// Language tag.
    async fn language(&self) -> &str {
        self.0.language.as_str()
    }
    /// The canonical page on the publisher's site.
    async fn canonical_url(&self) -> Option<&str> {
        self.0.canonical_url.as_ref().map(|u| u.as_str())
    }
    /// Lead picture.
    async fn hero_image(&self) -> Option<Image> {
        self.0.hero_image.clone().map(|h| Image {
            url: h.url,
            alt: h.alt,
            caption: h.caption,
            credit: h.credit,
        })
    }
    /// Life-cycle status as of this request: a scheduled article whose time has come is
    /// `PUBLISHED`.
    async fn status(&self, ctx: &Context<'_>) -> ArticleStatus {
        self.0
            .status_at(ctx.data_unchecked::<RequestContext>().now)
            .into()
    }
    /// When it went live (null for drafts).
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// Last save of any kind, including typo fixes and metadata.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When the published story last changed in substance (a substantive edit or a
    /// correction); null when it has not. Show this as "Updated", not `updatedAt`.
    async fn substantive_updated_at(&self) -> Option<DateTime<Utc>> {
        self.0.substantive_updated_at
    }
    /// When the article was first saved.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Public corrections, oldest first.
    #[graphql(complexity = "list_cost(sizes::CORRECTIONS_PER_ARTICLE, child_complexity)")]
    async fn corrections(&self, ctx: &Context<'_>) -> Result<Vec<CorrectionNode>> {
        Ok(ctx
            .data_unchecked::<Loaders>()
            .corrections
            .load_one(ArticleKey(self.0.id))
            .await
            .map_err(load_error)?
            .unwrap_or_default()
            .into_iter()
            .map(CorrectionNode)
            .collect())
    }
    /// Earlier slugs that still resolve to this article. `article(slug:)` follows them: when
    /// the returned `slug` differs from the one asked for, the article moved; redirect to it.
    async fn previous_slugs(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(ctx
            .data_unchecked::<Loaders>()
            .previous_slugs
            .load_one(ArticleKey(self.0.id))
            .await
            .map_err(load_error)?
            .unwrap_or_default())
    }
    /// Published articles a reader of this one would want next (default 5, at most 20): shared
    /// topics (the same primary topic weighs most), similar words, close in time. Never this
    /// article, never twice. Cached for a short time.
    #[graphql(complexity = "first_cost(first, 5, MAX_RELATED, child_complexity)")]
    async fn related(&self, ctx: &Context<'_>, first: Option<i32>) -> Result<Vec<ArticleNode>> {
        let request = ctx.data_unchecked::<RequestContext>();
        let related = ctx
            .data_unchecked::<AppState>()
            .app()
            .related_articles(&request.viewer, &self.0, first, request.now)
            .await
            .gql()?;
        let articles: Vec<&Article> = related.iter().map(|(a, _)| a).collect();
        super::tags(ctx).articles(articles.iter().copied());
        ctx.data_unchecked::<Loaders>()
            .prefetch_for_articles(ctx.look_ahead(), &articles)
            .await
            .map_err(load_error)?;
        Ok(related
            .into_iter()
            .map(|(a, _)| ArticleNode::from(a))
            .collect())
    }
    /// Saved revisions, newest first (editors and admins only).
    #[graphql(complexity = "first_cost(first, 20, 100, child_complexity)")]
    async fn revisions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, validator(minimum = 1, maximum = 100))] first: Option<i32>,
        before_version: Option<i32>,
    ) -> Result<Vec<RevisionNode>> {
        let request = ctx.data_unchecked::<RequestContext>();
        require_staff(&request.viewer).gql()?;
        let revisions = ctx
            .data_unchecked::<AppState>()
            .store()
            .revisions(
                self.0.id,
                u64::try_from(first.unwrap_or(20)).unwrap_or(20),
                before_version,
            )
            .await
            .gql()?;
        Ok(revisions.into_iter().map(RevisionNode).collect())
    }
    /// Words in the body.
    async fn word_count(&self) -> u32 {
        self.0.word_count()
    }
    /// Minutes to read, rounded up.
    async fn reading_time_minutes(&self) -> u32 {
        self.0.reading_time_minutes()
    }
    /// Optimistic-concurrency version.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The main topic.
    async fn primary_topic(&self, ctx: &Context<'_>) -> Result<Option<TopicNode>> {
        let Some(id) = self.0.primary_topic_id else {
            return Ok(None);
        };
        let loaders = ctx.data_unchecked::<Loaders>();
        let topic = loaders.topic.load_one(id).await.map_err(load_error)?;
        if let Some(topic) = &topic {
            super::tags(ctx).topic(topic.slug.as_str());
        }
        Ok(topic.map(TopicNode))
    }
    /// Every topic, the primary one first.
    #[graphql(complexity = "list_cost(sizes::TOPICS_PER_ARTICLE, child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> Result<Vec<TopicNode>> {
        let loaders = ctx.data_unchecked::<Loaders>();
        let ids = loaders
            .article_topics
            .load_one(ArticleKey(self.0.id))
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        let mut topics = loaders
            .topic
            .load_many(ids.iter().copied())
            .await
            .map_err(load_error)?;
        let topics: Vec<_> = ids.iter().filter_map(|id| topics.remove(id)).collect();
        for topic in &topics {
            super::tags(ctx).topic(topic.slug.as_str());
        }
        Ok(topics.into_iter().map(TopicNode).collect())
    }
    /// Authors in byline order.
    #[graphql(complexity = "list_cost(sizes::AUTHORS_PER_ARTICLE, child_complexity)")]
    async fn authors(&self, ctx: &Context<'_>) -> Result<Vec<AuthorNode>> {
        let loaders = ctx.data_unchecked::<Loaders>();
        let ids = loaders
            .article_authors
            .load_one(ArticleKey(self.0.id))
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        let mut authors = loaders
            .author
            .load_many(ids.iter().copied())
            .await
            .map_err(load_error)?;
        let authors: Vec<_> = ids.iter().filter_map(|id| authors.remove(id)).collect();
        for author in &authors {
            super::tags(ctx).author(author.slug.as_str());
        }
        Ok(authors.into_iter().map(AuthorNode).collect())
    }
}

/// Order of an article list.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArticleOrderBy {
    /// Newest first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
}

/// Filters of an article list, combined with AND.
#[derive(InputObject, Default)]
#[graphql(name = "ArticleFilter")]
pub struct ArticleFilterInput {
    /// Topic slug (primary or further topic).
    pub topic: Option<String>,
    /// Author slug.
    pub author: Option<String>,
    /// Source, exactly ("News1").
    pub source: Option<String>,
    /// Published at or after this instant.
    pub published_after: Option<DateTime<Utc>>,
    /// Published before this instant.
    pub published_before: Option<DateTime<Utc>>,
}

impl ArticleFilterInput {
    fn parse(self) -> Result<ArticleFilter, ValidationError> {
        Ok(ArticleFilter {
            topic: self
                .topic
                .as_deref()
                .map(|s| Slug::parse_field("filter.topic", s))
                .transpose()?,
            author: self
                .author
                .as_deref()
                .map(|s| Slug::parse_field("filter.author", s))
                .transpose()?,
            source: self.source,
            published_after: self.published_after,
            published_before: self.published_before,
        })
    }
}

/// Lists articles with Relay pagination; shared by the root, topics and authors.
pub async fn article_connection(
    ctx: &Context<'_>,
    filter: ArticleFilter,
    order: ArticleOrderBy,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<Connection<String, ArticleNode>> {
    let page = page_request::<ArticleCursor>(first, after, last, before)?;
    let state = ctx.data_unchecked::<AppState>();
    let request = ctx.data_unchecked::<RequestContext>();
    let order = match order {
        ArticleOrderBy::Newest => ArticleOrder::Newest,
        ArticleOrderBy::Oldest => ArticleOrder::Oldest,
    };
    let result = state
        .app()
        .articles(&request.viewer, &filter, order, &page, request.now)
        .await
        .gql()?;
    let articles: Vec<&Article> = result.items.iter().collect();
    super::tags(ctx).articles(articles.iter().copied());
    ctx.data_unchecked::<Loaders>()
        .prefetch_for_articles(ctx.look_ahead().field("edges").field("node"), &articles)
        .await
        .map_err(load_error)?;
    Ok(connection(
        result,
        gazette_app::articles::article_cursor,
        ArticleNode::from,
    ))
}

/// Parses an `ID` argument that must be a UUID.
pub fn parse_uuid(field: &str, id: &ID) -> Result<Uuid, ValidationError> {
    Uuid::try_parse(id.as_str()).map_err(|_| ValidationError::new(field, "must be a UUID"))
}

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
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
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
        let found = state
            .app()
            .article(&request.viewer, &key, request.now)
            .await
            .gql()?;
        match &found {
            Some(article) => super::tags(ctx).article(article.id),
            // Purged when an article is published, in case this is the one.
            None => super::tags(ctx).list("latest"),
        }
        Ok(found.map(ArticleNode::from))
    }

    /// The newsroom's list (editors and admins only): every article in the given statuses
    /// (all when omitted), drafts included, last saved first.
    #[graphql(complexity = "connection_cost(first, last, child_complexity)")]
    async fn editorial_articles(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<ArticleStatus>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, ArticleNode>> {
        let request = ctx.data_unchecked::<RequestContext>();
        require_staff(&request.viewer).gql()?;
        let page = page_request::<EditedCursor>(first, after, last, before)?;
        let statuses: Vec<gazette_domain::ArticleStatus> = status
            .unwrap_or_default()
            .into_iter()
            .map(gazette_domain::ArticleStatus::from)
            .collect();
        let result = ctx
            .data_unchecked::<AppState>()
            .store()
            .list_for_editors(&statuses, &page)
            .await
            .gql()?;
        let articles: Vec<&Article> = result.items.iter().collect();
        ctx.data_unchecked::<Loaders>()
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
