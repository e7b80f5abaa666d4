//! Property tests for the parsers of untrusted input in the shared crate: API
//! keys and pagination cursors. None may panic; valid values round-trip; no
//! mutation of a valid value is accepted; no cursor opens another organization.

use crate::cursor::{self, CursorError};
use crate::key_format::{ApiKey, KEY_LEN, PREFIX};
use proptest::prelude::*;

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A key from the real generator (proptest drives how many, not the bytes).
fn key() -> impl Strategy<Value = ApiKey> {
    any::<u8>().prop_map(|_| ApiKey::generate().unwrap())
}

/// One edit of a string: replace, insert or delete one character.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, char),
    Insert(usize, char),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| Edit::Replace(i, c)),
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    match *edit {
        Edit::Replace(i, c) => {
            let i = i % chars.len();
            chars[i] = c;
        }
        Edit::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
        Edit::Delete(i) => {
            let i = i % chars.len();
            chars.remove(i);
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn key_parsing_never_panics(text in any::<String>()) {
        let _ = ApiKey::parse(&text);
    }

    #[test]
    fn key_parsing_never_panics_on_key_shaped_text(body in proptest::collection::vec(any::<u8>(), 0..60)) {
        let text = format!("{PREFIX}{}", String::from_utf8_lossy(&body));
        let _ = ApiKey::parse(&text);
    }

    #[test]
    fn generated_keys_round_trip(key in key()) {
        prop_assert_eq!(key.expose().len(), KEY_LEN);
        prop_assert_eq!(ApiKey::parse(key.expose()), Ok(key.clone()));
    }

    #[test]
    fn every_edit_of_a_valid_key_is_rejected(key in key(), edit in edit()) {
        let edited = apply(key.expose(), &edit);
        prop_assume!(edited != key.expose());
        prop_assert!(ApiKey::parse(&edited).is_err(), "accepted {:?}", edit);
    }

    #[test]
    fn random_well_formed_bodies_fail_the_checksum(body in proptest::collection::vec(proptest::sample::select(ALPHABET), 48)) {
        // 2^-32 odds of a false accept per case; a hit here would be a bug.
        let text = format!("{PREFIX}{}", String::from_utf8(body).unwrap());
        prop_assert!(ApiKey::parse(&text).is_err());
    }

    #[test]
    fn cursor_decoding_never_panics(text in any::<String>(), org in "[a-z]{1,8}") {
        let _ = cursor::decode(&text, &org, "");
    }

    #[test]
    fn cursors_round_trip(org in "[A-Za-z0-9_-]{1,64}", query in ".{0,40}", after in "[A-Za-z0-9_-]{1,64}") {
        let encoded = cursor::encode(&org, &query, &after);
        prop_assert_eq!(cursor::decode(&encoded, &org, &query), Ok(after));
    }

    #[test]
    fn a_cursor_never_decodes_for_another_organization(
        org in "[A-Za-z0-9_-]{1,64}",
        other in "[A-Za-z0-9_-]{1,64}",
        after in "[A-Za-z0-9_-]{1,64}",
        edit in proptest::option::of(edit()),
    ) {
        prop_assume!(org != other);
        let mut encoded = cursor::encode(&org, "", &after);
        if let Some(edit) = &edit {
            encoded = apply(&encoded, edit);
        }
        prop_assert!(cursor::decode(&encoded, &other, "").is_err());
        if edit.is_none() {
            prop_assert_eq!(cursor::decode(&encoded, &other, ""), Err(CursorError::Foreign));
        }
    }

    #[test]
    fn every_edit_of_a_cursor_is_rejected(org in "[a-z]{1,8}", after in "[a-z0-9]{1,20}", edit in edit()) {
        let encoded = cursor::encode(&org, "", &after);
        let edited = apply(&encoded, &edit);
        prop_assume!(edited != encoded);
        prop_assert!(cursor::decode(&edited, &org, "").is_err());
    }
}
