//! Webhook delivery (run with `scripts/bench`): signing a 1 KiB message, and
//! one attempt against a bare hyper POST of the same body to the same
//! receiver on 127.0.0.1, measured in alternation. Both open a connection
//! per request (an attempt never reuses one: it resolves and checks the
//! address each time), so the ratio is the attempt's own work: the address
//! check, the signature, the headers, the record and the answer's excerpt.

use bytes::Bytes;
use chrono::Utc;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use orgkeys_benches::{Plan, TARGETS_HEADER, measure, measure_pair, ratio, table, within};
use orgkeys_shared::webhooks::address_policy::AddressPolicy;
use orgkeys_shared::webhooks::signing::SigningSecret;
use std::convert::Infallible;
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;
use webhooks::client::{Outcome, Sender};
use webhooks::signature::signature_header;

const MESSAGE_ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let plan = Plan::from_args();
    let (secret, _) = SigningSecret::generate().unwrap();
    let body = message_of_1_kib();
    let timestamp = Utc::now().timestamp();

    let signing = measure(
        plan,
        "sign a 1 KiB message (HMAC-SHA256, one secret)",
        100,
        || async {
            black_box(signature_header(
                &[&secret],
                MESSAGE_ID,
                timestamp,
                black_box(&body),
            ));
        },
    )
    .await;

    let address = receiver().await;
    let policy = AddressPolicy::parse("127.0.0.0/8").unwrap();
    let url = policy
        .validate_url(&format!("http://{address}/hooks"))
        .unwrap();
    let sender = Sender::new(policy, Duration::from_secs(15));
    let (attempt, bare) = measure_pair(
        plan,
        (
            "one attempt (check, sign, POST, record) to a loopback receiver",
            || async {
                let attempt = sender
                    .attempt(&url, MESSAGE_ID, &body, &[&secret], Utc::now())
                    .await;
                assert_eq!(attempt.outcome, Outcome::Delivered, "{attempt:?}");
            },
        ),
        ("bare hyper POST of the same body, new connection", || {
            bare_post(address, &body)
        }),
    )
    .await;

    let mut report = table("Webhook delivery", &[&signing, &attempt, &bare]);
    report.push('\n');
    report.push_str(TARGETS_HEADER);
    report.push_str(&within(&signing, Duration::from_micros(5)));
    report.push_str(&ratio(
        "one attempt / a bare POST of the same body",
        &attempt,
        &bare,
        1.2,
    ));
    println!(
        "{}{report}",
        if plan.is_smoke() {
            "smoke run (figures meaningless; use scripts/bench):\n"
        } else {
            ""
        }
    );
}

/// An event as fan-out writes it, padded to 1 KiB.
fn message_of_1_kib() -> Vec<u8> {
    let head = r#"{"type":"api_key.created","timestamp":"2026-12-06T10:00:00Z","data":{"organizationId":"org_bench","note":""#;
    let tail = r#""}}"#;
    let pad = "x".repeat(1024 - head.len() - tail.len());
    let body = format!("{head}{pad}{tail}").into_bytes();
    assert_eq!(body.len(), 1024);
    body
}

/// A receiver on 127.0.0.1 that reads each request and answers 204.
async fn receiver() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = service_fn(|request: Request<Incoming>| async move {
                request.into_body().collect().await.unwrap();
                let response = Response::builder()
                    .status(204)
                    .body(Full::new(Bytes::new()));
                Ok::<_, Infallible>(response.unwrap())
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service),
            );
        }
    });
    address
}

/// The floor: connect, POST the body with a content type, read the answer.
async fn bare_post(address: SocketAddr, body: &[u8]) {
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    let request = Request::post("/hooks")
        .header("host", address.to_string())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 204);
    response.into_body().collect().await.unwrap();
    driver.abort();
}
