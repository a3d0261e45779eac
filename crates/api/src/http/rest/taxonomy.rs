//! `GET /v1/topics`, `/v1/topics/{slug}`, `/v1/authors`, `/v1/authors/{slug}`: the reads of
//! GraphQL's `topics`, `topic(slug:)`, `authors` and `author(slug:)`.

use std::collections::HashMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use gazette_domain::{Author, CursorKey, SlugCursor, Topic};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::page::{PageInfo, PageParams, Params, SlugPath, Tagged};
use super::params::SlugSchema;
use super::wire::TopicLink;
use crate::http::HttpState;
use crate::http::cache::CacheTags;
use crate::http::caller::Caller;
use crate::http::problems::{ListProblems, LookupProblems};
use gazette_app::taxonomy::{self, TopicPage};

use crate::ApiError;

/// A topic; sections are topics with no parent.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Topic)]
#[serde(rename_all = "camelCase")]
pub struct TopicJson {
    /// Stable id.
    pub id: Uuid,
    /// URL-safe unique name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What the topic covers.
    pub description: String,
    /// The section this topic belongs to.
    #[schema(required = true)]
    pub parent: Option<TopicLink>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl TopicJson {
    /// The JSON of `t`, its parent looked up in `topics`.
    pub fn new(t: &Topic, topics: &HashMap<Uuid, Topic>) -> Self {
        Self {
            id: t.id,
            slug: t.slug.as_str().to_owned(),
            name: t.name.as_str().to_owned(),
            description: t.description.clone(),
            parent: t
                .parent_id
                .and_then(|p| topics.get(&p))
                .map(TopicLink::from),
            updated_at: t.updated_at,
        }
    }
}

/// One topic with the topics under it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicDetail {
    /// The topic.
    #[serde(flatten)]
    pub topic: TopicJson,
    /// Topics under this one, by slug.
    pub children: Vec<TopicLink>,
}

/// A writer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Author)]
pub struct AuthorJson {
    /// Stable id.
    pub id: Uuid,
    /// URL-safe unique name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Short biography.
    pub bio: String,
}

impl From<&Author> for AuthorJson {
    fn from(a: &Author) -> Self {
        Self {
            id: a.id,
            slug: a.slug.as_str().to_owned(),
            name: a.name.as_str().to_owned(),
            bio: a.bio.clone(),
        }
    }
}

/// A page of topics, by slug.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicList {
    /// The topics.
    pub items: Vec<TopicJson>,
    /// Where the page sits in the list.
    pub page_info: PageInfo,
}

/// A page of authors, by slug.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorList {
    /// The authors.
    pub items: Vec<AuthorJson>,
    /// Where the page sits in the list.
    pub page_info: PageInfo,
}

fn slug_cursor(slug: &gazette_domain::Slug) -> String {
    SlugCursor(slug.as_str().to_owned()).encode()
}

/// List topics
///
/// Every topic, by slug, a page at a time (cursors and limits as GraphQL's `topics`).
#[utoipa::path(
    get,
    path = "/v1/topics",
    tag = "topics",
    params(PageParams),
    responses(
        (status = 200, description = "A page of topics", body = TopicList),
        ListProblems,
    ),
)]
pub async fn list_topics(
    State(http): State<HttpState>,
    Caller(_viewer): Caller,
    Params(page): Params<PageParams>,
) -> Result<Tagged<TopicList>, ApiError> {
    let request = page.page_request::<SlugCursor>()?;
    let TopicPage {
        page: result,
        parents,
    } = http.app.app().topics_with_parents(&request).await?;
    let mut tags = CacheTags::new();
    tags.list("topics");
    for topic in result.items.iter().chain(parents.values()) {
        tags.topic(topic.slug.as_str());
    }
    let page_info = PageInfo::of(&result, |t| slug_cursor(&t.slug));
    let items = result
        .items
        .iter()
        .map(|t| TopicJson::new(t, &parents))
        .collect();
    Ok(Tagged(TopicList { items, page_info }, tags))
}

/// Get a topic
///
/// One topic with its parent section and the topics under it, as GraphQL's `topic(slug:)`.
#[utoipa::path(
    get,
    path = "/v1/topics/{slug}",
    tag = "topics",
    params(("slug" = SlugSchema, Path, description = "The topic's slug")),
    responses(
        (status = 200, description = "The topic", body = TopicDetail),
        LookupProblems,
    ),
)]
pub async fn get_topic(
    State(http): State<HttpState>,
    Caller(_viewer): Caller,
    SlugPath(slug): SlugPath,
) -> Result<Tagged<TopicDetail>, ApiError> {
    let taxonomy::TopicDetail {
        topic,
        parents,
        children,
    } = http.app.app().topic_detail(&slug).await?;
    let mut tags = CacheTags::new();
    for t in std::iter::once(&topic)
        .chain(parents.values())
        .chain(&children)
    {
        tags.topic(t.slug.as_str());
    }
    let detail = TopicDetail {
        topic: TopicJson::new(&topic, &parents),
        children: children.iter().map(TopicLink::from).collect(),
    };
    Ok(Tagged(detail, tags))
}

/// List authors
///
/// Every author, by slug, a page at a time (cursors and limits as GraphQL's `authors`).
#[utoipa::path(
    get,
    path = "/v1/authors",
    tag = "authors",
    params(PageParams),
    responses(
        (status = 200, description = "A page of authors", body = AuthorList),
        ListProblems,
    ),
)]
pub async fn list_authors(
    State(http): State<HttpState>,
    Caller(_viewer): Caller,
    Params(page): Params<PageParams>,
) -> Result<Tagged<AuthorList>, ApiError> {
    let request = page.page_request::<SlugCursor>()?;
    let result = http.app.app().authors(&request).await?;
    let mut tags = CacheTags::new();
    tags.list("authors");
    for author in &result.items {
        tags.author(author.slug.as_str());
    }
    let page_info = PageInfo::of(&result, |a| slug_cursor(&a.slug));
    let items = result.items.iter().map(AuthorJson::from).collect();
    Ok(Tagged(AuthorList { items, page_info }, tags))
}

/// Get an author
///
/// One author, as GraphQL's `author(slug:)`.
#[utoipa::path(
    get,
    path = "/v1/authors/{slug}",
    tag = "authors",
    params(("slug" = SlugSchema, Path, description = "The author's slug")),
    responses(
        (status = 200, description = "The author", body = AuthorJson),
        LookupProblems,
    ),
)]
pub async fn get_author(
    State(http): State<HttpState>,
    Caller(_viewer): Caller,
    SlugPath(slug): SlugPath,
) -> Result<Tagged<AuthorJson>, ApiError> {
    let author = http.app.app().author(&slug).await?;
    let mut tags = CacheTags::new();
    tags.author(author.slug.as_str());
    Ok(Tagged(AuthorJson::from(&author), tags))
}
