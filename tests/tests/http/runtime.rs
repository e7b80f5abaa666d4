//! The real binaries against the Lambda Runtime API: each function's binary
//! runs against `cargo lambda watch --only-lambda-apis` (the Runtime API
//! emulator; cargo-lambda is installed into `.venv` by `scripts/venv`), every
//! file in `events/` is sent to the function it names with
//! `cargo lambda invoke --data-file`, and the answer must contain what
//! `events/expected.json` says. This proves each `main` works, not only the
//! handlers. The binaries run at `AWS_LAMBDA_LOG_LEVEL=TRACE` with JSON logs,
//! and their output must hold no key and no full key hash.
//!
//! The binaries are the ones `scripts/test` builds beside this test
//! (`cargo build --workspace --bins`). Letting `cargo lambda watch` build
//! them instead would compile the AWS SDK again for each function, because a
//! one-package build resolves other features than the workspace build.

use orgkeys_tests::{fresh_store, seed_fixture_key};
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
        "cargo-lambda is not in .venv: run scripts/venv (or scripts/test), which installs it"
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

/// A child process, stopped when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn every_fixture_event_gets_its_expected_answer_from_the_real_binaries() {
    let store = fresh_store().await;
    seed_fixture_key(&store).await;
    orgkeys_tests::seed_fixture_schedule(&store).await;

    let path = path_with_venv();
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
    let logs =
        std::env::temp_dir().join(format!("orgkeys-runtime-{}", orgkeys_tests::random_hex(6)));
    std::fs::create_dir_all(&logs).unwrap();
    for function in [
        "authorizer",
        "keygen",
        "schedules",
        "dispatch",
        "invitations",
    ] {
        let log = std::fs::File::create(logs.join(function)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
            .to_string();
        let _emulator = Running(
            Command::new("cargo")
                .args([
                    "lambda",
                    "watch",
                    "--only-lambda-apis",
                    "--invoke-address",
                    "127.0.0.1",
                    "--invoke-port",
                    &port,
                ])
                .current_dir(root())
                .env("PATH", &path)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start cargo lambda watch"),
        );
        // The function exits if the Runtime API is not there yet.
        wait_for_port(&port);
        let _function = Running(
            Command::new(built_binary(function))
                // What the emulator tells a function started outside it to use.
                .env(
                    "AWS_LAMBDA_RUNTIME_API",
                    format!("http://127.0.0.1:{port}/.rt"),
                )
                .env("AWS_LAMBDA_FUNCTION_NAME", "_")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
                .env("TABLE_NAME", store.table())
                // The harness's DynamoDB server, whether scripts/test started it or the harness did.
                .env("AWS_ENDPOINT_URL_DYNAMODB", orgkeys_tests::endpoint())
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AUTH_CACHE_TTL_SECONDS", "0")
                .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
                .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("start the function binary"),
        );
        for file in files
            .iter()
            .filter(|f| f.starts_with(&format!("{function}-")))
        {
            let output = invoke(&path, &port, file);
            let want = &expected[file];
            if !contains(&output, want) {
                failures.push(format!("{file}: expected {want} in {output}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let mut logged = 0;
    for function in [
        "authorizer",
        "keygen",
        "schedules",
        "dispatch",
        "invitations",
    ] {
        let output = std::fs::read_to_string(logs.join(function)).unwrap();
        assert_no_secret_at_trace(function, &output);
        logged += output.lines().count();
    }
    assert!(logged > 0, "the functions logged nothing at TRACE");
    assert_decisions_logged(&std::fs::read_to_string(logs.join("authorizer")).unwrap());
    let _ = std::fs::remove_dir_all(&logs);
}

/// The authorizer logged one decision line per fixture it decided on (allow
/// with the keyId; deny with a reason and, for a key that parsed, only a hash
/// prefix) and counted each as an EMF metric.
fn assert_decisions_logged(output: &str) {
    let lines: Vec<Value> = output
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let decisions: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "authorizer decision")
        .map(|l| &l["fields"])
        .collect();
    let allow = decisions
        .iter()
        .find(|d| d["result"] == "allow")
        .expect("an allow line");
    assert_eq!(allow["key_id"], orgkeys_tests::FIXTURE_KEY_ID);
    assert_eq!(allow["org_id"], orgkeys_tests::FIXTURE_ORG);
    assert!(allow.get("hash_prefix").is_none(), "{allow}");
    let denied: Vec<&&Value> = decisions.iter().filter(|d| d["result"] == "deny").collect();
    assert!(!denied.is_empty(), "deny lines in {output}");
    assert!(denied.iter().all(|d| d["reason"].is_string()), "{denied:?}");
    let emf = lines
        .iter()
        .filter(|l| l["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] == "Decisions")
        .count();
    assert_eq!(emf, decisions.len(), "one EMF count per decision");
}

/// At TRACE a function still logs no API key and no full 64-hex hash; and
/// its log is JSON lines, each with a timestamp.
fn assert_no_secret_at_trace(function: &str, output: &str) {
    assert!(
        !output.contains("orgk_"),
        "{function} logged a key:\n{output}"
    );
    let hex_runs = output
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|run| run.len() >= 64);
    assert_eq!(hex_runs.count(), 0, "{function} logged a hash:\n{output}");
    for line in output.lines().filter(|l| !l.trim().is_empty()) {
        let json: Value = serde_json::from_str(line)
            .unwrap_or_else(|_| panic!("{function}: not a JSON line: {line}"));
        if json.get("_aws").is_some() {
            // An EMF line: CloudWatch reads its metric directives.
            let directives = &json["_aws"]["CloudWatchMetrics"];
            assert_eq!(directives[0]["Namespace"], "orgkeys", "{line}");
            assert!(json["_aws"]["Timestamp"].is_i64(), "{line}");
        } else {
            assert!(
                json["timestamp"].is_string(),
                "{function}: no timestamp in {line}"
            );
        }
    }
}

fn wait_for_port(port: &str) {
    for _ in 0..300 {
        if std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("cargo lambda watch did not listen on {port}");
}

/// A binary built by the same `cargo test` run: beside this test's own directory.
fn built_binary(name: &str) -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let path = deps.parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with scripts/test (cargo test --workspace --all-targets)",
        path.display()
    );
    path
}

/// The function's answer, or `{"errorMessage": ...}` when it returned an error.
/// The first invocation waits for the emulator and the function to be up.
fn invoke(path: &str, port: &str, file: &str) -> Value {
    let mut last = String::new();
    for _ in 0..120 {
        let output = Command::new("cargo")
            .args([
                "lambda",
                "invoke",
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
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("{file}: no answer: {last}");
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
