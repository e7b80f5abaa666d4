//! Verifies a console sign-in token the way API Gateway's JWT authorizer does
//! before the function runs: RS256 only; the `kid` looked up in the issuer's
//! JWKS (fetched once, kept, fetched again once when a token names a `kid` it
//! lacks); `iss` equal to the issuer; `aud` (an ID token) or `client_id` (an
//! access token) equal to the audience; `exp` and `nbf` with a small skew.
//! What passes becomes the `jwt.claims` context API Gateway hands a function.
//!
//! jsonwebtoken (with aws-lc-rs, already linked for TLS) does the signature
//! and the time checks; what is API Gateway's own (the `aud`-or-`client_id`
//! rule, the JWKS cache) is here.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::RwLock;

/// The clock skew `exp` and `nbf` allow.
pub const LEEWAY_SECONDS: u64 = 60;

/// Where tokens come from and for whom they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The app client: a token's `aud` or `client_id`.
    pub audience: String,
    /// The issuer's JSON Web Key Set.
    pub jwks_url: String,
}

/// Why a token was refused; API Gateway answers all of them with one 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a JWT, not RS256, a bad signature, a bad time, a bad issuer.
    Invalid(String),
    /// Neither `aud` nor `client_id` is the audience.
    Audience,
    /// No key of the JWKS has the token's `kid`, even after a refetch.
    UnknownKey,
    /// The JWKS could not be fetched: nobody is let in.
    KeysUnavailable(String),
}

/// Fetches the JWKS document (a function, so tests and the gateway can each
/// say how).
pub type FetchKeys = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>> + Send + Sync,
>;

/// Verifies tokens of one issuer, with the issuer's keys cached.
pub struct Verifier {
    issuer: Issuer,
    fetch: FetchKeys,
    keys: RwLock<HashMap<String, DecodingKey>>,
}

impl Verifier {
    pub fn new(issuer: Issuer, fetch: FetchKeys) -> Verifier {
        Verifier {
            issuer,
            fetch,
            keys: RwLock::new(HashMap::new()),
        }
    }

    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The claims of `token` if it passes every check.
    pub async fn verify(&self, token: &str) -> Result<Map<String, Value>, Refused> {
        let header = decode_header(token).map_err(|err| Refused::Invalid(err.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(Refused::Invalid(format!("{:?} is not RS256", header.alg)));
        }
        let kid = header
            .kid
            .ok_or_else(|| Refused::Invalid("no kid".into()))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer.issuer]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        // `aud` or `client_id`: checked below, as API Gateway does.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|err| Refused::Invalid(err.to_string()))?
            .claims;
        let audience = Value::String(self.issuer.audience.clone());
        let for_us = match claims.get("aud") {
            Some(Value::Array(auds)) => auds.contains(&audience),
            Some(aud) => *aud == audience,
            None => claims.get("client_id") == Some(&audience),
        };
        if for_us {
            Ok(claims)
        } else {
            Err(Refused::Audience)
        }
    }

    /// The key `kid`, from the cache or, once, from a fresh JWKS.
    async fn key(&self, kid: &str) -> Result<DecodingKey, Refused> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        let document = (self.fetch)(self.issuer.jwks_url.clone())
            .await
            .map_err(Refused::KeysUnavailable)?;
        let set: JwkSet = serde_json::from_str(&document)
            .map_err(|err| Refused::KeysUnavailable(format!("not a JWKS: {err}")))?;
        let mut keys = self.keys.write().await;
        keys.clear();
        for jwk in &set.keys {
            if let (Some(id), Ok(key)) = (&jwk.common.key_id, DecodingKey::from_jwk(jwk)) {
                keys.insert(id.clone(), key);
            }
        }
        keys.get(kid).cloned().ok_or(Refused::UnknownKey)
    }
}

/// The claims as API Gateway's payload 2.0 context carries them: every value
/// a string, an array as `[a b]` (what functions then read back).
pub fn as_context_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Array(items) => {
                    let items: Vec<String> = items
                        .iter()
                        .map(|item| match item {
                            Value::String(text) => text.clone(),
                            other => other.to_string(),
                        })
                        .collect();
                    format!("[{}]", items.join(" "))
                }
                other => other.to_string(),
            };
            (name.clone(), Value::String(text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn context_claims_are_strings_and_arrays_are_bracketed() {
        let claims = json!({"sub": "u1", "cognito:groups": ["org-admin", "org-viewer"], "exp": 5});
        let context = as_context_claims(claims.as_object().unwrap());
        assert_eq!(context["sub"], "u1");
        assert_eq!(context["cognito:groups"], "[org-admin org-viewer]");
        assert_eq!(context["exp"], "5");
    }
}
