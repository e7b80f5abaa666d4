//! The functions' settings reach what they govern (the store carries none):
//! each function's audit retention sets the TTL of the events it records, the
//! dispatch function's conversation retention that of its conversations, and
//! the default limits are what a key and an organization without limits are
//! held to and shown.

use chrono::{Duration, Utc};
use orgkeys_shared::Store;
use orgkeys_shared::audit::Retention as AuditRetention;
use orgkeys_shared::conversations::Retention as ConversationRetention;
use orgkeys_shared::dynamo::attributes::{optional_number, optional_string, required_time};
use orgkeys_shared::limits::Defaults;
use orgkeys_tests::app::{Caller, HandlerSettings, TestApp};
use orgkeys_tests::{fresh_store, scan_all};
use serde_json::{Value, json};

const DAY: i64 = 86_400;

/// How long each item with `attribute` = `value` is kept: its TTL less its
/// `createdAt`, in days, in the order of creation.
async fn kept_days(store: &Store, attribute: &str, value: &str) -> Vec<i64> {
    let mut kept: Vec<(i64, i64)> = scan_all(store)
        .await
        .iter()
        .filter(|item| optional_string(item, attribute).unwrap().as_deref() == Some(value))
        .map(|item| {
            let created = required_time(item, "createdAt").unwrap().timestamp_millis();
            let ttl = optional_number(item, "ttl").unwrap().expect("a TTL");
            (created, ttl - created.div_euclid(1000))
        })
        .collect();
    kept.sort();
    kept.into_iter().map(|(_, seconds)| seconds / DAY).collect()
}

#[tokio::test]
async fn keygen_and_schedules_keep_the_events_they_record_for_their_audit_retention() {
    let store = fresh_store().await;
    let mut settings = HandlerSettings::default();
    settings.keygen.audit_retention = AuditRetention::days(7);
    settings.schedules.audit_retention = AuditRetention::days(3);
    let app = TestApp::with_settings(store.clone(), settings);
    let reply = app.put_organization("acme", r#"{"name": "Acme"}"#).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let schedule = r#"{"name": "n", "campaign": "c", "channel": "sms", "status": "active"}"#;
    let reply = app.put_schedule("acme", "spring", schedule).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(kept_days(&store, "itemType", "AUDIT_EVENT").await, [7, 3]);
}

#[tokio::test]
async fn a_dispatch_keeps_its_conversations_and_its_event_for_its_settings() {
    let store = fresh_store().await;
    orgkeys_tests::seed_org(&store, "acme").await;
    orgkeys_tests::seed_schedule(&store, "acme", "spring").await;
    let mut settings = HandlerSettings::default();
    settings.dispatch.audit_retention = AuditRetention::days(2);
    settings.dispatch.conversation_retention = ConversationRetention::days(5);
    let app = TestApp::with_settings(store.clone(), settings);
    let body = json!({"scheduleId": "spring", "contacts": [
        {"phone": "+353861234567"}, {"phone": "+353861234568"}
    ]});
    let writer = Caller::key_of("acme", "conversations:write");
    let reply = app.dispatch(body).by(&writer).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(kept_days(&store, "itemType", "CONVERSATION").await, [5, 5]);
    assert_eq!(kept_days(&store, "action", "dispatch.created").await, [2]);
    assert_eq!(
        kept_days(&store, "action", "schedule.created").await,
        [400],
        "the harness's own write keeps the default"
    );
}

#[tokio::test]
async fn keys_and_organizations_without_limits_are_held_to_the_functions_defaults() {
    let store = fresh_store().await;
    orgkeys_tests::seed_org(&store, "acme").await;
    let defaults = Defaults {
        requests_per_minute: 1,
        contacts_per_day: 2,
    };
    let mut settings = HandlerSettings::default();
    settings.schedules.default_limits = defaults;
    settings.dispatch.default_limits = defaults;
    settings.keygen.default_limits = defaults;
    let app = TestApp::with_settings(store.clone(), settings);
    let now = Utc::now();
    let reader = Caller::key_of("acme", "schedules:read");
    let first = app.list_schedules().by(&reader).at(now).await;
    let second = app.list_schedules().by(&reader).at(now).await;
    assert_eq!((first.status, second.status), (200, 429));
    assert_eq!(
        first.header("ratelimit-policy"),
        Some("\"requests\";q=1;w=60")
    );

    let later = now + Duration::minutes(2);
    let reply = app.usage().by(&reader).at(later).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let usage: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        (&usage["requests"]["limit"], &usage["contacts"]["limit"]),
        (&json!(1), &json!(2))
    );

    let reply = app.get_organization("acme").await;
    let org: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        org["limits"],
        json!({"requestsPerMinute": 1, "contactsPerDay": 2})
    );
}
