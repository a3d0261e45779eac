//! Gazette's outbound HTTP: the workspace's one TLS client stack ([`http`]), and the
//! followers of the change log that tell the outside world what changed: the WebSub publisher
//! ([`websub`]) pings the hub for each feed a change alters, the CDN purger ([`cdn`]) purges
//! the cache tags it alters. Both follow the log as an anonymous reader's live stream, with a
//! bounded coalescing set, a limit of requests in flight, timeouts and retries with backoff
//! ([`follow`]); neither is ever in the editor's way.

pub mod cdn;
pub mod follow;
pub mod http;
pub mod websub;

pub use follow::{Bounds, StartError};
