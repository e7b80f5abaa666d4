//! The real binaries against the Lambda Runtime API: every file in `events/`
//! is sent with `cargo lambda invoke --data-file` to the function it names,
//! running under `cargo lambda watch` (cargo-lambda is installed into `.venv`
//! by `scripts/venv`), and the answer must contain what `events/expected.json`
//! says. This proves each `main` works, not only the handlers.

use orgkeys_shared::models::{Channel, Schedule, ScheduleStatus};
use orgkeys_tests::{FIXTURE_ORG, fresh_store, seed_fixture_key};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `PATH` with the project's virtualenv first, where `cargo-lambda` lives.
fn path_with_venv() -> String {
    let venv = root().join(".venv/bin");
    assert!(
        venv.join("cargo-lambda").exists(),
        "cargo-lambda is not in .venv: run the tests with scripts/test (see README), which installs it"
    );
    format!(
        "{}:{}",
        venv.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `expected` is a subset of `actual`: every key it names has the same value
/// (arrays element by element).
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        (Value::Array(a), Value::Array(e)) => {
            e.len() <= a.len() && e.iter().zip(a).all(|(ev, av)| contains(av, ev))
        }
        _ => actual == expected,
    }
}

struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        // SIGTERM lets cargo-lambda stop the function processes it started.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn every_fixture_event_gets_its_expected_answer_from_the_real_binaries() {
    let store = fresh_store().await;
    seed_fixture_key(&store).await;
    let now = chrono::Utc::now();
    let schedule = Schedule {
        organization_id: FIXTURE_ORG.into(),
        schedule_id: "fixture-schedule".into(),
        name: "Fixture".into(),
        campaign: "Fixtures".into(),
        channel: Channel::Sms,
        status: ScheduleStatus::Active,
        starts_at: None,
        ends_at: None,
        created_at: now,
        updated_at: now,
    };
    store.put_schedule(&schedule).await.unwrap();

    let path = path_with_venv();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let _watch = Watch(
        Command::new("cargo")
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "--quiet",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port,
            ])
            .current_dir(root())
            .env("PATH", &path)
            .env("TABLE_NAME", store.table())
            .env("AUTH_CACHE_TTL_SECONDS", "0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cargo lambda watch"),
    );

    let expected: serde_json::Map<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(root().join("events/expected.json")).unwrap(),
    )
    .unwrap();
    let mut files: Vec<String> = std::fs::read_dir(root().join("events"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json") && name != "expected.json")
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        expected.len(),
        "every fixture has an expectation and vice versa"
    );

    let mut failures = Vec::new();
    for file in &files {
        let function = file.split('-').next().unwrap();
        let output = invoke(&path, &port, function, file);
        let want = &expected[file];
        if !contains(&output, want) {
            failures.push(format!("{file}: expected {want} in {output}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The function's answer, or `{"errorMessage": ...}` when it returned an error.
/// The first invocation of a function waits for `cargo lambda watch` to build it.
fn invoke(path: &str, port: &str, function: &str, file: &str) -> Value {
    let mut last = String::new();
    for _ in 0..60 {
        let output = Command::new("cargo")
            .args([
                "lambda",
                "invoke",
                function,
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                port,
            ])
            .args(["--output-format", "json", "--data-file"])
            .arg(root().join("events").join(file))
            .current_dir(root())
            .env("PATH", path)
            .output()
            .expect("run cargo lambda invoke");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            return serde_json::from_str(&stdout)
                .unwrap_or_else(|_| panic!("{file}: not JSON: {stdout}"));
        }
        if let Some(message) = function_error(&stderr) {
            return serde_json::json!({ "errorMessage": message });
        }
        last = format!("{stdout}{stderr}");
        std::thread::sleep(Duration::from_secs(2));
    }
    panic!("{file}: no answer from {function}: {last}");
}

/// The message of an error the function itself returned: cargo-lambda prints
/// it as `× <message>`. Its own failures (nothing listening yet, a build in
/// progress) name the emulator instead, and are retried.
fn function_error(stderr: &str) -> Option<String> {
    if stderr.contains("runtime emulator") {
        return None;
    }
    stderr
        .lines()
        .find_map(|line| line.trim().strip_prefix("× "))
        .map(|message| message.trim().to_owned())
}
