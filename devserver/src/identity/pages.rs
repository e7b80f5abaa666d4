//! The local managed login's pages: the sign-in form, a first sign-in's new
//! password, the authenticator's code, and the refusal of a request it
//! cannot serve. Every value is escaped; the pages run no script.

use super::cognito::PASSWORD_POLICY;
use super::oauth::AuthorizeRequest;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

/// A page of the managed login, with its security headers.
pub(super) fn page(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
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
p[role=alert]{color:#a4000f}.hint{margin:0 0 .25rem;color:#4a5263;font-size:.9rem}";

pub(super) fn sign_in_form(request: &AuthorizeRequest, message: Option<&str>) -> String {
    format!(
        "<h1>Sign in</h1>{}<form method=\"post\" action=\"/oauth2/authorize\">{}\
         <label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        alert(message),
        hidden_fields(request)
    )
}

pub(super) fn new_password_form(
    request: &AuthorizeRequest,
    handle: &str,
    message: Option<&str>,
) -> String {
    format!(
        "<h1>Choose a new password</h1>{}<form method=\"post\" action=\"/oauth2/authorize\">{}{}\
         <label for=\"new_password\">New password</label><p class=\"hint\" id=\"policy\">{PASSWORD_POLICY}</p>\
         <input id=\"new_password\" name=\"new_password\" type=\"password\" autocomplete=\"new-password\" aria-describedby=\"policy\" required>\
         <button type=\"submit\">Set password</button></form>",
        alert(message),
        hidden_fields(request),
        session_field(handle)
    )
}

/// Cognito's `SOFTWARE_TOKEN_MFA` step: the code of the user's authenticator app.
pub(super) fn code_form(request: &AuthorizeRequest, handle: &str, message: Option<&str>) -> String {
    format!(
        "<h1>Enter your code</h1>{}<form method=\"post\" action=\"/oauth2/authorize\">{}{}\
         <label for=\"code\">Code</label><p class=\"hint\" id=\"code-hint\">The 6-digit code your authenticator app shows for orgkeys now.</p>\
         <input id=\"code\" name=\"code\" type=\"text\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
         maxlength=\"7\" aria-describedby=\"code-hint\" required autofocus>\
         <button type=\"submit\">Verify</button></form>",
        alert(message),
        hidden_fields(request),
        session_field(handle)
    )
}

pub(super) fn error_page(problem: &str) -> String {
    format!(
        "<h1>Sign-in request refused</h1><p role=\"alert\">{}</p>",
        html(problem)
    )
}

/// The authorization request, carried through each form.
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
    .map(|(name, value)| hidden(name, value))
    .collect()
}

/// The handle of the sign-in the server keeps, which the next step continues.
fn session_field(handle: &str) -> String {
    hidden("session", handle)
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        html(value)
    )
}

fn alert(message: Option<&str>) -> String {
    message.map_or_else(String::new, |m| {
        format!("<p role=\"alert\">{}</p>", html(m))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_escaped() {
        assert_eq!(html("\"><script>"), "&quot;&gt;&lt;script&gt;");
        let request = AuthorizeRequest {
            state: "\"><script>".into(),
            ..AuthorizeRequest::default()
        };
        assert!(code_form(&request, "h\"", None).contains("value=\"&quot;&gt;&lt;script&gt;\""));
        assert!(!code_form(&request, "h\"", None).contains("h\"\""));
    }
}
