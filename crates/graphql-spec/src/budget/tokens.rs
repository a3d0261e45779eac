//! The first bound: lexical tokens and bracket nesting, counted on the raw text in one pass
//! before the parser (whose recursion the nesting bound keeps shallow) sees it.

use super::{LimitExceeded, MAX_NESTING};

/// Counts the lexical tokens of `text` in one pass, refusing more than `max_tokens` or brackets
/// nested deeper than [`MAX_NESTING`]. It does not validate: anything that is not a token
/// counts as one and is left for the parser to refuse.
pub fn count_tokens(text: &str, max_tokens: usize) -> Result<usize, LimitExceeded> {
    let bytes = text.as_bytes();
    let mut tokens = 0usize;
    let mut nesting = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => i = skip_block_string(bytes, i + 3),
            b'"' => i = skip_string(bytes, i + 1),
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            b'{' | b'(' | b'[' => {
                nesting += 1;
                if nesting > MAX_NESTING {
                    return Err(LimitExceeded::Nesting { limit: MAX_NESTING });
                }
                i += 1;
            }
            b'}' | b')' | b']' => {
                nesting = nesting.saturating_sub(1);
                i += 1;
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
            }
            b'-' | b'0'..=b'9' => {
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
            }
            // A UTF-8 byte order mark is ignored, like whitespace.
            0xEF if bytes[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => {
                i += 3;
                continue;
            }
            _ => i += 1,
        }
        tokens += 1;
        if tokens > max_tokens {
            return Err(LimitExceeded::Tokens { limit: max_tokens });
        }
    }
    Ok(tokens)
}

/// The index after a `"…"` string whose body starts at `i` (at the line's end when it is not
/// closed: the parser refuses it).
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index after a `"""…"""` block string whose body starts at `i`.
fn skip_block_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\\\"\"\"") {
            i += 4;
        } else if bytes[i..].starts_with(b"\"\"\"") {
            return i + 3;
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Refuses a document text longer than `max_bytes`, before anything reads it.
pub fn check_length(text: &str, max_bytes: usize) -> Result<(), LimitExceeded> {
    if text.len() > max_bytes {
        return Err(LimitExceeded::Bytes { limit: max_bytes });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_counted_like_a_graphql_lexer() {
        assert_eq!(count_tokens("{ a }", 100), Ok(3));
        assert_eq!(
            count_tokens("query Q($n: Int = -1.5e3) { a(n: $n) }", 100),
            Ok(19)
        );
        assert_eq!(count_tokens("{ ...F } # a comment { { {\n", 100), Ok(4));
        assert_eq!(
            count_tokens(r#"{ a(s: "x { \" y", t: """ { \""" } """) }"#, 100),
            Ok(11)
        );
        assert_eq!(count_tokens("\u{feff}{ a, b, c }", 100), Ok(5));
        assert_eq!(
            count_tokens("{ a b c }", 4),
            Err(LimitExceeded::Tokens { limit: 4 })
        );
    }

    #[test]
    fn brackets_nested_too_deep_are_refused_before_parsing() {
        let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(70), "]".repeat(70));
        assert_eq!(
            count_tokens(&deep, 10_000),
            Err(LimitExceeded::Nesting { limit: MAX_NESTING })
        );
    }
}
