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
