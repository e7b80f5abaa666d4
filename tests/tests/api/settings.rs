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
use orgkeys_shared::routes::{Operation, route};
use orgkeys_tests::{Reply, admin, fresh_store, http_event, key_authorizer, scan_all};
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
    let keygen = keygen::Keygen::new(
        store.clone(),
        keygen::Settings {
            audit_retention: AuditRetention(Duration::days(7)),
            ..keygen::Settings::default()
        },
    );
    let put_org = admin(
        route(Operation::PutOrganization).key,
        &[("orgId", "acme")],
        Some(r#"{"name": "Acme"}"#),
    );
    let reply = Reply::from(keygen.handle(put_org).await.unwrap());
    assert_eq!(reply.status, 201, "{}", reply.body);
    let schedules = schedules::Settings {
        audit_retention: AuditRetention(Duration::days(3)),
        ..schedules::Settings::default()
    };
    let put_schedule = admin(
        route(Operation::PutSchedule).key,
        &[("orgId", "acme"), ("scheduleId", "spring")],
        Some(r#"{"name": "n", "campaign": "c", "channel": "sms", "status": "active"}"#),
    );
    let reply = schedules::handle_at(&store, &schedules, put_schedule, Utc::now()).await;
    let reply = Reply::from(reply.unwrap());
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(kept_days(&store, "itemType", "AUDIT_EVENT").await, [7, 3]);
}

#[tokio::test]
async fn a_dispatch_keeps_its_conversations_and_its_event_for_its_settings() {
    let store = fresh_store().await;
    orgkeys_tests::seed_org(&store, "acme").await;
    orgkeys_tests::seed_schedule(&store, "acme", "spring").await;
    let settings = dispatch::Settings {
        audit_retention: AuditRetention(Duration::days(2)),
        conversation_retention: ConversationRetention(Duration::days(5)),
        ..dispatch::Settings::default()
    };
    let body = json!({"scheduleId": "spring", "contacts": [
        {"phone": "+353861234567"}, {"phone": "+353861234568"}
    ]});
    let request = http_event(
        route(Operation::DispatchOutbound).key,
        &[],
        Some(&body.to_string()),
        key_authorizer("acme", "conversations:write"),
    );
    let reply = dispatch::handle_at(&store, settings, request, Utc::now()).await;
    let reply = Reply::from(reply.unwrap());
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
    let schedules = schedules::Settings {
        default_limits: defaults,
        ..schedules::Settings::default()
    };
    let now = Utc::now();
    let list = || {
        http_event(
            route(Operation::ListSchedules).key,
            &[],
            None,
            key_authorizer("acme", "schedules:read"),
        )
    };
    let first = Reply::from(
        schedules::handle_at(&store, &schedules, list(), now)
            .await
            .unwrap(),
    );
    let second = Reply::from(
        schedules::handle_at(&store, &schedules, list(), now)
            .await
            .unwrap(),
    );
    assert_eq!((first.status, second.status), (200, 429));
    assert_eq!(
        first.header("ratelimit-policy"),
        Some("\"requests\";q=1;w=60")
    );

    let dispatch = dispatch::Settings {
        default_limits: defaults,
        ..dispatch::Settings::default()
    };
    let usage = http_event(
        route(Operation::GetUsage).key,
        &[],
        None,
        key_authorizer("acme", "schedules:read"),
    );
    let later = now + Duration::minutes(2);
    let reply = Reply::from(
        dispatch::handle_at(&store, dispatch, usage, later)
            .await
            .unwrap(),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let usage: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        (&usage["requests"]["limit"], &usage["contacts"]["limit"]),
        (&json!(1), &json!(2))
    );

    let keygen = keygen::Keygen::new(
        store.clone(),
        keygen::Settings {
            default_limits: defaults,
            ..keygen::Settings::default()
        },
    );
    let get = admin(
        route(Operation::GetOrganization).key,
        &[("orgId", "acme")],
        None,
    );
    let reply = Reply::from(keygen.handle(get).await.unwrap());
    let org: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        org["limits"],
        json!({"requestsPerMinute": 1, "contactsPerDay": 2})
    );
}
