//! The HTTP router: GraphQL, REST under `/v1` with its OpenAPI document, health (and, later,
//! feeds).

mod accept;
pub mod cache;
mod graphql_http;
mod health;
pub mod openapi;
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
    let openapi_json = openapi::document_json();
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
        .route("/v1/articles", get(rest::articles::list_articles))
        .route("/v1/articles/{slug}", get(rest::articles::get_article))
        .route("/v1/topics", get(rest::taxonomy::list_topics))
        .route("/v1/topics/{slug}", get(rest::taxonomy::get_topic))
        .route(
            "/v1/topics/{slug}/articles",
            get(rest::articles::topic_articles),
        )
        .route("/v1/authors", get(rest::taxonomy::list_authors))
        .route("/v1/authors/{slug}", get(rest::taxonomy::get_author))
        .route(
            "/v1/authors/{slug}/articles",
            get(rest::articles::author_articles),
        )
        .route(
            "/openapi.json",
            get(move || async move { openapi::serve(openapi_json) }),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(|| async { ApiError::NotFound("route".to_owned()) })
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(http)
}
