//! GraphiQL is served from the binary: no CDN, a content security policy, cacheable assets.

use base64::Engine as _;
use gazette_tests::{Db, spawn_app};
use sha2::Digest as _;

/// Every `src="…"` and `href="…"` of `html`, with the `integrity="…"` on the same tag.
fn references(html: &str) -> Vec<(String, Option<String>)> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(tag[start..end].to_owned())
    };
    html.split('<')
        .filter_map(|tag| {
            let url = attribute(tag, "src").or_else(|| attribute(tag, "href"))?;
            Some((url, attribute(tag, "integrity")))
        })
        .collect()
}

#[tokio::test]
async fn graphiql_loads_only_same_origin_assets_under_a_content_security_policy() {
    let app = spawn_app(Db::Sqlite).await;
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let header = |name: &str| {
        page.headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    assert!(header("content-type").starts_with("text/html"));
    let csp = header("content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-eval") && !csp.contains("https:"),
        "{csp}"
    );
    assert!(
        header("vary").split(',').any(|v| v.trim() == "accept"),
        "{}",
        header("vary")
    );
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("unpkg") && !html.contains("jsdelivr"),
        "{html}"
    );
    // No inline script: the policy forbids it, so everything runs from files.
    assert!(!html.contains("<script>"), "{html}");

    let references = references(&html);
    let scripts = references.iter().filter(|(u, _)| u.contains(".js")).count();
    let styles = references
        .iter()
        .filter(|(u, _)| u.contains(".css"))
        .count();
    assert!(scripts >= 4 && styles >= 1, "{references:?}");
    for (url, integrity) in references {
        if url.starts_with("data:") {
            continue;
        }
        assert!(
            url.starts_with('/') && !url.starts_with("//"),
            "{url} is not on this origin"
        );
        let asset = app.get(&url).await;
        assert_eq!(asset.status(), 200, "{url}");
        let content_type = asset.headers()["content-type"].to_str().unwrap().to_owned();
        let expected = if url.contains(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert!(content_type.starts_with(expected), "{url}: {content_type}");
        let cache = asset.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cache.contains("immutable") && cache.contains("max-age=31536000"),
            "{cache}"
        );
        assert_eq!(asset.headers()["x-content-type-options"], "nosniff");
        // reqwest asks for no compression, so these are the bytes the browser hashes.
        let bytes = asset.bytes().await.unwrap();
        let digest = base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&bytes));
        assert_eq!(
            integrity.as_deref(),
            Some(format!("sha384-{digest}").as_str()),
            "{url}"
        );
    }
    assert_eq!(app.get("/graphiql/nothing-here.js").await.status(), 404);
}

#[tokio::test]
async fn graphql_get_varies_on_accept_for_json_clients_too() {
    let app = spawn_app(Db::Sqlite).await;
    let response = app
        .client
        .get(app.url("/graphql?query=%7B%20topic(slug%3A%20%22world%22)%20%7B%20slug%20%7D%20%7D"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let vary: Vec<String> = response
        .headers()
        .get_all("vary")
        .iter()
        .flat_map(|v| {
            v.to_str()
                .unwrap()
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(vary.iter().any(|v| v == "accept"), "{vary:?}");
    assert!(!response.headers().contains_key("content-security-policy"));
}
