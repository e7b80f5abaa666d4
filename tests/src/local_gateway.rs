//! The devserver binary as `scripts/dev` runs it, driven over real HTTP: the
//! local gateway's own end-to-end tests and the CLI's start it from here.

use crate::app::TestApp;
use crate::http_client::{HttpReply, http};
use crate::random_hex;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

pub const ADMIN: &str = "Bearer e2e-admin-token";
/// The admin path of the organization the helpers below create.
pub const ORG: &str = "/v1/admin/organizations/acme";

/// A binary of the workspace beside the running test's: `target/<profile>/NAME`
/// (`scripts/test` builds every target before it runs the tests).
pub fn workspace_binary(name: &str) -> std::path::PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let profile_dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps");
    let binary = profile_dir.join(name);
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build --workspace --bins` (scripts/test builds it)",
        binary.display()
    );
    binary
}

/// The devserver binary, stopped when dropped; its output is kept for checks.
pub struct Devserver {
    child: Child,
    pub url: String,
    pub table: String,
    output: Arc<Mutex<Vec<String>>>,
}

impl Devserver {
    /// Starts the binary on a fresh table; `extra_env` adds variables (an
    /// empty value removes one).
    pub fn start(extra_env: &[(&str, &str)]) -> Devserver {
        let table = format!("orgkeys-e2e-{}", random_hex(6));
        let mut command = Command::new(workspace_binary("devserver"));
        command
            .env("PORT", "0")
            .env("TABLE_NAME", &table)
            .env("ORGKEYS_ADMIN_TOKEN", "e2e-admin-token")
            .env("AWS_ENDPOINT_URL_DYNAMODB", crate::endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in extra_env {
            if value.is_empty() {
                command.env_remove(name);
            } else {
                command.env(name, value);
            }
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
        let server = Devserver {
            child,
            url,
            table,
            output,
        };
        // The banner's last line comes after the URL; wait for all of it.
        for _ in 0..100 {
            if server.output().contains("authorizer cache:") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        server
    }

    /// The API behind this server, called over HTTP: the one way tests
    /// call its routes ([`TestApp`]); the operator calls with the admin token.
    pub fn app(&self) -> TestApp {
        TestApp::over_devserver(self)
    }

    /// A request sent as it is (raw headers, bodies API Gateway refuses,
    /// paths outside the route table): for tests of the gateway itself.
    pub async fn call(
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

    /// Creates organization `acme` as the admin; asserts the 201.
    pub async fn create_organization(&self) -> HttpReply {
        let body = serde_json::json!({"name": "Acme"});
        self.app().put_organization("acme", body).expect(201).await
    }

    /// Creates a key of `acme` with every scope; asserts the 201, whose JSON
    /// carries `keyId` and `apiKey`.
    pub async fn create_key(&self) -> HttpReply {
        let app = self.app();
        app.create_key("acme", serde_json::json!({}))
            .expect(201)
            .await
    }

    /// Creates an active SMS schedule `id` of `acme`; asserts the 201.
    pub async fn create_schedule(&self, id: &str) -> HttpReply {
        let body =
            serde_json::json!({"name": "S", "campaign": "C", "channel": "sms", "status": "active"});
        self.app().put_schedule("acme", id, body).expect(201).await
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }
}

impl Drop for Devserver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
