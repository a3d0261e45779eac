//! "Related articles": how much a candidate has in common with the article being read.
//!
//! The score adds three signals: shared topics (the same primary topic weighs most), shared
//! distinctive words (the source's keywords weighted by where they appear and by how rare they
//! are in the archive, see [`Rarity`], and, for a fifth, how much of the candidate's own
//! vocabulary the source holds), and closeness in time. The ranking then adds a fourth: how
//! much a candidate has in common with the strongest matches (see [`rank`]). Pure functions;
//! storage supplies the candidates and counts how common the source's keywords are in its
//! full-text index.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::search::{is_stop_word, place_of, words};

/// Weight of a keyword found in the headline, the dek and the body.
const HEADLINE_WEIGHT: f64 = 3.0;
const DEK_WEIGHT: f64 = 2.0;
const BODY_WEIGHT: f64 = 1.0;
/// Factor of a keyword written as a name in the dek or body (capitalised inside a sentence,
/// at least as often as not: `Pyongyang`, `Geneva`, `Samsung`): names say what a story is
/// about more than ordinary words do.
const NAME_FACTOR: f64 = 1.5;
/// Keywords kept per article: more than are counted for a source ([`COUNTED_KEYWORDS`]), so
/// that a word a candidate mentions once (a body word among many) is still found when the
/// source holds it strongly.
pub const MAX_KEYWORDS: usize = 80;

/// An article's weighted keywords (stemmed roughly), for similarity: sorted by word, with
/// their Euclidean norm kept so that a similarity is one merge of two short lists. Profiles
/// made from text also remember a word as written for each keyword (`tariffs` for `tariff`):
/// the form handed to a full-text engine, which stems it its own way.
#[derive(Debug, Clone, Default)]
pub struct Keywords {
    terms: Vec<(String, f64)>,
    norm: f64,
    /// The word as written for each of `terms` (same order); empty when decoded.
    written: Vec<String>,
}

impl PartialEq for Keywords {
    fn eq(&self, other: &Self) -> bool {
        self.terms == other.terms
    }
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

/// The keyword of `word` (lowercase) and the form handed to the full-text engine for it: a
/// place or its people (`Korea`, `Korean`, `Koreans`) is the place, which the engine is asked
/// for with its variants (see `data/place-variants.txt`); any other word its rough stem, and
/// the word as written.
fn keyword_of(word: &str) -> (String, String) {
    match place_of(word).or_else(|| word.strip_suffix('s').and_then(place_of)) {
        Some(place) => (place.to_owned(), place.to_owned()),
        None => (stem(word), word.to_owned()),
    }
}

/// Whether the word starting at character `start` of `chars` begins a sentence: nothing but
/// spaces, quotes and brackets between it and the start of the text, a line break or `.!?:;`.
fn starts_sentence(chars: &[char], start: usize) -> bool {
    chars[..start]
        .iter()
        .rev()
        .find(|c| !matches!(c, ' ' | '\t' | '"' | '\'' | '\u{201c}' | '\u{2018}' | '('))
        .is_none_or(|c| matches!(c, '.' | '!' | '?' | ':' | ';' | '\n' | '\r'))
}

impl Keywords {
    /// The keywords of an article's texts: words of three letters or more, stop words and
    /// numbers dropped, a place and its people as one (`Korean` is `korea`), weighted by where
    /// they appear (names weighing [`NAME_FACTOR`] times more), the strongest [`MAX_KEYWORDS`]
    /// kept.
    pub fn of(headline: &str, dek: &str, body: &str) -> Self {
        let mut weights: HashMap<String, f64> = HashMap::new();
        let mut written: HashMap<String, String> = HashMap::new();
        // Per keyword: written capitalised inside a sentence, written in lower case (the dek
        // and body only: a headline capitalises every word).
        let mut cases: HashMap<String, (u32, u32)> = HashMap::new();
        for (text, weight) in [
            (headline, HEADLINE_WEIGHT),
            (dek, DEK_WEIGHT),
            (body, BODY_WEIGHT),
        ] {
            let chars: Vec<char> = text.chars().collect();
            for (start, _, word) in words(text) {
                if word.chars().count() < 3
                    || is_stop_word(&word)
                    || word.chars().all(|c| c.is_ascii_digit())
                {
                    continue;
                }
                let (key, as_written) = keyword_of(&word);
                if weight != HEADLINE_WEIGHT {
                    let case = cases.entry(key.clone()).or_default();
                    if chars[start].is_uppercase() {
                        if !starts_sentence(&chars, start) {
                            case.0 += 1;
                        }
                    } else {
                        case.1 += 1;
                    }
                }
                *weights.entry(key.clone()).or_default() += weight;
                written.entry(key).or_insert(as_written);
            }
        }
        for (key, (capitalised, lower)) in cases {
            if capitalised > 0
                && capitalised >= lower
                && let Some(weight) = weights.get_mut(&key)
            {
                *weight *= NAME_FACTOR;
            }
        }
        let mut ranked: Vec<(String, f64)> = weights.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(MAX_KEYWORDS);
        let mut keywords = Self::from_terms(ranked);
        keywords.written = keywords
            .terms
            .iter()
            .map(|(key, _)| written.remove(key).unwrap_or_else(|| key.clone()))
            .collect();
        keywords
    }

    fn from_terms(mut terms: Vec<(String, f64)>) -> Self {
        terms.sort_by(|a, b| a.0.cmp(&b.0));
        terms.dedup_by(|a, b| a.0 == b.0);
        let norm = terms.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        Self {
            terms,
            norm,
            written: Vec::new(),
        }
    }

    /// The word as written for `keyword` (the keyword itself for a decoded profile); `None`
    /// when it is not one of the keywords.
    pub fn written(&self, keyword: &str) -> Option<&str> {
        let i = self
            .terms
            .binary_search_by(|(k, _)| k.as_str().cmp(keyword))
            .ok()?;
        Some(self.written.get(i).unwrap_or(&self.terms[i].0))
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
        cosine(&self.terms, self.norm, &other.terms, other.norm)
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

/// A keyword found in this many articles or more is common: counting stops there, and it is
/// never used to find candidates by text.
pub const COMMON_AT: u64 = 500;
/// How many of the source's strongest keywords storage counts in its index (a word low in
/// the profile still tells a sibling from a stranger when it is rare); the rest of its
/// [`MAX_KEYWORDS`] take no part in its text signal.
pub const COUNTED_KEYWORDS: usize = 40;
/// How many of the source's most distinctive keywords find candidates by text (any of them).
pub const SEARCHED_KEYWORDS: usize = 5;

/// How common each of the source's strongest keywords is: the number of articles of the
/// full-text index holding it, counted up to [`COMMON_AT`]. Keywords not counted (or found
/// nowhere: the engine drops the word) do not take part in the text signal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rarity {
    counts: HashMap<String, u64>,
}

impl Rarity {
    /// From (keyword, articles holding it) pairs.
    pub fn new(counts: impl IntoIterator<Item = (String, u64)>) -> Self {
        Self {
            counts: counts.into_iter().collect(),
        }
    }

    /// Inverse document frequency of `keyword`: `ln(COMMON_AT / count)`, about 6.2 for a word
    /// in one article, 0.69 for one in half of [`COMMON_AT`] articles and 0 for a common one
    /// (it carries nothing); `None` when not counted or found nowhere.
    pub fn idf(&self, keyword: &str) -> Option<f64> {
        let count = *self.counts.get(keyword)?;
        (count > 0).then(|| (COMMON_AT as f64 / count.min(COMMON_AT) as f64).ln())
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.values().all(|c| *c == 0)
    }

    /// The (keyword, articles holding it) pairs it was made from, in no particular order
    /// ([`Rarity::new`] reads them back): for recording a ranking's inputs.
    pub fn counts(&self) -> impl Iterator<Item = (&str, u64)> {
        self.counts.iter().map(|(k, c)| (k.as_str(), *c))
    }
}

impl Keywords {
    /// The keywords storage should count for a [`Rarity`]: the strongest
    /// [`COUNTED_KEYWORDS`], as (keyword, word as written).
    pub fn to_count(&self) -> Vec<(&str, &str)> {
        self.top(COUNTED_KEYWORDS)
            .into_iter()
            .map(|k| (k, self.written(k).unwrap_or(k)))
            .collect()
    }

    /// The words that find candidates by text: of the counted keywords, the
    /// [`SEARCHED_KEYWORDS`] with the highest weight × rarity that are not common, as written.
    pub fn distinctive(&self, rarity: &Rarity) -> Vec<&str> {
        let mut scored: Vec<(&str, f64)> = self
            .terms
            .iter()
            .filter(|(k, _)| {
                rarity
                    .counts
                    .get(k)
                    .is_some_and(|c| (1..COMMON_AT).contains(c))
            })
            .filter_map(|(k, w)| rarity.idf(k).map(|idf| (k.as_str(), w * idf)))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        scored
            .into_iter()
            .take(SEARCHED_KEYWORDS)
            .map(|(k, _)| self.written(k).unwrap_or(k))
            .collect()
    }

    /// How much of the source's distinctive vocabulary `other` shares, in `[0, 1)`: each
    /// counted keyword of `self` carries its weight × rarity, and `other` earns that share
    /// scaled by how strongly it uses the word (`w / (w + SATURATION)`: a body mention a
    /// third, a headline three fifths, three body mentions and a headline three quarters).
    /// Without counts (nothing counted), the plain cosine of the weights.
    pub fn overlap(&self, other: &Self, rarity: &Rarity) -> f64 {
        if rarity.is_empty() {
            return self.similarity(other);
        }
        let (mut total, mut shared) = (0.0, 0.0);
        for (key, weight) in &self.terms {
            let Some(idf) = rarity.idf(key) else {
                continue;
            };
            let mass = weight * idf;
            total += mass;
            let theirs = other.weight(key);
            if theirs > 0.0 {
                shared += mass * theirs / (theirs + SATURATION);
            }
        }
        if total == 0.0 { 0.0 } else { shared / total }
    }
}

/// How fast a candidate's use of a word saturates in [`Keywords::overlap`]: the weight at
/// which it earns half of the word's share.
const SATURATION: f64 = 2.0;
/// The inverse document frequency taken in [`Keywords::reciprocal`] for a word of the
/// candidate that the source does not hold (so was not counted): that of a word in about 70 of
/// [`COMMON_AT`] articles, a middling word.
const UNCOUNTED_IDF: f64 = 2.0;

impl Keywords {
    /// How much of `other`'s own vocabulary the source (`self`) holds, in `[0, 1)`: the mirror
    /// of [`Keywords::overlap`], each keyword of `other` carrying its weight × rarity (the
    /// source's counts for the words they share, [`UNCOUNTED_IDF`] for the others), earned
    /// as the source uses the word. A candidate that is mostly about something the source never
    /// mentions scores low even when it holds the source's words. Without counts, the cosine.
    pub fn reciprocal(&self, other: &Self, rarity: &Rarity) -> f64 {
        if rarity.is_empty() {
            return self.similarity(other);
        }
        let (mut total, mut shared) = (0.0, 0.0);
        for (key, weight) in &other.terms {
            let mine = self.weight(key);
            let idf = if mine > 0.0 {
                match rarity.idf(key) {
                    Some(idf) => idf,
                    None => continue,
                }
            } else {
                UNCOUNTED_IDF
            };
            let mass = weight * idf;
            total += mass;
            if mine > 0.0 {
                shared += mass * mine / (mine + SATURATION);
            }
        }
        if total == 0.0 { 0.0 } else { shared / total }
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
pub const SAME_PRIMARY: f64 = 2.0;
/// Points for carrying the source's primary topic otherwise, or having the source carry the
/// candidate's primary topic.
pub const PRIMARY_SHARED: f64 = 1.0;
/// Points per other shared topic (at most two count).
pub const OTHER_SHARED: f64 = 0.25;
/// Points for sharing all of the source's distinctive words; the overlap scales it.
pub const TEXT: f64 = 24.0;
/// The part of [`TEXT`] earned by [`Keywords::reciprocal`] (the rest by
/// [`Keywords::overlap`]).
pub const RECIPROCAL_SHARE: f64 = 0.2;
/// Points for being published at the same time; halves every [`RECENCY_HALF_LIFE_DAYS`].
pub const RECENCY: f64 = 1.0;
/// Half-life of the recency points, in days apart.
pub const RECENCY_HALF_LIFE_DAYS: f64 = 14.0;

/// How related `candidate` is to `source`, with the rarity of the source's keywords.
pub fn score(source: &Profile, rarity: &Rarity, candidate: &Profile) -> f64 {
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
    let text = TEXT
        * ((1.0 - RECIPROCAL_SHARE) * source.keywords.overlap(&candidate.keywords, rarity)
            + RECIPROCAL_SHARE * source.keywords.reciprocal(&candidate.keywords, rarity));
    let days_apart = (source.published_at - candidate.published_at)
        .num_seconds()
        .abs() as f64
        / 86_400.0;
    let recency = RECENCY * 0.5_f64.powf(days_apart / RECENCY_HALF_LIFE_DAYS);
    topics + text + recency
}

/// How many of the strongest candidates by words the others are compared with in
/// [`rank`]'s second step.
pub const NEIGHBOURS: usize = 2;
/// A candidate is one of those [`NEIGHBOURS`] only when its share of the source's words is at
/// least this part of the best candidate's: a weak match says nothing about the story.
pub const NEIGHBOUR_MIN_SHARE: f64 = 0.5;
/// Points for having the same words as the strongest candidates (see [`rank`]): a part of
/// [`TEXT`], scaled by the mean cosine similarity to them.
pub const SHARED_NEIGHBOURS: f64 = 0.2 * TEXT;

/// A profile's words weighted by their rarity (the source's counts where it counted the word,
/// [`UNCOUNTED_IDF`] otherwise), with their Euclidean norm: what [`rank`] compares candidates
/// with each other by.
struct Weighted<'a> {
    terms: Vec<(&'a str, f64)>,
    norm: f64,
}

impl<'a> Weighted<'a> {
    fn of(keywords: &'a Keywords, rarity: &Rarity) -> Self {
        let terms: Vec<(&str, f64)> = keywords
            .terms
            .iter()
            .map(|(key, weight)| {
                let idf = if rarity.counts.contains_key(key) {
                    rarity.idf(key).unwrap_or(0.0)
                } else {
                    UNCOUNTED_IDF
                };
                (key.as_str(), weight * idf)
            })
            .filter(|(_, mass)| *mass > 0.0)
            .collect();
        let norm = terms.iter().map(|(_, m)| m * m).sum::<f64>().sqrt();
        Self { terms, norm }
    }

    /// Cosine similarity in `[0, 1]` (both lists are sorted by word).
    fn similarity(&self, other: &Self) -> f64 {
        cosine(&self.terms, self.norm, &other.terms, other.norm)
    }
}

/// The cosine of two weight lists sorted by word, with their norms, in `[0, 1]`: one merge.
fn cosine<K: Ord>(a: &[(K, f64)], a_norm: f64, b: &[(K, f64)], b_norm: f64) -> f64 {
    let denominator = a_norm * b_norm;
    if denominator == 0.0 {
        return 0.0;
    }
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while let (Some((ka, x)), Some((kb, y))) = (a.get(i), b.get(j)) {
        match ka.cmp(kb) {
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

/// The `limit` most related candidates, best first: never the source, never twice; ties go to
/// the newer article, then the higher id. Candidates with nothing in common (no shared topic
/// and no shared counted keyword) are left out.
///
/// Two steps. Each candidate is first scored against the source ([`score`]). Then the
/// [`NEIGHBOURS`] best of them, among those sharing a good part of the source's words
/// ([`NEIGHBOUR_MIN_SHARE`] of the best share), stand for the story, and every candidate earns up
/// to [`SHARED_NEIGHBOURS`] more points by its mean similarity to them (to the other one, for one
/// of them): a story about the same event shares its particular words with the strongest
/// matches, where one that only shares the region's names with the source does not. Bounded work:
/// one more comparison of two short lists per candidate and neighbour.
pub fn rank(
    source: &Profile,
    rarity: &Rarity,
    candidates: &[Profile],
    limit: usize,
) -> Vec<(Uuid, f64)> {
    let mut kept: Vec<(&Profile, f64, f64)> = Vec::with_capacity(candidates.len());
    for c in candidates {
        if c.id == source.id || kept.iter().any(|k| k.0.id == c.id) {
            continue;
        }
        let shares_topic = c.topics.iter().any(|t| source.topics.contains(t));
        let share = source.keywords.overlap(&c.keywords, rarity);
        if !shares_topic && share <= 0.0 {
            continue;
        }
        kept.push((c, score(source, rarity, c), share));
    }
    let best_share = kept.iter().map(|k| k.2).fold(0.0, f64::max);
    let mut order: Vec<usize> = (0..kept.len()).collect();
    order.sort_by(|&a, &b| kept[b].1.total_cmp(&kept[a].1));
    let neighbours: Vec<usize> = order
        .into_iter()
        .filter(|&i| best_share > 0.0 && kept[i].2 >= NEIGHBOUR_MIN_SHARE * best_share)
        .take(NEIGHBOURS)
        .collect();
    let mut scored: Vec<(Uuid, f64, DateTime<Utc>)> = Vec::with_capacity(kept.len());
    if neighbours.len() < 2 {
        // One neighbour alone would pull the list towards itself and reward nothing.
        scored.extend(kept.iter().map(|(c, s, _)| (c.id, *s, c.published_at)));
    } else {
        let weighted: Vec<Weighted> = neighbours
            .iter()
            .map(|&i| Weighted::of(&kept[i].0.keywords, rarity))
            .collect();
        for (i, (c, s, _)) in kept.iter().enumerate() {
            let own = Weighted::of(&c.keywords, rarity);
            let (mut sum, mut n) = (0.0, 0);
            for (j, neighbour) in neighbours.iter().zip(&weighted) {
                if *j != i {
                    sum += own.similarity(neighbour);
                    n += 1;
                }
            }
            let shared = if n == 0 { 0.0 } else { sum / f64::from(n) };
            scored.push((c.id, s + SHARED_NEIGHBOURS * shared, c.published_at));
        }
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
        assert_eq!(
            k.written("tariff"),
            Some("tariffs"),
            "the first form met, for the engine"
        );
        assert!(k.weight("steel") > 0.0);
        assert_eq!(k.weight("2025"), 0.0);
        assert_eq!(k.weight("the"), 0.0);
        let same = Keywords::of("Missile test", "", "");
        let plural = Keywords::of("Missiles tested", "", "");
        assert!(same.similarity(&plural) > 0.99);
        assert_eq!(same.similarity(&Keywords::default()), 0.0);
    }

    #[test]
    fn names_weigh_more_than_words_written_in_lower_case() {
        let k = Keywords::of(
            "Envoys Meet In Geneva",
            "Talks in Geneva ended; Envoys left.",
            "\"Progress was slow,\" an envoy said. (Talks resume in June.) Geneva hosted the talks.",
        );
        // `geneva`: headline 3 + dek 2 + body 1, written as a name inside a sentence.
        assert!((k.weight("geneva") - 6.0 * NAME_FACTOR).abs() < 1e-9);
        // `envoy`: capitalised only where a sentence starts, and once in lower case.
        assert!((k.weight("envoy") - 6.0).abs() < 1e-9);
        // `talk`: capitalised after a quote and a bracket that start sentences, and in lower
        // case; `june`: a name inside a bracketed sentence.
        assert!((k.weight("talk") - 4.0).abs() < 1e-9);
        assert!((k.weight("june") - NAME_FACTOR).abs() < 1e-9);
        // The headline alone never makes a name.
        assert!((k.weight("meet") - 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_place_and_its_people_are_one_keyword_asked_for_as_the_place() {
        let k = Keywords::of(
            "Korean Troops In Russia",
            "Russian officials and Koreans",
            "North Korea sent troops.",
        );
        // `Korean` (headline 3), `Koreans` (dek 2, a name), `Korea` (body 1, a name).
        assert!((k.weight("korea") - 6.0 * NAME_FACTOR).abs() < 1e-9);
        assert_eq!(k.weight("korean"), 0.0);
        assert!(k.weight("russia") > 0.0);
        // The engine is asked for the place (storage adds its variants), never `koreans`.
        assert_eq!(k.written("korea"), Some("korea"));
        assert_eq!(k.written("troop"), Some("troops"));
        let other = Keywords::of("Korea Talks", "", "");
        assert!(k.similarity(&other) > 0.0, "`Korean` meets `Korea`");
    }

    #[test]
    fn a_candidate_about_something_else_shares_less_than_a_focused_one() {
        let source = Keywords::of("Botulism in canned tuna", "", "");
        let focused = Keywords::of("Tuna botulism", "", "");
        let sprawling = Keywords::of(
            "Tuna botulism",
            "Senate budget vote delayed as election nears",
            "Lawmakers argue over pensions, tariffs and railways",
        );
        let rarity = Rarity::new([
            ("botulism".to_owned(), 3),
            ("cann".to_owned(), 10),
            ("tuna".to_owned(), 5),
        ]);
        // Both hold the source's words alike…
        let (a, b) = (
            source.overlap(&focused, &rarity),
            source.overlap(&sprawling, &rarity),
        );
        assert!((a - b).abs() < 1e-12, "{a} {b}");
        // …but most of the sprawling one's own vocabulary is absent from the source.
        let (a, b) = (
            source.reciprocal(&focused, &rarity),
            source.reciprocal(&sprawling, &rarity),
        );
        assert!(a > 2.0 * b && b > 0.0, "{a} {b}");
        let source = Profile {
            keywords: source,
            ..profile(1, 1, &[], "", 10)
        };
        let mut focused_profile = profile(2, 2, &[], "", 10);
        focused_profile.keywords = focused;
        let mut sprawling_profile = profile(3, 2, &[], "", 10);
        sprawling_profile.keywords = sprawling;
        let ranked = rank(&source, &rarity, &[sprawling_profile, focused_profile], 2);
        assert_eq!(ranked[0].0.as_u128(), 2, "{ranked:?}");
        // Without counts, the cosine, which is symmetric.
        let x = Keywords::decode("korea:3 missile:2");
        let y = Keywords::decode("korea:1 sofa:2");
        assert!((x.reciprocal(&y, &Rarity::default()) - x.similarity(&y)).abs() < 1e-12);
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
        // Same primary (2) + one other shared topic (0.25) + identical text (24) + same day
        // (1).
        let source = profile(1, 1, &[2], "north korea russia summit", 15);
        let twin = profile(2, 1, &[2], "north korea russia summit", 15);
        assert!((score(&source, &Rarity::default(), &twin) - 27.25).abs() < 1e-9);
        // Different primary that carries the source's primary (1), no text, 14 days apart
        // (0.5).
        let cousin = profile(3, 3, &[1], "sofa cleaning", 1);
        assert!((score(&source, &Rarity::default(), &cousin) - 1.5).abs() < 1e-9);
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
        let ranked = rank(&source, &Rarity::default(), &candidates, 10);
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
        let ranked = rank(&source, &Rarity::default(), &[older, newer], 2);
        assert_eq!(ranked[0].0.as_u128(), 3, "equal score and time: higher id");
    }

    #[test]
    fn rare_words_find_and_weigh_more_than_common_ones() {
        let source = Keywords::of(
            "Officials agree again on canned goods",
            "Botulism risk in canned tuna, officials said",
            "",
        );
        let rarity = Rarity::new([
            ("official".to_owned(), COMMON_AT),
            ("agree".to_owned(), COMMON_AT),
            ("again".to_owned(), 900),
            ("cann".to_owned(), 12),
            ("good".to_owned(), 300),
            ("botulism".to_owned(), 3),
            ("risk".to_owned(), 200),
            ("tuna".to_owned(), 4),
            ("said".to_owned(), COMMON_AT),
        ]);
        // The engine gets words as written ("canned", never the rough stem "cann"), by weight
        // × rarity (`canned` is in the headline and the dek), common ones never.
        let searched = source.distinctive(&rarity);
        assert_eq!(searched[..3], ["canned", "botulism", "tuna"]);
        assert!(!searched.contains(&"officials") && !searched.contains(&"agree"));
        let sibling = Keywords::of("Home canning and botulism", "", "Canned food safety");
        let filler = Keywords::of("Officials agree again on budgets", "Officials said", "");
        assert!(source.overlap(&sibling, &rarity) > 0.3);
        assert_eq!(
            source.overlap(&filler, &rarity),
            0.0,
            "common words carry nothing"
        );
        // The counts read back as they were given.
        let mut counts: Vec<(&str, u64)> = rarity.counts().collect();
        counts.sort_unstable();
        assert_eq!(counts[..2], [("again", 900), ("agree", COMMON_AT)]);
        assert_eq!(
            Rarity::new(counts.iter().map(|(k, c)| ((*k).to_owned(), *c))),
            rarity
        );
        // Uncounted or unknown words carry nothing; without counts, the cosine.
        assert_eq!(rarity.idf("missing"), None);
        assert_eq!(Rarity::new([("x".to_owned(), 0)]).idf("x"), None);
        assert!(
            (source.overlap(&sibling, &Rarity::default()) - source.similarity(&sibling)).abs()
                < 1e-12
        );
    }

    #[test]
    fn a_buried_sibling_outranks_newer_filler_of_the_same_topic() {
        let mut source = profile(1, 1, &[], "botulism in canned tuna recall", 10);
        source.keywords = Keywords::of("Botulism in canned tuna", "Officials said", "recall");
        let rarity = Rarity::new([
            ("botulism".to_owned(), 3),
            ("cann".to_owned(), 10),
            ("tuna".to_owned(), 5),
            ("official".to_owned(), COMMON_AT),
            ("said".to_owned(), COMMON_AT),
            ("recall".to_owned(), 40),
        ]);
        let mut sibling = profile(2, 2, &[1], "", 1);
        sibling.keywords = Keywords::of("Home canning brings botulism warnings", "", "");
        let mut filler = profile(3, 1, &[], "", 10);
        filler.keywords = Keywords::of("Officials said budgets", "Officials said", "");
        let ranked = rank(&source, &rarity, &[filler, sibling], 2);
        assert_eq!(ranked[0].0.as_u128(), 2, "{ranked:?}");
    }

    /// A source that names its region (`korea`, `russia`) and its event (`summit`, `treaty`),
    /// each word in ten articles.
    fn summit_story() -> (Profile, Rarity) {
        let source = with(1, "korea:3 russia:3 summit:3 treaty:3");
        let rarity =
            Rarity::new(["korea", "russia", "summit", "treaty"].map(|k| (k.to_owned(), 10)));
        (source, rarity)
    }

    /// An article of the same topic and day as [`summit_story`]'s, with these keywords.
    fn with(id: u128, keywords: &str) -> Profile {
        let mut p = profile(id, 1, &[], "", 15);
        p.keywords = Keywords::decode(keywords);
        p
    }

    #[test]
    fn the_story_of_the_strongest_matches_outranks_the_region_alone() {
        let (source, rarity) = summit_story();
        // The two strongest matches hold the whole story, and a word the source lacks.
        let a = with(2, "korea:3 russia:3 summit:3 treaty:3 alliance:3");
        let b = with(3, "korea:3 russia:3 summit:3 treaty:3 alliance:3 signing:2");
        // Two weaker ones hold half of the source's words each: the region, or the event.
        let event = with(4, "summit:3 treaty:3 alliance:3 delegate:3");
        let region = with(5, "korea:3 russia:3 destroyer:3 navy:3");
        // Against the source alone they tie, and the tie would go to the region (higher id)…
        let (e, r) = (
            score(&source, &rarity, &event),
            score(&source, &rarity, &region),
        );
        assert!((e - r).abs() < 1e-12, "{e} {r}");
        // …but the event shares more with the strongest matches.
        let ranked = rank(&source, &rarity, &[region, event, b, a], 4);
        let ids: Vec<u128> = ranked.iter().map(|(id, _)| id.as_u128()).collect();
        assert_eq!(ids[2..], [4, 5], "{ranked:?}");
        assert!(ranked[2].1 > e + 1.0, "{ranked:?}");
    }

    #[test]
    fn one_strong_match_alone_changes_nothing() {
        let (source, rarity) = summit_story();
        // One candidate holds the story; the others hold a word of it among many of their own,
        // less than half of the best share: none stands for the story with it.
        let candidates = [
            with(2, "korea:3 russia:3 summit:3 treaty:3"),
            with(3, "summit:1 budget:3 pension:3 vote:3"),
            with(4, "korea:1 sofa:3 cushion:3 germ:3"),
        ];
        let ranked = rank(&source, &rarity, &candidates, 3);
        assert_eq!(ranked.len(), 3);
        for (id, points) in ranked {
            let c = candidates.iter().find(|c| c.id == id).unwrap();
            assert!((points - score(&source, &rarity, c)).abs() < 1e-12);
        }
    }

    #[test]
    fn a_long_story_keeps_more_words_than_are_counted() {
        // Sixty distinct body words, each once: all kept, the strongest forty counted.
        let body: Vec<String> = (0..60)
            .map(|n| {
                let a = char::from(b'a' + (n / 26) as u8);
                let b = char::from(b'a' + (n % 26) as u8);
                format!("word{a}{b}")
            })
            .collect();
        let k = Keywords::of("Summit", "", &body.join(" "));
        assert_eq!(k.top(MAX_KEYWORDS).len(), 61);
        assert!(k.weight("wordch") > 0.0, "a late word is kept");
        assert_eq!(k.to_count().len(), COUNTED_KEYWORDS);
        assert_eq!(k.to_count()[0].0, "summit", "the strongest are counted");
    }
}
