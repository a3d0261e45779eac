//! Live updates: the rules of who may hold a live stream and what a stream's filter may say.
//! The stream itself is the change log read as `changes` reads it (see [`crate::changes`]).

use std::collections::HashMap;
use std::net::IpAddr;

use uuid::Uuid;

use crate::{SYNDICATION_SCOPE, Slug, ValidationError, Viewer};

/// The part of a viewer that decides what the change log shows them: which articles they may
/// see ([`Viewer::visibility`]), whether a hidden one is announced ([`Viewer::is_staff`]) and
/// which bodies they may read ([`crate::syndication::may_read_body`]: admins alone read a
/// killed story's, partners need the syndication scope). Viewers of one class get the same
/// `changes` entries, so one reader of the log can serve all their live streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReaderClass {
    /// No token.
    Anonymous,
    /// A partner, with or without the syndication scope.
    Partner {
        /// Granted [`SYNDICATION_SCOPE`].
        syndication: bool,
    },
    /// An editor.
    Editor,
    /// An administrator.
    Admin,
}

impl ReaderClass {
    /// The class `viewer` belongs to.
    pub fn of(viewer: &Viewer) -> Self {
        match viewer {
            Viewer::Anonymous => Self::Anonymous,
            Viewer::Partner { .. } => Self::Partner {
                syndication: viewer.has_scope(SYNDICATION_SCOPE),
            },
            Viewer::Editor { .. } => Self::Editor,
            Viewer::Admin { .. } => Self::Admin,
        }
    }

    /// A viewer of this class with no subject: what a shared reader reads the log as.
    pub fn viewer(self) -> Viewer {
        match self {
            Self::Anonymous => Viewer::Anonymous,
            Self::Partner { syndication } => Viewer::Partner {
                sub: String::new(),
                scopes: if syndication {
                    vec![SYNDICATION_SCOPE.to_owned()]
                } else {
                    Vec::new()
                },
            },
            Self::Editor => Viewer::Editor { sub: String::new() },
            Self::Admin => Viewer::Admin { sub: String::new() },
        }
    }
}

/// Reads a stream's topic filter: at most `max` topic slugs, each well formed; repeats are
/// dropped. Empty: every topic.
pub fn topic_filter(raw: &[String], max: usize) -> Result<Vec<Slug>, ValidationError> {
    if raw.len() > max {
        return Err(ValidationError::new(
            "topic",
            format!("at most {max} topics per stream"),
        ));
    }
    let mut slugs: Vec<Slug> = Vec::with_capacity(raw.len());
    for topic in raw {
        let slug = Slug::parse_field("topic", topic.trim())?;
        if !slugs.contains(&slug) {
            slugs.push(slug);
        }
    }
    Ok(slugs)
}

/// Whether an entry passes a topic filter (`wanted` empty: everything passes). An upsert passes
/// when one of its article's topics is wanted; a removal (`topics` is `None`: the article is
/// gone or hidden from this caller, its topics not told) always passes, so a client never keeps
/// a copy it should have dropped.
pub fn passes_filter(wanted: &[Uuid], topics: Option<&[Uuid]>) -> bool {
    match topics {
        _ if wanted.is_empty() => true,
        None => true,
        Some(topics) => topics.iter().any(|t| wanted.contains(t)),
    }
}

/// Why a stream is not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This client address holds `limit` streams already.
    ClientFull {
        /// The per-address limit.
        limit: usize,
    },
    /// The process holds `limit` streams already.
    ServerFull {
        /// The process-wide limit.
        limit: usize,
    },
}

/// Counts of open live streams, in total and per client address, within their limits.
#[derive(Debug, Default)]
pub struct Slots {
    max_total: usize,
    max_per_client: usize,
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

impl Slots {
    /// No stream open; at most `max_total` at once, `max_per_client` of them per address.
    pub fn new(max_total: usize, max_per_client: usize) -> Self {
        Self {
            max_total,
            max_per_client,
            ..Self::default()
        }
    }

    /// Whether `client` may open one more stream now (nothing is taken).
    pub fn check(&self, client: IpAddr) -> Result<(), Refusal> {
        if self.per_client.get(&client).copied().unwrap_or(0) >= self.max_per_client {
            return Err(Refusal::ClientFull {
                limit: self.max_per_client,
            });
        }
        if self.total >= self.max_total {
            return Err(Refusal::ServerFull {
                limit: self.max_total,
            });
        }
        Ok(())
    }

    /// Takes a slot for `client`, or says why not.
    pub fn take(&mut self, client: IpAddr) -> Result<(), Refusal> {
        self.check(client)?;
        self.total += 1;
        *self.per_client.entry(client).or_insert(0) += 1;
        Ok(())
    }

    /// Gives back a slot `client` took (the address is forgotten with its last slot, so the
    /// map holds at most as many addresses as there are streams).
    pub fn give_back(&mut self, client: IpAddr) {
        if let Some(count) = self.per_client.get_mut(&client) {
            *count -= 1;
            if *count == 0 {
                self.per_client.remove(&client);
            }
            self.total = self.total.saturating_sub(1);
        }
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_filters_are_bounded_and_well_formed() {
        let slugs = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(topic_filter(&[], 3).unwrap(), Vec::<Slug>::new());
        let ok = topic_filter(&slugs(&["world", "sport", "world"]), 3).unwrap();
        assert_eq!(ok.len(), 2, "repeats dropped");
        assert_eq!(
            topic_filter(&slugs(&["a", "b", "c", "d"]), 3)
                .unwrap_err()
                .field,
            "topic"
        );
        for bad in ["", "Not A Slug", "a--b", "é"] {
            assert_eq!(topic_filter(&slugs(&[bad]), 3).unwrap_err().field, "topic");
        }
    }

    #[test]
    fn removals_pass_every_filter_and_upserts_only_matching_ones() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(passes_filter(&[], Some(&[a])));
        assert!(passes_filter(&[a], Some(&[b, a])));
        assert!(!passes_filter(&[a], Some(&[b])));
        assert!(!passes_filter(&[a], Some(&[])));
        assert!(passes_filter(&[a], None));
    }

    #[test]
    fn slots_are_bounded_per_client_and_in_total() {
        let (one, two, three) = (
            IpAddr::from([10, 0, 0, 1]),
            IpAddr::from([10, 0, 0, 2]),
            IpAddr::from([10, 0, 0, 3]),
        );
        let mut slots = Slots::new(3, 2);
        slots.take(one).unwrap();
        slots.take(one).unwrap();
        assert_eq!(slots.take(one), Err(Refusal::ClientFull { limit: 2 }));
        slots.take(two).unwrap();
        assert_eq!(slots.take(three), Err(Refusal::ServerFull { limit: 3 }));
        slots.give_back(one);
        assert_eq!(slots.open(), 2);
        slots.take(three).unwrap();
        // Giving back a slot never taken changes nothing.
        slots.give_back(IpAddr::from([10, 0, 0, 9]));
        assert_eq!(slots.open(), 3);
        for ip in [one, two, three] {
            slots.give_back(ip);
        }
        assert_eq!(slots.open(), 0);
        assert!(
            slots.per_client.is_empty(),
            "no address kept without a stream"
        );
    }
}
