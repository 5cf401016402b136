//! The one text type for every free-text field: Unicode NFC (Vietnamese typed in decomposed
//! form becomes the same text as precomposed), no control or invisible formatting characters
//! (NUL, C0/C1 controls, line and paragraph separators, bidirectional overrides, zero-width
//! marks), trimmed, and bounded in characters. Every error names the field; values are echoed
//! only as a short prefix ([`quote`]).

use unicode_normalization::UnicodeNormalization;

use crate::error::{AppError, AppResult};

/// What a field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// Longest value, in characters (after normalisation and trimming).
    pub max_chars: usize,
    /// Whether line breaks and tabs are allowed (descriptions); single-line otherwise, where
    /// runs of spaces collapse to one.
    pub multiline: bool,
    /// Whether the empty string is refused.
    pub required: bool,
}

impl TextRule {
    /// A required single line of at most `max_chars`.
    pub const fn line(max_chars: usize) -> Self {
        Self { max_chars, multiline: false, required: true }
    }

    /// An optional single line.
    pub const fn optional_line(max_chars: usize) -> Self {
        Self { max_chars, multiline: false, required: false }
    }

    /// Optional paragraphs (line breaks and tabs allowed).
    pub const fn paragraphs(max_chars: usize) -> Self {
        Self { max_chars, multiline: true, required: false }
    }

    /// Parses `value` of request field `field` by this rule.
    pub fn parse(self, field: &'static str, value: &str) -> AppResult<String> {
        // Bound the work before normalising (NFC never more than triples the length).
        if value.len() > self.max_chars.saturating_mul(4).saturating_add(64) {
            return Err(AppError::invalid(field, format!("must be at most {} characters", self.max_chars)));
        }
        if let Some((position, c)) = value.chars().enumerate().find(|&(_, c)| forbidden(c, self.multiline)) {
            return Err(AppError::invalid(
                field,
                format!("contains the control or invisible character U+{:04X} at position {position}", c as u32),
            ));
        }
        let normalised: String = value.nfc().collect();
        let text = if self.multiline {
            normalised.trim().to_string()
        } else {
            normalised.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        if self.required && text.is_empty() {
            return Err(AppError::invalid(field, "is required"));
        }
        if text.chars().count() > self.max_chars {
            return Err(AppError::invalid(field, format!("must be at most {} characters", self.max_chars)));
        }
        Ok(text)
    }
}

/// Characters no stored text may hold.
fn forbidden(c: char, multiline: bool) -> bool {
    match c {
        '\n' | '\t' | '\r' => !multiline,
        c if c.is_control() => true, // C0, DEL, C1 (NUL included)
        '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
        | '\u{2028}' | '\u{2029}' // line and paragraph separators
        | '\u{202A}'..='\u{202E}' // bidirectional embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidirectional isolates
        | '\u{FEFF}' // byte order mark
        | '\u{FFF9}'..='\u{FFFB}' // interlinear annotations
        | '\u{FFFE}' | '\u{FFFF}' => true,
        _ => false,
    }
}

/// At most the first 24 characters of `value`, escaped, for error messages: a client's
/// 10 kB value must not come back as a 10 kB `grpc-message`.
pub fn quote(value: &str) -> String {
    const MAX: usize = 24;
    let mut prefix: String = value.chars().take(MAX).collect();
    if value.chars().nth(MAX).is_some() {
        prefix.push('…');
    }
    format!("{prefix:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_vietnamese_is_stored_composed() {
        let decomposed = "Nguye\u{302}\u{303}n Thi\u{323} Lan";
        let parsed = TextRule::line(200).parse("full_name", decomposed).unwrap();
        assert_eq!(parsed, "Nguyễn Thị Lan");
        assert_eq!(parsed.chars().count(), 14);
    }

    #[test]
    fn control_and_invisible_characters_are_refused_with_the_field_named() {
        for bad in ["a\0b", "a\u{1b}[31m", "a\u{85}", "a\u{2028}b", "a\u{202E}b", "a\u{200B}b", "\u{FEFF}a"] {
            let err = TextRule::line(50).parse("name", bad).unwrap_err().to_string();
            assert!(err.contains("name") && err.contains("U+"), "{bad:?}: {err}");
        }
        assert!(TextRule::line(50).parse("name", "a\nb").is_err(), "one line");
        assert_eq!(TextRule::paragraphs(50).parse("description", " a\n\tb ").unwrap(), "a\n\tb");
    }

    #[test]
    fn bounds_and_required() {
        assert!(TextRule::line(3).parse("f", "abcd").is_err());
        assert_eq!(TextRule::line(3).parse("f", "  a   b ").unwrap(), "a b");
        assert!(TextRule::line(3).parse("f", "   ").unwrap_err().to_string().contains("required"));
        assert_eq!(TextRule::optional_line(3).parse("f", "").unwrap(), "");
        assert!(TextRule::line(3).parse("f", &"x".repeat(100_000)).is_err());
    }

    #[test]
    fn quotes_are_short() {
        let long = "x".repeat(10_000);
        assert_eq!(quote(&long).chars().count(), 24 + 3);
        assert_eq!(quote("abc"), "\"abc\"");
        assert_eq!(quote("ễ"), "\"ễ\"");
    }
}
