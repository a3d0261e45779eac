//! The schema's object types (articles, topics, authors, revisions, corrections, trending
//! entries) and the list helpers their fields share. They refer to one another (an article has
//! topics, a topic has articles), so they live together, apart from the query and mutation
//! roots, which depend on them and never the other way round.
//!
//! Resolvers that await a deep call (the application's use cases, a connection, a prefetch)
//! box that work (`Box::pin(async move { … }).await`). async-graphql boxes every field's future,
//! and a type's `resolve_field` future is as large as its largest field's: one unboxed deep
//! call made every field of the type, `slug` included, copy about 9 KB into its box, a third
//! of the instructions of a latest-20 request (BENCHMARKS.md, "Reads").

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject, Union};
use chrono::{DateTime, Utc};
use gazette_app::articles::article_filter;
use gazette_domain::syndication::may_read_body;
use gazette_domain::trending;
use gazette_domain::{
    Article, ArticleCursor, ArticleOrder, Author, Block, Body, Correction, Revision,
    RevisionAction, Topic, ValidationError,
};
use gazette_persistence::{ArticleFilter, LookupExtras};
use uuid::Uuid;

use super::ContextExt as _;
use super::loaders::{ArticleKey, Known, ParentKey, load_error};
use super::pagination::{connection, connection_cost, first_cost, list_cost, page_request, sizes};
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
    /// Killed (a legal or safety takedown; staff only, body for admins only).
    Killed,
}

impl From<ArticleStatus> for gazette_domain::ArticleStatus {
    fn from(status: ArticleStatus) -> Self {
        match status {
            ArticleStatus::Draft => Self::Draft,
            ArticleStatus::Scheduled => Self::Scheduled,
            ArticleStatus::Published => Self::Published,
            ArticleStatus::Archived => Self::Archived,
            ArticleStatus::Killed => Self::Killed,
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
            S::Killed => Self::Killed,
        }
    }
}

impl ArticleNode {
    /// The body, for a viewer the syndication rules allow it (a partner without the right to
    /// the full text is refused), through the request's body loader: the bodies of one level
    /// of the response are read in one statement, and only when a body field is selected.
    async fn readable_body(&self, ctx: &Context<'_>) -> Result<Arc<Body>> {
        Box::pin(async move {
            let request = ctx.request_context();
            if !may_read_body(&request.viewer, &self.0, request.now()) {
                return Err(crate::ApiError::Forbidden(BODY_FORBIDDEN.to_owned()).into_graphql());
            }
            ctx.loaders()
                .body
                .load_one(ArticleKey(self.0.id))
                .await
                .map_err(load_error)?
                .ok_or_else(|| {
                    crate::ApiError::NotFound(format!("the body of article {}", self.0.id))
                        .into_graphql()
                })
        })
        .await
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
        let body = self.readable_body(ctx).await?;
        Ok(Some(body.blocks().iter().map(BodyBlock::from).collect()))
    }
    /// The body as HTML; every text is escaped. `FORBIDDEN` as `body`.
    #[graphql(complexity = "sizes::BODY_TEXT")]
    async fn body_html(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(Some(self.readable_body(ctx).await?.to_html()))
    }
    /// The body as plain text, blocks separated by blank lines. `FORBIDDEN` as `body`.
    #[graphql(complexity = "sizes::BODY_TEXT")]
    async fn body_text(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(Some(self.readable_body(ctx).await?.to_plain_text()))
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
        self.0.status_at(ctx.request_context().now()).into()
    }
    /// When it went live (null for drafts).
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// When it stops being visible to readers and partners (null: never).
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When it was killed (staff only; null unless killed).
    #[graphql(guard = "super::StaffOnly")]
    async fn killed_at(&self) -> Option<DateTime<Utc>> {
        self.0.kill.as_ref().map(|k| k.at)
    }
    /// Why it was killed (staff only; null unless killed).
    #[graphql(guard = "super::StaffOnly")]
    async fn kill_reason(&self) -> Option<&str> {
        self.0.kill.as_ref().map(|k| k.reason.as_str())
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
            .loaders()
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
            .loaders()
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
        Box::pin(async move {
            let request = ctx.request_context();
            let related = ctx
                .app_state()
                .app()
                .related_articles(&request.viewer, &self.0, first, request.now())
                .await
                .gql()?;
            let articles: Vec<&Article> = related.iter().map(|(a, _)| a).collect();
            super::tags(ctx).articles(articles.iter().copied());
            ctx.loaders()
                .prefetch_for_articles(ctx.look_ahead(), &articles)
                .await
                .map_err(load_error)?;
            Ok(related
                .into_iter()
                .map(|(a, _)| ArticleNode::from(a))
                .collect())
        })
        .await
    }
    /// Saved revisions, newest first (editors and admins only).
    #[graphql(
        complexity = "first_cost(first, 20, 100, child_complexity)",
        guard = "super::StaffOnly"
    )]
    async fn revisions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, validator(minimum = 1, maximum = 100))] first: Option<i32>,
        before_version: Option<i32>,
    ) -> Result<Vec<RevisionNode>> {
        Box::pin(async move {
            let staff = ctx.staff()?;
            let revisions = ctx
                .app_state()
                .app()
                .revisions(
                    &staff,
                    self.0.id,
                    u64::try_from(first.unwrap_or(20)).unwrap_or(20),
                    before_version,
                )
                .await
                .gql()?;
            Ok(revisions.into_iter().map(RevisionNode).collect())
        })
        .await
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
        let loaders = ctx.loaders();
        let topic = loaders.topic.load_one(id).await.map_err(load_error)?;
        if let Some(topic) = &topic {
            super::tags(ctx).topic(topic.slug.as_str());
        }
        Ok(topic.map(TopicNode))
    }
    /// Every topic, the primary one first.
    #[graphql(complexity = "list_cost(sizes::TOPICS_PER_ARTICLE, child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> Result<Vec<TopicNode>> {
        let loaders = ctx.loaders();
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
    /// schema.org `NewsArticle` as JSON-LD, for the page head (`<script
    /// type="application/ld+json">`): headline, image, `datePublished`, `dateModified` (the last
    /// change in substance), authors, publisher, section, language and public corrections. The
    /// same document as REST's `/v1/articles/{slug}?format=jsonld`.
    #[graphql(complexity = "sizes::AUTHORS_PER_ARTICLE + sizes::CORRECTIONS_PER_ARTICLE + 2")]
    async fn structured_data(&self, ctx: &Context<'_>) -> Result<Json<serde_json::Value>> {
        Box::pin(async move {
            let (authors, section, corrections) = tokio::try_join!(
                self.authors(ctx),
                self.primary_topic(ctx),
                self.corrections(ctx)
            )?;
            let authors: Vec<&gazette_domain::Author> = authors.iter().map(|a| &a.0).collect();
            let corrections: Vec<_> = corrections.into_iter().map(|c| c.0).collect();
            let document = gazette_formats::jsonld::NewsArticle {
                article: &self.0,
                authors: &authors,
                section: section.as_ref().map(|t| &t.0),
                corrections: &corrections,
            };
            let document = document.json_ld(&ctx.app_state().config().feeds);
            Ok(Json(serde_json::to_value(document)?))
        })
        .await
    }
    /// Authors in byline order.
    #[graphql(complexity = "list_cost(sizes::AUTHORS_PER_ARTICLE, child_complexity)")]
    async fn authors(&self, ctx: &Context<'_>) -> Result<Vec<AuthorNode>> {
        let loaders = ctx.loaders();
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
    pub(crate) fn parse(self) -> Result<ArticleFilter, ValidationError> {
        let (topic, author) = (self.topic.as_deref(), self.author.as_deref());
        let published = [self.published_after, self.published_before];
        article_filter("filter.", topic, author, self.source, published)
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
    Box::pin(async move {
        let page = page_request::<ArticleCursor>(first, after, last, before)?;
        let state = ctx.app_state();
        let request = ctx.request_context();
        let order = match order {
            ArticleOrderBy::Newest => ArticleOrder::Newest,
            ArticleOrderBy::Oldest => ArticleOrder::Oldest,
        };
        let node = ctx.look_ahead().field("edges").field("node");
        let listed = state
            .app()
            .articles(
                &request.viewer,
                &filter,
                order,
                &page,
                request.now(),
                LookupExtras {
                    topic_ids: node.field("topics").exists(),
                    author_ids: node.field("authors").exists(),
                    body: false,
                },
            )
            .await
            .gql()?;
        let result = listed.page;
        let articles: Vec<&Article> = result.items.iter().collect();
        super::tags(ctx).articles(articles.iter().copied());
        ctx.loaders()
            .prefetch_known(
                node,
                &articles,
                Known {
                    topic_ids: listed.topic_ids,
                    author_ids: listed.author_ids,
                    bodies: None,
                },
            )
            .await
            .map_err(load_error)?;
        Ok(connection(
            result,
            gazette_app::articles::article_cursor,
            ArticleNode::from,
        ))
    })
    .await
}

/// Parses an `ID` argument that must be a UUID.
pub fn parse_uuid(field: &str, id: &ID) -> Result<Uuid, ValidationError> {
    Uuid::try_parse(id.as_str()).map_err(|_| ValidationError::new(field, "must be a UUID"))
}
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
            .loaders()
            .topic
            .load_one(parent)
            .await
            .map_err(load_error)?
            .map(TopicNode))
    }
    /// The most-read articles of this topic (see `Query.trending`).
    #[graphql(complexity = "trending_cost(first, child_complexity)")]
    async fn trending(
        &self,
        ctx: &Context<'_>,
        window: Option<TrendingWindow>,
        first: Option<i32>,
    ) -> Result<Vec<TrendingArticle>> {
        trending_list(ctx, window, Some(&self.0), first).await
    }
    /// Topics under this one, by slug.
    #[graphql(
        complexity = "super::pagination::list_cost(super::pagination::sizes::CHILD_TOPICS, child_complexity)"
    )]
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<TopicNode>> {
        let children = ctx
            .loaders()
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
/// One field's change in a revision; values are JSON (`null` when unset).
#[derive(SimpleObject)]
pub struct FieldChangeNode {
    /// The field (`headline`, `body`, `status`, `publishedAt`, …).
    field: String,
    /// Its value before.
    before: Json<serde_json::Value>,
    /// Its value after.
    after: Json<serde_json::Value>,
}

/// What a save did.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum RevisionActionKind {
    /// Created as a draft.
    Create,
    /// Content edited.
    Update,
    /// Published.
    Publish,
    /// Scheduled.
    Schedule,
    /// Back to draft.
    Unpublish,
    /// Archived.
    Archive,
    /// An earlier revision restored.
    Restore,
    /// Killed.
    Kill,
    /// A killed story restored by an admin.
    Reinstate,
}

impl From<RevisionAction> for RevisionActionKind {
    fn from(action: RevisionAction) -> Self {
        match action {
            RevisionAction::Create => Self::Create,
            RevisionAction::Update => Self::Update,
            RevisionAction::Publish => Self::Publish,
            RevisionAction::Schedule => Self::Schedule,
            RevisionAction::Unpublish => Self::Unpublish,
            RevisionAction::Archive => Self::Archive,
            RevisionAction::Restore => Self::Restore,
            RevisionAction::Kill => Self::Kill,
            RevisionAction::Reinstate => Self::Reinstate,
        }
    }
}

/// An article as one save left it (editors only).
pub struct RevisionNode(pub Revision);

/// An article as one save left it.
#[Object(name = "Revision")]
impl RevisionNode {
    /// The article's version after this save; pass it to `restoreRevision`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Who saved (token subject).
    async fn editor(&self) -> &str {
        &self.0.editor
    }
    /// When.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// What kind of save.
    async fn action(&self) -> RevisionActionKind {
        self.0.action.into()
    }
    /// Field-level changes from the previous revision (empty for the creation).
    #[graphql(
        complexity = "super::pagination::list_cost(super::pagination::sizes::REVISION_CHANGES, child_complexity)"
    )]
    async fn changes(&self) -> Vec<FieldChangeNode> {
        self.0
            .changes
            .iter()
            .map(|c| FieldChangeNode {
                field: c.field().to_owned(),
                before: Json(crate::wire::field_json(&c.before)),
                after: Json(crate::wire::field_json(&c.after)),
            })
            .collect()
    }
    /// Headline at this revision.
    async fn headline(&self) -> &str {
        self.0.state.headline.as_str()
    }
    /// The whole state at this revision, as JSON.
    async fn state(&self) -> Json<serde_json::Value> {
        Json(crate::wire::state_json(&self.0.state))
    }
}

/// A public correction of a published article.
pub struct CorrectionNode(pub Correction);

/// A public correction of a published article.
#[Object(name = "Correction")]
impl CorrectionNode {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// What was wrong and what is right now.
    async fn text(&self) -> &str {
        &self.0.text
    }
}
/// How far back a trending list looks.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrendingWindow {
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    #[default]
    Week,
    /// The last 30 days.
    Month,
}

impl From<TrendingWindow> for trending::TrendingWindow {
    fn from(window: TrendingWindow) -> Self {
        match window {
            TrendingWindow::Day => Self::Day,
            TrendingWindow::Week => Self::Week,
            TrendingWindow::Month => Self::Month,
        }
    }
}

/// An article on a trending list.
#[derive(SimpleObject)]
pub struct TrendingArticle {
    /// The article.
    article: ArticleNode,
    /// Its score: views weighted by exponential decay (a view one half-life old counts ½).
    score: f64,
    /// Views counted in the window.
    views: i64,
}

/// The trending list for the given window and (known) topic, articles loaded in one
/// statement: [`gazette_app::App::trending`].
pub(crate) async fn trending_list(
    ctx: &Context<'_>,
    window: Option<TrendingWindow>,
    topic: Option<&Topic>,
    first: Option<i32>,
) -> Result<Vec<TrendingArticle>> {
    Box::pin(async move {
        let state = ctx.app_state();
        let request = ctx.request_context();
        let list = state
            .app()
            .trending(
                &request.viewer,
                window.unwrap_or_default().into(),
                topic,
                first,
                request.now(),
            )
            .await
            .gql()?;
        let articles: Vec<&gazette_domain::Article> = list.iter().map(|e| &e.article).collect();
        let tags = super::tags(ctx);
        tags.list("trending");
        if let Some(topic) = topic {
            tags.topic(topic.slug.as_str());
        }
        tags.articles(articles.iter().copied());
        ctx.loaders()
            .prefetch_for_articles(ctx.look_ahead().field("article"), &articles)
            .await
            .map_err(load_error)?;
        Ok(list
            .into_iter()
            .map(|e| TrendingArticle {
                article: ArticleNode::from(e.article),
                score: e.score,
                views: e.views,
            })
            .collect())
    })
    .await
}
/// Complexity of a trending list: its length (`first`, default 10, at most 50) times what
/// each entry costs, plus one for the list.
pub fn trending_cost(first: Option<i32>, child: usize) -> usize {
    super::pagination::first_cost(first, 10, trending::MAX_TRENDING, child)
}
/// Why a partner's body read is refused.
pub(crate) const BODY_FORBIDDEN: &str = "the full text of this article is not licensed to this token (it needs the `syndication` \
     scope and a syndicatable article)";
