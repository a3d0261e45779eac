//! The newsroom's rules: edits as patches, status changes, revisions and corrections.
//! Pure functions of their inputs and "now"; storage applies what they decide.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    ArticleState, ArticleStatus, Body, CanonicalUrl, Dek, Headline, HeroImage, Language, Slug,
    Source, Syndication, ValidationError,
};

/// A partial edit: each field given replaces the stored one; `None` keeps it. For nullable
/// fields the inner `Option` is the new value (`Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct ArticlePatch {
    /// New slug.
    pub slug: Option<Slug>,
    /// New headline.
    pub headline: Option<Headline>,
    /// New summary.
    pub dek: Option<Dek>,
    /// New body.
    pub body: Option<Body>,
    /// New source.
    pub source: Option<Source>,
    /// New language.
    pub language: Option<Language>,
    /// New canonical URL, or none.
    pub canonical_url: Option<Option<CanonicalUrl>>,
    /// New lead picture, or none.
    pub hero_image: Option<Option<HeroImage>>,
    /// New primary topic, or none.
    pub primary_topic: Option<Option<Slug>>,
    /// New further topics.
    pub topics: Option<Vec<Slug>>,
    /// New byline.
    pub authors: Option<Vec<Slug>>,
    /// New syndication flag.
    pub syndicatable: Option<bool>,
    /// New embargo, or none.
    pub embargo_until: Option<Option<DateTime<Utc>>>,
    /// New expiry, or none.
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

impl ArticlePatch {
    /// Whether the patch changes nothing at all.
    pub fn is_empty(&self) -> bool {
        self.slug.is_none()
            && self.headline.is_none()
            && self.dek.is_none()
            && self.body.is_none()
            && self.source.is_none()
            && self.language.is_none()
            && self.canonical_url.is_none()
            && self.hero_image.is_none()
            && self.primary_topic.is_none()
            && self.topics.is_none()
            && self.authors.is_none()
            && self.syndicatable.is_none()
            && self.embargo_until.is_none()
            && self.expires_at.is_none()
    }
}

impl ArticleState {
    /// The state with `patch` applied, checked as a whole.
    pub fn patched(&self, patch: ArticlePatch) -> Result<Self, ValidationError> {
        let mut next = self.clone();
        let ArticlePatch {
            slug,
            headline,
            dek,
            body,
            source,
            language,
            canonical_url,
            hero_image,
            primary_topic,
            topics,
            authors,
            syndicatable,
            embargo_until,
            expires_at,
        } = patch;
        if let Some(v) = slug {
            next.slug = v;
        }
        if let Some(v) = headline {
            next.headline = v;
        }
        if let Some(v) = dek {
            next.dek = v;
        }
        if let Some(v) = body {
            next.body = v;
        }
        if let Some(v) = source {
            next.source = v;
        }
        if let Some(v) = language {
            next.language = v;
        }
        if let Some(v) = canonical_url {
            next.canonical_url = v;
        }
        if let Some(v) = hero_image {
            next.hero_image = v;
        }
        if let Some(v) = primary_topic {
            next.primary_topic = v;
        }
        if let Some(v) = topics {
            next.topics = v;
        }
        if let Some(v) = authors {
            next.authors = v;
        }
        if let Some(v) = syndicatable {
            next.syndication.syndicatable = v;
        }
        if let Some(v) = embargo_until {
            next.syndication.embargo_until = v;
        }
        if let Some(v) = expires_at {
            next.expires_at = v;
        }
        // A topic named both primary and further is kept once, as primary.
        if let Some(primary) = &next.primary_topic {
            next.topics.retain(|t| t != primary);
        }
        next.check()?;
        Ok(next)
    }

    /// This state with `revision`'s text restored: headline, dek, body, source, language and
    /// lead picture (the words, their attribution and the picture that goes with them). The
    /// publication controls stay as they are now: status, publish time, slug, canonical URL,
    /// topics, authors, the syndication flag and the embargo. Restoring old words must never
    /// publish, unpublish, move, re-file, re-credit or lift an embargo on a story.
    ///
    /// The restored text is checked against today's input rules: a revision saved under older
    /// rules may hold characters refused since (errors name the field and the revision).
    pub fn restored_from(&self, revision: &Self) -> Result<Self, ValidationError> {
        let in_revision = |e: ValidationError| ValidationError {
            message: format!("{} (in the revision restored)", e.message),
            ..e
        };
        let recheck = || -> Result<(), ValidationError> {
            Headline::parse(revision.headline.as_str())?;
            Dek::parse(revision.dek.as_str())?;
            Source::parse(revision.source.as_str())?;
            revision.body.recheck()?;
            if let Some(hero) = &revision.hero_image {
                hero.clone().validated()?;
            }
            Ok(())
        };
        recheck().map_err(in_revision)?;
        let next = Self {
            headline: revision.headline.clone(),
            dek: revision.dek.clone(),
            body: revision.body.clone(),
            source: revision.source.clone(),
            language: revision.language.clone(),
            hero_image: revision.hero_image.clone(),
            ..self.clone()
        };
        next.check()?;
        Ok(next)
    }

    /// What differs from `self` to `next`, field by field, ordered by field name.
    pub fn diff(&self, next: &Self) -> Vec<FieldChange> {
        let mut changes: Vec<FieldChange> = self
            .fields()
            .into_iter()
            .zip(next.fields())
            .filter(|(before, after)| before != after)
            .map(|(before, after)| FieldChange { before, after })
            .collect();
        changes.sort_by_key(FieldChange::field);
        changes
    }

    /// Every field with its value, in declaration order.
    pub fn fields(&self) -> [FieldValue; 16] {
        use FieldValue as F;
        [
            F::Slug(self.slug.clone()),
            F::Headline(self.headline.clone()),
            F::Dek(self.dek.clone()),
            F::Body(self.body.clone()),
            F::Source(self.source.clone()),
            F::Language(self.language.clone()),
            F::CanonicalUrl(self.canonical_url.clone()),
            F::HeroImage(self.hero_image.clone()),
            F::PrimaryTopic(self.primary_topic.clone()),
            F::Topics(self.topics.clone()),
            F::Authors(self.authors.clone()),
            F::Status(self.status),
            F::PublishedAt(self.published_at),
            F::Syndication(self.syndication),
            F::ExpiresAt(self.expires_at),
            F::Kill(self.kill.clone()),
        ]
    }

    /// Refuses any save of a killed story but its restoration: until an admin restores it,
    /// nobody edits, corrects, publishes or archives it.
    pub fn check_not_killed(&self, action: RevisionAction) -> Result<(), TransitionError> {
        if self.status == ArticleStatus::Killed && action != RevisionAction::Reinstate {
            return Err(TransitionError {
                from: ArticleStatus::Killed,
                to: ArticleStatus::Killed,
            });
        }
        Ok(())
    }

    /// Kills a live or scheduled story at `now`, for `reason`.
    pub fn kill(
        &self,
        reason: crate::KillReason,
        now: DateTime<Utc>,
    ) -> Result<Self, TransitionError> {
        let from = ArticleStatus::effective(self.status, self.published_at, now);
        if !matches!(from, ArticleStatus::Published | ArticleStatus::Scheduled) {
            return Err(TransitionError {
                from,
                to: ArticleStatus::Killed,
            });
        }
        Ok(Self {
            status: ArticleStatus::Killed,
            kill: Some(crate::Kill { at: now, reason }),
            ..self.clone()
        })
    }

    /// Restores a killed story as it was: live again if its publish time has come, scheduled
    /// otherwise.
    pub fn reinstate(&self, now: DateTime<Utc>) -> Result<Self, TransitionError> {
        let to = match self.published_at {
            Some(at) if at > now => ArticleStatus::Scheduled,
            _ => ArticleStatus::Published,
        };
        if self.status != ArticleStatus::Killed {
            return Err(TransitionError {
                from: ArticleStatus::effective(self.status, self.published_at, now),
                to,
            });
        }
        Ok(Self {
            status: to,
            kill: None,
            ..self.clone()
        })
    }

    /// Publishes now. A first publication (or one replacing a future schedule) is dated `now`;
    /// re-publishing a story that was live before keeps its original date.
    pub fn publish(&self, now: DateTime<Utc>) -> Result<Self, TransitionError> {
        self.transition(ArticleStatus::Published, now)?;
        Ok(Self {
            status: ArticleStatus::Published,
            published_at: Some(match self.published_at {
                Some(at) if at <= now => at,
                _ => now,
            }),
            ..self.clone()
        })
    }

    /// Schedules publication at `at`, which must be in the future.
    pub fn schedule(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Self, EditError> {
        if at <= now {
            return Err(ValidationError::new(
                "at",
                "must be in the future; use publishArticle to publish now",
            )
            .into());
        }
        self.transition(ArticleStatus::Scheduled, now)?;
        Ok(Self {
            status: ArticleStatus::Scheduled,
            published_at: Some(at),
            ..self.clone()
        })
    }

    /// Takes a live or scheduled article back to draft. A past publish time is kept (so a
    /// re-publication keeps its date); a future one is dropped with the schedule.
    pub fn unpublish(&self, now: DateTime<Utc>) -> Result<Self, TransitionError> {
        let current = ArticleStatus::effective(self.status, self.published_at, now);
        if !matches!(current, ArticleStatus::Published | ArticleStatus::Scheduled) {
            return Err(TransitionError {
                from: current,
                to: ArticleStatus::Draft,
            });
        }
        Ok(Self {
            status: ArticleStatus::Draft,
            published_at: self.published_at.filter(|at| *at <= now),
            ..self.clone()
        })
    }

    /// Archives the article: it leaves every public list but is kept for the record.
    pub fn archive(&self, now: DateTime<Utc>) -> Result<Self, TransitionError> {
        self.transition(ArticleStatus::Archived, now)?;
        Ok(Self {
            status: ArticleStatus::Archived,
            published_at: self.published_at.filter(|at| *at <= now),
            ..self.clone()
        })
    }

    fn transition(&self, to: ArticleStatus, now: DateTime<Utc>) -> Result<(), TransitionError> {
        let from = ArticleStatus::effective(self.status, self.published_at, now);
        if from.can_become(to) {
            Ok(())
        } else {
            Err(TransitionError { from, to })
        }
    }
}

/// A status change the life-cycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct TransitionError {
    /// The status it is in (as of now).
    pub from: ArticleStatus,
    /// The status asked for.
    pub to: ArticleStatus,
}

impl TransitionError {
    fn describe(&self) -> String {
        if self.from == ArticleStatus::Killed {
            "the article is killed: nothing may change it until an admin restores it \
             (restoreArticle)"
                .to_owned()
        } else {
            format!(
                "a {} article cannot become {}",
                self.from.as_str(),
                self.to.as_str()
            )
        }
    }
}

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// An input broke a rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The status change is not allowed.
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

/// One field of an [`ArticleState`] with its value: what a revision's changes hold.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// `slug`.
    Slug(Slug),
    /// `headline`.
    Headline(Headline),
    /// `dek`.
    Dek(Dek),
    /// `body`.
    Body(Body),
    /// `source`.
    Source(Source),
    /// `language`.
    Language(Language),
    /// `canonicalUrl`.
    CanonicalUrl(Option<CanonicalUrl>),
    /// `heroImage`.
    HeroImage(Option<HeroImage>),
    /// `primaryTopic`.
    PrimaryTopic(Option<Slug>),
    /// `topics`.
    Topics(Vec<Slug>),
    /// `authors`.
    Authors(Vec<Slug>),
    /// `status`.
    Status(ArticleStatus),
    /// `publishedAt`.
    PublishedAt(Option<DateTime<Utc>>),
    /// `syndication`.
    Syndication(Syndication),
    /// `expiresAt`.
    ExpiresAt(Option<DateTime<Utc>>),
    /// `kill`: the takedown, while killed.
    Kill(Option<crate::Kill>),
}

impl FieldValue {
    /// The field, as clients name it (`headline`, `body`, `publishedAt`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Slug(_) => "slug",
            Self::Headline(_) => "headline",
            Self::Dek(_) => "dek",
            Self::Body(_) => "body",
            Self::Source(_) => "source",
            Self::Language(_) => "language",
            Self::CanonicalUrl(_) => "canonicalUrl",
            Self::HeroImage(_) => "heroImage",
            Self::PrimaryTopic(_) => "primaryTopic",
            Self::Topics(_) => "topics",
            Self::Authors(_) => "authors",
            Self::Status(_) => "status",
            Self::PublishedAt(_) => "publishedAt",
            Self::Syndication(_) => "syndication",
            Self::ExpiresAt(_) => "expiresAt",
            Self::Kill(_) => "kill",
        }
    }
}

/// One field's change between two revisions: the same field before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    /// Its value before.
    pub before: FieldValue,
    /// Its value after.
    pub after: FieldValue,
}

impl FieldChange {
    /// The field, as clients name it.
    pub fn field(&self) -> &'static str {
        self.after.name()
    }
}

/// What a save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionAction {
    /// Created as a draft.
    Create,
    /// Content edited.
    Update,
    /// Published.
    Publish,
    /// Scheduled.
    Schedule,
    /// Back to draft.
    Unpublish,
    /// Archived.
    Archive,
    /// An earlier revision's content restored.
    Restore,
    /// Killed (a takedown).
    Kill,
    /// A killed story restored by an admin.
    Reinstate,
}

impl RevisionAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Publish => "publish",
            Self::Schedule => "schedule",
            Self::Unpublish => "unpublish",
            Self::Archive => "archive",
            Self::Restore => "restore",
            Self::Kill => "kill",
            Self::Reinstate => "reinstate",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        [
            Self::Create,
            Self::Update,
            Self::Publish,
            Self::Schedule,
            Self::Unpublish,
            Self::Archive,
            Self::Restore,
            Self::Kill,
            Self::Reinstate,
        ]
        .into_iter()
        .find(|a| a.as_str() == raw)
        .ok_or_else(|| ValidationError::new("action", format!("unknown action `{raw}`")))
    }
}

/// An article as one save left it.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// The article.
    pub article_id: Uuid,
    /// The article's version after this save (1 for the creation).
    pub version: i32,
    /// Who saved (token subject).
    pub editor: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// What kind of save.
    pub action: RevisionAction,
    /// Field-level changes from the previous revision.
    pub changes: Vec<FieldChange>,
    /// The whole state after the save.
    pub state: ArticleState,
}

impl Revision {
    /// This revision without any body text (the state's body emptied, body changes dropped):
    /// what an editor who is not an admin sees of a killed story's history.
    pub fn without_body(self) -> Self {
        Self {
            changes: self
                .changes
                .into_iter()
                .filter(|c| !matches!(c.after, FieldValue::Body(_)))
                .collect(),
            state: ArticleState {
                body: Body::default(),
                ..self.state
            },
            ..self
        }
    }
}

/// A public note that a published article was corrected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// Stable id.
    pub id: Uuid,
    /// The corrected article.
    pub article_id: Uuid,
    /// When the correction was made.
    pub created_at: DateTime<Utc>,
    /// What was wrong and what is right now.
    pub text: String,
}

/// Longest correction text, in characters.
pub const MAX_CORRECTION_CHARS: usize = 2000;

/// Validates a correction's text: 1 to 2000 characters after trimming, multi-line text with
/// something visible (see [`crate::text`]).
pub fn correction_text(raw: &str) -> Result<String, ValidationError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(ValidationError::new("text", "must not be empty"));
    }
    if text.chars().count() > MAX_CORRECTION_CHARS {
        return Err(ValidationError::new(
            "text",
            format!("must be at most {MAX_CORRECTION_CHARS} characters"),
        ));
    }
    crate::text::check_characters("text", text, crate::text::TextRules::MULTI_LINE)?;
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Block;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 5, 15, 9, 0, 0).unwrap()
    }

    fn draft() -> ArticleState {
        ArticleState {
            slug: Slug::parse("a-story").unwrap(),
            headline: Headline::parse("A story").unwrap(),
            dek: Dek::parse("").unwrap(),
            body: Body::new(vec![Block::Paragraph {
                text: "Words.".into(),
            }])
            .unwrap(),
            source: Source::parse("Desk").unwrap(),
            language: Language::english(),
            canonical_url: None,
            hero_image: None,
            primary_topic: Some(Slug::parse("world").unwrap()),
            topics: vec![Slug::parse("asia").unwrap()],
            authors: vec![],
            status: ArticleStatus::Draft,
            published_at: None,
            syndication: Syndication::default(),
            expires_at: None,
            kill: None,
        }
    }

    #[test]
    fn a_killed_story_takes_no_save_until_reinstated() {
        let live = draft().publish(now()).unwrap();
        let reason = crate::KillReason::parse("Court order").unwrap();
        let killed = live.kill(reason.clone(), now()).unwrap();
        assert_eq!(killed.status, ArticleStatus::Killed);
        assert_eq!(killed.kill.as_ref().map(|k| &k.reason), Some(&reason));
        assert!(killed.kill(reason.clone(), now()).is_err());
        assert!(
            draft().kill(reason, now()).is_err(),
            "only live stories are killed"
        );
        let refused = killed.check_not_killed(RevisionAction::Update).unwrap_err();
        assert!(refused.to_string().contains("restores it"));
        assert!(killed.check_not_killed(RevisionAction::Reinstate).is_ok());
        let back = killed.reinstate(now()).unwrap();
        assert_eq!(back, live);
        assert!(live.reinstate(now()).is_err());
    }

    #[test]
    fn expiry_must_follow_publication() {
        let live = draft().publish(now()).unwrap();
        let patch = |at| ArticlePatch {
            expires_at: Some(Some(at)),
            ..ArticlePatch::default()
        };
        assert_eq!(live.patched(patch(now())).unwrap_err().field, "expiresAt");
        let expiring = live.patched(patch(now() + Duration::hours(1))).unwrap();
        let fields: Vec<_> = live
            .diff(&expiring)
            .iter()
            .map(FieldChange::field)
            .collect();
        assert_eq!(fields, ["expiresAt"]);
    }

    #[test]
    fn patch_replaces_only_given_fields_and_diff_names_them() {
        let before = draft();
        let after = before
            .patched(ArticlePatch {
                headline: Some(Headline::parse("A better story").unwrap()),
                canonical_url: Some(Some(
                    CanonicalUrl::parse_field("canonicalUrl", "https://example.com/a").unwrap(),
                )),
                ..ArticlePatch::default()
            })
            .unwrap();
        assert_eq!(after.slug, before.slug);
        let fields: Vec<_> = before.diff(&after).iter().map(FieldChange::field).collect();
        assert_eq!(fields, ["canonicalUrl", "headline"]);
        assert_eq!(
            before.diff(&after)[1].before,
            FieldValue::Headline(before.headline.clone())
        );
        assert!(after.diff(&after).is_empty());
    }

    #[test]
    fn patch_making_primary_topic_a_further_one_keeps_it_once() {
        let after = draft()
            .patched(ArticlePatch {
                primary_topic: Some(Some(Slug::parse("asia").unwrap())),
                ..ArticlePatch::default()
            })
            .unwrap();
        assert!(after.topics.is_empty());
    }

    #[test]
    fn first_publication_is_dated_now_and_republication_keeps_the_date() {
        let live = draft().publish(now()).unwrap();
        assert_eq!(live.published_at, Some(now()));
        let later = now() + Duration::days(2);
        let pulled = live.unpublish(later).unwrap();
        assert_eq!(pulled.status, ArticleStatus::Draft);
        assert_eq!(pulled.published_at, Some(now()));
        assert_eq!(pulled.publish(later).unwrap().published_at, Some(now()));
        assert_eq!(
            live.publish(later).unwrap_err(),
            TransitionError {
                from: ArticleStatus::Published,
                to: ArticleStatus::Published
            }
        );
    }

    #[test]
    fn schedule_needs_a_future_time_and_goes_live_by_itself() {
        let err = draft().schedule(now(), now()).unwrap_err();
        assert!(matches!(err, EditError::Invalid(ref e) if e.field == "at"));
        let at = now() + Duration::hours(1);
        let scheduled = draft().schedule(at, now()).unwrap();
        assert_eq!(scheduled.status, ArticleStatus::Scheduled);
        // Once its time has come it is published: scheduling again is refused, unpublishing works.
        let after = at + Duration::seconds(1);
        assert!(matches!(
            scheduled.schedule(after + Duration::hours(1), after),
            Err(EditError::Transition(TransitionError {
                from: ArticleStatus::Published,
                ..
            }))
        ));
        // Before its time, cancelling drops the future date.
        let cancelled = scheduled.unpublish(now()).unwrap();
        assert_eq!(cancelled.published_at, None);
        assert_eq!(scheduled.unpublish(after).unwrap().published_at, Some(at));
    }

    #[test]
    fn drafts_cannot_be_unpublished_and_archives_stay_archived() {
        assert!(draft().unpublish(now()).is_err());
        let archived = draft().publish(now()).unwrap().archive(now()).unwrap();
        assert_eq!(archived.status, ArticleStatus::Archived);
        assert!(archived.archive(now()).is_err());
        assert!(archived.publish(now()).is_ok());
    }

    #[test]
    fn restoring_brings_back_text_not_publication_controls() {
        let old = draft()
            .patched(ArticlePatch {
                headline: Some(Headline::parse("Old").unwrap()),
                dek: Some(Dek::parse("Old dek").unwrap()),
                source: Some(Source::parse("Old desk").unwrap()),
                ..ArticlePatch::default()
            })
            .unwrap();
        let embargo = now() + Duration::hours(6);
        let live = draft()
            .patched(ArticlePatch {
                headline: Some(Headline::parse("New").unwrap()),
                slug: Some(Slug::parse("new-slug").unwrap()),
                canonical_url: Some(Some(
                    CanonicalUrl::parse_field("canonicalUrl", "https://example.com/new").unwrap(),
                )),
                primary_topic: Some(Some(Slug::parse("asia").unwrap())),
                topics: Some(vec![]),
                authors: Some(vec![Slug::parse("kim").unwrap()]),
                syndicatable: Some(true),
                embargo_until: Some(Some(embargo)),
                ..ArticlePatch::default()
            })
            .unwrap()
            .publish(now())
            .unwrap();
        let restored = live.restored_from(&old).unwrap();
        assert_eq!(restored.headline.as_str(), "Old");
        assert_eq!(restored.dek.as_str(), "Old dek");
        assert_eq!(restored.source.as_str(), "Old desk");
        assert_eq!(restored.status, ArticleStatus::Published);
        assert_eq!(restored.published_at, Some(now()));
        assert_eq!(restored.slug, live.slug);
        assert_eq!(restored.canonical_url, live.canonical_url);
        assert_eq!(restored.primary_topic, live.primary_topic);
        assert_eq!(restored.topics, live.topics);
        assert_eq!(restored.authors, live.authors);
        assert_eq!(restored.syndication, live.syndication);
        assert_eq!(restored.syndication.embargo_until, Some(embargo));
    }

    #[test]
    fn restoring_text_refused_since_is_bad_input() {
        let mut old = draft();
        // As a revision saved before the character rules reads back.
        old.headline = Headline::from_stored("Old\u{FFFE}".to_owned());
        let err = draft().restored_from(&old).unwrap_err();
        assert_eq!(err.field, "headline");
        assert!(err.message.contains("revision"), "{}", err.message);
    }

    #[test]
    fn correction_text_is_bounded() {
        assert_eq!(
            correction_text("  Fixed a name. ").unwrap(),
            "Fixed a name."
        );
        assert_eq!(correction_text(" ").unwrap_err().field, "text");
        assert!(correction_text(&"x".repeat(2001)).is_err());
    }

    #[test]
    fn actions_round_trip() {
        for a in [
            RevisionAction::Create,
            RevisionAction::Update,
            RevisionAction::Publish,
            RevisionAction::Schedule,
            RevisionAction::Unpublish,
            RevisionAction::Archive,
            RevisionAction::Restore,
        ] {
            assert_eq!(RevisionAction::parse(a.as_str()).unwrap(), a);
        }
    }
}
