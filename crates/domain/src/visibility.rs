//! Who is asking, and what they may see.

use chrono::{DateTime, Utc};

use crate::Article;

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
}

impl Viewer {
    /// Whether this viewer works in the newsroom (sees drafts, may write).
    pub fn is_staff(&self) -> bool {
        matches!(self, Self::Editor { .. } | Self::Admin { .. })
    }

    /// The filter every article query applies for this viewer at `now`.
    pub fn visibility(&self, now: DateTime<Utc>) -> Visibility {
        if self.is_staff() {
            Visibility::Everything
        } else {
            Visibility::PublicAt(now)
        }
    }

    /// Whether this viewer may see `article` at `now`.
    pub fn may_see(&self, article: &Article, now: DateTime<Utc>) -> bool {
        self.is_staff() || article.is_public_at(now)
    }
}
