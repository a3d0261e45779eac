//! The newsroom's writes: article life-cycle, revisions, corrections, topics and authors.
//! Every mutation needs an editor or admin token; `deleteArticle` needs an admin.

use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use gazette_app::editorial::{Admin, SaveKind};
use gazette_domain::{
    ArticlePatch, ArticleState, ArticleStatus, Body, CanonicalUrl, Dek, EditError, Headline,
    HeroImage, Language, Name, NewAuthor, NewTopic, RevisionAction, Slug, Source, Syndication,
    TopicPatch, TransitionError, ValidationError,
};

use super::objects::{ArticleNode, AuthorNode, CorrectionNode, TopicNode, parse_uuid};
use super::{AdminOnly, ContextExt as _, RequestContext, StaffOnly};
use crate::error::GqlResultExt as _;
use crate::wire::body_from_input;
use crate::{ApiError, AppState};

/// A picture given by an editor.
#[derive(InputObject)]
pub struct HeroImageInput {
    /// Absolute http(s) URL.
    pub url: String,
    /// Text alternative.
    #[graphql(default)]
    pub alt: String,
    /// Caption.
    pub caption: Option<String>,
    /// Photographer or agency.
    pub credit: Option<String>,
}

impl HeroImageInput {
    fn parse(self) -> Result<HeroImage, ValidationError> {
        HeroImage {
            url: self.url,
            alt: self.alt,
            caption: self.caption,
            credit: self.credit,
        }
        .validated()
    }
}

/// A new article; it starts as a draft.
#[derive(InputObject)]
pub struct CreateArticleInput {
    /// Required, 1–200 characters.
    pub headline: Option<String>,
    /// URL name; derived from the headline when absent.
    pub slug: Option<String>,
    /// One-line summary.
    #[graphql(default)]
    pub dek: String,
    /// The body: a list of blocks, each `{"type": "paragraph" | "heading" | "quote" | "image" |
    /// "embed", …}` (see the `BodyBlock` union for each type's fields).
    pub body: Option<Json<serde_json::Value>>,
    /// Wire agency or desk; "Gazette" when absent.
    pub source: Option<String>,
    /// Language tag; "en" when absent.
    pub language: Option<String>,
    /// Canonical page on the publisher's site.
    pub canonical_url: Option<String>,
    /// Lead picture.
    pub hero_image: Option<HeroImageInput>,
    /// Main topic slug.
    pub primary_topic: Option<String>,
    /// Further topic slugs.
    #[graphql(default)]
    pub topics: Vec<String>,
    /// Author slugs in byline order.
    #[graphql(default)]
    pub authors: Vec<String>,
    /// Partners may republish the full text.
    #[graphql(default)]
    pub syndicatable: bool,
    /// Partners get the full text from this instant on (RFC 3339, e.g. `2025-05-15T09:00:00Z`).
    pub embargo_until: Option<String>,
    /// Readers and partners stop seeing it at this instant (RFC 3339); after the publish time.
    pub expires_at: Option<String>,
}

/// Parses an RFC 3339 instant given as text, naming `field` when it is not one. (Write
/// arguments take text rather than the `DateTime` scalar so a malformed time is reported as
/// `BAD_USER_INPUT` naming its field, like every other bad input.)
fn parse_instant(field: &str, raw: &str) -> Result<DateTime<Utc>, ValidationError> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| gazette_domain::time::storage_precision(t.with_timezone(&Utc)))
        .map_err(|e| {
            ValidationError::new(
                field,
                format!("must be an RFC 3339 instant such as 2025-05-15T09:00:00Z ({e})"),
            )
        })
}

fn slugs(field: &str, raw: &[String]) -> Result<Vec<Slug>, ValidationError> {
    raw.iter().map(|s| Slug::parse_field(field, s)).collect()
}

impl CreateArticleInput {
    fn parse(self) -> Result<ArticleState, ValidationError> {
        let headline = Headline::parse(self.headline.as_deref().unwrap_or_default())?;
        let slug = match self.slug {
            Some(slug) => Slug::parse(&slug)?,
            None => Slug::from_text(headline.as_str())?,
        };
        let state = ArticleState {
            slug,
            dek: Dek::parse(&self.dek)?,
            body: match self.body {
                Some(Json(value)) => body_from_input(value)?,
                None => Body::default(),
            },
            source: Source::parse(self.source.as_deref().unwrap_or("Gazette"))?,
            language: match self.language {
                Some(tag) => Language::parse(&tag)?,
                None => Language::english(),
            },
            canonical_url: self
                .canonical_url
                .map(|u| CanonicalUrl::parse_field("canonicalUrl", &u))
                .transpose()?,
            hero_image: self.hero_image.map(HeroImageInput::parse).transpose()?,
            primary_topic: self
                .primary_topic
                .map(|s| Slug::parse_field("primaryTopic", &s))
                .transpose()?,
            topics: slugs("topics", &self.topics)?,
            authors: slugs("authors", &self.authors)?,
            status: ArticleStatus::Draft,
            published_at: None,
            syndication: Syndication {
                syndicatable: self.syndicatable,
                embargo_until: self
                    .embargo_until
                    .map(|t| parse_instant("embargoUntil", &t))
                    .transpose()?,
            },
            expires_at: self
                .expires_at
                .map(|t| parse_instant("expiresAt", &t))
                .transpose()?,
            kill: None,
            headline,
        };
        state.check()?;
        Ok(state)
    }
}

/// An edit: each field given replaces the stored one; a nullable field set to `null` clears it.
#[derive(InputObject, Default)]
pub struct UpdateArticleInput {
    /// New headline.
    pub headline: Option<String>,
    /// New slug; a published article's old slug keeps resolving to it.
    pub slug: Option<String>,
    /// New summary.
    pub dek: Option<String>,
    /// New body (a list of blocks, as in `createArticle`).
    pub body: Option<Json<serde_json::Value>>,
    /// New source.
    pub source: Option<String>,
    /// New language tag.
    pub language: Option<String>,
    /// New canonical URL, or `null` to remove it.
    pub canonical_url: MaybeUndefined<String>,
    /// New lead picture, or `null` to remove it.
    pub hero_image: MaybeUndefined<HeroImageInput>,
    /// New main topic, or `null` for none.
    pub primary_topic: MaybeUndefined<String>,
    /// New further topics.
    pub topics: Option<Vec<String>>,
    /// New byline.
    pub authors: Option<Vec<String>>,
    /// New syndication flag.
    pub syndicatable: Option<bool>,
    /// New embargo (RFC 3339), or `null` to lift it.
    pub embargo_until: MaybeUndefined<String>,
    /// New expiry (RFC 3339, after the publish time), or `null` for none.
    pub expires_at: MaybeUndefined<String>,
}

fn maybe<T, U>(
    value: MaybeUndefined<T>,
    parse: impl FnOnce(T) -> Result<U, ValidationError>,
) -> Result<Option<Option<U>>, ValidationError> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(v) => parse(v).map(|u| Some(Some(u))),
    }
}

impl UpdateArticleInput {
    fn parse(self) -> Result<ArticlePatch, ValidationError> {
        Ok(ArticlePatch {
            slug: self.slug.as_deref().map(Slug::parse).transpose()?,
            headline: self.headline.as_deref().map(Headline::parse).transpose()?,
            dek: self.dek.as_deref().map(Dek::parse).transpose()?,
            body: self.body.map(|Json(v)| body_from_input(v)).transpose()?,
            source: self.source.as_deref().map(Source::parse).transpose()?,
            language: self.language.as_deref().map(Language::parse).transpose()?,
            canonical_url: maybe(self.canonical_url, |u| {
                CanonicalUrl::parse_field("canonicalUrl", &u)
            })?,
            hero_image: maybe(self.hero_image, HeroImageInput::parse)?,
            primary_topic: maybe(self.primary_topic, |s| {
                Slug::parse_field("primaryTopic", &s)
            })?,
            topics: self
                .topics
                .as_deref()
                .map(|t| slugs("topics", t))
                .transpose()?,
            authors: self
                .authors
                .as_deref()
                .map(|a| slugs("authors", a))
                .transpose()?,
            syndicatable: self.syndicatable,
            embargo_until: maybe(self.embargo_until, |t| parse_instant("embargoUntil", &t))?,
            expires_at: maybe(self.expires_at, |t| parse_instant("expiresAt", &t))?,
        })
    }
}

/// A new topic.
#[derive(InputObject)]
pub struct CreateTopicInput {
    /// Unique slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it covers.
    #[graphql(default)]
    pub description: String,
    /// Slug of the section it belongs to.
    pub parent: Option<String>,
}

/// A topic edit: given fields replace the stored ones.
#[derive(InputObject)]
pub struct UpdateTopicInput {
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New parent slug, or `null` to make it a section.
    pub parent: MaybeUndefined<String>,
}

/// A new author.
#[derive(InputObject)]
pub struct CreateAuthorInput {
    /// Unique slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Short biography.
    #[graphql(default)]
    pub bio: String,
}

/// An author edit: given fields replace the stored ones.
#[derive(InputObject)]
pub struct UpdateAuthorInput {
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New biography.
    pub bio: Option<String>,
}

fn context<'a>(ctx: &'a Context<'_>) -> (&'a AppState, &'a RequestContext) {
    (ctx.app_state(), ctx.request_context())
}

/// One save of the article `id` by the caller (a [`StaffOnly`] field), `change` applied to its
/// current state.
async fn save(
    ctx: &Context<'_>,
    id: &ID,
    action: RevisionAction,
    expected_version: Option<i32>,
    substantive: bool,
    change: impl FnOnce(&ArticleState) -> Result<ArticleState, EditError>,
) -> Result<ArticleNode> {
    let (state, request) = context(ctx);
    let staff = ctx.staff()?;
    let id = parse_uuid("id", id).gql()?;
    let kind = SaveKind {
        action,
        expected_version,
        substantive,
    };
    let article = state
        .app()
        .save_article(&staff, id, kind, request.now(), change)
        .await
        .gql()?;
    Ok(ArticleNode::from(article))
}

/// A status change (publish, unpublish, archive) of the article `id` at the request's instant.
async fn transition(
    ctx: &Context<'_>,
    id: &ID,
    action: RevisionAction,
    expected_version: Option<i32>,
    step: fn(&ArticleState, DateTime<Utc>) -> Result<ArticleState, TransitionError>,
) -> Result<ArticleNode> {
    let now = ctx.request_context().now();
    let change = |s: &ArticleState| step(s, now).map_err(EditError::from);
    save(ctx, id, action, expected_version, false, change).await
}

/// A link credential that opens one article at one revision, for a frontend's preview.
#[derive(SimpleObject)]
pub struct PreviewToken {
    /// Pass it to `preview(token:)`.
    token: String,
    /// When it stops working.
    expires_at: DateTime<Utc>,
    /// The article version it shows.
    version: i32,
}

/// Previews: a draft seen through a preview token instead of an editor token.
#[derive(Default)]
pub struct PreviewQuery;

#[Object]
impl PreviewQuery {
    /// The article a preview token opens, as it was when the token was made, whatever its
    /// status. The token opens that article and nothing else; it fails with
    /// `INVALID_PREVIEW_TOKEN` once expired, if forged, or once the article has been saved
    /// again (ask for a new one).
    async fn preview(&self, ctx: &Context<'_>, token: String) -> Result<ArticleNode> {
        let (state, request) = context(ctx);
        // Whatever it answers, a response read with a preview token is never stored: a cache
        // would go on showing the draft after the token expired.
        super::tags(ctx).never_store();
        let grant = state
            .auth()
            .verify_preview(&token, request.now())
            .map_err(|e| ApiError::InvalidPreviewToken(e.to_string()))
            .gql()?;
        let article = state
            .app()
            .preview_article(grant.article_id, grant.version)
            .await
            .gql()?;
        Ok(ArticleNode::from(article))
    }
}

/// Editorial writes.
#[derive(Default)]
pub struct EditorialMutation;

#[Object]
impl EditorialMutation {
    /// Creates a draft. Only editors and admins see it until it is published.
    #[graphql(guard = "StaffOnly")]
    async fn create_article(
        &self,
        ctx: &Context<'_>,
        input: CreateArticleInput,
    ) -> Result<ArticleNode> {
        let (state, request) = context(ctx);
        let staff = ctx.staff()?;
        let new = input.parse().gql()?;
        let article = state
            .app()
            .create_article(&staff, &new, request.now())
            .await
            .gql()?;
        Ok(ArticleNode::from(article))
    }

    /// Edits an article. Fails with `VERSION_CONFLICT` (and `extensions.currentVersion`) when
    /// the article changed since `expectedVersion`; nothing is written then. `substantive`
    /// (default false) marks a change readers should be told about ("Updated" time) on a
    /// published article.
    #[graphql(guard = "StaffOnly")]
    async fn update_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateArticleInput,
        expected_version: i32,
        substantive: Option<bool>,
    ) -> Result<ArticleNode> {
        let patch = input.parse().gql()?;
        save(
            ctx,
            &id,
            RevisionAction::Update,
            Some(expected_version),
            substantive.unwrap_or(false),
            |current| current.patched(patch).map_err(EditError::from),
        )
        .await
    }

    /// Publishes now (a story that was live before keeps its original date).
    #[graphql(guard = "StaffOnly")]
    async fn publish_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: Option<i32>,
    ) -> Result<ArticleNode> {
        let step = ArticleState::publish;
        transition(ctx, &id, RevisionAction::Publish, expected_version, step).await
    }

    /// Schedules publication at `at`, an RFC 3339 instant in the future. The article goes live
    /// by itself at that second, in every process, with no job to run.
    #[graphql(guard = "StaffOnly")]
    async fn schedule_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        at: String,
        expected_version: Option<i32>,
    ) -> Result<ArticleNode> {
        let now = ctx.request_context().now();
        let at = parse_instant("at", &at).gql()?;
        save(
            ctx,
            &id,
            RevisionAction::Schedule,
            expected_version,
            false,
            |s| s.schedule(at, now),
        )
        .await
    }

    /// Takes a published or scheduled article back to draft.
    #[graphql(guard = "StaffOnly")]
    async fn unpublish_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: Option<i32>,
    ) -> Result<ArticleNode> {
        let step = ArticleState::unpublish;
        transition(ctx, &id, RevisionAction::Unpublish, expected_version, step).await
    }

    /// Archives an article: it leaves every public read but is kept.
    #[graphql(guard = "StaffOnly")]
    async fn archive_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: Option<i32>,
    ) -> Result<ArticleNode> {
        let step = ArticleState::archive;
        transition(ctx, &id, RevisionAction::Archive, expected_version, step).await
    }

    /// Kills a live or scheduled story (a legal or safety takedown; editors and admins):
    /// gone from every public and partner surface at once, its body served to admins only,
    /// refusing every change until an admin restores it. `reason`: 1–500 characters, shown
    /// to staff only.
    #[graphql(guard = "StaffOnly")]
    async fn kill_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
        expected_version: Option<i32>,
    ) -> Result<ArticleNode> {
        let (state, request) = context(ctx);
        let (staff, uuid) = (ctx.staff()?, parse_uuid("id", &id).gql()?);
        let app = state.app();
        let killed = app.kill_article(&staff, uuid, &reason, expected_version, request.now());
        Ok(ArticleNode::from(killed.await.gql()?))
    }

    /// Restores a killed story as it was (admins only; an editor is `FORBIDDEN`).
    #[graphql(guard = "StaffOnly")]
    async fn restore_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: Option<i32>,
    ) -> Result<ArticleNode> {
        let (state, request) = context(ctx);
        let admin = Admin::check_for(&request.viewer, "only an admin may restore a killed story");
        let (admin, uuid) = (admin.gql()?, parse_uuid("id", &id).gql()?);
        let app = state.app();
        let restored = app.restore_killed_article(&admin, uuid, expected_version, request.now());
        Ok(ArticleNode::from(restored.await.gql()?))
    }

    /// Deletes an article for good, with its revisions (admins only). Returns its id.
    #[graphql(guard = "AdminOnly")]
    async fn delete_article(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let (state, request) = context(ctx);
        let admin = ctx.admin()?;
        let uuid = parse_uuid("id", &id).gql()?;
        state
            .app()
            .delete_article(&admin, uuid, request.now())
            .await
            .gql()?;
        Ok(id)
    }

    /// Restores the text of an earlier revision as a new save: headline, dek, body, source,
    /// language and hero image. Publication controls are never restored and stay as they are
    /// now: status, publish time, slug, canonical URL, topics, authors, the syndication flag
    /// and the embargo (restoring old words never publishes, unpublishes, moves, re-files,
    /// re-credits or lifts an embargo). Text holding characters refused since it was saved is
    /// `BAD_USER_INPUT` naming the field.
    #[graphql(guard = "StaffOnly")]
    async fn restore_revision(
        &self,
        ctx: &Context<'_>,
        article_id: ID,
        revision: i32,
        expected_version: Option<i32>,
    ) -> Result<ArticleNode> {
        let (state, request) = context(ctx);
        let staff = ctx.staff()?;
        let uuid = parse_uuid("articleId", &article_id).gql()?;
        let article = state
            .app()
            .restore_revision(&staff, uuid, revision, expected_version, request.now())
            .await
            .gql()?;
        Ok(ArticleNode::from(article))
    }

    /// Adds a public correction to a published article; it also sets the article's
    /// `substantiveUpdatedAt`.
    #[graphql(guard = "StaffOnly")]
    async fn add_correction(
        &self,
        ctx: &Context<'_>,
        article_id: ID,
        text: String,
    ) -> Result<CorrectionNode> {
        let (state, request) = context(ctx);
        let staff = ctx.staff()?;
        let uuid = parse_uuid("articleId", &article_id).gql()?;
        let correction = state
            .app()
            .add_correction(&staff, uuid, &text, request.now())
            .await
            .gql()?;
        Ok(CorrectionNode(correction))
    }

    /// Mints a short-lived preview token for the article's current revision, so a frontend can
    /// render a draft without an editor token (`preview(token:)`). `ttlSeconds` defaults to an
    /// hour and is capped at a day.
    #[graphql(guard = "StaffOnly")]
    async fn create_preview_token(
        &self,
        ctx: &Context<'_>,
        article_id: ID,
        #[graphql(default = 3600)] ttl_seconds: Option<i32>,
    ) -> Result<PreviewToken> {
        let (state, request) = context(ctx);
        let staff = ctx.staff()?;
        let uuid = parse_uuid("articleId", &article_id).gql()?;
        let ttl_seconds = ttl_seconds.unwrap_or(3600);
        if ttl_seconds < 1 {
            return Err(
                ApiError::from(ValidationError::new("ttlSeconds", "must be at least 1"))
                    .into_graphql(),
            );
        }
        let article = state.app().any_article(&staff, uuid).await.gql()?;
        let ttl =
            chrono::Duration::seconds(i64::from(ttl_seconds)).min(crate::auth::MAX_PREVIEW_TTL);
        let token = state
            .auth()
            .mint_preview(staff.sub(), uuid, article.version, ttl, request.now())
            .map_err(|e| ApiError::internal(&e))
            .gql()?;
        Ok(PreviewToken {
            token,
            expires_at: request.now() + ttl,
            version: article.version,
        })
    }

    /// Creates a topic.
    #[graphql(guard = "StaffOnly")]
    async fn create_topic(&self, ctx: &Context<'_>, input: CreateTopicInput) -> Result<TopicNode> {
        let (state, request) = context(ctx);
        let staff = ctx.staff()?;
        let new = NewTopic {
            slug: Slug::parse(&input.slug).gql()?,
            name: Name::parse(&input.name).gql()?,
            description: gazette_domain::people::profile_text("description", &input.description)
                .gql()?,
            parent: input
                .parent
                .map(|p| Slug::parse_field("parent", &p))
                .transpose()
                .gql()?,
        };
        let topic = state
            .app()
            .create_topic(&staff, &new, request.now())
            .await
            .gql()?;
        Ok(TopicNode(topic))
    }

    /// Edits a topic.
    #[graphql(guard = "StaffOnly")]
    async fn update_topic(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateTopicInput,
    ) -> Result<TopicNode> {
        let (state, request) = context(ctx);
        let staff = ctx.staff()?;
        let uuid = parse_uuid("id", &id).gql()?;
        let patch = TopicPatch {
            slug: input.slug.as_deref().map(Slug::parse).transpose().gql()?,
            name: input.name.as_deref().map(Name::parse).transpose().gql()?,
            description: input
                .description
                .as_deref()
                .map(|d| gazette_domain::people::profile_text("description", d))
                .transpose()
                .gql()?,
            parent: maybe(input.parent, |p| Slug::parse_field("parent", &p)).gql()?,
        };
        let topic = state
            .app()
            .update_topic(&staff, uuid, &patch, request.now())
            .await
            .gql()?;
        Ok(TopicNode(topic))
    }

    /// Creates an author.
    #[graphql(guard = "StaffOnly")]
    async fn create_author(
        &self,
        ctx: &Context<'_>,
        input: CreateAuthorInput,
    ) -> Result<AuthorNode> {
        let (state, request) = context(ctx);
        let staff = ctx.staff()?;
        let new = NewAuthor {
            slug: Slug::parse(&input.slug).gql()?,
            name: Name::parse(&input.name).gql()?,
            bio: gazette_domain::people::profile_text("bio", &input.bio).gql()?,
        };
        let author = state
            .app()
            .create_author(&staff, &new, request.now())
            .await
            .gql()?;
        Ok(AuthorNode(author))
    }

    /// Edits an author.
    #[graphql(guard = "StaffOnly")]
    async fn update_author(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateAuthorInput,
    ) -> Result<AuthorNode> {
        let (state, request) = context(ctx);
        let staff = ctx.staff()?;
        let uuid = parse_uuid("id", &id).gql()?;
        let patch = gazette_domain::AuthorPatch {
            slug: input.slug.as_deref().map(Slug::parse).transpose().gql()?,
            name: input.name.as_deref().map(Name::parse).transpose().gql()?,
            bio: input
                .bio
                .as_deref()
                .map(|b| gazette_domain::people::profile_text("bio", b))
                .transpose()
                .gql()?,
        };
        let author = state
            .app()
            .update_author(&staff, uuid, &patch, request.now())
            .await
            .gql()?;
        Ok(AuthorNode(author))
    }
}
