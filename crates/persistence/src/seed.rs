//! Sample content: the reference article page's stories plus generated filler to page through.
//! Loading twice adds nothing: everything is keyed by slug.

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use gazette_domain::{
    ArticleState, ArticleStatus, Block, Body, Dek, Headline, Language, Name, NewAuthor, NewTopic,
    Slug, Source, Syndication, ValidationError,
};
use sea_orm::{EntityTrait, QuerySelect};
use serde::Deserialize;
use uuid::Uuid;

use crate::editorial::{article_rows, insert_rows};
use crate::entities::articles;
use crate::stored::{StoredBlock, StoredHero};
use crate::{Store, StoreError};

const SAMPLE: &str = include_str!("../seed/sample.json");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedFile {
    topics: Vec<SeedTopic>,
    authors: Vec<SeedAuthor>,
    articles: Vec<SeedArticle>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedTopic {
    slug: String,
    name: String,
    description: String,
    parent: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedAuthor {
    slug: String,
    name: String,
    bio: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedArticle {
    slug: String,
    headline: String,
    dek: String,
    source: String,
    language: String,
    published_at: DateTime<Utc>,
    primary_topic: String,
    topics: Vec<String>,
    authors: Vec<String>,
    hero_image: Option<StoredHero>,
    body: Vec<StoredBlock>,
}

/// What a seed run added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Topics created.
    pub topics: usize,
    /// Authors created.
    pub authors: usize,
    /// Articles created.
    pub articles: usize,
}

fn slugs(raw: &[String]) -> Result<Vec<Slug>, ValidationError> {
    raw.iter().map(|s| Slug::parse(s)).collect()
}

impl SeedArticle {
    fn into_new(self) -> Result<ArticleState, ValidationError> {
        let new = ArticleState {
            slug: Slug::parse(&self.slug)?,
            headline: Headline::parse(&self.headline)?,
            dek: Dek::parse(&self.dek)?,
            body: Body::new(self.body.into_iter().map(|b| b.0).collect())?,
            source: Source::parse(&self.source)?,
            language: Language::parse(&self.language)?,
            canonical_url: None,
            hero_image: self.hero_image.map(|h| h.0.validated()).transpose()?,
            primary_topic: Some(Slug::parse(&self.primary_topic)?),
            topics: slugs(&self.topics)?,
            authors: slugs(&self.authors)?,
            status: ArticleStatus::Published,
            published_at: Some(self.published_at),
            syndication: Syndication {
                syndicatable: true,
                embargo_until: None,
            },
            expires_at: None,
            kill: None,
        };
        new.check()?;
        Ok(new)
    }
}

/// A tiny deterministic generator (xorshift), so generated content is the same on every run.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        let len = u64::try_from(items.len()).unwrap_or(1);
        items[usize::try_from(self.next() % len).unwrap_or(0)]
    }
}

const SUBJECTS: &[&str] = &[
    "Regional lawmakers",
    "The central bank",
    "Port authorities",
    "A coalition of farmers",
    "City officials",
    "Energy regulators",
    "Researchers",
    "Retailers",
    "Transport unions",
    "Health inspectors",
    "Exporters",
    "The finance ministry",
];
const VERBS: &[&str] = &[
    "weigh new rules on",
    "report steady gains in",
    "warn of delays to",
    "unveil a plan for",
    "question the cost of",
    "push back on",
    "expect a rebound in",
    "review safety of",
    "cut forecasts for",
    "back an overhaul of",
];
const OBJECTS: &[&str] = &[
    "grain shipments",
    "semiconductor exports",
    "coastal ferries",
    "household energy bills",
    "rail freight",
    "food labelling",
    "bond yields",
    "regional airports",
    "water quality",
    "battery recycling",
    "fishing quotas",
    "housing permits",
];

fn generated(
    n: usize,
    topics: &[Slug],
    authors: &[Slug],
    newest: DateTime<Utc>,
) -> Result<ArticleState, ValidationError> {
    let mut rng = Xorshift(
        0x9E37_79B9_7F4A_7C15
            ^ (u64::try_from(n).unwrap_or(0) + 1).wrapping_mul(0x2545_F491_4F6C_DD1D),
    );
    let (subject, verb, object) = (rng.pick(SUBJECTS), rng.pick(VERBS), rng.pick(OBJECTS));
    let headline = format!("{subject} {verb} {object}");
    let paragraphs = (0..3)
        .map(|_| {
            let (s, v, o) = (rng.pick(SUBJECTS), rng.pick(VERBS), rng.pick(OBJECTS));
            Block::Paragraph { text: format!("{s} {v} {o}, according to people familiar with the matter. The move follows weeks of debate over {}.", rng.pick(OBJECTS)) }
        })
        .collect();
    let topic_count = u64::try_from(topics.len()).unwrap_or(1).max(1);
    let primary = topics[usize::try_from(rng.next() % topic_count).unwrap_or(0)].clone();
    let secondary = topics[usize::try_from(rng.next() % topic_count).unwrap_or(0)].clone();
    let author_count = u64::try_from(authors.len()).unwrap_or(1).max(1);
    let minutes = i64::try_from(n).unwrap_or(0) * 37 + 60;
    let new = ArticleState {
        slug: Slug::parse(&format!("brief-{n:06}"))?,
        headline: Headline::parse(&headline)?,
        dek: Dek::parse(&format!(
            "{subject} {verb} {object}; what it means, in brief."
        ))?,
        body: Body::new(paragraphs)?,
        source: Source::parse(rng.pick(&["News1", "Wire Services", "Business Desk", "Yonhap"]))?,
        language: Language::english(),
        canonical_url: None,
        hero_image: None,
        topics: if secondary == primary {
            vec![]
        } else {
            vec![secondary]
        },
        primary_topic: Some(primary),
        authors: vec![authors[usize::try_from(rng.next() % author_count).unwrap_or(0)].clone()],
        status: ArticleStatus::Published,
        published_at: Some(newest - Duration::minutes(minutes)),
        syndication: Syndication {
            syndicatable: !n.is_multiple_of(3),
            embargo_until: None,
        },
        expires_at: None,
        kill: None,
    };
    new.check()?;
    Ok(new)
}

/// Loads the sample page's stories, their topics and authors, and `generated` filler articles
/// (published before the sample stories, so the sample page stays on top). Idempotent.
pub async fn seed_sample_content(
    store: &Store,
    generated_count: usize,
    now: DateTime<Utc>,
) -> Result<SeedReport, StoreError> {
    let file: SeedFile = serde_json::from_str(SAMPLE)
        .map_err(|e| StoreError::Corrupt(format!("seed/sample.json: {e}")))?;
    let now = gazette_domain::time::storage_precision(now);
    let mut report = SeedReport::default();

    let mut topic_slugs = Vec::new();
    for t in &file.topics {
        let new = NewTopic {
            slug: Slug::parse(&t.slug)?,
            name: Name::parse(&t.name)?,
            description: t.description.clone(),
            parent: t.parent.as_deref().map(Slug::parse).transpose()?,
        };
        report.topics += usize::from(store.ensure_topic(&new, now).await?);
        topic_slugs.push(new.slug);
    }
    let mut author_slugs = Vec::new();
    for a in &file.authors {
        let new = NewAuthor {
            slug: Slug::parse(&a.slug)?,
            name: Name::parse(&a.name)?,
            bio: a.bio.clone(),
        };
        report.authors += usize::from(store.ensure_author(&new, now).await?);
        author_slugs.push(new.slug);
    }

    let existing: HashSet<String> = articles::Entity::find()
        .select_only()
        .column(articles::Column::Slug)
        .into_tuple::<String>()
        .all(&store.db)
        .await?
        .into_iter()
        .collect();
    let oldest_sample = file
        .articles
        .iter()
        .map(|a| a.published_at)
        .min()
        .unwrap_or_else(|| Utc.timestamp_opt(0, 0).single().unwrap_or(now));
    let mut pending: Vec<ArticleState> = Vec::new();
    for article in file.articles {
        if !existing.contains(&article.slug) {
            pending.push(article.into_new()?);
        }
    }
    for n in 0..generated_count {
        let slug = format!("brief-{n:06}");
        if !existing.contains(&slug) {
            pending.push(generated(n, &topic_slugs, &author_slugs, oldest_sample)?);
        }
    }

    let all_topic_refs: Vec<&Slug> = topic_slugs.iter().collect();
    let topic_ids = Store::topic_ids(&store.db, "topics", &all_topic_refs).await?;
    let author_ids = Store::author_ids(&store.db, &author_slugs).await?;
    let topic_id = |slug: &Slug| {
        topic_slugs
            .iter()
            .position(|s| s == slug)
            .map(|i| topic_ids[i])
    };
    let author_id = |slug: &Slug| {
        author_slugs
            .iter()
            .position(|s| s == slug)
            .map(|i| author_ids[i])
    };

    for chunk in pending.chunks(1000) {
        let mut rows = Vec::with_capacity(chunk.len());
        for new in chunk {
            let topics: Option<Vec<Uuid>> = new
                .primary_topic
                .iter()
                .chain(&new.topics)
                .map(topic_id)
                .collect();
            let authors: Option<Vec<Uuid>> = new.authors.iter().map(author_id).collect();
            let (Some(topics), Some(authors)) = (topics, authors) else {
                return Err(ValidationError::new(
                    "seed",
                    format!("article `{}` names an unknown topic or author", new.slug),
                )
                .into());
            };
            rows.push(article_rows(
                Uuid::now_v7(),
                new,
                &topics,
                &authors,
                "seed",
                now,
            ));
        }
        let txn = store.begin_write().await?;
        insert_rows(&txn, rows).await?;
        txn.commit().await?;
        report.articles += chunk.len();
    }
    Ok(report)
}
