//! Partner document formats, each mapped from the use cases' articles in one place and
//! serialized by serde: IPTC ninjs 3.1 ([`ninjs`]) for partners and archives, and schema.org
//! `NewsArticle` as JSON-LD ([`jsonld`]) for page heads. The API crate serves them (REST
//! `?format=`, GraphQL `Article.structuredData`); nothing here knows HTTP or GraphQL.

pub mod jsonld;
pub mod ninjs;
