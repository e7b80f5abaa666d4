//! The functions as processes (run with `scripts/bench`): cold start, first
//! answer, binary size and peak RSS of each function's binary against a
//! minimal Lambda Runtime API stub, beside a hello-world `lambda_runtime`
//! binary built in the same run and profile; then requests per second through
//! the local gateway.
//!
//! A function's floor is what its first answer cannot do without: hello
//! world's runtime plus its own DynamoDB calls. A recording proxy in front of
//! the DynamoDB server notes which calls each function makes on its first
//! event; `dynamodb_floor` (an example built beside hello world) makes the
//! same calls, through the same SDK configuration, and answers. Floors and
//! functions start round-robin in one run. `cargo bench` uses the release binaries that
//! `scripts/bench` builds first; the smoke run under `cargo test` uses the
//! debug ones, only to prove the harness works.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use orgkeys_benches::{Plan, TARGETS_HEADER, ratio, show, summarize, table};
use orgkeys_tests::{FIXTURE_KEY, event_fixture, fresh_store, seed_fixture_key};
use serde_json::Value;
use std::convert::Infallible;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What the stub saw, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Next,
    Answer,
}

/// A Lambda Runtime API that hands out `events` copies of one event, then
/// holds `next` forever; it reports each `next` and each answer.
async fn runtime_stub(event: Value, events: usize) -> (String, mpsc::UnboundedReceiver<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::unbounded_channel();
    let body = Bytes::from(event.to_string());
    let served = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (tx, body, served) = (tx.clone(), body.clone(), served.clone());
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        let (tx, body, served) = (tx.clone(), body.clone(), served.clone());
                        async move {
                            let path = request.uri().path().to_owned();
                            let _ = request.into_body().collect().await;
                            if path.ends_with("/invocation/next") {
                                let _ = tx.send(Seen::Next);
                                let n = served.fetch_add(1, Ordering::SeqCst);
                                if n >= events {
                                    std::future::pending::<()>().await;
                                }
                                let response = Response::builder()
                                    .header("lambda-runtime-aws-request-id", format!("req-{n}"))
                                    .header("lambda-runtime-deadline-ms", "99999999999999")
                                    .header(
                                        "lambda-runtime-invoked-function-arn",
                                        "arn:aws:lambda:us-east-1:000000000000:function:bench",
                                    )
                                    .header(
                                        "lambda-runtime-trace-id",
                                        "Root=1-00000000-000000000000000000000000",
                                    )
                                    .body(Full::new(body))
                                    .unwrap();
                                return Ok::<_, Infallible>(response);
                            }
                            if path.contains("/invocation/") {
                                let _ = tx.send(Seen::Answer);
                            }
                            Ok(Response::builder()
                                .status(202)
                                .body(Full::new(Bytes::new()))
                                .unwrap())
                        }
                    });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (address, rx)
}

/// One call the proxy saw, and when it was in flight.
struct Noted {
    call: String,
    started: Instant,
    ended: Instant,
}

/// A proxy in front of the DynamoDB server at `upstream` that notes each
/// call: its kind (`X-Amz-Target` without the service) and, for a batch or
/// a transaction, how many items it carries (`TransactWriteItems:3`).
async fn recording_proxy(upstream: String) -> (String, Arc<std::sync::Mutex<Vec<Noted>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    let noted = calls.clone();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (client, upstream, noted) = (client.clone(), upstream.clone(), noted.clone());
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        let (client, upstream, noted) =
                            (client.clone(), upstream.clone(), noted.clone());
                        async move {
                            let (parts, body) = request.into_parts();
                            let started = Instant::now();
                            let body = body.collect().await.unwrap().to_bytes();
                            let call = call_of(&parts.headers, &body);
                            let mut forward = Request::builder()
                                .method(parts.method)
                                .uri(format!("{upstream}{}", parts.uri.path()));
                            for (name, value) in &parts.headers {
                                forward = forward.header(name, value);
                            }
                            let answer = client
                                .request(forward.body(Full::new(body)).unwrap())
                                .await
                                .unwrap();
                            let (parts, body) = answer.into_parts();
                            let body = body.collect().await.unwrap().to_bytes();
                            let ended = Instant::now();
                            noted.lock().unwrap().push(Noted {
                                call,
                                started,
                                ended,
                            });
                            Ok::<_, Infallible>(Response::from_parts(parts, Full::new(body)))
                        }
                    });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, calls)
}

/// One DynamoDB call as `dynamodb_floor` takes it.
fn call_of(headers: &hyper::HeaderMap, body: &[u8]) -> String {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let kind = target.rsplit('.').next().unwrap_or_default().to_owned();
    let json: Value = serde_json::from_slice(body).unwrap_or_default();
    let per_table = |field: &str| -> usize {
        let tables = json["RequestItems"].as_object().into_iter().flatten();
        tables
            .map(|(_, requests)| match field {
                "" => requests.as_array().map_or(0, Vec::len),
                keys => requests[keys].as_array().map_or(0, Vec::len),
            })
            .sum()
    };
    let items = match kind.as_str() {
        "TransactWriteItems" => json["TransactItems"].as_array().map_or(1, Vec::len),
        "BatchWriteItem" => per_table(""),
        "BatchGetItem" => per_table("Keys"),
        _ => 1,
    };
    if items > 1 {
        format!("{kind}:{items}")
    } else {
        kind
    }
}

/// The calls the function at `path` makes on its first `event`.
async fn calls_of(path: &PathBuf, event: &Value, table: &str) -> String {
    let upstream = orgkeys_tests::endpoint();
    let (proxy, calls) = recording_proxy(upstream).await;
    let (address, mut seen) = runtime_stub(event.clone(), 1).await;
    let child = spawn(
        path,
        &address,
        table,
        &[("AWS_ENDPOINT_URL_DYNAMODB", &proxy)],
    );
    assert_eq!(seen.recv().await, Some(Seen::Next));
    assert_eq!(seen.recv().await, Some(Seen::Answer));
    stop(child);
    let mut calls = std::mem::take(&mut *calls.lock().unwrap());
    calls.sort_by_key(|noted| noted.started);
    in_flight_together(&calls)
}

/// The calls as `dynamodb_floor` takes them: one after the other, separated
/// by spaces, except those that were in flight together, joined by `+`.
fn in_flight_together(calls: &[Noted]) -> String {
    let mut groups: Vec<(Vec<&str>, Instant)> = Vec::new();
    for noted in calls {
        match groups.last_mut() {
            Some((group, until)) if noted.started < *until => {
                group.push(&noted.call);
                *until = (*until).max(noted.ended);
            }
            _ => groups.push((vec![&noted.call], noted.ended)),
        }
    }
    let groups: Vec<String> = groups.iter().map(|(group, _)| group.join("+")).collect();
    groups.join(" ")
}

fn binary(profile: &str, name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    let path = if matches!(name, "hello_lambda" | "dynamodb_floor") {
        target.join(profile).join("examples").join(name)
    } else {
        target.join(profile).join(name)
    };
    assert!(
        path.exists(),
        "{} missing: scripts/bench builds it",
        path.display()
    );
    path
}

fn spawn(path: &PathBuf, runtime_api: &str, table: &str, env: &[(&str, &str)]) -> Child {
    Command::new(path)
        .envs(env.iter().copied())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("TABLE_NAME", table)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the function binary")
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Spawn → first `next` (cold start), and spawn → first answer.
async fn cold_start(
    path: &PathBuf,
    event: &Value,
    table: &str,
    env: &[(&str, &str)],
) -> (Duration, Duration) {
    let (address, mut seen) = runtime_stub(event.clone(), 1).await;
    let started = Instant::now();
    let child = spawn(path, &address, table, env);
    assert_eq!(seen.recv().await, Some(Seen::Next));
    let ready = started.elapsed();
    assert_eq!(seen.recv().await, Some(Seen::Answer));
    let answered = started.elapsed();
    stop(child);
    (ready, answered)
}

/// Peak resident set (VmHWM) after `events` invocations.
async fn peak_rss_kib(path: &PathBuf, event: &Value, table: &str, events: usize) -> u64 {
    let (address, mut seen) = runtime_stub(event.clone(), events).await;
    let child = spawn(path, &address, table, &[]);
    let mut answers = 0;
    while answers < events {
        if seen.recv().await == Some(Seen::Answer) {
            answers += 1;
        }
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    stop(child);
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// Requests per second for `GET /v1/schedules` with a warm key, through the
/// local gateway over HTTP, from 2 client threads for `seconds`.
fn gateway_rps(store: orgkeys_shared::Store, seconds: u64) -> f64 {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = server.block_on(async {
        let authorizer =
            authorizer::Authorizer::new(store.clone(), authorizer::Settings::default());
        // Every request is still counted (one write each), but never refused:
        // this measures throughput, not the key's limit.
        let unlimited = orgkeys_shared::limits::Defaults {
            requests_per_minute: orgkeys_shared::limits::MAX_REQUESTS_PER_MINUTE,
            contacts_per_day: orgkeys_shared::limits::MAX_CONTACTS_PER_DAY,
        };
        let gateway = devserver::gateway::Gateway::new(store, authorizer, "bench-admin")
            .with_settings(
                schedules::Settings {
                    default_limits: unlimited,
                    ..Default::default()
                },
                dispatch::Settings {
                    default_limits: unlimited,
                    ..Default::default()
                },
            );
        let gateway = Arc::new(gateway);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1/schedules", listener.local_addr().unwrap());
        tokio::spawn(devserver::serve(listener, gateway, std::future::pending()));
        url
    });
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let client = hyper_util::client::legacy::Client::builder(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .build_http::<Full<Bytes>>();
                    let mut ok = 0u64;
                    // Bounded in time and in count.
                    for _ in 0..1_000_000 {
                        if Instant::now() >= deadline {
                            break;
                        }
                        let request = Request::get(&url)
                            .header("authorization", format!("Bearer {FIXTURE_KEY}"))
                            .body(Full::new(Bytes::new()))
                            .unwrap();
                        let response = client.request(request).await.unwrap();
                        assert_eq!(response.status(), 200);
                        let _ = response.into_body().collect().await;
                        ok += 1;
                    }
                    ok
                })
            })
        })
        .collect();
    let started = Instant::now();
    let total: u64 = clients.into_iter().map(|c| c.join().unwrap()).sum();
    let rps = total as f64 / started.elapsed().as_secs_f64();
    drop(server);
    rps
}

fn main() {
    let plan = Plan::from_args();
    let (profile, runs, load_events, rps_seconds) = if plan.is_smoke() {
        ("debug", 2, 50, 1)
    } else {
        ("release", 40, 5_000, 5)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = runtime.block_on(async {
        let store = fresh_store().await;
        seed_fixture_key(&store).await;
        orgkeys_tests::seed_fixture_schedule(&store).await;
        store
    });
    let functions = [
        ("hello_lambda", "authorizer-http-good.json"),
        ("authorizer", "authorizer-http-good.json"),
        ("keygen", "keygen-get-organization.json"),
        ("schedules", "schedules-list.json"),
        ("dispatch", "dispatch-outbound.json"),
    ];
    let mut ready_samples = Vec::new();
    let mut answer_samples = Vec::new();
    let mut sizes = String::from(
        "| binary | size (stripped, MB) | peak RSS under load (MiB) |\n|---|---:|---:|\n",
    );
    let mut memory_targets = String::new();
    let prepared: Vec<_> = functions
        .iter()
        .map(|&(name, fixture)| (name, binary(profile, name), event_fixture(fixture)))
        .collect();
    // Each function's floor: the calls it makes, made by `dynamodb_floor`.
    let floor = binary(profile, "dynamodb_floor");
    let floor_calls: Vec<String> = prepared[1..]
        .iter()
        .map(|(_, path, event)| runtime.block_on(calls_of(path, event, store.table())))
        .collect();
    // Cold starts round-robin over the binaries and the floors, so a noisy
    // moment on this shared machine lands on all of them rather than on one.
    let mut ready = vec![Vec::new(); prepared.len()];
    let mut answered = vec![Vec::new(); prepared.len()];
    let mut floor_answered = vec![Vec::new(); floor_calls.len()];
    for _ in 0..runs {
        for (i, (_, path, event)) in prepared.iter().enumerate() {
            let (r, a) = runtime.block_on(cold_start(path, event, store.table(), &[]));
            ready[i].push(r);
            answered[i].push(a);
            if i > 0 {
                let env = [("FLOOR_CALLS", floor_calls[i - 1].as_str())];
                let (_, a) = runtime.block_on(cold_start(&floor, event, store.table(), &env));
                floor_answered[i - 1].push(a);
            }
        }
    }
    let floor_samples: Vec<_> = prepared[1..]
        .iter()
        .zip(floor_answered)
        .map(|((name, ..), answered)| {
            summarize(&format!("floor of {name}: spawn → first answer"), answered)
        })
        .collect();
    for ((name, path, event), (ready, answered)) in
        prepared.into_iter().zip(ready.into_iter().zip(answered))
    {
        ready_samples.push(summarize(&format!("{name}: spawn → first `next`"), ready));
        answer_samples.push(summarize(
            &format!("{name}: spawn → first answer"),
            answered,
        ));
        let size = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
        let events = if name == "dispatch" {
            load_events / 20
        } else {
            load_events
        };
        let rss =
            runtime.block_on(peak_rss_kib(&path, &event, store.table(), events)) as f64 / 1024.0;
        sizes.push_str(&format!(
            "| {name} | {size:.2} | {rss:.1} (after {events} events) |\n"
        ));
        if name != "hello_lambda" {
            let verdict = |ok: bool| if ok { "meets" } else { "misses" };
            memory_targets.push_str(&format!(
                "| {name} binary size | {size:.2} MB | ≤ 8 MB | {} |\n",
                verdict(size <= 8.0)
            ));
            memory_targets.push_str(&format!(
                "| {name} peak RSS | {rss:.1} MiB | ≤ 32 MB | {} |\n",
                verdict(rss * 1.048576 <= 32.0)
            ));
        }
    }
    let rps = gateway_rps(store, rps_seconds);

    let mut report = table(
        &format!("Cold start ({profile} binaries, {runs} runs each)"),
        &ready_samples
            .iter()
            .chain(&answer_samples)
            .chain(&floor_samples)
            .collect::<Vec<_>>(),
    );
    report.push_str(
        "\nThe floors' DynamoDB calls, as recorded from each function's first event:\n\n",
    );
    for ((name, ..), calls) in functions[1..].iter().zip(&floor_calls) {
        report.push_str(&format!("- {name}: `{calls}`\n"));
    }
    report.push('\n');
    report.push_str(&sizes);
    report.push('\n');
    report.push_str(TARGETS_HEADER);
    for sample in &ready_samples[1..] {
        report.push_str(&ratio(
            &format!("{} / hello world", sample.name),
            sample,
            &ready_samples[0],
            1.5,
        ));
    }
    for (sample, floor) in answer_samples[1..].iter().zip(&floor_samples) {
        report.push_str(&ratio(
            &format!("{} / its floor", sample.name),
            sample,
            floor,
            1.3,
        ));
    }
    report.push_str(&memory_targets);
    report.push_str(&format!(
        "\n### Local gateway\n\n`GET /v1/schedules` with a warm key, 2 client threads, {rps_seconds} s: **{rps:.0} requests/s** \
         (bound by moto's Query; hello world's first answer came in {}).\n",
        show(answer_samples[0].median)
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
