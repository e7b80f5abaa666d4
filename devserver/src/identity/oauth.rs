//! The local stand-in for Cognito's managed login, at the same OAuth 2.0
//! endpoints, so the console's sign-in code is the same locally and in AWS:
//!
//! - `GET /oauth2/authorize`: the sign-in form ("Email", "Password"), for the
//!   authorization-code grant with PKCE (`S256` only);
//! - `POST /oauth2/authorize`: signs in against the local pool; a first
//!   sign-in asks for a "New password", a user with an authenticator app
//!   for its "Code" (Cognito's `SOFTWARE_TOKEN_MFA`); then redirects with a
//!   one-time code;
//! - `POST /oauth2/token`: the code (with its `code_verifier`) or a
//!   `refresh_token` for tokens;
//! - `POST /oauth2/revoke`: a refresh token no longer refreshes (sign-out);
//! - `GET /logout`: back to `logout_uri`;
//! - `POST /local/user-pool`: the user-pool API a signed-in user calls
//!   with their access token ([`user_pool`]: the authenticator app's setup).
//!
//! Redirects go only to loopback addresses: it is a local tool. A
//! `redirect_uri`, `logout_uri` or `state` with a control character is
//! refused (400), since it would end up in a `Location` header. The steps
//! of a sign-in, and the lockout, are `sign_in`'s.

use super::cognito::{Cognito, Tokens};
use super::pages::{code_form, error_page, new_password_form, page, sign_in_form};
use super::sign_in::{Form, SignIns, Step};
use super::user_pool;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{HeaderMap, Response, StatusCode};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long an authorization code may wait for its exchange.
const CODE_LIFETIME: Duration = Duration::from_secs(300);

/// The managed-login stand-in of one local app client.
pub struct ManagedLogin {
    cognito: Cognito,
    client_id: String,
    codes: Mutex<HashMap<String, Grant>>,
    /// Refresh tokens revoked here: moto's pool has no RevokeToken, so the
    /// stand-in refuses them itself, as Cognito would (`invalid_grant`).
    revoked: Mutex<HashSet<String>>,
    sign_ins: SignIns,
}

/// What an authorization code stands for until it is exchanged.
struct Grant {
    tokens: Tokens,
    redirect_uri: String,
    code_challenge: String,
    issued: Instant,
}

/// The parameters of an authorization request, carried through the forms.
#[derive(Debug, Clone, Default)]
pub(super) struct AuthorizeRequest {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) state: String,
    pub(super) code_challenge: String,
    pub(super) code_challenge_method: String,
    pub(super) scope: String,
}

type Answer = Response<Full<Bytes>>;

impl ManagedLogin {
    pub fn new(cognito: Cognito, client_id: String) -> ManagedLogin {
        ManagedLogin {
            sign_ins: SignIns::new(cognito.clone(), client_id.clone()),
            cognito,
            client_id,
            codes: Mutex::new(HashMap::new()),
            revoked: Mutex::new(HashSet::new()),
        }
    }

    /// The app client whose sign-ins this stands in for.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Whether `path` is one of these endpoints.
    pub fn serves(path: &str) -> bool {
        matches!(
            path,
            "/oauth2/authorize" | "/oauth2/token" | "/oauth2/revoke" | "/logout" | user_pool::PATH
        )
    }

    /// Answers a request to one of these endpoints (see [`serves`](Self::serves)).
    pub async fn answer(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Answer {
        if (method, path) == ("POST", user_pool::PATH) {
            let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
            let user_pool = &self.sign_ins.user_pool;
            return user_pool.answer(target.unwrap_or_default(), body).await;
        }
        let fields = match method {
            "GET" => form(query.as_bytes()),
            _ => form(body),
        };
        match (method, path) {
            ("GET", "/oauth2/authorize") => match self.check(&fields) {
                Ok(request) => page(StatusCode::OK, &sign_in_form(&request, None)),
                Err(problem) => page(StatusCode::BAD_REQUEST, &error_page(problem)),
            },
            ("POST", "/oauth2/authorize") => self.authorize(&fields).await,
            ("POST", "/oauth2/token") => self.token(&fields).await,
            ("POST", "/oauth2/revoke") => self.revoke(&fields).await,
            ("GET", "/logout") => match fields.get("logout_uri") {
                Some(uri)
                    if fields.get("client_id") == Some(&self.client_id)
                        && is_loopback(uri)
                        && header_safe(uri) =>
                {
                    redirect(uri)
                }
                _ => page(
                    StatusCode::BAD_REQUEST,
                    &error_page("unknown client or logout_uri"),
                ),
            },
            _ => page(
                StatusCode::METHOD_NOT_ALLOWED,
                &error_page("method not allowed"),
            ),
        }
    }

    /// The authorization request in `fields`, if this client may make it.
    fn check(&self, fields: &HashMap<String, String>) -> Result<AuthorizeRequest, &'static str> {
        let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
        let request = AuthorizeRequest {
            client_id: field("client_id"),
            redirect_uri: field("redirect_uri"),
            state: field("state"),
            code_challenge: field("code_challenge"),
            code_challenge_method: field("code_challenge_method"),
            scope: field("scope"),
        };
        if request.client_id != self.client_id {
            return Err("unknown client_id");
        }
        if !is_loopback(&request.redirect_uri) {
            return Err("redirect_uri must be a loopback address");
        }
        if !header_safe(&request.redirect_uri) || !header_safe(&request.state) {
            return Err("redirect_uri and state may not hold control characters");
        }
        if field("response_type") != "code" {
            return Err("response_type must be code");
        }
        if request.code_challenge_method != "S256" || request.code_challenge.len() < 43 {
            return Err("PKCE with code_challenge_method S256 is required");
        }
        Ok(request)
    }

    async fn authorize(&self, fields: &HashMap<String, String>) -> Answer {
        let request = match self.check(fields) {
            Ok(request) => request,
            Err(problem) => return page(StatusCode::BAD_REQUEST, &error_page(problem)),
        };
        let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
        let step = match field("session") {
            "" => {
                self.sign_ins
                    .password(field("email"), field("password"))
                    .await
            }
            handle => self.sign_ins.next(handle, fields).await,
        };
        let form = match step {
            Step::Done(tokens) => return self.grant(&request, tokens).await,
            Step::Next {
                form: Form::NewPassword,
                handle,
                message,
            } => new_password_form(&request, &handle, message),
            Step::Next {
                form: Form::Code,
                handle,
                message,
            } => code_form(&request, &handle, message),
            Step::Refused(message) => sign_in_form(&request, Some(message)),
        };
        page(StatusCode::OK, &form)
    }

    /// A one-time code for `tokens`, and the redirect that carries it.
    async fn grant(&self, request: &AuthorizeRequest, tokens: Tokens) -> Answer {
        let code = match crate::random_token() {
            Ok(code) => code,
            Err(_) => {
                return page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &error_page("no randomness"),
                );
            }
        };
        let mut codes = self.codes.lock().await;
        codes.retain(|_, grant| grant.issued.elapsed() < CODE_LIFETIME);
        codes.insert(
            code.clone(),
            Grant {
                tokens,
                redirect_uri: request.redirect_uri.clone(),
                code_challenge: request.code_challenge.clone(),
                issued: Instant::now(),
            },
        );
        let separator = if request.redirect_uri.contains('?') {
            '&'
        } else {
            '?'
        };
        let mut target = format!("{}{separator}code={code}", request.redirect_uri);
        if !request.state.is_empty() {
            target.push_str(&format!("&state={}", encode(&request.state)));
        }
        redirect(&target)
    }

    async fn token(&self, fields: &HashMap<String, String>) -> Answer {
        let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
        if field("client_id") != self.client_id {
            return oauth_error("invalid_client");
        }
        match field("grant_type") {
            "authorization_code" => {
                let Some(grant) = self.codes.lock().await.remove(field("code")) else {
                    return oauth_error("invalid_grant");
                };
                let fresh = grant.issued.elapsed() < CODE_LIFETIME;
                let verified = pkce_challenge(field("code_verifier")) == grant.code_challenge;
                if !fresh || !verified || field("redirect_uri") != grant.redirect_uri {
                    return oauth_error("invalid_grant");
                }
                token_answer(&grant.tokens)
            }
            "refresh_token" => {
                let refresh_token = field("refresh_token");
                if self.revoked.lock().await.contains(refresh_token) {
                    return oauth_error("invalid_grant");
                }
                match self.cognito.refresh(&self.client_id, refresh_token).await {
                    Ok(tokens) => token_answer(&tokens),
                    Err(_) => oauth_error("invalid_grant"),
                }
            }
            _ => oauth_error("unsupported_grant_type"),
        }
    }

    /// Cognito's `/oauth2/revoke` for a public client: `token` (a refresh
    /// token) and `client_id`; 200 with an empty body, as RFC 7009 answers
    /// even for a token it does not know.
    async fn revoke(&self, fields: &HashMap<String, String>) -> Answer {
        if fields.get("client_id") != Some(&self.client_id) {
            return oauth_error("invalid_client");
        }
        let Some(token) = fields.get("token").filter(|token| !token.is_empty()) else {
            return oauth_error("invalid_request");
        };
        self.revoked.lock().await.insert(token.clone());
        Response::builder()
            .status(StatusCode::OK)
            .header("cache-control", "no-store")
            .body(Full::new(Bytes::new()))
            .expect("static response parts are valid")
    }
}

/// PKCE's S256: base64url (no padding) of the SHA-256 of the verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

fn form(bytes: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `http://127.0.0.1…`, `http://localhost…` or `http://[::1]…`.
fn is_loopback(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(host, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            host
        } else {
            ""
        }
    });
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

fn token_answer(tokens: &Tokens) -> Answer {
    let mut body = json!({
        "id_token": tokens.id_token,
        "access_token": tokens.access_token,
        "expires_in": tokens.expires_in,
        "token_type": "Bearer",
    });
    if let Some(refresh) = &tokens.refresh_token {
        body["refresh_token"] = json!(refresh);
    }
    json_answer(StatusCode::OK, body)
}

fn oauth_error(error: &str) -> Answer {
    json_answer(StatusCode::BAD_REQUEST, json!({ "error": error }))
}

fn json_answer(status: StatusCode, body: serde_json::Value) -> Answer {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response parts are valid")
}

/// Whether `value` can go into a header as it is: no control character.
fn header_safe(value: &str) -> bool {
    value.bytes().all(|b| b >= 0x20 && b != 0x7f)
}

fn redirect(target: &str) -> Answer {
    let response = Response::builder()
        .status(StatusCode::FOUND)
        .header("location", target)
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::new()));
    response.unwrap_or_else(|_| {
        page(
            StatusCode::BAD_REQUEST,
            &error_page("not a redirect target"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn only_loopback_redirects_are_allowed() {
        for good in [
            "http://127.0.0.1:3000/console/",
            "http://localhost/x",
            "http://[::1]:80",
        ] {
            assert!(is_loopback(good), "{good}");
        }
        for bad in [
            "https://evil.example/",
            "http://127.0.0.1.evil.example/",
            "http://evil.example/?http://127.0.0.1",
            "http://localhost@evil.example/",
            "javascript:alert(1)",
        ] {
            assert!(!is_loopback(bad), "{bad}");
        }
    }

    #[test]
    fn a_header_safe_value_has_no_control_character() {
        assert!(header_safe("http://127.0.0.1:3000/console/?a=b é"));
        for c in (0u8..0x20).chain([0x7f]).map(char::from) {
            assert!(!header_safe(&format!("http://127.0.0.1/{c}X:1")), "{c:?}");
        }
    }
}
