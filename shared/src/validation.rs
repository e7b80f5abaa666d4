//! Checks on identifiers and request fields, collecting every violation so a
//! client sees all of them in one problem response.

use crate::edge::problem::FieldError;

/// Organization, schedule and key IDs: 1–64 of `[A-Za-z0-9_-]`, safe in a path
/// segment and in a DynamoDB key after a `#` separator.
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

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

    /// Checks an optional free-text field: trimmed, non-empty, at most `max` characters.
    pub fn text(&mut self, pointer: &str, value: Option<&str>, max: usize) {
        if let Some(value) = value {
            if value.trim().is_empty() {
                self.body(pointer, "must not be blank");
            } else if value.chars().count() > max {
                self.body(pointer, format!("must be at most {max} characters"));
            }
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
}
