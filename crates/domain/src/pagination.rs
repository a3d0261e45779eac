//! Relay-style page requests and opaque keyset cursors.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ValidationError;

/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;
/// Page size when the client names none.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// Every cursor [`CursorKey::encode`] writes matches this (unpadded base64url), as a regular
/// expression in the common subset of ECMA-262 and Rust's `regex`.
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]+$";

/// Which way a page runs from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `first` / `after`: forwards in the list's order.
    Forward,
    /// `last` / `before`: backwards from the end (or the cursor).
    Backward,
}

/// A validated Relay page request, generic over the cursor type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<C> {
    /// Which way to read.
    pub direction: Direction,
    /// How many items.
    pub limit: u64,
    /// Start after (forward) or before (backward) this key.
    pub cursor: Option<C>,
}

/// A cursor kind: a key that can be written and read back as opaque text.
pub trait CursorKey: Sized {
    /// Short tag that stops one list's cursor being used on another.
    const TAG: &'static str;
    /// The key as text.
    fn to_key(&self) -> String;
    /// The key from text.
    fn from_key(raw: &str) -> Option<Self>;

    /// The opaque cursor.
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", Self::TAG, self.to_key()))
    }

    /// Reads an opaque cursor; errors name `field`.
    fn decode(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new(field, "is not a cursor this list gave out");
        let bytes = URL_SAFE_NO_PAD
            .decode(raw.trim_end_matches('='))
            .map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let key = text
            .strip_prefix(Self::TAG)
            .and_then(|r| r.strip_prefix(':'))
            .ok_or_else(bad)?;
        Self::from_key(key).ok_or_else(bad)
    }
}

impl<C: CursorKey> PageRequest<C> {
    /// Validates Relay arguments: `first` xor `last`, each 0..=100, cursors of this list only.
    pub fn from_relay(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let size = |field: &str, n: i32| -> Result<u64, ValidationError> {
            if n < 0 {
                return Err(ValidationError::new(field, "must not be negative"));
            }
            if n > MAX_PAGE_SIZE {
                return Err(ValidationError::new(
                    field,
                    format!("must be at most {MAX_PAGE_SIZE}"),
                ));
            }
            Ok(u64::try_from(n).unwrap_or_default())
        };
        match (first, last) {
            (Some(_), Some(_)) => Err(ValidationError::new(
                "last",
                "cannot be combined with `first`",
            )),
            (_, Some(n)) => {
                if after.is_some() {
                    return Err(ValidationError::new(
                        "after",
                        "cannot be combined with `last`; use `before`",
                    ));
                }
                Ok(Self {
                    direction: Direction::Backward,
                    limit: size("last", n)?,
                    cursor: before.map(|b| C::decode("before", b)).transpose()?,
                })
            }
            (first, None) => {
                if before.is_some() && after.is_some() {
                    return Err(ValidationError::new(
                        "before",
                        "cannot be combined with `after`",
                    ));
                }
                if let Some(b) = before {
                    // `before` with `first`: read backwards from the cursor, a page of `first`.
                    let limit = first
                        .map(|n| size("first", n))
                        .transpose()?
                        .unwrap_or(DEFAULT_PAGE_SIZE);
                    return Ok(Self {
                        direction: Direction::Backward,
                        limit,
                        cursor: Some(C::decode("before", b)?),
                    });
                }
                let limit = first
                    .map(|n| size("first", n))
                    .transpose()?
                    .unwrap_or(DEFAULT_PAGE_SIZE);
                Ok(Self {
                    direction: Direction::Forward,
                    limit,
                    cursor: after.map(|a| C::decode("after", a)).transpose()?,
                })
            }
        }
    }
}

/// The order of an article list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArticleOrder {
    /// Newest publish time first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
}

/// Keyset position in an article list: publish time, then id (UUID v7, unique).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ArticleCursor {
    /// Publish time.
    pub published_at: DateTime<Utc>,
    /// Article id, the tie-breaker.
    pub id: Uuid,
}

impl CursorKey for ArticleCursor {
    const TAG: &'static str = "a1";

    fn to_key(&self) -> String {
        format!(
            "{}:{}",
            self.published_at.timestamp_micros(),
            self.id.simple()
        )
    }

    fn from_key(raw: &str) -> Option<Self> {
        let (micros, id) = raw.split_once(':')?;
        let published_at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
        Some(Self {
            published_at,
            id: Uuid::try_parse(id).ok()?,
        })
    }
}

/// Keyset position in the newsroom's list: last save time, then id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EditedCursor {
    /// Last save.
    pub updated_at: DateTime<Utc>,
    /// Article id, the tie-breaker.
    pub id: Uuid,
}

impl CursorKey for EditedCursor {
    const TAG: &'static str = "e1";

    fn to_key(&self) -> String {
        format!(
            "{}:{}",
            self.updated_at.timestamp_micros(),
            self.id.simple()
        )
    }

    fn from_key(raw: &str) -> Option<Self> {
        let (micros, id) = raw.split_once(':')?;
        Some(Self {
            updated_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: Uuid::try_parse(id).ok()?,
        })
    }
}

/// Position in a ranked list (search results): how many items precede the next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OffsetCursor(pub u64);

impl OffsetCursor {
    /// The largest offset a ranked list hands out: search ranks at most
    /// [`crate::search::MAX_RANKED_HITS`] matches, so no page starts beyond them. A cursor
    /// claiming more was not made by us, and is refused where it is parsed.
    pub const MAX: u64 = crate::search::MAX_RANKED_HITS;
}

impl CursorKey for OffsetCursor {
    const TAG: &'static str = "o1";

    fn to_key(&self) -> String {
        self.0.to_string()
    }

    fn from_key(raw: &str) -> Option<Self> {
        // Digits only (one spelling per offset), and within what a list hands out.
        if raw.is_empty() || raw.len() > 20 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse()
            .ok()
            .filter(|offset| *offset <= Self::MAX)
            .map(Self)
    }
}

/// Keyset position in a list ordered by a unique slug (topics, authors).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SlugCursor(pub String);

impl CursorKey for SlugCursor {
    const TAG: &'static str = "s1";

    fn to_key(&self) -> String {
        self.0.clone()
    }

    fn from_key(raw: &str) -> Option<Self> {
        crate::Slug::parse(raw)
            .ok()
            .map(|s| Self(s.as_str().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn page(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> Result<PageRequest<ArticleCursor>, ValidationError> {
        PageRequest::from_relay(first, after, last, before)
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(
            page(None, None, None, None).unwrap().limit,
            DEFAULT_PAGE_SIZE
        );
        assert_eq!(page(Some(100), None, None, None).unwrap().limit, 100);
        assert_eq!(
            page(Some(101), None, None, None).unwrap_err().field,
            "first"
        );
        assert_eq!(page(Some(-1), None, None, None).unwrap_err().field, "first");
        assert_eq!(
            page(None, None, Some(10_000), None).unwrap_err().field,
            "last"
        );
        assert!(page(Some(1), None, Some(1), None).is_err());
    }

    #[test]
    fn foreign_cursors_are_refused() {
        for bad in [
            "",
            "garbage",
            "!!!",
            &URL_SAFE_NO_PAD.encode("s1:topic"),
            &URL_SAFE_NO_PAD.encode("a1:notanumber:x"),
        ] {
            assert_eq!(
                page(Some(5), Some(bad), None, None).unwrap_err().field,
                "after",
                "{bad}"
            );
        }
    }

    #[test]
    fn offset_cursors_are_bounded_where_parsed() {
        let decode = |key: &str| OffsetCursor::decode("after", &URL_SAFE_NO_PAD.encode(key));
        assert_eq!(decode("o1:0").unwrap(), OffsetCursor(0));
        assert_eq!(
            decode(&format!("o1:{}", OffsetCursor::MAX)).unwrap(),
            OffsetCursor(OffsetCursor::MAX)
        );
        for forged in [
            format!("o1:{}", OffsetCursor::MAX + 1),
            format!("o1:{}", u64::MAX),
            "o1:99999999999999999999999".to_owned(),
            "o1:-1".to_owned(),
            "o1:+5".to_owned(),
            "o1:".to_owned(),
        ] {
            assert_eq!(decode(&forged).unwrap_err().field, "after", "{forged}");
        }
    }

    proptest! {
        #[test]
        fn article_cursor_round_trips(micros in 0i64..4_000_000_000_000_000, hi in any::<u128>()) {
            let cursor = ArticleCursor { published_at: DateTime::from_timestamp_micros(micros).unwrap(), id: Uuid::from_u128(hi) };
            prop_assert_eq!(ArticleCursor::decode("after", &cursor.encode()).unwrap(), cursor);
        }
    }
}
