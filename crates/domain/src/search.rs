//! Search queries as readers type them, parsed into clauses both engines understand, and the
//! highlighting of what matched.
//!
//! A query is words, `"quoted phrases"` and `prefix*` words. Every clause is re-written in the
//! engine's syntax from letters and digits only, so no input can reach the engine as syntax;
//! English stop words are dropped, and a query left empty finds nothing. A word that names a
//! place or its people matches the others of its line in `data/place-variants.txt` ("Korean"
//! finds "Korea"). Results come in two [`Tier`]s: articles matching every clause first, then,
//! when those are too few, articles matching any of the query's distinctive clauses.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::ValidationError;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most clauses a query may have.
pub const MAX_CLAUSES: usize = 12;
/// The quoting rule of [`SearchQuery::parse`] (quotes come in pairs), as a regular expression in
/// the common subset of ECMA-262 and Rust's `regex`.
pub const BALANCED_QUOTES_PATTERN: &str = "^[^\"]*(?:\"[^\"]*\"[^\"]*)*$";
/// Most matches a search ranks (the newest this many, by relevance), so the most hits a reader
/// can page through; search cursors never point beyond it.
pub const MAX_RANKED_HITS: u64 = 1_000;

/// Which tier of a search a hit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// The article matches every word, phrase and prefix of the query.
    AllWords,
    /// Fewer articles matched everything than were asked for: this one matches some of the
    /// query's distinctive words (ranked by the engine), after every all-words hit.
    AnyWord,
}

/// The place-name list (see `data/place-variants.txt`).
const PLACE_VARIANTS: &str = include_str!("../data/place-variants.txt");

/// Each listed word and the words of its line (itself included).
static VARIANTS: LazyLock<HashMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for line in PLACE_VARIANTS.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        for word in &words {
            map.insert(*word, words.clone());
        }
    }
    map
});

/// The words `word` (lowercase) also matches as a place name or its people, itself first;
/// just itself when it is not on the list.
pub fn place_variants(word: &str) -> Vec<&str> {
    let mut out = vec![word];
    if let Some(line) = VARIANTS.get(word) {
        out.extend(line.iter().copied().filter(|w| *w != word));
    }
    out
}

/// The place that `word` (lowercase) names, itself or its people (`korean` → `korea`): the
/// first word of its line in `data/place-variants.txt`; `None` when it is not on the list.
pub fn place_of(word: &str) -> Option<&'static str> {
    VARIANTS.get(word).and_then(|line| line.first().copied())
}

/// One part of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// A word (stemmed by the engine).
    Word(String),
    /// Words starting with this.
    Prefix(String),
    /// These words, in this order.
    Phrase(Vec<String>),
}

/// A parsed search query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    clauses: Vec<Clause>,
}

const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he",
    "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me", "more", "most",
    "my", "no", "not", "of", "on", "or", "our", "out", "over", "she", "so", "some", "such", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too",
    "up", "us", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
    "why", "will", "with", "would", "you", "your",
];

/// Whether `word` (lowercase) is an English stop word.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// The words of `text`: runs of letters and digits, lowercased, with their character offsets.
pub fn words(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut current = String::new();
    let mut index = 0;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            start.get_or_insert(index);
            current.extend(ch.to_lowercase());
        } else if let Some(s) = start.take() {
            out.push((s, index, std::mem::take(&mut current)));
        }
        index += 1;
    }
    if let Some(s) = start {
        out.push((s, index, current));
    }
    out
}

impl SearchQuery {
    /// Parses what a reader typed, naming `field` in errors: too long, an unclosed quote, or a
    /// prefix shorter than two characters.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(ValidationError::new(
                field,
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        if raw.matches('"').count() % 2 == 1 {
            return Err(ValidationError::new(
                field,
                "has a quote that is not closed: put phrases between two double quotes",
            ));
        }
        let mut clauses: Vec<Clause> = Vec::new();
        for (i, part) in raw.split('"').enumerate() {
            if i % 2 == 1 {
                let phrase: Vec<String> = words(part).into_iter().map(|(_, _, w)| w).collect();
                if phrase.iter().all(|w| is_stop_word(w)) {
                    continue;
                }
                clauses.push(if phrase.len() == 1 {
                    Clause::Word(phrase.into_iter().next().unwrap_or_default())
                } else {
                    Clause::Phrase(phrase)
                });
                continue;
            }
            let chars: Vec<char> = part.chars().collect();
            for (_, end, word) in words(part) {
                if chars.get(end) == Some(&'*') {
                    if word.chars().count() < 2 {
                        return Err(ValidationError::new(
                            field,
                            format!("`{word}*`: a prefix needs at least two characters"),
                        ));
                    }
                    clauses.push(Clause::Prefix(word));
                } else if !is_stop_word(&word) {
                    clauses.push(Clause::Word(word));
                }
            }
        }
        let mut unique: Vec<Clause> = Vec::with_capacity(clauses.len());
        for clause in clauses {
            if !unique.contains(&clause) {
                unique.push(clause);
            }
        }
        if unique.len() > MAX_CLAUSES {
            return Err(ValidationError::new(
                field,
                format!("has more than {MAX_CLAUSES} words and phrases"),
            ));
        }
        Ok(Self { clauses: unique })
    }

    /// A query of `words` as they are (lowercase letters and digits, not parsed: no stop words
    /// dropped, no phrases or prefixes), each once: what related articles searches for, to be
    /// written as any of them ([`SearchQuery::to_fts5_any`], [`SearchQuery::to_tsquery_any`]).
    pub fn of_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut clauses: Vec<Clause> = Vec::new();
        for word in words {
            let clause = Clause::Word(word.to_owned());
            if !clauses.contains(&clause) {
                clauses.push(clause);
            }
        }
        Self { clauses }
    }

    /// Whether nothing searchable is left (only stop words or punctuation): finds nothing.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The clauses.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// The query in SQLite FTS5 syntax: every clause quoted, combined with AND (a place name
    /// as an OR of its variants).
    pub fn to_fts5(&self) -> String {
        self.render(0..self.clauses.len(), &FTS5, FTS5.and)
    }

    /// The clauses at `indices` in FTS5 syntax, combined with OR (the any-word tier).
    pub fn to_fts5_any(&self, indices: &[usize]) -> String {
        self.render(indices.iter().copied(), &FTS5, FTS5.or)
    }

    /// The query in PostgreSQL `to_tsquery` syntax: lexemes quoted, `&` between clauses,
    /// `<->` inside phrases, `:*` for prefixes, `|` between a place name's variants.
    pub fn to_tsquery(&self) -> String {
        self.render(0..self.clauses.len(), &TSQUERY, TSQUERY.and)
    }

    /// The clauses at `indices` in `to_tsquery` syntax, combined with `|` (the any-word tier).
    pub fn to_tsquery_any(&self, indices: &[usize]) -> String {
        self.render(indices.iter().copied(), &TSQUERY, TSQUERY.or)
    }

    /// The clauses at `indices` in one engine's syntax, joined by `join`.
    fn render(&self, indices: impl Iterator<Item = usize>, syntax: &Syntax, join: &str) -> String {
        let quote = |w: &str| format!("{q}{w}{q}", q = syntax.quote);
        indices
            .filter_map(|i| self.clauses.get(i))
            .map(|clause| match clause {
                Clause::Word(w) => {
                    let variants = place_variants(w);
                    if variants.len() == 1 {
                        quote(w)
                    } else {
                        let alternatives: Vec<String> = variants.iter().map(|v| quote(v)).collect();
                        format!("({})", alternatives.join(syntax.or))
                    }
                }
                Clause::Prefix(p) => format!("{}{}", quote(p), syntax.prefix),
                Clause::Phrase(ws) => (syntax.phrase)(ws),
            })
            .collect::<Vec<_>>()
            .join(join)
    }

    fn matches_word(&self, word: &str) -> bool {
        let stem = light_stem(word);
        self.clauses.iter().any(|clause| match clause {
            Clause::Word(w) => place_variants(w).iter().any(|v| light_stem(v) == stem),
            Clause::Prefix(p) => word.starts_with(p.as_str()),
            Clause::Phrase(ws) => ws.iter().any(|w| !is_stop_word(w) && light_stem(w) == stem),
        })
    }
}

/// A rough English stem for highlighting (the engines do the real stemming for matching).
fn light_stem(word: &str) -> &str {
    for suffix in ["ing", "ies", "es", "ed", "s"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.chars().count() >= 3
        {
            return stem;
        }
    }
    word
}

/// A piece of text with the query's words marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    /// The (possibly shortened) text; `…` marks a cut.
    pub text: String,
    /// Character offsets `[start, end)` of the matched words in `text`.
    pub ranges: Vec<(usize, usize)>,
}

impl Highlight {
    /// The text as HTML, escaped, with matches in `<mark>`.
    pub fn to_html(&self) -> String {
        let chars: Vec<char> = self.text.chars().collect();
        let mut html = String::with_capacity(self.text.len() + 16 * self.ranges.len());
        let mut at = 0;
        for &(start, end) in &self.ranges {
            let before: String = chars[at..start].iter().collect();
            let marked: String = chars[start..end].iter().collect();
            html.push_str(&html_escape::encode_text(&before));
            html.push_str("<mark>");
            html.push_str(&html_escape::encode_text(&marked));
            html.push_str("</mark>");
            at = end;
        }
        let rest: String = chars[at..].iter().collect();
        html.push_str(&html_escape::encode_text(&rest));
        html
    }
}

/// Marks the query's words in `text`, cut to about `max_chars` around the first match (the
/// start of the text when nothing matches).
pub fn highlight(text: &str, query: &SearchQuery, max_chars: usize) -> Highlight {
    let chars: Vec<char> = text.chars().collect();
    let hits: Vec<(usize, usize)> = words(text)
        .into_iter()
        .filter(|(_, _, w)| query.matches_word(w))
        .map(|(s, e, _)| (s, e))
        .collect();
    if chars.len() <= max_chars {
        return Highlight {
            text: text.to_owned(),
            ranges: hits,
        };
    }
    // A window starting a little before the first hit, moved to word boundaries.
    let first = hits.first().map_or(0, |h| h.0);
    let mut start = first.saturating_sub(max_chars / 4);
    while start > 0 && !chars[start - 1].is_whitespace() {
        start -= 1;
    }
    let mut end = (start + max_chars).min(chars.len());
    while end < chars.len() && end > start && !chars[end - 1].is_whitespace() {
        end -= 1;
    }
    if end <= start {
        end = (start + max_chars).min(chars.len());
    }
    let body: String = chars[start..end].iter().collect::<String>();
    let trimmed = body.trim_end();
    let prefix = if start > 0 { "…" } else { "" };
    let suffix = if end < chars.len() { "…" } else { "" };
    let shift = prefix.chars().count();
    let kept = trimmed.chars().count();
    Highlight {
        text: format!("{prefix}{trimmed}{suffix}"),
        ranges: hits
            .into_iter()
            .filter(|&(s, e)| s >= start && e <= start + kept)
            .map(|(s, e)| (s - start + shift, e - start + shift))
            .collect(),
    }
}

/// How one engine writes a query: FTS5 (SQLite) or `to_tsquery` (PostgreSQL).
struct Syntax {
    quote: char,
    and: &'static str,
    or: &'static str,
    prefix: &'static str,
    phrase: fn(&[String]) -> String,
}

/// SQLite FTS5: `"word"`, `"prefix"*`, `"a phrase"`.
const FTS5: Syntax = Syntax {
    quote: '"',
    and: " AND ",
    or: " OR ",
    prefix: "*",
    phrase: |words| format!("\"{}\"", words.join(" ")),
};

/// PostgreSQL `to_tsquery`: `'word'`, `'prefix':*`, `('a' <-> 'phrase')`.
const TSQUERY: Syntax = Syntax {
    quote: '\'',
    and: " & ",
    or: " | ",
    prefix: ":*",
    phrase: |words| {
        format!(
            "({})",
            words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" <-> ")
        )
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> SearchQuery {
        SearchQuery::parse("query", raw).unwrap()
    }

    #[test]
    fn stop_words_are_sorted_for_lookup() {
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOP_WORDS);
    }

    #[test]
    fn words_phrases_and_prefixes() {
        let q = parse(r#"North Korea* "military alliance" the Russia"#);
        assert_eq!(
            q.clauses(),
            [
                Clause::Word("north".into()),
                Clause::Prefix("korea".into()),
                Clause::Phrase(vec!["military".into(), "alliance".into()]),
                Clause::Word("russia".into()),
            ]
        );
        assert_eq!(
            q.to_fts5(),
            r#""north" AND "korea"* AND "military alliance" AND ("russia" OR "russian")"#
        );
        assert_eq!(
            q.to_tsquery(),
            "'north' & 'korea':* & ('military' <-> 'alliance') & ('russia' | 'russian')"
        );
    }

    #[test]
    fn place_names_match_their_people_both_ways_on_both_engines() {
        let q = parse("Korean troops Russia");
        assert_eq!(
            q.to_fts5(),
            r#"("korean" OR "korea") AND "troops" AND ("russia" OR "russian")"#
        );
        assert_eq!(
            q.to_tsquery(),
            "('korean' | 'korea') & 'troops' & ('russia' | 'russian')"
        );
        assert_eq!(
            q.to_fts5_any(&[1, 2]),
            r#""troops" OR ("russia" OR "russian")"#
        );
        assert_eq!(q.to_tsquery_any(&[0, 1]), "('korean' | 'korea') | 'troops'");
        // Phrases and prefixes stay as typed.
        let q = parse(r#""North Korean" korea*"#);
        assert_eq!(q.to_fts5(), r#""north korean" AND "korea"*"#);
        let h = highlight("Korea and the Koreans", &parse("korean"), 200);
        assert_eq!(h.ranges, [(0, 5), (14, 21)]);
    }

    #[test]
    fn the_place_list_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for line in PLACE_VARIANTS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert!(words.len() >= 2, "{line}");
            for w in words {
                assert!(w.chars().all(|c| c.is_ascii_lowercase()), "{w}");
                assert!(!is_stop_word(w), "{w}");
                assert!(seen.insert(w), "{w} is on two lines");
            }
        }
        assert_eq!(place_variants("zeppelin"), ["zeppelin"]);
        assert_eq!(place_of("korean"), Some("korea"));
        assert_eq!(place_of("korea"), Some("korea"));
        assert_eq!(place_of("zeppelin"), None);
    }

    #[test]
    fn only_stop_words_or_punctuation_is_empty_not_an_error() {
        for raw in [
            "the of and",
            "!!! ??? ---",
            "",
            "   ",
            r#""the a""#,
            "(AND) OR NOT",
        ] {
            assert!(parse(raw).is_empty(), "{raw}");
        }
    }

    #[test]
    fn engine_syntax_never_passes_through() {
        let q = parse(r#"NEAR(a b) col:value ^start -not "x" AND ' OR 1=1 --"#);
        for clause in q.clauses() {
            let text = match clause {
                Clause::Word(w) | Clause::Prefix(w) => w.clone(),
                Clause::Phrase(ws) => ws.join(""),
            };
            assert!(text.chars().all(char::is_alphanumeric), "{clause:?}");
        }
    }

    #[test]
    fn malformed_queries_name_the_field() {
        for raw in [r#"open "quote"#, "a*", &"x".repeat(201)] {
            assert_eq!(
                SearchQuery::parse("q", raw).unwrap_err().field,
                "q",
                "{raw}"
            );
        }
    }

    #[test]
    fn highlight_marks_stems_and_prefixes_and_cuts_around_the_first_hit() {
        let q = parse("tariff korea*");
        let h = highlight("New tariffs hit Korean exporters <hard>.", &q, 200);
        assert_eq!(h.ranges, [(4, 11), (16, 22)]);
        assert_eq!(
            h.to_html(),
            "New <mark>tariffs</mark> hit <mark>Korean</mark> exporters &lt;hard&gt;."
        );
        let long = format!("{} tariffs end here", "word ".repeat(100));
        let cut = highlight(&long, &q, 60);
        assert!(cut.text.starts_with('…'), "{}", cut.text);
        assert!(cut.text.chars().count() <= 62);
        let (s, e) = cut.ranges[0];
        let marked: String = cut.text.chars().skip(s).take(e - s).collect();
        assert_eq!(marked, "tariffs");
    }
}
