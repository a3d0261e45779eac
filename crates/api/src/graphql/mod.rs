//! The GraphQL schema: one module per area, merged at the root.

mod articles;
pub mod budget;
mod changes;
pub mod cost;
mod editorial;
mod loaders;
mod node;
mod objects;
mod order;
mod pagination;
mod search;
pub mod shape;
pub mod spec_checks;
mod taxonomy;
mod trending;

use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};
use chrono::{DateTime, Utc};
use gazette_domain::Viewer;

pub use budget::{DocumentLimits, LimitExceeded};
pub use loaders::Loaders;
pub use order::{SelectionOrder, mark_objects};
pub use search::SNIPPET_CHARS;

use crate::AppState;

/// The root of every read.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    articles::ArticleQuery,
    taxonomy::TaxonomyQuery,
    node::NodeQuery,
    editorial::PreviewQuery,
    trending::TrendingQuery,
    search::SearchQueryRoot,
    changes::ChangesQuery,
);

/// The root of every write.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(editorial::EditorialMutation, trending::ViewMutation);

/// Gazette's executable schema.
pub type GazetteSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Who is asking and the instant the request is answered at; one per request, so every field
/// of a response sees the same "now".
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The authenticated caller.
    pub viewer: Viewer,
    /// The request's instant.
    pub now: DateTime<Utc>,
    /// The caller's address (rate limits).
    pub client_ip: std::net::IpAddr,
    /// What the response contains, for `Surrogate-Key`.
    pub tags: ResponseTags,
}

/// The cache tags a GraphQL response collects as its resolvers run (shared by every field of
/// one request).
#[derive(Debug, Clone, Default)]
pub struct ResponseTags(std::sync::Arc<std::sync::Mutex<crate::http::cache::CacheTags>>);

impl ResponseTags {
    fn with(&self, f: impl FnOnce(&mut crate::http::cache::CacheTags)) {
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
    /// [`crate::http::cache::CacheTags::never_store`].
    pub fn never_store(&self) {
        self.with(|t| {
            t.never_store();
        });
    }

    /// The tags collected.
    pub fn take(&self) -> crate::http::cache::CacheTags {
        let mut taken = crate::http::cache::CacheTags::new();
        self.with(|t| taken = std::mem::take(t));
        taken
    }
}

/// What a resolver reads from its context, each through one typed accessor (the schema and
/// every request put them there: [`build_schema`] the state, the HTTP layer the request
/// context and the loaders).
pub(crate) trait ContextExt {
    /// The application state.
    fn app_state(&self) -> &AppState;
    /// Who asks, and the request's instant.
    fn request_context(&self) -> &RequestContext;
    /// The request's batch loaders.
    fn loaders(&self) -> &Loaders;
}

impl ContextExt for async_graphql::Context<'_> {
    fn app_state(&self) -> &AppState {
        self.data_unchecked::<AppState>()
    }
    fn request_context(&self) -> &RequestContext {
        self.data_unchecked::<RequestContext>()
    }
    fn loaders(&self) -> &Loaders {
        self.data_unchecked::<Loaders>()
    }
}

/// The request's tag collector.
pub(crate) fn tags<'a>(ctx: &'a async_graphql::Context<'_>) -> &'a ResponseTags {
    &ctx.request_context().tags
}

/// The schema's shape, with no database: for `gazette schema` and the SDL test. Depth and
/// cost are not limited here: the HTTP layer measures depth without introspection
/// ([`budget`]) and [`cost::CostLimit`] checks the cost, both with a coded refusal.
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .register_output_type::<node::Node>()
    .limit_recursive_depth(32)
    .limit_directives(16)
}

/// The schema the server runs, over `state`: the cost limit, the checks async-graphql leaves
/// out (the schema's [`shape::SchemaShape`] as schema data), and introspection as configured.
pub fn build_schema(state: AppState) -> GazetteSchema {
    let config = state.config().clone();
    let mut builder = schema_builder()
        .extension(cost::CostLimit {
            default_limit: config.max_query_complexity,
        })
        .data(shape::SchemaShape::from_sdl(&schema_sdl()))
        .data(state);
    if !config.graphql.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The SDL as checked in to `schema.graphql`.
pub fn schema_sdl() -> String {
    schema_builder().finish().sdl()
}
