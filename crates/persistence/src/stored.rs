//! The JSON that storage holds: an article's body blocks and lead picture (columns of
//! `articles`), and each revision's whole state and field changes (`article_revisions`). These
//! shapes are the stored format, owned here: rows written long ago must keep reading, so a
//! domain rename never changes them. Each converts to and from its domain type here only.
//!
//! Reading back trusts what was checked when it was saved: texts are taken as stored
//! (`from_stored`), a body gets the structural rules only ([`Body::from_stored`]); slugs and
//! language tags are parsed as ever.

use chrono::{DateTime, Utc};
use gazette_domain::{
    ArticleState, ArticleStatus, Block, Body, CanonicalUrl, Dek, FieldChange, FieldValue, Headline,
    HeroImage, Kill, KillReason, Language, Slug, Source, Syndication, ValidationError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A body block as stored (and as the seed file writes it), tagged by `type`.
#[derive(Serialize, Deserialize)]
#[serde(
    remote = "Block",
    tag = "type",
    rename_all = "camelCase",
    deny_unknown_fields
)]
enum BlockDef {
    Paragraph {
        text: String,
    },
    Heading {
        level: u8,
        text: String,
    },
    Quote {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attribution: Option<String>,
    },
    Image {
        url: String,
        #[serde(default)]
        alt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credit: Option<String>,
    },
    Embed {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
}

/// One stored block.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct StoredBlock(#[serde(with = "BlockDef")] pub(crate) Block);

/// The lead picture as stored.
#[derive(Serialize, Deserialize)]
#[serde(remote = "HeroImage", rename_all = "camelCase", deny_unknown_fields)]
struct HeroDef {
    url: String,
    #[serde(default)]
    alt: String,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    credit: Option<String>,
}

/// One stored lead picture.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct StoredHero(#[serde(with = "HeroDef")] pub(crate) HeroImage);

/// The syndication policy as a revision stores it.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Syndication", rename_all = "camelCase")]
struct SyndicationDef {
    syndicatable: bool,
    embargo_until: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(transparent)]
struct StoredSyndication(#[serde(with = "SyndicationDef")] Syndication);

/// An article's editable state as a revision stores it; the field order is the stored order.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredState {
    slug: String,
    headline: String,
    dek: String,
    body: Vec<StoredBlock>,
    source: String,
    language: String,
    canonical_url: Option<String>,
    hero_image: Option<StoredHero>,
    primary_topic: Option<String>,
    topics: Vec<String>,
    authors: Vec<String>,
    status: String,
    published_at: Option<DateTime<Utc>>,
    #[serde(default)]
    syndication: StoredSyndication,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kill: Option<StoredKill>,
}

/// A takedown as a revision stores it.
#[derive(Serialize, Deserialize, Clone)]
struct StoredKill {
    at: DateTime<Utc>,
    reason: String,
}

impl From<&Kill> for StoredKill {
    fn from(kill: &Kill) -> Self {
        Self {
            at: kill.at,
            reason: kill.reason.as_str().to_owned(),
        }
    }
}

impl From<StoredKill> for Kill {
    fn from(kill: StoredKill) -> Self {
        Self {
            at: kill.at,
            reason: KillReason::from_stored(kill.reason),
        }
    }
}

/// One field's change as a revision stores it (values in the state's stored shapes).
#[derive(Serialize, Deserialize)]
struct StoredChange {
    field: String,
    before: Value,
    after: Value,
}

fn blocks(body: &Body) -> Vec<StoredBlock> {
    body.blocks().iter().cloned().map(StoredBlock).collect()
}

fn slug_strs(slugs: &[Slug]) -> Vec<&str> {
    slugs.iter().map(Slug::as_str).collect()
}

fn slugs(raw: Vec<String>) -> Result<Vec<Slug>, ValidationError> {
    raw.iter().map(|s| Slug::parse(s)).collect()
}

/// A body as the `articles.body` column stores it.
pub(crate) fn body_json(body: &Body) -> String {
    serde_json::to_string(&blocks(body)).unwrap_or_else(|_| "[]".to_owned())
}

/// A stored body read back (the structural rules only).
pub(crate) fn body_from_json(raw: &str) -> Result<Body, ValidationError> {
    let stored: Vec<StoredBlock> = serde_json::from_str(raw)
        .map_err(|e| ValidationError::new("body", format!("is not a valid list of blocks: {e}")))?;
    Body::from_stored(stored.into_iter().map(|b| b.0).collect())
}

/// A lead picture as the `articles.hero_image` column stores it.
pub(crate) fn hero_json(hero: &HeroImage) -> String {
    serde_json::to_string(&StoredHero(hero.clone())).unwrap_or_default()
}

/// A stored lead picture read back.
pub(crate) fn hero_from_json(raw: &str) -> Result<HeroImage, serde_json::Error> {
    serde_json::from_str::<StoredHero>(raw).map(|h| h.0)
}

/// A revision's state as stored.
pub(crate) fn state_json(state: &ArticleState) -> String {
    let s = state.clone();
    serde_json::to_string(&StoredState {
        slug: s.slug.into(),
        headline: s.headline.into(),
        dek: s.dek.into(),
        body: blocks(&s.body),
        source: s.source.into(),
        language: s.language.into(),
        canonical_url: s.canonical_url.map(String::from),
        hero_image: s.hero_image.map(StoredHero),
        primary_topic: s.primary_topic.map(String::from),
        topics: s.topics.into_iter().map(String::from).collect(),
        authors: s.authors.into_iter().map(String::from).collect(),
        status: s.status.as_str().to_owned(),
        published_at: s.published_at,
        syndication: StoredSyndication(s.syndication),
        expires_at: s.expires_at,
        kill: s.kill.as_ref().map(StoredKill::from),
    })
    .unwrap_or_default()
}

/// A stored revision state read back.
pub(crate) fn state_from_json(raw: &str) -> Result<ArticleState, String> {
    let s: StoredState = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let state = || -> Result<ArticleState, ValidationError> {
        Ok(ArticleState {
            slug: Slug::parse(&s.slug)?,
            headline: Headline::from_stored(s.headline),
            dek: Dek::from_stored(s.dek),
            body: Body::from_stored(s.body.into_iter().map(|b| b.0).collect())?,
            source: Source::from_stored(s.source),
            language: Language::parse(&s.language)?,
            canonical_url: s.canonical_url.map(CanonicalUrl::from_stored),
            hero_image: s.hero_image.map(|h| h.0),
            primary_topic: s.primary_topic.as_deref().map(Slug::parse).transpose()?,
            topics: slugs(s.topics)?,
            authors: slugs(s.authors)?,
            status: ArticleStatus::parse(&s.status)?,
            published_at: s.published_at,
            syndication: s.syndication.0,
            expires_at: s.expires_at,
            kill: s.kill.map(Kill::from),
        })
    };
    state().map_err(|e| e.to_string())
}

/// A field's value in its stored shape (the shape of that field in [`state_json`]).
fn value_json(value: &FieldValue) -> Value {
    use FieldValue as F;
    match value {
        F::Slug(v) => json!(v.as_str()),
        F::Headline(v) => json!(v.as_str()),
        F::Dek(v) => json!(v.as_str()),
        F::Body(v) => json!(blocks(v)),
        F::Source(v) => json!(v.as_str()),
        F::Language(v) => json!(v.as_str()),
        F::CanonicalUrl(v) => json!(v.as_ref().map(CanonicalUrl::as_str)),
        F::HeroImage(v) => json!(v.clone().map(StoredHero)),
        F::PrimaryTopic(v) => json!(v.as_ref().map(Slug::as_str)),
        F::Topics(v) | F::Authors(v) => json!(slug_strs(v)),
        F::Status(v) => json!(v.as_str()),
        F::PublishedAt(v) => json!(v),
        F::Syndication(v) => json!(StoredSyndication(*v)),
        F::ExpiresAt(v) => json!(v),
        F::Kill(v) => json!(v.as_ref().map(StoredKill::from)),
    }
}

/// A stored field value read back, by its field's name.
fn value_from_json(field: &str, json: Value) -> Result<FieldValue, String> {
    use FieldValue as F;
    fn de<T: serde::de::DeserializeOwned>(json: Value) -> Result<T, String> {
        serde_json::from_value(json).map_err(|e| e.to_string())
    }
    let slug = |raw: String| Slug::parse(&raw).map_err(|e| e.to_string());
    let text = |json: Value| de::<String>(json);
    Ok(match field {
        "slug" => F::Slug(slug(text(json)?)?),
        "headline" => F::Headline(Headline::from_stored(text(json)?)),
        "dek" => F::Dek(Dek::from_stored(text(json)?)),
        "body" => F::Body(
            Body::from_stored(
                de::<Vec<StoredBlock>>(json)?
                    .into_iter()
                    .map(|b| b.0)
                    .collect(),
            )
            .map_err(|e| e.to_string())?,
        ),
        "source" => F::Source(Source::from_stored(text(json)?)),
        "language" => F::Language(Language::parse(&text(json)?).map_err(|e| e.to_string())?),
        "canonicalUrl" => {
            F::CanonicalUrl(de::<Option<String>>(json)?.map(CanonicalUrl::from_stored))
        }
        "heroImage" => F::HeroImage(de::<Option<StoredHero>>(json)?.map(|h| h.0)),
        "primaryTopic" => F::PrimaryTopic(de::<Option<String>>(json)?.map(slug).transpose()?),
        "topics" => F::Topics(slugs(de(json)?).map_err(|e| e.to_string())?),
        "authors" => F::Authors(slugs(de(json)?).map_err(|e| e.to_string())?),
        "status" => F::Status(ArticleStatus::parse(&text(json)?).map_err(|e| e.to_string())?),
        "publishedAt" => F::PublishedAt(de(json)?),
        "syndication" => F::Syndication(de::<StoredSyndication>(json)?.0),
        "expiresAt" => F::ExpiresAt(de(json)?),
        "kill" => F::Kill(de::<Option<StoredKill>>(json)?.map(Kill::from)),
        other => return Err(format!("unknown field `{other}`")),
    })
}

/// A revision's field changes as stored.
pub(crate) fn changes_json(changes: &[FieldChange]) -> String {
    let stored: Vec<StoredChange> = changes
        .iter()
        .map(|c| StoredChange {
            field: c.field().to_owned(),
            before: value_json(&c.before),
            after: value_json(&c.after),
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".to_owned())
}

/// A revision's stored field changes read back.
pub(crate) fn changes_from_json(raw: &str) -> Result<Vec<FieldChange>, String> {
    let stored: Vec<StoredChange> = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    stored
        .into_iter()
        .map(|c| {
            let value =
                |json| value_from_json(&c.field, json).map_err(|e| format!("{}: {e}", c.field));
            Ok(FieldChange {
                before: value(c.before)?,
                after: value(c.after)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A revision's state as rows hold it: written by the serde derives the domain types had
    /// before this module owned the format (field order, `null`s and left-out fields included).
    const STATE: &str = r#"{"slug":"a-story","headline":"A story \u0002","dek":"In short.","body":[{"type":"paragraph","text":"Words."},{"type":"heading","level":2,"text":"More"},{"type":"quote","text":"Yes.","attribution":"Kim"},{"type":"image","url":"https://example.com/p.jpg","alt":"","caption":"A caption"},{"type":"embed","url":"https://example.com/v","provider":"youtube"}],"source":"Desk","language":"ko-KR","canonicalUrl":"https://example.com/a","heroImage":{"url":"https://example.com/h.jpg","alt":"A hero","caption":null,"credit":"AP"},"primaryTopic":"world","topics":["asia"],"authors":["kim","lee"],"status":"scheduled","publishedAt":"2025-05-15T09:00:00Z","syndication":{"syndicatable":true,"embargoUntil":"2025-05-15T12:00:00Z"}}"#;

    /// The changes from [`before`] to the state above, as rows hold them.
    const CHANGES: &str = r#"[{"field":"body","before":[{"type":"paragraph","text":"Old."}],"after":[{"type":"paragraph","text":"Words."},{"type":"heading","level":2,"text":"More"},{"type":"quote","text":"Yes.","attribution":"Kim"},{"type":"image","url":"https://example.com/p.jpg","alt":"","caption":"A caption"},{"type":"embed","url":"https://example.com/v","provider":"youtube"}]},{"field":"canonicalUrl","before":null,"after":"https://example.com/a"},{"field":"heroImage","before":null,"after":{"url":"https://example.com/h.jpg","alt":"A hero","caption":null,"credit":"AP"}},{"field":"publishedAt","before":null,"after":"2025-05-15T09:00:00Z"},{"field":"status","before":"draft","after":"scheduled"},{"field":"syndication","before":{"syndicatable":false,"embargoUntil":null},"after":{"syndicatable":true,"embargoUntil":"2025-05-15T12:00:00Z"}},{"field":"topics","before":[],"after":["asia"]}]"#;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 5, 15, hour, 0, 0).unwrap()
    }

    fn slug(s: &str) -> Slug {
        Slug::parse(s).unwrap()
    }

    fn text(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    fn state() -> ArticleState {
        let url = |s: &str| s.to_owned();
        ArticleState {
            slug: slug("a-story"),
            headline: Headline::from_stored("A story \u{2}".to_owned()),
            dek: Dek::parse("In short.").unwrap(),
            body: Body::from_stored(vec![
                Block::Paragraph {
                    text: "Words.".into(),
                },
                Block::Heading {
                    level: 2,
                    text: "More".into(),
                },
                Block::Quote {
                    text: "Yes.".into(),
                    attribution: text("Kim"),
                },
                Block::Image {
                    url: url("https://example.com/p.jpg"),
                    alt: String::new(),
                    caption: text("A caption"),
                    credit: None,
                },
                Block::Embed {
                    url: url("https://example.com/v"),
                    provider: text("youtube"),
                    caption: None,
                },
            ])
            .unwrap(),
            source: Source::parse("Desk").unwrap(),
            language: Language::parse("ko-KR").unwrap(),
            canonical_url: Some(CanonicalUrl::from_stored(url("https://example.com/a"))),
            hero_image: Some(HeroImage {
                url: url("https://example.com/h.jpg"),
                alt: "A hero".into(),
                caption: None,
                credit: text("AP"),
            }),
            primary_topic: Some(slug("world")),
            topics: vec![slug("asia")],
            authors: vec![slug("kim"), slug("lee")],
            status: ArticleStatus::Scheduled,
            published_at: Some(at(9)),
            syndication: Syndication {
                syndicatable: true,
                embargo_until: Some(at(12)),
            },
            expires_at: None,
            kill: None,
        }
    }

    fn before() -> ArticleState {
        ArticleState {
            body: Body::from_stored(vec![Block::Paragraph {
                text: "Old.".into(),
            }])
            .unwrap(),
            canonical_url: None,
            hero_image: None,
            topics: vec![],
            status: ArticleStatus::Draft,
            published_at: None,
            syndication: Syndication::default(),
            ..state()
        }
    }

    #[test]
    fn rows_written_in_the_stored_format_read_back_and_write_the_same_bytes() {
        let read = state_from_json(STATE).unwrap();
        assert_eq!(read, state());
        assert_eq!(state_json(&read), STATE);

        let changes = changes_from_json(CHANGES).unwrap();
        assert_eq!(changes, before().diff(&state()));
        assert_eq!(changes_json(&changes), CHANGES);

        let body = &STATE[STATE.find("[{").unwrap()..STATE.find("}],").unwrap() + 2];
        assert_eq!(body_from_json(body).unwrap(), state().body);
        assert_eq!(body_json(&state().body), body);
        let hero =
            r#"{"url":"https://example.com/h.jpg","alt":"A hero","caption":null,"credit":"AP"}"#;
        assert_eq!(Some(hero_from_json(hero).unwrap()), state().hero_image);
        assert_eq!(hero_json(&state().hero_image.unwrap()), hero);
    }

    #[test]
    fn older_and_broken_rows() {
        // A state from before syndication was recorded reads as not syndicatable.
        let old = STATE.replace(
            r#","syndication":{"syndicatable":true,"embargoUntil":"2025-05-15T12:00:00Z"}"#,
            "",
        );
        let read = state_from_json(&old).unwrap();
        assert_eq!(read.syndication, Syndication::default());
        // Optional keys may be missing; a hero's may be too.
        assert!(hero_from_json(r#"{"url":"https://example.com/h.jpg"}"#).is_ok());
        assert!(state_from_json(&STATE.replace("a-story", "Not A Slug")).is_err());
        assert!(body_from_json(r#"[{"type":"poll","text":"x"}]"#).is_err());
        assert!(body_from_json(r#"[{"type":"paragraph","text":" "}]"#).is_err());
        assert!(changes_from_json(r#"[{"field":"mood","before":1,"after":2}]"#).is_err());
        assert!(hero_from_json(r#"{"url":"https://example.com/h.jpg","size":3}"#).is_err());
    }
}
