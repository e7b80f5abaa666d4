//! The local stand-in for Cognito's managed login, at the same OAuth 2.0
//! endpoints, so the console's sign-in code is the same locally and in AWS:
//!
//! - `GET /oauth2/authorize`: the sign-in form ("Email", "Password"), for the
//!   authorization-code grant with PKCE (`S256` only);
//! - `POST /oauth2/authorize`: signs in against the local pool; a first
//!   sign-in asks for a "New password"; then redirects with a one-time code;
//! - `POST /oauth2/token`: the code (with its `code_verifier`) or a
//!   `refresh_token` for tokens;
//! - `POST /oauth2/revoke`: a refresh token no longer refreshes (sign-out);
//! - `GET /logout`: back to `logout_uri`.
//!
//! Redirects go only to loopback addresses: it is a local tool. A
//! `redirect_uri`, `logout_uri` or `state` with a control character is
//! refused (400), since it would end up in a `Location` header. The new
//! password step continues a sign-in the server keeps (the form carries only
//! its random handle), so nobody chooses the password of a user they did not
//! sign in as; wrong passwords lock an email out as Cognito does ([`Lockout`]).

use super::cognito::{Cognito, PASSWORD_POLICY, SignIn, Tokens};
use super::lockout::Lockout;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long an authorization code may wait for its exchange, and a first
/// sign-in for its new password.
const CODE_LIFETIME: Duration = Duration::from_secs(300);

/// The managed-login stand-in of one local app client.
pub struct ManagedLogin {
    cognito: Cognito,
    client_id: String,
    codes: Mutex<HashMap<String, Grant>>,
    /// Refresh tokens revoked here: moto's pool has no RevokeToken, so the
    /// stand-in refuses them itself, as Cognito would (`invalid_grant`).
    revoked: Mutex<HashSet<String>>,
    /// First sign-ins waiting for their new password, by the handle their form carries.
    pending: Mutex<HashMap<String, Pending>>,
    lockout: Mutex<Lockout>,
}

/// A first sign-in that must choose a password: whose it is, and Cognito's
/// session that continues it. Never in a form.
struct Pending {
    email: String,
    session: String,
    issued: Instant,
}

/// Where a submitted sign-in form leaves the user.
enum Step {
    Done(Tokens),
    /// The new-password form, for the pending sign-in `handle`.
    NewPassword {
        handle: String,
    },
    /// The same form again, with why.
    Refused {
        message: &'static str,
        handle: Option<String>,
    },
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
struct AuthorizeRequest {
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
    scope: String,
}

type Answer = Response<Full<Bytes>>;

impl ManagedLogin {
    pub fn new(cognito: Cognito, client_id: String) -> ManagedLogin {
        ManagedLogin {
            cognito,
            client_id,
            codes: Mutex::new(HashMap::new()),
            revoked: Mutex::new(HashSet::new()),
            pending: Mutex::new(HashMap::new()),
            lockout: Mutex::new(Lockout::default()),
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
            "/oauth2/authorize" | "/oauth2/token" | "/oauth2/revoke" | "/logout"
        )
    }

    /// Answers a request to one of these endpoints (see [`serves`](Self::serves)).
    pub async fn answer(&self, method: &str, path: &str, query: &str, body: &[u8]) -> Answer {
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
            "" => self.sign_in(field("email"), field("password")).await,
            handle => self.new_password(handle, field("new_password")).await,
        };
        let form = match step {
            Step::Done(tokens) => return self.grant(&request, tokens).await,
            Step::NewPassword { handle } => new_password_form(&request, &handle, None),
            Step::Refused {
                message,
                handle: None,
            } => sign_in_form(&request, Some(message)),
            Step::Refused {
                message,
                handle: Some(handle),
            } => new_password_form(&request, &handle, Some(message)),
        };
        page(StatusCode::OK, &form)
    }

    /// A password sign-in, unless the email is locked out.
    async fn sign_in(&self, email: &str, password: &str) -> Step {
        let incorrect = Step::Refused {
            message: "Incorrect email or password.",
            handle: None,
        };
        if self.lockout.lock().await.is_locked(email, Instant::now()) {
            return Step::Refused {
                message: "Password attempts exceeded: try again in 15 minutes.",
                handle: None,
            };
        }
        let signed_in = self.cognito.sign_in(&self.client_id, email, password).await;
        let mut lockout = self.lockout.lock().await;
        match signed_in {
            Ok(SignIn::Done(tokens)) => {
                lockout.succeeded(email);
                Step::Done(tokens)
            }
            Ok(SignIn::NewPasswordRequired { session }) => {
                lockout.succeeded(email);
                let Ok(handle) = crate::random_token() else {
                    return incorrect;
                };
                let mut pending = self.pending.lock().await;
                pending.retain(|_, first| first.issued.elapsed() < CODE_LIFETIME);
                let first = Pending {
                    email: email.to_owned(),
                    session,
                    issued: Instant::now(),
                };
                pending.insert(handle.clone(), first);
                Step::NewPassword { handle }
            }
            Err(err) => {
                tracing::info!(error = %err.kind, "local sign-in refused");
                if err.kind == "NotAuthorizedException" {
                    lockout.failed(email, Instant::now());
                }
                incorrect
            }
        }
    }

    /// The new password of the pending first sign-in `handle`: the user is
    /// the one who signed in, whatever the form says.
    async fn new_password(&self, handle: &str, new_password: &str) -> Step {
        let found = self
            .pending
            .lock()
            .await
            .get(handle)
            .filter(|first| first.issued.elapsed() < CODE_LIFETIME)
            .map(|first| (first.email.clone(), first.session.clone()));
        let Some((email, session)) = found else {
            return Step::Refused {
                message: "That sign-in expired: sign in again.",
                handle: None,
            };
        };
        let chosen = self
            .cognito
            .set_new_password(&self.client_id, &session, &email, new_password)
            .await;
        match chosen {
            Ok(tokens) => {
                self.pending.lock().await.remove(handle);
                Step::Done(tokens)
            }
            Err(err) => {
                tracing::info!(error = %err.kind, "local new password refused");
                let message = match err.kind.as_str() {
                    "InvalidPasswordException" => "That password does not meet the policy.",
                    _ => "That password could not be set.",
                };
                Step::Refused {
                    message,
                    handle: Some(handle.to_owned()),
                }
            }
        }
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

/// Text for HTML: the five characters that could end it escaped.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, body: &str) -> Answer {
    let document = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign in · orgkeys (local)</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>"
    );
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header(
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        )
        .header("x-content-type-options", "nosniff")
        .body(Full::new(Bytes::from(document)))
        .expect("static response parts are valid")
}

const STYLE: &str = "body{font:16px system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}\
main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 3px #0003}\
label{display:block;margin:1rem 0 .25rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}\
button{margin-top:1.5rem;width:100%;padding:.6rem;font:inherit;font-weight:600;background:#1b5fbf;color:#fff;border:0;border-radius:4px}\
p[role=alert]{color:#a4000f}#policy{margin:0 0 .25rem;color:#4a5263;font-size:.9rem}";

fn hidden_fields(request: &AuthorizeRequest) -> String {
    [
        ("response_type", "code"),
        ("client_id", request.client_id.as_str()),
        ("redirect_uri", request.redirect_uri.as_str()),
        ("state", request.state.as_str()),
        ("code_challenge", request.code_challenge.as_str()),
        (
            "code_challenge_method",
            request.code_challenge_method.as_str(),
        ),
        ("scope", request.scope.as_str()),
    ]
    .iter()
    .map(|(name, value)| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            html(value)
        )
    })
    .collect()
}

fn alert(message: Option<&str>) -> String {
    message.map_or_else(String::new, |m| {
        format!("<p role=\"alert\">{}</p>", html(m))
    })
}

fn sign_in_form(request: &AuthorizeRequest, message: Option<&str>) -> String {
    format!(
        "<h1>Sign in</h1>{}<form method=\"post\" action=\"/oauth2/authorize\">{}\
         <label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        alert(message),
        hidden_fields(request)
    )
}

fn new_password_form(request: &AuthorizeRequest, handle: &str, message: Option<&str>) -> String {
    format!(
        "<h1>Choose a new password</h1>{}<form method=\"post\" action=\"/oauth2/authorize\">{}\
         <input type=\"hidden\" name=\"session\" value=\"{}\">\
         <label for=\"new_password\">New password</label><p id=\"policy\">{PASSWORD_POLICY}</p>\
         <input id=\"new_password\" name=\"new_password\" type=\"password\" autocomplete=\"new-password\" aria-describedby=\"policy\" required>\
         <button type=\"submit\">Set password</button></form>",
        alert(message),
        hidden_fields(request),
        html(handle)
    )
}

fn error_page(problem: &str) -> String {
    format!(
        "<h1>Sign-in request refused</h1><p role=\"alert\">{}</p>",
        html(problem)
    )
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

    #[test]
    fn form_values_are_escaped() {
        assert_eq!(html("\"><script>"), "&quot;&gt;&lt;script&gt;");
    }
}
