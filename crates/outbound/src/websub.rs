//! WebSub publisher (W3C WebSub, §7 "Publishing"): when a publication, a substantive update
//! or a removal changes the feeds (also one that comes due by itself: a scheduled story going
//! live, an expiry), the configured hub is told with `POST hub` and the form
//! `hub.mode=publish&hub.url=<feed URL>`, once per affected feed URL (the latest feeds and the
//! feeds of the article's topics, in each format).
//!
//! The pings follow the change log and are bounded, coalesced and retried as every
//! follower's requests are ([`crate::follow`]): at most 4,096 feed URLs pending, 4 pings in
//! flight, 10 s each, 8 attempts; counted in `gazette_websub_pings_total{outcome}`.
//!
//! **Several processes.** Each process follows the whole log, so with several replicas the hub
//! hears each change once per replica. A publish ping only asks the hub to fetch the feed
//! again, so a repeat is harmless (idempotent); no coordination is needed. Pings pending when a
//! process stops are lost (logged); the next change pings those feeds again.

use bytes::Bytes;
use gazette_app::feeds::{FEED_EXTENSIONS, FeedsConfig, feed_url};
use gazette_app::live::{Live, LiveBatch};
use gazette_app::metrics::{WEBSUB_PENDING, WEBSUB_PINGS};
use gazette_app::{App, AppError};

use crate::follow::{Announce, Bounds, Follower, StartError};
use crate::http::Poster;

/// How the publisher reaches the hub and how hard it tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSubConfig {
    /// The hub (an absolute http or https URL).
    pub hub: String,
    /// The pending set, the pings in flight (one feed URL each) and the retries.
    pub bounds: Bounds,
}

/// Why the WebSub settings were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebSubError {
    /// The hub URL is not an http(s) URL.
    #[error("GAZETTE_WEBSUB_HUB: `{0}` must be an absolute http:// or https:// URL")]
    Hub(String),
}

impl WebSubConfig {
    /// Settings for the hub at `hub`, with the default bounds ([`Bounds::default`]: one
    /// feed URL per ping).
    pub fn new(hub: &str) -> Result<Self, WebSubError> {
        let hub = hub.trim();
        let authority = hub
            .strip_prefix("http://")
            .or_else(|| hub.strip_prefix("https://"))
            .unwrap_or_default();
        if authority.is_empty()
            || authority.starts_with('/')
            || hub.chars().any(char::is_whitespace)
        {
            return Err(WebSubError::Hub(hub.to_owned()));
        }
        Ok(Self {
            hub: hub.to_owned(),
            bounds: Bounds::default(),
        })
    }
}

/// Starts announcing the feeds of `site` to `config.hub`: follows the change log from now on
/// through `live`, as an anonymous reader's stream. Stop it with [`Follower::stop`].
pub fn start(
    app: App,
    live: Live,
    site: FeedsConfig,
    config: WebSubConfig,
) -> Result<Follower, StartError> {
    tracing::info!(hub = %config.hub, "announcing feed updates to the WebSub hub");
    let WebSubConfig { hub, bounds } = config;
    Follower::start(live, bounds, |client| Hub {
        client,
        hub,
        app,
        site,
    })
}

/// The hub, and what its pings are about.
struct Hub {
    client: Poster,
    hub: String,
    app: App,
    site: FeedsConfig,
}

impl Announce for Hub {
    const WHAT: &'static str = "WebSub ping";
    const SENT: &'static str = WEBSUB_PINGS;
    const PENDING: &'static str = WEBSUB_PENDING;

    /// The feeds the batch alters.
    async fn keys(&self, batch: &LiveBatch) -> Vec<String> {
        match self
            .app
            .touched_feeds(&self.site, &batch.entries, &batch.relations)
            .await
        {
            Ok(urls) => urls.into_iter().collect(),
            Err(error) => {
                // The topics of removed stories could not be read: the latest feeds are
                // still announced.
                log_unread(&error);
                FEED_EXTENSIONS
                    .iter()
                    .map(|extension| feed_url(&self.site, None, extension))
                    .collect()
            }
        }
    }

    /// One publish ping per feed URL: `POST hub` with `hub.mode=publish&hub.url=<url>`.
    async fn send(&self, urls: &[String]) -> Result<(), String> {
        for url in urls {
            let body = serde_urlencoded::to_string([("hub.mode", "publish"), ("hub.url", url)])
                .map_err(|e| e.to_string())?;
            let headers = [(
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            )];
            self.client
                .post(&self.hub, &headers, Bytes::from(body))
                .await
                .map_err(|e| format!("the hub {e}"))?;
        }
        Ok(())
    }
}

fn log_unread(error: &AppError) {
    tracing::warn!(%error, "WebSub: topics of removed stories unread; announcing the latest feeds only");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_hubs_are_accepted() {
        assert!(WebSubConfig::new("http://127.0.0.1:9/hub").is_ok());
        assert!(WebSubConfig::new("https://hub.example/").is_ok());
        for bad in [
            "",
            "ftp://hub.example/",
            "http://",
            "https://",
            "http:///hub",
            "http://a b/",
            "hub.example",
        ] {
            assert!(WebSubConfig::new(bad).is_err(), "{bad}");
        }
    }
}
