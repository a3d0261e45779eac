//! CDN purge settings (see the README's "Cache tags").

use clap::Args;
use gazette_outbound::cdn::CdnConfig;

/// Purging changed content from the CDN by cache tag; off unless `GAZETTE_CDN_PURGE` is set.
#[derive(Debug, Clone, Default, Args)]
pub struct CdnArgs {
    /// The CDN whose cache is purged when content changes: `fastly` or `cloudflare`. Off when
    /// unset.
    #[arg(long, env = "GAZETTE_CDN_PURGE")]
    pub cdn_purge: Option<String>,
    /// The purge endpoint: `https://api.fastly.com/service/<service id>/purge` or
    /// `https://api.cloudflare.com/client/v4/zones/<zone id>/purge_cache`.
    #[arg(long, env = "GAZETTE_CDN_PURGE_URL")]
    pub cdn_purge_url: Option<String>,
    /// The API token: sent as `Fastly-Key` to Fastly, `Authorization: Bearer` to Cloudflare.
    #[arg(long, env = "GAZETTE_CDN_PURGE_TOKEN", hide_env_values = true)]
    pub cdn_purge_token: Option<String>,
    /// Hosts the purge URL may name over plain http (comma-separated). For local testing
    /// only: in production leave it empty, so the purge URL must be https.
    #[arg(long, env = "GAZETTE_CDN_PURGE_ALLOW_HOSTS", value_delimiter = ',')]
    pub cdn_purge_allow_hosts: Vec<String>,
}

/// A setting's value, trimmed; empty counts as unset.
fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl CdnArgs {
    /// The purger's settings, or none when `GAZETTE_CDN_PURGE` is unset; a URL or token given
    /// without it, or missing with it, is refused.
    pub fn config(&self) -> Result<Option<CdnConfig>, String> {
        let (url, token) = (set(&self.cdn_purge_url), set(&self.cdn_purge_token));
        let Some(kind) = set(&self.cdn_purge) else {
            if url.is_some() || token.is_some() {
                return Err(
                    "GAZETTE_CDN_PURGE_URL or GAZETTE_CDN_PURGE_TOKEN is set but \
                     GAZETTE_CDN_PURGE is not: set it to `fastly` or `cloudflare`"
                        .to_owned(),
                );
            }
            return Ok(None);
        };
        let url = url.ok_or("GAZETTE_CDN_PURGE_URL: required when GAZETTE_CDN_PURGE is set")?;
        let token =
            token.ok_or("GAZETTE_CDN_PURGE_TOKEN: required when GAZETTE_CDN_PURGE is set")?;
        let allow: Vec<String> = (self.cdn_purge_allow_hosts.iter())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .collect();
        CdnConfig::new(kind, url, token, &allow)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_unless_named_and_complete_when_named() {
        assert_eq!(CdnArgs::default().config(), Ok(None));
        let url_only = CdnArgs {
            cdn_purge_url: Some("https://api.fastly.com/service/s/purge".to_owned()),
            ..CdnArgs::default()
        };
        assert!(
            url_only
                .config()
                .unwrap_err()
                .contains("GAZETTE_CDN_PURGE is not")
        );
        let no_token = CdnArgs {
            cdn_purge: Some("fastly".to_owned()),
            ..url_only.clone()
        };
        assert!(
            no_token
                .config()
                .unwrap_err()
                .contains("GAZETTE_CDN_PURGE_TOKEN")
        );
        let complete = CdnArgs {
            cdn_purge_token: Some("key".to_owned()),
            ..no_token
        };
        assert!(complete.config().unwrap().is_some());
    }
}
