//! Checks on identifiers and request fields, collecting every violation so a
//! client sees all of them in one problem response.

use crate::edge::problem::FieldError;

pub use orgkeys_api::ids::{ID_RULE, is_valid_id};

pub use orgkeys_api::text::{UNSAFE_TEXT, is_unsafe};

/// Accumulates field errors; `finish` turns a non-empty list into the error.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn new() -> Violations {
        Violations::default()
    }

    /// A violation in the JSON body, located by a JSON pointer such as `/contacts/3/phone`.
    pub fn body(&mut self, pointer: impl Into<String>, detail: impl Into<String>) {
        self.0.push(FieldError::body(pointer, detail));
    }

    /// A violation in a path or query parameter.
    pub fn parameter(&mut self, name: impl Into<String>, detail: impl Into<String>) {
        self.0.push(FieldError::parameter(name, detail));
    }

    /// Checks an optional free-text field (names, campaigns, references):
    /// trimmed, non-empty, at most `max` characters, no control characters
    /// and no bidirectional overrides.
    pub fn text(&mut self, pointer: &str, value: Option<&str>, max: usize) {
        if let Some(value) = value {
            if value.trim().is_empty() {
                self.body(pointer, "must not be blank");
            } else if value.chars().count() > max {
                self.body(pointer, format!("must be at most {max} characters"));
            } else if value.chars().any(is_unsafe) {
                self.body(pointer, UNSAFE_TEXT);
            }
        }
    }

    /// Checks a multi-line value (template variables): at most `max`
    /// characters; tab and line feed are its only control characters.
    pub fn multiline_text(&mut self, pointer: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.body(pointer, format!("values are at most {max} characters"));
        } else if value
            .chars()
            .any(|c| c != '\t' && c != '\n' && is_unsafe(c))
        {
            self.body(
                pointer,
                "must not contain control characters other than tab and line feed, \
                 nor bidirectional controls or invisible characters",
            );
        }
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_the_documented_alphabet_and_lengths_only() {
        assert!(is_valid_id("a"));
        assert!(is_valid_id("Org_1-x"));
        assert!(is_valid_id(&"a".repeat(64)));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id(&"a".repeat(65)));
        assert!(!is_valid_id("a#b"));
        assert!(!is_valid_id("a b"));
        assert!(!is_valid_id("é"));
    }

    #[test]
    fn text_rejects_blank_and_overlong_values() {
        let mut v = Violations::new();
        v.text("/a", Some("  "), 5);
        v.text("/b", Some("abcdef"), 5);
        v.text("/c", Some("abcde"), 5);
        v.text("/d", None, 5);
        let errors = v.finish().unwrap_err();
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_deref()).collect();
        assert_eq!(pointers, [Some("/a"), Some("/b")]);
    }

    #[test]
    fn controls_and_bidi_overrides_are_refused_in_text_and_only_tab_and_newline_in_values() {
        for bad in [
            "a\u{0}b",
            "a\rb",
            "a\nb",
            "a\u{7f}",
            "a\u{85}",
            "\u{202e}evil",
            "x\u{2066}",
        ] {
            let mut v = Violations::new();
            v.text("/name", Some(bad), 200);
            assert!(v.finish().is_err(), "{bad:?}");
        }
        let mut v = Violations::new();
        v.text("/name", Some("Renewals – ünïcode ok"), 200);
        v.multiline_text("/v", "line one\n\tline two", 200);
        assert!(v.finish().is_ok());
        for bad in ["a\rb", "a\u{0}", "\u{202d}x"] {
            let mut v = Violations::new();
            v.multiline_text("/v", bad, 200);
            assert!(v.finish().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_refused_like_controls() {
        for bad in [
            "line\u{2028}break",
            "para\u{2029}",
            "\u{200f}rlm",
            "lrm\u{200e}",
            "arabic\u{61c}mark",
            "zero\u{200b}width",
            "\u{feff}bom",
            "word\u{2060}joiner",
            "soft\u{ad}hyphen",
        ] {
            let mut v = Violations::new();
            v.text("/name", Some(bad), 200);
            assert!(v.finish().is_err(), "{bad:?}");
            let mut v = Violations::new();
            v.multiline_text("/v", bad, 200);
            assert!(v.finish().is_err(), "{bad:?}");
        }
        // Joiners shape scripts and emoji: they stay.
        let mut v = Violations::new();
        v.text("/name", Some("می\u{200c}خواهم 👩\u{200d}💻"), 200);
        assert!(v.finish().is_ok());
    }
}
