//! HTTP caching: what a public response contains, named for CDNs.
//!
//! Handlers attach [`CacheTags`] to a response as an extension; the caching layer turns them
//! into `Surrogate-Key` and `Cache-Tag` headers (and adds ETag, `Cache-Control` and `Vary`).

use std::collections::BTreeSet;

use axum::response::Response;
use uuid::Uuid;

/// The cache tags of one response: `article:<id>`, `topic:<slug>`, `list:latest`,
/// `list:trending`, … A CDN purges every response carrying a tag when what it names changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheTags(BTreeSet<String>);

impl CacheTags {
    /// No tags yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `article:<id>`.
    pub fn article(&mut self, id: Uuid) -> &mut Self {
        self.0.insert(format!("article:{id}"));
        self
    }

    /// Adds `topic:<slug>`.
    pub fn topic(&mut self, slug: &str) -> &mut Self {
        self.0.insert(format!("topic:{slug}"));
        self
    }

    /// Adds `author:<slug>`.
    pub fn author(&mut self, slug: &str) -> &mut Self {
        self.0.insert(format!("author:{slug}"));
        self
    }

    /// Adds `list:<name>` (`latest`, `trending`, `topics`, …).
    pub fn list(&mut self, name: &str) -> &mut Self {
        self.0.insert(format!("list:{name}"));
        self
    }

    /// Adds every tag of `other`.
    pub fn extend(&mut self, other: &CacheTags) -> &mut Self {
        self.0.extend(other.0.iter().cloned());
        self
    }

    /// Whether no tag was added.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tags, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Attaches the tags to `response` for the caching layer to publish.
    pub fn attach(self, response: &mut Response) {
        if let Some(existing) = response.extensions_mut().get_mut::<CacheTags>() {
            existing.0.extend(self.0);
        } else {
            response.extensions_mut().insert(self);
        }
    }
}
