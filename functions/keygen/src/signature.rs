//! GitHub's signature of a secret-scanning alert: `Github-Public-Key-Signature`
//! is the base64 of an ASN.1 DER ECDSA signature (NIST P-256, SHA-256) of the
//! raw body, by the key `Github-Public-Key-Identifier` names.

use crate::github_keys::{FetchError, GitHubKeys};
use aws_lc_rs::signature::ParsedPublicKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

pub const IDENTIFIER_HEADER: &str = "github-public-key-identifier";
pub const SIGNATURE_HEADER: &str = "github-public-key-signature";

/// Why an alert is refused before anything in it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A header is missing or not text.
    MissingHeader(&'static str),
    /// GitHub has no key by that identifier, even after a refetch.
    UnknownKey,
    /// The signature is not base64, or does not verify.
    BadSignature,
    /// GitHub's keys could not be fetched: nothing can be verified.
    KeysUnavailable(FetchError),
}

/// The two signature headers of a request, as sent.
pub struct SignedBy<'a> {
    pub identifier: &'a str,
    pub signature: &'a str,
}

impl<'a> SignedBy<'a> {
    /// Both headers, or the first that is missing.
    pub fn of(headers: &'a lambda_http::http::HeaderMap) -> Result<SignedBy<'a>, Refusal> {
        let header = |name: &'static str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .ok_or(Refusal::MissingHeader(name))
        };
        Ok(SignedBy {
            identifier: header(IDENTIFIER_HEADER)?,
            signature: header(SIGNATURE_HEADER)?,
        })
    }
}

/// Checks that `body` is signed as `signed` says, by a key of `keys` as of `now`.
pub async fn verify(
    keys: &GitHubKeys,
    signed: &SignedBy<'_>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let key = keys
        .key(signed.identifier, now)
        .await
        .map_err(Refusal::KeysUnavailable)?
        .ok_or(Refusal::UnknownKey)?;
    verify_with(&key, signed.signature, body)
}

/// Checks a base64 DER signature of `body` by `key`.
pub fn verify_with(key: &ParsedPublicKey, signature: &str, body: &[u8]) -> Result<(), Refusal> {
    let signature = STANDARD
        .decode(signature)
        .map_err(|_| Refusal::BadSignature)?;
    key.verify_sig(body, &signature)
        .map_err(|_| Refusal::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

    fn key_pair() -> (EcdsaKeyPair, ParsedPublicKey) {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let der = pair.public_key().as_der().unwrap();
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der.as_ref())
        );
        let public = crate::github_keys::parse_pem_key(&pem).unwrap();
        (pair, public)
    }

    fn sign(pair: &EcdsaKeyPair, body: &[u8]) -> String {
        STANDARD.encode(pair.sign(&SystemRandom::new(), body).unwrap().as_ref())
    }

    #[test]
    fn a_signature_verifies_for_its_body_and_key_only() {
        let (pair, public) = key_pair();
        let (other_pair, other_public) = key_pair();
        let body = br#"[{"token":"x","type":"orgkeys_api_key"}]"#;
        let signature = sign(&pair, body);
        assert_eq!(verify_with(&public, &signature, body), Ok(()));
        let tampered = br#"[{"token":"y","type":"orgkeys_api_key"}]"#;
        assert_eq!(
            verify_with(&public, &signature, tampered),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify_with(&other_public, &signature, body),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify_with(&public, &sign(&other_pair, body), body),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify_with(&public, "not base64!", body),
            Err(Refusal::BadSignature)
        );
    }

    #[test]
    fn a_pem_that_is_not_a_p256_public_key_is_refused() {
        assert!(crate::github_keys::parse_pem_key("not a pem").is_none());
        let garbage = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode([1u8; 91])
        );
        assert!(crate::github_keys::parse_pem_key(&garbage).is_none());
    }
}
