//! Pagination cursors: decoding any text never panics, and a cursor issued to
//! one organization and query opens for exactly that pair — never another.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orgkeys_shared::cursor::{self, CursorError};

fuzz_target!(|input: (String, String, String, String, String)| {
    let (organization, query, after, other_organization, text) = input;
    let _ = cursor::decode(&text, &organization, &query);

    let issued = cursor::encode(&organization, &query, &after);
    match cursor::decode(&issued, &organization, &query) {
        Ok(position) => assert_eq!(position, after),
        // Only an oversized cursor may fail for its own organization.
        Err(error) => assert_eq!(error, CursorError::Malformed),
    }
    if other_organization != organization {
        assert!(cursor::decode(&issued, &other_organization, &query).is_err());
    }
});
