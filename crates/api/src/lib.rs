//! Gazette's HTTP surface: GraphQL, REST and feeds, adapters over the use cases of
//! `gazette-app`: each parses its wire input, calls one use case, and maps the answer and
//! the error.
//!
//! The binary builds an [`AppState`] once and serves [`router`]; tests build the same.

pub mod auth;
pub mod error;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod persisted;
mod state;
pub mod wire;

pub use auth::{AuthConfig, AuthConfigError, AuthError, Authenticator, PreviewGrant};
pub use error::ApiError;
pub use graphql::{GazetteSchema, build_schema, schema_builder, schema_sdl};
pub use http::{metrics_router, router};
pub use state::{ApiConfig, AppState, FeedsConfig, GraphqlLimits};
