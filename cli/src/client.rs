//! The HTTP client: HTTPS (rustls, the system's roots) or plain HTTP for the
//! local gateway; each request authenticated with the admin token or signed
//! with SigV4 for `execute-api`, as API Gateway's `AWS_IAM` expects. The
//! admin token travels over plain HTTP only to loopback unless
//! `--insecure-http`; a failure to connect names its cause (the TLS verdict
//! first).

use crate::args::Cli;
use crate::call::Call;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::{Duration, SystemTime};

/// How long one request may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);
const SERVICE: &str = "execute-api";

/// How requests prove who sends them.
enum Auth {
    /// The local gateway's admin token.
    Token(String),
    /// SigV4 with the AWS credential chain.
    SigV4 {
        credentials: SharedCredentialsProvider,
        region: String,
    },
}

/// An answer: status and body as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

pub struct Client {
    base: String,
    auth: Auth,
    http: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Client {
    /// A client for `--api`, with the admin token when one is given, else
    /// with the AWS configuration's credentials and region (`--region` wins).
    pub async fn new(cli: &Cli) -> Result<Client, String> {
        let auth = match admin_token(cli)? {
            Some(token) => {
                token_may_travel(&cli.api, cli.insecure_http)?;
                Auth::Token(token)
            }
            None => {
                let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
                let credentials = config.credentials_provider().ok_or(
                    "no AWS credentials found: configure a profile, SSO or environment variables, or pass --admin-token for the local gateway",
                )?;
                let region = cli
                    .region
                    .clone()
                    .or_else(|| config.region().map(|r| r.to_string()))
                    .ok_or("no AWS region: pass --region or set AWS_REGION")?;
                Auth::SigV4 {
                    credentials,
                    region,
                }
            }
        };
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|err| format!("cannot load the system's root certificates: {err}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Client {
            base: cli.api.trim_end_matches('/').to_owned(),
            auth,
            http: HyperClient::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// Sends `call` and reads the whole answer. `Err` when it could not be
    /// signed, sent or read.
    pub async fn send(&self, call: &Call) -> Result<Reply, String> {
        let url = format!("{}{}", self.base, call.path_and_query());
        let uri: hyper::Uri = url.parse().map_err(|err| format!("bad URL {url}: {err}"))?;
        let host = uri
            .authority()
            .ok_or_else(|| format!("bad URL {url}: no host"))?
            .to_string();
        let body = call
            .body
            .as_ref()
            .map(|b| b.to_string())
            .unwrap_or_default();
        let content_type = if call.merge_patch {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let mut request = hyper::Request::builder()
            .method(call.route.method)
            .uri(uri)
            .header("host", &host)
            .header("content-type", content_type)
            .header(
                "user-agent",
                concat!("orgkeys-cli/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(body.clone())))
            .map_err(|err| format!("cannot build the request: {err}"))?;
        match &self.auth {
            Auth::Token(token) => {
                let value = format!("Bearer {token}")
                    .parse()
                    .map_err(|_| "the admin token is not a valid header value".to_owned())?;
                request.headers_mut().insert("authorization", value);
            }
            Auth::SigV4 {
                credentials,
                region,
            } => {
                let signed_headers = [("host", host.as_str()), ("content-type", content_type)];
                let credentials = credentials
                    .provide_credentials()
                    .await
                    .map_err(|err| format!("cannot get AWS credentials: {err}"))?;
                let identity = credentials.into();
                let params = v4::SigningParams::builder()
                    .identity(&identity)
                    .region(region)
                    .name(SERVICE)
                    .time(SystemTime::now())
                    .settings(SigningSettings::default())
                    .build()
                    .map_err(|err| format!("cannot sign: {err}"))?
                    .into();
                let signable = SignableRequest::new(
                    call.route.method,
                    &url,
                    signed_headers.into_iter(),
                    SignableBody::Bytes(body.as_bytes()),
                )
                .map_err(|err| format!("cannot sign: {err}"))?;
                let (instructions, _) = sign(signable, &params)
                    .map_err(|err| format!("cannot sign: {err}"))?
                    .into_parts();
                instructions.apply_to_request_http1x(&mut request);
            }
        }
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|err| format!("cannot reach {}: {}", self.base, cause(&err)))?;
            let status = response.status().as_u16();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|err| format!("the answer from {} broke off: {err}", self.base))?
                .to_bytes();
            Ok(Reply {
                status,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            })
        };
        tokio::time::timeout(TIMEOUT, exchange).await.map_err(|_| {
            format!(
                "no answer from {} within {} s",
                self.base,
                TIMEOUT.as_secs()
            )
        })?
    }
}

/// The admin token: from `--admin-token-file` (`-` for stdin), else
/// `--admin-token` or `ORGKEYS_ADMIN_TOKEN`; `None` when none is given.
fn admin_token(cli: &Cli) -> Result<Option<String>, String> {
    let Some(path) = &cli.admin_token_file else {
        return Ok(cli.admin_token.clone().filter(|token| !token.is_empty()));
    };
    let read = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    };
    let text =
        read.map_err(|err| format!("cannot read the admin token from {}: {err}", path.display()))?;
    match text.trim() {
        "" => Err(format!("{} holds no admin token", path.display())),
        token => Ok(Some(token.to_owned())),
    }
}

/// Plain `http://` carries the admin token in clear: only to this machine
/// (loopback), unless the user says so with `--insecure-http`.
fn token_may_travel(api: &str, insecure_http: bool) -> Result<(), String> {
    let uri: hyper::Uri = api.parse().map_err(|err| format!("bad URL {api}: {err}"))?;
    let host = uri.host().unwrap_or_default();
    if uri.scheme_str() != Some("http") || insecure_http || is_loopback(host) {
        return Ok(());
    }
    Err(format!(
        "refusing to send the admin token over plain http:// to {host}: use https://, \
         or pass --insecure-http to send it anyway"
    ))
}

/// `localhost` or a loopback address (`127.0.0.0/8`, `[::1]`).
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why a request could not be sent, in words: the TLS verdict when the
/// handshake failed, else each error of the source chain
/// (`client error (Connect): tcp connect error: Connection refused`).
fn cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = Vec::new();
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(tls) = rustls_error(err) {
            return tls_verdict(tls);
        }
        chain.push(err.to_string());
        next = err.source();
    }
    chain.dedup();
    chain.join(": ")
}

/// A rustls error, itself or wrapped in `io::Error`s (whose `source` skips
/// what they wrap).
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = err.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_error(inner)
}

fn tls_verdict(err: &rustls::Error) -> String {
    use rustls::CertificateError;
    match err {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "certificate not trusted: self-signed, or issued by an authority this machine \
             does not trust (its root certificates)"
                .to_owned()
        }
        rustls::Error::InvalidCertificate(rejected) => {
            format!("certificate not accepted: {rejected}")
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_token_goes_over_plain_http_only_to_loopback_or_when_told() {
        for api in [
            "http://127.0.0.1:3000",
            "http://127.1.2.3",
            "http://localhost:3000",
            "http://[::1]:3000",
            "https://api.example.com",
        ] {
            assert!(token_may_travel(api, false).is_ok(), "{api}");
        }
        for api in [
            "http://192.0.2.1:3000",
            "http://api.example.com",
            "http://[2001:db8::1]",
        ] {
            let refused = token_may_travel(api, false).unwrap_err();
            assert!(refused.contains("--insecure-http"), "{refused}");
            assert!(token_may_travel(api, true).is_ok(), "{api}");
        }
    }

    #[test]
    fn a_tls_failure_inside_an_io_error_is_named() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, tls));
        let told = cause(&io);
        assert!(
            told.starts_with("certificate not trusted: self-signed"),
            "{told}"
        );
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(cause(&refused), "refused");
    }
}
