//! Console sign-in on the local gateway: what API Gateway's JWT authorizer
//! and Cognito's managed login do in AWS.
//!
//! - [`jwt`] verifies a token as the JWT authorizer does and builds the
//!   claims context the console routes read.
//! - [`cognito`] calls the user-pool API (moto's `cognito-idp` locally).
//! - [`oauth`] plays the managed login's OAuth 2.0 endpoints against the pool
//!   (its pages in `pages`), asking for an authenticator's code after the
//!   password when the user has one.
//! - [`user_pool`] answers the user-pool API calls a signed-in user makes
//!   with their access token: setting up an authenticator app ([`totp`]).
//! - [`outbox`] stands between keygen's users routes and the pool, keeping
//!   the invitations Cognito would email (`GET /local/outbox`).
//!
//! With none of `CONSOLE_ISSUER`, `CONSOLE_AUDIENCE`, `CONSOLE_JWKS_URL` set,
//! the gateway makes a local pool on moto ([`LocalPool::create`]) and seeds a
//! demo organization admin; with all three, it verifies that issuer's tokens
//! (another OIDC provider, or a real Cognito pool) and serves no sign-in pages.

pub mod cognito;
pub mod demo;
pub mod jwt;
pub mod lockout;
pub mod oauth;
pub mod outbox;
mod pages;
mod sign_in;
pub mod totp;
pub mod user_pool;

use cognito::{Cognito, CognitoError, NewUser};
use jwt::{FetchKeys, Issuer, Verifier};
use keygen::document::DocumentFetcher;
use oauth::ManagedLogin;
use std::sync::Arc;

/// The demo organization admin `scripts/dev` seeds.
pub const DEMO_ADMIN: &str = "admin@acme.example";

/// A user pool on moto with one public app client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPool {
    pub pool_id: String,
    pub client_id: String,
}

impl LocalPool {
    /// Creates the pool (with its `organizationId` attribute and the two
    /// groups) and its app client.
    pub async fn create(cognito: &Cognito) -> Result<LocalPool, CognitoError> {
        let pool_id = cognito.create_pool("orgkeys-local").await?;
        let client_id = cognito.create_client(&pool_id, "orgkeys-console").await?;
        Ok(LocalPool { pool_id, client_id })
    }

    /// The issuer, audience and JWKS of the pool's tokens. moto names the
    /// issuer as Cognito would, and serves the JWKS itself.
    pub fn issuer(&self, cognito: &Cognito) -> Issuer {
        Issuer {
            issuer: format!(
                "https://cognito-idp.{}.amazonaws.com/{}",
                cognito::REGION,
                self.pool_id
            ),
            audience: self.client_id.clone(),
            jwks_url: format!(
                "{}/{}/.well-known/jwks.json",
                cognito.endpoint().trim_end_matches('/'),
                self.pool_id
            ),
        }
    }

    /// The demo: [`DEMO_ADMIN`], admin of `organization_id`, ready to sign in
    /// with `password` (no first-time change); returns their `sub`.
    pub async fn seed_demo_admin(
        &self,
        cognito: &Cognito,
        organization_id: &str,
        password: &str,
    ) -> Result<String, CognitoError> {
        let admin = NewUser {
            email: DEMO_ADMIN,
            organization_id,
            group: "org-admin",
        };
        cognito
            .create_user(&self.pool_id, &admin, password, true)
            .await
    }
}

/// Console sign-in as the gateway runs it: the verifier of the issuer's
/// tokens and, for the local pool, the managed-login stand-in.
pub struct Identity {
    pub verifier: Verifier,
    pub login: Option<ManagedLogin>,
}

impl Identity {
    /// Another provider's (or a real pool's) issuer: `CONSOLE_ISSUER`,
    /// `CONSOLE_AUDIENCE` and `CONSOLE_JWKS_URL`, all three or none.
    pub fn issuer_from_env() -> Result<Option<Issuer>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (
            var("CONSOLE_ISSUER"),
            var("CONSOLE_AUDIENCE"),
            var("CONSOLE_JWKS_URL"),
        ) {
            (None, None, None) => Ok(None),
            (Some(issuer), Some(audience), Some(jwks_url)) => Ok(Some(Issuer {
                issuer,
                audience,
                jwks_url,
            })),
            _ => Err(
                "set all of CONSOLE_ISSUER, CONSOLE_AUDIENCE and CONSOLE_JWKS_URL, or none".into(),
            ),
        }
    }

    /// Tokens of `issuer`, verified; no sign-in pages (the provider has its own).
    pub fn external(issuer: Issuer) -> Identity {
        Identity {
            verifier: Verifier::new(issuer, fetch_over_http()),
            login: None,
        }
    }

    /// The local pool's tokens, and its managed-login stand-in.
    pub fn local(cognito: &Cognito, pool: &LocalPool) -> Identity {
        Identity {
            verifier: Verifier::new(pool.issuer(cognito), fetch_over_http()),
            login: Some(ManagedLogin::new(cognito.clone(), pool.client_id.clone())),
        }
    }
}

/// Fetches a JWKS over HTTP or HTTPS (the system's roots), within 5 s and
/// 256 KiB, as keygen fetches GitHub's keys.
pub fn fetch_over_http() -> FetchKeys {
    let fetcher = Arc::new(DocumentFetcher::new(
        "orgkeys-local-gateway",
        std::time::Duration::from_secs(5),
        256 * 1024,
    ));
    Arc::new(move |url: String| {
        let fetcher = fetcher.clone();
        Box::pin(async move {
            let body = fetcher
                .get(&url)
                .await
                .map_err(|err| format!("{url}: {err}"))?;
            String::from_utf8(body.to_vec()).map_err(|_| "a JWKS that is not UTF-8".to_owned())
        })
    })
}
