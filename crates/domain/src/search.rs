//! Search queries as readers type them, parsed into clauses both engines understand, and the
//! highlighting of what matched.
//!
//! A query is words (all must match), `"quoted phrases"` and `prefix*` words. Every clause is
//! re-written in the engine's syntax from letters and digits only, so no input can reach the
//! engine as syntax; English stop words are dropped, and a query left empty finds nothing.

use std::fmt::Write as _;

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

    /// Whether nothing searchable is left (only stop words or punctuation): finds nothing.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The clauses.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// The query in SQLite FTS5 syntax: every clause quoted, combined with AND.
    pub fn to_fts5(&self) -> String {
        let mut out = String::new();
        for clause in &self.clauses {
            if !out.is_empty() {
                out.push_str(" AND ");
            }
            let _ = match clause {
                Clause::Word(w) => write!(out, "\"{w}\""),
                Clause::Prefix(p) => write!(out, "\"{p}\"*"),
                Clause::Phrase(ws) => write!(out, "\"{}\"", ws.join(" ")),
            };
        }
        out
    }

    /// The query in PostgreSQL `to_tsquery` syntax: lexemes quoted, `&` between clauses,
    /// `<->` inside phrases, `:*` for prefixes.
    pub fn to_tsquery(&self) -> String {
        self.clauses
            .iter()
            .map(|clause| match clause {
                Clause::Word(w) => format!("'{w}'"),
                Clause::Prefix(p) => format!("'{p}':*"),
                Clause::Phrase(ws) => format!(
                    "({})",
                    ws.iter()
                        .map(|w| format!("'{w}'"))
                        .collect::<Vec<_>>()
                        .join(" <-> ")
                ),
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    fn matches_word(&self, word: &str) -> bool {
        let stem = light_stem(word);
        self.clauses.iter().any(|clause| match clause {
            Clause::Word(w) => light_stem(w) == stem,
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
            r#""north" AND "korea"* AND "military alliance" AND "russia""#
        );
        assert_eq!(
            q.to_tsquery(),
            "'north' & 'korea':* & ('military' <-> 'alliance') & 'russia'"
        );
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
