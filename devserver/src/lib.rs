//! The local gateway: the whole orgkeys API on loopback, behaving like the
//! deployed HTTP API, authorizer included, with no AWS account and no Docker.
//!
//! - Routes come from the one table, `orgkeys_shared::routes`.
//! - [`event`] builds API Gateway's payload 2.0 events from HTTP requests.
//! - [`gateway`] authorizes a request and runs the function through `lambda_http`.
//! - [`moto`] runs the embedded DynamoDB-API server when no endpoint is given.
//! - [`principal`] names who admin requests run as locally.
//! - [`serve`] is the HTTP/1.1 server loop with one log line per request.
//! - `GET /docs` serves the rendered API reference (`scripts/docs`) when it
//!   has been built: a local-only route, outside the API's route table;
//!   so is `GET /local/outbox`, the invitations Cognito would have emailed
//!   (`identity::outbox`).
//! - [`console`] serves the web console at `/console/` the same way.
//! - [`webhooks`] runs the webhooks function's fan-out and delivery on
//!   moto's stream and queue, as Lambda runs them in AWS.
//! - Local-only routes (`/local/*`, `/oauth2/*`, `/logout`,
//!   `/console/config.json`, `/docs`) answer only a request whose `Host` is a
//!   loopback name or address ([`loopback_host`]): a page on another site
//!   whose name a DNS rebinding points at 127.0.0.1 is refused.

pub mod console;
pub mod event;
pub mod gateway;
pub mod identity;
pub mod moto;
pub mod principal;
pub mod sigv4;
pub mod webhooks;

use bytes::Bytes;
use gateway::Gateway;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use identity::oauth::ManagedLogin;
use identity::outbox::Outbox;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// API Gateway's payload limit for HTTP APIs.
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;
/// The most of a SigV4-signed admin request's body read to check its
/// signature: well above what any admin route takes, far below [`BODY_LIMIT`],
/// since it is read before the caller is known.
pub const SIGNED_BODY_LIMIT: usize = 1024 * 1024;
/// A client must send its request line and headers within this time.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// An admitted request must send its whole body within this time.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// 32 random bytes, base64url: authorization codes, generated passwords.
pub fn random_token() -> Result<String, getrandom::Error> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Serves HTTP/1.1 on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let gateway = gateway.clone();
                async move { Ok::<_, Infallible>(answer(&gateway, request, peer).await) }
            });
            if let Err(err) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
}

/// Where `scripts/docs` writes the rendered reference.
pub fn docs_file() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/docs/index.html"
    ))
}

/// The rendered reference, read at each request so a rebuild shows at once.
fn docs_page() -> Response<Full<Bytes>> {
    match std::fs::read(docs_file()) {
        Ok(page) => Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(Full::new(Bytes::from(page)))
            .expect("static response parts are valid"),
        Err(_) => gateway::not_found(),
    }
}

/// A request's body, at most `limit` bytes within [`BODY_READ_TIMEOUT`];
/// otherwise API Gateway's 413 or 408.
async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, Response<Full<Bytes>>> {
    match tokio::time::timeout(BODY_READ_TIMEOUT, Limited::new(body, limit).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(_)) => Err(gateway::too_large()),
        Err(_) => Err(gateway::request_timeout()),
    }
}

/// A sign-in form or a token request is small.
const SIGN_IN_BODY_LIMIT: usize = 64 * 1024;

/// A local-only route (the managed login's stand-in, the outbox): its
/// small body read, then `answer`ed; logged without its query or body,
/// which carry codes, passwords and tokens.
async fn local_route<Fut>(
    request: Request<Incoming>,
    started: Instant,
    answer: impl FnOnce(hyper::http::request::Parts, Bytes) -> Fut,
) -> Response<Full<Bytes>>
where
    Fut: Future<Output = Response<Full<Bytes>>>,
{
    let (parts, body) = request.into_parts();
    let body = match read_body(body, SIGN_IN_BODY_LIMIT).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
    let response = answer(parts, body).await;
    tracing::info!(
        "{method} {path} {} {}ms",
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    response
}

/// The local stand-in of Cognito's managed login (`identity::oauth`).
async fn managed_login(
    login: &ManagedLogin,
    request: Request<Incoming>,
    started: Instant,
) -> Response<Full<Bytes>> {
    local_route(request, started, |parts, body| async move {
        let query = parts.uri.query().unwrap_or_default();
        login
            .answer(
                parts.method.as_str(),
                parts.uri.path(),
                query,
                &parts.headers,
                &body,
            )
            .await
    })
    .await
}

/// The local outbox and the Cognito calls it stands between (`identity::outbox`).
async fn local_outbox(
    outbox: &Outbox,
    request: Request<Incoming>,
    started: Instant,
) -> Response<Full<Bytes>> {
    local_route(request, started, |parts, body| async move {
        outbox
            .answer(
                parts.method.as_str(),
                parts.uri.path(),
                &parts.headers,
                &body,
            )
            .await
    })
    .await
}

/// Whether `path` is a local-only route: one the deployed API does not have,
/// which only this machine's browser or tools may call.
pub fn is_local_only(path: &str) -> bool {
    path.starts_with("/local/")
        || path.starts_with("/oauth2/")
        || matches!(
            path,
            "/logout" | "/console/config.json" | "/docs" | "/docs/"
        )
}

/// Whether the request's `Host` is a loopback name or address
/// (`localhost`, `127.x.x.x`, `[::1]`, with or without a port).
pub fn loopback_host(headers: &hyper::HeaderMap) -> bool {
    let Some(host) = headers.get("host").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        return v6
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    }
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn answer(
    gateway: &Gateway,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    if is_local_only(request.uri().path()) && !loopback_host(request.headers()) {
        tracing::info!(
            "{} {} 403 (not a loopback Host)",
            request.method(),
            request.uri().path()
        );
        return gateway::forbidden();
    }
    if request.method() == hyper::Method::GET && matches!(request.uri().path(), "/docs" | "/docs/")
    {
        let response = docs_page();
        tracing::info!("GET /docs {}", response.status().as_u16());
        return response;
    }
    if request.method() == hyper::Method::GET && console::serves(request.uri().path()) {
        let settings = console::Settings {
            client_id: gateway.managed_login().map(ManagedLogin::client_id),
            revocation: gateway.authorizer.cache_ttl(),
        };
        let response = console::answer(request.uri().path(), request.headers(), settings);
        tracing::info!(
            "GET {} {}",
            request.uri().path(),
            response.status().as_u16()
        );
        return response;
    }
    if let Some(login) = gateway.managed_login()
        && ManagedLogin::serves(request.uri().path())
    {
        return managed_login(login, request, started).await;
    }
    if let Some(outbox) = gateway.outbox()
        && Outbox::serves(request.uri().path())
    {
        return local_outbox(outbox, request, started).await;
    }
    let (parts, body) = request.into_parts();
    let read_body = |limit: usize| read_body(body, limit);
    let response = gateway
        .handle(&parts, peer.ip().to_string(), read_body)
        .await;
    // Never the query string or headers: they may carry keys or tokens.
    tracing::info!(
        "{} {} {} {}ms",
        parts.method,
        parts.uri.path(),
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(value: &str) -> hyper::HeaderMap {
        let mut headers = hyper::HeaderMap::new();
        headers.insert("host", value.parse().unwrap());
        headers
    }

    #[test]
    fn only_a_loopback_host_reaches_a_local_only_route() {
        for good in [
            "127.0.0.1:3000",
            "127.9.8.7",
            "localhost",
            "LOCALHOST:80",
            "[::1]:3000",
            "[::1]",
        ] {
            assert!(loopback_host(&host(good)), "{good}");
        }
        for bad in [
            "evil.example",
            "evil.example:3000",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "10.0.0.1:3000",
            "[::2]:3000",
            "::1",
            "",
        ] {
            assert!(!loopback_host(&host(bad)), "{bad}");
        }
        assert!(!loopback_host(&hyper::HeaderMap::new()));
    }

    #[test]
    fn the_local_only_routes_are_the_ones_the_deployed_api_lacks() {
        for path in [
            "/local/outbox",
            "/local/cognito-idp",
            "/oauth2/authorize",
            "/oauth2/token",
            "/logout",
            "/console/config.json",
            "/docs",
        ] {
            assert!(is_local_only(path), "{path}");
        }
        for path in [
            "/v1/console/me",
            "/console/",
            "/console/app.js",
            "/v1/admin/organizations",
        ] {
            assert!(!is_local_only(path), "{path}");
        }
    }
}
