//! End to end over real HTTP: the devserver binary (as `scripts/dev` runs it)
//! on the test run's DynamoDB server, and an in-process gateway whose store is
//! unreachable for the 500 path.

use devserver::gateway::Gateway;
use orgkeys_tests::http_client::{HttpReply, http};
use orgkeys_tests::{random_hex, unreachable_store};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

const ADMIN: &str = "Bearer e2e-admin-token";

/// The devserver binary, stopped when dropped; its output is kept for checks.
struct Devserver {
    child: Child,
    url: String,
    output: Arc<Mutex<Vec<String>>>,
}

impl Devserver {
    fn start(extra_env: &[(&str, &str)]) -> Devserver {
        let mut command = Command::new(env!("CARGO_BIN_EXE_devserver"));
        command
            .env("PORT", "0")
            .env("TABLE_NAME", format!("orgkeys-e2e-{}", random_hex(6)))
            .env("ORGKEYS_ADMIN_TOKEN", "e2e-admin-token")
            .env("AWS_ENDPOINT_URL_DYNAMODB", orgkeys_tests::endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start devserver");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Some(url) = line.trim().strip_prefix("url:") {
                    let _ = tx.send(url.trim().to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let url = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("devserver printed its URL");
        Devserver { child, url, output }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> HttpReply {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(auth) = auth {
            headers.push(("authorization", auth));
        }
        http(
            method,
            &format!("{}{path}", self.url),
            &headers,
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }
}

impl Drop for Devserver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gateway_message(reply: &HttpReply, status: u16, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.json, json!({ "message": message }));
}

#[tokio::test]
async fn quickstart_works_as_the_readme_tells_it() {
    let server = Devserver::start(&[("AUTH_CACHE_TTL_SECONDS", "0")]);
    let org = server
        .call(
            "PUT",
            "/v1/admin/organizations/acme",
            Some(ADMIN),
            Some(json!({"name": "Acme"})),
        )
        .await;
    assert_eq!(org.status, 201, "{}", org.body);
    let created = server
        .call(
            "POST",
            "/v1/admin/organizations/acme/api-keys",
            Some(ADMIN),
            Some(json!({"name": "quickstart"})),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let key = created.json["apiKey"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {key}");
    let schedule = json!({"name": "Spring renewals", "campaign": "Renewals 2026", "channel": "sms", "status": "active"});
    let put = server
        .call(
            "PUT",
            "/v1/admin/organizations/acme/schedules/spring-renewals",
            Some(ADMIN),
            Some(schedule),
        )
        .await;
    assert_eq!(put.status, 201, "{}", put.body);

    let list = server
        .call(
            "GET",
            "/v1/schedules?status=active&limit=10",
            Some(&bearer),
            None,
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.json["items"][0]["scheduleId"], "spring-renewals");

    let dispatch = json!({"scheduleId": "spring-renewals", "reference": "qs-1", "contacts": [
        {"phone": "+353861234567", "name": "Ann", "variables": {"firstName": "Ann"}}
    ]});
    let headers = [
        ("authorization", bearer.as_str()),
        ("idempotency-key", "qs-1"),
    ];
    let sent = http(
        "POST",
        &format!("{}/v1/conversations/outbound", server.url),
        &headers,
        Some(dispatch.to_string().into_bytes()),
    )
    .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let replay = http(
        "POST",
        &format!("{}/v1/conversations/outbound", server.url),
        &headers,
        Some(dispatch.to_string().into_bytes()),
    )
    .await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json, sent.json);
    let conversation_id = sent.json["conversations"][0]["conversationId"]
        .as_str()
        .unwrap();
    let conversation = server
        .call(
            "GET",
            &format!("/v1/conversations/{conversation_id}"),
            Some(&bearer),
            None,
        )
        .await;
    assert_eq!(conversation.status, 200);
    assert_eq!(conversation.json["contact"]["phone"], "+353861234567");

    let listing = server
        .call(
            "GET",
            "/v1/admin/organizations/acme/api-keys",
            Some(ADMIN),
            None,
        )
        .await;
    let key_id = listing.json["items"][0]["keyId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        listing.json["items"][0]["lastUsedAt"].is_string()
            || listing.json["items"][0]["lastUsedAt"].is_null()
    );
    let deleted = server
        .call(
            "DELETE",
            &format!("/v1/admin/organizations/acme/api-keys/{key_id}"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    gateway_message(
        &server
            .call("GET", "/v1/schedules", Some(&bearer), None)
            .await,
        403,
        "Forbidden",
    );

    // One log line per call, and never a key or the admin token.
    let log = server.output();
    assert!(log.contains("GET /v1/schedules 200"), "{log}");
    assert!(log.contains("POST /v1/conversations/outbound 202"));
    assert!(!log.contains(&key[5..]), "the key reached the log");
    assert!(
        log.contains("admin token:  e2e-admin-token"),
        "banner shows the token"
    );
    assert_eq!(
        log.matches("e2e-admin-token").count(),
        1,
        "the token appears only in the banner"
    );
}

#[tokio::test]
async fn gateway_answers_like_api_gateway() {
    let server = Devserver::start(&[]);
    gateway_message(
        &server.call("GET", "/v1/schedules", None, None).await,
        401,
        "Unauthorized",
    );
    gateway_message(
        &server.call("GET", "/v1/schedules", Some(""), None).await,
        401,
        "Unauthorized",
    );
    gateway_message(
        &server
            .call("GET", "/v1/schedules", Some("Bearer orgk_made-up"), None)
            .await,
        403,
        "Forbidden",
    );
    gateway_message(
        &server.call("GET", "/v1/nowhere", None, None).await,
        404,
        "Not Found",
    );
    gateway_message(
        &server.call("PATCH", "/v1/schedules", None, None).await,
        404,
        "Not Found",
    );
    gateway_message(
        &server
            .call("GET", "/v1/admin/organizations/acme", None, None)
            .await,
        403,
        "Forbidden",
    );
    gateway_message(
        &server
            .call(
                "GET",
                "/v1/admin/organizations/acme",
                Some("Bearer wrong"),
                None,
            )
            .await,
        403,
        "Forbidden",
    );

    // Our own handlers' problems pass through untouched.
    let missing = server
        .call("GET", "/v1/admin/organizations/acme", Some(ADMIN), None)
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    let bad = http(
        "PUT",
        &format!("{}/v1/admin/organizations/acme", server.url),
        &[("authorization", ADMIN)],
        Some(b"{not json".to_vec()),
    )
    .await;
    assert_eq!(bad.status, 400);
    let binary = http(
        "PUT",
        &format!("{}/v1/admin/organizations/acme", server.url),
        &[("authorization", ADMIN)],
        Some(vec![0xff, 0xfe, 0x00]),
    )
    .await;
    assert_eq!(binary.status, 400, "{}", binary.body);
    let huge = http(
        "PUT",
        &format!("{}/v1/admin/organizations/acme", server.url),
        &[("authorization", ADMIN)],
        Some(vec![b' '; 11 * 1024 * 1024]),
    )
    .await;
    gateway_message(&huge, 413, "Request Entity Too Large");
    let big_json = json!({"name": "x".repeat(100 * 1024)});
    let too_big_for_keygen = server
        .call(
            "PUT",
            "/v1/admin/organizations/acme",
            Some(ADMIN),
            Some(big_json),
        )
        .await;
    assert_eq!(too_big_for_keygen.status, 413);
    assert_eq!(
        too_big_for_keygen.header("content-type"),
        Some("application/problem+json")
    );
    // Still serving after all of that.
    assert_eq!(
        server
            .call(
                "PUT",
                "/v1/admin/organizations/acme",
                Some(ADMIN),
                Some(json!({"name": "A"}))
            )
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn an_unreadable_store_is_a_500_never_an_allow() {
    let store = unreachable_store().await;
    let authorizer = authorizer::Authorizer::new(store.clone(), authorizer::Settings::default());
    let gateway = Arc::new(Gateway::new(store, authorizer, "t"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(devserver::serve(listener, gateway, std::future::pending()));
    let key = orgkeys_shared::key_format::ApiKey::generate().unwrap();
    let reply = http(
        "GET",
        &format!("{url}/v1/schedules"),
        &[("authorization", &format!("Bearer {}", key.expose()))],
        None,
    )
    .await;
    gateway_message(&reply, 500, "Internal Server Error");
}
