//! Our requests as a Standard Webhooks receiver sees them: a Python receiver
//! on 127.0.0.1 verifies every attempt with the `standardwebhooks` reference
//! library (`tests/support/receiver.py`; `scripts/venv` installs it), so the
//! signature is checked by code that is not ours.

use chrono::Utc;
use orgkeys_shared::webhooks::address_policy::AddressPolicy;
use orgkeys_shared::webhooks::signing::SigningSecret;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use webhooks::client::{Attempt, Outcome, Sender};

/// The receiver's process, stopped when the test ends.
struct Receiver {
    child: Child,
    port: u16,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the Python receiver verifying with each of `secrets` alone.
fn receiver(secrets: &[&str]) -> Receiver {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let python = format!("{root}/.venv/bin/python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/receiver.py");
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{python}: {err} (run scripts/venv)"));
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", secrets.join(" ")).unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("receiver said {line:?}"));
    Receiver { child, port }
}

async fn deliver(receiver: &Receiver, signed_with: &[&SigningSecret]) -> Attempt {
    let policy = AddressPolicy::parse("127.0.0.0/8").unwrap();
    let url = policy
        .validate_url(&format!("http://127.0.0.1:{}/hooks", receiver.port))
        .unwrap();
    let body = br#"{"type":"webhook.test","timestamp":"2026-12-06T10:00:00Z","data":{"organizationId":"org_1"}}"#;
    let sender = Sender::new(policy, Duration::from_secs(10));
    sender
        .attempt(
            &url,
            "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
            body,
            signed_with,
            Utc::now(),
        )
        .await
}

#[tokio::test]
async fn the_reference_library_verifies_a_message_signed_with_one_secret() {
    let (secret, shown) = SigningSecret::generate().unwrap();
    let receiver = receiver(&[&shown]);
    let attempt = deliver(&receiver, &[&secret]).await;
    assert_eq!(
        attempt.response_body.as_deref(),
        Some(r#"{"verified": [true]}"#)
    );
    assert_eq!(attempt.outcome, Outcome::Delivered, "{attempt:?}");
}

#[tokio::test]
async fn during_a_roll_each_secret_alone_verifies_the_message() {
    let (old, old_shown) = SigningSecret::generate().unwrap();
    let (new, new_shown) = SigningSecret::generate().unwrap();
    let receiver = receiver(&[&new_shown, &old_shown]);
    let attempt = deliver(&receiver, &[&new, &old]).await;
    assert_eq!(
        attempt.response_body.as_deref(),
        Some(r#"{"verified": [true, true]}"#)
    );
}

#[tokio::test]
async fn the_reference_library_refuses_a_message_signed_with_another_secret() {
    let (_, shown) = SigningSecret::generate().unwrap();
    let (other, _) = SigningSecret::generate().unwrap();
    let receiver = receiver(&[&shown]);
    let attempt = deliver(&receiver, &[&other]).await;
    assert_eq!(attempt.status_code, Some(401));
    assert_eq!(
        attempt.response_body.as_deref(),
        Some(r#"{"verified": [false]}"#)
    );
    assert_eq!(attempt.outcome, Outcome::Failed);
}
