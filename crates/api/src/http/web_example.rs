//! The reference front page of `examples/web/`, served from the binary (`GAZETTE_WEB_EXAMPLE`):
//! its HTML at `/`, `/articles/{slug}` and `/topics/{slug}` (the script reads the path), its
//! script and style sheet beside it. The files are compiled in, so the binary is all a newcomer
//! needs; any static host can serve the same files instead.
//!
//! The page talks only to this origin: its Content-Security-Policy admits scripts, styles and
//! requests from here, pictures from anywhere over https, and nothing else. It is a reference,
//! not the publisher's site, so it asks search engines not to index it. Each file is answered
//! `Cache-Control: no-cache`: browsers keep it and revalidate it against its ETag (the caching
//! layer adds both), so a new binary's page is seen at once.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::HttpState;

/// The page's policy. `img-src https:`: hero and body pictures are hosted elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' https: data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

const INDEX_HTML: &str = include_str!("../../../../examples/web/index.html");
const APP_JS: &str = include_str!("../../../../examples/web/app.js");
const STYLE_CSS: &str = include_str!("../../../../examples/web/style.css");

/// The page's routes when `enabled`, none otherwise. None of them is under an API prefix
/// (`/graphql`, `/v1`, `/feeds`, `/openapi.json`, health), so they cannot shadow the API.
pub fn routes(enabled: bool) -> Router<HttpState> {
    if !enabled {
        return Router::new();
    }
    Router::new()
        .route("/", get(page))
        .route("/articles/{slug}", get(page))
        .route("/topics/{slug}", get(page))
        .route(
            "/app.js",
            get(|| async { file("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/style.css",
            get(|| async { file("text/css; charset=utf-8", STYLE_CSS) }),
        )
}

/// The HTML, whatever the slug: the script renders the article or topic, or its 404 state.
async fn page() -> Response {
    let mut response = file("text/html; charset=utf-8", INDEX_HTML);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

fn file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_files_served_here() {
        for reference in ["href=\"/style.css\"", "src=\"/app.js\""] {
            assert!(INDEX_HTML.contains(reference), "{reference}");
        }
        assert!(INDEX_HTML.contains("<meta name=\"gazette-api\" content=\"/graphql\">"));
        assert!(
            !INDEX_HTML.contains("<script>"),
            "no inline script: the CSP forbids it"
        );
    }
}
