//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the handlers'
//! `#[utoipa::path]` annotations and the wire types' `ToSchema` derives.
//!
//! To document a new route, annotate its handler with `#[utoipa::path(...)]` and add the
//! handler to the `paths(...)` list of [`ApiDoc`]: one line. Response schemas are collected
//! from the annotations; problem responses come from the response sets of
//! [`super::problems`].

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{feeds, health, rest};
use crate::error::Problem;

/// Gazette's HTTP API, as OpenAPI 3.1.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gazette",
        description = "Headless news content API: JSON reads under `/v1`, Atom, RSS and JSON \
            feeds under `/feeds`, the sitemaps, and the health checks. Errors are \
            `application/problem+json` (RFC 9457) with a stable `code` and, for bad input, the \
            `field` at fault. Send `Authorization: Bearer <JWT>` to read as a partner or an \
            editor; without it you read as the public. Unknown query parameters are ignored."
    ),
    paths(
        rest::articles::list_articles,
        rest::articles::get_article,
        rest::taxonomy::list_topics,
        rest::taxonomy::get_topic,
        rest::articles::topic_articles,
        rest::taxonomy::list_authors,
        rest::taxonomy::get_author,
        rest::articles::author_articles,
        rest::trending,
        rest::search,
        rest::record_view,
        super::changes::changes,
        super::live::live,
        rest::webhooks::list,
        rest::webhooks::create,
        rest::webhooks::get_one,
        rest::webhooks::update,
        rest::webhooks::delete,
        rest::webhooks::rotate_secret,
        rest::webhooks::replay,
        rest::webhooks::deliveries,
        feeds::latest_atom,
        feeds::latest_rss,
        feeds::latest_json,
        feeds::topic,
        feeds::news_sitemap,
        feeds::sitemap_index,
        feeds::archive_sitemap,
        health::healthz,
        health::readyz,
        // Further routes: one handler path per line here.
    ),
    components(schemas(
        Problem,
        rest::params::SlugSchema,
        rest::params::CursorSchema,
        rest::webhooks::EventSchema,
        rest::webhooks::TargetUrlSchema,
        feeds::schemas::TopicFeedFile,
        feeds::schemas::ArchiveSitemapFile,
    )),
    modifiers(&BearerAuth),
    security((), ("bearer" = [])),
    tags(
        (name = "articles", description = "Articles and their full text"),
        (name = "topics", description = "Topics and sections"),
        (name = "authors", description = "Writers"),
        (name = "trending", description = "Most-read articles and the view beacon"),
        (name = "search", description = "Full-text search"),
        (name = "webhooks", description = "Partner webhook subscriptions (a partner or admin token)"),
        (name = "feeds", description = "Atom, RSS and JSON Feed documents of the latest articles and of each topic"),
        (name = "sitemaps", description = "The Google News sitemap and the archive sitemap"),
        (name = "health", description = "Liveness and readiness: never cached, never rate limited"),
    ),
)]
pub struct ApiDoc;

/// Registers the `bearer` scheme that the operations' security requirements name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some(
                            "A JWT naming a role (`partner` with the `syndication` scope, \
                             `editor`, `admin`). Optional: without it the caller reads as the \
                             public; an invalid token is refused with 401.",
                        ))
                        .build(),
                ),
            );
    }
}

/// The document as JSON, built once when the router is.
pub fn document_json() -> Bytes {
    // Serializing a document of plain strings, maps and numbers cannot fail.
    Bytes::from(ApiDoc::openapi().to_json().unwrap_or_default())
}

/// `GET /openapi.json`.
pub fn serve(document: Bytes) -> Response {
    let mut response = document.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
