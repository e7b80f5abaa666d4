//! Leaked keys over HTTP against the devserver binary: GitHub's signed
//! secret-scanning alerts (the key document served by this test on loopback,
//! signed with a generated P-256 key pair) and an admin's revocation from the
//! raw key. The authorizer's cache is off, so a revoked key is refused at once.

use orgkeys_tests::app::Caller;
use orgkeys_tests::github::{
    GitHubSigner, IDENTIFIER_HEADER, KeyDocumentServer, SIGNATURE_HEADER, key_document, token_hash,
};
use orgkeys_tests::http_client::HttpReply;
use orgkeys_tests::local_gateway::Devserver;
use serde_json::{Value, json};

const LEAKED_URL: &str = "https://github.com/octo/app/blob/9f1c/.env";

/// GitHub's current key, published; a second key pair that is not.
struct GitHub {
    signer: GitHubSigner,
    stranger: GitHubSigner,
    document: KeyDocumentServer,
}

impl GitHub {
    async fn start() -> GitHub {
        let signer = GitHubSigner::generate("github-key-1");
        let document = KeyDocumentServer::start(key_document(&[&signer])).await;
        GitHub {
            signer,
            stranger: GitHubSigner::generate("github-key-2"),
            document,
        }
    }

    /// The devserver with this document and `action` for leaked keys.
    fn devserver(&self, action: &str) -> Devserver {
        Devserver::start(&[
            ("AUTH_CACHE_TTL_SECONDS", "0"),
            ("GITHUB_SECRET_SCANNING_KEYS_URL", &self.document.url),
            ("LEAKED_KEY_ACTION", action),
        ])
    }
}

/// Request headers, by name.
type Headers = Vec<(&'static str, String)>;

/// A batch of matches as GitHub posts them.
fn alerts(tokens: &[&str]) -> Vec<u8> {
    let matches: Vec<Value> = tokens
        .iter()
        .map(|token| json!({"token": token, "type": "orgkeys_api_key", "url": LEAKED_URL, "source": "content"}))
        .collect();
    serde_json::to_vec(&matches).unwrap()
}

/// GitHub's alert `body` with these (signature) headers, as it posts them.
async fn post(server: &Devserver, headers: &[(&str, String)], body: Vec<u8>) -> HttpReply {
    let app = server.app();
    let body = String::from_utf8(body).expect("alerts are JSON text");
    let mut call = app.report_leaked_keys(body);
    for (name, value) in headers {
        call = call.header(name, value);
    }
    call.await
}

async fn post_signed(server: &Devserver, github: &GitHub, body: Vec<u8>) -> HttpReply {
    post(server, &github.signer.headers(&body), body).await
}

/// Creates a key of `acme`; returns its keyId and the key.
async fn new_key(server: &Devserver) -> (String, String) {
    let created = server.create_key().await;
    (
        created.json["keyId"].as_str().unwrap().to_owned(),
        created.json["apiKey"].as_str().unwrap().to_owned(),
    )
}

/// The authorizer's answer to `key` on a route any key may call.
async fn key_status(server: &Devserver, key: &str) -> u16 {
    server.app().usage().by(&Caller::key(key)).await.status
}

async fn leaked_events(server: &Devserver) -> Vec<Value> {
    let app = server.app();
    let events = app.list_audit_events("acme");
    let reply = events.query(&[("action", "api_key.leaked")]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json["items"].as_array().unwrap().clone()
}

async fn key_view(server: &Devserver, key_id: &str) -> HttpReply {
    server.app().get_key("acme", key_id).await
}

/// The same key with its last character changed: the checksum fails.
fn typo(key: &str) -> String {
    let last = if key.ends_with('A') { 'B' } else { 'A' };
    format!("{}{last}", &key[..key.len() - 1])
}

#[tokio::test]
async fn a_signed_batch_is_labelled_and_its_keys_revoked_once_however_often_it_comes() {
    let github = GitHub::start().await;
    let server = github.devserver("disable");
    server.create_organization().await;
    let (live_id, live) = new_key(&server).await;
    let (disabled_id, disabled) = new_key(&server).await;
    let (deleted_id, deleted) = new_key(&server).await;
    let (bystander_id, bystander) = new_key(&server).await;
    let off = json!({"enabled": false});
    let patched = server.app().update_key("acme", &disabled_id, off).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let gone = server.app().delete_key("acme", &deleted_id).await;
    assert_eq!(gone.status, 204);
    assert_eq!(key_status(&server, &live).await, 200);
    let typoed = typo(&bystander);
    let tokens = [
        live.as_str(),
        disabled.as_str(),
        deleted.as_str(),
        typoed.as_str(),
        "orgk_this-is-not-a-key",
    ];

    let reply = post_signed(&server, &github, alerts(&tokens)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let labels = [
        "true_positive",
        "true_positive",
        "false_positive",
        "false_positive",
        "false_positive",
    ];
    let expected: Vec<Value> = tokens
        .iter()
        .zip(labels)
        .map(|(token, label)| json!({"token_hash": token_hash(token), "token_type": "orgkeys_api_key", "label": label}))
        .collect();
    assert_eq!(reply.json, Value::Array(expected.clone()));
    for secret in [
        &live,
        &disabled,
        &deleted,
        &typoed,
        &live_id,
        &disabled_id,
        &"acme".to_owned(),
    ] {
        assert!(
            !reply.body.contains(secret.as_str()),
            "the answer holds {secret}"
        );
    }

    assert_eq!(
        key_status(&server, &live).await,
        403,
        "the live key is refused now"
    );
    assert_eq!(
        key_status(&server, &bystander).await,
        200,
        "the typo'd key's twin is untouched"
    );
    let view = key_view(&server, &live_id).await;
    assert_eq!(view.json["enabled"], false);
    assert_eq!(view.json["leaked"]["source"], "content");
    assert_eq!(view.json["leaked"]["url"], LEAKED_URL);
    assert!(view.json["leaked"]["at"].is_string());
    assert_eq!(
        key_view(&server, &bystander_id).await.json["leaked"],
        Value::Null
    );

    let again = post_signed(&server, &github, alerts(&tokens)).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json, Value::Array(expected));
    let events = leaked_events(&server).await;
    let for_key = |id: &str| events.iter().filter(|e| e["target"]["id"] == id).count();
    assert_eq!(
        (for_key(&live_id), for_key(&disabled_id)),
        (1, 1),
        "{events:#?}"
    );
    assert_eq!(events.len(), 2, "{events:#?}");
    let event = events
        .iter()
        .find(|e| e["target"]["id"] == live_id.as_str())
        .unwrap();
    assert_eq!(
        event["actor"],
        json!({"type": "system", "id": "github-secret-scanning"})
    );
    assert_eq!(
        event["details"],
        json!({"source": "content", "url": LEAKED_URL, "action": "disable"})
    );
}

#[tokio::test]
async fn a_refused_alert_is_401_and_changes_nothing() {
    let github = GitHub::start().await;
    let server = github.devserver("disable");
    server.create_organization().await;
    let (key_id, key) = new_key(&server).await;
    let body = alerts(&[&key]);
    let signature = github.signer.sign(&body);
    let identifier = github.signer.identifier.clone();
    let mut tampered = body.clone();
    // A character of the URL: still JSON, no longer what was signed.
    let at = tampered.len() - 5;
    tampered[at] = b'X';
    let stranger_signature = github.stranger.sign(&body);
    let other_body_signature = github.signer.sign(&alerts(&["orgk_other"]));
    let refused: Vec<(&str, Headers, Vec<u8>)> = vec![
        ("tampered body", github.signer.headers(&body), tampered),
        (
            "another key's signature",
            vec![
                (IDENTIFIER_HEADER, identifier.clone()),
                (SIGNATURE_HEADER, stranger_signature),
            ],
            body.clone(),
        ),
        (
            "a signature of another body",
            vec![
                (IDENTIFIER_HEADER, identifier.clone()),
                (SIGNATURE_HEADER, other_body_signature),
            ],
            body.clone(),
        ),
        (
            "an unknown identifier",
            github.stranger.headers(&body),
            body.clone(),
        ),
        (
            "no identifier",
            vec![(SIGNATURE_HEADER, signature.clone())],
            body.clone(),
        ),
        (
            "no signature",
            vec![(IDENTIFIER_HEADER, identifier.clone())],
            body.clone(),
        ),
        (
            "a signature that is not base64",
            vec![
                (IDENTIFIER_HEADER, identifier),
                (SIGNATURE_HEADER, "%%%".into()),
            ],
            body.clone(),
        ),
    ];
    for (case, headers, body) in refused {
        let reply = post(&server, &headers, body).await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.body);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "{case}"
        );
        assert!(!reply.body.contains(&key), "{case}");
    }
    assert_eq!(key_status(&server, &key).await, 200);
    assert_eq!(key_view(&server, &key_id).await.json["leaked"], Value::Null);
    assert!(leaked_events(&server).await.is_empty());
    // The unknown identifier came within a minute of the first fetch: no
    // refetch (the minute itself: tests/tests/github_keys.rs).
    assert_eq!(github.document.fetches(), 1);
}

#[tokio::test]
async fn a_batch_over_the_limits_or_of_the_wrong_shape_is_refused() {
    let github = GitHub::start().await;
    let server = github.devserver("disable");
    server.create_organization().await;
    let (_, key) = new_key(&server).await;
    let huge_url = "u".repeat(1024 * 1024);
    let huge = serde_json::to_vec(&json!([{"token": key, "type": "t", "url": huge_url}])).unwrap();
    let many = alerts(&vec![key.as_str(); 1001]);
    let cases: [(&str, Vec<u8>, u16); 4] = [
        ("over 1 MiB", huge, 413),
        ("1,001 matches", many, 413),
        ("not JSON", b"orgk_ and then some".to_vec(), 400),
        (
            "an object",
            serde_json::to_vec(&json!({"token": key, "type": "t"})).unwrap(),
            400,
        ),
    ];
    for (case, body, status) in cases {
        let reply = post_signed(&server, &github, body).await;
        assert_eq!(reply.status, status, "{case}: {}", reply.body);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "{case}"
        );
        assert!(!reply.body.contains(&key), "{case}");
    }
    assert_eq!(key_status(&server, &key).await, 200);
    assert!(leaked_events(&server).await.is_empty());
}

#[tokio::test]
async fn a_batch_of_150_keys_each_twice_revokes_every_one_once() {
    let github = GitHub::start().await;
    let server = github.devserver("disable");
    server.create_organization().await;
    let mut keys = Vec::new();
    for _ in 0..150 {
        keys.push(new_key(&server).await.1);
    }
    let tokens: Vec<&str> = keys.iter().chain(&keys).map(String::as_str).collect();
    let reply = post_signed(&server, &github, alerts(&tokens)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let labels = reply.json.as_array().unwrap();
    assert_eq!(labels.len(), 300);
    assert!(labels.iter().all(|f| f["label"] == "true_positive"));
    for key in keys.iter().step_by(15) {
        assert_eq!(key_status(&server, key).await, 403);
    }
    let app = server.app();
    let query = [("action", "api_key.leaked"), ("limit", "100")];
    let mut targets = std::collections::BTreeSet::new();
    let mut page = app.list_audit_events("acme").query(&query).await.json;
    loop {
        for event in page["items"].as_array().unwrap() {
            assert!(targets.insert(event["target"]["id"].as_str().unwrap().to_owned()));
        }
        let Some(cursor) = page["nextCursor"].as_str() else {
            break;
        };
        let next = app.list_audit_events("acme").query(&query);
        page = next.query(&[("cursor", cursor)]).await.json;
    }
    assert_eq!(targets.len(), 150, "one event per key");
}

#[tokio::test]
async fn a_url_longer_than_an_item_holds_is_kept_shortened_and_the_key_revoked() {
    let github = GitHub::start().await;
    let server = github.devserver("disable");
    server.create_organization().await;
    let (key_id, key) = new_key(&server).await;
    let url = format!(
        "https://github.com/octo/app/blob/x/{}",
        "a".repeat(500 * 1024)
    );
    let body = serde_json::to_vec(
        &json!([{"token": key, "type": "orgkeys_api_key", "url": url, "source": "content"}]),
    )
    .unwrap();
    let reply = post_signed(&server, &github, body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json[0]["label"], "true_positive");
    assert_eq!(key_status(&server, &key).await, 403);
    let kept = key_view(&server, &key_id).await.json["leaked"]["url"].clone();
    assert_eq!(kept.as_str().map(str::len), Some(2048));
    assert!(url.starts_with(kept.as_str().unwrap()));
}

#[tokio::test]
async fn with_leaked_key_action_delete_the_key_is_deleted_and_reported_once() {
    let github = GitHub::start().await;
    let server = github.devserver("delete");
    server.create_organization().await;
    let (key_id, key) = new_key(&server).await;
    let first = post_signed(&server, &github, alerts(&[&key])).await;
    assert_eq!(first.json[0]["label"], "true_positive", "{}", first.body);
    assert_eq!(key_status(&server, &key).await, 403);
    assert_eq!(key_view(&server, &key_id).await.status, 404);
    let second = post_signed(&server, &github, alerts(&[&key])).await;
    assert_eq!(
        second.json[0]["label"], "false_positive",
        "its hash went with it"
    );
    let events = leaked_events(&server).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["details"]["action"], "delete");
}

#[tokio::test]
async fn with_leaked_key_action_report_the_key_is_flagged_and_keeps_working() {
    let github = GitHub::start().await;
    let server = github.devserver("report");
    server.create_organization().await;
    let (key_id, key) = new_key(&server).await;
    let reply = post_signed(&server, &github, alerts(&[&key])).await;
    assert_eq!(reply.json[0]["label"], "true_positive", "{}", reply.body);
    assert_eq!(key_status(&server, &key).await, 200);
    let view = key_view(&server, &key_id).await;
    assert_eq!(
        (
            view.json["enabled"].clone(),
            view.json["leaked"]["source"].clone()
        ),
        (json!(true), json!("content"))
    );
    assert_eq!(
        leaked_events(&server).await[0]["details"]["action"],
        "report"
    );
}

#[tokio::test]
async fn an_admin_revokes_a_key_from_the_key_itself() {
    let github = GitHub::start().await;
    let server = github.devserver("disable");
    server.create_organization().await;
    let (key_id, key) = new_key(&server).await;
    let app = server.app();
    let body = json!({"apiKey": key, "reason": "pasted in ticket 4711"});
    let revoked = app.revoke_leaked_key(body.clone()).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(
        revoked.json,
        json!({"organizationId": "acme", "keyId": key_id, "action": "disable"})
    );
    assert_eq!(key_status(&server, &key).await, 403);
    let again = app.revoke_leaked_key(body).await;
    assert_eq!(again.json["action"], Value::Null, "{}", again.body);
    let events = leaked_events(&server).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(
        events[0]["actor"],
        json!({"type": "admin", "id": "local-admin"})
    );
    assert_eq!(
        events[0]["details"],
        json!({"reason": "pasted in ticket 4711", "source": "admin", "url": null, "action": "disable"})
    );
    assert_eq!(
        key_view(&server, &key_id).await.json["leaked"]["source"],
        "admin"
    );

    let typoed = typo(&key);
    let bad = app
        .revoke_leaked_key(json!({"apiKey": typoed, "reason": "r"}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(!bad.body.contains(&typoed));
    let unknown = orgkeys_shared::key_format::ApiKey::generate().unwrap();
    let missing = json!({"apiKey": unknown.expose(), "reason": "r"});
    assert_eq!(app.revoke_leaked_key(missing).await.status, 404);
    let unsigned = app
        .revoke_leaked_key(json!({"apiKey": key, "reason": "r"}))
        .by(&Caller::Anonymous)
        .await;
    assert_eq!(unsigned.status, 403);
}
