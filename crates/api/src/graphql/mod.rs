//! The GraphQL schema: one module per area, merged at the root.

mod articles;
mod changes;
mod editorial;
mod live;
pub(crate) use live::batches_then_end;
mod loaders;
mod node;
mod objects;
mod pagination;
mod search;
mod taxonomy;
mod trending;
mod webhooks;

use async_graphql::{MergedObject, Schema, SchemaBuilder};
use chrono::{DateTime, Utc};
use gazette_app::editorial::{Admin, Staff};
use gazette_domain::Viewer;

pub use gazette_graphql_spec::{
    DocumentLimits, LimitExceeded, SelectionOrder, budget, cost, mark_objects, shape, spec_checks,
};
pub use loaders::Loaders;
pub use search::SNIPPET_CHARS;

use crate::AppState;
use crate::error::GqlResultExt as _;

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
    webhooks::WebhookQuery,
);

/// The root of every write.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    editorial::EditorialMutation,
    trending::ViewMutation,
    webhooks::WebhookMutation,
);

/// Gazette's executable schema.
pub type GazetteSchema = Schema<QueryRoot, MutationRoot, live::LiveSubscription>;

/// Who is asking and the instant the request is answered at; one per request, so every field
/// of a response sees the same "now" (a subscription moves it to each event's instant).
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The authenticated caller.
    pub viewer: Viewer,
    /// The request's instant.
    pub at: gazette_app::clock::SharedInstant,
    /// The caller's address (rate limits).
    pub client_ip: std::net::IpAddr,
    /// What the response contains, for `Surrogate-Key`.
    pub tags: ResponseTags,
}

impl RequestContext {
    /// The instant the request (or the subscription event being resolved) is answered at.
    pub fn now(&self) -> DateTime<Utc> {
        self.at.get()
    }
}

/// The cache tags a GraphQL response collects as its resolvers run (shared by every field of
/// one request).
pub use gazette_app::tags::SharedTags as ResponseTags;

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
    /// The caller's [`Staff`] capability (a field guarded by [`StaffOnly`] always has it).
    fn staff(&self) -> async_graphql::Result<Staff>;
    /// The caller's [`Admin`] capability (a field guarded by [`AdminOnly`] always has it).
    fn admin(&self) -> async_graphql::Result<Admin>;
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
    fn staff(&self) -> async_graphql::Result<Staff> {
        Staff::check(&self.request_context().viewer).gql()
    }
    fn admin(&self) -> async_graphql::Result<Admin> {
        Admin::check(&self.request_context().viewer).gql()
    }
}

/// Field guard: only editors and admins reach the field (anonymous callers get
/// `UNAUTHENTICATED`, partners `FORBIDDEN`), checked after its arguments are read, as the
/// field's resolver would.
pub(crate) struct StaffOnly;

impl async_graphql::Guard for StaffOnly {
    async fn check(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<()> {
        ctx.staff().map(drop)
    }
}

/// Field guard: only admins reach the field (editors get `FORBIDDEN`; others as
/// [`StaffOnly`]).
pub(crate) struct AdminOnly;

impl async_graphql::Guard for AdminOnly {
    async fn check(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<()> {
        ctx.admin().map(drop)
    }
}

/// The request's tag collector.
pub(crate) fn tags<'a>(ctx: &'a async_graphql::Context<'_>) -> &'a ResponseTags {
    &ctx.request_context().tags
}

/// The schema's shape, with no database: for `gazette schema` and the SDL test. Depth and
/// cost are not limited here: the HTTP layer measures depth without introspection
/// ([`budget`]) and [`cost::CostLimit`] checks the cost, both with a coded refusal.
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, live::LiveSubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        live::LiveSubscription,
    )
    .register_output_type::<node::Node>()
    .limit_recursive_depth(32)
    .limit_directives(16)
}

/// The schema the server runs, over `state`: the cost limit, the checks async-graphql leaves
/// out (the schema's [`shape::SchemaShape`] as schema data), and introspection as configured.
pub fn build_schema(state: AppState) -> GazetteSchema {
    let limit = state.config().max_query_complexity;
    finish(
        schema_builder().extension(cost::CostLimit {
            default_limit: limit,
        }),
        state,
    )
}

/// The same schema with async-graphql's own cost limit instead of [`cost::CostLimit`], for a
/// single operation that registers no persisted query. Any extension sends every field of a
/// response through the extension chain (a boxed future and two registry lookups per field),
/// which the cost check, done once at validation, does not need. An operation over the limit
/// is refused here without its cost: the caller runs it again on [`build_schema`]'s schema
/// for the coded refusal.
pub fn build_lean_schema(state: AppState) -> GazetteSchema {
    let limit = state.config().max_query_complexity;
    finish(schema_builder().limit_complexity(limit), state)
}

/// The refusal [`build_lean_schema`]'s schema gives an operation over the cost limit.
pub(crate) fn over_lean_limit(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && response
            .errors
            .iter()
            .any(|e| e.path.is_empty() && e.message == "Query is too complex.")
}

fn finish(
    builder: SchemaBuilder<QueryRoot, MutationRoot, live::LiveSubscription>,
    state: AppState,
) -> GazetteSchema {
    let config = state.config().clone();
    let mut builder = builder
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
