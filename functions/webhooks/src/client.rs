//! One delivery attempt: resolve the endpoint's host, check every address
//! against the [`AddressPolicy`], connect to a checked address (no second
//! lookup a rebinding DNS server could answer differently), POST the signed
//! body and record what happened as an [`Attempt`].
//!
//! The connection is made by hand (a `TcpStream`, rustls for `https://`,
//! hyper's HTTP/1 client connection) rather than through a pooled client:
//! a pool would reuse a connection without resolving again, and would follow
//! nothing we did not ask for. Redirects are never followed: a 3xx is a
//! failed attempt, as Standard Webhooks says.

use crate::signature::signature_header;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use orgkeys_shared::webhooks::address_policy::{AddressPolicy, Refused, WebhookUrl};
use orgkeys_shared::webhooks::signing::SigningSecret;
use rustls::pki_types::ServerName;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout_at;
use tokio_rustls::TlsConnector;
use url::Host;

/// The environment variable with an attempt's timeout, in seconds.
pub const TIMEOUT_VAR: &str = "WEBHOOK_TIMEOUT_SECONDS";
/// Standard Webhooks recommends 15 to 30 seconds; we wait the least.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// How much of a receiver's answer an attempt keeps, in bytes.
pub const RESPONSE_EXCERPT_BYTES: usize = 1024;

/// What an attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx: the message is delivered.
    Delivered,
    /// Anything else but a 410: the message is tried again on the schedule.
    Failed,
    /// A 410: the receiver wants no more; the endpoint is disabled.
    Gone,
}

/// The record of one attempt, as the message log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When the attempt started (its `webhook-timestamp`).
    pub at: DateTime<Utc>,
    /// The receiver's status, when it answered.
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    /// Why the attempt failed without an answer (or with a redirect).
    pub error: Option<String>,
    /// The start of the receiver's answer, as text, cut on a character.
    pub response_body: Option<String>,
    /// A 429's or 503's `Retry-After`, from the attempt's start.
    pub retry_after: Option<Duration>,
    pub outcome: Outcome,
}

impl Attempt {
    /// An attempt not made: the stored URL is not one the policy lets a
    /// delivery reach (the policy changed since it was registered).
    pub fn refused(at: DateTime<Utc>, why: String) -> Attempt {
        Attempt {
            at,
            status_code: None,
            duration_ms: 0,
            error: Some(format!("refused before connecting: {why}")),
            response_body: None,
            retry_after: None,
            outcome: Outcome::Failed,
        }
    }

    /// The attempt as the message log stores it.
    pub fn record(&self) -> orgkeys_shared::webhooks::AttemptRecord {
        orgkeys_shared::webhooks::AttemptRecord {
            at: orgkeys_shared::wire_time::format(self.at),
            status_code: self.status_code,
            duration_ms: self.duration_ms,
            error: self.error.clone(),
            response_body: self.response_body.clone(),
        }
    }
}

/// Sends attempts; built once per process (it loads the TLS roots).
pub struct Sender {
    policy: AddressPolicy,
    timeout: Duration,
    tls: TlsConnector,
    user_agent: HeaderValue,
}

/// Why an attempt got no answer.
enum Failure {
    Refused(Refused),
    Resolve(std::io::Error),
    NoAddress,
    Connect(std::io::Error),
    Tls(std::io::Error),
    Http(hyper::Error),
    TimedOut(Duration),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(refused) => write!(f, "refused before connecting: {refused}"),
            Failure::Resolve(err) => write!(f, "the host name did not resolve: {err}"),
            Failure::NoAddress => f.write_str("the host name resolved to no address"),
            Failure::Connect(err) => write!(f, "could not connect: {err}"),
            Failure::Tls(err) => write!(f, "TLS handshake failed: {err}"),
            Failure::Http(err) => write!(f, "HTTP exchange failed: {err}"),
            Failure::TimedOut(limit) => {
                write!(f, "no answer within {} seconds", limit.as_secs_f64())
            }
        }
    }
}

/// An answer's status and headers, with the start of its body.
struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    location: Option<String>,
    excerpt: String,
}

impl Sender {
    /// A sender with this policy and timeout, trusting the system's roots.
    pub fn new(policy: AddressPolicy, timeout: Duration) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports rustls's default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let user_agent = concat!("orgkeys-webhooks/", env!("CARGO_PKG_VERSION"));
        Sender {
            policy,
            timeout,
            tls: TlsConnector::from(Arc::new(config)),
            user_agent: HeaderValue::from_static(user_agent),
        }
    }

    /// The stored `url` as a delivery may use it, checked again by the
    /// policy in force.
    pub fn url_of(&self, url: &str) -> Result<WebhookUrl, String> {
        self.policy.validate_url(url)
    }

    /// The timeout `WEBHOOK_TIMEOUT_SECONDS` sets (default 15 s).
    pub fn timeout_from_env() -> Result<Duration, String> {
        match std::env::var(TIMEOUT_VAR) {
            Ok(value) => match value.trim().parse::<u64>() {
                Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
                _ => Err(format!(
                    "{TIMEOUT_VAR}: {value:?} is not a positive number of seconds"
                )),
            },
            Err(std::env::VarError::NotPresent) => Ok(DEFAULT_TIMEOUT),
            Err(err) => Err(format!("{TIMEOUT_VAR}: {err}")),
        }
    }

    /// One attempt to deliver `body` under `message_id`, signed with each
    /// of `secrets`, at `now` (its `webhook-timestamp`). Never fails: every
    /// way an attempt can go is recorded in the [`Attempt`].
    pub async fn attempt(
        &self,
        url: &WebhookUrl,
        message_id: &str,
        body: &[u8],
        secrets: &[&SigningSecret],
        now: DateTime<Utc>,
    ) -> Attempt {
        let started = Instant::now();
        let request = self.request(url, message_id, body, secrets, now.timestamp());
        let result =
            match timeout_at((started + self.timeout).into(), self.post(url, request)).await {
                Ok(result) => result,
                Err(_) => Err(Failure::TimedOut(self.timeout)),
            };
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(answer) => record(answer, now, duration_ms),
            Err(failure) => Attempt {
                at: now,
                status_code: None,
                duration_ms,
                error: Some(failure.to_string()),
                response_body: None,
                retry_after: None,
                outcome: Outcome::Failed,
            },
        }
    }

    fn request(
        &self,
        url: &WebhookUrl,
        message_id: &str,
        body: &[u8],
        secrets: &[&SigningSecret],
        timestamp: i64,
    ) -> Request<Full<Bytes>> {
        let url = url.url();
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        Request::post(target)
            .header(header::HOST, host)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, self.user_agent.clone())
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp)
            .header(
                "webhook-signature",
                signature_header(secrets, message_id, timestamp, body),
            )
            .body(Full::new(Bytes::copy_from_slice(body)))
            .expect("a parsed URL's host and path and our own headers are valid")
    }

    /// Resolves, checks, connects and exchanges; `https://` over rustls.
    async fn post(
        &self,
        url: &WebhookUrl,
        request: Request<Full<Bytes>>,
    ) -> Result<Answer, Failure> {
        let url = url.url();
        let port = url.port_or_known_default().unwrap_or(443);
        let (addresses, server_name) = match url.host() {
            Some(Host::Domain(name)) => {
                let addresses = tokio::net::lookup_host((name, port))
                    .await
                    .map_err(Failure::Resolve)?
                    .collect();
                let server_name = ServerName::try_from(name.to_owned()).ok();
                (addresses, server_name)
            }
            Some(Host::Ipv4(ip)) => literal(IpAddr::V4(ip), port),
            Some(Host::Ipv6(ip)) => literal(IpAddr::V6(ip), port),
            None => (Vec::new(), None),
        };
        for address in &addresses {
            self.policy.check(address.ip()).map_err(Failure::Refused)?;
        }
        let tcp = connect(&addresses).await?;
        if url.scheme() != "https" {
            return exchange(tcp, request).await;
        }
        let server_name = server_name.ok_or(Failure::NoAddress)?;
        let tls = self
            .tls
            .connect(server_name, tcp)
            .await
            .map_err(Failure::Tls)?;
        exchange(tls, request).await
    }
}

fn literal(ip: IpAddr, port: u16) -> (Vec<SocketAddr>, Option<ServerName<'static>>) {
    (vec![SocketAddr::new(ip, port)], Some(ServerName::from(ip)))
}

/// The first of the (checked) addresses that accepts a connection.
async fn connect(addresses: &[SocketAddr]) -> Result<TcpStream, Failure> {
    let mut last = Failure::NoAddress;
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(tcp) => {
                // Small requests, one each: Nagle's delay would only add latency.
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(err) => last = Failure::Connect(err),
        }
    }
    Err(last)
}

/// Aborts the connection's task when the attempt ends or times out.
struct Driver(tokio::task::JoinHandle<()>);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn exchange<I>(io: I, request: Request<Full<Bytes>>) -> Result<Answer, Failure>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(Failure::Http)?;
    let _driver = Driver(tokio::spawn(async move {
        let _ = connection.await;
    }));
    let response = sender.send_request(request).await.map_err(Failure::Http)?;
    Ok(answer(response).await)
}

async fn answer(response: Response<Incoming>) -> Answer {
    let text = |name| {
        response
            .headers()
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = text(header::RETRY_AFTER);
    let location = text(header::LOCATION);
    let status = response.status();
    let excerpt = excerpt(response.into_body()).await;
    Answer {
        status,
        retry_after,
        location,
        excerpt,
    }
}

/// The first [`RESPONSE_EXCERPT_BYTES`] of the body (what arrived of them if
/// the body breaks off), as text; the rest is not read.
async fn excerpt(mut body: Incoming) -> String {
    let mut bytes = Vec::with_capacity(RESPONSE_EXCERPT_BYTES);
    while bytes.len() < RESPONSE_EXCERPT_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                }
            }
            _ => break,
        }
    }
    cut_text(&bytes, RESPONSE_EXCERPT_BYTES)
}

/// At most `limit` bytes of `bytes` as text: a character the cut splits is
/// left out; bytes that are not UTF-8 become U+FFFD (which may lengthen it,
/// so the cut is made again on the text).
fn cut_text(bytes: &[u8], limit: usize) -> String {
    let bytes = &bytes[..bytes.len().min(limit)];
    let mut text = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(err) if err.error_len().is_none() => {
            String::from_utf8_lossy(&bytes[..err.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    };
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

fn record(answer: Answer, now: DateTime<Utc>, duration_ms: u64) -> Attempt {
    let status = answer.status;
    let outcome = if status.is_success() {
        Outcome::Delivered
    } else if status == StatusCode::GONE {
        Outcome::Gone
    } else {
        Outcome::Failed
    };
    let error = status.is_redirection().then(|| match &answer.location {
        Some(location) => format!("redirects are not followed (to {location})"),
        None => "redirects are not followed".to_owned(),
    });
    let throttled =
        status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE;
    let retry_after = answer
        .retry_after
        .filter(|_| throttled)
        .and_then(|value| parse_retry_after(&value, now));
    Attempt {
        at: now,
        status_code: Some(status.as_u16()),
        duration_ms,
        error,
        response_body: Some(answer.excerpt),
        retry_after,
        outcome,
    }
}

/// `Retry-After` as seconds or as an HTTP date (RFC 9110), from `now`; a
/// date in the past is no wait.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::from(now))
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
