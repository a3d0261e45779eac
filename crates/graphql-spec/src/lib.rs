//! The parts of a GraphQL server async-graphql 7 leaves out, for any schema: the document
//! budget checked before a document expands ([`budget`]), the cost limit with a shared batch
//! budget ([`cost`]), the validation rules it skips ([`spec_checks`]), and the response
//! completed as the spec orders it ([`order`]), all read against the schema's own SDL
//! ([`shape`]). Nothing here knows Gazette's schema, storage or HTTP: the adapters in
//! `gazette-api` call it around each request.

pub mod budget;
pub mod cost;
pub mod operation;
pub mod order;
pub mod shape;
pub mod spec_checks;

pub use budget::{DocumentLimits, LimitExceeded};
pub use order::{SelectionOrder, mark_objects};
