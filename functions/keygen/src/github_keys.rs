//! GitHub's secret-scanning public keys: the document at
//! `GITHUB_SECRET_SCANNING_KEYS_URL` (`{"public_keys": [{"key_identifier",
//! "key" (PEM), "is_current"}]}`), fetched when a signature names a key not
//! yet known, at most once per [`REFETCH_INTERVAL`], and kept in memory.
//!
//! Keys that are no longer current still verify: GitHub lists a key while
//! alerts it signed may still be delivered. A failed fetch keeps the keys
//! already known.

use crate::document::DocumentFetcher;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ParsedPublicKey};
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use rustls::pki_types::SubjectPublicKeyInfoDer;
use rustls::pki_types::pem::PemObject;
use serde::Deserialize;
use std::collections::HashMap;

/// GitHub's own document, the default of `GITHUB_SECRET_SCANNING_KEYS_URL`.
pub const DEFAULT_URL: &str = "https://api.github.com/meta/public_keys/secret_scanning";
/// An unknown key identifier refetches the document at most this often, so
/// forged identifiers cannot make the function hammer GitHub's API (whose
/// unauthenticated limit is per hour).
pub const REFETCH_INTERVAL: Duration = Duration::seconds(60);
/// How long one fetch may take.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The document is a few keys; anything larger is not it.
const DOCUMENT_LIMIT: usize = 256 * 1024;

/// Why the key document could not be had. Carries no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError(pub String);

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GitHub's secret-scanning keys: {}", self.0)
    }
}

/// The keys known so far and when the document was last asked for.
#[derive(Default)]
struct Cache {
    keys: HashMap<String, ParsedPublicKey>,
    fetched_at: Option<DateTime<Utc>>,
    /// Why the last fetch failed, until one succeeds.
    last_error: Option<FetchError>,
}

/// GitHub's public keys, cached; one per process, shared by all requests.
pub struct GitHubKeys {
    url: String,
    fetcher: DocumentFetcher,
    cache: tokio::sync::Mutex<Cache>,
}

/// One entry of the document.
#[derive(Deserialize)]
struct PublicKeyEntry {
    key_identifier: String,
    key: String,
}

#[derive(Deserialize)]
struct KeyDocument {
    public_keys: Vec<PublicKeyEntry>,
}

impl GitHubKeys {
    pub fn new(url: impl Into<String>) -> GitHubKeys {
        GitHubKeys {
            url: url.into(),
            fetcher: DocumentFetcher::new("orgkeys-secret-scanning", FETCH_TIMEOUT, DOCUMENT_LIMIT),
            cache: tokio::sync::Mutex::new(Cache::default()),
        }
    }

    /// The key GitHub calls `identifier`, as of `now`: from the cache, else
    /// from the document fetched again when the last fetch is a
    /// [`REFETCH_INTERVAL`] old. `Ok(None)`: GitHub has no such key (as far
    /// as the last fetch knew). Concurrent callers wait for one fetch.
    pub async fn key(
        &self,
        identifier: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ParsedPublicKey>, FetchError> {
        let mut cache = self.cache.lock().await;
        if let Some(key) = cache.keys.get(identifier) {
            return Ok(Some(key.clone()));
        }
        let due = cache
            .fetched_at
            .is_none_or(|at| now - at >= REFETCH_INTERVAL);
        if due {
            cache.fetched_at = Some(now);
            match self.fetch().await {
                Ok(keys) => {
                    cache.keys = keys;
                    cache.last_error = None;
                }
                Err(err) => {
                    tracing::error!(error = %err, "secret-scanning keys not fetched");
                    cache.last_error = Some(err);
                }
            }
        }
        match (cache.keys.get(identifier), &cache.last_error) {
            (Some(key), _) => Ok(Some(key.clone())),
            (None, Some(err)) => Err(err.clone()),
            (None, None) => Ok(None),
        }
    }

    /// The document's keys, by identifier; an entry whose key is not a P-256
    /// public key in PEM is left out.
    async fn fetch(&self) -> Result<HashMap<String, ParsedPublicKey>, FetchError> {
        let document: KeyDocument = serde_json::from_slice(&self.download().await?)
            .map_err(|err| FetchError(format!("not the key document: {err}")))?;
        let mut keys = HashMap::new();
        for entry in document.public_keys {
            match parse_pem_key(&entry.key) {
                Some(key) => drop(keys.insert(entry.key_identifier, key)),
                None => tracing::warn!(
                    identifier = %entry.key_identifier,
                    "secret-scanning key is not a P-256 public key in PEM; skipped"
                ),
            }
        }
        Ok(keys)
    }

    async fn download(&self) -> Result<Bytes, FetchError> {
        self.fetcher.get(&self.url).await.map_err(FetchError)
    }
}

/// A `-----BEGIN PUBLIC KEY-----` PEM (SubjectPublicKeyInfo) of a P-256 key.
pub fn parse_pem_key(pem: &str) -> Option<ParsedPublicKey> {
    let der = SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes()).ok()?;
    ParsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, der.as_ref()).ok()
}
