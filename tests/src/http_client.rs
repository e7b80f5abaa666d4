//! A minimal HTTP/1.1 client for end-to-end tests against the local gateway.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// A reply over HTTP is the harness's one [`Reply`]; its `json` is
/// `Value::Null` when the body is not JSON (an HTML page, a redirect).
pub type HttpReply = crate::Reply;

/// Sends one request and reads the whole response.
pub async fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> HttpReply {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .expect("valid request");
    let response = client.request(request).await.expect("gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    crate::Reply {
        status,
        headers,
        body,
        json,
    }
}
