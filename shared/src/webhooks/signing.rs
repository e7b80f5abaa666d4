//! An endpoint's signing secret: `whsec_` + base64 of 32 random bytes
//! (Standard Webhooks 1.0).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A signing secret's bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    /// A fresh secret and its `whsec_` form, shown to the admin once.
    pub fn generate() -> Result<(SigningSecret, String), getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let shown = format!("whsec_{}", STANDARD.encode(bytes));
        Ok((SigningSecret(bytes.to_vec()), shown))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> SigningSecret {
        SigningSecret(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}
