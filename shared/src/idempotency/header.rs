//! The `Idempotency-Key` request header (IETF httpapi draft; Stripe's practice):
//! 1–255 printable ASCII characters, sent bare or as a quoted string; and the
//! `Idempotent-Replayed` response header that marks a replayed answer.
//! Not to be confused with the record's address in the table (`record.rs`).

use crate::edge::problem::{FieldError, Problem};
use lambda_http::http::HeaderMap;

/// The request header, as HTTP APIs deliver it (lower case).
pub const NAME: &str = "idempotency-key";
/// The response header set on a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";

/// Why a header value is not a usable key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidKey;

/// The longest key accepted, in bytes.
pub const MAX_LEN: usize = 255;

/// The key inside a header value: surrounding double quotes removed.
pub fn parse(value: &[u8]) -> Result<&str, InvalidKey> {
    let text = std::str::from_utf8(value).map_err(|_| InvalidKey)?;
    let key = match text
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(inner) => inner,
        None if text.contains('"') => return Err(InvalidKey),
        None => text,
    };
    let printable = key.bytes().all(|b| (0x20..=0x7e).contains(&b));
    if (1..=MAX_LEN).contains(&key.len()) && printable && !key.trim().is_empty() {
        Ok(key)
    } else {
        Err(InvalidKey)
    }
}

/// The key a request carries, if any; a malformed one is a 400 that names
/// the header and its rule.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<&str>, Problem> {
    let Some(value) = headers.get(NAME) else {
        return Ok(None);
    };
    parse(value.as_bytes()).map(Some).map_err(|InvalidKey| {
        Problem::validation(vec![FieldError::parameter(
            "Idempotency-Key",
            "must be 1-255 printable ASCII characters, bare or in double quotes",
        )])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    #[test]
    fn a_request_without_the_header_has_no_key_and_a_bad_one_is_a_400() {
        let mut headers = HeaderMap::new();
        assert_eq!(from_headers(&headers).unwrap(), None);
        headers.insert(NAME, HeaderValue::from_static("\"batch-7\""));
        assert_eq!(from_headers(&headers).unwrap(), Some("batch-7"));
        headers.insert(NAME, HeaderValue::from_static("\"half"));
        let problem = from_headers(&headers).unwrap_err();
        assert_eq!(problem.status, 400);
        assert_eq!(
            problem.errors[0].parameter.as_deref(),
            Some("Idempotency-Key")
        );
    }

    #[test]
    fn bare_and_quoted_keys_are_the_same_key() {
        assert_eq!(parse(b"abc-123"), Ok("abc-123"));
        assert_eq!(parse(b"\"abc-123\""), Ok("abc-123"));
        assert_eq!(parse(&[b'k'; 255]).map(str::len), Ok(255));
    }

    #[test]
    fn empty_long_unprintable_and_half_quoted_keys_are_refused() {
        for bad in [
            &b""[..],
            b"\"\"",
            b"   ",
            &[b'k'; 256],
            b"tab\there",
            b"\"open",
            b"caf\xc3\xa9",
        ] {
            assert_eq!(
                parse(bad),
                Err(InvalidKey),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}

/// Property tests: the header parser never panics on anything a client sends.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(key) = parse(&bytes) {
                prop_assert!((1..=MAX_LEN).contains(&key.len()));
                prop_assert!(key.bytes().all(|b| (0x20..=0x7e).contains(&b)));
            }
        }

        #[test]
        fn valid_keys_round_trip_bare_and_quoted(key in "[!#-~][ -!#-~]{0,253}[!#-~]") {
            prop_assert_eq!(parse(key.as_bytes()), Ok(key.as_str()));
            let quoted = format!("\"{key}\"");
            prop_assert_eq!(parse(quoted.as_bytes()), Ok(key.as_str()));
        }
    }
}
