//! A small document fetched over HTTPS with the system's roots (plain HTTP
//! too, for a local one), within a time and a size bound: GitHub's
//! secret-scanning keys here, and an OpenID provider's JWKS on the local
//! gateway. The client is built on the first fetch: loading the system's
//! roots costs a cold start that most invocations never need.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::OnceLock;
use std::time::Duration;

type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// Fetches documents of one kind; one per process, shared by all requests.
pub struct DocumentFetcher {
    /// Sent as `User-Agent` (GitHub's API refuses requests without one).
    user_agent: &'static str,
    timeout: Duration,
    /// The largest document accepted, in bytes; anything larger is not it.
    limit: usize,
    http: OnceLock<HttpClient>,
}

impl DocumentFetcher {
    pub fn new(user_agent: &'static str, timeout: Duration, limit: usize) -> DocumentFetcher {
        DocumentFetcher {
            user_agent,
            timeout,
            limit,
            http: OnceLock::new(),
        }
    }

    /// The body of a `200` answer to `GET url`; otherwise why not (no secret).
    pub async fn get(&self, url: &str) -> Result<Bytes, String> {
        let http = match self.http.get() {
            Some(http) => http,
            None => {
                let built = http_client()?;
                self.http.get_or_init(|| built)
            }
        };
        let request = hyper::Request::get(url)
            .header("user-agent", self.user_agent)
            .header("accept", "application/json")
            .body(Empty::new())
            .map_err(|err| format!("bad URL: {err}"))?;
        let exchange = async {
            let response = http
                .request(request)
                .await
                .map_err(|err| format!("request failed: {err}"))?;
            if response.status() != hyper::StatusCode::OK {
                return Err(format!("answered {}", response.status()));
            }
            Limited::new(response.into_body(), self.limit)
                .collect()
                .await
                .map(|body| body.to_bytes())
                .map_err(|err| format!("body not read: {err}"))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
    }
}

/// HTTPS with the system's roots, and plain HTTP.
fn http_client() -> Result<HttpClient, String> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|err| format!("no root certificates: {err}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}
