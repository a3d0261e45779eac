//! The schemas of REST inputs (query and path parameters, the view beacon's body), built from
//! the constants and types that check them, so the OpenAPI document states exactly the rules
//! the handlers enforce: a slug's pattern and length, each page size's range, the enums'
//! members (the handlers parse the same wire enums the schemas list), the cursor alphabet.

use std::borrow::Cow;

use gazette_domain::changes::{DEFAULT_CHANGES_PAGE, MAX_CHANGES_PAGE};
use gazette_domain::pagination::CURSOR_PATTERN;
use gazette_domain::search::{BALANCED_QUOTES_PATTERN, MAX_CLAUSES, MAX_QUERY_CHARS};
use gazette_domain::trending::{DEFAULT_TRENDING, MAX_TRENDING};
use gazette_domain::values::{MAX_SLUG_LEN, SLUG_PATTERN};
use gazette_domain::{ArticleOrder, MAX_PAGE_SIZE, ValidationError};
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{
    KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr, Schema};

use gazette_app::views::MAX_VISITOR_ID_LEN;
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// A slug in a path or a query: the schema `Slug`, which [`gazette_domain::Slug::parse`]
/// accepts exactly.
pub struct SlugSchema;

impl PartialSchema for SlugSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A URL-safe name: lowercase ASCII letters and digits in words joined by single \
                 hyphens.",
            ))
            .min_length(Some(1))
            .max_length(Some(MAX_SLUG_LEN))
            .pattern(Some(SLUG_PATTERN))
            .examples(["korean-peninsula"])
            .into()
    }
}

impl ToSchema for SlugSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Slug")
    }
}

/// An opaque page position: the schema `Cursor`, the alphabet every cursor is written in.
pub struct CursorSchema;

impl PartialSchema for CursorSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Opaque: pass back a cursor the same list gave out (`startCursor`, `endCursor`, \
                 `nextCursor`). Any other value, though it matches the pattern, is answered 400.",
            ))
            .pattern(Some(CURSOR_PATTERN))
            .into()
    }
}

impl ToSchema for CursorSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Cursor")
    }
}

/// A whole number in `MIN..=MAX` with an optional default: the schema of a page size.
fn count(min: i32, max: i32, default: Option<i64>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(min))
        .maximum(Some(max))
        .default(default.map(Into::into))
        .into()
}

/// The page size of a Relay-style list (`first`, `last`): 0 to [`MAX_PAGE_SIZE`].
pub struct PageSize;

impl PartialSchema for PageSize {
    fn schema() -> RefOr<Schema> {
        count(0, MAX_PAGE_SIZE, None)
    }
}

impl ToSchema for PageSize {}

/// The length of a trending list: 1 to [`MAX_TRENDING`], default [`DEFAULT_TRENDING`].
pub struct TrendingSize;

impl PartialSchema for TrendingSize {
    fn schema() -> RefOr<Schema> {
        count(1, MAX_TRENDING, Some(DEFAULT_TRENDING.into()))
    }
}

impl ToSchema for TrendingSize {}

/// The size of a page of changes: 1 to [`MAX_CHANGES_PAGE`], default [`DEFAULT_CHANGES_PAGE`].
pub struct ChangesSize;

impl PartialSchema for ChangesSize {
    fn schema() -> RefOr<Schema> {
        count(
            1,
            MAX_CHANGES_PAGE,
            i64::try_from(DEFAULT_CHANGES_PAGE).ok(),
        )
    }
}

impl ToSchema for ChangesSize {}

/// The length of a webhook delivery log read: 1 to [`gazette_app::webhooks::MAX_LOG`], which
/// is also the default.
pub struct WebhookLogSize;

impl PartialSchema for WebhookLogSize {
    fn schema() -> RefOr<Schema> {
        let most = gazette_app::webhooks::MAX_LOG;
        count(
            1,
            i32::try_from(most).unwrap_or(i32::MAX),
            i64::try_from(most).ok(),
        )
    }
}

impl ToSchema for WebhookLogSize {}

/// A search query: at most [`MAX_QUERY_CHARS`] characters, quotes in pairs.
pub struct SearchText;

impl PartialSchema for SearchText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!(
                "Words that must all match, `\"quoted phrases\"` and `prefix*` words. Two rules \
                 the pattern cannot state are answered 400 as well: a prefix needs at least two \
                 letters (`ko*`, not `k*`), and at most {MAX_CLAUSES} distinct words and phrases \
                 count (common English words like `the` are not counted)."
            )))
            .max_length(Some(MAX_QUERY_CHARS))
            .pattern(Some(BALANCED_QUOTES_PATTERN))
            .examples(["korea \"trade talks\" sanction*"])
            .into()
    }
}

impl ToSchema for SearchText {}

/// A character that is not white space as [`str::trim`] sees it (Unicode `White_Space`), in the
/// common subset of ECMA-262 and Rust's `regex` (ECMA's `\s` differs: it has U+FEFF and lacks
/// U+0085). A visitor id is trimmed, so it must hold one.
pub const NOT_WHITE_SPACE_PATTERN: &str =
    "[^\\t-\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]";

/// The schema of the view beacon's body: exactly one of `articleId` and `slug` (the other
/// absent or null), as [`gazette_app::views::ArticleRef::from_parts`] reads them, and `visitorId`
/// as `record_view` checks it (trimmed, not blank, at most [`MAX_VISITOR_ID_LEN`]
/// characters). Other members are ignored, so allowed.
pub fn beacon_schema() -> RefOr<Schema> {
    let null = || ObjectBuilder::new().schema_type(Type::Null);
    let visitor = || {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .min_length(Some(1))
            .max_length(Some(MAX_VISITOR_ID_LEN))
            .pattern(Some(NOT_WHITE_SPACE_PATTERN))
            .description(Some(format!(
                "An opaque id of the reader's browser, for dedupe: up to \
                 {MAX_VISITOR_ID_LEN} characters, trimmed, not blank."
            )))
    };
    let by_id = ObjectBuilder::new()
        .title(Some("By id"))
        .property(
            "articleId",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                .description(Some("The article's id.")),
        )
        .required("articleId")
        .property("slug", null())
        .property("visitorId", visitor());
    let by_slug = ObjectBuilder::new()
        .title(Some("By slug"))
        .property("articleId", null())
        .property("slug", Ref::from_schema_name(SlugSchema::name()))
        .required("slug")
        .property("visitorId", visitor());
    OneOfBuilder::new()
        .description(Some(
            "A read of an article: name it by exactly one of `articleId` and `slug` (an earlier \
             slug of a renamed article counts too).",
        ))
        .item(by_id)
        .item(by_slug)
        .into()
}

/// How far back a trending list looks.
// The wire names of the domain's `TrendingWindow`, converted both ways below.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = TrendingWindow)]
pub enum WindowJson {
    /// The last 24 hours.
    Day,
    /// The last 7 days (the default).
    #[default]
    Week,
    /// The last 30 days.
    Month,
}

impl From<WindowJson> for gazette_domain::trending::TrendingWindow {
    fn from(window: WindowJson) -> Self {
        match window {
            WindowJson::Day => Self::Day,
            WindowJson::Week => Self::Week,
            WindowJson::Month => Self::Month,
        }
    }
}

impl From<gazette_domain::trending::TrendingWindow> for WindowJson {
    // Both ways, so a window added to the domain cannot be left out of the wire enum.
    fn from(window: gazette_domain::trending::TrendingWindow) -> Self {
        use gazette_domain::trending::TrendingWindow as W;
        match window {
            W::Day => Self::Day,
            W::Week => Self::Week,
            W::Month => Self::Month,
        }
    }
}

/// Order of an article list.
// The wire names of the domain's `ArticleOrder`, converted both ways below.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ArticleOrderBy)]
pub enum OrderJson {
    /// Newest publish time first (the default).
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
}

impl From<OrderJson> for ArticleOrder {
    fn from(order: OrderJson) -> Self {
        match order {
            OrderJson::Newest => Self::Newest,
            OrderJson::Oldest => Self::Oldest,
        }
    }
}

impl From<ArticleOrder> for OrderJson {
    // Both ways, so an order added to the domain cannot be left out of the wire enum.
    fn from(order: ArticleOrder) -> Self {
        match order {
            ArticleOrder::Newest => Self::Newest,
            ArticleOrder::Oldest => Self::Oldest,
        }
    }
}

/// The document format of an article list or of `changes` (`?format=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ListFormat)]
pub enum ListFormatJson {
    /// Gazette's JSON (the default).
    #[default]
    Json,
    /// An array of IPTC ninjs 3.1 documents (`application/ninjs+json`); the next page is in
    /// the `Link` header (`rel="next"`).
    Ninjs,
}

/// `?format=` of an article list or `changes`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFormatParams {
    /// `json` (default) or `ninjs`, in any case.
    #[param(value_type = Option<ListFormatJson>, inline)]
    pub format: Option<String>,
}

impl ListFormatParams {
    /// The format asked for; anything else names `format`.
    pub fn parse(&self) -> Result<ListFormatJson, ValidationError> {
        self.format
            .as_deref()
            .map_or(Ok(ListFormatJson::Json), |raw| enum_param("format", raw))
    }
}

/// The document format of one article (`?format=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ArticleFormat)]
pub enum ArticleFormatJson {
    /// Gazette's JSON (the default).
    #[default]
    Json,
    /// An IPTC ninjs 3.1 document (`application/ninjs+json`).
    Ninjs,
    /// schema.org `NewsArticle` as JSON-LD (`application/ld+json`), for the page head.
    Jsonld,
}

/// `?format=` of one article.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleFormatParams {
    /// `json` (default), `ninjs` or `jsonld`, in any case.
    #[param(value_type = Option<ArticleFormatJson>, inline)]
    pub format: Option<String>,
}

impl ArticleFormatParams {
    /// The format asked for; anything else names `format`.
    pub fn parse(&self) -> Result<ArticleFormatJson, ValidationError> {
        self.format
            .as_deref()
            .map_or(Ok(ArticleFormatJson::Json), |raw| enum_param("format", raw))
    }
}

/// The members of the string enum `E` as its schema lists them.
fn members<E: PartialSchema>() -> Vec<String> {
    serde_json::to_value(E::schema())
        .ok()
        .and_then(|schema| schema.get("enum").cloned())
        .and_then(|members| serde_json::from_value(members).ok())
        .unwrap_or_default()
}

/// Reads the query parameter `field` as a member of the wire enum `E`, in any case. The names are
/// `E`'s serde names (lowercase), the very ones its schema lists, so the two cannot disagree.
pub fn enum_param<E: DeserializeOwned + PartialSchema>(
    field: &str,
    raw: &str,
) -> Result<E, ValidationError> {
    let lowercase = raw.to_ascii_lowercase();
    let deserializer: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        lowercase.as_str().into_deserializer();
    E::deserialize(deserializer).map_err(|_| {
        ValidationError::new(
            field,
            format!("must be one of {}", members::<E>().join(", ")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_parameters_parse_the_members_their_schemas_list_in_any_case() {
        assert_eq!(members::<WindowJson>(), ["day", "week", "month"]);
        for member in members::<WindowJson>() {
            assert!(enum_param::<WindowJson>("window", &member).is_ok());
            assert!(enum_param::<WindowJson>("window", &member.to_uppercase()).is_ok());
        }
        assert!(matches!(
            enum_param::<OrderJson>("orderBy", "OLDEST"),
            Ok(OrderJson::Oldest)
        ));
        let error = enum_param::<WindowJson>("window", "year").unwrap_err();
        assert_eq!(error.field, "window");
        assert_eq!(error.message, "must be one of day, week, month");
    }

    #[test]
    fn the_visitor_pattern_finds_exactly_what_trimming_keeps() {
        let pattern = regex::Regex::new(NOT_WHITE_SPACE_PATTERN).unwrap();
        for c in (0..=0x10_FFFF_u32).filter_map(char::from_u32) {
            let text = c.to_string();
            assert_eq!(
                pattern.is_match(&text),
                !text.trim().is_empty(),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }
}
