//! Which characters a text field may hold.
//!
//! Every text an editor sends (headline, dek, body blocks, captions, names, descriptions, …)
//! passes [`check_characters`] at the domain boundary. It refuses what no reader can see or
//! what breaks the documents we write: control characters (tab and line feed only where a
//! field is multi-line), Unicode noncharacters (U+FDD0–U+FDEF and every U+xFFFE / U+xFFFF,
//! which XML 1.0 forbids or discourages and feed readers choke on), bidirectional override and
//! isolate controls where a line is shown on its own (they can make a headline read backwards
//! or spoof another), and a value made only of invisible characters (a headline of U+200B
//! satisfies "not empty" but shows nothing).
//!
//! These are input rules. Stored values are read back without them (see `from_stored` on the
//! value types), so a rule tightened later never makes old content unreadable; the writers of
//! XML documents drop what XML cannot carry, whatever is stored.

use crate::ValidationError;

/// How a field may break lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// One line: no tab, no line feed (headlines, names, captions' credits, …).
    Single,
    /// Paragraph text: tab and line feed allowed (body paragraphs, bios, descriptions, …).
    Multi,
}

/// What a field accepts beyond the rules every field shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRules {
    /// Line breaks.
    pub lines: Lines,
    /// Whether bidirectional embedding, override and isolate controls are refused (fields shown
    /// as one line on their own: a headline).
    pub no_bidi_controls: bool,
}

impl TextRules {
    /// A one-line field (names, sources, credits, …).
    pub const SINGLE_LINE: Self = Self {
        lines: Lines::Single,
        no_bidi_controls: false,
    };
    /// A multi-line field (paragraphs, bios, descriptions, corrections).
    pub const MULTI_LINE: Self = Self {
        lines: Lines::Multi,
        no_bidi_controls: false,
    };
    /// A headline: one line, no bidirectional controls.
    pub const HEADLINE: Self = Self {
        lines: Lines::Single,
        no_bidi_controls: true,
    };
}

/// Whether `c` is a Unicode noncharacter: U+FDD0–U+FDEF, or the last two code points of any
/// plane (U+FFFE, U+FFFF, U+1FFFE, …).
pub fn is_noncharacter(c: char) -> bool {
    let cp = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&cp) || (cp & 0xFFFE) == 0xFFFE
}

/// Whether `c` is a bidirectional embedding, override or isolate control (U+202A–U+202E,
/// U+2066–U+2069). The marks U+200E / U+200F are not: they change no text's order around them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(u32::from(c), 0x202A..=0x202E | 0x2066..=0x2069)
}

/// Unicode's `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt, Unicode 15.1): code
/// points a renderer shows as nothing when it cannot display them otherwise.
const DEFAULT_IGNORABLE: [(u32, u32); 17] = [
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

/// Whether `c` shows nothing on its own: white space, a control, a default-ignorable code
/// point (zero-width space and joiners, soft hyphen, fillers, variation selectors, tags, …) or
/// the blank braille pattern.
pub fn is_invisible(c: char) -> bool {
    let cp = u32::from(c);
    c.is_whitespace()
        || c.is_control()
        || cp == 0x2800
        || DEFAULT_IGNORABLE
            .iter()
            .any(|&(low, high)| (low..=high).contains(&cp))
}

/// Whether `text` has at least one character a reader can see.
pub fn has_visible_character(text: &str) -> bool {
    text.chars().any(|c| !is_invisible(c))
}

/// Checks that `text` (for the field `field`) holds only characters the field accepts, and is
/// empty or has something visible. Errors name the field and the first offending code point.
pub fn check_characters(field: &str, text: &str, rules: TextRules) -> Result<(), ValidationError> {
    for c in text.chars() {
        let refused = if c.is_control() {
            let allowed = rules.lines == Lines::Multi && matches!(c, '\n' | '\t');
            (!allowed).then_some(match c {
                '\n' | '\t' => "a line break or tab (this field is one line)",
                '\r' => "a carriage return (use \\n for line breaks)",
                _ => "a control character",
            })
        } else if is_noncharacter(c) {
            Some("a Unicode noncharacter")
        } else if rules.no_bidi_controls && is_bidi_control(c) {
            Some("a bidirectional override or isolate control")
        } else {
            None
        };
        if let Some(what) = refused {
            return Err(ValidationError::new(
                field,
                format!("must not contain {what} (U+{:04X})", u32::from(c)),
            ));
        }
    }
    if !text.is_empty() && !has_visible_character(text) {
        return Err(ValidationError::new(
            field,
            "must contain a visible character, not only white space or invisible characters",
        ));
    }
    Ok(())
}

/// Whether XML 1.0 allows `c` in a document (its `Char` production), and it is not a
/// noncharacter (which XML discourages and feed readers refuse).
pub fn xml_writable(c: char) -> bool {
    let cp = u32::from(c);
    let xml_char = matches!(cp, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..);
    xml_char && !is_noncharacter(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noncharacters_are_the_reserved_code_points() {
        for c in [
            '\u{FDD0}',
            '\u{FDEF}',
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{1FFFE}',
            '\u{10FFFF}',
        ] {
            assert!(is_noncharacter(c), "{c:?}");
        }
        for c in ['a', '\u{FDCF}', '\u{FDF0}', '\u{FFFD}', '\u{1FFFD}', '한'] {
            assert!(!is_noncharacter(c), "{c:?}");
        }
    }

    #[test]
    fn each_field_kind_refuses_what_it_must() {
        use TextRules as R;
        let cases: [(&str, R, bool); 20] = [
            ("Plain headline", R::HEADLINE, true),
            ("Über Café – 한국어 “quoted”", R::HEADLINE, true),
            ("\u{200B}", R::HEADLINE, false),
            ("\u{200B}\u{2060}\u{FEFF}", R::MULTI_LINE, false),
            ("\u{3164}", R::SINGLE_LINE, false),
            ("\u{2800}\u{2800}", R::SINGLE_LINE, false),
            ("a\u{200B}b", R::HEADLINE, true),
            ("\u{202E}evil", R::HEADLINE, false),
            ("\u{2066}isolate\u{2069}", R::HEADLINE, false),
            ("\u{202E}mixed text", R::MULTI_LINE, true),
            ("bad\u{FFFE}", R::SINGLE_LINE, false),
            ("bad\u{FFFF}", R::MULTI_LINE, false),
            ("bad\u{FDD0}", R::MULTI_LINE, false),
            ("bad\u{10FFFF}", R::MULTI_LINE, false),
            ("ctrl\u{2}", R::MULTI_LINE, false),
            ("ctrl\u{C}", R::MULTI_LINE, false),
            ("c1\u{85}", R::MULTI_LINE, false),
            ("two\nlines\tok", R::MULTI_LINE, true),
            ("two\nlines", R::SINGLE_LINE, false),
            ("crlf\r\n", R::MULTI_LINE, false),
        ];
        for (text, rules, ok) in cases {
            let result = check_characters("f", text, rules);
            assert_eq!(result.is_ok(), ok, "{text:?} {rules:?}: {result:?}");
            if let Err(e) = result {
                assert_eq!(e.field, "f");
            }
        }
        assert!(check_characters("f", "", TextRules::SINGLE_LINE).is_ok());
    }

    #[test]
    fn errors_name_the_code_point() {
        let err = check_characters("headline", "x\u{FFFE}", TextRules::HEADLINE).unwrap_err();
        assert!(err.message.contains("U+FFFE"), "{}", err.message);
        let err = check_characters("dek", "x\u{2}", TextRules::SINGLE_LINE).unwrap_err();
        assert!(err.message.contains("U+0002"), "{}", err.message);
    }

    #[test]
    fn xml_writable_follows_the_char_production() {
        for c in [
            '\t',
            '\n',
            '\r',
            ' ',
            'é',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FFFD}',
            '\u{1F600}',
        ] {
            assert!(xml_writable(c), "{c:?}");
        }
        for c in [
            '\u{0}', '\u{2}', '\u{C}', '\u{1F}', '\u{FFFE}', '\u{FFFF}', '\u{FDD0}',
        ] {
            assert!(!xml_writable(c), "{c:?}");
        }
    }
}
