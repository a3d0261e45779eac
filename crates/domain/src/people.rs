//! Topics and authors.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Name, Slug};

/// A topic or a section (a topic with no parent that others hang from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// Stable id.
    pub id: Uuid,
    /// Unique slug.
    pub slug: Slug,
    /// Display name.
    pub name: Name,
    /// What the topic covers.
    pub description: String,
    /// The section it belongs to.
    pub parent_id: Option<Uuid>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// What it takes to create a topic.
#[derive(Debug, Clone)]
pub struct NewTopic {
    /// Unique slug.
    pub slug: Slug,
    /// Display name.
    pub name: Name,
    /// Description (may be empty).
    pub description: String,
    /// Parent topic's slug.
    pub parent: Option<Slug>,
}

/// A writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// Stable id.
    pub id: Uuid,
    /// Unique slug.
    pub slug: Slug,
    /// Display name.
    pub name: Name,
    /// Short biography.
    pub bio: String,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// What it takes to create an author.
#[derive(Debug, Clone)]
pub struct NewAuthor {
    /// Unique slug.
    pub slug: Slug,
    /// Display name.
    pub name: Name,
    /// Biography (may be empty).
    pub bio: String,
}

/// A partial edit of a topic: given fields replace the stored ones.
#[derive(Debug, Clone, Default)]
pub struct TopicPatch {
    /// New slug.
    pub slug: Option<Slug>,
    /// New name.
    pub name: Option<Name>,
    /// New description.
    pub description: Option<String>,
    /// New parent (`Some(None)` makes it a section).
    pub parent: Option<Option<Slug>>,
}

/// A partial edit of an author: given fields replace the stored ones.
#[derive(Debug, Clone, Default)]
pub struct AuthorPatch {
    /// New slug.
    pub slug: Option<Slug>,
    /// New name.
    pub name: Option<Name>,
    /// New biography.
    pub bio: Option<String>,
}

/// Longest topic description or author biography, in characters.
pub const MAX_PROFILE_CHARS: usize = 5000;

/// Validates a description or biography: trimmed, at most [`MAX_PROFILE_CHARS`], multi-line
/// text (see [`crate::text`]).
pub fn profile_text(field: &str, raw: &str) -> Result<String, crate::ValidationError> {
    let text = raw.trim();
    if text.chars().count() > MAX_PROFILE_CHARS {
        return Err(crate::ValidationError::new(
            field,
            format!("must be at most {MAX_PROFILE_CHARS} characters"),
        ));
    }
    crate::text::check_characters(field, text, crate::text::TextRules::MULTI_LINE)?;
    Ok(text.to_owned())
}
