//! The `Idempotency-Key` header: any bytes parse or are refused without a
//! panic; an accepted key is printable, non-blank and within the length limit.
#![no_main]

use orgkeys_shared::idempotency::header::{MAX_LEN, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = parse(data) {
        assert!((1..=MAX_LEN).contains(&key.len()));
        assert!(key.bytes().all(|b| (0x20..=0x7e).contains(&b)));
        assert!(!key.trim().is_empty());
        // The bare and the quoted form name the same key.
        assert_eq!(parse(format!("\"{key}\"").as_bytes()), Ok(key));
    }
});
