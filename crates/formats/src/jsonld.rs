//! schema.org `NewsArticle` as JSON-LD, ready for a frontend to put in the page head
//! (`<script type="application/ld+json">`): GraphQL's `Article.structuredData` and REST's
//! `?format=jsonld` give the same document.

use chrono::{DateTime, Utc};
use gazette_app::feeds::{FeedsConfig, article_url};
use gazette_domain::{Article, Author, Correction, Topic};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of a JSON-LD document.
pub const CONTENT_TYPE: &str = "application/ld+json";

/// What the document of one article is made of.
pub struct NewsArticle<'a> {
    /// The article.
    pub article: &'a Article,
    /// Its authors, in byline order.
    pub authors: &'a [&'a Author],
    /// Its primary topic (the section), when it has one.
    pub section: Option<&'a Topic>,
    /// Its public corrections, oldest first.
    pub corrections: &'a [Correction],
}

/// A schema.org node: its `@type` and properties.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JsonLdNode)]
pub struct Node {
    /// `Person`, `Organization`, `ImageObject`, `WebPage` or `CorrectionComment`.
    #[serde(rename = "@type")]
    pub kind: &'static str,
    /// A person's or organisation's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// Where it is (a page, a picture).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub url: Option<String>,
    /// A web page's identifier (its URL).
    #[serde(rename = "@id", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub id: Option<String>,
    /// An organisation's logo.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, no_recursion)]
    pub logo: Option<Box<Node>>,
    /// A correction's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub text: Option<String>,
    /// When a correction was published.
    #[serde(rename = "datePublished", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub date_published: Option<DateTime<Utc>>,
}

impl Node {
    fn new(kind: &'static str) -> Self {
        Self {
            kind,
            name: None,
            url: None,
            id: None,
            logo: None,
            text: None,
            date_published: None,
        }
    }
}

/// schema.org `NewsArticle` in JSON-LD (compacted against `https://schema.org`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NewsArticleJsonLd)]
pub struct NewsArticleJson {
    /// Always `https://schema.org`.
    #[serde(rename = "@context")]
    pub context: &'static str,
    /// Always `NewsArticle`.
    #[serde(rename = "@type")]
    pub kind: &'static str,
    /// The headline.
    pub headline: String,
    /// The dek.
    pub description: String,
    /// The lead picture's URL, when there is one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image: Vec<String>,
    /// First publication (creation, for a story not yet published).
    pub date_published: DateTime<Utc>,
    /// The last change in substance, or the publication when there was none.
    pub date_modified: DateTime<Utc>,
    /// The authors (`Person`, with the author page), in byline order.
    pub author: Vec<Node>,
    /// The publisher (`Organization`, with its logo when configured).
    pub publisher: Node,
    /// The article's page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = "uri")]
    pub url: Option<String>,
    /// The page this article is the main entity of (`WebPage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub main_entity_of_page: Option<Node>,
    /// The primary topic's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub article_section: Option<String>,
    /// BCP 47 language tag.
    pub in_language: String,
    /// Words in the body.
    pub word_count: u32,
    /// Always true: no paywall.
    pub is_accessible_for_free: bool,
    /// Public corrections (`CorrectionComment`), oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub correction: Vec<Node>,
}

impl NewsArticle<'_> {
    /// The JSON-LD document, the publisher and links taken from `site`.
    pub fn json_ld(&self, site: &FeedsConfig) -> NewsArticleJson {
        let article = self.article;
        let published = article.published_at.unwrap_or(article.created_at);
        let mut publisher = Node::new("Organization");
        publisher.name = Some(site.site_name.clone());
        publisher.url = Some(site.site_url.clone());
        publisher.logo = site.logo_url.as_ref().map(|url| {
            let mut logo = Node::new("ImageObject");
            logo.url = Some(url.clone());
            Box::new(logo)
        });
        let url = article_url(site, article);
        NewsArticleJson {
            context: "https://schema.org",
            kind: "NewsArticle",
            headline: article.headline.as_str().to_owned(),
            description: article.dek.as_str().to_owned(),
            image: article.hero_image.iter().map(|i| i.url.clone()).collect(),
            date_published: published,
            date_modified: article.substantive_updated_at.unwrap_or(published),
            author: (self.authors.iter())
                .map(|a| {
                    let mut person = Node::new("Person");
                    person.name = Some(a.name.as_str().to_owned());
                    person.url = Some(format!("{}/authors/{}", site.site_url, a.slug));
                    person
                })
                .collect(),
            publisher,
            main_entity_of_page: url.clone().map(|url| {
                let mut page = Node::new("WebPage");
                page.id = Some(url);
                page
            }),
            url,
            article_section: self.section.map(|t| t.name.as_str().to_owned()),
            in_language: article.language.as_str().to_owned(),
            word_count: article.word_count,
            is_accessible_for_free: true,
            correction: (self.corrections.iter())
                .map(|c| {
                    let mut note = Node::new("CorrectionComment");
                    note.text = Some(c.text.clone());
                    note.date_published = Some(c.created_at);
                    note
                })
                .collect(),
        }
    }
}
