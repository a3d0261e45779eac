//! Partner webhooks: the event kinds a subscription picks from, how a change of the log is
//! named, when a failed delivery is tried again, and which network addresses a delivery may
//! never reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Duration, Utc};

use crate::changes::RemovalReason;
use crate::{Article, ValidationError};

/// What happened to an article, as a webhook names it (the `type` of a payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// It became visible to the partner for the first time since it was last saved: a new
    /// publication, or a scheduled one whose time came.
    Published,
    /// A visible article was saved again (any edit after publication).
    Updated,
    /// A visible article was saved again with a change an editor marked as substantive after
    /// its publication.
    Corrected,
    /// It left the partner's view (deleted, unpublished, killed, expired, withheld, embargoed).
    Removed,
    /// Its syndication embargo lifted: the partner may now use it (and its full text, where the
    /// partner has the right).
    EmbargoLifted,
}

impl EventKind {
    /// Every kind, in the order the API lists them.
    pub const ALL: [Self; 5] = [
        Self::Published,
        Self::Updated,
        Self::Corrected,
        Self::Removed,
        Self::EmbargoLifted,
    ];

    /// The wire name (`article.published` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "article.published",
            Self::Updated => "article.updated",
            Self::Corrected => "article.corrected",
            Self::Removed => "article.removed",
            Self::EmbargoLifted => "article.embargo_lifted",
        }
    }

    /// Reads a wire name; anything else is bad input naming `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
                ValidationError::new(field, format!("must be one of {}", names.join(", ")))
            })
    }

    /// Reads a list of wire names (repeats dropped); empty means every kind.
    pub fn parse_list(field: &str, raw: &[String]) -> Result<Vec<Self>, ValidationError> {
        if raw.is_empty() {
            return Ok(Self::ALL.to_vec());
        }
        let mut kinds = Vec::with_capacity(raw.len());
        for name in raw {
            let kind = Self::parse(field, name)?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(kinds)
    }

    /// The kind of an entry that tells the partner to store `article` as it is at `now`.
    ///
    /// The change log keeps one position per article (its latest change), not what the change
    /// was, so the kind is read from the article's times: an embargo that lifted after the last
    /// save is [`EventKind::EmbargoLifted`]; no save after the publication instant is
    /// [`EventKind::Published`]; a substantive change after publication is
    /// [`EventKind::Corrected`]; any other later save is [`EventKind::Updated`].
    pub fn of_upsert(article: &Article, now: DateTime<Utc>) -> Self {
        let published = article.published_at.unwrap_or(article.created_at);
        if let Some(lifted) = article.syndication.embargo_until
            && lifted <= now
            && lifted > article.updated_at
            && lifted > published
        {
            return Self::EmbargoLifted;
        }
        if article.updated_at <= published {
            return Self::Published;
        }
        match article.substantive_updated_at {
            Some(at) if at > published => Self::Corrected,
            _ => Self::Updated,
        }
    }

    /// The kind of a removal entry.
    pub fn of_removal(_reason: RemovalReason) -> Self {
        Self::Removed
    }
}

/// Whether a subscription is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    /// Deliveries are enqueued and sent.
    Active,
    /// Too many deliveries failed in a row, or its owner paused it: nothing is sent, its
    /// cursor stays where it was, so resuming sends everything since.
    Paused,
}

impl SubscriptionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
        }
    }

    /// Reads a stored name (unknown names read as paused: never send by mistake).
    pub fn from_stored(raw: &str) -> Self {
        if raw == "active" {
            Self::Active
        } else {
            Self::Paused
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up: the retry horizon passed, or the receiver refused it for good (4xx other than
    /// 408 and 429).
    Failed,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(raw: &str) -> Self {
        match raw {
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// What became of one attempt to send a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Delivered,
    /// Worth trying again: a timeout, a connection error, 408, 429 or 5xx. `retry_after` is
    /// the receiver's `Retry-After`, when it sent one.
    Retry {
        /// Seconds the receiver asked us to wait.
        retry_after: Option<Duration>,
    },
    /// Refused for good: any other status, or a target that became forbidden.
    Refused,
}

impl AttemptOutcome {
    /// The outcome of an HTTP answer with `status`.
    pub fn of_status(status: u16, retry_after: Option<Duration>) -> Self {
        match status {
            200..=299 => Self::Delivered,
            408 | 429 | 500..=599 => Self::Retry { retry_after },
            _ => Self::Refused,
        }
    }
}

/// The first retry waits up to this long (full jitter), each further one twice as long.
pub const RETRY_BASE: Duration = Duration::seconds(5);
/// No wait between attempts is longer than this, `Retry-After` included.
pub const RETRY_CAP: Duration = Duration::hours(1);

/// When to try a delivery again after its `attempt`th failed attempt (1 for the first) at
/// `now`: exponential backoff with full jitter (`jitter` drawn uniformly from `[0, 1)`),
/// capped at [`RETRY_CAP`]; a receiver's `Retry-After` is honoured (up to the cap) when it asks
/// for longer. `None` once that instant would be past `horizon`: the delivery has failed.
pub fn next_attempt(
    attempt: u32,
    retry_after: Option<Duration>,
    jitter: f64,
    now: DateTime<Utc>,
    horizon: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let exponent = attempt.saturating_sub(1).min(20);
    let ceiling = RETRY_BASE
        .checked_mul(1_i32 << exponent)
        .unwrap_or(RETRY_CAP)
        .min(RETRY_CAP);
    let jittered_ms = (ceiling.num_milliseconds() as f64 * jitter.clamp(0.0, 1.0)) as i64;
    let mut wait = Duration::milliseconds(jittered_ms.max(1));
    if let Some(asked) = retry_after {
        wait = wait.max(asked.min(RETRY_CAP));
    }
    let at = now + wait;
    (at <= horizon).then_some(at)
}

/// Why a webhook may not be sent to `ip`, if it may not: loopback, private (RFC 1918,
/// fc00::/7), link-local (169.254/16 with the cloud metadata address, fe80::/10), CGNAT
/// (100.64/10), multicast, broadcast, unspecified, documentation and reserved ranges, and the
/// IPv4-mapped or -compatible IPv6 forms of those.
pub fn forbidden_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            forbidden_v6(v6)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local (cloud metadata)")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared address space (CGNAT)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || ip.is_unspecified() || a == 0 {
        Some("unspecified or broadcast")
    } else if ip.is_documentation()
        || a >= 240
        || (a == 192 && b == 0)
        || (a == 198 && (b & 0xfe) == 18)
    {
        Some("reserved")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if (first & 0xfe00) == 0xfc00 {
        Some("private (unique local)")
    } else if (first & 0xffc0) == 0xfe80 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.segments()[..6] == [0; 6] {
        // IPv4-compatible (::a.b.c.d, deprecated): judged as the IPv4 address.
        let [.., g, h] = ip.segments();
        forbidden_v4(Ipv4Addr::from((u32::from(g) << 16) | u32::from(h))).or(Some("reserved"))
    } else if first == 0x2001 && ip.segments()[1] == 0x0db8 {
        Some("reserved (documentation)")
    } else if first == 0x0064 && ip.segments()[1] == 0xff9b {
        // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
        let [.., g, h] = ip.segments();
        forbidden_v4(Ipv4Addr::from((u32::from(g) << 16) | u32::from(h)))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_addresses_are_refused_and_public_ones_pass() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(forbidden_address(ip).is_some(), "{refused} must be refused");
        }
        for allowed in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = allowed.parse().unwrap();
            assert_eq!(forbidden_address(ip), None, "{allowed} must pass");
        }
    }

    #[test]
    fn retries_back_off_honour_retry_after_and_stop_at_the_horizon() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let far = now + Duration::days(1);
        // Full jitter: never longer than base × 2^(attempt-1).
        for attempt in 1..=6 {
            let at = next_attempt(attempt, None, 0.999, now, far).unwrap();
            assert!(at - now <= RETRY_BASE * (1 << (attempt - 1)));
        }
        assert!(next_attempt(40, None, 0.999, now, far).unwrap() - now <= RETRY_CAP);
        // Retry-After asks for longer: honoured; asks for more than the cap: capped.
        let asked = next_attempt(1, Some(Duration::seconds(120)), 0.5, now, far).unwrap();
        assert_eq!(asked - now, Duration::seconds(120));
        let capped = next_attempt(1, Some(Duration::days(3)), 0.5, now, far).unwrap();
        assert_eq!(capped - now, RETRY_CAP);
        // Past the horizon: failed.
        assert_eq!(
            next_attempt(
                1,
                Some(Duration::seconds(120)),
                0.5,
                now,
                now + Duration::seconds(60)
            ),
            None
        );
    }

    #[test]
    fn event_kinds_parse_by_wire_name() {
        assert_eq!(
            EventKind::parse_list("events", &[]).unwrap(),
            EventKind::ALL.to_vec()
        );
        let kinds = EventKind::parse_list(
            "events",
            &["article.removed".to_owned(), "article.removed".to_owned()],
        )
        .unwrap();
        assert_eq!(kinds, vec![EventKind::Removed]);
        assert_eq!(
            EventKind::parse("events", "article.nope")
                .unwrap_err()
                .field,
            "events"
        );
    }
}
