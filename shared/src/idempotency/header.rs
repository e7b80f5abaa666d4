//! The `Idempotency-Key` request header (IETF httpapi draft; Stripe's practice):
//! 1–255 printable ASCII characters, sent bare or as a quoted string.
//! Not to be confused with the record's address in the table (`record.rs`).

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

#[cfg(test)]
mod tests {
    use super::*;

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
