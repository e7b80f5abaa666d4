//! The API key format, in one place.
//!
//! A key is `orgk_` followed by the unpadded base64url encoding of 32 random
//! bytes from the OS CSPRNG and a 4-byte checksum (the first bytes of
//! `blake3(random)`). That gives a fixed length of 53 characters, all safe in an
//! HTTP header, a prefix secret scanners can match with [`SCANNER_PATTERN`], and a
//! checksum that rejects typos and made-up strings before any database read.
//! A regular expression cannot compute the checksum: a scanner's match is a
//! candidate, which [`ApiKey::parse`] confirms (GitHub's secret-scanning
//! alerts go through it before any read).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;

/// The fixed, recognisable start of every key.
pub const PREFIX: &str = "orgk_";
/// Random bytes per key: 256 bits, well above RFC 6749's 2^-160 guidance.
pub const SECRET_BYTES: usize = 32;
const CHECKSUM_BYTES: usize = 4;
const PAYLOAD_BYTES: usize = SECRET_BYTES + CHECKSUM_BYTES;
/// Length of the base64url body: 36 bytes encode to exactly 48 characters.
pub const BODY_LEN: usize = PAYLOAD_BYTES / 3 * 4;
/// Total length of every key.
pub const KEY_LEN: usize = PREFIX.len() + BODY_LEN;
/// The key anywhere in text: the prefix and the body's alphabet and length.
pub const SCAN_REGEX: &str = r"orgk_[A-Za-z0-9_-]{48}";
/// The regular expression secret scanners register (GitHub's partner
/// program; `docs/operations.md` quotes it verbatim): [`SCAN_REGEX`] as group
/// 1, not inside a longer run of key characters.
pub const SCANNER_PATTERN: &str =
    r"(?:\A|[^A-Za-z0-9_-])(orgk_[A-Za-z0-9_-]{48})(?:\z|[^A-Za-z0-9_-])";

/// Why a string is not an API key. Carries no part of the input, so it can be
/// logged or returned without leaking what the caller sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormatError {
    Length,
    Prefix,
    Encoding,
    Checksum,
}

impl fmt::Display for KeyFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyFormatError::Length => "wrong length for an API key",
            KeyFormatError::Prefix => "API keys start with orgk_",
            KeyFormatError::Encoding => "API keys are base64url after the prefix",
            KeyFormatError::Checksum => "API key checksum does not match",
        })
    }
}

impl std::error::Error for KeyFormatError {}

/// A well-formed API key (its checksum holds). The plaintext is reachable only
/// through [`ApiKey::expose`]; `Debug` redacts it so a stray `{:?}` cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A new key from the OS CSPRNG.
    pub fn generate() -> Result<ApiKey, getrandom::Error> {
        let mut payload = [0u8; PAYLOAD_BYTES];
        getrandom::fill(&mut payload[..SECRET_BYTES])?;
        let checksum = checksum(&payload[..SECRET_BYTES]);
        payload[SECRET_BYTES..].copy_from_slice(&checksum);
        let mut key = String::with_capacity(KEY_LEN);
        key.push_str(PREFIX);
        URL_SAFE_NO_PAD.encode_string(payload, &mut key);
        Ok(ApiKey(key))
    }

    /// Checks length, prefix, alphabet and checksum, cheapest first, with no I/O.
    pub fn parse(candidate: &str) -> Result<ApiKey, KeyFormatError> {
        if candidate.len() != KEY_LEN {
            return Err(KeyFormatError::Length);
        }
        let body = candidate
            .strip_prefix(PREFIX)
            .ok_or(KeyFormatError::Prefix)?;
        let mut payload = [0u8; PAYLOAD_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(body, &mut payload) {
            Ok(PAYLOAD_BYTES) => {}
            _ => return Err(KeyFormatError::Encoding),
        }
        let (secret, sum) = payload.split_at(SECRET_BYTES);
        if checksum(secret) != sum {
            return Err(KeyFormatError::Checksum);
        }
        Ok(ApiKey(candidate.to_owned()))
    }

    /// The plaintext key. Its only legitimate use is the one response that
    /// hands a new key to the admin who created it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What listings show instead of the key: the prefix and the last four characters.
    pub fn hint(&self) -> String {
        format!("{PREFIX}...{}", &self.0[KEY_LEN - 4..])
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.hint())
    }
}

fn checksum(secret: &[u8]) -> [u8; CHECKSUM_BYTES] {
    let hash = blake3::hash(secret);
    let mut out = [0u8; CHECKSUM_BYTES];
    out.copy_from_slice(&hash.as_bytes()[..CHECKSUM_BYTES]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    #[test]
    fn ten_thousand_keys_are_unique_well_formed_and_parse_back() {
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let key = ApiKey::generate().unwrap();
            let text = key.expose();
            assert_eq!(text.len(), KEY_LEN);
            assert!(text.starts_with(PREFIX));
            assert!(text[PREFIX.len()..].bytes().all(|b| ALPHABET.contains(&b)));
            assert_eq!(ApiKey::parse(text).unwrap(), key);
            assert!(seen.insert(text.to_owned()), "duplicate key generated");
        }
    }

    #[test]
    fn every_single_character_change_in_the_body_is_rejected() {
        for _ in 0..20 {
            let key = ApiKey::generate().unwrap();
            let original = key.expose().as_bytes().to_vec();
            for pos in PREFIX.len()..KEY_LEN {
                for &replacement in ALPHABET {
                    if replacement == original[pos] {
                        continue;
                    }
                    let mut changed = original.clone();
                    changed[pos] = replacement;
                    let changed = String::from_utf8(changed).unwrap();
                    assert!(
                        ApiKey::parse(&changed).is_err(),
                        "mutation at {pos} accepted"
                    );
                }
            }
        }
    }

    #[test]
    fn prefix_length_and_alphabet_errors_are_told_apart() {
        let key = ApiKey::generate().unwrap();
        let text = key.expose();
        assert_eq!(ApiKey::parse(""), Err(KeyFormatError::Length));
        assert_eq!(ApiKey::parse(&text[1..]), Err(KeyFormatError::Length));
        assert_eq!(
            ApiKey::parse(&format!("orgx_{}", &text[5..])),
            Err(KeyFormatError::Prefix)
        );
        assert_eq!(
            ApiKey::parse(&format!("{}!", &text[..KEY_LEN - 1])),
            Err(KeyFormatError::Encoding)
        );
    }

    /// What a scanner with [`SCANNER_PATTERN`] reports in `text`, each match
    /// confirmed by the checksum as the alert endpoint confirms it.
    fn scanned(text: &str) -> (Vec<String>, Vec<ApiKey>) {
        let pattern = regex_lite::Regex::new(SCANNER_PATTERN).unwrap();
        let matches: Vec<String> = pattern
            .captures_iter(text)
            .map(|found| found[1].to_owned())
            .collect();
        let keys = matches
            .iter()
            .filter_map(|m| ApiKey::parse(m).ok())
            .collect();
        (matches, keys)
    }

    #[test]
    fn the_scanner_pattern_finds_generated_keys_wherever_they_sit_in_text() {
        for _ in 0..200 {
            let key = ApiKey::generate().unwrap();
            let text = key.expose();
            for context in [
                text.to_owned(),
                format!("ORGKEYS_API_KEY={text}\n"),
                format!("curl -H 'Authorization: Bearer {text}' https://api.example"),
                format!("{{\"apiKey\":\"{text}\"}}"),
            ] {
                assert_eq!(
                    scanned(&context),
                    (vec![text.to_owned()], vec![key.clone()])
                );
            }
        }
    }

    #[test]
    fn near_misses_are_no_match_or_fail_the_checksum() {
        for _ in 0..200 {
            let key = ApiKey::generate().unwrap();
            let text = key.expose();
            // A body one character short or long is no match at all.
            for near in [
                &text[..KEY_LEN - 1],
                &format!("{text}A"),
                &format!("x{text}"),
            ] {
                assert_eq!(scanned(&format!("key: {near}\n")), (vec![], vec![]));
            }
            // One character of the checksum wrong: the pattern matches (no
            // regex can compute blake3), the checksum refuses it.
            let last = text.as_bytes()[KEY_LEN - 1];
            let other = if last == b'A' { 'B' } else { 'A' };
            let typo = format!("{}{other}", &text[..KEY_LEN - 1]);
            assert_eq!(scanned(&typo), (vec![typo.clone()], vec![]));
            assert_eq!(ApiKey::parse(&typo), Err(KeyFormatError::Checksum));
        }
    }

    #[test]
    fn the_scanner_pattern_is_the_scan_regex_bounded_and_quoted_in_the_guide() {
        assert!(SCANNER_PATTERN.contains(&format!("({SCAN_REGEX})")));
        let guide = include_str!("../../docs/operations.md");
        assert!(guide.contains(&format!("`{SCANNER_PATTERN}`")));
    }

    #[test]
    fn hint_and_debug_show_only_prefix_and_last_four() {
        let key = ApiKey::generate().unwrap();
        let text = key.expose();
        let hint = key.hint();
        assert_eq!(hint, format!("orgk_...{}", &text[KEY_LEN - 4..]));
        let debug = format!("{key:?}");
        assert!(!debug.contains(&text[PREFIX.len()..KEY_LEN - 4]));
    }
}
