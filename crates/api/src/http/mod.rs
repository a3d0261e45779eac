//! The HTTP router: GraphQL, REST under `/v1` with its OpenAPI document, feeds, health.

mod accept;
pub mod bounds;
pub mod cache;
pub mod caller;
mod changes;
mod documents;
pub mod feeds;
pub mod graphiql;
mod graphql_http;
mod health;
pub mod limits;
mod live;
pub mod observe;
pub mod openapi;
pub mod problems;
pub mod response_cache;
pub mod rest;
mod scrape;

pub use changes::webhook_payload;
pub use scrape::metrics_router;
pub mod web_example;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Router, middleware};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::graphql::build_lean_schema;
use crate::{ApiError, AppState, GazetteSchema, build_schema};

/// What every handler gets: the application state and the schema built over it.
#[derive(Clone)]
pub struct HttpState {
    /// Shared state.
    pub app: AppState,
    /// The executable schema.
    pub schema: GazetteSchema,
    /// The same schema without extensions, for single operations that register nothing
    /// ([`build_lean_schema`]).
    pub lean: GazetteSchema,
    /// Documents parsed lately ([`documents`]).
    documents: Arc<documents::ParsedDocuments>,
}

/// Gazette's routes over `state`, with the delivery layers around them. From the outside in:
/// request id, tracing span and request metrics ([`observe`]), CORS (answers preflights
/// itself), the request's deadline and database pool share, per-client rate limits, the
/// public response cache ([`response_cache`]), HTTP caching (ETag, 304, Cache-Control,
/// Surrogate-Key), compression, then the routes.
pub fn router(state: AppState) -> Router {
    let max_body = state.config().max_body_bytes;
    let cors = cors_layer(&state.config().cors_origins);
    let request_bounds = bounds::Bounds::new(state.config().request_bounds, state.store().clone());
    let openapi_json = openapi::document_json();
    let web_example = state.config().web_example;
    let http = HttpState {
        schema: build_schema(state.clone()),
        lean: build_lean_schema(state.clone()),
        documents: Arc::default(),
        app: state,
    };
    // Long-lived streams: outside the request deadline, the caches and compression.
    let live = Router::new()
        .route("/v1/live", get(live::live))
        .route("/graphql/ws", get(live::graphql_ws))
        .layer(middleware::from_fn_with_state(
            http.clone(),
            limits::rate_limit,
        ))
        .layer(cors.clone());
    // Partner webhooks: every answer, errors included, marked for no cache to keep.
    let webhooks = Router::new()
        .route(
            "/v1/webhooks",
            get(rest::webhooks::list).post(rest::webhooks::create),
        )
        .route(
            "/v1/webhooks/{id}",
            get(rest::webhooks::get_one)
                .patch(rest::webhooks::update)
                .delete(rest::webhooks::delete),
        )
        .route(
            "/v1/webhooks/{id}/rotate-secret",
            post(rest::webhooks::rotate_secret),
        )
        .route("/v1/webhooks/{id}/replay", post(rest::webhooks::replay))
        .route(
            "/v1/webhooks/{id}/deliveries",
            get(rest::webhooks::deliveries),
        )
        .layer(middleware::map_response(rest::webhooks::never_stored));
    let routes = Router::new()
        .route(
            "/graphql",
            get(graphql_http::get_graphql).post(graphql_http::post_graphql),
        )
        .route("/v1/views", post(rest::record_view))
        .route("/v1/trending", get(rest::trending))
        .route("/v1/search", get(rest::search))
        // Delta sync.
        .route("/v1/changes", get(changes::changes))
        // Feeds and the sitemaps.
        .route("/feeds/latest.atom", get(feeds::latest_atom))
        .route("/feeds/latest.rss", get(feeds::latest_rss))
        .route("/feeds/latest.json", get(feeds::latest_json))
        .route("/feeds/topics/{file}", get(feeds::topic))
        .route("/sitemap-news.xml", get(feeds::news_sitemap))
        .route("/sitemap.xml", get(feeds::sitemap_index))
        .route("/sitemaps/{file}", get(feeds::archive_sitemap))
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
        // GraphiQL's scripts and styles (its page is `GET /graphql` from a browser).
        .route("/graphiql/{file}", get(graphiql::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        // The reference front page, when switched on (`GAZETTE_WEB_EXAMPLE`).
        .merge(web_example::routes(web_example))
        .merge(webhooks)
        .fallback(|| async { ApiError::NotFound("route".to_owned()) })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .br(true)
                .quality(CompressionLevel::Precise(4)),
        )
        .layer(middleware::from_fn_with_state(http.clone(), cache::caching))
        .layer(middleware::from_fn_with_state(
            http.clone(),
            response_cache::response_cache,
        ))
        .layer(middleware::from_fn_with_state(
            http.clone(),
            limits::rate_limit,
        ))
        .layer(middleware::from_fn_with_state(
            request_bounds,
            bounds::bound_request,
        ))
        .layer(cors);
    observe::observed(live.merge(routes)).with_state(http)
}

/// CORS for browsers: any origin (`*`) or the configured list; GET, HEAD, POST, PATCH and
/// DELETE (the webhook routes); the request
/// headers a GraphQL or REST client sends; the caching and rate-limit headers exposed.
fn cors_layer(origins: &[String]) -> CorsLayer {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    let layer = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_NONE_MATCH,
            observe::X_REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            response_cache::X_CACHE,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            observe::X_REQUEST_ID,
        ])
        .max_age(std::time::Duration::from_secs(600));
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(AllowOrigin::any())
    } else {
        layer.allow_origin(AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        ))
    }
}
