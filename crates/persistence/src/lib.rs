//! Gazette's storage: sea-orm entities and the queries the API needs, on SQLite or PostgreSQL.
//!
//! Persistence fetches; the domain decides. Every article query takes a
//! [`Visibility`](gazette_domain::Visibility) and applies it in SQL, so no caller can forget it.

mod articles;
mod changes;
mod convert;
mod editorial;
pub mod entities;
mod error;
mod freshness;
mod gate;
mod limit;
mod persisted;
mod related;
mod search;
mod seed;
mod seed_readership;
mod sitemaps;
mod store;
mod stored;
mod taxonomy;
mod views;
pub mod webhooks;

pub use articles::{ArticleFilter, ArticleList, LookedUp, LookupExtras, Page};
pub use changes::CHANGE_LOG_LOCK_KEY;
pub use editorial::{EditorName, IMPORT_BATCH, Save};
pub use error::{Conflict, StoreError, UniqueRule};
pub use freshness::{CONTENT_CHANNEL, ContentListener, ListenEvent};
pub use gate::{PoolStats, RequestShare, spawn_in_request};
pub use persisted::{QueryRegistration, TOUCH_AFTER};
pub use related::Candidates;
pub use search::{Hit, SearchFilter};
pub use seed::{SeedReport, seed_sample_content};
pub use seed_readership::{SAMPLE_READERSHIP, seed_sample_readership};
pub use sitemaps::{ArchiveEntry, ArchivePage};
pub use store::{Store, StoreOptions};
pub use views::{FlushReport, ViewCount};
