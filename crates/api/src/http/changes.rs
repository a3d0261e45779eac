//! `GET /v1/changes?since=…&first=…`: delta sync as JSON, the same entries as GraphQL's
//! `changes`.

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use gazette_domain::changes::RemovalReason;
use gazette_domain::{Article, Body, ValidationError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::HttpState;
use super::cache::{AttachTags as _, CacheTags};
use super::caller::Caller;
use super::rest::ArticleSummary;
use super::rest::page::{Params, document, next_link};
use super::rest::params::{ChangesSize, CursorSchema, ListFormatJson, ListFormatParams};
use super::rest::wire::StatusJson;
use crate::ApiError;
use crate::wire::{ImageJson, editor_blocks};
use gazette_app::Relations;
use gazette_app::changes::{Change, ChangeEntry};
use gazette_formats::ninjs::{CONTENT_TYPE as NINJS, NinjsJson};
use std::collections::HashMap;

/// The query of `GET /v1/changes`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// The `nextCursor` of the previous page; absent for a full initial sync.
    #[param(value_type = Option<CursorSchema>)]
    since: Option<String>,
    /// Entries a page.
    #[param(value_type = Option<ChangesSize>, inline)]
    first: Option<String>,
}

/// What a change asks a mirror to do.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ChangeAction)]
enum ActionJson {
    /// Store the article as given (new or changed).
    Upsert,
    /// Drop the article (see `reason`).
    Remove,
}

/// Why an article left the caller's view (the wire name of [`RemovalReason`]).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = RemovalReason)]
enum ReasonJson {
    /// The article no longer exists.
    Deleted,
    /// Taken down and kept for the record.
    Archived,
    /// Back to draft, or scheduled for later: not published now.
    Unpublished,
    /// Public, but embargoed for this caller until a later time.
    Embargoed,
    /// Public, but not for this caller.
    Withheld,
    /// Its expiry time has passed.
    Expired,
    /// It was killed (a legal or safety takedown).
    Killed,
}

impl From<RemovalReason> for ReasonJson {
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

/// An article as a mirror stores it: the list fields plus body, times and taxonomy slugs.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ChangedArticle)]
struct ArticleJson<'a> {
    #[serde(flatten)]
    summary: ArticleSummary,
    /// BCP 47 language tag.
    language: &'a str,
    /// As of the request (a scheduled story whose time has come is `published`).
    status: StatusJson,
    /// Last save.
    updated_at: DateTime<Utc>,
    /// Last change an editor marked as substantive; null if none.
    #[schema(required = true)]
    substantive_updated_at: Option<DateTime<Utc>>,
    /// Topic slugs, the primary one first.
    topics: Vec<String>,
    /// Author slugs in byline order.
    authors: Vec<String>,
    /// The lead picture; null if none.
    #[schema(value_type = Option<Object>, required = true)]
    hero_image: Option<ImageJson>,
    /// Null for a partner without the right to the full text (see the syndication rules).
    #[schema(value_type = Option<Vec<Object>>, required = true)]
    body: Option<Vec<serde_json::Value>>,
    /// The body as HTML; null with `body`.
    #[schema(required = true)]
    body_html: Option<String>,
}

/// One change: an upsert with the article, or a removal with its reason.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ChangeEntry)]
pub(super) struct EntryJson<'a> {
    /// This entry's position in the log.
    #[schema(value_type = CursorSchema)]
    cursor: &'a str,
    /// The article's id.
    id: Uuid,
    /// What to do with the article.
    action: ActionJson,
    /// The article, on an upsert.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    article: Option<ArticleJson<'a>>,
    /// Why the article left the caller's view, on a removal.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    reason: Option<ReasonJson>,
}

/// A page of changes.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ChangesPage)]
struct ChangesJson<'a> {
    /// The changes, in commit order.
    entries: Vec<EntryJson<'a>>,
    /// Where to continue from (`since`): the last entry's cursor, or `since` on an empty page.
    #[schema(value_type = CursorSchema)]
    next_cursor: &'a str,
    /// More entries follow already.
    has_more: bool,
}

/// `GET /v1/changes?since=<cursor>&first=<1..500>`: the changes after `since` for the caller
/// (anonymous, or as the bearer token says).
#[utoipa::path(
    get,
    path = "/v1/changes",
    tag = "articles",
    params(ChangesParams, ListFormatParams),
    responses(
        (status = 200, description = "The articles that changed for this caller since the cursor, in commit order", content(
            (ChangesJson = "application/json"),
            (Vec<NinjsJson> = "application/ninjs+json"),
        ), headers(("link" = String, description = "ninjs only: where to continue, `<{this path}?{these parameters}&since={next cursor}>; rel=\"next\"`"))),
        super::problems::ListProblems,
    ),
)]
pub async fn changes(
    State(http): State<HttpState>,
    Caller(viewer): Caller,
    OriginalUri(uri): OriginalUri,
    Params(params): Params<ChangesParams>,
    Params(format): Params<ListFormatParams>,
) -> Response {
    let answer = match format.parse() {
        Ok(format) => changes_json(&http, &viewer, params, (format, &uri)).await,
        Err(error) => Err(error.into()),
    };
    match answer {
        Ok(mut response) => {
            // Per caller: the caching layer makes authenticated answers private.
            let mut tags = CacheTags::new();
            tags.list("changes");
            tags.attach(&mut response);
            response
        }
        Err(error) => error.into_response(),
    }
}

async fn changes_json(
    http: &HttpState,
    viewer: &gazette_domain::Viewer,
    params: ChangesParams,
    (format, uri): (ListFormatJson, &Uri),
) -> Result<Response, ApiError> {
    let first = params
        .first
        .as_deref()
        .map(|f| {
            f.trim()
                .parse::<i32>()
                .map_err(|_| ValidationError::new("first", "must be a whole number"))
        })
        .transpose()?;
    let now = http.app.now();
    let app = http.app.app();
    let (page, relations) = app
        .changes(viewer, params.since.as_deref(), first, now)
        .await?;
    // The mirror gets each body the caller may read: one statement for the page.
    let readable: Vec<uuid::Uuid> = page
        .upserted()
        .filter(|a| gazette_domain::syndication::may_read_body(viewer, a, now))
        .map(|a| a.id)
        .collect();
    let bodies = app.bodies(&readable).await?;
    if format == ListFormatJson::Ninjs {
        let site = &http.app.config().feeds;
        let items: Vec<NinjsJson> = (page.entries.iter())
            .map(|entry| match &entry.change {
                Change::Upsert(article) => {
                    let body = bodies.get(&article.id);
                    NinjsJson::article(article, &relations, body, site, now)
                }
                Change::Remove(reason) => NinjsJson::removed(entry.article_id, *reason),
            })
            .collect();
        let next = next_link(uri, "since", &page.next_cursor, &[]);
        return Ok(document(&items, NINJS, CacheTags::new(), next));
    }
    let entries = page
        .entries
        .iter()
        .map(|entry| entry_json(entry, &relations, &bodies, now))
        .collect();
    Ok(Json(ChangesJson {
        entries,
        next_cursor: &page.next_cursor,
        has_more: page.has_more,
    })
    .into_response())
}

/// One entry as `/v1/changes` and `/v1/live` send it: the article (with its body where the
/// caller may read it, as `bodies` holds) on an upsert, the reason on a removal.
pub(super) fn entry_json<'a>(
    entry: &'a ChangeEntry,
    relations: &Relations,
    bodies: &'a HashMap<Uuid, Body>,
    now: DateTime<Utc>,
) -> EntryJson<'a> {
    let (action, article, reason) = match &entry.change {
        Change::Upsert(article) => {
            let body = bodies.get(&article.id);
            let json = article_json(article, relations, body, now);
            (ActionJson::Upsert, Some(json), None)
        }
        Change::Remove(reason) => (ActionJson::Remove, None, Some((*reason).into())),
    };
    EntryJson {
        cursor: &entry.cursor,
        id: entry.article_id,
        action,
        article,
        reason,
    }
}

/// The mirror's shape of `article`, its topic and author slugs taken from `relations`, with
/// `body` where the caller may read it.
fn article_json<'a>(
    article: &'a Article,
    relations: &Relations,
    body: Option<&'a Body>,
    now: DateTime<Utc>,
) -> ArticleJson<'a> {
    let (topics, authors) = relations.of(article);
    ArticleJson {
        summary: ArticleSummary::from(article),
        language: article.language.as_str(),
        status: article.status_at(now).into(),
        updated_at: article.updated_at,
        substantive_updated_at: article.substantive_updated_at,
        topics: topics.iter().map(|t| t.slug.as_str().to_owned()).collect(),
        authors: authors.iter().map(|a| a.slug.as_str().to_owned()).collect(),
        hero_image: article.hero_image.as_ref().map(ImageJson::from),
        body: body.map(editor_blocks),
        body_html: body.map(Body::to_html),
    }
}

/// A webhook's JSON body: its event `type` and the instant it was judged at, then the entry
/// exactly as `/v1/changes` gives it to the subscription's owner.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    entry: EntryJson<'a>,
}

/// The body of the webhook delivering `entry` (of kind `kind`, judged at `now`).
pub fn webhook_payload(
    kind: gazette_domain::webhooks::EventKind,
    entry: &ChangeEntry,
    relations: &Relations,
    bodies: &HashMap<Uuid, Body>,
    now: DateTime<Utc>,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&WebhookJson {
        kind: kind.as_str(),
        occurred_at: now,
        entry: entry_json(entry, relations, bodies, now),
    })
}
