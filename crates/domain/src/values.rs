//! Validated value types.

use std::fmt;

use crate::ValidationError;
use crate::text::{TextRules, check_characters};

/// Longest slug we accept, in bytes.
pub const MAX_SLUG_LEN: usize = 120;

/// What [`Slug::parse_field`] accepts (besides the [`MAX_SLUG_LEN`] bound), as a regular
/// expression in the common subset of ECMA-262 and Rust's `regex`: the OpenAPI document states
/// it, and a property test holds the parser to it.
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(?:-[a-z0-9]+)*$";

/// A URL-safe identifier: lowercase ASCII letters and digits in words joined by single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl TryFrom<String> for Slug {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Slug> for String {
    fn from(slug: Slug) -> Self {
        slug.0
    }
}

impl Slug {
    /// Parses a slug, naming `field` in the error.
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        if raw.len() > MAX_SLUG_LEN {
            return Err(ValidationError::new(
                field,
                format!("must be at most {MAX_SLUG_LEN} characters"),
            ));
        }
        let well_formed = raw.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if !well_formed {
            return Err(ValidationError::new(
                field,
                "must be lowercase letters and digits in words joined by single hyphens (e.g. `north-korea-2025`)",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Parses a slug given in the field `slug`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::parse_field("slug", raw)
    }

    /// Derives a slug from free text (a headline): ASCII letters and digits kept, everything else
    /// a word break, apostrophes dropped. Fails when nothing usable is left.
    pub fn from_text(text: &str) -> Result<Self, ValidationError> {
        let mut out = String::with_capacity(text.len());
        let mut pending_hyphen = false;
        for ch in text.chars() {
            if matches!(ch, '\'' | '’' | '‘') {
                continue;
            }
            if ch.is_ascii_alphanumeric() {
                if pending_hyphen && !out.is_empty() {
                    out.push('-');
                }
                pending_hyphen = false;
                out.push(ch.to_ascii_lowercase());
            } else {
                pending_hyphen = true;
            }
            if out.len() >= MAX_SLUG_LEN {
                break;
            }
        }
        let trimmed = out.trim_end_matches('-');
        Self::parse(trimmed)
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trims `raw` and checks its length in characters is within `min..=max` and its characters
/// against `rules` (see [`crate::text`]).
fn bounded_text(
    field: &str,
    raw: &str,
    min: usize,
    max: usize,
    rules: TextRules,
) -> Result<String, ValidationError> {
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    if len < min {
        return Err(ValidationError::new(
            field,
            if min == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    }
    if len > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    check_characters(field, trimmed, rules)?;
    Ok(trimmed.to_owned())
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr, $rules:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl $name {
            /// Longest accepted value, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Parses an input value, trimming surrounding white space: length and characters
            /// are checked (see [`crate::text`]).
            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                bounded_text($field, raw, $min, $max, $rules).map(Self)
            }

            /// A value read back from storage, as it was saved. It passed the input rules of
            /// its day; rules tightened since do not make stored content unreadable (documents
            /// that cannot carry a character drop it when they write it).
            pub fn from_stored(raw: String) -> Self {
                Self(raw)
            }

            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The owned text.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_value!(
    /// An article's headline: 1 to 200 characters.
    Headline, "headline", 1, 200, TextRules::HEADLINE
);
text_value!(
    /// An article's one-line summary ("dek"): up to 400 characters, may be empty.
    Dek, "dek", 0, 400, TextRules::SINGLE_LINE
);
text_value!(
    /// Where a story comes from: a wire agency or desk ("News1"), 1 to 80 characters.
    Source, "source", 1, 80, TextRules::SINGLE_LINE
);
text_value!(
    /// Why a story was killed: 1 to 500 characters, shown to staff only.
    KillReason, "reason", 1, 500, TextRules::MULTI_LINE
);
text_value!(
    /// A display name of a topic or an author: 1 to 120 characters.
    Name, "name", 1, 120, TextRules::SINGLE_LINE
);

/// A BCP 47-style language tag such as `en` or `ko-KR`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Language(String);

impl TryFrom<String> for Language {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Language> for String {
    fn from(language: Language) -> Self {
        language.0
    }
}

impl Language {
    /// Parses a tag: a 2–3 letter primary language, optionally followed by `-` subtags of 2–8
    /// letters or digits. Stored lowercase for the language, as given for the region.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let mut parts = raw.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = parts
            .all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !primary_ok || !rest_ok {
            return Err(ValidationError::new(
                "language",
                "must be a language tag such as `en` or `ko-KR`",
            ));
        }
        let mut tag = primary.to_ascii_lowercase();
        tag.push_str(&raw[primary.len()..]);
        Ok(Self(tag))
    }

    /// English, the default.
    pub fn english() -> Self {
        Self("en".to_owned())
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An absolute `http` or `https` URL (canonical links, images, embeds).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CanonicalUrl(String);

impl From<CanonicalUrl> for String {
    fn from(url: CanonicalUrl) -> Self {
        url.0
    }
}

impl CanonicalUrl {
    /// Longest accepted URL, in bytes: a sitemap's `loc` must be shorter than 2,048 (the
    /// sitemap protocol, enforced by the writer), and every article URL goes in one.
    pub const MAX_LEN: usize = 2047;

    /// Parses an absolute http(s) URL with a host and no white space.
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let rest = raw
            .strip_prefix("https://")
            .or_else(|| raw.strip_prefix("http://"))
            .ok_or_else(|| ValidationError::new(field, "must be an absolute http(s) URL"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty()
            || raw.len() > Self::MAX_LEN
            || raw.chars().any(|c| {
                c.is_whitespace()
                    || c.is_control()
                    || crate::text::is_noncharacter(c)
                    || c == '"'
                    || c == '<'
                    || c == '>'
            })
        {
            return Err(ValidationError::new(
                field,
                format!(
                    "must be an absolute http(s) URL with a host, no spaces and at most {} bytes",
                    Self::MAX_LEN
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A URL read back from storage, as it was saved (see `Headline::from_stored`): documents
    /// that cannot carry it leave its article out rather than fail.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slug_accepts_kebab_case() {
        for ok in ["a", "north-korea", "g7-summit-2025", "x1-y2"] {
            assert_eq!(Slug::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn slug_rejects_odd_characters() {
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "A",
            "a b",
            "a_b",
            "ünï",
            "a/b",
            "a'b",
            "../etc",
            &"a".repeat(121),
        ] {
            let err = Slug::parse(bad).unwrap_err();
            assert_eq!(err.field, "slug", "{bad:?}");
        }
    }

    #[test]
    fn slug_from_headline_drops_apostrophes_and_punctuation() {
        let slug =
            Slug::from_text("Putin’s North Korea Visit Could Reshape Regional Security").unwrap();
        assert_eq!(
            slug.as_str(),
            "putins-north-korea-visit-could-reshape-regional-security"
        );
        assert_eq!(
            Slug::from_text("3.81-Carat Diamond!").unwrap().as_str(),
            "3-81-carat-diamond"
        );
        assert!(Slug::from_text("¿¡…!?").is_err());
    }

    #[test]
    fn headline_is_trimmed_and_bounded() {
        assert_eq!(Headline::parse("  Hello  ").unwrap().as_str(), "Hello");
        assert_eq!(Headline::parse("   ").unwrap_err().field, "headline");
        assert!(Headline::parse(&"x".repeat(201)).is_err());
        assert!(Headline::parse("bell\u{7}").is_err());
    }

    #[test]
    fn required_text_needs_something_visible_and_writable() {
        assert_eq!(Headline::parse("\u{200B}").unwrap_err().field, "headline");
        assert_eq!(
            Headline::parse(" \u{2060}\u{FEFF} ").unwrap_err().field,
            "headline"
        );
        assert_eq!(
            Headline::parse("\u{202E}gnirts").unwrap_err().field,
            "headline"
        );
        assert_eq!(Headline::parse("Two\nlines").unwrap_err().field, "headline");
        assert_eq!(Dek::parse("x\u{FFFF}").unwrap_err().field, "dek");
        assert_eq!(Source::parse("\u{3164}").unwrap_err().field, "source");
        assert_eq!(Name::parse("Kim\u{FDD0}").unwrap_err().field, "name");
        assert_eq!(
            Dek::parse("").unwrap().as_str(),
            "",
            "an optional field may be empty"
        );
        // Bidi controls are a headline's concern; slugs are ASCII.
        assert_eq!(Slug::parse("a\u{202E}b").unwrap_err().field, "slug");
        assert_eq!(
            Headline::parse("Zero\u{200B}width inside")
                .unwrap()
                .as_str(),
            "Zero\u{200B}width inside"
        );
    }

    #[test]
    fn stored_text_reads_back_as_saved() {
        let stored = Headline::from_stored("Old \u{FFFE} text".to_owned());
        assert_eq!(stored.as_str(), "Old \u{FFFE} text");
    }

    #[test]
    fn language_tags() {
        assert_eq!(Language::parse("EN").unwrap().as_str(), "en");
        assert_eq!(Language::parse("ko-KR").unwrap().as_str(), "ko-KR");
        for bad in ["", "e", "english", "en_US", "en-"] {
            assert!(Language::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(CanonicalUrl::parse_field("u", "https://example.com/a?b=c").is_ok());
        for bad in [
            "ftp://x",
            "https://",
            "javascript:alert(1)",
            "https://a b",
            "/relative",
        ] {
            assert!(CanonicalUrl::parse_field("u", bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn a_parsed_slug_reparses(raw in "[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,5}") {
            let slug = Slug::parse(&raw).unwrap();
            prop_assert_eq!(Slug::parse(slug.as_str()).unwrap(), slug);
        }

        #[test]
        fn slug_from_any_text_is_valid_or_an_error(text in "\\PC{0,80}") {
            if let Ok(slug) = Slug::from_text(&text) {
                prop_assert!(Slug::parse(slug.as_str()).is_ok());
            }
        }
    }
}
