//! The web console (`scripts/console` builds it into `target/console/`) at
//! `/console/`: a local-only route like `/docs`, outside the API's route
//! table. Files go out with the headers CloudFront's response-headers policy
//! sets in AWS (the content security policy first), gzipped when the browser
//! accepts it; `/console/config.json` is made from this gateway's own sign-in
//! (its address for the API, the managed login and the user-pool API, the
//! local app client, the pool's MFA) and its authorizer's cache, which bounds
//! how long a revoked key still works.

use crate::identity::user_pool;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{HeaderMap, Response, StatusCode};
use serde_json::json;
use std::path::PathBuf;

/// The console's content security policy: its own scripts and styles only,
/// no inline script or `eval`, never framed. The API and the managed login
/// are this origin locally.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Where `scripts/console` writes the built console.
pub fn console_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/console"))
}

/// Whether `path` is the console's.
pub fn serves(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

/// What `/console/config.json` says besides this gateway's address.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// The local managed login's app client, when this gateway plays one.
    pub client_id: Option<&'a str>,
    /// How long a disabled, deleted or rolled-out key may still be accepted:
    /// the authorizer's cache (the local gateway has no API Gateway cache).
    pub revocation: std::time::Duration,
}

/// Answers `GET path` under `/console`.
pub fn answer(path: &str, headers: &HeaderMap, settings: Settings) -> Response<Full<Bytes>> {
    match path.strip_prefix("/console").unwrap_or_default() {
        "" => redirect("/console/"),
        "/" => file("index.html", headers),
        "/config.json" => config(headers, settings),
        other => file(other.trim_start_matches('/'), headers),
    }
}

/// The built file `name` (a plain file name: no directories, no dot files).
fn file(name: &str, headers: &HeaderMap) -> Response<Full<Bytes>> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    let Some(content_type) = plain.then(|| content_type(name)).flatten() else {
        return not_found();
    };
    let path = console_dir().join(name);
    let gzip = accepts_gzip(headers);
    let (body, encoded) = match gzip.then(|| std::fs::read(gz_path(&path))) {
        Some(Ok(body)) => (body, true),
        _ => match std::fs::read(&path) {
            Ok(body) => (body, false),
            Err(_) => return not_found(),
        },
    };
    let mut response = secured(StatusCode::OK)
        .header("content-type", content_type)
        .header("vary", "accept-encoding");
    if encoded {
        response = response.header("content-encoding", "gzip");
    }
    response
        .body(Full::new(Bytes::from(body)))
        .expect("static response parts are valid")
}

fn gz_path(path: &std::path::Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}

fn content_type(name: &str) -> Option<&'static str> {
    let extension = name.rsplit_once('.')?.1;
    Some(match extension {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => return None,
    })
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all("accept-encoding")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| coding.split(';').next().unwrap_or_default().trim() == "gzip")
}

/// The console's settings: this gateway (by the address the browser used)
/// is the API, its reference and the managed login.
fn config(headers: &HeaderMap, settings: Settings) -> Response<Full<Bytes>> {
    let host = headers.get("host").and_then(|h| h.to_str().ok());
    let (Some(client_id), Some(host)) = (settings.client_id, host) else {
        return not_found();
    };
    let origin = format!("http://{host}");
    let body = json!({
        "apiUrl": origin,
        "apiReferenceUrl": format!("{origin}/docs"),
        "loginUrl": origin,
        "clientId": client_id,
        // The user-pool API scope lets the access token set up an authenticator.
        "scope": "openid email profile aws.cognito.signin.user.admin",
        "revocationSeconds": settings.revocation.as_secs(),
        "mfa": user_pool::MFA,
        "userPoolUrl": format!("{origin}{}", user_pool::PATH),
    });
    secured(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response parts are valid")
}

/// A response with the console's security headers; always revalidated, so a
/// rebuild shows at once.
fn secured(status: StatusCode) -> hyper::http::response::Builder {
    Response::builder()
        .status(status)
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "no-referrer")
        .header("cache-control", "no-cache")
}

fn redirect(target: &str) -> Response<Full<Bytes>> {
    secured(StatusCode::MOVED_PERMANENTLY)
        .header("location", target)
        .body(Full::new(Bytes::new()))
        .expect("static response parts are valid")
}

fn not_found() -> Response<Full<Bytes>> {
    secured(StatusCode::NOT_FOUND)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from_static(
            b"Not found. Build the console with scripts/console.",
        )))
        .expect("static response parts are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, headers: &[(&str, &str)]) -> Response<Full<Bytes>> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let settings = Settings {
            client_id: Some("client-1"),
            revocation: std::time::Duration::from_secs(30),
        };
        answer(path, &map, settings)
    }

    #[test]
    fn only_plain_file_names_of_known_types_are_served() {
        for path in [
            "/console/../Cargo.toml",
            "/console/..%2fCargo.toml",
            "/console/sub/index.html",
            "/console/.hidden.js",
            "/console/console.js.gz",
            "/console/notes.txt",
        ] {
            assert_eq!(get(path, &[]).status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[test]
    fn every_answer_carries_the_content_security_policy() {
        for path in [
            "/console",
            "/console/",
            "/console/config.json",
            "/console/x.js",
        ] {
            let response = get(path, &[("host", "127.0.0.1:3000")]);
            let csp = response.headers()["content-security-policy"]
                .to_str()
                .unwrap();
            assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        }
    }

    #[test]
    fn the_config_names_this_gateway_and_its_app_client() {
        let response = get("/console/config.json", &[("host", "127.0.0.1:4321")]);
        assert_eq!(response.status(), StatusCode::OK);
        let body = futures_body(response);
        assert_eq!(body["apiUrl"], "http://127.0.0.1:4321");
        assert_eq!(body["loginUrl"], "http://127.0.0.1:4321");
        assert_eq!(body["clientId"], "client-1");
        assert_eq!(body["apiReferenceUrl"], "http://127.0.0.1:4321/docs");
        assert_eq!(body["revocationSeconds"], 30);
    }

    #[test]
    fn gzip_is_read_from_the_accept_encoding_list() {
        let mut headers = HeaderMap::new();
        headers.insert("accept-encoding", "br;q=1, gzip;q=0.8".parse().unwrap());
        assert!(accepts_gzip(&headers));
        headers.insert("accept-encoding", "gzipped, identity".parse().unwrap());
        assert!(!accepts_gzip(&headers));
    }

    fn futures_body(response: Response<Full<Bytes>>) -> serde_json::Value {
        use http_body_util::BodyExt;
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(response.into_body().collect())
            .unwrap()
            .to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }
}
