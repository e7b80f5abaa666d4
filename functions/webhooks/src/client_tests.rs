//! The client against receivers on 127.0.0.1 (nothing leaves loopback: the
//! policy that lets these attempts through allows 127.0.0.0/8 explicitly).

use super::*;
use hyper::HeaderMap;
use hyper::service::service_fn;
use std::convert::Infallible;
use std::sync::Mutex;

/// What a test receiver answers, after `delay`.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    delay: Duration,
}

fn reply(status: u16) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: b"ok".to_vec(),
        delay: Duration::ZERO,
    }
}

/// A loopback HTTP/1 server that records each request and gives `reply`.
struct Receiver {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>,
}

async fn receiver(reply: Reply) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (seen, reply) = (seen.clone(), reply.clone());
            let service = service_fn(move |request: Request<Incoming>| {
                let (seen, reply) = (seen.clone(), reply.clone());
                async move {
                    let target = request.uri().to_string();
                    let (parts, body) = request.into_parts();
                    let body = body.collect().await.unwrap().to_bytes();
                    seen.lock().unwrap().push((target, parts.headers, body));
                    tokio::time::sleep(reply.delay).await;
                    let mut response = Response::builder().status(reply.status);
                    for (name, value) in &reply.headers {
                        response = response.header(*name, value);
                    }
                    Ok::<_, Infallible>(response.body(Full::new(Bytes::from(reply.body))).unwrap())
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service),
            );
        }
    });
    Receiver { address, requests }
}

fn loopback() -> AddressPolicy {
    AddressPolicy::parse("127.0.0.0/8").unwrap()
}

fn url_of(address: SocketAddr, path: &str) -> WebhookUrl {
    loopback()
        .validate_url(&format!("http://{address}{path}"))
        .unwrap()
}

fn secret() -> SigningSecret {
    SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
}

const BODY: &[u8] = br#"{"type":"webhook.test","timestamp":"2026-12-06T10:00:00Z","data":{}}"#;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z")
        .unwrap()
        .to_utc()
}

async fn attempt_with(sender: &Sender, url: &WebhookUrl) -> Attempt {
    sender
        .attempt(url, "msg_test1", BODY, &[&secret()], now())
        .await
}

async fn attempt_to(reply: Reply) -> (Attempt, Receiver) {
    let receiver = receiver(reply).await;
    let sender = Sender::new(loopback(), Duration::from_secs(5));
    let attempt = attempt_with(&sender, &url_of(receiver.address, "/in?org=1")).await;
    (attempt, receiver)
}

#[tokio::test]
async fn a_2xx_is_delivered_with_the_standard_webhooks_headers() {
    let (attempt, receiver) = attempt_to(reply(204)).await;
    assert_eq!(attempt.outcome, Outcome::Delivered, "{attempt:?}");
    assert_eq!(attempt.status_code, Some(204));
    assert_eq!(attempt.error, None);
    assert_eq!(attempt.at, now());
    let requests = receiver.requests.lock().unwrap();
    let [(target, headers, body)] = requests.as_slice() else {
        panic!("{} requests", requests.len())
    };
    assert_eq!(target, "/in?org=1");
    assert_eq!(body.as_ref(), BODY);
    let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
    assert_eq!(header("webhook-id"), "msg_test1");
    assert_eq!(header("webhook-timestamp"), now().timestamp().to_string());
    assert_eq!(
        header("webhook-signature"),
        signature_header(&[&secret()], "msg_test1", now().timestamp(), BODY)
    );
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(
        header("user-agent"),
        format!("orgkeys-webhooks/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(header("host"), receiver.address.to_string());
}

#[tokio::test]
async fn a_500_is_a_failed_attempt_with_the_answer_kept() {
    let mut answer = reply(500);
    answer.body = b"database down".to_vec();
    let (attempt, _) = attempt_to(answer).await;
    assert_eq!(attempt.outcome, Outcome::Failed);
    assert_eq!(attempt.status_code, Some(500));
    assert_eq!(attempt.response_body.as_deref(), Some("database down"));
    assert_eq!(attempt.retry_after, None);
}

#[tokio::test]
async fn a_410_is_gone() {
    let (attempt, _) = attempt_to(reply(410)).await;
    assert_eq!(attempt.outcome, Outcome::Gone);
    assert_eq!(attempt.status_code, Some(410));
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let mut answer = reply(301);
    answer.headers.push(("location", "/elsewhere".into()));
    let (attempt, receiver) = attempt_to(answer).await;
    assert_eq!(attempt.outcome, Outcome::Failed);
    assert_eq!(attempt.status_code, Some(301));
    assert_eq!(
        attempt.error.as_deref(),
        Some("redirects are not followed (to /elsewhere)")
    );
    assert_eq!(receiver.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_fails_the_attempt() {
    let mut answer = reply(200);
    answer.delay = Duration::from_secs(30);
    let receiver = receiver(answer).await;
    let sender = Sender::new(loopback(), Duration::from_millis(300));
    let attempt = attempt_with(&sender, &url_of(receiver.address, "/")).await;
    assert_eq!(attempt.outcome, Outcome::Failed);
    assert_eq!(attempt.status_code, None);
    assert_eq!(
        attempt.error.as_deref(),
        Some("no answer within 0.3 seconds")
    );
    assert!(attempt.duration_ms >= 300, "{}", attempt.duration_ms);
    assert!(attempt.duration_ms < 5_000, "{}", attempt.duration_ms);
}

#[tokio::test]
async fn retry_after_is_read_from_a_503_or_429_in_seconds_or_as_a_date() {
    let mut unavailable = reply(503);
    unavailable.headers.push(("retry-after", "120".into()));
    assert_eq!(
        attempt_to(unavailable).await.0.retry_after,
        Some(Duration::from_secs(120))
    );

    let mut throttled = reply(429);
    let date = httpdate::fmt_http_date(SystemTime::from(now()) + Duration::from_secs(90));
    throttled.headers.push(("retry-after", date));
    assert_eq!(
        attempt_to(throttled).await.0.retry_after,
        Some(Duration::from_secs(90))
    );

    let mut other = reply(500);
    other.headers.push(("retry-after", "120".into()));
    assert_eq!(attempt_to(other).await.0.retry_after, None);
}

#[test]
fn retry_after_in_the_past_is_no_wait_and_garbage_is_ignored() {
    let past = httpdate::fmt_http_date(SystemTime::from(now()) - Duration::from_secs(90));
    assert_eq!(parse_retry_after(&past, now()), Some(Duration::ZERO));
    assert_eq!(
        parse_retry_after(" 3 ", now()),
        Some(Duration::from_secs(3))
    );
    assert_eq!(parse_retry_after("soon", now()), None);
    assert_eq!(parse_retry_after("-5", now()), None);
}

#[tokio::test]
async fn the_answer_is_cut_to_1_kib_on_a_character_boundary() {
    let mut answer = reply(500);
    // One ASCII byte, then two-byte characters: byte 1024 splits one.
    answer.body = format!("a{}", "é".repeat(2000)).into_bytes();
    let (attempt, _) = attempt_to(answer).await;
    let excerpt = attempt.response_body.unwrap();
    assert_eq!(excerpt.len(), 1023);
    assert_eq!(excerpt, format!("a{}", "é".repeat(511)));
}

#[test]
fn text_is_cut_within_the_limit_even_when_bytes_are_not_utf8() {
    assert_eq!(cut_text(b"hello", 1024), "hello");
    assert_eq!(cut_text("aé".as_bytes(), 2), "a");
    assert_eq!(cut_text(&[b'a', 0xff, b'b'], 1024), "a\u{fffd}b");
    // Each invalid byte becomes three bytes of U+FFFD: the text is cut again.
    let cut = cut_text(&[0xff; 10], 10);
    assert_eq!(cut, "\u{fffd}".repeat(3));
}

/// A listener whose backlog shows whether anyone connected, without
/// accepting on its own.
fn untouched_listener() -> std::net::TcpListener {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    listener
}

fn assert_never_connected(listener: &std::net::TcpListener) {
    let err = listener
        .accept()
        .expect_err("the refused address was connected to");
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
}

#[tokio::test]
async fn the_default_policy_refuses_loopback_before_any_connection() {
    let listener = untouched_listener();
    let url = url_of(listener.local_addr().unwrap(), "/");
    let sender = Sender::new(AddressPolicy::default(), Duration::from_secs(5));
    let attempt = attempt_with(&sender, &url).await;
    assert_eq!(attempt.outcome, Outcome::Failed);
    assert_eq!(attempt.status_code, None);
    assert_eq!(
        attempt.error.as_deref(),
        Some(
            "refused before connecting: 127.0.0.1 is a loopback address; webhooks may not \
             reach it unless WEBHOOK_ALLOWED_NETWORKS allows its network"
        )
    );
    assert_never_connected(&listener);
}

#[tokio::test]
async fn a_host_name_resolving_to_loopback_is_refused_before_any_connection() {
    let listener = untouched_listener();
    let port = listener.local_addr().unwrap().port();
    let url = AddressPolicy::default()
        .validate_url(&format!("https://localhost:{port}/"))
        .unwrap();
    let sender = Sender::new(AddressPolicy::default(), Duration::from_secs(5));
    let attempt = attempt_with(&sender, &url).await;
    assert_eq!(attempt.outcome, Outcome::Failed);
    let error = attempt.error.unwrap();
    assert!(error.starts_with("refused before connecting: "), "{error}");
    assert!(error.contains("is a loopback address"), "{error}");
    assert_never_connected(&listener);
}

#[tokio::test]
async fn a_certificate_the_system_does_not_trust_fails_the_attempt() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let support = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/tests/http/support"
    );
    let cert = CertificateDer::from_pem_file(format!("{support}/self-signed.crt")).unwrap();
    let key = PrivateKeyDer::from_pem_file(format!("{support}/self-signed.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = acceptor.accept(tcp).await;
        }
    });
    let url = loopback()
        .validate_url(&format!("https://{address}/"))
        .unwrap();
    let sender = Sender::new(loopback(), Duration::from_secs(5));
    let attempt = attempt_with(&sender, &url).await;
    assert_eq!(attempt.outcome, Outcome::Failed);
    let error = attempt.error.unwrap();
    assert!(error.starts_with("TLS handshake failed: "), "{error}");
}

#[test]
fn the_timeout_comes_from_the_environment_or_is_15_seconds() {
    // Only this test touches the variable.
    unsafe { std::env::remove_var(TIMEOUT_VAR) };
    assert_eq!(Sender::timeout_from_env(), Ok(DEFAULT_TIMEOUT));
    unsafe { std::env::set_var(TIMEOUT_VAR, "10") };
    assert_eq!(Sender::timeout_from_env(), Ok(Duration::from_secs(10)));
    unsafe { std::env::set_var(TIMEOUT_VAR, "0") };
    assert!(Sender::timeout_from_env().unwrap_err().contains("\"0\""));
    unsafe { std::env::remove_var(TIMEOUT_VAR) };
}
