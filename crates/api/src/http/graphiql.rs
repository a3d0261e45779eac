//! GraphiQL, from the binary: the page a browser gets at `GET /graphql`, and its scripts and
//! styles under `/graphiql/` (vendored in `crates/api/assets/graphiql/`, see its README). No
//! CDN is contacted; the page's Content-Security-Policy admits scripts from this origin only,
//! and each asset is also pinned by a Subresource-Integrity hash.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::Digest as _;

use crate::ApiError;

/// Where the assets are served.
pub const ASSETS_PATH: &str = "/graphiql";

/// The page's policy: scripts, styles, fonts and requests from this origin only (GraphiQL's
/// fonts and icons are `data:` URLs inside its stylesheet; its components set inline styles),
/// no plugins, no framing, no form posts, no `<base>` rewriting.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A vendored file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file under [`ASSETS_PATH`], in the order the page loads them (scripts: React, then
/// ReactDOM, then GraphiQL, then the starter).
const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql-4.1.2.min.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/graphiql/graphiql-4.1.2.min.css"),
    },
    Asset {
        name: "gazette-graphiql.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/graphiql/gazette-graphiql.css"),
    },
    Asset {
        name: "react-18.3.1.production.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/react-18.3.1.production.min.js"),
    },
    Asset {
        name: "react-dom-18.3.1.production.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/react-dom-18.3.1.production.min.js"),
    },
    Asset {
        name: "graphiql-4.1.2.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/graphiql-4.1.2.min.js"),
    },
    Asset {
        name: "gazette-graphiql.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/gazette-graphiql.js"),
    },
];

/// An asset's tag for the page: its URL (with a content hash, so it can be cached for good)
/// and its Subresource-Integrity value.
struct Reference {
    asset: &'static Asset,
    url: String,
    integrity: String,
}

/// Computed once: hashing the 1.6 MB of assets per page view would be waste.
static REFERENCES: LazyLock<Vec<Reference>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let version: String = sha2::Sha256::digest(asset.bytes)
                .iter()
                .take(6)
                .map(|b| format!("{b:02x}"))
                .collect();
            let integrity = format!(
                "sha384-{}",
                base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(asset.bytes))
            );
            Reference {
                asset,
                url: format!("{ASSETS_PATH}/{}?v={version}", asset.name),
                integrity,
            }
        })
        .collect()
});

/// The GraphiQL page for `endpoint`, with its security headers. The caller adds
/// `Vary: Accept` through the caching layer's helper (the same URL answers JSON to clients).
pub fn page(endpoint: &str) -> Response {
    let mut styles = String::new();
    let mut scripts = String::new();
    for reference in REFERENCES.iter() {
        if reference.asset.content_type == CSS {
            styles.push_str(&format!(
                "    <link rel=\"stylesheet\" href=\"{}\" integrity=\"{}\">\n",
                reference.url, reference.integrity
            ));
        } else {
            scripts.push_str(&format!(
                "    <script src=\"{}\" integrity=\"{}\"></script>\n",
                reference.url, reference.integrity
            ));
        }
    }
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\">\n    \
         <meta name=\"robots\" content=\"noindex\">\n    \
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n    \
         <meta name=\"referrer\" content=\"no-referrer\">\n    \
         <title>Gazette GraphiQL</title>\n    <link rel=\"icon\" href=\"data:,\">\n{styles}  \
         </head>\n  <body>\n    <div id=\"graphiql\" data-endpoint=\"{}\">Loading…</div>\n\
         {scripts}  </body>\n</html>\n",
        escape_attribute(endpoint)
    );
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response();
    crate::http::cache::append_vary(response.headers_mut(), "accept");
    response
}

/// `endpoint` safe inside a double-quoted HTML attribute.
fn escape_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `GET /graphiql/{file}`: a vendored asset, cacheable for a year (its URL changes with its
/// content), or 404.
pub async fn asset(Path(file): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file) else {
        return ApiError::NotFound("GraphiQL asset".to_owned()).into_response();
    };
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_only_its_own_assets() {
        let response = page("/graphql");
        assert_eq!(
            response.headers()[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
        for reference in REFERENCES.iter() {
            assert!(reference.url.starts_with("/graphiql/"), "{}", reference.url);
            assert!(reference.integrity.starts_with("sha384-"));
        }
        assert_eq!(REFERENCES.len(), ASSETS.len());
    }
}
