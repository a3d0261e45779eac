//! JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>) as serde types.
//!
//! No crate is used here on purpose: `jsonfeed` (last release 2017) writes version 1.0 only
//! and pulls in `error-chain`; `json-feed-model` wraps an untyped `serde_json::Map` with
//! getters and setters, which would trade the compiler's checking of the shape for
//! stringly-typed calls. JSON Feed is plain JSON with a short, stable spec, so typed structs
//! that serde writes are the well-kept way; the tests read the output back with `feed-rs`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use gazette_app::feeds::Feed;

/// `Content-Type` of a JSON Feed.
pub const CONTENT_TYPE: &str = "application/feed+json; charset=utf-8";
/// The version URL a 1.1 feed names.
pub const VERSION_1_1: &str = "https://jsonfeed.org/version/1.1";

/// A JSON Feed 1.1 document (<https://www.jsonfeed.org/version/1.1/>), newest item first.
#[derive(Debug, Serialize, ToSchema)]
pub struct JsonFeed<'a> {
    /// `https://jsonfeed.org/version/1.1`.
    #[schema(value_type = String)]
    version: &'static str,
    /// The site's name and the feed's subject.
    title: &'a str,
    /// The site's home page.
    #[schema(value_type = String)]
    home_page_url: &'a str,
    /// This feed's own URL.
    #[schema(value_type = String)]
    feed_url: &'a str,
    /// What the feed holds.
    description: &'a str,
    /// The publication's language tag.
    language: &'a str,
    /// WebSub hubs (JSON Feed 1.1 `hubs`), when one is configured; left out otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<JsonHub>)]
    hubs: Vec<JsonHub<'a>>,
    /// The articles, newest first.
    #[schema(value_type = Vec<JsonItem>)]
    items: Vec<JsonItem<'a>>,
}

/// A JSON Feed hub: `{"type": "WebSub", "url": …}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JsonFeedHub)]
pub struct JsonHub<'a> {
    /// `WebSub`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    kind: &'static str,
    /// The hub's URL.
    #[schema(value_type = String)]
    url: &'a str,
}

/// A JSON Feed item. The spec requires `content_html` or `content_text`: an item without full
/// text carries its dek as `content_text` (the same words as `summary`, no body).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JsonFeedItem)]
pub struct JsonItem<'a> {
    /// The article's unique, permanent id.
    id: &'a str,
    /// The article's page.
    #[schema(value_type = String)]
    url: &'a str,
    /// The headline.
    title: &'a str,
    /// The dek.
    summary: &'a str,
    /// The full text as HTML, where the caller is granted it; left out otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    content_html: Option<&'a str>,
    /// The dek again, when the item has no `content_html`; left out otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    content_text: Option<&'a str>,
    /// When the article was published.
    date_published: DateTime<Utc>,
    /// Its last change in substance, else its publication.
    date_modified: DateTime<Utc>,
    /// The writers, when any are named; left out otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<JsonAuthor>)]
    authors: Vec<JsonAuthor<'a>>,
    /// The names of the article's topics, when it has any; left out otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<String>)]
    tags: Vec<&'a str>,
    /// The article's language tag.
    language: &'a str,
}

/// A JSON Feed author.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JsonFeedAuthor)]
pub struct JsonAuthor<'a> {
    /// The writer's name.
    name: &'a str,
}

impl<'a> From<&'a Feed> for JsonFeed<'a> {
    fn from(feed: &'a Feed) -> Self {
        Self {
            version: VERSION_1_1,
            title: &feed.title,
            home_page_url: &feed.home_url,
            feed_url: &feed.self_url,
            description: &feed.description,
            language: &feed.language,
            hubs: feed
                .hub
                .iter()
                .map(|url| JsonHub {
                    kind: "WebSub",
                    url,
                })
                .collect(),
            items: feed
                .items
                .iter()
                .map(|item| JsonItem {
                    id: &item.id,
                    url: &item.url,
                    title: &item.title,
                    summary: &item.summary,
                    content_html: item.content_html.as_deref(),
                    content_text: item.content_html.is_none().then_some(item.summary.as_str()),
                    date_published: item.published,
                    date_modified: item.updated,
                    authors: item
                        .authors
                        .iter()
                        .map(|name| JsonAuthor { name })
                        .collect(),
                    tags: item.topics.iter().map(|t| t.name.as_str()).collect(),
                    language: &item.language,
                })
                .collect(),
        }
    }
}

/// The feed as a JSON Feed 1.1 document.
pub fn render(feed: &Feed) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&JsonFeed::from(feed))
}
