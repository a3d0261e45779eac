//! JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>) as serde types.
//!
//! No crate is used here on purpose: `jsonfeed` (last release 2017) writes version 1.0 only
//! and pulls in `error-chain`; `json-feed-model` wraps an untyped `serde_json::Map` with
//! getters and setters, which would trade the compiler's checking of the shape for
//! stringly-typed calls. JSON Feed is plain JSON with a short, stable spec, so typed structs
//! that serde writes are the well-kept way; the tests read the output back with `feed-rs`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use gazette_app::feeds::Feed;

/// `Content-Type` of a JSON Feed.
pub const CONTENT_TYPE: &str = "application/feed+json; charset=utf-8";
/// The version URL a 1.1 feed names.
pub const VERSION_1_1: &str = "https://jsonfeed.org/version/1.1";

/// A JSON Feed document.
#[derive(Debug, Serialize)]
pub struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    description: &'a str,
    language: &'a str,
    /// WebSub hubs (JSON Feed 1.1 `hubs`), when one is configured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<JsonHub<'a>>,
    items: Vec<JsonItem<'a>>,
}

/// A JSON Feed hub: `{"type": "WebSub", "url": …}`.
#[derive(Debug, Serialize)]
pub struct JsonHub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

/// A JSON Feed item. The spec requires `content_html` or `content_text`: an item without full
/// text carries its dek as `content_text` (the same words as `summary`, no body).
#[derive(Debug, Serialize)]
pub struct JsonItem<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<&'a str>,
    date_published: DateTime<Utc>,
    date_modified: DateTime<Utc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    language: &'a str,
}

/// A JSON Feed author.
#[derive(Debug, Serialize)]
pub struct JsonAuthor<'a> {
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
