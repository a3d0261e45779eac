//! Parsed GraphQL documents by their text, so that a document clients send again and again
//! (every page of a site sends the same few) is parsed and measured once, not per request:
//! parsing was a sixth of a one-field list's instructions (BENCHMARKS.md, "Reads").
//!
//! Only documents that parsed and passed the document budget are kept, as sent and marked
//! ([`mark_objects`](crate::graphql::mark_objects)); what still depends on the request (the checks of its variables,
//! validation against the schema with the cost limit) runs every time. Bounded by entries and
//! by the tokens of the documents held (a parsed document's size follows its token count), the
//! least recently used forgotten first; hits and misses are counted
//! (`gazette_cache_lookups_total{cache="graphql_document"}`).

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;

/// Most documents kept.
const MAX_DOCUMENTS: usize = 512;
/// Most tokens of all the documents kept (16 documents at the default token limit of 2,000,
/// or 500 page-sized ones of 60).
const MAX_TOKENS: usize = 32_000;

/// A document that parsed and passed the budget.
#[derive(Debug)]
pub(super) struct Parsed {
    /// As sent: the response is put in its selection order.
    pub sent: ExecutableDocument,
    /// With [`mark_objects`](crate::graphql::mark_objects)' markers: what the executor runs.
    pub marked: ExecutableDocument,
    /// Its tokens, as the budget counted them.
    tokens: usize,
}

impl Parsed {
    pub(super) fn new(sent: ExecutableDocument, tokens: usize) -> Self {
        let mut marked = sent.clone();
        crate::graphql::mark_objects(&mut marked);
        Self {
            sent,
            marked,
            tokens,
        }
    }
}

/// The cache (shared by every request of the process).
#[derive(Debug)]
pub(crate) struct ParsedDocuments {
    inner: Mutex<Held>,
}

#[derive(Debug)]
struct Held {
    documents: LruCache<String, Arc<Parsed>>,
    tokens: usize,
}

impl Default for ParsedDocuments {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(MAX_DOCUMENTS).unwrap_or(NonZeroUsize::MIN);
        Self {
            inner: Mutex::new(Held {
                documents: LruCache::new(capacity),
                tokens: 0,
            }),
        }
    }
}

impl ParsedDocuments {
    fn lock(&self) -> MutexGuard<'_, Held> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The document parsed from `text`, if it is held.
    pub(super) fn get(&self, text: &str) -> Option<Arc<Parsed>> {
        let found = self.lock().documents.get(text).cloned();
        crate::metrics::cache_lookup("graphql_document", found.is_some());
        found
    }

    /// Keeps `parsed` as the document of `text`, forgetting the least recently used beyond
    /// the bounds; a document larger than the whole token bound is not kept.
    pub(super) fn put(&self, text: &str, parsed: Arc<Parsed>) {
        if parsed.tokens > MAX_TOKENS {
            return;
        }
        let mut held = self.lock();
        held.tokens += parsed.tokens;
        if let Some((_, old)) = held.documents.push(text.to_owned(), parsed) {
            held.tokens -= old.tokens;
        }
        while held.tokens > MAX_TOKENS {
            match held.documents.pop_lru() {
                Some((_, old)) => held.tokens -= old.tokens,
                None => break,
            }
        }
    }

    /// Documents held and their tokens.
    #[cfg(test)]
    fn size(&self) -> (usize, usize) {
        let held = self.lock();
        (held.documents.len(), held.tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(tokens: usize) -> Arc<Parsed> {
        let document = async_graphql::parser::parse_query("{ a }").unwrap();
        Arc::new(Parsed::new(document, tokens))
    }

    #[test]
    fn holds_what_it_was_given_and_marks_a_copy() {
        let cache = ParsedDocuments::default();
        assert!(cache.get("{ a }").is_none());
        cache.put("{ a }", parsed(3));
        let found = cache.get("{ a }").unwrap();
        assert_eq!(found.tokens, 3);
        assert_ne!(format!("{:?}", found.sent), format!("{:?}", found.marked));
        assert_eq!(cache.size(), (1, 3));
        // The same text again replaces, and counts once.
        cache.put("{ a }", parsed(3));
        assert_eq!(cache.size(), (1, 3));
    }

    #[test]
    fn stays_within_its_token_bound_forgetting_the_least_recently_used() {
        let cache = ParsedDocuments::default();
        let each = MAX_TOKENS / 4;
        for n in 0..4 {
            cache.put(&format!("doc {n}"), parsed(each));
        }
        // Used lately: kept over "doc 1".
        assert!(cache.get("doc 0").is_some());
        cache.put("doc 4", parsed(each));
        assert!(cache.get("doc 1").is_none());
        assert!(cache.get("doc 0").is_some());
        assert_eq!(cache.size(), (4, 4 * each));
        // Larger than the whole bound: not kept, nothing forgotten for it.
        cache.put("huge", parsed(MAX_TOKENS + 1));
        assert!(cache.get("huge").is_none());
        assert_eq!(cache.size(), (4, 4 * each));
    }

    #[test]
    fn stays_within_its_entry_bound() {
        let cache = ParsedDocuments::default();
        for n in 0..MAX_DOCUMENTS + 10 {
            cache.put(&format!("doc {n}"), parsed(1));
        }
        assert_eq!(cache.size(), (MAX_DOCUMENTS, MAX_DOCUMENTS));
        assert!(cache.get("doc 0").is_none());
    }
}
