//! Webhooks over HTTP, the gateway running the webhooks function's fan-out
//! and delivery on moto's stream, queue and KMS, and receivers on loopback
//! that verify every request with Standard Webhooks' own Python library.

use orgkeys_tests::local_gateway::Devserver;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The Python receivers, their behaviour in a JSON file the test rewrites.
struct Receivers {
    child: Child,
    port: u16,
    config: std::path::PathBuf,
    behaviour: Mutex<Value>,
    seen: Arc<Mutex<Vec<Value>>>,
}

impl Receivers {
    fn start() -> Receivers {
        let config = std::env::temp_dir().join(format!(
            "orgkeys-receivers-{}.json",
            orgkeys_tests::random_hex(6)
        ));
        std::fs::write(&config, "{}").unwrap();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/http/support/webhook_receiver.py"
        );
        let mut child = Command::new(devserver::moto::default_python())
            .arg(script)
            .arg(&config)
            .stdout(Stdio::piped())
            .spawn()
            .expect("run .venv/bin/python (scripts/venv installs it)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = lines.next().unwrap().unwrap().trim().parse().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str(&line).unwrap());
            }
        });
        Receivers {
            child,
            port,
            config,
            behaviour: Mutex::new(json!({})),
            seen,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Sets what `path` verifies with and answers.
    fn behave(&self, path: &str, secrets: &[&str], statuses: &[u16]) {
        let mut behaviour = self.behaviour.lock().unwrap();
        behaviour[path] = json!({"secrets": secrets, "statuses": statuses});
        std::fs::write(&self.config, behaviour.to_string()).unwrap();
    }

    fn at(&self, path: &str) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r["path"] == path)
            .cloned()
            .collect()
    }

    /// Waits (at most 30 s) until `path` has received what `done` wants.
    async fn wait_for(&self, path: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        self.wait_longer(path, Duration::from_secs(30), done).await
    }

    async fn wait_longer(
        &self,
        path: &str,
        limit: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let seen = self.at(path);
            if done(&seen) {
                return seen;
            }
            assert!(started.elapsed() < limit, "{path} received only {seen:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Receivers {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

fn types(seen: &[Value]) -> Vec<&str> {
    seen.iter().map(|r| r["type"].as_str().unwrap()).collect()
}

fn count(seen: &[Value], kind: &str) -> usize {
    seen.iter().filter(|r| r["type"] == kind).count()
}

/// Creates an endpoint of `org`; returns its ID and secret.
async fn endpoint(server: &Devserver, org: &str, body: Value) -> (String, String) {
    let created = server.app().create_webhook(org, body).expect(201).await;
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let json = created.json;
    (
        json["endpointId"].as_str().unwrap().to_owned(),
        json["secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_arrive_signed_once_per_endpoint_filtered_and_retried_as_configured() {
    let server = Devserver::start(&[
        ("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8"),
        ("WEBHOOK_RETRY_SCHEDULE", "1,1,1"),
    ]);
    let receivers = Receivers::start();
    let app = server.app();
    server.create_organization().await;
    app.put_organization(
        "acme-emea",
        json!({"name": "Acme EMEA", "parentId": "acme"}),
    )
    .expect(201)
    .await;
    app.put_organization("globex", json!({"name": "Globex"}))
        .expect(201)
        .await;

    let (all, all_secret) = endpoint(&server, "acme", json!({"url": receivers.url("/all")})).await;
    receivers.behave("/all", &[&all_secret], &[]);
    let key_events = json!([
        "api_key.created",
        "api_key.rolled",
        "api_key.updated",
        "api_key.leaked"
    ]);
    let (_, keys_secret) = endpoint(&server, "acme", json!({
        "url": receivers.url("/keys"), "eventTypes": key_events, "includeSubOrganizations": true,
    })).await;
    receivers.behave("/keys", &[&keys_secret], &[]);
    let (flaky, flaky_secret) = endpoint(
        &server,
        "acme",
        json!({
            "url": receivers.url("/flaky"), "eventTypes": ["schedule.created"],
        }),
    )
    .await;
    receivers.behave("/flaky", &[&flaky_secret], &[500, 503]);
    let (gone, gone_secret) = endpoint(
        &server,
        "acme",
        json!({
            "url": receivers.url("/gone"), "eventTypes": ["organization.updated"],
        }),
    )
    .await;
    receivers.behave("/gone", &[&gone_secret], &[410]);
    let (_, globex_secret) =
        endpoint(&server, "globex", json!({"url": receivers.url("/globex")})).await;
    receivers.behave("/globex", &[&globex_secret], &[]);

    // The changes: a key created, rolled, disabled, reported leaked; a key
    // of the sub-organization; a schedule created and changed; the
    // organization renamed.
    let key = server.create_key().await.json;
    let key_id = key["keyId"].as_str().unwrap();
    let rolled = app
        .roll_key("acme", key_id, json!({}))
        .expect(201)
        .await
        .json;
    let new_key = rolled["apiKey"].as_str().unwrap().to_owned();
    app.update_key("acme", key_id, json!({"enabled": false}))
        .expect(200)
        .await;
    app.revoke_leaked_key(json!({"apiKey": new_key, "reason": "found in a public gist"}))
        .expect(200)
        .await;
    app.create_key("acme-emea", json!({})).expect(201).await;
    server.create_schedule("spring").await;
    let changed = json!({"name": "Spring", "campaign": "C", "channel": "sms", "status": "paused"});
    app.put_schedule("acme", "spring", changed)
        .expect(200)
        .await;
    app.update_organization("acme", json!({"name": "Acme Ltd"}))
        .expect(200)
        .await;

    let seen = receivers
        .wait_for("/all", |s| {
            count(s, "organization.updated") == 1 && count(s, "schedule.updated") == 1
        })
        .await;
    for kind in [
        "api_key.created",
        "api_key.rolled",
        "api_key.updated",
        "api_key.leaked",
        "schedule.created",
        "schedule.updated",
    ] {
        assert!(
            count(&seen, kind) >= 1,
            "/all lacks {kind}: {:?}",
            types(&seen)
        );
    }
    // Its own organization only, and nothing from before it existed.
    assert!(
        seen.iter().all(|r| r["organizationId"] == "acme"),
        "{seen:#?}"
    );
    assert_eq!(count(&seen, "organization.created"), 0, "{seen:#?}");

    let keys = receivers
        .wait_for("/keys", |s| {
            s.iter().any(|r| r["organizationId"] == "acme-emea")
        })
        .await;
    assert!(
        keys.iter()
            .all(|r| r["type"].as_str().unwrap().starts_with("api_key.")),
        "{keys:#?}"
    );
    assert!(count(&keys, "api_key.leaked") >= 1 && count(&keys, "api_key.rolled") == 1);

    // Two failures, then a third attempt under the same webhook-id, and the
    // log shows all three.
    let flaky_seen = receivers.wait_for("/flaky", |s| s.len() >= 3).await;
    assert_eq!(flaky_seen.len(), 3, "{flaky_seen:#?}");
    assert!(flaky_seen.iter().all(|r| r["id"] == flaky_seen[0]["id"]));
    let log = wait_for_log(&server, "acme", &flaky, |m| m["status"] == "delivered").await;
    let codes: Vec<&Value> = log["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["statusCode"])
        .collect();
    assert_eq!(codes, [&json!(500), &json!(503), &json!(200)]);
    assert_eq!(log["messageId"], flaky_seen[0]["id"]);

    // A 410 disables the endpoint at once, and it says why.
    receivers.wait_for("/gone", |s| !s.is_empty()).await;
    let disabled = wait_until(
        || async { app.get_webhook("acme", &gone).expect(200).await.json },
        |e| e["enabled"] == false,
    )
    .await;
    assert!(
        disabled["disabledReason"].as_str().unwrap().contains("410"),
        "{disabled}"
    );

    // A rolled secret: both sign until the old one expires, each verifies alone.
    let rolled = app
        .roll_webhook_secret("acme", &all, json!({"expiresIn": 3600}))
        .expect(200)
        .await
        .json;
    let new_secret = rolled["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, all_secret);
    receivers.behave("/all", &[&new_secret, &all_secret], &[]);
    let test = app.send_test_webhook("acme", &all).expect(202).await.json;
    let test_id = test["messageId"].clone();
    let with_id = |s: &[Value]| {
        s.iter()
            .filter(|r| r["id"] == test_id)
            .cloned()
            .collect::<Vec<_>>()
    };
    let seen = receivers.wait_for("/all", |s| !with_id(s).is_empty()).await;
    let arrived = &with_id(&seen)[0];
    assert_eq!(arrived["type"], "webhook.test");
    assert_eq!(arrived["signatures"], 2);
    assert_eq!(arrived["verified"], json!([true, true]));
    // The roll itself is an event too, signed by both.
    assert_eq!(count(&seen, "webhook.secret_rolled"), 1);

    // A resend: the same message again, under its webhook-id.
    let resent = app
        .resend_webhook_message("acme", &all, test_id.as_str().unwrap())
        .expect(202)
        .await
        .json;
    assert_eq!(resent["messageId"], test_id);
    receivers.wait_for("/all", |s| with_id(s).len() == 2).await;

    // Every request verified, each endpoint got each message once (but
    // the retried and resent ones), and the user agent names us.
    let all_seen = receivers.seen.lock().unwrap().clone();
    for request in &all_seen {
        let verified = request["verified"].as_array().unwrap();
        assert!(
            verified.iter().all(|v| v == true) && !verified.is_empty(),
            "{request}"
        );
        assert!(
            request["userAgent"]
                .as_str()
                .unwrap()
                .starts_with("orgkeys-webhooks/")
        );
    }
    for path in ["/all", "/keys", "/globex"] {
        let mut ids: Vec<String> = receivers
            .at(path)
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        ids.retain(|id| *id != test_id);
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(
            unique.len(),
            ids.len(),
            "{path} got a message twice: {ids:?}"
        );
    }
    let globex = receivers.at("/globex");
    assert!(
        globex.iter().all(|r| r["organizationId"] == "globex"),
        "another organization's endpoint heard acme: {globex:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_address_is_never_connected_to() {
    // The default policy: nothing on this machine may be reached. A
    // listener on loopback stands in for what must not be reached.
    let server = Devserver::start(&[("WEBHOOK_ALLOWED_NETWORKS", "")]);
    server.create_organization().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = server.app();
    // IP literals in refused ranges are refused at registration, as is http://.
    for url in [
        format!("https://127.0.0.1:{port}/"),
        "https://169.254.169.254/latest".into(),
        "https://[::ffff:10.0.0.1]/".into(),
        format!("http://localhost:{port}/"),
    ] {
        let refused = app
            .create_webhook("acme", json!({"url": url}))
            .expect(400)
            .await;
        assert_eq!(refused.pointers(400), ["/url"], "{url}");
    }
    // A name that resolves to loopback is refused at every attempt, before
    // any connection.
    let (id, _) = endpoint(
        &server,
        "acme",
        json!({"url": format!("https://localhost:{port}/hook")}),
    )
    .await;
    app.send_test_webhook("acme", &id).expect(202).await;
    let message = wait_for_log(&server, "acme", &id, |m| {
        !m["attempts"].as_array().unwrap().is_empty()
    })
    .await;
    let error = message["attempts"][0]["error"].as_str().unwrap();
    assert!(error.contains("refused before connecting"), "{error}");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a connection was made"
    );
}

/// The newest message of an endpoint once `done` holds (at most 30 s).
async fn wait_for_log(
    server: &Devserver,
    org: &str,
    endpoint: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let app = server.app();
    wait_until(
        || async {
            app.list_webhook_messages(org, endpoint)
                .expect(200)
                .await
                .json["items"][0]
                .clone()
        },
        |m| !m.is_null() && done(m),
    )
    .await
}

async fn wait_until<F, Fut>(read: F, done: impl Fn(&Value) -> bool) -> Value
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let started = Instant::now();
    loop {
        let value = read().await;
        if done(&value) {
            return value;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "still {value}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_restarted_in_the_middle_of_a_stream_of_changes_loses_none() {
    // 40 in the suite; `WEBHOOK_RESTART_CHANGES=1000` for the issue's figure.
    let changes: usize = std::env::var("WEBHOOK_RESTART_CHANGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let table = format!("orgkeys-restart-{}", orgkeys_tests::random_hex(6));
    let env = [
        ("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8"),
        ("TABLE_NAME", table.as_str()),
    ];
    let receivers = Receivers::start();
    let first = Devserver::start(&env);
    first.create_organization().await;
    let (_, secret) = endpoint(&first, "acme", json!({"url": receivers.url("/r")})).await;
    receivers.behave("/r", &[&secret], &[]);
    let rename = |i: usize| json!({"name": format!("Acme {i}")});
    for i in 0..changes / 2 {
        first
            .app()
            .update_organization("acme", rename(i))
            .expect(200)
            .await;
    }
    // Stopped at once: events still on the stream, jobs on the queue or
    // in the middle of their attempt.
    drop(first);
    let second = Devserver::start(&env);
    for i in changes / 2..changes {
        second
            .app()
            .update_organization("acme", rename(i))
            .expect(200)
            .await;
    }
    let updated = |s: &[Value]| {
        s.iter()
            .filter(|r| r["type"] == "organization.updated")
            .map(|r| r["eventId"].as_str().unwrap().to_owned())
            .collect::<std::collections::HashSet<_>>()
    };
    // A job cut short comes back when its visibility ends.
    let seen = receivers
        .wait_longer("/r", Duration::from_secs(60), |s| {
            updated(s).len() == changes
        })
        .await;
    // Each event under one webhook-id, however often it came.
    let mut ids = std::collections::HashMap::new();
    for request in seen.iter().filter(|r| r["type"] == "organization.updated") {
        let id = ids
            .entry(request["eventId"].clone())
            .or_insert(request["id"].clone());
        assert_eq!(*id, request["id"], "an event under two webhook-ids");
        assert_eq!(request["verified"], json!([true]));
    }
}
