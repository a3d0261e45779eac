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
