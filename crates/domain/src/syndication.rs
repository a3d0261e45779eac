//! Syndication rules: who gets an article's full text, and what a feed request may ask for.

use chrono::{DateTime, TimeDelta, Utc};

use crate::changes::RemovalReason;
use crate::visibility::SYNDICATION_SCOPE;
use crate::{Article, ArticleStatus, Syndication, ValidationError, Viewer};

/// Items in a feed when the request names no `limit`, unless configured otherwise.
pub const DEFAULT_FEED_ITEMS: u64 = 50;
/// Most items a feed request may ask for.
pub const MAX_FEED_ITEMS: u64 = 100;
/// How far back a news sitemap reaches (Google News reads the last two days).
pub const NEWS_SITEMAP_WINDOW: TimeDelta = TimeDelta::days(2);
/// Most URLs in one news sitemap (Google News' limit).
pub const NEWS_SITEMAP_MAX_URLS: u64 = 1000;
/// Most URLs in one page of the archive sitemap, and the default page size (sitemaps.org's
/// limit per `urlset`).
pub const MAX_SITEMAP_PAGE_URLS: u64 = 50_000;
/// Most pages one sitemap index lists (sitemaps.org's limit per `sitemapindex`).
pub const MAX_SITEMAP_PAGES: u64 = 50_000;

/// What [`archive_sitemap_page`] accepts, as a regular expression in the common subset of
/// ECMA-262 and Rust's `regex`: `articles-{n}.xml`, `n` from 1 to [`MAX_SITEMAP_PAGES`] in plain
/// decimal digits without a leading zero. The OpenAPI document states it; a test holds the
/// parser to it.
pub const ARCHIVE_SITEMAP_FILE_PATTERN: &str =
    "^articles-(?:[1-9][0-9]{0,3}|[1-4][0-9]{4}|50000)\\.xml$";

/// The page number of an archive sitemap file name, `articles-{n}.xml` with `n` from 1 to
/// [`MAX_SITEMAP_PAGES`] written in plain decimal digits without a leading zero; any other name
/// is refused, naming `field` (a page past the end of the archive is the caller's to find).
pub fn archive_sitemap_page(field: &str, file: &str) -> Result<u64, ValidationError> {
    let refused = || {
        ValidationError::new(
            field,
            format!(
                "must be `articles-{{n}}.xml`, `n` from 1 to {MAX_SITEMAP_PAGES} without a leading zero"
            ),
        )
    };
    let digits = file
        .strip_prefix("articles-")
        .and_then(|rest| rest.strip_suffix(".xml"))
        .ok_or_else(refused)?;
    if digits.is_empty()
        || digits.len() > 5
        || digits.starts_with('0')
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(refused());
    }
    digits
        .parse::<u64>()
        .ok()
        .filter(|page| *page <= MAX_SITEMAP_PAGES)
        .ok_or_else(refused)
}

/// What [`topic_feed_file`] accepts, as a regular expression in the common subset of ECMA-262
/// and Rust's `regex`: a slug's shape ([`crate::values::SLUG_PATTERN`]) and `.atom`, `.rss` or
/// `.json`. The OpenAPI document states it; a test holds the parser to it.
pub const TOPIC_FEED_FILE_PATTERN: &str = "^[a-z0-9]+(?:-[a-z0-9]+)*\\.(?:atom|rss|json)$";

/// A feed format, named by a feed file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    /// `.atom`: Atom 1.0.
    Atom,
    /// `.rss`: RSS 2.0.
    Rss,
    /// `.json`: JSON Feed 1.1.
    Json,
}

impl FeedFormat {
    /// The format `extension` names, if any.
    pub fn of_extension(extension: &str) -> Option<Self> {
        match extension {
            "atom" => Some(Self::Atom),
            "rss" => Some(Self::Rss),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The file extension, without its dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Atom => "atom",
            Self::Rss => "rss",
            Self::Json => "json",
        }
    }
}

/// Splits a topic feed's file name (`korea.atom`) into its stem and its format; any other shape
/// is refused, naming `field`. The stem has a slug's shape but is not held to a slug's length:
/// a longer one names no topic (the caller's 404).
pub fn topic_feed_file<'a>(
    field: &str,
    file: &'a str,
) -> Result<(&'a str, FeedFormat), ValidationError> {
    let refused = || {
        ValidationError::new(
            field,
            "must be a topic's slug followed by `.atom`, `.rss` or `.json`",
        )
    };
    let (stem, extension) = file.rsplit_once('.').ok_or_else(refused)?;
    let format = FeedFormat::of_extension(extension).ok_or_else(refused)?;
    let slug_shaped = stem.split('-').all(|word| {
        !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if !slug_shaped {
        return Err(refused());
    }
    Ok((stem, format))
}

/// Whether `viewer` gets the full text of `article` at `now` in a syndication context (feeds,
/// partner reads). The newsroom always does. A partner does when its token carries the
/// `syndication` scope, the article may be syndicated and the partner may see it (public, out
/// of embargo). Anyone else gets headline, dek and link: public feeds are summaries. The body
/// of a killed story goes to admins only (editors see its metadata and the kill reason).
pub fn full_text_granted(viewer: &Viewer, article: &Article, now: DateTime<Utc>) -> bool {
    if article.status == ArticleStatus::Killed {
        return matches!(viewer, Viewer::Admin { .. });
    }
    match viewer {
        Viewer::Editor { .. } | Viewer::Admin { .. } => true,
        Viewer::Partner { .. } => {
            viewer.has_scope(SYNDICATION_SCOPE)
                && article.is_public_to_partners_at(now)
                && article.syndication.full_text_allowed_at(now)
        }
        Viewer::Anonymous => false,
    }
}

/// Whether `viewer` may read `article`'s body through the API (GraphQL, REST). Readers (the
/// publisher's own frontends) and the newsroom may; a partner only where
/// [`full_text_granted`] says so. A killed story's body: admins only.
pub fn may_read_body(viewer: &Viewer, article: &Article, now: DateTime<Utc>) -> bool {
    if article.status == ArticleStatus::Killed {
        return matches!(viewer, Viewer::Admin { .. });
    }
    !viewer.is_partner() || full_text_granted(viewer, article, now)
}

/// An article's standing in the partner formats (IPTC ninjs `pubStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicationStatus {
    /// Live and usable by whoever may see it.
    Usable,
    /// Not to be used yet, or not by this reader: a draft, a scheduled story, an embargo.
    Withheld,
    /// Withdrawn: taken down or deleted.
    Canceled,
}

impl PublicationStatus {
    /// The standing of `article` at `now` for a reader who sees it: partners see only live
    /// stories out of embargo, so `Withheld` (drafts, scheduled, embargoed and expired stories)
    /// and `Canceled` (archived and killed ones) reach the newsroom only.
    pub fn of(article: &Article, now: DateTime<Utc>) -> Self {
        match article.status_at(now) {
            ArticleStatus::Archived | ArticleStatus::Killed => Self::Canceled,
            ArticleStatus::Draft | ArticleStatus::Scheduled => Self::Withheld,
            ArticleStatus::Published
                if article
                    .syndication
                    .embargo_until
                    .is_some_and(|until| until > now)
                    || article.expires_at.is_some_and(|at| at <= now) =>
            {
                Self::Withheld
            }
            ArticleStatus::Published => Self::Usable,
        }
    }

    /// The standing a removal from a reader's view announces: withdrawn (deleted, archived or
    /// killed) is `Canceled`; not (or no longer) for this reader, expiry included, is
    /// `Withheld`.
    pub fn of_removal(reason: RemovalReason) -> Self {
        match reason {
            RemovalReason::Deleted | RemovalReason::Archived | RemovalReason::Killed => {
                Self::Canceled
            }
            RemovalReason::Unpublished
            | RemovalReason::Embargoed
            | RemovalReason::Withheld
            | RemovalReason::Expired => Self::Withheld,
        }
    }
}

/// The usage terms partners are given with an article, from its syndication policy.
pub fn usage_terms(syndication: &Syndication) -> &'static str {
    if syndication.syndicatable {
        "Syndication partners may republish the full text, unchanged and credited, from its \
         embargo (if any) on."
    } else {
        "Not for republication: partners may use the headline and summary with a link to the \
         story."
    }
}

/// What a feed request asks for in each item (`?content=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeedContent {
    /// Full text wherever the caller is granted it, summaries elsewhere.
    #[default]
    AsGranted,
    /// Full text, explicitly: refused to callers who can never have it.
    Full,
    /// Summaries only.
    Summary,
}

/// Why a request for full text is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FullTextRefusal {
    /// No credentials: full text needs a partner token with the `syndication` scope.
    #[error("full text needs a partner token with the `syndication` scope")]
    Unauthenticated,
    /// A token without the right to full text.
    #[error("this token does not carry the `syndication` scope that full text needs")]
    Forbidden,
}

impl FeedContent {
    /// Whether `viewer` may make this request at all: explicitly asking for full text needs a
    /// token that can have it (the newsroom, or a partner with the `syndication` scope).
    pub fn check(self, viewer: &Viewer) -> Result<(), FullTextRefusal> {
        if self != Self::Full || viewer.is_staff() || viewer.has_scope(SYNDICATION_SCOPE) {
            return Ok(());
        }
        match viewer {
            Viewer::Anonymous => Err(FullTextRefusal::Unauthenticated),
            _ => Err(FullTextRefusal::Forbidden),
        }
    }

    /// Whether an item of this request carries `article`'s full text for `viewer` at `now`.
    pub fn includes_full_text(
        self,
        viewer: &Viewer,
        article: &Article,
        now: DateTime<Utc>,
    ) -> bool {
        self != Self::Summary && full_text_granted(viewer, article, now)
    }
}

/// Reads `?limit=`: a whole number of items from 1 to [`MAX_FEED_ITEMS`]; `default` when absent.
pub fn feed_limit(field: &str, raw: Option<&str>, default: u64) -> Result<u64, ValidationError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=MAX_FEED_ITEMS).contains(n))
        .ok_or_else(|| {
            ValidationError::new(
                field,
                format!("must be a whole number from 1 to {MAX_FEED_ITEMS}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_sitemap_pages_are_named_by_plain_numbers_in_range() {
        assert_eq!(archive_sitemap_page("file", "articles-1.xml"), Ok(1));
        assert_eq!(
            archive_sitemap_page("file", "articles-50000.xml"),
            Ok(50_000)
        );
        for bad in [
            "articles-0.xml",
            "articles-01.xml",
            "articles-50001.xml",
            "articles-99999999999999999999.xml",
            "articles-+1.xml",
            "articles-.xml",
            "articles-1.xml.gz",
            "articles-1",
            "topics-1.xml",
            "articles-\u{661}.xml",
        ] {
            let error = archive_sitemap_page("file", bad).unwrap_err();
            assert_eq!(error.field, "file", "{bad}");
        }
    }

    #[test]
    fn topic_feed_files_are_a_slug_and_a_feed_extension() {
        assert_eq!(
            topic_feed_file("file", "korea.atom"),
            Ok(("korea", FeedFormat::Atom))
        );
        assert_eq!(
            topic_feed_file("file", "north-korea-2025.json"),
            Ok(("north-korea-2025", FeedFormat::Json))
        );
        for bad in [
            "korea",
            "korea.xml",
            "Korea.rss",
            "korea.rss.atom",
            "a--b.rss",
            "-a.rss",
            ".rss",
            "korea.",
            "korea.ATOM",
        ] {
            let error = topic_feed_file("file", bad).unwrap_err();
            assert_eq!(error.field, "file", "{bad}");
        }
    }

    use crate::article::tests::article;
    use crate::{ArticleStatus, Syndication};
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 5, 15, h, m, s).unwrap()
    }

    fn partner(scopes: &[&str]) -> Viewer {
        Viewer::Partner {
            sub: "wire".into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn story(syndicatable: bool, embargo_until: Option<DateTime<Utc>>) -> Article {
        let mut a = article(ArticleStatus::Published, Some(at(8, 0, 0)));
        a.syndication = Syndication {
            syndicatable,
            embargo_until,
        };
        a
    }

    #[test]
    fn full_text_table() {
        let now = at(12, 0, 0);
        let scoped = partner(&[SYNDICATION_SCOPE]);
        let unscoped = partner(&["feeds"]);
        let editor = Viewer::Editor { sub: "desk".into() };
        let cases = [
            // (viewer, syndicatable, embargo, granted)
            (&scoped, true, None, true),
            (&scoped, false, None, false),
            (&scoped, true, Some(now), true),
            (&scoped, true, Some(now + TimeDelta::seconds(1)), false),
            (&unscoped, true, None, false),
            (&Viewer::Anonymous, true, None, false),
            (&editor, false, Some(now + TimeDelta::hours(1)), true),
        ];
        for (viewer, syndicatable, embargo, granted) in cases {
            assert_eq!(
                full_text_granted(viewer, &story(syndicatable, embargo), now),
                granted,
                "{viewer:?} syndicatable={syndicatable} embargo={embargo:?}"
            );
        }
    }

    #[test]
    fn a_killed_body_is_for_admins_only() {
        let now = at(12, 0, 0);
        let mut killed = story(true, None);
        killed.status = ArticleStatus::Killed;
        let admin = Viewer::Admin { sub: "root".into() };
        let editor = Viewer::Editor { sub: "desk".into() };
        for viewer in [&editor, &Viewer::Anonymous, &partner(&[SYNDICATION_SCOPE])] {
            assert!(!may_read_body(viewer, &killed, now), "{viewer:?}");
            assert!(!full_text_granted(viewer, &killed, now), "{viewer:?}");
        }
        assert!(may_read_body(&admin, &killed, now));
        assert!(full_text_granted(&admin, &killed, now));
    }

    #[test]
    fn publication_status_follows_the_life_cycle_and_the_embargo() {
        use PublicationStatus as P;
        let now = at(12, 0, 0);
        let later = Some(now + TimeDelta::seconds(1));
        assert_eq!(P::of(&story(true, None), now), P::Usable);
        assert_eq!(P::of(&story(false, Some(now)), now), P::Usable);
        assert_eq!(P::of(&story(true, later), now), P::Withheld);
        assert_eq!(
            P::of(&article(ArticleStatus::Draft, None), now),
            P::Withheld
        );
        let scheduled = article(ArticleStatus::Scheduled, Some(now + TimeDelta::hours(1)));
        assert_eq!(P::of(&scheduled, now), P::Withheld);
        let archived = article(ArticleStatus::Archived, Some(at(8, 0, 0)));
        assert_eq!(P::of(&archived, now), P::Canceled);
        let mut killed = story(true, None);
        killed.status = ArticleStatus::Killed;
        assert_eq!(P::of(&killed, now), P::Canceled);
        let mut expired = story(true, None);
        expired.expires_at = Some(now);
        assert_eq!(P::of(&expired, now), P::Withheld);
        assert_eq!(P::of_removal(RemovalReason::Killed), P::Canceled);
        assert_eq!(P::of_removal(RemovalReason::Expired), P::Withheld);
        assert_eq!(P::of_removal(RemovalReason::Deleted), P::Canceled);
        assert_eq!(P::of_removal(RemovalReason::Embargoed), P::Withheld);
        assert_ne!(
            usage_terms(&story(true, None).syndication),
            usage_terms(&story(false, None).syndication)
        );
    }

    #[test]
    fn partners_get_no_full_text_of_what_they_cannot_see() {
        let scoped = partner(&[SYNDICATION_SCOPE]);
        let draft = article(ArticleStatus::Draft, None);
        assert!(!full_text_granted(&scoped, &draft, at(12, 0, 0)));
    }

    #[test]
    fn body_reads_are_limited_for_partners_only() {
        let now = at(12, 0, 0);
        let closed = story(false, None);
        assert!(may_read_body(&Viewer::Anonymous, &closed, now));
        assert!(may_read_body(
            &Viewer::Admin { sub: "a".into() },
            &closed,
            now
        ));
        assert!(!may_read_body(&partner(&[SYNDICATION_SCOPE]), &closed, now));
        assert!(!may_read_body(&partner(&[]), &story(true, None), now));
        assert!(may_read_body(
            &partner(&[SYNDICATION_SCOPE]),
            &story(true, None),
            now
        ));
    }

    #[test]
    fn asking_for_full_text_needs_the_scope() {
        let full = FeedContent::Full;
        assert_eq!(
            full.check(&Viewer::Anonymous),
            Err(FullTextRefusal::Unauthenticated)
        );
        assert_eq!(full.check(&partner(&[])), Err(FullTextRefusal::Forbidden));
        assert_eq!(full.check(&partner(&[SYNDICATION_SCOPE])), Ok(()));
        assert_eq!(full.check(&Viewer::Editor { sub: "d".into() }), Ok(()));
        assert_eq!(FeedContent::AsGranted.check(&Viewer::Anonymous), Ok(()));
        assert_eq!(FeedContent::Summary.check(&partner(&[])), Ok(()));
    }

    #[test]
    fn summary_requests_never_carry_full_text() {
        let scoped = partner(&[SYNDICATION_SCOPE]);
        let open = story(true, None);
        let now = at(12, 0, 0);
        assert!(FeedContent::AsGranted.includes_full_text(&scoped, &open, now));
        assert!(FeedContent::Full.includes_full_text(&scoped, &open, now));
        assert!(!FeedContent::Summary.includes_full_text(&scoped, &open, now));
        assert!(!FeedContent::Full.includes_full_text(&scoped, &story(false, None), now));
    }

    #[test]
    fn limit_is_bounded() {
        assert_eq!(feed_limit("limit", None, 50), Ok(50));
        assert_eq!(feed_limit("limit", Some("1"), 50), Ok(1));
        assert_eq!(feed_limit("limit", Some("100"), 50), Ok(100));
        for bad in [
            "0",
            "101",
            "-1",
            "ten",
            "",
            "1.5",
            "99999999999999999999999",
        ] {
            let err = feed_limit("limit", Some(bad), 50).unwrap_err();
            assert_eq!(err.field, "limit", "{bad}");
        }
    }
}
