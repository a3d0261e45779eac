//! Delta sync: which writes readers must hear about, when time alone changes what they see, and
//! how one page of the change log becomes a page of upserts and tombstones for one caller.
//!
//! The change log holds, per article that has ever been public or scheduled, the position of its
//! latest change (a sequence number in commit order) and the instant that change took effect.
//! A client keeps the position it has read up to (a [`ChangeCursor`]); every entry it reads is
//! judged on the article's state *now*, for *this* caller, so replaying the log in order into an
//! empty copy yields exactly what the caller may see.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::pagination::CursorKey;
use crate::{Article, ArticleStatus, Syndication, ValidationError, Viewer};

/// Entries a page holds when the client names no size.
pub const DEFAULT_CHANGES_PAGE: u64 = 100;
/// Largest page a client may ask for.
pub const MAX_CHANGES_PAGE: i32 = 500;

/// A position in the change log: every entry up to and including this sequence number has been
/// read. Opaque to clients (base64 of `c1:<seq>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ChangeCursor(pub i64);

impl CursorKey for ChangeCursor {
    const TAG: &'static str = "c1";

    fn to_key(&self) -> String {
        self.0.to_string()
    }

    fn from_key(raw: &str) -> Option<Self> {
        // Digits only: no sign, no spaces, so one position has exactly one spelling.
        if raw.is_empty() || raw.len() > 19 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse().ok().map(Self)
    }
}

impl ChangeCursor {
    /// Reads the `since` argument: absent is the start of the log (a full initial sync).
    pub fn parse_since(raw: Option<&str>) -> Result<Self, ValidationError> {
        raw.map_or(Ok(Self::default()), |raw| Self::decode("since", raw))
    }
}

/// Validates the `first` argument of a changes read: 1 to [`MAX_CHANGES_PAGE`], default
/// [`DEFAULT_CHANGES_PAGE`].
pub fn changes_page_size(first: Option<i32>) -> Result<u64, ValidationError> {
    match first {
        None => Ok(DEFAULT_CHANGES_PAGE),
        Some(n) if (1..=MAX_CHANGES_PAGE).contains(&n) => Ok(u64::try_from(n).unwrap_or(1)),
        Some(_) => Err(ValidationError::new(
            "first",
            format!("must be between 1 and {MAX_CHANGES_PAGE}"),
        )),
    }
}

/// Whether an article in this status is, or will by itself become, public: published or
/// scheduled. Only such articles ever enter the change log.
pub fn exposed(status: ArticleStatus) -> bool {
    ArticleStatus::PUBLIC.contains(&status)
}

/// Whether a write that takes an article from `before` to `after` (`None`: it did not exist /
/// no longer exists) must be logged. An edit of an article that is neither public nor scheduled
/// on either side (a draft, an archived story) is invisible to readers and is not logged, so
/// drafts never show up in anyone's changes, not even as tombstones.
pub fn write_is_logged(before: Option<ArticleStatus>, after: Option<ArticleStatus>) -> bool {
    before.is_some_and(exposed) || after.is_some_and(exposed)
}

/// The instants after `now` at which what someone may see of this article changes with no
/// write: a scheduled publication going live, an embargo lifting, the story expiring. Each
/// becomes a log entry at its time. Sorted, without repeats; empty for an article that is
/// neither public nor scheduled.
pub fn visibility_due_times(
    status: ArticleStatus,
    published_at: Option<DateTime<Utc>>,
    syndication: &Syndication,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    if !exposed(status) {
        return Vec::new();
    }
    let mut times: Vec<DateTime<Utc>> = [published_at, syndication.embargo_until, expires_at]
        .into_iter()
        .flatten()
        .filter(|at| *at > now)
        .collect();
    times.sort_unstable();
    times.dedup();
    times
}

/// Why a caller is told to drop an article. Says no more than the caller could learn anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalReason {
    /// The article no longer exists.
    Deleted,
    /// Taken down and kept for the record.
    Archived,
    /// Back to draft, or scheduled for later: not published now.
    Unpublished,
    /// Public, but embargoed for this caller until a later time.
    Embargoed,
    /// Public, but not for this caller.
    Withheld,
    /// Its expiry time has passed.
    Expired,
    /// Killed (a legal or safety takedown).
    Killed,
}

impl RemovalReason {
    /// The wire name (`deleted`, `archived`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deleted => "deleted",
            Self::Archived => "archived",
            Self::Unpublished => "unpublished",
            Self::Embargoed => "embargoed",
            Self::Withheld => "withheld",
            Self::Expired => "expired",
            Self::Killed => "killed",
        }
    }
}

/// Whether readers can see an article in `status` with this publish time and expiry at `now`:
/// published or scheduled, its time has come, and it has not expired (to the second).
pub fn public_at(
    status: ArticleStatus,
    published_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    exposed(status)
        && published_at.is_some_and(|at| at <= now)
        && expires_at.is_none_or(|at| at > now)
}

/// What one log entry means to one caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChangeOutcome<'a> {
    /// The caller may see the article: store (or replace) it.
    Upsert(&'a Article),
    /// The caller may not see the article (any more): drop it.
    Remove(RemovalReason),
    /// The caller has never been able to see the article (a scheduled story taken back before
    /// its time, a story deleted before it went live): the entry is not shown to them, so
    /// neither its id nor, through UUID v7, its creation time leaks.
    Unseen,
}

/// Judges an entry on the article's current state (`None`: deleted) for `viewer` at `now`;
/// `ever_public` is what the log remembers of it (readers have seen it at some point).
/// [`Viewer::may_see`] is the one rule of who sees what; this names the reason of a removal,
/// and keeps quiet about articles the caller never could see. Staff see every article, so they
/// get every tombstone; readers and partners only those of articles that have been public (a
/// partner held back by an embargo could still read a public story as a reader).
pub fn outcome<'a>(
    viewer: &Viewer,
    article: Option<&'a Article>,
    ever_public: bool,
    now: DateTime<Utc>,
) -> ChangeOutcome<'a> {
    if let Some(article) = article
        && viewer.may_see(article, now)
    {
        return ChangeOutcome::Upsert(article);
    }
    // An exposed story whose time has come has been public, even if it has since expired.
    let seen = ever_public
        || article.is_some_and(|a| exposed(a.status) && a.published_at.is_some_and(|p| p <= now));
    if !seen && !viewer.is_staff() {
        return ChangeOutcome::Unseen;
    }
    let Some(article) = article else {
        return ChangeOutcome::Remove(RemovalReason::Deleted);
    };
    ChangeOutcome::Remove(match article.status {
        ArticleStatus::Archived => RemovalReason::Archived,
        ArticleStatus::Killed => RemovalReason::Killed,
        _ if article.expires_at.is_some_and(|t| t <= now) => RemovalReason::Expired,
        _ if !article.is_public_at(now) => RemovalReason::Unpublished,
        _ if article.syndication.embargo_until.is_some_and(|t| t > now) => RemovalReason::Embargoed,
        _ => RemovalReason::Withheld,
    })
}

/// One row of the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogEntry {
    /// Position in commit order.
    pub seq: i64,
    /// The article that changed.
    pub article_id: Uuid,
    /// When the change took effect: the write's instant, or the due time of a publication or
    /// an embargo lifting.
    pub effective_at: DateTime<Utc>,
    /// Readers have been able to see the article at some point (as of its latest write).
    pub ever_public: bool,
}

/// A page of the log, ready to be judged for a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    /// Entries in commit order, each article once, at its latest position in the page.
    pub entries: Vec<LogEntry>,
    /// Where the next read starts: after the last entry consumed (or where this read started).
    pub next: ChangeCursor,
    /// More entries can be read now.
    pub has_more: bool,
}

/// Builds a page from the log rows that follow `since` (in sequence order, up to `limit + 1` of
/// them, the extra one telling whether more follow), as read at `now`.
///
/// The page stops before the first row that takes effect after `now`. Such a row comes from a
/// write or a due event stamped later than this read's instant (another request's clock ran
/// ahead); judging it at `now` could see a story as not yet live and move the cursor past the
/// only entry that would ever announce it. Left unread, it is consumed by the next read.
pub fn log_page(since: ChangeCursor, rows: &[LogEntry], limit: u64, now: DateTime<Utc>) -> LogPage {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let ready = rows.iter().take_while(|r| r.effective_at <= now).count();
    let consumed = &rows[..ready.min(limit)];
    let has_more = consumed.len() == limit && ready > limit;
    let next = consumed.last().map_or(since, |r| ChangeCursor(r.seq));
    // Collapse: an article listed twice keeps only its latest position.
    let mut entries: Vec<LogEntry> = Vec::with_capacity(consumed.len());
    for (i, row) in consumed.iter().enumerate() {
        if !consumed[i + 1..]
            .iter()
            .any(|later| later.article_id == row.article_id)
        {
            entries.push(*row);
        }
    }
    LogPage {
        entries,
        next,
        has_more,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_750_000_000 + s, 0).unwrap()
    }

    fn article(status: ArticleStatus, published: Option<i64>, embargo: Option<i64>) -> Article {
        Article {
            id: Uuid::from_u128(7),
            slug: crate::Slug::parse("a-story").unwrap(),
            headline: crate::Headline::parse("A story").unwrap(),
            dek: crate::Dek::parse("").unwrap(),
            word_count: 0,
            source: crate::Source::parse("News1").unwrap(),
            language: crate::Language::english(),
            canonical_url: None,
            hero_image: None,
            primary_topic_id: None,
            status,
            published_at: published.map(at),
            created_at: at(-100),
            updated_at: at(-100),
            substantive_updated_at: None,
            syndication: Syndication {
                syndicatable: true,
                embargo_until: embargo.map(at),
            },
            expires_at: None,
            kill: None,
            version: 1,
        }
    }

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let c = ChangeCursor(42);
        assert_eq!(ChangeCursor::parse_since(Some(&c.encode())).unwrap(), c);
        assert_eq!(
            ChangeCursor::parse_since(None).unwrap(),
            ChangeCursor(0),
            "no cursor is the start of the log"
        );
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        for bad in [
            String::new(),
            "garbage".to_owned(),
            "!!!".to_owned(),
            b64("a1:1:x"),
            b64("c1:"),
            b64("c1:-1"),
            b64("c1:+1"),
            b64("c1: 1"),
            b64("c1:99999999999999999999"),
        ] {
            let err = ChangeCursor::parse_since(Some(&bad)).unwrap_err();
            assert_eq!(err.field, "since", "{bad}");
        }
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(changes_page_size(None).unwrap(), 100);
        assert_eq!(changes_page_size(Some(1)).unwrap(), 1);
        assert_eq!(changes_page_size(Some(500)).unwrap(), 500);
        for bad in [0, -1, 501, i32::MAX] {
            assert_eq!(changes_page_size(Some(bad)).unwrap_err().field, "first");
        }
    }

    #[test]
    fn only_writes_touching_public_or_scheduled_articles_are_logged() {
        use ArticleStatus::*;
        let cases = [
            (None, Some(Draft), false),
            (Some(Draft), Some(Draft), false),
            (Some(Draft), Some(Archived), false),
            (Some(Archived), Some(Draft), false),
            (Some(Draft), None, false),
            (Some(Draft), Some(Published), true),
            (Some(Draft), Some(Scheduled), true),
            (Some(Published), Some(Published), true),
            (Some(Published), Some(Draft), true),
            (Some(Published), Some(Archived), true),
            (Some(Scheduled), Some(Draft), true),
            (Some(Published), None, true),
            (None, Some(Published), true),
        ];
        for (before, after, logged) in cases {
            assert_eq!(
                write_is_logged(before, after),
                logged,
                "{before:?} → {after:?}"
            );
        }
    }

    #[test]
    fn due_times_are_future_publications_and_embargoes_of_exposed_articles() {
        let policy = |e: Option<i64>| Syndication {
            syndicatable: true,
            embargo_until: e.map(at),
        };
        let now = at(0);
        use ArticleStatus::*;
        assert_eq!(
            visibility_due_times(Scheduled, Some(at(5)), &policy(Some(9)), None, now),
            vec![at(5), at(9)]
        );
        assert_eq!(
            visibility_due_times(Scheduled, Some(at(5)), &policy(Some(5)), None, now),
            vec![at(5)],
            "one instant once"
        );
        assert_eq!(
            visibility_due_times(Published, Some(at(-5)), &policy(Some(3)), None, now),
            vec![at(3)]
        );
        assert!(
            visibility_due_times(Published, Some(at(-5)), &policy(Some(-1)), None, now).is_empty()
        );
        assert!(
            visibility_due_times(Published, Some(at(0)), &policy(None), None, now).is_empty(),
            "an instant that is now has already happened"
        );
        assert!(visibility_due_times(Draft, None, &policy(Some(9)), None, now).is_empty());
        assert!(
            visibility_due_times(Archived, Some(at(-5)), &policy(Some(9)), None, now).is_empty()
        );
    }

    #[test]
    fn outcomes_follow_may_see_and_name_a_reason() {
        let now = at(0);
        let reader = Viewer::Anonymous;
        let live = article(ArticleStatus::Published, Some(-10), None);
        assert_eq!(
            outcome(&reader, Some(&live), true, now),
            ChangeOutcome::Upsert(&live)
        );
        assert_eq!(
            outcome(&reader, None, true, now),
            ChangeOutcome::Remove(RemovalReason::Deleted)
        );
        for (a, reason) in [
            (
                article(ArticleStatus::Archived, Some(-10), None),
                RemovalReason::Archived,
            ),
            (
                article(ArticleStatus::Draft, Some(-10), None),
                RemovalReason::Unpublished,
            ),
            (
                article(ArticleStatus::Scheduled, Some(10), None),
                RemovalReason::Unpublished,
            ),
        ] {
            assert_eq!(
                outcome(&reader, Some(&a), true, now),
                ChangeOutcome::Remove(reason)
            );
        }
        let scheduled_due = article(ArticleStatus::Scheduled, Some(0), None);
        assert!(matches!(
            outcome(&reader, Some(&scheduled_due), false, now),
            ChangeOutcome::Upsert(_)
        ));
        let editor = Viewer::Editor { sub: "e".into() };
        let draft = article(ArticleStatus::Draft, None, None);
        assert!(matches!(
            outcome(&editor, Some(&draft), false, now),
            ChangeOutcome::Upsert(_)
        ));
    }

    #[test]
    fn what_a_caller_never_could_see_stays_unseen() {
        let now = at(0);
        let partner = Viewer::Partner {
            sub: "p".into(),
            scopes: vec![crate::SYNDICATION_SCOPE.to_owned()],
        };
        let editor = Viewer::Editor { sub: "e".into() };
        let taken_back = article(ArticleStatus::Draft, None, None);
        let still_scheduled = article(ArticleStatus::Scheduled, Some(10), None);
        for viewer in [Viewer::Anonymous, partner.clone()] {
            for a in [Some(&taken_back), Some(&still_scheduled), None] {
                assert_eq!(outcome(&viewer, a, false, now), ChangeOutcome::Unseen);
            }
            // Once public, its tombstones are told.
            assert_eq!(
                outcome(&viewer, Some(&taken_back), true, now),
                ChangeOutcome::Remove(RemovalReason::Unpublished)
            );
            assert_eq!(
                outcome(&viewer, None, true, now),
                ChangeOutcome::Remove(RemovalReason::Deleted)
            );
        }
        // An embargo hides a public story from a partner, who could read it as a reader.
        let embargoed = article(ArticleStatus::Published, Some(-10), Some(10));
        assert_eq!(
            outcome(&partner, Some(&embargoed), false, now),
            ChangeOutcome::Remove(RemovalReason::Embargoed)
        );
        // Staff saw it all along.
        assert_eq!(
            outcome(&editor, None, false, now),
            ChangeOutcome::Remove(RemovalReason::Deleted)
        );
    }

    #[test]
    fn viewers_of_one_reader_class_get_the_same_entries_and_bodies() {
        use crate::live::ReaderClass;
        let now = at(0);
        let mut expired = article(ArticleStatus::Published, Some(-10), None);
        expired.expires_at = Some(at(0));
        let mut closed = article(ArticleStatus::Published, Some(-10), None);
        closed.syndication.syndicatable = false;
        let articles = [
            article(ArticleStatus::Published, Some(-10), None),
            article(ArticleStatus::Published, Some(-10), Some(10)),
            article(ArticleStatus::Scheduled, Some(10), None),
            article(ArticleStatus::Draft, None, None),
            article(ArticleStatus::Archived, Some(-10), None),
            article(ArticleStatus::Killed, Some(-10), None),
            expired,
            closed,
        ];
        let partner = |sub: &str, scopes: &[&str]| Viewer::Partner {
            sub: sub.into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        let viewers = [
            Viewer::Anonymous,
            partner("p1", &[]),
            partner("p2", &["other"]),
            partner("p3", &[crate::SYNDICATION_SCOPE, "other"]),
            Viewer::Editor { sub: "e".into() },
            Viewer::Admin { sub: "a".into() },
        ];
        for viewer in &viewers {
            let class = ReaderClass::of(viewer).viewer();
            assert_eq!(ReaderClass::of(&class), ReaderClass::of(viewer));
            for a in &articles {
                for ever_public in [false, true] {
                    assert_eq!(
                        outcome(viewer, Some(a), ever_public, now),
                        outcome(&class, Some(a), ever_public, now),
                        "{viewer:?} {a:?}"
                    );
                }
                assert_eq!(
                    crate::syndication::may_read_body(viewer, a, now),
                    crate::syndication::may_read_body(&class, a, now),
                    "{viewer:?} {a:?}"
                );
            }
            assert_eq!(
                outcome(viewer, None, false, now),
                outcome(&class, None, false, now)
            );
        }
    }

    #[test]
    fn expired_and_killed_stories_are_removed_with_their_reason() {
        let now = at(0);
        let mut expired = article(ArticleStatus::Published, Some(-10), None);
        expired.expires_at = Some(at(0));
        let killed = article(ArticleStatus::Killed, Some(-10), None);
        for viewer in [Viewer::Anonymous, Viewer::Editor { sub: "e".into() }] {
            assert_eq!(
                outcome(&viewer, Some(&expired), false, now),
                if viewer.is_staff() {
                    ChangeOutcome::Upsert(&expired)
                } else {
                    ChangeOutcome::Remove(RemovalReason::Expired)
                }
            );
        }
        assert_eq!(
            outcome(&Viewer::Anonymous, Some(&killed), true, now),
            ChangeOutcome::Remove(RemovalReason::Killed)
        );
        assert_eq!(
            visibility_due_times(
                ArticleStatus::Published,
                Some(at(-5)),
                &Syndication::default(),
                Some(at(7)),
                now
            ),
            vec![at(7)]
        );
    }

    fn row(seq: i64, id: u128, effective: i64) -> LogEntry {
        LogEntry {
            seq,
            article_id: Uuid::from_u128(id),
            effective_at: at(effective),
            ever_public: true,
        }
    }

    #[test]
    fn a_page_collapses_an_article_to_its_latest_position() {
        let rows = [row(3, 1, 0), row(4, 2, 0), row(7, 1, 0), row(9, 3, 0)];
        let page = log_page(ChangeCursor(2), &rows, 10, at(0));
        let order: Vec<(i64, u128)> = page
            .entries
            .iter()
            .map(|e| (e.seq, e.article_id.as_u128()))
            .collect();
        assert_eq!(order, vec![(4, 2), (7, 1), (9, 3)]);
        assert_eq!(page.next, ChangeCursor(9));
        assert!(!page.has_more);
    }

    #[test]
    fn a_page_reads_limit_rows_and_says_whether_more_follow() {
        let rows = [row(1, 1, 0), row(2, 2, 0), row(3, 3, 0)];
        let page = log_page(ChangeCursor(0), &rows, 2, at(0));
        assert_eq!(page.entries.len(), 2);
        assert_eq!(page.next, ChangeCursor(2));
        assert!(page.has_more);
        let empty = log_page(ChangeCursor(5), &[], 2, at(0));
        assert!(empty.entries.is_empty());
        assert_eq!(
            empty.next,
            ChangeCursor(5),
            "an empty page resumes where it began"
        );
        assert!(!empty.has_more);
    }

    #[test]
    fn a_page_stops_before_an_entry_from_after_now() {
        let rows = [row(1, 1, 0), row(2, 2, 5), row(3, 3, 0)];
        let page = log_page(ChangeCursor(0), &rows, 10, at(0));
        assert_eq!(page.entries.len(), 1);
        assert_eq!(page.next, ChangeCursor(1));
        assert!(!page.has_more, "nothing more is readable now");
        let later = log_page(
            ChangeCursor(1),
            &rows[1..],
            10,
            at(0) + Duration::seconds(5),
        );
        assert_eq!(later.entries.len(), 2);
        assert_eq!(later.next, ChangeCursor(3));
    }

    proptest! {
        #[test]
        fn paging_through_never_skips_an_article(ids in proptest::collection::vec(0u128..8, 0..40), limit in 1u64..6) {
            let rows: Vec<LogEntry> = ids.iter().enumerate().map(|(i, id)| row(i64::try_from(i).unwrap() + 1, *id, 0)).collect();
            let mut since = ChangeCursor(0);
            let mut seen = std::collections::HashMap::new();
            loop {
                let rest: Vec<LogEntry> = rows.iter().filter(|r| r.seq > since.0).take(usize::try_from(limit).unwrap() + 1).copied().collect();
                let page = log_page(since, &rest, limit, at(0));
                let mut in_page = std::collections::HashSet::new();
                for e in &page.entries {
                    prop_assert!(in_page.insert(e.article_id), "an article twice in a page");
                    seen.insert(e.article_id, e.seq);
                }
                prop_assert!(page.next >= since);
                since = page.next;
                if !page.has_more { break; }
            }
            // Each article's last entry was delivered.
            for r in &rows {
                prop_assert!(seen.get(&r.article_id).is_some_and(|s| *s >= r.seq));
            }
        }
    }
}
