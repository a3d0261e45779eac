//! The OpenAPI schemas of the feed and sitemap routes' inputs and documents, built from the
//! constants and types that check and write them: the `limit` range and default, the
//! `content` members, the `{file}` name patterns, and each XML document's root element.

use std::borrow::Cow;

use gazette_domain::syndication::{
    ARCHIVE_SITEMAP_FILE_PATTERN, DEFAULT_FEED_ITEMS, FeedContent, MAX_FEED_ITEMS,
    TOPIC_FEED_FILE_PATTERN,
};
use gazette_domain::values::MAX_SLUG_LEN;
use serde::Deserialize;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::xml::XmlBuilder;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// The number of items a feed request asks for: 1 to [`MAX_FEED_ITEMS`], default
/// [`DEFAULT_FEED_ITEMS`].
pub struct FeedSize;

impl PartialSchema for FeedSize {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(1))
            .maximum(Some(MAX_FEED_ITEMS))
            .default(Some(DEFAULT_FEED_ITEMS.into()))
            .into()
    }
}

impl ToSchema for FeedSize {}

/// What each item of a feed carries (`?content=`).
// The wire names of the domain's explicit `FeedContent` requests; leaving the parameter out
// asks for the domain's `AsGranted`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = FeedContent)]
pub enum FeedContentJson {
    /// Full text, explicitly: refused with 401 without a token, 403 with a token that can never
    /// have it (a partner's without the `syndication` scope).
    Full,
    /// Summaries only (the dek), whoever asks.
    Summary,
}

impl From<FeedContentJson> for FeedContent {
    fn from(content: FeedContentJson) -> Self {
        match content {
            FeedContentJson::Full => Self::Full,
            FeedContentJson::Summary => Self::Summary,
        }
    }
}

/// A topic feed's file name: the schema `TopicFeedFile`, which
/// [`gazette_domain::syndication::topic_feed_file`] accepts exactly.
pub struct TopicFeedFile;

impl PartialSchema for TopicFeedFile {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!(
                "A topic's slug and the feed's format: `{{slug}}.atom`, `{{slug}}.rss` or \
                 `{{slug}}.json`. A name of this shape that names no topic (a stem longer than \
                 a slug's {MAX_SLUG_LEN} characters, say) is answered 404."
            )))
            .pattern(Some(TOPIC_FEED_FILE_PATTERN))
            .examples(["korean-peninsula.atom"])
            .into()
    }
}

impl ToSchema for TopicFeedFile {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TopicFeedFile")
    }
}

/// A page of the archive sitemap: the schema `ArchiveSitemapFile`, which
/// [`gazette_domain::syndication::archive_sitemap_page`] accepts exactly.
pub struct ArchiveSitemapFile;

impl PartialSchema for ArchiveSitemapFile {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "`articles-{n}.xml`, page `n` from 1 (no leading zero), as the sitemap index \
                 lists them. A page past the end of the archive is answered 404.",
            ))
            .pattern(Some(ARCHIVE_SITEMAP_FILE_PATTERN))
            .examples(["articles-1.xml"])
            .into()
    }
}

impl ToSchema for ArchiveSitemapFile {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ArchiveSitemapFile")
    }
}

/// An XML document, named by its root element (OpenAPI's `xml` object): to a JSON client it is
/// text.
fn xml_document(
    description: &'static str,
    root: &'static str,
    namespace: Option<&'static str>,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .xml(Some(
            XmlBuilder::new()
                .name(Some(root))
                .namespace(namespace)
                .build(),
        ))
        .into()
}

/// The sitemaps.org namespace of `urlset` and `sitemapindex`.
const SITEMAP_NAMESPACE: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// Declares a named XML document schema.
macro_rules! xml_schema {
    ($(#[$doc:meta])* $name:ident, $description:expr, $root:expr, $namespace:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                xml_document($description, $root, $namespace)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

xml_schema!(
    /// An Atom 1.0 feed.
    AtomFeed,
    "An Atom 1.0 feed (RFC 4287): `<feed xmlns=\"http://www.w3.org/2005/Atom\">`, one `entry` \
     an article, newest first.",
    "feed",
    Some("http://www.w3.org/2005/Atom")
);
xml_schema!(
    /// An RSS 2.0 feed.
    RssFeed,
    "An RSS 2.0 feed: `<rss version=\"2.0\">` with one `channel`, one `item` an article, \
     newest first.",
    "rss",
    None
);
xml_schema!(
    /// A sitemap `urlset`.
    SitemapUrlset,
    "A sitemap (sitemaps.org 0.9): `<urlset>` of `url`s, with Google News' `news:` extension \
     in the news sitemap.",
    "urlset",
    Some(SITEMAP_NAMESPACE)
);
xml_schema!(
    /// A sitemap index.
    SitemapIndex,
    "A sitemap index (sitemaps.org 0.9): `<sitemapindex>` of `sitemap`s, each a page of the \
     archive with its `lastmod`.",
    "sitemapindex",
    Some(SITEMAP_NAMESPACE)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::rest::params::enum_param;

    #[test]
    fn the_content_parameter_takes_its_members_in_any_case_and_nothing_else() {
        assert!(matches!(
            enum_param::<FeedContentJson>("content", "Full").map(FeedContent::from),
            Ok(FeedContent::Full)
        ));
        assert!(matches!(
            enum_param::<FeedContentJson>("content", "summary").map(FeedContent::from),
            Ok(FeedContent::Summary)
        ));
        for refused in ["", " ", " full", "everything"] {
            let error = enum_param::<FeedContentJson>("content", refused).unwrap_err();
            assert_eq!(error.field, "content", "{refused:?}");
            assert_eq!(error.message, "must be one of full, summary");
        }
    }
}
