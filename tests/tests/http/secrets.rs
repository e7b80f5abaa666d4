//! Secrets never leak: the whole quickstart (plus a roll and a delete) runs
//! against the devserver binary with debug logs, and no plaintext API key
//! appears in any log line or response body except the one 201 that creates
//! it, no admin token anywhere, and neither in the table.

use orgkeys_tests::app::Caller;
use orgkeys_tests::local_gateway::{ADMIN, Devserver};
use serde_json::json;

#[tokio::test]
async fn keys_and_admin_tokens_appear_only_where_they_must() {
    let server = Devserver::start(&[("RUST_LOG", "debug"), ("AUTH_CACHE_TTL_SECONDS", "0")]);
    let token = ADMIN.trim_start_matches("Bearer ");
    let mut bodies = Vec::new();
    let mut record = |label: &str, reply: &orgkeys_tests::http_client::HttpReply| {
        bodies.push((label.to_owned(), reply.body.clone()));
    };

    let org = server.create_organization().await;
    record("org", &org);
    let created = server.create_key().await;
    let key = created.json["apiKey"].as_str().unwrap().to_owned();
    let key_id = created.json["keyId"].as_str().unwrap().to_owned();
    let by_key = Caller::key(&key);
    record("schedule", &server.create_schedule("s1").await);
    record("list", &server.app().list_schedules().by(&by_key).await);
    let dispatch = json!({"scheduleId": "s1", "contacts": [{"phone": "+353861234567"}]});
    let app = server.app();
    let sent = app.dispatch(dispatch).by(&by_key);
    let sent = sent.header("idempotency-key", "leak-test").await;
    assert_eq!(sent.status, 202);
    record("dispatch", &sent);
    record(
        "bad dispatch",
        &server.app().dispatch(json!({"x": 1})).by(&by_key).await,
    );
    record("keys", &server.app().list_keys("acme").await);
    let rolled = server
        .app()
        .roll_key("acme", &key_id, json!({"gracePeriodSeconds": 0}))
        .await;
    assert_eq!(rolled.status, 201);
    let successor = rolled.json["apiKey"].as_str().unwrap().to_owned();
    record(
        "old key after roll",
        &server.app().list_schedules().by(&by_key).await,
    );
    let successor_id = rolled.json["keyId"].as_str().unwrap();
    record(
        "delete",
        &server.app().delete_key("acme", successor_id).await,
    );
    record(
        "deleted key",
        &server
            .app()
            .list_schedules()
            .by(&Caller::key(&successor))
            .await,
    );
    record(
        "wrong admin",
        &server
            .call(
                "GET",
                "/v1/admin/organizations/acme",
                Some("Bearer not-the-token"),
                None,
            )
            .await,
    );

    // The secret parts: a key's body after its prefix, and the token.
    let secrets = [&key[5..], &successor[5..], token];
    let log = server.output();
    assert!(log.lines().count() > 20, "debug logging is on: {log}");
    for secret in secrets {
        assert!(!log.contains(secret), "a secret reached the log");
        for (label, body) in &bodies {
            assert!(
                !body.contains(secret),
                "a secret reached the {label} response"
            );
        }
    }

    let client = orgkeys_tests::client_for(&orgkeys_tests::endpoint()).await;
    let store = orgkeys_shared::Store::new(client, &server.table);
    let table = orgkeys_tests::dump_table(&store).await;
    assert!(table.contains("CONV#"), "the scan sees the data");
    for secret in secrets {
        assert!(!table.contains(secret), "a secret reached the table");
    }
}
