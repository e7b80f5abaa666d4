//! The stored form of an API key: a domain-separated blake3 hash of the whole
//! key string. The table, the cache and the logs only ever see this.

use crate::key_format::ApiKey;
use std::fmt;

/// blake3 key-derivation context: binds the hash to this purpose and version,
/// so the same bytes hashed elsewhere never collide with a stored key hash.
const CONTEXT: &str = "orgkeys api key v1";

/// The hash of an [`ApiKey`]. Comparison is constant-time (blake3's `Hash`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash(blake3::Hash);

impl KeyHash {
    pub fn of(key: &ApiKey) -> KeyHash {
        let mut hasher = blake3::Hasher::new_derive_key(CONTEXT);
        hasher.update(key.expose().as_bytes());
        KeyHash(hasher.finalize())
    }

    /// Lower-case hex, as stored in the table.
    pub fn to_hex(&self) -> String {
        self.0.to_hex().to_string()
    }

    pub fn from_hex(hex: &str) -> Option<KeyHash> {
        blake3::Hash::from_hex(hex).ok().map(KeyHash)
    }

    /// The first 12 hex characters: enough to correlate log lines, useless to
    /// an attacker (the hash is not the key, and this is a sliver of it).
    pub fn short(&self) -> String {
        self.to_hex()[..12].to_owned()
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({})", self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_domain_separated_and_round_trips_through_hex() {
        let key = ApiKey::generate().unwrap();
        let hash = KeyHash::of(&key);
        assert_ne!(hash.0, blake3::hash(key.expose().as_bytes()));
        assert_eq!(KeyHash::from_hex(&hash.to_hex()), Some(hash));
        assert!(!hash.to_hex().contains(key.expose()));
        assert_ne!(KeyHash::of(&ApiKey::generate().unwrap()), hash);
    }
}
