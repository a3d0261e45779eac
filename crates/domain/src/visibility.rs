//! Who is asking, and what they may see.

use chrono::{DateTime, Utc};

use crate::{Article, ArticleStatus};

/// The token scope that lets a partner republish full text.
pub const SYNDICATION_SCOPE: &str = "syndication";

/// The caller of a read, as authentication established it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Viewer {
    /// No token: a reader.
    #[default]
    Anonymous,
    /// A syndication partner.
    Partner {
        /// Token subject.
        sub: String,
        /// Granted scopes (`syndication`, …).
        scopes: Vec<String>,
    },
    /// A newsroom editor.
    Editor {
        /// Token subject.
        sub: String,
    },
    /// An administrator.
    Admin {
        /// Token subject.
        sub: String,
    },
}

/// Which articles a query may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Every article, whatever its status (editors).
    Everything,
    /// Only articles public at this instant.
    PublicAt(DateTime<Utc>),
    /// Only articles public at this instant whose syndication embargo, if any, has passed
    /// (partners: an embargoed story does not exist for them until its second comes).
    SyndicatedAt(DateTime<Utc>),
}

impl Visibility {
    /// Whether this filter admits `article`: the same rule the SQL filter applies.
    pub fn admits(self, article: &Article) -> bool {
        self.admits_parts(
            article.status,
            article.published_at,
            article.syndication.embargo_until,
            article.expires_at,
        )
    }

    /// Whether this filter admits an article with this stored status, publish time,
    /// syndication embargo and expiry: all the rule reads, so a read can decide from those
    /// columns alone before loading whole articles.
    pub fn admits_parts(
        self,
        status: ArticleStatus,
        published_at: Option<DateTime<Utc>>,
        embargo_until: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
    ) -> bool {
        let public_at = |now| crate::changes::public_at(status, published_at, expires_at, now);
        match self {
            Self::Everything => true,
            Self::PublicAt(now) => public_at(now),
            Self::SyndicatedAt(now) => public_at(now) && embargo_until.is_none_or(|at| at <= now),
        }
    }
}

impl Viewer {
    /// Whether this viewer works in the newsroom (sees drafts, may write).
    pub fn is_staff(&self) -> bool {
        matches!(self, Self::Editor { .. } | Self::Admin { .. })
    }

    /// Whether this viewer is a syndication partner (with or without scopes).
    pub fn is_partner(&self) -> bool {
        matches!(self, Self::Partner { .. })
    }

    /// Whether the token granted `scope` (only partners carry scopes).
    pub fn has_scope(&self, scope: &str) -> bool {
        match self {
            Self::Partner { scopes, .. } => scopes.iter().any(|s| s == scope),
            _ => false,
        }
    }

    /// The filter every article query applies for this viewer at `now`.
    pub fn visibility(&self, now: DateTime<Utc>) -> Visibility {
        match self {
            Self::Editor { .. } | Self::Admin { .. } => Visibility::Everything,
            Self::Partner { .. } => Visibility::SyndicatedAt(now),
            Self::Anonymous => Visibility::PublicAt(now),
        }
    }

    /// The filter of public lists (feeds, search, trending, related articles): what is public
    /// at `now`, embargoed stories left out for partners. Staff see these lists as readers do.
    pub fn public_visibility(&self, now: DateTime<Utc>) -> Visibility {
        match self {
            Self::Partner { .. } => Visibility::SyndicatedAt(now),
            _ => Visibility::PublicAt(now),
        }
    }

    /// Whether this viewer may see `article` at `now`.
    pub fn may_see(&self, article: &Article, now: DateTime<Utc>) -> bool {
        self.visibility(now).admits(article)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn embargo_hides_a_published_story_from_partners_to_the_second() {
        let mut story = article(ArticleStatus::Published, Some(at(8, 0, 0)));
        story.syndication = Syndication {
            syndicatable: true,
            embargo_until: Some(at(12, 0, 0)),
        };
        let reader = Viewer::Anonymous;
        let editor = Viewer::Editor { sub: "desk".into() };
        for viewer in [partner(&[]), partner(&[SYNDICATION_SCOPE])] {
            assert!(!viewer.may_see(&story, at(11, 59, 59)));
            assert!(viewer.may_see(&story, at(12, 0, 0)));
            assert!(!viewer.public_visibility(at(11, 59, 59)).admits(&story));
        }
        // The embargo is about syndication: readers and the newsroom are not held back.
        assert!(reader.may_see(&story, at(11, 0, 0)));
        assert!(editor.may_see(&story, at(11, 0, 0)));
        assert!(reader.public_visibility(at(11, 0, 0)).admits(&story));
    }

    #[test]
    fn partners_never_see_drafts_or_stories_not_yet_live() {
        let viewer = partner(&[SYNDICATION_SCOPE]);
        let draft = article(ArticleStatus::Draft, None);
        let later = article(ArticleStatus::Scheduled, Some(at(13, 0, 0)));
        let archived = article(ArticleStatus::Archived, Some(at(8, 0, 0)));
        for story in [&draft, &later, &archived] {
            assert!(!viewer.may_see(story, at(12, 0, 0)));
        }
        assert!(viewer.may_see(&later, at(13, 0, 0)));
    }

    #[test]
    fn staff_see_everything_but_public_lists_stay_public() {
        let editor = Viewer::Admin { sub: "root".into() };
        let draft = article(ArticleStatus::Draft, None);
        assert!(editor.may_see(&draft, at(12, 0, 0)));
        assert!(!editor.public_visibility(at(12, 0, 0)).admits(&draft));
    }

    #[test]
    fn expiry_and_kill_hide_a_story_from_everyone_but_staff_to_the_second() {
        let mut story = article(ArticleStatus::Published, Some(at(8, 0, 0)));
        story.expires_at = Some(at(12, 0, 0));
        for viewer in [Viewer::Anonymous, partner(&[SYNDICATION_SCOPE])] {
            assert!(viewer.may_see(&story, at(11, 59, 59)));
            assert!(!viewer.may_see(&story, at(12, 0, 0)));
            assert!(!viewer.public_visibility(at(12, 0, 0)).admits(&story));
        }
        let killed = article(ArticleStatus::Killed, Some(at(8, 0, 0)));
        assert!(!Viewer::Anonymous.may_see(&killed, at(9, 0, 0)));
        assert!(Viewer::Editor { sub: "desk".into() }.may_see(&killed, at(9, 0, 0)));
    }

    #[test]
    fn scopes_belong_to_partner_tokens() {
        assert!(partner(&["feeds", SYNDICATION_SCOPE]).has_scope(SYNDICATION_SCOPE));
        assert!(!partner(&["feeds"]).has_scope(SYNDICATION_SCOPE));
        assert!(!Viewer::Anonymous.has_scope(SYNDICATION_SCOPE));
    }
}
