//! The rule every stored free text follows (names, campaigns, references):
//! which characters it may not carry. A client that shows text from the API
//! (the CLI, the console) uses the same rule to escape what it prints.

/// What a field error says of text with an unsafe character.
pub const UNSAFE_TEXT: &str = "must not contain control characters (U+0000-U+001F, U+007F-U+009F), bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) or invisible characters (U+00AD, U+180E, U+200B, U+2028, U+2029, U+2060-U+2064, U+206A-U+206F, U+FEFF, U+FFF9-U+FFFB)";

/// Characters stored text must not carry: downstream senders, CSV exports and
/// admin consoles would inherit them (header injection, reordered display,
/// text that hides or breaks lines unseen). C0 controls, DEL, C1 controls;
/// the bidirectional marks, embeddings, overrides and isolates; and the
/// invisible characters: soft hyphen, zero-width space, line and paragraph
/// separators, word joiner and invisible operators, byte order mark,
/// interlinear annotations. The joiners U+200C and U+200D are allowed:
/// scripts such as Persian and emoji sequences need them.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// The longest header-derived text an audit event keeps, in bytes.
pub const RECORDED_HEADER_BYTES: usize = 512;

/// A value taken from a request header (`User-Agent`, the source address) as
/// an audit event records it: data, not terminal or console text. Each
/// unsafe character (see [`is_unsafe`]) becomes U+FFFD, and the result is cut
/// to [`RECORDED_HEADER_BYTES`] on a character boundary.
pub fn recorded_header_text(value: &str) -> String {
    let mut recorded = String::with_capacity(value.len().min(RECORDED_HEADER_BYTES));
    for c in value.chars() {
        let c = if is_unsafe(c) {
            char::REPLACEMENT_CHARACTER
        } else {
            c
        };
        if recorded.len() + c.len_utf8() > RECORDED_HEADER_BYTES {
            break;
        }
        recorded.push(c);
    }
    recorded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_is_recorded_cleaned_and_cut_on_a_character_boundary() {
        assert_eq!(recorded_header_text("curl/8.5.0"), "curl/8.5.0");
        assert_eq!(
            recorded_header_text("a\u{1b}[31m\u{9b}\u{202e}\u{200b}\u{feff}b"),
            "a\u{fffd}[31m\u{fffd}\u{fffd}\u{fffd}\u{fffd}b"
        );
        let long = "é".repeat(RECORDED_HEADER_BYTES);
        let cut = recorded_header_text(&format!("x{long}"));
        assert_eq!(cut.len(), RECORDED_HEADER_BYTES - 1);
        assert!(cut.starts_with("xé"));
        assert_eq!(
            recorded_header_text(&"a".repeat(600)).len(),
            RECORDED_HEADER_BYTES
        );
    }
}
