//! How the devserver binary starts, before it serves anything.

use std::process::Command;
use std::time::{Duration, Instant};

/// A taken port is told in words with the way out (`PORT`), at once: the
/// port is bound before the store is set up.
#[test]
fn a_taken_port_is_named_with_a_hint_about_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let started = Instant::now();
    let output = Command::new(orgkeys_tests::local_gateway::workspace_binary("devserver"))
        .env("PORT", &port)
        // Never reached: nothing may happen before the port is bound.
        .env("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("run the devserver");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("port {port} is already in use")) && stderr.contains("PORT="),
        "{stderr}"
    );
    assert!(!stderr.contains("Os {"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// `--help` (or `-h`) prints the options and the variables and exits: it
/// binds nothing and starts nothing (the port given is taken, and would be
/// an error if it tried).
#[test]
fn help_prints_the_options_and_variables_and_starts_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for flag in ["--help", "-h"] {
        let output = Command::new(orgkeys_tests::local_gateway::workspace_binary("devserver"))
            .arg(flag)
            .env("PORT", &port)
            .output()
            .expect("run the devserver");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{flag}: {stdout}");
        for named in [
            "--help",
            "PORT",
            "TABLE_NAME",
            "ORGKEYS_ADMIN_TOKEN",
            "ORGKEYS_LOCAL_IAM",
            "AWS_ENDPOINT_URL_DYNAMODB",
            "CONSOLE_ISSUER",
            "ORGKEYS_DEMO",
        ] {
            assert!(stdout.contains(named), "{flag} names {named}: {stdout}");
        }
        assert!(
            !stdout.contains("url:"),
            "{flag} started the gateway: {stdout}"
        );
    }
    let output = Command::new(orgkeys_tests::local_gateway::workspace_binary("devserver"))
        .arg("--no-such-option")
        .output()
        .expect("run the devserver");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--help"));
}
