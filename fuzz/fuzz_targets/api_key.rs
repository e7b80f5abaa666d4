//! API key parsing: never panics; whatever parses is exactly the input,
//! parses again, and has a hint made of its own ends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orgkeys_shared::key_format::{ApiKey, KEY_LEN, PREFIX};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(key) = ApiKey::parse(text) else {
        return;
    };
    assert_eq!(key.expose(), text);
    assert_eq!(text.len(), KEY_LEN);
    assert!(text.starts_with(PREFIX));
    assert!(ApiKey::parse(key.expose()).is_ok());
    let hint = key.hint();
    assert!(hint.starts_with(PREFIX) && text.ends_with(&hint[hint.len() - 4..]));
});
