//! The regular expressions the OpenAPI document states ([`SLUG_PATTERN`], [`CURSOR_PATTERN`],
//! [`BALANCED_QUOTES_PATTERN`], the feed and sitemap file names) against the hand-written parsers they describe: a string the
//! pattern allows is accepted and one it refuses is refused, so the document cannot drift from
//! the rules.

use proptest::prelude::*;
use regex::Regex;

use crate::changes::ChangeCursor;
use crate::pagination::{CURSOR_PATTERN, CursorKey, OffsetCursor, SlugCursor};
use crate::search::{BALANCED_QUOTES_PATTERN, SearchQuery};
use crate::syndication::{
    ARCHIVE_SITEMAP_FILE_PATTERN, MAX_SITEMAP_PAGES, TOPIC_FEED_FILE_PATTERN, archive_sitemap_page,
    topic_feed_file,
};
use crate::values::{MAX_SLUG_LEN, SLUG_PATTERN};
use crate::{ArticleCursor, Slug};

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the pattern compiles")
}

/// `pattern` without its `^…$` anchors, for generating strings from it.
fn unanchored(pattern: &str) -> &str {
    pattern
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .expect("an anchored pattern")
}

proptest! {
    #[test]
    fn every_string_the_slug_pattern_allows_parses(
        raw in unanchored(SLUG_PATTERN).prop_filter("within the length bound", |s| s.len() <= MAX_SLUG_LEN)
    ) {
        prop_assert!(Slug::parse(&raw).is_ok(), "{raw:?}");
    }

    #[test]
    fn a_slug_parses_exactly_when_the_pattern_allows_it(raw in "[a-zA-Z0-9 _./-]{0,12}") {
        prop_assert_eq!(Slug::parse(&raw).is_ok(), regex(SLUG_PATTERN).is_match(&raw), "{:?}", raw);
    }

    #[test]
    fn every_cursor_matches_the_cursor_pattern(
        micros in 0_i64..4_102_444_800_000_000,
        id in any::<u128>(),
        offset in any::<u64>(),
        position in 0_i64..=i64::MAX,
        slug in "[a-z0-9]{1,20}(-[a-z0-9]{1,20}){0,4}",
    ) {
        let pattern = regex(CURSOR_PATTERN);
        let article = ArticleCursor {
            published_at: chrono::DateTime::from_timestamp_micros(micros).unwrap(),
            id: uuid::Uuid::from_u128(id),
        };
        for cursor in [article.encode(), OffsetCursor(offset).encode(), SlugCursor(slug).encode(), ChangeCursor(position).encode()] {
            prop_assert!(pattern.is_match(&cursor), "{cursor}");
        }
    }

    #[test]
    fn a_query_breaks_the_quoting_rule_exactly_when_the_pattern_refuses_it(raw in "[a\"* ]{0,12}") {
        let quoting_error = SearchQuery::parse("q", &raw)
            .is_err_and(|e| e.message.contains("quote"));
        prop_assert_eq!(quoting_error, !regex(BALANCED_QUOTES_PATTERN).is_match(&raw), "{:?}", raw);
    }

    #[test]
    fn a_sitemap_page_name_parses_exactly_when_the_pattern_allows_it(raw in "(articles-)?[0-9+]{0,6}(\\.xml)?") {
        prop_assert_eq!(archive_sitemap_page("file", &raw).is_ok(), regex(ARCHIVE_SITEMAP_FILE_PATTERN).is_match(&raw), "{:?}", raw);
    }

    #[test]
    fn a_topic_feed_name_parses_exactly_when_the_pattern_allows_it(raw in "[a-zA-Z0-9 _-]{0,8}(\\.(atom|rss|json|xml|))?(\\.rss)?") {
        prop_assert_eq!(topic_feed_file("file", &raw).is_ok(), regex(TOPIC_FEED_FILE_PATTERN).is_match(&raw), "{:?}", raw);
    }
}

#[test]
fn the_sitemap_page_pattern_ends_at_the_last_page() {
    let pattern = regex(ARCHIVE_SITEMAP_FILE_PATTERN);
    for page in [
        1,
        9,
        10,
        9999,
        10_000,
        49_999,
        MAX_SITEMAP_PAGES,
        MAX_SITEMAP_PAGES + 1,
        99_999,
    ] {
        let name = format!("articles-{page}.xml");
        assert_eq!(
            pattern.is_match(&name),
            archive_sitemap_page("file", &name).is_ok(),
            "{name}"
        );
        assert_eq!(pattern.is_match(&name), page <= MAX_SITEMAP_PAGES, "{name}");
    }
}

#[test]
fn the_length_bound_is_the_only_rule_beside_the_slug_pattern() {
    let longest = "a".repeat(MAX_SLUG_LEN);
    assert!(regex(SLUG_PATTERN).is_match(&longest) && Slug::parse(&longest).is_ok());
    let longer = "a".repeat(MAX_SLUG_LEN + 1);
    assert!(regex(SLUG_PATTERN).is_match(&longer) && Slug::parse(&longer).is_err());
}
