//! Articles: their fields, status rules and derived values.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::body::reading_time_minutes;
use crate::{
    Body, CanonicalUrl, Dek, Headline, Language, Slug, Source, ValidationError, Visibility,
};

/// Where an article is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArticleStatus {
    /// Being written; only editors see it.
    Draft,
    /// Will go live at its publish time, by itself.
    Scheduled,
    /// Live since its publish time.
    Published,
    /// Taken down; kept for the record, seen by editors only.
    Archived,
    /// Killed: a legal or safety takedown of a live story. Gone from every public surface,
    /// its body shown to admins only, and only an admin may restore it.
    Killed,
}

impl ArticleStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Published => "published",
            Self::Archived => "archived",
            Self::Killed => "killed",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "draft" => Ok(Self::Draft),
            "scheduled" => Ok(Self::Scheduled),
            "published" => Ok(Self::Published),
            "archived" => Ok(Self::Archived),
            "killed" => Ok(Self::Killed),
            other => Err(ValidationError::new(
                "status",
                format!("unknown status `{other}`"),
            )),
        }
    }

    /// The statuses whose articles the public may see once their publish time has come.
    pub const PUBLIC: [Self; 2] = [Self::Published, Self::Scheduled];

    /// The status as of `now`: `Scheduled` becomes `Published` once its time has come.
    pub fn effective(
        stored: Self,
        published_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        match (stored, published_at) {
            (Self::Scheduled, Some(at)) if at <= now => Self::Published,
            (status, _) => status,
        }
    }

    /// Whether an article in this status may be moved to `next`.
    pub fn can_become(self, next: Self) -> bool {
        use ArticleStatus::*;
        matches!(
            (self, next),
            (Draft, Scheduled | Published | Archived)
                | (Scheduled, Draft | Published | Archived | Scheduled)
                | (Published, Draft | Archived)
                | (Archived, Draft | Published)
        )
    }
}

/// The lead picture of an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeroImage {
    /// Where the picture is (absolute http(s) URL).
    pub url: String,
    /// Text alternative.
    pub alt: String,
    /// Caption.
    pub caption: Option<String>,
    /// Photographer or agency.
    pub credit: Option<String>,
}

impl HeroImage {
    /// Validates the URL and bounds the texts and their characters (input rules).
    pub fn validated(self) -> Result<Self, ValidationError> {
        use crate::text::{TextRules, check_characters};
        CanonicalUrl::parse_field("heroImage.url", &self.url)?;
        for (field, text, rules) in [
            ("heroImage.alt", Some(&self.alt), TextRules::SINGLE_LINE),
            (
                "heroImage.caption",
                self.caption.as_ref(),
                TextRules::MULTI_LINE,
            ),
            (
                "heroImage.credit",
                self.credit.as_ref(),
                TextRules::SINGLE_LINE,
            ),
        ] {
            let Some(text) = text else { continue };
            if text.chars().count() > 1000 {
                return Err(ValidationError::new(
                    field,
                    "must be at most 1000 characters",
                ));
            }
            check_characters(field, text, rules)?;
        }
        Ok(self)
    }
}

/// Whether partners may republish an article, and from when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Syndication {
    /// Partners may republish the full text.
    pub syndicatable: bool,
    /// Not before this instant (to the second).
    pub embargo_until: Option<DateTime<Utc>>,
}

impl Syndication {
    /// Whether a partner may have the full text at `now`.
    pub fn full_text_allowed_at(&self, now: DateTime<Utc>) -> bool {
        self.syndicatable && self.embargo_until.is_none_or(|until| until <= now)
    }
}

/// An article as the rules and every list see it: everything but the body, which is read and
/// parsed only where a body is shown (a separately loaded [`Body`]); its word count is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// UUID v7: time-ordered, stable.
    pub id: Uuid,
    /// Unique, URL-safe.
    pub slug: Slug,
    /// The headline.
    pub headline: Headline,
    /// One-line summary.
    pub dek: Dek,
    /// Words in the body (stored with each save, so a list needs no body).
    pub word_count: u32,
    /// Wire agency or desk.
    pub source: Source,
    /// Language tag.
    pub language: Language,
    /// The canonical page on the publisher's site.
    pub canonical_url: Option<CanonicalUrl>,
    /// Lead picture.
    pub hero_image: Option<HeroImage>,
    /// The main topic (its section page).
    pub primary_topic_id: Option<Uuid>,
    /// Life-cycle status.
    pub status: ArticleStatus,
    /// When it went (or goes) live.
    pub published_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Last save of any kind.
    pub updated_at: DateTime<Utc>,
    /// Last change readers should be told about (a substantive edit or a correction after
    /// publication); `None` when the published story has not changed in substance.
    pub substantive_updated_at: Option<DateTime<Utc>>,
    /// Syndication policy.
    pub syndication: Syndication,
    /// When it stops being visible to readers and partners (to the second), if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// The takedown, while it is killed.
    pub kill: Option<Kill>,
    /// Optimistic-concurrency version, +1 per save.
    pub version: i32,
}

impl Article {
    /// Words in the body.
    pub fn word_count(&self) -> u32 {
        self.word_count
    }

    /// Minutes to read, rounded up.
    pub fn reading_time_minutes(&self) -> u32 {
        reading_time_minutes(self.word_count())
    }

    /// Whether the public may see it at `now`: published or scheduled, and its time has come.
    pub fn is_public_at(&self, now: DateTime<Utc>) -> bool {
        Visibility::PublicAt(now).admits(self)
    }

    /// Whether syndication partners may see it at `now`: public, and out of its embargo (if
    /// any) to the second. Readers are not held back by an embargo; partners are.
    pub fn is_public_to_partners_at(&self, now: DateTime<Utc>) -> bool {
        Visibility::SyndicatedAt(now).admits(self)
    }

    /// The status as of `now`: a scheduled article whose time has come is published.
    pub fn status_at(&self, now: DateTime<Utc>) -> ArticleStatus {
        ArticleStatus::effective(self.status, self.published_at, now)
    }
}

/// An article's editable state, validated: what a save writes and what each revision records
/// (revisions store it, and it re-validates when read back).
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleState {
    /// Unique slug.
    pub slug: Slug,
    /// Headline.
    pub headline: Headline,
    /// Summary.
    pub dek: Dek,
    /// Body.
    pub body: Body,
    /// Source.
    pub source: Source,
    /// Language.
    pub language: Language,
    /// Canonical URL.
    pub canonical_url: Option<CanonicalUrl>,
    /// Lead picture.
    pub hero_image: Option<HeroImage>,
    /// Primary topic slug.
    pub primary_topic: Option<Slug>,
    /// Further topic slugs (the primary one excluded), in order.
    pub topics: Vec<Slug>,
    /// Author slugs, in byline order.
    pub authors: Vec<Slug>,
    /// Initial status.
    pub status: ArticleStatus,
    /// Publish time, required when published or scheduled.
    pub published_at: Option<DateTime<Utc>>,
    /// Syndication policy.
    pub syndication: Syndication,
    /// When it stops being visible to readers and partners, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// The takedown, while it is killed.
    pub kill: Option<Kill>,
}

/// A takedown: when, and why (shown to staff, never to readers or partners).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    /// When it was killed.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: crate::KillReason,
}

impl ArticleState {
    /// Checks the rules that span fields: a published or scheduled article has a publish time,
    /// topics and authors are not repeated, the primary topic is not among the others.
    pub fn check(&self) -> Result<(), ValidationError> {
        if matches!(
            self.status,
            ArticleStatus::Published | ArticleStatus::Scheduled
        ) && self.published_at.is_none()
        {
            return Err(ValidationError::new(
                "publishedAt",
                "is required for a published or scheduled article",
            ));
        }
        if (self.status == ArticleStatus::Killed) != self.kill.is_some() {
            return Err(ValidationError::new(
                "status",
                "a story is killed, and restored, only with killArticle and restoreArticle",
            ));
        }
        if let (Some(expires), Some(published)) = (self.expires_at, self.published_at)
            && expires <= published
        {
            return Err(ValidationError::new(
                "expiresAt",
                "must be after the publish time",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for topic in self.primary_topic.iter().chain(&self.topics) {
            if !seen.insert(topic) {
                return Err(ValidationError::new(
                    "topics",
                    format!("`{topic}` is listed twice"),
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for author in &self.authors {
            if !seen.insert(author) {
                return Err(ValidationError::new(
                    "authors",
                    format!("`{author}` is listed twice"),
                ));
            }
        }
        if self.topics.len() > 20 || self.authors.len() > 20 {
            return Err(ValidationError::new(
                "topics",
                "at most 20 topics and 20 authors",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A minimal article in `status`, live from `published_at`, not syndicatable.
    pub(crate) fn article(status: ArticleStatus, published_at: Option<DateTime<Utc>>) -> Article {
        let created = Utc.with_ymd_and_hms(2025, 5, 1, 0, 0, 0).unwrap();
        Article {
            id: Uuid::now_v7(),
            slug: Slug::parse("a-story").unwrap(),
            headline: Headline::parse("A story").unwrap(),
            dek: Dek::parse("In short.").unwrap(),
            word_count: 0,
            source: Source::parse("News1").unwrap(),
            language: Language::english(),
            canonical_url: None,
            hero_image: None,
            primary_topic_id: None,
            status,
            published_at,
            created_at: created,
            updated_at: created,
            substantive_updated_at: None,
            syndication: Syndication::default(),
            expires_at: None,
            kill: None,
            version: 1,
        }
    }

    #[test]
    fn status_round_trips_and_transitions() {
        for s in [
            ArticleStatus::Draft,
            ArticleStatus::Scheduled,
            ArticleStatus::Published,
            ArticleStatus::Archived,
            ArticleStatus::Killed,
        ] {
            assert_eq!(ArticleStatus::parse(s.as_str()).unwrap(), s);
        }
        assert!(ArticleStatus::Draft.can_become(ArticleStatus::Published));
        assert!(!ArticleStatus::Published.can_become(ArticleStatus::Scheduled));
        assert!(ArticleStatus::parse("deleted").is_err());
    }

    #[test]
    fn embargo_holds_to_the_second() {
        let until = Utc.with_ymd_and_hms(2025, 5, 15, 12, 0, 0).unwrap();
        let policy = Syndication {
            syndicatable: true,
            embargo_until: Some(until),
        };
        assert!(!policy.full_text_allowed_at(until - chrono::Duration::seconds(1)));
        assert!(policy.full_text_allowed_at(until));
        assert!(
            !Syndication {
                syndicatable: false,
                embargo_until: None
            }
            .full_text_allowed_at(until)
        );
    }
}
