//! IPTC ninjs 3.1 (News in JSON) for partners and archives: `?format=ninjs` on an article, the
//! article lists and `changes`. Each document is valid against the official schema (its root
//! admits no key it does not define), which the end-to-end tests check on real responses.
//!
//! The mapping: `uri` is the article's id as a URN (stable across renames; the slug is the
//! `slugline`), `version`/`versionCreated` the save counter and its time, `firstCreated` the
//! first publication, `pubStatus` from the life cycle, embargo and expiry, `expires` the
//! expiry, `bodies` (HTML and plain text) only where the reader has the full-text right every
//! other path applies, `subjects` the topics (primary first) with their ids as URNs,
//! `associations` the lead picture, and `copyrightHolder`/`usageTerms` from the publisher and
//! the syndication policy.

use chrono::{DateTime, Utc};
use gazette_app::Relations;
use gazette_app::feeds::{FeedsConfig, article_url, urn};
use gazette_domain::changes::RemovalReason;
use gazette_domain::syndication::{PublicationStatus, usage_terms};
use gazette_domain::{Article, Body};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The media type of ninjs documents and arrays of them.
pub const CONTENT_TYPE: &str = "application/ninjs+json";

/// ninjs 3.1's `pubStatus`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = NinjsPubStatus)]
pub enum PubStatusJson {
    /// Live.
    Usable,
    /// Not to be used (yet, or by this reader).
    Withheld,
    /// Withdrawn.
    Canceled,
}

impl From<PublicationStatus> for PubStatusJson {
    fn from(status: PublicationStatus) -> Self {
        match status {
            PublicationStatus::Usable => Self::Usable,
            PublicationStatus::Withheld => Self::Withheld,
            PublicationStatus::Canceled => Self::Canceled,
        }
    }
}

/// ninjs 3.1's news object `type` of what Gazette emits.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = NinjsType)]
pub enum TypeJson {
    /// An article.
    Text,
    /// A lead picture.
    Picture,
}

/// A headline or a description.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NinjsText)]
pub struct TextJson {
    /// What it is for (`main`, `summary`, `alternative`, `caption`).
    pub role: &'static str,
    /// The text.
    pub value: String,
}

/// The body in one form.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NinjsBody)]
pub struct BodyJson {
    /// Always `main`.
    pub role: &'static str,
    /// `text/html` or `text/plain`.
    pub content_type: &'static str,
    /// Characters of the plain text.
    pub char_count: usize,
    /// Words of the body.
    pub word_count: u32,
    /// The body.
    pub value: String,
}

/// A topic the article is about.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NinjsSubject)]
pub struct SubjectJson {
    /// Display name.
    pub name: String,
    /// The topic's id as a URN (`urn:uuid:…`), stable across renames.
    #[schema(format = "uri")]
    pub uri: String,
    /// The topic's slug.
    pub literal: String,
}

/// A rendition: where the picture, or the article's page, is.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NinjsRendition)]
pub struct RenditionJson {
    /// `original` (a picture) or `web` (the article's page).
    pub name: &'static str,
    /// Absolute URL.
    #[schema(format = "uri")]
    pub href: String,
    /// `text/html` for the page; absent for a picture of unknown type.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub content_type: Option<&'static str>,
}

/// A ninjs 3.1 news object: an article (or, in `associations`, its lead picture), or on a
/// removal in `changes` only its `uri`, `pubStatus` and an `edNote` with the reason.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NinjsItem)]
pub struct NinjsJson {
    /// Stable identifier: `urn:uuid:` and the article's id (or the picture's URL).
    #[schema(format = "uri")]
    pub uri: String,
    /// The association's name (`hero`); only in `associations`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<&'static str>,
    /// `text` (an article) or `picture`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub kind: Option<TypeJson>,
    /// The save counter of this version.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub version: Option<String>,
    /// First publication (creation for a story never published).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub first_created: Option<DateTime<Utc>>,
    /// When this version was saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub version_created: Option<DateTime<Utc>>,
    /// `usable`, `withheld` (not yet, or not for this reader) or `canceled` (withdrawn).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub pub_status: Option<PubStatusJson>,
    /// The syndication embargo, when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub embargoed_until: Option<DateTime<Utc>>,
    /// When the story stops being shown (`expiresAt`), when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub expires: Option<DateTime<Utc>>,
    /// The slug.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub slugline: Option<String>,
    /// The headline (`main`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headlines: Vec<TextJson>,
    /// The dek (`summary`); a picture's text alternative and caption.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub descriptions: Vec<TextJson>,
    /// The body as HTML and as plain text, where the reader has the full-text right.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bodies: Vec<BodyJson>,
    /// The byline (a picture's credit).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub by: Option<String>,
    /// BCP 47 language tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub language: Option<String>,
    /// The topics, the primary one first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<SubjectJson>,
    /// The lead picture.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub associations: Vec<NinjsJson>,
    /// The article's page on the publisher's site; a picture's file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub renditions: Vec<RenditionJson>,
    /// The publisher (a picture's credit).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub copyright_holder: Option<String>,
    /// What partners may do with it, from its syndication policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub usage_terms: Option<&'static str>,
    /// Why a removal in `changes` removes the article (`removed: deleted`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub ed_note: Option<String>,
}

impl NinjsJson {
    fn bare(uri: String) -> Self {
        Self {
            uri,
            name: None,
            kind: None,
            version: None,
            first_created: None,
            version_created: None,
            pub_status: None,
            embargoed_until: None,
            expires: None,
            slugline: None,
            headlines: Vec::new(),
            descriptions: Vec::new(),
            bodies: Vec::new(),
            by: None,
            language: None,
            subjects: Vec::new(),
            associations: Vec::new(),
            renditions: Vec::new(),
            copyright_holder: None,
            usage_terms: None,
            ed_note: None,
        }
    }

    /// `article` as `site` publishes it at `now`, its topics and authors from `relations`, with
    /// `body` where the reader may have the full text (pass `None` otherwise).
    pub fn article(
        article: &Article,
        relations: &Relations,
        body: Option<&Body>,
        site: &FeedsConfig,
        now: DateTime<Utc>,
    ) -> Self {
        let (topics, authors) = relations.of(article);
        let names: Vec<&str> = authors.iter().map(|a| a.name.as_str()).collect();
        let mut item = Self::bare(urn(article.id));
        item.kind = Some(TypeJson::Text);
        item.version = Some(article.version.to_string());
        item.first_created = Some(article.published_at.unwrap_or(article.created_at));
        item.version_created = Some(article.updated_at);
        item.pub_status = Some(PublicationStatus::of(article, now).into());
        item.embargoed_until = article.syndication.embargo_until;
        item.expires = article.expires_at;
        item.slugline = Some(article.slug.as_str().to_owned());
        item.headlines = vec![text("main", article.headline.as_str())];
        item.descriptions = vec![text("summary", article.dek.as_str())];
        item.bodies = body.map_or_else(Vec::new, |body| bodies(body, article.word_count));
        item.by = (!names.is_empty()).then(|| byline(&names));
        item.language = Some(article.language.as_str().to_owned());
        item.subjects = topics
            .iter()
            .map(|topic| SubjectJson {
                name: topic.name.as_str().to_owned(),
                uri: urn(topic.id),
                literal: topic.slug.as_str().to_owned(),
            })
            .collect();
        item.associations = article.hero_image.iter().map(picture).collect();
        item.renditions = article_url(site, article)
            .map(|href| RenditionJson {
                name: "web",
                href,
                content_type: Some("text/html"),
            })
            .into_iter()
            .collect();
        item.copyright_holder = Some(site.site_name.clone());
        item.usage_terms = Some(usage_terms(&article.syndication));
        item
    }

    /// The entry of a removal in `changes`: the article's `uri`, `canceled` or `withheld`, and
    /// the reason as an editorial note.
    pub fn removed(id: Uuid, reason: RemovalReason) -> Self {
        let mut item = Self::bare(urn(id));
        item.kind = Some(TypeJson::Text);
        item.pub_status = Some(PublicationStatus::of_removal(reason).into());
        item.ed_note = Some(format!("removed: {}", reason.as_str()));
        item
    }
}

fn text(role: &'static str, value: &str) -> TextJson {
    TextJson {
        role,
        value: value.to_owned(),
    }
}

fn bodies(body: &Body, word_count: u32) -> Vec<BodyJson> {
    let plain = body.to_plain_text();
    let char_count = plain.chars().count();
    [("text/html", body.to_html()), ("text/plain", plain)]
        .into_iter()
        .map(|(content_type, value)| BodyJson {
            role: "main",
            content_type,
            char_count,
            word_count,
            value,
        })
        .collect()
}

/// "A", "A and B", "A, B and C".
fn byline(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn picture(image: &gazette_domain::HeroImage) -> NinjsJson {
    let mut item = NinjsJson::bare(image.url.clone());
    item.name = Some("hero");
    item.kind = Some(TypeJson::Picture);
    item.descriptions = std::iter::once(text("alternative", &image.alt))
        .chain(image.caption.as_deref().map(|c| text("caption", c)))
        .collect();
    item.by.clone_from(&image.credit);
    item.copyright_holder.clone_from(&image.credit);
    item.renditions = vec![RenditionJson {
        name: "original",
        href: image.url.clone(),
        content_type: None,
    }];
    item
}

#[cfg(test)]
mod tests {
    use super::byline;

    #[test]
    fn bylines_read_as_english() {
        assert_eq!(byline(&["Ann"]), "Ann");
        assert_eq!(byline(&["Ann", "Bo"]), "Ann and Bo");
        assert_eq!(byline(&["Ann", "Bo", "Cy"]), "Ann, Bo and Cy");
    }
}
