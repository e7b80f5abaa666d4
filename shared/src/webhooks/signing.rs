//! An endpoint's signing secret: `whsec_` + base64 of 32 random bytes
//! (Standard Webhooks 1.0). One type for the secret wherever it is made
//! (creating an endpoint, rolling its secret), stored and used to sign, so
//! its bytes are never passed around bare and never printed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::fmt;

/// The prefix Standard Webhooks gives symmetric secrets.
pub const PREFIX: &str = "whsec_";
/// Random bytes in a secret we generate.
pub const SECRET_BYTES: usize = 32;
/// The shortest and longest secrets Standard Webhooks allows (192 to 512
/// bits); an imported secret of another sender's may be as short as 24.
const MIN_BYTES: usize = 24;
const MAX_BYTES: usize = 64;

/// The key an endpoint's messages are signed with (HMAC-SHA256).
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(redacted)")
    }
}

impl SigningSecret {
    /// A new secret from the OS CSPRNG and its `whsec_…` form, the only
    /// time an admin sees it.
    pub fn generate() -> Result<(SigningSecret, String), getrandom::Error> {
        let mut bytes = vec![0; SECRET_BYTES];
        getrandom::fill(&mut bytes)?;
        let shown = format!("{PREFIX}{}", STANDARD.encode(&bytes));
        Ok((SigningSecret(bytes), shown))
    }

    /// Parses `whsec_<base64>`. The error never repeats the input.
    pub fn parse(text: &str) -> Result<SigningSecret, String> {
        let encoded = text
            .strip_prefix(PREFIX)
            .ok_or_else(|| format!("a signing secret starts with {PREFIX}"))?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| format!("a signing secret is {PREFIX} and base64"))?;
        if !(MIN_BYTES..=MAX_BYTES).contains(&bytes.len()) {
            return Err(format!(
                "a signing secret has {MIN_BYTES} to {MAX_BYTES} bytes, not {}",
                bytes.len()
            ));
        }
        Ok(SigningSecret(bytes))
    }

    /// The secret whose raw bytes were sealed at rest (opened with KMS).
    pub fn from_bytes(bytes: Vec<u8>) -> SigningSecret {
        SigningSecret(bytes)
    }

    /// The raw key, for the HMAC and for encryption at rest; never log it.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_parses_back_to_the_same_32_bytes() {
        let (secret, shown) = SigningSecret::generate().unwrap();
        assert!(shown.starts_with("whsec_"));
        assert_eq!(shown.len(), PREFIX.len() + 44);
        assert_eq!(secret.expose_bytes().len(), SECRET_BYTES);
        assert_eq!(SigningSecret::parse(&shown).unwrap(), secret);
        assert_ne!(SigningSecret::generate().unwrap().0, secret);
    }

    #[test]
    fn the_specifications_24_byte_example_secret_parses() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(secret.expose_bytes().len(), 24);
    }

    #[test]
    fn a_secret_without_prefix_or_base64_or_of_the_wrong_size_is_refused() {
        let short = format!("whsec_{}", STANDARD.encode([7u8; 23]));
        let long = format!("whsec_{}", STANDARD.encode([7u8; 65]));
        for (text, expected) in [
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with whsec_"),
            ("whsec_not base64!", "base64"),
            (short.as_str(), "not 23"),
            (long.as_str(), "not 65"),
        ] {
            let err = SigningSecret::parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(!err.contains("MfKQ9r8G"), "{err}");
        }
    }

    #[test]
    fn debug_output_does_not_show_the_secret() {
        let (secret, shown) = SigningSecret::generate().unwrap();
        let debug = format!("{secret:?}");
        assert!(
            !debug.contains(&shown[PREFIX.len()..PREFIX.len() + 8]),
            "{debug}"
        );
    }
}
