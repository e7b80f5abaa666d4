//! Webhooks end to end, locally (run with `scripts/bench`): the gateway
//! (release build) on the bench's moto, three endpoints of one organization
//! on a receiver on loopback, and a change after another (the organization
//! renamed); from each change's audit time to its arrival at each endpoint.
//! Every event must arrive at every endpoint, each under one `webhook-id`.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use orgkeys_benches::{Plan, TARGETS_HEADER, summarize, table, within};
use orgkeys_tests::local_gateway::Devserver;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver saw: (path, eventId, webhook-id, latency).
type Seen = Arc<Mutex<Vec<(String, String, String, Duration)>>>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let plan = Plan::from_args();
    let changes = if plan.is_smoke() { 20 } else { 1_000 };
    let seen: Seen = Arc::default();
    let port = receiver(seen.clone()).await;
    let server = Devserver::start(&[("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")]);
    let app = server.app();
    server.create_organization().await;
    for path in ["/a", "/b", "/c"] {
        let url = format!("http://127.0.0.1:{port}{path}");
        let body = json!({"url": url, "eventTypes": ["organization.updated"]});
        app.create_webhook("acme", body).expect(201).await;
    }
    for i in 0..changes {
        app.update_organization("acme", json!({"name": format!("Acme {i}")}))
            .expect(200)
            .await;
    }
    let started = std::time::Instant::now();
    loop {
        let arrived: HashSet<(String, String)> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|(path, event, _, _)| (path.clone(), event.clone()))
            .collect();
        if arrived.len() == 3 * changes {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "only {} of {} deliveries arrived",
            arrived.len(),
            3 * changes
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.lock().unwrap().clone();
    let mut ids: HashMap<(String, String), String> = HashMap::new();
    for (path, event, id, _) in &seen {
        let first = ids
            .entry((path.clone(), event.clone()))
            .or_insert(id.clone());
        assert_eq!(first, id, "an event under two webhook-ids");
    }
    let latencies = summarize(
        &format!("change → receiver, {changes} changes × 3 endpoints"),
        seen.iter().map(|(.., latency)| *latency).collect(),
    );
    let mut report = table("Webhooks end to end (local gateway, moto)", &[&latencies]);
    report.push_str(&format!(
        "\n{} deliveries for {} events and endpoints (at least once: the difference came twice).\n\n",
        seen.len(),
        3 * changes
    ));
    report.push_str(TARGETS_HEADER);
    report.push_str(&within(&latencies, Duration::from_secs(1)));
    let p99 = if latencies.p99 <= Duration::from_secs(3) {
        "meets"
    } else {
        "misses"
    };
    report.push_str(&format!(
        "| change → receiver (p99) | {} | ≤ 3 s | {p99} |\n",
        orgkeys_benches::show(latencies.p99)
    ));
    println!("{report}");
}

/// A receiver on 127.0.0.1 that notes each delivery's event and latency.
async fn receiver(seen: Seen) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let seen = seen.clone();
                    async move {
                        let path = request.uri().path().to_owned();
                        let id = request
                            .headers()
                            .get("webhook-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        let event: Value = serde_json::from_slice(&body).unwrap();
                        let at =
                            orgkeys_shared::wire_time::parse(event["timestamp"].as_str().unwrap())
                                .unwrap();
                        let latency = (chrono::Utc::now() - at).to_std().unwrap_or_default();
                        let event_id = event["data"]["eventId"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned();
                        seen.lock().unwrap().push((path, event_id, id, latency));
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    port
}
