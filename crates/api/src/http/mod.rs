//! The HTTP router: GraphQL, REST, feeds, health.

mod accept;
pub mod cache;
pub mod feeds;
mod graphql_http;
mod health;
pub mod rest;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::{ApiError, AppState, GazetteSchema, build_schema};

/// What every handler gets: the application state and the schema built over it.
#[derive(Clone)]
pub struct HttpState {
    /// Shared state.
    pub app: AppState,
    /// The executable schema.
    pub schema: GazetteSchema,
}

/// Gazette's routes over `state`.
pub fn router(state: AppState) -> Router {
    let max_body = state.config().max_body_bytes;
    let http = HttpState {
        schema: build_schema(state.clone()),
        app: state,
    };
    Router::new()
        .route(
            "/graphql",
            get(graphql_http::get_graphql).post(graphql_http::post_graphql),
        )
        .route("/v1/views", post(rest::record_view))
        .route("/v1/trending", get(rest::trending))
        .route("/v1/search", get(rest::search))
        // Feeds and the news sitemap.
        .route("/feeds/latest.atom", get(feeds::latest_atom))
        .route("/feeds/latest.rss", get(feeds::latest_rss))
        .route("/feeds/latest.json", get(feeds::latest_json))
        .route("/feeds/topics/{file}", get(feeds::topic))
        .route("/sitemap-news.xml", get(feeds::news_sitemap))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(|| async { ApiError::NotFound("route".to_owned()) })
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(http)
}
