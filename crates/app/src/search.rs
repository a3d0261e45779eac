//! Full-text search, with the highlights and the body right applied once for every surface.

use chrono::{DateTime, Utc};
use gazette_domain::search::{Highlight, SearchQuery, highlight};
use gazette_domain::syndication::may_read_body;
use gazette_domain::{Article, CursorKey as _, OffsetCursor, PageRequest, Viewer};
use gazette_persistence::SearchFilter;

use crate::{App, AppError};

/// Characters of body text around the first match in a hit's body passage.
pub const SNIPPET_CHARS: usize = 240;

/// One search result.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The article.
    pub article: Article,
    /// The engine's relevance (higher is better, comparable within one list).
    pub score: f64,
    /// Whether the article matched every word of the query or only some.
    pub tier: gazette_domain::search::Tier,
    /// The headline, whole, with the matches marked.
    pub headline: Highlight,
    /// A body passage around the first match; `None` where the viewer may not read the body
    /// (a partner without the right to the full text) or passages were not asked for.
    pub body: Option<Highlight>,
}

/// A page of hits, best first.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// The hits.
    pub hits: Vec<SearchHit>,
    /// Hits before this page.
    pub offset: u64,
    /// More hits follow.
    pub has_next: bool,
    /// Hits precede this page.
    pub has_previous: bool,
}

impl SearchPage {
    /// The cursor just after the `i`th hit of the page (0-based).
    pub fn cursor_after(&self, i: usize) -> String {
        OffsetCursor(self.offset + i as u64 + 1).encode()
    }

    /// The cursor after the page's last hit; `None` on an empty page.
    pub fn end_cursor(&self) -> Option<String> {
        self.hits
            .len()
            .checked_sub(1)
            .map(|last| self.cursor_after(last))
    }
}

impl App {
    /// The page `page` of articles matching `query` under `filter` that `viewer` may see in
    /// public lists at `now`, with their headline highlights and, when `body_passages`, the
    /// passage of each readable body around its first match.
    pub async fn search(
        &self,
        viewer: &Viewer,
        query: &SearchQuery,
        filter: &SearchFilter,
        page: &PageRequest<OffsetCursor>,
        now: DateTime<Utc>,
        body_passages: bool,
    ) -> Result<SearchPage, AppError> {
        let offset = page.cursor.map_or(0, |c| c.0);
        let result = self
            .store()
            .search(
                query,
                filter,
                offset,
                page.limit,
                viewer.public_visibility(now),
            )
            .await?;
        // Body passages only when asked for, and only of the hits the viewer may read: one
        // statement for the page's stored plain texts.
        let readable: Vec<uuid::Uuid> = if body_passages {
            result
                .items
                .iter()
                .filter(|hit| may_read_body(viewer, &hit.article, now))
                .map(|hit| hit.article.id)
                .collect()
        } else {
            Vec::new()
        };
        let mut texts = self.store().article_body_texts(&readable).await?;
        let hits = result
            .items
            .into_iter()
            .map(|hit| SearchHit {
                headline: highlight(hit.article.headline.as_str(), query, usize::MAX),
                body: texts
                    .remove(&hit.article.id)
                    .map(|text| highlight(&text, query, SNIPPET_CHARS)),
                score: hit.score,
                tier: hit.tier,
                article: hit.article,
            })
            .collect();
        Ok(SearchPage {
            hits,
            offset,
            has_next: result.has_next,
            has_previous: result.has_previous,
        })
    }
}
