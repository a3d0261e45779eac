//! CDN purges by cache tag (issue 20): a kill, an unpublish or an expiry must leave the CDN at
//! once, and a publication must show in the lists a CDN holds. Every public response carries
//! its cache tags (`Surrogate-Key` for Fastly, `Cache-Tag` for Cloudflare,
//! [`gazette_app::tags`]); this follower purges the tags each change of the log alters:
//!
//! - an article published or updated: `article:<id>`, and the lists that newly show it,
//!   `list:latest`, `list:search`, `list:archive`, `topic:<slug>` of each of its topics and
//!   `author:<slug>` of each of its authors;
//! - an article removed (killed, unpublished, expired, embargoed again): `article:<id>`,
//!   which every response that showed it carries, and `list:latest`.
//!
//! Fastly: `POST <url>` with `Fastly-Key: <token>` and `Surrogate-Key: <tags, space-separated>`
//! (at most 256 tags a request). Cloudflare: `POST <url>` with `Authorization: Bearer <token>`
//! and `{"tags": [...]}` (at most 30 tags a request, its API's limit).
//!
//! The requests follow the change log and are bounded, coalesced (a tag pending is purged once)
//! and retried as every follower's requests are ([`crate::follow`]); counted per tag in
//! `gazette_cdn_purges_total{outcome}`. With several processes each purges every change: a
//! purge is idempotent.

use std::collections::BTreeSet;

use bytes::Bytes;
use gazette_app::Relations;
use gazette_app::changes::{Change, ChangeEntry};
use gazette_app::live::{Live, LiveBatch};
use gazette_app::metrics::{CDN_PENDING, CDN_PURGES};
use gazette_app::tags::CacheTags;
use gazette_app::webhooks::target;

use crate::follow::{Announce, Bounds, Follower, StartError};
use crate::http::Poster;

/// Which CDN's purge API is spoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CdnKind {
    /// Fastly: `Surrogate-Key` purge, `Fastly-Key` token.
    Fastly,
    /// Cloudflare: `purge_cache` by tags, bearer token.
    Cloudflare,
}

impl CdnKind {
    /// Most tags in one purge request: Fastly's batch purge takes 256, Cloudflare's 30.
    pub fn max_tags(self) -> usize {
        match self {
            Self::Fastly => 256,
            Self::Cloudflare => 30,
        }
    }
}

/// How the purger reaches the CDN and how hard it tries.
#[derive(Clone, PartialEq, Eq)]
pub struct CdnConfig {
    /// The CDN.
    pub kind: CdnKind,
    /// The purge endpoint (https, or http for an allow-listed host).
    pub url: String,
    /// The API token (kept out of `Debug`).
    token: String,
    /// The pending set, the requests in flight and the retries; `batch` is the CDN's limit.
    pub bounds: Bounds,
}

impl std::fmt::Debug for CdnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CdnConfig")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("token", &"<hidden>")
            .field("bounds", &self.bounds)
            .finish()
    }
}

/// Why the CDN purge settings were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CdnError {
    /// Not a CDN this build purges.
    #[error("GAZETTE_CDN_PURGE: `{0}` must be `fastly` or `cloudflare`")]
    Kind(String),
    /// The endpoint is unusable.
    #[error("GAZETTE_CDN_PURGE_URL: {0}")]
    Url(String),
    /// The token is missing or cannot be sent in a header.
    #[error("GAZETTE_CDN_PURGE_TOKEN: must be set, printable ASCII without spaces")]
    Token,
}

impl CdnConfig {
    /// Settings for purging `kind` (`fastly` or `cloudflare`) at `url` with `token`, with the
    /// default bounds ([`Bounds::default`], as many tags a request as the CDN takes). The URL
    /// must be https unless its host is in `allow_http_hosts` (local testing).
    pub fn new(
        kind: &str,
        url: &str,
        token: &str,
        allow_http_hosts: &[String],
    ) -> Result<Self, CdnError> {
        let kind = match kind.trim().to_ascii_lowercase().as_str() {
            "fastly" => CdnKind::Fastly,
            "cloudflare" => CdnKind::Cloudflare,
            _ => return Err(CdnError::Kind(kind.to_owned())),
        };
        let url = target::parse(url, allow_http_hosts).map_err(|e| CdnError::Url(e.message))?;
        let token = token.trim();
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(CdnError::Token);
        }
        Ok(Self {
            kind,
            url: url.into(),
            token: token.to_owned(),
            bounds: Bounds {
                batch: kind.max_tags(),
                ..Bounds::default()
            },
        })
    }
}

/// The cache tags the changes in `entries` alter, exactly as the responses carry them.
pub fn purge_tags(entries: &[ChangeEntry], relations: &Relations) -> BTreeSet<String> {
    let mut tags = CacheTags::new();
    for entry in entries {
        tags.article(entry.article_id).list("latest");
        if let Change::Upsert(article) = &entry.change {
            tags.list("search").list("archive");
            let (topics, authors) = relations.of(article);
            for topic in topics {
                tags.topic(topic.slug.as_str());
            }
            for author in authors {
                tags.author(author.slug.as_str());
            }
        }
    }
    tags.iter().map(str::to_owned).collect()
}

/// The headers and body of one purge of `tags`.
fn purge_request(
    kind: CdnKind,
    token: &str,
    tags: &[String],
) -> (Vec<(&'static str, String)>, Bytes) {
    match kind {
        CdnKind::Fastly => (
            vec![
                ("fastly-key", token.to_owned()),
                ("surrogate-key", tags.join(" ")),
                ("accept", "application/json".to_owned()),
            ],
            Bytes::new(),
        ),
        CdnKind::Cloudflare => (
            vec![
                ("authorization", format!("Bearer {token}")),
                ("content-type", "application/json".to_owned()),
            ],
            Bytes::from(serde_json::json!({ "tags": tags }).to_string()),
        ),
    }
}

/// Starts purging what changes from the CDN of `config`: follows the change log from now on
/// through `live`, as an anonymous reader's stream. Stop it with [`Follower::stop`].
pub fn start(live: Live, config: CdnConfig) -> Result<Follower, StartError> {
    tracing::info!(cdn = ?config.kind, url = %config.url, "purging changed content from the CDN");
    let CdnConfig {
        kind,
        url,
        token,
        bounds,
    } = config;
    Follower::start(live, bounds, |client| Cdn {
        client,
        kind,
        url,
        token,
    })
}

/// The CDN's purge endpoint.
struct Cdn {
    client: Poster,
    kind: CdnKind,
    url: String,
    token: String,
}

impl Announce for Cdn {
    const WHAT: &'static str = "CDN purge";
    const SENT: &'static str = CDN_PURGES;
    const PENDING: &'static str = CDN_PENDING;

    async fn keys(&self, batch: &LiveBatch) -> Vec<String> {
        purge_tags(&batch.entries, &batch.relations)
            .into_iter()
            .collect()
    }

    async fn send(&self, tags: &[String]) -> Result<(), String> {
        let (headers, body) = purge_request(self.kind, &self.token, tags);
        self.client
            .post(&self.url, &headers, body)
            .await
            .map_err(|e| format!("the CDN {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("topic:t{i}")).collect()
    }

    #[test]
    fn cloudflare_purges_tags_in_a_json_body_with_a_bearer_token() {
        let config = CdnConfig::new(
            "Cloudflare",
            "https://api.cloudflare.com/client/v4/zones/abc/purge_cache",
            "cf-token",
            &[],
        )
        .unwrap();
        assert_eq!(config.bounds.batch, 30);
        let (headers, body) = purge_request(
            config.kind,
            "cf-token",
            &["article:1".to_owned(), "list:latest".to_owned()],
        );
        assert_eq!(
            headers,
            [
                ("authorization", "Bearer cf-token".to_owned()),
                ("content-type", "application/json".to_owned())
            ]
        );
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "tags": ["article:1", "list:latest"] })
        );
    }

    #[test]
    fn fastly_purges_space_separated_surrogate_keys_with_its_key_header() {
        let config = CdnConfig::new(
            "fastly",
            "https://api.fastly.com/service/SVC/purge",
            "f-key",
            &[],
        )
        .unwrap();
        assert_eq!(config.bounds.batch, 256);
        let (headers, body) = purge_request(config.kind, "f-key", &tags(3));
        assert!(body.is_empty());
        assert!(headers.contains(&("fastly-key", "f-key".to_owned())));
        assert!(headers.contains(&("surrogate-key", "topic:t0 topic:t1 topic:t2".to_owned())));
        assert!(
            !format!("{config:?}").contains("f-key"),
            "token kept out of logs"
        );
    }

    #[test]
    fn bad_settings_are_refused_clearly() {
        let url = "https://api.fastly.com/service/SVC/purge";
        assert_eq!(
            CdnConfig::new("akamai", url, "k", &[]),
            Err(CdnError::Kind("akamai".to_owned()))
        );
        assert!(matches!(
            CdnConfig::new("fastly", "http://api.fastly.com/x", "k", &[]),
            Err(CdnError::Url(_))
        ));
        assert!(matches!(
            CdnConfig::new("fastly", "purge", "k", &[]),
            Err(CdnError::Url(_))
        ));
        for token in ["", " ", "a b", "a\nb"] {
            assert_eq!(
                CdnConfig::new("fastly", url, token, &[]),
                Err(CdnError::Token),
                "{token:?}"
            );
        }
        // Plain http only for an allow-listed host (the tests' fake CDN).
        assert!(
            CdnConfig::new(
                "fastly",
                "http://127.0.0.1:9/purge",
                "k",
                &["127.0.0.1".to_owned()]
            )
            .is_ok()
        );
    }
}
