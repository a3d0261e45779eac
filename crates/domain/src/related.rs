//! "Related articles": how much a candidate has in common with the article being read.
//!
//! The score adds three signals: shared topics (the same primary topic weighs most), text
//! similarity (cosine of weighted keywords from headline, dek and body), and closeness in time.
//! Pure functions; storage supplies the candidates.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::search::{is_stop_word, words};

/// Weight of a keyword found in the headline, the dek and the body.
const HEADLINE_WEIGHT: f64 = 3.0;
const DEK_WEIGHT: f64 = 2.0;
const BODY_WEIGHT: f64 = 1.0;
/// Keywords kept per article.
pub const MAX_KEYWORDS: usize = 40;

/// An article's weighted keywords (stemmed roughly), for similarity: sorted by word, with
/// their Euclidean norm kept so that a similarity is one merge of two short lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keywords {
    terms: Vec<(String, f64)>,
    norm: f64,
}

/// A rough stem so `tariffs`/`tariff`, `missiles`/`missile` and `tested`/`test` meet.
fn stem(word: &str) -> String {
    let mut w = word.to_owned();
    if let Some(base) = w.strip_suffix("ies")
        && base.chars().count() >= 3
    {
        w = format!("{base}y");
    } else if w.ends_with('s') && !w.ends_with("ss") && w.chars().count() >= 4 {
        w.pop();
    }
    for suffix in ["ing", "ed"] {
        if let Some(base) = w.strip_suffix(suffix)
            && base.chars().count() >= 4
        {
            return base.to_owned();
        }
    }
    w
}

impl Keywords {
    /// The keywords of an article's texts: words of three letters or more, stop words and
    /// numbers dropped, weighted by where they appear, the strongest [`MAX_KEYWORDS`] kept.
    pub fn of(headline: &str, dek: &str, body: &str) -> Self {
        let mut weights: HashMap<String, f64> = HashMap::new();
        for (text, weight) in [
            (headline, HEADLINE_WEIGHT),
            (dek, DEK_WEIGHT),
            (body, BODY_WEIGHT),
        ] {
            for (_, _, word) in words(text) {
                if word.chars().count() < 3
                    || is_stop_word(&word)
                    || word.chars().all(|c| c.is_ascii_digit())
                {
                    continue;
                }
                *weights.entry(stem(&word)).or_default() += weight;
            }
        }
        let mut ranked: Vec<(String, f64)> = weights.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(MAX_KEYWORDS);
        Self::from_terms(ranked)
    }

    fn from_terms(mut terms: Vec<(String, f64)>) -> Self {
        terms.sort_by(|a, b| a.0.cmp(&b.0));
        terms.dedup_by(|a, b| a.0 == b.0);
        let norm = terms.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        Self { terms, norm }
    }

    /// The weight of `keyword` (0 when absent).
    pub fn weight(&self, keyword: &str) -> f64 {
        self.terms
            .binary_search_by(|(k, _)| k.as_str().cmp(keyword))
            .map_or(0.0, |i| self.terms[i].1)
    }

    /// The strongest `n` keywords, strongest first (for finding candidates by text).
    pub fn top(&self, n: usize) -> Vec<&str> {
        let mut ranked: Vec<&(String, f64)> = self.terms.iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(n)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Cosine similarity in `[0, 1]`.
    pub fn similarity(&self, other: &Self) -> f64 {
        let denominator = self.norm * other.norm;
        if denominator == 0.0 {
            return 0.0;
        }
        let (mut i, mut j, mut dot) = (0, 0, 0.0);
        while let (Some((a, x)), Some((b, y))) = (self.terms.get(i), other.terms.get(j)) {
            match a.cmp(b) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += x * y;
                    i += 1;
                    j += 1;
                }
            }
        }
        (dot / denominator).clamp(0.0, 1.0)
    }

    /// The stored form, computed once when an article is written so that ranking candidates
    /// never re-reads their bodies: `word:weight` pairs separated by spaces (keywords are runs
    /// of letters and digits, so neither separator can occur in one).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.terms.len() * 12);
        for (word, weight) in &self.terms {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
            out.push(':');
            out.push_str(&weight.to_string());
        }
        out
    }

    /// Reads [`Keywords::encode`]'s form back. A malformed pair is skipped rather than failing
    /// the read: a related list is better with one keyword fewer than not at all.
    pub fn decode(stored: &str) -> Self {
        Self::from_terms(
            stored
                .split(' ')
                .filter_map(|pair| {
                    let (word, weight) = pair.rsplit_once(':')?;
                    let weight: f64 = weight.parse().ok()?;
                    (!word.is_empty() && weight.is_finite() && weight > 0.0)
                        .then(|| (word.to_owned(), weight))
                })
                .collect(),
        )
    }
}

/// What the scoring needs to know of an article.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The article.
    pub id: Uuid,
    /// Its primary topic.
    pub primary_topic: Option<Uuid>,
    /// All its topics, the primary one included.
    pub topics: Vec<Uuid>,
    /// Its keywords.
    pub keywords: Keywords,
    /// When it was published.
    pub published_at: DateTime<Utc>,
}

/// Points for sharing the source's primary topic as primary.
pub const SAME_PRIMARY: f64 = 3.0;
/// Points for carrying the source's primary topic otherwise, or having the source carry the
/// candidate's primary topic.
pub const PRIMARY_SHARED: f64 = 1.5;
/// Points per other shared topic (at most two count).
pub const OTHER_SHARED: f64 = 0.75;
/// Points for identical texts; similarity scales it.
pub const TEXT: f64 = 12.0;
/// Points for being published at the same time; halves every [`RECENCY_HALF_LIFE_DAYS`].
pub const RECENCY: f64 = 0.5;
/// Half-life of the recency points, in days apart.
pub const RECENCY_HALF_LIFE_DAYS: f64 = 14.0;

/// How related `candidate` is to `source`.
pub fn score(source: &Profile, candidate: &Profile) -> f64 {
    let mut topics = 0.0;
    match (source.primary_topic, candidate.primary_topic) {
        (Some(a), Some(b)) if a == b => topics += SAME_PRIMARY,
        (Some(a), b) => {
            if candidate.topics.contains(&a) || b.is_some_and(|b| source.topics.contains(&b)) {
                topics += PRIMARY_SHARED;
            }
        }
        (None, _) => {}
    }
    let others = source
        .topics
        .iter()
        .filter(|t| Some(**t) != source.primary_topic && Some(**t) != candidate.primary_topic)
        .filter(|t| candidate.topics.contains(t))
        .count()
        .min(2);
    topics += OTHER_SHARED * others as f64;
    let text = TEXT * source.keywords.similarity(&candidate.keywords);
    let days_apart = (source.published_at - candidate.published_at)
        .num_seconds()
        .abs() as f64
        / 86_400.0;
    let recency = RECENCY * 0.5_f64.powf(days_apart / RECENCY_HALF_LIFE_DAYS);
    topics + text + recency
}

/// The `limit` most related candidates, best first: never the source, never twice; ties go to
/// the newer article, then the higher id. Candidates with nothing in common (no shared topic
/// and no shared keyword) are left out.
pub fn rank(source: &Profile, candidates: &[Profile], limit: usize) -> Vec<(Uuid, f64)> {
    let mut scored: Vec<(Uuid, f64, DateTime<Utc>)> = Vec::with_capacity(candidates.len());
    for c in candidates {
        if c.id == source.id || scored.iter().any(|s| s.0 == c.id) {
            continue;
        }
        let shares_topic = c.topics.iter().any(|t| source.topics.contains(t));
        let shares_text = source.keywords.similarity(&c.keywords) > 0.0;
        if !shares_topic && !shares_text {
            continue;
        }
        scored.push((c.id, score(source, c), c.published_at));
    }
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)).then(b.0.cmp(&a.0)));
    scored.truncate(limit);
    scored.into_iter().map(|(id, s, _)| (id, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 5, day, 9, 0, 0).unwrap()
    }

    fn topic(n: u128) -> Uuid {
        Uuid::from_u128(1000 + n)
    }

    fn profile(id: u128, primary: u128, others: &[u128], text: &str, day: u32) -> Profile {
        let mut topics = vec![topic(primary)];
        topics.extend(others.iter().map(|t| topic(*t)));
        Profile {
            id: Uuid::from_u128(id),
            primary_topic: Some(topic(primary)),
            topics,
            keywords: Keywords::of(text, "", ""),
            published_at: at(day),
        }
    }

    #[test]
    fn keywords_weigh_the_headline_and_meet_across_plurals() {
        let k = Keywords::of(
            "Tariffs rise",
            "A tariff on steel",
            "Steel tariffs and 2025 of the",
        );
        assert_eq!(k.top(1), ["tariff"]);
        assert!(k.weight("steel") > 0.0);
        assert_eq!(k.weight("2025"), 0.0);
        assert_eq!(k.weight("the"), 0.0);
        let same = Keywords::of("Missile test", "", "");
        let plural = Keywords::of("Missiles tested", "", "");
        assert!(same.similarity(&plural) > 0.99);
        assert_eq!(same.similarity(&Keywords::default()), 0.0);
    }

    #[test]
    fn the_stored_form_reads_back_the_same() {
        let k = Keywords::of(
            "Putin visits Pyongyang",
            "A summit on a military alliance",
            "Kim Jong Un and Vladimir Putin signed a pact; Pyongyang hosted the visit.",
        );
        let stored = k.encode();
        assert_eq!(Keywords::decode(&stored), k);
        assert!(stored.contains("pyongyang:"), "{stored}");
        assert_eq!(Keywords::decode(""), Keywords::default());
        // Damaged pairs are skipped, never a panic.
        let damaged = Keywords::decode("alpha:2 beta gamma:x delta:-1 :3 epsilon:1.5  ");
        assert_eq!(damaged.top(5), ["alpha", "epsilon"]);
    }

    #[test]
    fn similarity_is_the_cosine_of_the_weights() {
        let a = Keywords::decode("korea:3 missile:2 russia:1");
        let b = Keywords::decode("korea:1 russia:2 sofa:2");
        // (3*1 + 1*2) / (sqrt(14) * 3)
        let expected = 5.0 / (14.0_f64.sqrt() * 3.0);
        assert!((a.similarity(&b) - expected).abs() < 1e-12);
        assert!((b.similarity(&a) - expected).abs() < 1e-12);
        assert!((a.similarity(&a) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn score_by_hand() {
        // Same primary (3) + one other shared topic (0.75) + identical text (12) + same day
        // (0.5).
        let source = profile(1, 1, &[2], "north korea russia summit", 15);
        let twin = profile(2, 1, &[2], "north korea russia summit", 15);
        assert!((score(&source, &twin) - 16.25).abs() < 1e-9);
        // Different primary that carries the source's primary (1.5), no text, 14 days apart
        // (0.25).
        let cousin = profile(3, 3, &[1], "sofa cleaning", 1);
        assert!((score(&source, &cousin) - 1.75).abs() < 1e-9);
    }

    #[test]
    fn rank_prefers_topic_and_text_and_never_returns_the_source() {
        let source = profile(1, 1, &[2], "putin visits pyongyang military alliance", 15);
        let candidates = vec![
            profile(1, 1, &[2], "putin visits pyongyang military alliance", 15),
            profile(2, 1, &[], "pyongyang missile launch", 14),
            profile(3, 2, &[1], "russia military alliance talks", 10),
            profile(4, 9, &[], "sofa cushions hide germs", 15),
            profile(5, 8, &[], "diamond found in park", 15),
            profile(2, 1, &[], "pyongyang missile launch", 14),
        ];
        let ranked = rank(&source, &candidates, 10);
        let mut ids: Vec<u128> = ranked.iter().map(|(id, _)| id.as_u128()).collect();
        assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1), "best first");
        ids.sort_unstable();
        assert_eq!(ids, [2, 3], "no self, no duplicate, nothing unrelated");
    }

    #[test]
    fn ties_go_to_the_newer_article() {
        let source = profile(1, 1, &[], "alpha", 15);
        let older = profile(2, 1, &[], "beta", 15);
        let mut newer = profile(3, 1, &[], "beta", 15);
        newer.published_at = older.published_at + Duration::seconds(0);
        let ranked = rank(&source, &[older, newer], 2);
        assert_eq!(ranked[0].0.as_u128(), 3, "equal score and time: higher id");
    }
}
