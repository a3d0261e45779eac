//! Where a webhook may be sent: no server-side request forgery.
//!
//! A target is an `https` URL without credentials whose host resolves to public addresses
//! only ([`gazette_domain::webhooks::forbidden_address`]); it is checked when a subscription
//! is saved and again at every delivery, where the sender connects only to the addresses this
//! check resolved (so a DNS answer that changes in between cannot swap them). Hosts on the
//! allow-list (`GAZETTE_WEBHOOK_ALLOW_HOSTS`, for local testing) skip the address check and
//! may use plain `http`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use gazette_domain::ValidationError;
use gazette_domain::webhooks::forbidden_address;
use url::{Host, Url};

/// Longest a name lookup may take.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// Most addresses kept from one lookup.
const MAX_ADDRESSES: usize = 16;

fn refused(message: impl Into<String>) -> ValidationError {
    ValidationError::new("url", message)
}

/// Whether `host` is on the allow-list (case-insensitive, exact).
pub fn allowed_host(host: &str, allow_hosts: &[String]) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    allow_hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
}

/// Parses `raw` as a target URL (no address check yet): https (http for allow-listed hosts),
/// a host, no user name or password, at most [`super::MAX_URL_LEN`] bytes.
pub fn parse(raw: &str, allow_hosts: &[String]) -> Result<Url, ValidationError> {
    let raw = raw.trim();
    if raw.len() > super::MAX_URL_LEN {
        return Err(refused(format!("at most {} bytes", super::MAX_URL_LEN)));
    }
    let url = Url::parse(raw).map_err(|e| refused(format!("is not an absolute URL ({e})")))?;
    let host = url
        .host_str()
        .ok_or_else(|| refused("must name a host"))?
        .to_owned();
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused("must not carry a user name or password"));
    }
    match url.scheme() {
        "https" => {}
        "http" if allowed_host(&host, allow_hosts) => {}
        _ => return Err(refused("must be an https URL")),
    }
    Ok(url)
}

/// The addresses to send to for `host`:`port`, every one public (an allow-listed host: any).
/// A refusal names `url` and says why.
pub async fn resolve(
    host: &Host<&str>,
    port: u16,
    allow_hosts: &[String],
) -> Result<Vec<SocketAddr>, ValidationError> {
    let name = match host {
        Host::Domain(d) => (*d).to_owned(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    };
    let allowed = allowed_host(&name, allow_hosts);
    let addresses: Vec<SocketAddr> = match host {
        Host::Ipv4(ip) => vec![SocketAddr::new(IpAddr::V4(*ip), port)],
        Host::Ipv6(ip) => vec![SocketAddr::new(IpAddr::V6(*ip), port)],
        Host::Domain(domain) => {
            let lookup = tokio::net::lookup_host((*domain, port));
            match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
                Ok(Ok(found)) => found.take(MAX_ADDRESSES).collect(),
                Ok(Err(e)) => {
                    return Err(refused(format!("host `{domain}` does not resolve ({e})")));
                }
                Err(_) => return Err(refused(format!("host `{domain}` did not resolve in time"))),
            }
        }
    };
    if addresses.is_empty() {
        return Err(refused(format!("host `{name}` has no address")));
    }
    if !allowed
        && let Some((address, why)) = addresses
            .iter()
            .find_map(|a| forbidden_address(a.ip()).map(|why| (a, why)))
    {
        return Err(refused(format!(
            "resolves to {} ({why}); webhooks go to public addresses only",
            address.ip()
        )));
    }
    Ok(addresses)
}

/// Parses `raw` and checks where it resolves (see [`parse`] and [`resolve`]).
pub async fn check(raw: &str, allow_hosts: &[String]) -> Result<Url, ValidationError> {
    let url = parse(raw, allow_hosts)?;
    let host = url.host().ok_or_else(|| refused("must name a host"))?;
    let port = url.port_or_known_default().unwrap_or(443);
    resolve(&host, port, allow_hosts).await?;
    Ok(url)
}
