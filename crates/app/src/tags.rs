//! What an answer shows, for the caches in front of it: the tags a cache purges by when what
//! they name changes, and who may keep a copy. The HTTP layer publishes both as headers.

use std::collections::BTreeSet;

use uuid::Uuid;

/// The cache tags of one response: `article:<id>`, `topic:<slug>`, `list:latest`,
/// `list:trending`, … A CDN purges every response carrying a tag when what it names changes.
/// They also say when a response shows something no cache may keep ([`CacheTags::never_store`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheTags(BTreeSet<String>, bool);

impl CacheTags {
    /// No tags yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The response shows what no cache, shared or private, may keep: a draft opened by a
    /// preview token (which a cache would go on serving after the token expired), or the
    /// server's live status. The caching layer answers it `Cache-Control: no-store`.
    pub fn never_store(&mut self) -> &mut Self {
        self.1 = true;
        self
    }

    /// Whether [`Self::never_store`] was asked for.
    pub fn is_never_store(&self) -> bool {
        self.1
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

    /// Adds every tag of `other` (and its never-store mark).
    pub fn extend(&mut self, other: &CacheTags) -> &mut Self {
        self.0.extend(other.0.iter().cloned());
        self.1 |= other.1;
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
}

/// Who may keep a copy of a 200 response, decided once for every route from who asked and
/// what the response shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storability {
    /// Anonymous reads of public content: shared caches (CDNs) may keep it.
    Public,
    /// A partner's reads: the partner's own cache may keep it, revalidating each time.
    Private,
    /// Staff reads (drafts, newsroom lists), previews and live status: nobody keeps it.
    NoStore,
}

impl Storability {
    /// The rule: staff responses and responses marked [`CacheTags::never_store`] are never
    /// stored; partners' are private; anonymous ones public. `viewer` is `None` when the
    /// request's token did not verify (the answer is then a 401, never cached anyway).
    pub fn of(viewer: Option<&gazette_domain::Viewer>, never_store: bool) -> Self {
        match viewer {
            _ if never_store => Self::NoStore,
            None => Self::NoStore,
            Some(v) if v.is_staff() => Self::NoStore,
            Some(v) if v.is_partner() => Self::Private,
            Some(_) => Self::Public,
        }
    }
}

/// The cache tags an answer collects from many tasks at once (a GraphQL response's resolvers
/// run concurrently); clones share one set.
#[derive(Debug, Clone, Default)]
pub struct SharedTags(std::sync::Arc<std::sync::Mutex<CacheTags>>);

impl SharedTags {
    fn with(&self, f: impl FnOnce(&mut CacheTags)) {
        f(&mut self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    /// The response shows this article.
    pub fn article(&self, id: uuid::Uuid) {
        self.with(|t| {
            t.article(id);
        });
    }

    /// The response shows these articles.
    pub fn articles<'a>(&self, articles: impl IntoIterator<Item = &'a gazette_domain::Article>) {
        self.with(|t| {
            for article in articles {
                t.article(article.id);
            }
        });
    }

    /// The response shows this topic (or its list).
    pub fn topic(&self, slug: &str) {
        self.with(|t| {
            t.topic(slug);
        });
    }

    /// The response shows this author (or their list).
    pub fn author(&self, slug: &str) {
        self.with(|t| {
            t.author(slug);
        });
    }

    /// The response shows a list (`latest`, `trending`, `search`, `topics`, …).
    pub fn list(&self, name: &str) {
        self.with(|t| {
            t.list(name);
        });
    }

    /// The response shows what no cache may keep (a preview): see
    /// [`CacheTags::never_store`].
    pub fn never_store(&self) {
        self.with(|t| {
            t.never_store();
        });
    }

    /// The tags collected.
    pub fn take(&self) -> CacheTags {
        let mut taken = CacheTags::new();
        self.with(|t| taken = std::mem::take(t));
        taken
    }
}
