//! The gateway settles route and caller on the headers before it reads a
//! body, and drops clients that stall: raw sockets against the binary.

use orgkeys_tests::local_gateway::Devserver;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn connect(server: &Devserver) -> TcpStream {
    TcpStream::connect(server.url.trim_start_matches("http://"))
        .await
        .expect("connect to the gateway")
}

/// Sends `head` (request line and headers, no body) and reads the status line.
async fn status_without_sending_the_body(server: &Devserver, head: &str) -> String {
    let mut stream = connect(server).await;
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf))
        .await
        .expect("answered within 1 s, without the body")
        .unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn unauthenticated_requests_are_answered_before_their_body_arrives() {
    let server = Devserver::start(&[]);
    let announce = "Content-Type: application/json\r\nContent-Length: 9000000\r\n\r\n";
    let public = format!("POST /v1/conversations/outbound HTTP/1.1\r\nHost: local\r\n{announce}");
    assert_eq!(
        status_without_sending_the_body(&server, &public).await,
        "HTTP/1.1 401 Unauthorized"
    );
    let bad_key = format!(
        "POST /v1/conversations/outbound HTTP/1.1\r\nHost: local\r\nAuthorization: Bearer orgk_nope\r\n{announce}"
    );
    assert_eq!(
        status_without_sending_the_body(&server, &bad_key).await,
        "HTTP/1.1 403 Forbidden"
    );
    let admin = format!("PUT /v1/admin/organizations/acme HTTP/1.1\r\nHost: local\r\n{announce}");
    assert_eq!(
        status_without_sending_the_body(&server, &admin).await,
        "HTTP/1.1 403 Forbidden"
    );
}

/// Real time is what is tested here: the header read timeout.
#[tokio::test]
async fn a_client_that_stalls_in_its_headers_is_dropped() {
    let server = Devserver::start(&[]);
    let mut stream = connect(&server).await;
    stream
        .write_all(b"GET /v1/schedules HTTP/1.1\r\nHost: local\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = vec![0u8; 1024];
    let read = tokio::time::timeout(
        devserver::HEADER_READ_TIMEOUT + Duration::from_secs(5),
        stream.read(&mut buf),
    )
    .await
    .expect("the gateway closed the stalled connection");
    // Closed (EOF or reset), possibly after a 408; never served.
    if let Ok(n) = read {
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
    }
    assert!(started.elapsed() >= devserver::HEADER_READ_TIMEOUT - Duration::from_secs(1));
}

/// SigV4 that cannot be the local key pair's (garbage, another access key,
/// another region, a stale or unreadable date) is refused on its headers, and
/// a plausible one announcing more than a signed body may hold is refused on
/// its `Content-Length`: none of them makes the gateway read the body.
#[tokio::test]
async fn sigv4_that_cannot_verify_is_answered_before_its_body_arrives() {
    let server = Devserver::start(&[("ORGKEYS_LOCAL_IAM", "AKIDLOCALADMIN:local-secret")]);
    let now = chrono::Utc::now();
    let stale = now - chrono::Duration::minutes(10);
    let amz = |at: chrono::DateTime<chrono::Utc>| at.format("%Y%m%dT%H%M%SZ").to_string();
    let day = |at: chrono::DateTime<chrono::Utc>| at.format("%Y%m%d").to_string();
    let signed = |key: &str, day: &str, region: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential={key}/{day}/{region}/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
            "0".repeat(64)
        )
    };
    let refused = [
        ("AWS4-HMAC-SHA256 garbage".to_owned(), amz(now)),
        (signed("AKIDSOMEONEELSE", &day(now), "us-east-1"), amz(now)),
        (signed("AKIDLOCALADMIN", &day(now), "eu-west-1"), amz(now)),
        (
            signed("AKIDLOCALADMIN", &day(stale), "us-east-1"),
            amz(stale),
        ),
        (
            signed("AKIDLOCALADMIN", &day(now), "us-east-1"),
            "yesterday".to_owned(),
        ),
    ];
    let announce = "Content-Type: application/json\r\nContent-Length: 9000000\r\n\r\n";
    for (authorization, date) in refused {
        let head = format!(
            "PUT /v1/admin/organizations/acme HTTP/1.1\r\nHost: local\r\nAuthorization: {authorization}\r\nX-Amz-Date: {date}\r\n{announce}"
        );
        assert_eq!(
            status_without_sending_the_body(&server, &head).await,
            "HTTP/1.1 403 Forbidden",
            "{authorization} at {date}"
        );
    }
    let plausible = signed("AKIDLOCALADMIN", &day(now), "us-east-1");
    let head = format!(
        "PUT /v1/admin/organizations/acme HTTP/1.1\r\nHost: local\r\nAuthorization: {plausible}\r\nX-Amz-Date: {}\r\n{announce}",
        amz(now)
    );
    assert_eq!(
        status_without_sending_the_body(&server, &head).await,
        "HTTP/1.1 413 Payload Too Large"
    );
}
