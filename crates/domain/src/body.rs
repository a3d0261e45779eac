//! An article body: ordered, typed blocks, rendered to escaped HTML and to plain text.

use std::fmt::Write as _;

use crate::text::{TextRules, check_characters};
use crate::{CanonicalUrl, ValidationError};

/// Most blocks one body may hold.
pub const MAX_BLOCKS: usize = 500;
/// Most characters of text one block may hold.
pub const MAX_BLOCK_CHARS: usize = 20_000;
/// Average adult silent reading speed used for reading time, in words per minute.
pub const WORDS_PER_MINUTE: u32 = 230;

/// One block of an article body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph of plain text.
    Paragraph {
        /// The text.
        text: String,
    },
    /// A sub-heading, level 2 to 4.
    Heading {
        /// 2, 3 or 4 (level 1 is the headline).
        level: u8,
        /// The text.
        text: String,
    },
    /// Quoted speech with whom it is from.
    Quote {
        /// The quoted words.
        text: String,
        /// Who said it.
        attribution: Option<String>,
    },
    /// A picture with caption and credit.
    Image {
        /// Where the picture is.
        url: String,
        /// Text alternative for screen readers.
        alt: String,
        /// Caption shown under the picture.
        caption: Option<String>,
        /// Photographer or agency.
        credit: Option<String>,
    },
    /// Third-party content (video, post) referenced by URL; frontends render it themselves.
    Embed {
        /// The embedded resource.
        url: String,
        /// Who hosts it (`youtube`, `x`, …), if known.
        provider: Option<String>,
        /// Caption shown with it.
        caption: Option<String>,
    },
}

/// An article body: validated blocks in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Body(Vec<Block>);

/// Which checks a body's texts get: input gets every rule; a stored body (read back, or a
/// revision's) keeps the structural ones only, so a character rule tightened later never makes
/// it unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Input,
    Stored,
}

fn check_text(
    field: &str,
    text: &str,
    required: bool,
    rules: TextRules,
    origin: Origin,
) -> Result<(), ValidationError> {
    if required && text.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if text.chars().count() > MAX_BLOCK_CHARS {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_BLOCK_CHARS} characters"),
        ));
    }
    if origin == Origin::Input {
        check_characters(field, text, rules)?;
    }
    Ok(())
}

impl Body {
    /// Validates input blocks: bounded count and size, non-empty text, heading levels 2–4,
    /// absolute http(s) URLs for images and embeds, and the characters each text may hold
    /// (see [`crate::text`]). Errors name the block (`body[3].text`).
    pub fn new(blocks: Vec<Block>) -> Result<Self, ValidationError> {
        Self::checked(blocks, Origin::Input)
    }

    fn checked(blocks: Vec<Block>, origin: Origin) -> Result<Self, ValidationError> {
        use TextRules as R;
        if blocks.len() > MAX_BLOCKS {
            return Err(ValidationError::new(
                "body",
                format!("must have at most {MAX_BLOCKS} blocks"),
            ));
        }
        for (i, block) in blocks.iter().enumerate() {
            let at = |name: &str| format!("body[{i}].{name}");
            let text = |name: &str, text: &str, required: bool, rules: TextRules| {
                check_text(&at(name), text, required, rules, origin)
            };
            let optional = |name: &str, value: &Option<String>, rules: TextRules| {
                text(name, value.as_deref().unwrap_or_default(), false, rules)
            };
            match block {
                Block::Paragraph { text: t } => text("text", t, true, R::MULTI_LINE)?,
                Block::Heading { level, text: t } => {
                    text("text", t, true, R::SINGLE_LINE)?;
                    if !(2..=4).contains(level) {
                        return Err(ValidationError::new(at("level"), "must be 2, 3 or 4"));
                    }
                }
                Block::Quote {
                    text: t,
                    attribution,
                } => {
                    text("text", t, true, R::MULTI_LINE)?;
                    optional("attribution", attribution, R::SINGLE_LINE)?;
                }
                Block::Image {
                    url,
                    alt,
                    caption,
                    credit,
                } => {
                    CanonicalUrl::parse_field(&at("url"), url)?;
                    text("alt", alt, false, R::SINGLE_LINE)?;
                    optional("caption", caption, R::MULTI_LINE)?;
                    optional("credit", credit, R::SINGLE_LINE)?;
                }
                Block::Embed {
                    url,
                    provider,
                    caption,
                } => {
                    CanonicalUrl::parse_field(&at("url"), url)?;
                    optional("provider", provider, R::SINGLE_LINE)?;
                    optional("caption", caption, R::MULTI_LINE)?;
                }
            }
        }
        Ok(Self(blocks))
    }

    /// Checks a body held already (a revision's, say) against the input rules, as if it were
    /// sent now.
    pub fn recheck(&self) -> Result<(), ValidationError> {
        Self::checked(self.0.clone(), Origin::Input).map(|_| ())
    }

    /// A body read back from storage (an article's or a revision's): the structural rules are
    /// checked, the character rules of input are not (see [`crate::text`]), so a rule tightened
    /// later never makes stored content unreadable.
    pub fn from_stored(blocks: Vec<Block>) -> Result<Self, ValidationError> {
        Self::checked(blocks, Origin::Stored)
    }

    /// The blocks, in order.
    pub fn blocks(&self) -> &[Block] {
        &self.0
    }

    /// The body as HTML, every piece of text escaped.
    pub fn to_html(&self) -> String {
        use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
        let mut html = String::new();
        for block in &self.0 {
            // `write!` to a String cannot fail.
            let _ = match block {
                Block::Paragraph { text: t } => write!(html, "<p>{}</p>", text(t)),
                Block::Heading { level, text: t } => {
                    write!(html, "<h{level}>{}</h{level}>", text(t))
                }
                Block::Quote {
                    text: t,
                    attribution,
                } => {
                    let _ = write!(html, "<blockquote><p>{}</p>", text(t));
                    if let Some(who) = attribution.as_deref().filter(|s| !s.trim().is_empty()) {
                        let _ = write!(html, "<cite>{}</cite>", text(who));
                    }
                    write!(html, "</blockquote>")
                }
                Block::Image {
                    url,
                    alt,
                    caption,
                    credit,
                } => {
                    let _ = write!(
                        html,
                        "<figure><img src=\"{}\" alt=\"{}\">",
                        attr(url),
                        attr(alt)
                    );
                    let caption = caption.as_deref().filter(|s| !s.trim().is_empty());
                    let credit = credit.as_deref().filter(|s| !s.trim().is_empty());
                    if caption.is_some() || credit.is_some() {
                        html.push_str("<figcaption>");
                        if let Some(c) = caption {
                            html.push_str(&text(c));
                        }
                        if let Some(c) = credit {
                            let _ = write!(
                                html,
                                "{}<small>{}</small>",
                                if caption.is_some() { " " } else { "" },
                                text(c)
                            );
                        }
                        html.push_str("</figcaption>");
                    }
                    write!(html, "</figure>")
                }
                Block::Embed {
                    url,
                    provider,
                    caption,
                } => {
                    let _ = write!(html, "<figure class=\"embed\"");
                    if let Some(p) = provider {
                        let _ = write!(html, " data-provider=\"{}\"", attr(p));
                    }
                    let _ = write!(html, "><a href=\"{0}\">{1}</a>", attr(url), text(url));
                    if let Some(c) = caption.as_deref().filter(|s| !s.trim().is_empty()) {
                        let _ = write!(html, "<figcaption>{}</figcaption>", text(c));
                    }
                    write!(html, "</figure>")
                }
            };
        }
        html
    }

    /// The body as plain text: one block per paragraph, quotes in quotation marks with their
    /// speaker, image captions kept, embeds left out.
    pub fn to_plain_text(&self) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(self.0.len());
        for block in &self.0 {
            match block {
                Block::Paragraph { text } | Block::Heading { text, .. } => {
                    parts.push(text.trim().to_owned())
                }
                Block::Quote { text, attribution } => {
                    match attribution.as_deref().filter(|s| !s.trim().is_empty()) {
                        Some(who) => parts.push(format!("“{}” — {}", text.trim(), who.trim())),
                        None => parts.push(format!("“{}”", text.trim())),
                    }
                }
                Block::Image {
                    caption: Some(c), ..
                } if !c.trim().is_empty() => parts.push(c.trim().to_owned()),
                Block::Image { .. } | Block::Embed { .. } => {}
            }
        }
        parts.join("\n\n")
    }

    /// Words a reader reads: paragraphs, headings and quotes (captions and embeds excluded).
    pub fn word_count(&self) -> u32 {
        let words: usize = self
            .0
            .iter()
            .map(|block| match block {
                Block::Paragraph { text }
                | Block::Heading { text, .. }
                | Block::Quote { text, .. } => text.split_whitespace().count(),
                Block::Image { .. } | Block::Embed { .. } => 0,
            })
            .sum();
        u32::try_from(words).unwrap_or(u32::MAX)
    }
}

/// Minutes to read `words` at [`WORDS_PER_MINUTE`], rounded up, at least one for any text.
pub fn reading_time_minutes(words: u32) -> u32 {
    if words == 0 {
        0
    } else {
        words.div_ceil(WORDS_PER_MINUTE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn para(t: &str) -> Block {
        Block::Paragraph { text: t.to_owned() }
    }

    #[test]
    fn html_escapes_text_and_attributes() {
        let body = Body::new(vec![
            para("<script>alert('x')</script> & more"),
            Block::Quote {
                text: "Peace \"now\"".into(),
                attribution: Some("A <b>speaker</b>".into()),
            },
            Block::Image {
                url: "https://img.example.com/a.jpg?x=1&y=2".into(),
                alt: "a \"b\"".into(),
                caption: Some("Cap".into()),
                credit: Some("AP".into()),
            },
        ])
        .unwrap();
        let html = body.to_html();
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<cite>A &lt;b&gt;speaker&lt;/b&gt;</cite>"));
        assert!(
            html.contains(
                "src=\"https://img.example.com/a.jpg?x=1&amp;y=2\" alt=\"a &quot;b&quot;\""
            )
        );
        assert!(html.contains("<figcaption>Cap <small>AP</small></figcaption>"));
    }

    #[test]
    fn plain_text_keeps_quotes_with_speakers() {
        let body = Body::new(vec![
            para("First."),
            Block::Quote {
                text: "Impossible.".into(),
                attribution: Some("Park Won Gon".into()),
            },
        ])
        .unwrap();
        assert_eq!(
            body.to_plain_text(),
            "First.\n\n“Impossible.” — Park Won Gon"
        );
    }

    #[test]
    fn word_count_and_reading_time() {
        let body = Body::new(vec![
            para("one two three"),
            Block::Heading {
                level: 2,
                text: "four".into(),
            },
        ])
        .unwrap();
        assert_eq!(body.word_count(), 4);
        assert_eq!(reading_time_minutes(0), 0);
        assert_eq!(reading_time_minutes(1), 1);
        assert_eq!(reading_time_minutes(230), 1);
        assert_eq!(reading_time_minutes(231), 2);
    }

    #[test]
    fn invalid_blocks_name_their_position() {
        let err = Body::new(vec![para("ok"), para("  ")]).unwrap_err();
        assert_eq!(err.field, "body[1].text");
        let err = Body::new(vec![Block::Heading {
            level: 1,
            text: "x".into(),
        }])
        .unwrap_err();
        assert_eq!(err.field, "body[0].level");
        let err = Body::new(vec![Block::Image {
            url: "javascript:x".into(),
            alt: String::new(),
            caption: None,
            credit: None,
        }])
        .unwrap_err();
        assert_eq!(err.field, "body[0].url");
    }

    #[test]
    fn input_texts_refuse_what_readers_cannot_see_or_xml_cannot_hold() {
        let caption = |c: &str| Block::Image {
            url: "https://img.example.com/a.jpg".into(),
            alt: String::new(),
            caption: Some(c.into()),
            credit: None,
        };
        for (block, field) in [
            (para("\u{200B}"), "body[0].text"),
            (para("form\u{C}feed"), "body[0].text"),
            (para("start\u{2}"), "body[0].text"),
            (para("bad\u{FFFE}"), "body[0].text"),
            (
                Block::Heading {
                    level: 2,
                    text: "two\nlines".into(),
                },
                "body[0].text",
            ),
            (
                Block::Quote {
                    text: "ok".into(),
                    attribution: Some("\u{FFFF}".into()),
                },
                "body[0].attribution",
            ),
            (caption("cap\u{1}"), "body[0].caption"),
        ] {
            assert_eq!(Body::new(vec![block]).unwrap_err().field, field);
        }
        assert!(Body::new(vec![para("Two\nlines\tand a tab.")]).is_ok());
    }

    #[test]
    fn stored_bodies_read_back_without_the_character_rules() {
        let body = Body::from_stored(vec![para("old \u{2} text \u{FFFE}")]).unwrap();
        assert!(body.recheck().is_err(), "but not as input");
        assert!(
            Body::from_stored(vec![para(" ")]).is_err(),
            "structure still holds"
        );
    }
}
