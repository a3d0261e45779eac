//! The JSON shapes of articles (and the topics and authors named in them) under `/v1`, each
//! converted from the domain type in one place. They are the public contract the OpenAPI
//! document describes: a column or domain rename must not change them silently.

use chrono::{DateTime, Utc};
use gazette_app::Relations;
use gazette_domain::{Article, Author, Correction, Topic};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::wire::{BlockJson, ImageJson};

/// An article's life-cycle status as of the request (a scheduled article whose time has come
/// is `published`).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ArticleStatus)]
pub enum StatusJson {
    /// Being written (editors only).
    Draft,
    /// Goes live at its publish time (editors only until then).
    Scheduled,
    /// Live.
    Published,
    /// Taken down (editors only).
    Archived,
    /// Killed: a legal or safety takedown (editors only).
    Killed,
}

impl From<gazette_domain::ArticleStatus> for StatusJson {
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

/// A topic an article is filed under.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleTopic {
    /// Stable id.
    pub id: Uuid,
    /// URL-safe unique name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Whether this is the article's primary topic (its section page).
    pub primary: bool,
}

/// A topic named from another resource (a parent or a child).
#[derive(Debug, Serialize, ToSchema)]
pub struct TopicLink {
    /// Stable id.
    pub id: Uuid,
    /// URL-safe unique name.
    pub slug: String,
    /// Display name.
    pub name: String,
}

impl From<&Topic> for TopicLink {
    fn from(t: &Topic) -> Self {
        Self {
            id: t.id,
            slug: t.slug.as_str().to_owned(),
            name: t.name.as_str().to_owned(),
        }
    }
}

/// An author in a byline.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorLink {
    /// Stable id.
    pub id: Uuid,
    /// URL-safe unique name.
    pub slug: String,
    /// Display name.
    pub name: String,
}

impl From<&Author> for AuthorLink {
    fn from(a: &Author) -> Self {
        Self {
            id: a.id,
            slug: a.slug.as_str().to_owned(),
            name: a.name.as_str().to_owned(),
        }
    }
}

/// A public correction of a published article.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Correction)]
#[serde(rename_all = "camelCase")]
pub struct CorrectionJson {
    /// What was wrong and what is right now.
    pub text: String,
    /// When it was corrected.
    pub created_at: DateTime<Utc>,
}

impl From<&Correction> for CorrectionJson {
    fn from(c: &Correction) -> Self {
        Self {
            text: c.text.clone(),
            created_at: c.created_at,
        }
    }
}

/// An article in a list: everything but the body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArticleListItem {
    /// Stable id (UUID v7).
    pub id: Uuid,
    /// URL-safe unique name.
    pub slug: String,
    /// The headline.
    pub headline: String,
    /// One-line summary.
    pub dek: String,
    /// Wire agency or desk ("News1").
    pub source: String,
    /// Language tag.
    pub language: String,
    /// Status as of this request.
    pub status: StatusJson,
    /// When it went (or goes) live; null for a draft never published.
    #[schema(required = true)]
    pub published_at: Option<DateTime<Utc>>,
    /// When it stops being visible to readers and partners; null: never.
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Last save of any kind.
    pub updated_at: DateTime<Utc>,
    /// Last change in substance (show as "Updated"); null when there was none.
    #[schema(required = true)]
    pub substantive_updated_at: Option<DateTime<Utc>>,
    /// The canonical page on the publisher's site.
    #[schema(required = true)]
    pub canonical_url: Option<String>,
    /// Lead picture.
    #[schema(required = true)]
    pub hero_image: Option<ImageJson>,
    /// Words in the body.
    pub word_count: u32,
    /// Minutes to read, rounded up.
    pub reading_time_minutes: u32,
    /// The main topic.
    #[schema(required = true)]
    pub primary_topic: Option<TopicLink>,
    /// Every topic, the primary one first and marked.
    pub topics: Vec<ArticleTopic>,
    /// Authors in byline order.
    pub authors: Vec<AuthorLink>,
}

/// One article in full.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Article)]
#[serde(rename_all = "camelCase")]
pub struct ArticleJson {
    /// The list fields.
    #[serde(flatten)]
    pub summary: ArticleListItem,
    /// The body as typed blocks, in order (null when the caller may not have the full text).
    #[schema(required = true)]
    pub body: Option<Vec<BlockJson>>,
    /// The body as HTML, every text escaped (null when `body` is).
    #[schema(required = true)]
    pub body_html: Option<String>,
    /// The body as plain text, blocks separated by blank lines (null when `body` is).
    #[schema(required = true)]
    pub body_text: Option<String>,
    /// When the article was first saved.
    pub created_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// Public corrections, oldest first.
    pub corrections: Vec<CorrectionJson>,
    /// Earlier slugs that still lead here (`GET /v1/articles/{old}` answers 301).
    pub previous_slugs: Vec<String>,
}

impl ArticleListItem {
    /// The list shape of `a`, its topics and authors taken from `relations`, its status as of
    /// `now`.
    pub fn new(a: &Article, relations: &Relations, now: DateTime<Utc>) -> Self {
        let (topics, authors) = relations.of(a);
        Self {
            id: a.id,
            slug: a.slug.as_str().to_owned(),
            headline: a.headline.as_str().to_owned(),
            dek: a.dek.as_str().to_owned(),
            source: a.source.as_str().to_owned(),
            language: a.language.as_str().to_owned(),
            status: a.status_at(now).into(),
            published_at: a.published_at,
            expires_at: a.expires_at,
            updated_at: a.updated_at,
            substantive_updated_at: a.substantive_updated_at,
            canonical_url: a.canonical_url.as_ref().map(|u| u.as_str().to_owned()),
            hero_image: a.hero_image.as_ref().map(ImageJson::from),
            word_count: a.word_count(),
            reading_time_minutes: a.reading_time_minutes(),
            primary_topic: a
                .primary_topic_id
                .and_then(|id| relations.topics.get(&id))
                .map(TopicLink::from),
            topics: topics
                .into_iter()
                .map(|t| ArticleTopic {
                    id: t.id,
                    slug: t.slug.as_str().to_owned(),
                    name: t.name.as_str().to_owned(),
                    primary: Some(t.id) == a.primary_topic_id,
                })
                .collect(),
            authors: authors.into_iter().map(AuthorLink::from).collect(),
        }
    }
}

/// A page of articles.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArticleList {
    /// The articles, in the list's order.
    pub items: Vec<ArticleListItem>,
    /// Where the page sits in the list.
    pub page_info: super::page::PageInfo,
}
