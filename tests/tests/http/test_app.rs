//! TestApp's two backends: the same typed calls, written once, answer alike
//! over the handlers (in-process, the authorizer deciding the key) and over
//! HTTP against the devserver binary (the gateway deciding it).

use orgkeys_api::body::{CreateKeyInput, OrganizationInput, ScheduleInput};
use orgkeys_tests::app::{Caller, TestApp};
use orgkeys_tests::local_gateway::Devserver;
use serde_json::{Value, json};

/// The operator sets an organization up (with the API's own body types) and
/// its key dispatches: each step's status and the field that says it did
/// what it should.
async fn journey(app: &TestApp) -> Vec<(u16, Value)> {
    let mut seen = Vec::new();
    let org = OrganizationInput {
        name: Some("Acme".into()),
        ..Default::default()
    };
    let org = app.put_organization("acme", org).await;
    seen.push((org.status, org.json["organizationId"].clone()));
    let key = CreateKeyInput {
        name: Some("ci".into()),
        ..Default::default()
    };
    let key = app.create_key("acme", key).await;
    seen.push((key.status, key.json["scopes"].clone()));
    let by_key = Caller::key(key.json["apiKey"].as_str().unwrap());
    let schedule = ScheduleInput {
        name: Some("S".into()),
        campaign: Some("C".into()),
        channel: Some("sms".into()),
        status: Some("active".into()),
        ..Default::default()
    };
    let put = app.put_schedule("acme", "spring", schedule).await;
    seen.push((put.status, put.json["status"].clone()));
    let listed = app
        .list_schedules()
        .by(&by_key)
        .query(&[("status", "active")])
        .await;
    seen.push((listed.status, listed.json["items"][0]["scheduleId"].clone()));
    let body = json!({"scheduleId": "spring", "contacts": [{"phone": "+353861234567"}]});
    for _ in 0..2 {
        let sent = app.dispatch(body.clone()).by(&by_key);
        let sent = sent.header("Idempotency-Key", "journey-1").await;
        let replayed = sent.header("idempotent-replayed").map(str::to_owned);
        seen.push((sent.status, json!(replayed)));
    }
    let usage = app.usage().by(&by_key).await;
    seen.push((usage.status, usage.json["contacts"]["used"].clone()));
    let missing = app.get_key("acme", "key_nope").await;
    seen.push((missing.status, missing.json["status"].clone()));
    seen
}

#[tokio::test]
async fn the_same_calls_answer_alike_over_the_handlers_and_over_http() {
    let handlers = journey(&TestApp::spawn().await).await;
    let server = Devserver::start(&[("AUTH_CACHE_TTL_SECONDS", "0")]);
    let over_http = journey(&server.app()).await;
    assert_eq!(
        handlers,
        [
            (201, json!("acme")),
            (
                201,
                json!([
                    "schedules:read",
                    "conversations:write",
                    "conversations:read"
                ])
            ),
            (201, json!("active")),
            (200, json!("spring")),
            (202, Value::Null),
            (202, json!("true")),
            (200, json!(1)),
            (404, json!(404)),
        ]
    );
    assert_eq!(over_http, handlers);
}
