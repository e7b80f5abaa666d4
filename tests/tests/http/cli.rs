//! The `orgkeys` binary end to end against the devserver binary: once with
//! the admin token, once signing with SigV4 (`ORGKEYS_LOCAL_IAM` on the
//! gateway, the matching key pair in the CLI's environment).

use orgkeys_tests::app::Caller;
use orgkeys_tests::local_gateway::{Devserver, workspace_binary};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const ACCESS_KEY: &str = "AKIDLOCALCLI";
const SECRET_KEY: &str = "cli-test-secret";
const TOKEN: &str = "e2e-admin-token";

/// How the CLI authenticates.
#[derive(Clone, Copy)]
enum Auth {
    Token,
    SigV4 { secret: &'static str },
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn start() -> Devserver {
    Devserver::start(&[
        ("ORGKEYS_LOCAL_IAM", &format!("{ACCESS_KEY}:{SECRET_KEY}")),
        ("AUTH_CACHE_TTL_SECONDS", "0"),
    ])
}

/// Runs `orgkeys` against `server`, with nothing of the machine's own AWS
/// configuration in the way.
fn orgkeys(server: &Devserver, auth: Auth, args: &[&str]) -> Run {
    orgkeys_fed(server, auth, args, "")
}

/// [`orgkeys`] with `stdin` on its standard input.
fn orgkeys_fed(server: &Devserver, auth: Auth, args: &[&str], stdin: &str) -> Run {
    let mut command = Command::new(workspace_binary("orgkeys"));
    command
        .args(args)
        .env("ORGKEYS_API_URL", &server.url)
        .env("AWS_CONFIG_FILE", "/nonexistent/orgkeys-cli-test")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/orgkeys-cli-test",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
    match auth {
        Auth::Token => {
            command.env("ORGKEYS_ADMIN_TOKEN", TOKEN);
        }
        Auth::SigV4 { secret } => {
            command
                .env_remove("ORGKEYS_ADMIN_TOKEN")
                .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
                .env("AWS_SECRET_ACCESS_KEY", secret)
                .env("AWS_REGION", "us-east-1");
        }
    }
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run orgkeys");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes())
        .expect("feed stdin");
    let output = child.wait_with_output().expect("orgkeys ends");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn ok(run: Run) -> Run {
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    run
}

async fn public_status(server: &Devserver, key: &str) -> u16 {
    server
        .app()
        .list_schedules()
        .by(&Caller::key(key))
        .await
        .status
}

/// Org, key (which works), list, roll, delete; JSON output is the API's.
async fn the_admin_workflow(auth: Auth, principal: &str) {
    let server = start();
    let run = |args: &[&str]| ok(orgkeys(&server, auth, args));
    run(&["org", "put", "acme", "--name", "Acme"]);
    let json = run(&["--output", "json", "org", "get", "acme"]).stdout;
    let api = server.app().get_organization("acme").await;
    assert_eq!(json.trim_end(), api.body, "--output json is the API's JSON");

    let created = run(&[
        "key",
        "create",
        "acme",
        "--name",
        "crm",
        "--scope",
        "schedules:read",
    ]);
    let key = created.stdout.trim().to_owned();
    assert!(key.starts_with("orgk_") && key.len() == 53, "{key}");
    assert!(
        created.stderr.contains("shown only once"),
        "{}",
        created.stderr
    );
    assert_eq!(public_status(&server, &key).await, 200, "the new key works");

    let listed = run(&["key", "list", "acme"]).stdout;
    assert!(listed.starts_with("KEY "), "{listed}");
    assert!(
        listed.contains("crm") && listed.contains("schedules:read"),
        "{listed}"
    );
    let keys: Value =
        serde_json::from_str(&run(&["--output", "json", "key", "list", "acme"]).stdout).unwrap();
    let key_id = keys["items"][0]["keyId"].as_str().unwrap().to_owned();

    let rolled = run(&["key", "roll", "acme", &key_id, "--grace", "0"]);
    let successor = rolled.stdout.trim().to_owned();
    assert_ne!(successor, key);
    assert_eq!(public_status(&server, &successor).await, 200);
    assert_eq!(
        public_status(&server, &key).await,
        403,
        "grace 0: the old key is dead"
    );
    let successor_id = rolled
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("keyId: "))
        .unwrap()
        .to_owned();

    run(&["key", "update", "acme", &successor_id, "--disable"]);
    assert_eq!(public_status(&server, &successor).await, 403);
    run(&["key", "update", "acme", &successor_id, "--enable"]);
    run(&["key", "delete", "acme", &successor_id]);
    assert_eq!(public_status(&server, &successor).await, 403);

    let events: Value = serde_json::from_str(
        &run(&[
            "--output",
            "json",
            "audit",
            "acme",
            "--action",
            "api_key.deleted",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(events["items"][0]["actor"]["id"], principal);
    assert_eq!(events["items"][0]["target"]["id"], successor_id.as_str());
}

/// The downstream sender's report over HTTP: from the CLI (SigV4), then
/// through [`TestApp`]; the conversation's key reads the history back and
/// the audit log names the sender.
#[tokio::test]
async fn the_sender_reports_a_conversations_status_from_the_cli_and_over_http() {
    let server = start();
    let app = server.app();
    app.put_organization("acme", serde_json::json!({"name": "Acme"}))
        .expect(201)
        .await;
    let created = app
        .create_key(
            "acme",
            serde_json::json!({"scopes": ["conversations:write", "conversations:read"]}),
        )
        .expect(201)
        .await;
    let key = Caller::key(created.json["apiKey"].as_str().unwrap());
    let schedule =
        serde_json::json!({"name": "n", "campaign": "c", "channel": "sms", "status": "active"});
    app.put_schedule("acme", "spring", schedule)
        .expect(201)
        .await;
    let contacts = serde_json::json!([{"phone": "+353861234567"}]);
    let dispatched = app
        .dispatch(serde_json::json!({"scheduleId": "spring", "contacts": contacts}))
        .by(&key)
        .expect(202)
        .await;
    let id = dispatched.json["conversations"][0]["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();

    let sigv4 = Auth::SigV4 { secret: SECRET_KEY };
    let sent = ok(orgkeys(
        &server,
        sigv4,
        &[
            "--output",
            "json",
            "conversation",
            "status",
            "acme",
            &id,
            "--status",
            "sent",
            "--provider-message-id",
            "SM1",
        ],
    ));
    let sent: Value = serde_json::from_str(&sent.stdout).unwrap();
    assert_eq!(sent["status"], "sent");
    assert_eq!(sent["providerMessageId"], "SM1");
    let backwards = orgkeys(
        &server,
        sigv4,
        &[
            "conversation",
            "status",
            "acme",
            &id,
            "--status",
            "sent",
            "--error-code",
            "x",
            "--error-message",
            "y",
        ],
    );
    assert_ne!(
        backwards.code, 0,
        "an error with sent is refused: {}",
        backwards.stdout
    );
    assert!(backwards.stderr.contains("/error"), "{}", backwards.stderr);

    let failed =
        serde_json::json!({"status": "failed", "error": {"code": "30007", "message": "filtered"}});
    let reply = app.report_conversation_status("acme", &id, failed).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let again = app
        .report_conversation_status("acme", &id, serde_json::json!({"status": "delivered"}))
        .await;
    assert_eq!(
        again.problem(409)["type"],
        "urn:orgkeys:problem:invalid-transition"
    );

    let read = app.get_conversation(&id).by(&key).expect(200).await;
    let history: Vec<&str> = read.json["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["queued", "sent", "failed"]);
    assert_eq!(read.json["error"]["code"], "30007");

    let events = app
        .list_audit_events("acme")
        .query(&[("action", "conversation.sent")])
        .expect(200)
        .await;
    assert_eq!(
        events.json["items"][0]["actor"]["id"], "arn:aws:iam::000000000000:user/local-admin",
        "the CLI's SigV4 principal"
    );
    assert_eq!(events.json["items"][0]["target"]["id"], id.as_str());
}

#[tokio::test]
async fn the_admin_workflow_works_with_the_admin_token() {
    the_admin_workflow(Auth::Token, "local-admin").await;
}

#[tokio::test]
async fn the_admin_workflow_works_signed_with_sigv4() {
    the_admin_workflow(
        Auth::SigV4 { secret: SECRET_KEY },
        "arn:aws:iam::000000000000:user/local-admin",
    )
    .await;
}

#[tokio::test]
async fn a_leaked_key_is_revoked_from_stdin_and_its_owner_named() {
    let server = start();
    let run = |args: &[&str]| ok(orgkeys(&server, Auth::Token, args));
    run(&["org", "put", "acme", "--name", "Acme"]);
    let key = run(&["key", "create", "acme"]).stdout.trim().to_owned();
    let listed: Value =
        serde_json::from_str(&run(&["--output", "json", "key", "list", "acme"]).stdout).unwrap();
    let key_id = listed["items"][0]["keyId"].as_str().unwrap().to_owned();
    assert_eq!(public_status(&server, &key).await, 200);

    let args = [
        "--output",
        "json",
        "key",
        "revoke",
        "--reason",
        "in a ticket",
    ];
    let revoked = ok(orgkeys_fed(
        &server,
        Auth::Token,
        &args,
        &format!("{key}\n"),
    ));
    let answer: Value = serde_json::from_str(&revoked.stdout).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"organizationId": "acme", "keyId": key_id, "action": "disable"})
    );
    assert_eq!(public_status(&server, &key).await, 403);

    let nothing = orgkeys_fed(&server, Auth::Token, &args, "");
    assert_eq!(nothing.code, 4, "{}", nothing.stderr);
    assert!(
        nothing.stderr.contains("no key on stdin"),
        "{}",
        nothing.stderr
    );
}

#[tokio::test]
async fn errors_are_told_and_exit_with_their_own_codes() {
    let server = start();
    let refused = orgkeys(&server, Auth::Token, &["org", "get", "ghost"]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert_eq!(
        refused.stderr.trim(),
        "error: 404 Not Found: no organization with this ID"
    );
    assert!(refused.stdout.is_empty());

    let invalid = orgkeys(&server, Auth::Token, &["org", "put", "acme", "--name", " "]);
    assert_eq!(invalid.code, 3);
    assert!(invalid.stderr.contains("\n  /name: "), "{}", invalid.stderr);

    let usage = orgkeys(&server, Auth::Token, &["org", "put", "acme"]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);

    let unsigned = orgkeys(&server, Auth::SigV4 { secret: "wrong" }, &["org", "list"]);
    assert_eq!(unsigned.code, 3, "{}", unsigned.stderr);
    assert!(
        unsigned
            .stderr
            .contains("signature we calculated does not match")
    );

    let mut unreachable = Command::new(workspace_binary("orgkeys"));
    unreachable
        .args([
            "--api",
            "http://127.0.0.1:9",
            "--admin-token",
            TOKEN,
            "org",
            "list",
        ])
        .env_remove("ORGKEYS_API_URL");
    let output = unreachable.output().unwrap();
    assert_eq!(output.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("error: cannot reach"));
}

/// `orgkeys` with `args` only: no API URL, token or AWS configuration from
/// the environment, stdin closed.
fn bare(args: &[&str]) -> Command {
    let mut command = Command::new(workspace_binary("orgkeys"));
    command
        .args(args)
        .env_remove("ORGKEYS_API_URL")
        .env_remove("ORGKEYS_ADMIN_TOKEN")
        .env("AWS_CONFIG_FILE", "/nonexistent/orgkeys-cli-test")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/orgkeys-cli-test",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::null());
    command
}

fn finished(output: std::process::Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A server on loopback that answers each connection with `response`, once
/// it has read the request's head. Returns its `host:port`.
fn canned_server(response: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let _ = stream.write_all(response.as_bytes());
        }
    });
    address
}

#[test]
fn escape_sequences_from_the_server_are_shown_escaped() {
    let title = "Forbidden\u{1b}]0;pwned\u{7}\u{1b}[2J";
    let body = serde_json::json!({"type": "about:blank", "title": title, "status": 403,
        "detail": "see\u{9b}31m", "errors": [{"pointer": "/name\u{202e}", "detail": "x\ry"}]})
    .to_string();
    let problem: &'static str = Box::leak(
        format!(
            "HTTP/1.1 403 Forbidden\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_boxed_str(),
    );
    let refused = finished(
        bare(&[
            "--api",
            &format!("http://{}", canned_server(problem)),
            "--admin-token",
            TOKEN,
            "org",
            "get",
            "acme",
        ])
        .output()
        .unwrap(),
    );
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        !refused.stderr.chars().any(|c| c != '\n' && c.is_control())
            && !refused.stderr.contains('\u{202e}'),
        "{:?}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains(r"Forbidden\u{1b}]0;pwned\u{7}\u{1b}[2J"),
        "{:?}",
        refused.stderr
    );

    let listing =
        r#"{"items":[{"organizationId":"acme","name":"Acme\u001b[2J\u0085","status":"active"}]}"#;
    let ok_reply: &'static str = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{listing}",
            listing.len()
        )
        .into_boxed_str(),
    );
    let api = format!("http://{}", canned_server(ok_reply));
    let table = finished(
        bare(&["--api", &api, "--admin-token", TOKEN, "org", "list"])
            .output()
            .unwrap(),
    );
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains(r"Acme\u{1b}[2J\u{85}"),
        "{:?}",
        table.stdout
    );
}

#[test]
fn an_admin_token_is_not_sent_over_plain_http_but_to_loopback() {
    for api in ["http://192.0.2.1:3000", "http://orgkeys.example.com"] {
        let refused = finished(
            bare(&["--api", api, "--admin-token", TOKEN, "org", "list"])
                .output()
                .unwrap(),
        );
        assert_eq!(refused.code, 4, "{api}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("plain http://") && refused.stderr.contains("--insecure-http"),
            "{api}: {}",
            refused.stderr
        );
    }
}

#[test]
fn a_certificate_the_system_does_not_trust_is_named_as_the_cause() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let support = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/http/support");
    let cert = CertificateDer::from_pem_file(format!("{support}/self-signed.crt")).unwrap();
    let key = PrivateKeyDer::from_pem_file(format!("{support}/self-signed.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let config = std::sync::Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut tcp in listener.incoming().flatten() {
            let mut tls = rustls::ServerConnection::new(config.clone()).unwrap();
            while tls.is_handshaking() && tls.complete_io(&mut tcp).is_ok() {}
        }
    });
    let api = format!("https://{address}");
    let run = finished(
        bare(&["--api", &api, "--admin-token", TOKEN, "org", "list"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("certificate not trusted"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn the_admin_token_can_come_from_a_file_or_stdin() {
    let server = start();
    let file = std::env::temp_dir().join(format!("orgkeys-token-{}", std::process::id()));
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let path = file.to_str().unwrap();
    let from_file = finished(
        bare(&[
            "--api",
            &server.url,
            "--admin-token-file",
            path,
            "org",
            "list",
        ])
        .output()
        .unwrap(),
    );
    std::fs::remove_file(&file).unwrap();
    assert_eq!(from_file.code, 0, "{}", from_file.stderr);
    assert!(
        from_file.stdout.starts_with("ORGANIZATION"),
        "{}",
        from_file.stdout
    );

    let mut piped = bare(&[
        "--api",
        &server.url,
        "--admin-token-file",
        "-",
        "org",
        "list",
    ]);
    let mut child = piped
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{TOKEN}\n").as_bytes())
        .unwrap();
    let from_stdin = finished(child.wait_with_output().unwrap());
    assert_eq!(from_stdin.code, 0, "{}", from_stdin.stderr);

    let missing = finished(
        bare(&[
            "--api",
            &server.url,
            "--admin-token-file",
            "/nonexistent/orgkeys-token",
            "org",
            "list",
        ])
        .output()
        .unwrap(),
    );
    assert_eq!(missing.code, 4, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("/nonexistent/orgkeys-token"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn org_delete_asks_for_confirmation_unless_yes() {
    let server = start();
    ok(orgkeys(
        &server,
        Auth::Token,
        &["org", "put", "acme", "--name", "Acme"],
    ));
    let refused = orgkeys(&server, Auth::Token, &["org", "delete", "acme"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(
        server.app().get_organization("acme").await.status,
        200,
        "not deleted"
    );
    ok(orgkeys(
        &server,
        Auth::Token,
        &["org", "delete", "acme", "--yes"],
    ));
    assert_eq!(server.app().get_organization("acme").await.status, 404);
}

#[tokio::test]
async fn key_list_shows_rolled_keys_and_audit_summarizes_details() {
    let server = start();
    let run = |args: &[&str]| ok(orgkeys(&server, Auth::Token, args));
    run(&["org", "put", "acme", "--name", "Acme"]);
    run(&["key", "create", "acme", "--name", "crm"]);
    let keys: Value =
        serde_json::from_str(&run(&["--output", "json", "key", "list", "acme"]).stdout).unwrap();
    let key_id = keys["items"][0]["keyId"].as_str().unwrap().to_owned();
    let rolled = run(&["key", "roll", "acme", &key_id, "--grace", "600"]);
    let successor_id = rolled
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("keyId: "))
        .unwrap()
        .to_owned();
    let listed = run(&["key", "list", "acme"]).stdout;
    let old_row = listed.lines().find(|l| l.starts_with(&key_id)).unwrap();
    assert!(
        old_row.contains(&format!("rolled to {successor_id}")),
        "{listed}"
    );
    assert!(old_row.contains("until 20"), "its end: {listed}");

    run(&[
        "key",
        "update",
        "acme",
        &successor_id,
        "--disable",
        "--name",
        "crm-2",
    ]);
    let audit = run(&["audit", "acme"]).stdout;
    let updated = audit
        .lines()
        .find(|l| l.contains("api_key.updated"))
        .unwrap();
    assert!(
        updated.contains("enabled=false") && updated.contains("name=crm-2"),
        "{audit}"
    );
}

/// A receiver on loopback that answers every request 204 and counts them.
fn loopback_receiver() -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let received = Arc::new(AtomicUsize::new(0));
    let count = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            count.fetch_add(1, Ordering::SeqCst);
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
    });
    (url, received)
}

/// Every `webhook` command against the gateway: the secret shown once on
/// stdout, the state in the list, a test event in the log and resent, a
/// disabled endpoint refusing a test, a roll, a delete.
#[tokio::test]
async fn the_webhook_commands_manage_an_endpoint_and_its_delivery_log() {
    let server = Devserver::start(&[("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")]);
    let run = |args: &[&str]| ok(orgkeys(&server, Auth::Token, args));
    let json = |args: &[&str]| -> Value {
        let args = [&["--output", "json"], args].concat();
        serde_json::from_str(&run(&args).stdout).unwrap()
    };
    run(&["org", "put", "acme", "--name", "Acme"]);
    let (url, received) = loopback_receiver();

    let created = run(&[
        "webhook",
        "create",
        "acme",
        &url,
        "--description",
        "crm",
        "--event",
        "api_key.leaked",
    ]);
    let secret = created.stdout.trim().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 50,
        "{secret}"
    );
    assert!(
        created.stderr.contains("shown only once"),
        "{}",
        created.stderr
    );
    let endpoint = created
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("endpointId: "))
        .unwrap()
        .to_owned();
    let shown = json(&["webhook", "get", "acme", &endpoint]);
    assert_eq!(shown["eventTypes"], serde_json::json!(["api_key.leaked"]));
    assert!(shown.get("secret").is_none(), "{shown}");
    let listed = run(&["webhook", "list", "acme"]).stdout;
    assert!(listed.starts_with("ENDPOINT "), "{listed}");
    assert!(!listed.contains(&secret), "{listed}");
    let row = listed.lines().find(|l| l.starts_with(&endpoint)).unwrap();
    assert!(row.contains("enabled") && row.contains(&url), "{listed}");

    let test = json(&["webhook", "test", "acme", &endpoint]);
    let message = test["messageId"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let logged = loop {
        let page = json(&["webhook", "messages", "acme", &endpoint]);
        if page["items"][0]["status"] == "delivered" {
            break page;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not delivered: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(logged["items"][0]["messageId"], message.as_str());
    assert_eq!(logged["items"][0]["eventType"], "webhook.test");
    let table = run(&["webhook", "messages", "acme", &endpoint]).stdout;
    assert!(table.contains("1 (last: 204)"), "{table}");
    let resent = json(&["webhook", "resend", "acme", &endpoint, &message]);
    assert_eq!(resent["messageId"], message.as_str());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while received.load(Ordering::SeqCst) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the resend never came"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    run(&["webhook", "update", "acme", &endpoint, "--disable"]);
    let listed = run(&["webhook", "list", "acme"]).stdout;
    assert!(
        listed.contains("disabled: disabled by an administrator"),
        "{listed}"
    );
    let refused = orgkeys(
        &server,
        Auth::Token,
        &["webhook", "test", "acme", &endpoint],
    );
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("409"), "{}", refused.stderr);

    let rolled = run(&[
        "webhook",
        "roll-secret",
        "acme",
        &endpoint,
        "--expires-in",
        "60",
    ]);
    let new_secret = rolled.stdout.trim();
    assert!(
        new_secret.starts_with("whsec_") && new_secret != secret,
        "{new_secret}"
    );
    let after = json(&["webhook", "get", "acme", &endpoint]);
    assert!(after["previousSecretExpiresAt"].is_string(), "{after}");

    let bad = orgkeys(
        &server,
        Auth::Token,
        &[
            "webhook",
            "create",
            "acme",
            "ftp://127.0.0.1/x",
            "--event",
            "nope",
        ],
    );
    assert_eq!(bad.code, 3, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("/url") && bad.stderr.contains("/eventTypes/0"),
        "{}",
        bad.stderr
    );

    run(&["webhook", "delete", "acme", &endpoint]);
    let gone = orgkeys(&server, Auth::Token, &["webhook", "get", "acme", &endpoint]);
    assert_eq!(gone.code, 3, "{}", gone.stderr);
}
