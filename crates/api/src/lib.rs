//! Gazette's HTTP surface: GraphQL (and, in time, REST and feeds) over the domain and storage.
//!
//! The binary builds an [`AppState`] once and serves [`router`]; tests build the same.

pub mod auth;
pub mod changes;
pub mod error;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod persisted;
pub mod related;
mod state;
pub mod views;

pub use auth::{AuthConfig, AuthConfigError, AuthError, Authenticator, PreviewGrant};
pub use error::ApiError;
pub use graphql::{GazetteSchema, build_schema, schema_builder, schema_sdl};
pub use http::{metrics_router, router};
pub use state::{ApiConfig, AppState, FeedsConfig, GraphqlLimits};
