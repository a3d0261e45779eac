//! The last step of every XML document we send: no character XML 1.0 forbids leaves the
//! server, whatever is stored.
//!
//! Input rules keep such characters out of new text (`gazette_domain::text`), but rows saved
//! before those rules, or written by other tools, may still hold a U+FFFE or a U+0002, and one
//! of them would make a whole feed unreadable for every subscriber. Filtering the document as
//! written covers every field, attribute and CDATA section alike, in one linear pass that
//! copies nothing when the document is clean (the usual case).

use gazette_domain::text::xml_writable;

/// `document` (UTF-8, as the writers produce it) without the characters XML 1.0 does not allow
/// (C0 controls other than tab, line feed and carriage return; U+FFFE, U+FFFF) nor the
/// noncharacters it discourages.
pub fn writable(document: Vec<u8>) -> Vec<u8> {
    match String::from_utf8(document) {
        Ok(text) if text.chars().all(xml_writable) => text.into_bytes(),
        Ok(text) => {
            let dropped = text.chars().filter(|c| !xml_writable(*c)).count();
            tracing::warn!(
                dropped,
                "characters XML cannot carry left out of a document"
            );
            text.chars()
                .filter(|c| xml_writable(*c))
                .collect::<String>()
                .into_bytes()
        }
        // The writers only produce UTF-8; keep what is valid rather than fail the document.
        Err(invalid) => String::from_utf8_lossy(invalid.as_bytes())
            .chars()
            .filter(|c| xml_writable(*c))
            .collect::<String>()
            .into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters_are_dropped_and_clean_documents_kept() {
        let clean = "<a>Café &amp; 한국 \u{1F600}\n\t</a>".as_bytes().to_vec();
        assert_eq!(writable(clean.clone()), clean);
        let dirty = "<a t=\"x\u{2}\">b\u{FFFE}c\u{FFFF}<![CDATA[d\u{C}]]>\u{FDD0}</a>"
            .as_bytes()
            .to_vec();
        assert_eq!(
            String::from_utf8(writable(dirty)).unwrap(),
            "<a t=\"x\">bc<![CDATA[d]]></a>"
        );
    }
}
