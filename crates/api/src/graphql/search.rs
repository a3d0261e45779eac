//! Full-text search over published articles.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use gazette_domain::search::{Highlight, SearchQuery};
use gazette_domain::{OffsetCursor, Slug, ValidationError};
use gazette_persistence::SearchFilter;

use super::ContextExt as _;
use super::loaders::load_error;
use super::objects::{ArticleNode, BODY_FORBIDDEN};
use super::pagination::{connection_cost, page_request};
use crate::error::GqlResultExt as _;

pub use gazette_app::search::SNIPPET_CHARS;

/// Where a match is in a snippet: character offsets `[start, end)`.
#[derive(SimpleObject)]
pub struct TextRange {
    /// First character of the match.
    start: i32,
    /// One past its last character.
    end: i32,
}

/// A snippet with the query's words found in it. Take `html` (escaped, matches in `<mark>`)
/// or `text` with `ranges` and render them yourself.
#[derive(SimpleObject)]
pub struct Snippet {
    /// Plain text; `…` marks where it was cut.
    text: String,
    /// The same as HTML with `<mark>` around matches.
    html: String,
    /// The matches in `text`, as character offsets.
    ranges: Vec<TextRange>,
}

impl From<Highlight> for Snippet {
    fn from(h: Highlight) -> Self {
        Self {
            html: h.to_html(),
            ranges: h
                .ranges
                .iter()
                .map(|&(s, e)| TextRange {
                    start: i32::try_from(s).unwrap_or(i32::MAX),
                    end: i32::try_from(e).unwrap_or(i32::MAX),
                })
                .collect(),
            text: h.text,
        }
    }
}

/// Where the query matched (the body passage only where the viewer may read the body).
pub struct SearchHighlights {
    headline: Snippet,
    /// `None` when the viewer may not read the body (a partner without full-text rights).
    body: Option<Snippet>,
}

/// Where the query matched.
#[Object]
impl SearchHighlights {
    /// The headline, whole.
    async fn headline(&self) -> &Snippet {
        &self.headline
    }
    /// A passage of the body around the first match; a `FORBIDDEN` error (null) for a partner
    /// without the right to the article's full text.
    async fn body(&self) -> Result<Option<&Snippet>> {
        self.body
            .as_ref()
            .map(Some)
            .ok_or_else(|| crate::ApiError::Forbidden(BODY_FORBIDDEN.to_owned()).into_graphql())
    }
}

/// Which part of the results a hit belongs to.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum SearchTier {
    /// The article matches every word, phrase and prefix of the query. These hits come first.
    AllWords,
    /// Fewer articles matched every word than were asked for: this one matches some of the
    /// query's distinctive words (those in fewer than 500 articles), after every `ALL_WORDS`
    /// hit.
    AnyWord,
}

impl From<gazette_domain::search::Tier> for SearchTier {
    fn from(tier: gazette_domain::search::Tier) -> Self {
        match tier {
            gazette_domain::search::Tier::AllWords => Self::AllWords,
            gazette_domain::search::Tier::AnyWord => Self::AnyWord,
        }
    }
}

/// One search result.
#[derive(SimpleObject)]
pub struct SearchHit {
    /// The article.
    article: ArticleNode,
    /// Relevance from the database's engine (bm25 on SQLite, ts_rank_cd on PostgreSQL);
    /// higher is better, comparable within one tier of one result list only.
    score: f64,
    /// Whether the article matched every word of the query or only some.
    tier: SearchTier,
    /// Snippets with the matches marked.
    highlights: SearchHighlights,
}

/// Narrows a search.
#[derive(InputObject, Default)]
pub struct SearchFilterInput {
    /// Topic slug.
    pub topic: Option<String>,
    /// Published at or after.
    pub published_after: Option<DateTime<Utc>>,
    /// Published before.
    pub published_before: Option<DateTime<Utc>>,
}

impl SearchFilterInput {
    /// The storage filter, with the topic slug checked.
    pub fn parse(self) -> Result<SearchFilter, ValidationError> {
        Ok(SearchFilter {
            topic: self
                .topic
                .as_deref()
                .map(|t| Slug::parse_field("filter.topic", t))
                .transpose()?,
            published_after: self.published_after,
            published_before: self.published_before,
        })
    }
}

/// Search reads.
#[derive(Default)]
pub struct SearchQueryRoot;

#[Object]
impl SearchQueryRoot {
    /// Published articles matching `query`, most relevant first. Articles holding every word
    /// come first (`tier: ALL_WORDS`; stemmed: `tariffs` finds `tariff`); when they are fewer
    /// than asked for, articles holding some of the query's distinctive words follow
    /// (`tier: ANY_WORD`). `"quoted phrases"` match in order, `korea*` matches words starting
    /// with `korea`, and a place name matches its people and back (`Korean` finds `Korea`).
    /// A query of only stop words or punctuation finds nothing; an unclosed quote is
    /// `BAD_USER_INPUT`. Pages forward with `first`/`after` through both tiers.
    #[graphql(complexity = "connection_cost(first, None, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<SearchFilterInput>,
    ) -> Result<Connection<String, SearchHit>> {
        let parsed = SearchQuery::parse("query", &query).gql()?;
        let filter = filter.unwrap_or_default().parse().gql()?;
        let page = page_request::<OffsetCursor>(first, after, None, None)?;
        let state = ctx.app_state();
        let request = ctx.request_context();
        // Body passages (a body text read) only when the selection shows them.
        let look = ctx.look_ahead();
        let passages = look
            .field("edges")
            .field("node")
            .field("highlights")
            .field("body")
            .exists()
            || look
                .field("nodes")
                .field("highlights")
                .field("body")
                .exists();
        let result = state
            .app()
            .search(
                &request.viewer,
                &parsed,
                &filter,
                &page,
                request.now(),
                passages,
            )
            .await
            .gql()?;
        let articles: Vec<&gazette_domain::Article> =
            result.hits.iter().map(|h| &h.article).collect();
        super::tags(ctx).list("search");
        super::tags(ctx).articles(articles.iter().copied());
        ctx.loaders()
            .prefetch_for_articles(
                ctx.look_ahead()
                    .field("edges")
                    .field("node")
                    .field("article"),
                &articles,
            )
            .await
            .map_err(load_error)?;
        let mut connection = Connection::new(result.has_previous, result.has_next);
        let cursors: Vec<String> = (0..result.hits.len())
            .map(|i| result.cursor_after(i))
            .collect();
        for (hit, cursor) in result.hits.into_iter().zip(cursors) {
            connection
                .edges
                .push(Edge::new(cursor, SearchHit::from(hit)));
        }
        Ok(connection)
    }
}

impl From<gazette_app::search::SearchHit> for SearchHit {
    fn from(hit: gazette_app::search::SearchHit) -> Self {
        Self {
            score: hit.score,
            tier: hit.tier.into(),
            highlights: SearchHighlights {
                headline: hit.headline.into(),
                body: hit.body.map(Snippet::from),
            },
            article: ArticleNode::from(hit.article),
        }
    }
}
