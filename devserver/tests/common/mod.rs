//! The devserver binary as `scripts/dev` runs it, driven over real HTTP.
// Each test file uses a part of this module.
#![allow(dead_code)]

use orgkeys_tests::http_client::{HttpReply, http};
use orgkeys_tests::random_hex;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

pub const ADMIN: &str = "Bearer e2e-admin-token";

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
        let mut command = Command::new(env!("CARGO_BIN_EXE_devserver"));
        command
            .env("PORT", "0")
            .env("TABLE_NAME", &table)
            .env("ORGKEYS_ADMIN_TOKEN", "e2e-admin-token")
            .env("AWS_ENDPOINT_URL_DYNAMODB", orgkeys_tests::endpoint())
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
