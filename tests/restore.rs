//! `restoreRevision` brings back an earlier revision's text and nothing else: the embargo,
//! syndication rights, status, publish time, slug, canonical URL, topics and authors stay as
//! they are now, on both databases.

use chrono::{Duration, SecondsFormat, Utc};
use gazette_domain::{ArticleStatus, Visibility};
use gazette_tests::{on_both_databases, spawn_seeded_app, token, token_with_scope};
use serde_json::json;

on_both_databases!(
    restoring_a_revision_keeps_the_publication_controls,
    |db| async move {
        let app = spawn_seeded_app(db, 0).await;
        let editor = token("editor", "desk");
        let created = app
            .gql_ok_as(
                &editor,
                "mutation($i: CreateArticleInput!) { createArticle(input: $i) { id version } }",
                json!({ "i": {
                    "headline": "Old words",
                    "slug": "first-slug",
                    "dek": "Old dek.",
                    "body": [{ "type": "paragraph", "text": "Old body." }],
                    "primaryTopic": "korean-peninsula",
                    "authors": ["kim-min-ji"],
                    "syndicatable": false
                } }),
            )
            .await;
        let id = created["createArticle"]["id"].as_str().unwrap().to_owned();
        let embargo = (Utc::now() + Duration::hours(6)).to_rfc3339_opts(SecondsFormat::Secs, true);
        app.gql_ok_as(
            &editor,
            "mutation($id: ID!, $i: UpdateArticleInput!) { updateArticle(id: $id, expectedVersion: 1, input: $i) { version } }",
            json!({ "id": id, "i": {
                "headline": "New words",
                "slug": "second-slug",
                "body": [{ "type": "paragraph", "text": "New body." }],
                "canonicalUrl": "https://example.com/second",
                "primaryTopic": "markets",
                "authors": ["lee-jun-ho"],
                "syndicatable": true,
                "embargoUntil": embargo
            } }),
        )
        .await;
        let published = app
            .gql_ok_as(
                &editor,
                "mutation($id: ID!) { publishArticle(id: $id) { publishedAt } }",
                json!({ "id": id }),
            )
            .await["publishArticle"]["publishedAt"]
            .clone();
        let before = app
            .store
            .article_by_id(id.parse().unwrap(), Visibility::Everything)
            .await
            .unwrap()
            .unwrap();

        let restored = app
            .gql_ok_as(
                &editor,
                "mutation($id: ID!) { restoreRevision(articleId: $id, revision: 1) {
                   headline dek slug status publishedAt canonicalUrl
                   primaryTopic { slug } authors { slug } bodyText } }",
                json!({ "id": id }),
            )
            .await["restoreRevision"]
            .clone();
        // The text comes back…
        assert_eq!(restored["headline"], "Old words");
        assert_eq!(restored["dek"], "Old dek.");
        assert_eq!(restored["bodyText"], "Old body.");
        // …the publication controls do not.
        assert_eq!(restored["slug"], "second-slug");
        assert_eq!(restored["status"], "PUBLISHED");
        assert_eq!(restored["publishedAt"], published);
        assert_eq!(restored["canonicalUrl"], "https://example.com/second");
        assert_eq!(restored["primaryTopic"]["slug"], "markets");
        assert_eq!(restored["authors"], json!([{ "slug": "lee-jun-ho" }]));
        let after = app
            .store
            .article_by_id(id.parse().unwrap(), Visibility::Everything)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            after.syndication, before.syndication,
            "embargo and syndication rights"
        );
        assert!(after.syndication.syndicatable);
        assert!(after.syndication.embargo_until.is_some());
        assert_eq!(after.status, ArticleStatus::Published);
        assert_eq!(after.published_at, before.published_at);
        // The embargo still holds for a syndication partner.
        let partner = token_with_scope("partner", "wire", &["syndication"]);
        let response = app
            .client
            .get(app.url("/v1/articles/second-slug"))
            .bearer_auth(&partner)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    }
);
