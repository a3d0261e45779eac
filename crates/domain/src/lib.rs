//! Gazette's domain: the types and rules of a news publication, with no I/O.
//!
//! Values that carry rules are types ([`Slug`], [`Headline`], …) whose constructors
//! validate; once a function holds one, it never checks it again.

pub mod article;
pub mod body;
pub mod changes;
pub mod editorial;
pub mod error;
pub mod live;
pub mod pagination;
pub mod people;
pub mod related;
pub mod search;
pub mod syndication;
pub mod text;
pub mod time;
pub mod trending;
pub mod values;
pub mod visibility;
pub mod webhooks;

#[cfg(test)]
mod pattern_tests;

pub use article::{Article, ArticleState, ArticleStatus, HeroImage, Kill, Syndication};
pub use body::{Block, Body};
pub use editorial::{
    ArticlePatch, Correction, EditError, FieldChange, FieldValue, Revision, RevisionAction,
    TransitionError,
};
pub use error::ValidationError;
pub use pagination::{
    ArticleCursor, ArticleOrder, CursorKey, Direction, EditedCursor, MAX_PAGE_SIZE, OffsetCursor,
    PageRequest, SlugCursor,
};
pub use people::{Author, AuthorPatch, NewAuthor, NewTopic, Topic, TopicPatch};
pub use values::{CanonicalUrl, Dek, Headline, KillReason, Language, Name, Slug, Source};
pub use visibility::{SYNDICATION_SCOPE, Viewer, Visibility};
