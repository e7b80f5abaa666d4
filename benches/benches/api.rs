//! Public API handlers against the bare DynamoDB calls they make (run with
//! `scripts/bench`): `GET /v1/schedules` (50 items) against the bare `Query`,
//! and a dispatch of 100 contacts against writing the same 100 items with
//! `BatchWriteItem` (4 calls of 25, in parallel as the store does). Each pair
//! is measured in alternation, so a drifting server weighs on both alike.

use orgkeys_api::OrgId;
use orgkeys_benches::{Plan, TARGETS_HEADER, measure, measure_pair, ratio, table};
use orgkeys_shared::Store;
use orgkeys_shared::conversations::{
    Contact, Conversation, ConversationStatus, StatusChange, conversation_batches,
};
use orgkeys_shared::dynamo::attributes::{PK, SK, s};
use orgkeys_shared::routes::{Operation, route};
use orgkeys_shared::schedules::{Channel, SK_PREFIX as SCHEDULE_SK_PREFIX};
use orgkeys_shared::tenancy;
use orgkeys_tests::{
    http_event_json, key_authorizer, seed_org, seed_schedule, to_request, with_header, with_query,
};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};

const SCOPES: &str = "schedules:read conversations:write conversations:read";

/// The context of a bench key: limits high enough that the runs are counted
/// (one write each, as in production) but never refused.
fn bench_key(org: &str) -> Value {
    let mut context = key_authorizer(org, SCOPES);
    context["lambda"]["requestsPerMinute"] = json!("100000");
    context["lambda"]["contactsPerDay"] = json!("10000000");
    context
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // A failing handler says why on stderr.
    tracing_subscriber::fmt()
        .with_env_filter("error")
        .with_writer(std::io::stderr)
        .init();
    let plan = Plan::from_args();
    let plan = Plan {
        batches: plan.batches.min(150),
        warmup: plan.warmup.min(10),
    };
    // Dispatches write into a table of their own, and the listing runs first:
    // moto slows down as it fills with thousands of conversations.
    let store = orgkeys_tests::fresh_store().await;
    let listing_store = orgkeys_tests::fresh_store().await;
    seed(&store, "bulk", 1).await;
    seed(&listing_store, "acme", 60).await;

    let list_event = with_query(
        http_event_json(
            route(Operation::ListSchedules).key,
            &[],
            None,
            bench_key("acme"),
        ),
        &[("limit", "50")],
    );
    let (list, bare_query) = measure_pair(
        plan,
        (
            "GET /v1/schedules, 50 items (handler, request counted)",
            || async {
                let response = schedules::handle(&listing_store, to_request(list_event.clone()))
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
            },
        ),
        ("bare Query of the same 50 items", || async {
            let out = listing_store
                .client()
                .query()
                .table_name(listing_store.table())
                .consistent_read(true)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(
                    ":pk",
                    s(tenancy::partition(&OrgId::parse("acme").unwrap())),
                )
                .expression_attribute_values(":prefix", s(SCHEDULE_SK_PREFIX))
                .limit(50)
                .send()
                .await
                .unwrap();
            assert_eq!(out.items().len(), 50);
        }),
    )
    .await;

    // Before the dispatches, on a table of its own: moto copies its state on
    // every transaction, and slows down as the dispatches fill it.
    let admin_store = orgkeys_tests::fresh_store().await;
    seed_org(&admin_store, "bulk").await;
    let admin_event = http_event_json(
        route(Operation::CreateApiKey).key,
        &[("orgId", "bulk")],
        Some("{}"),
        orgkeys_tests::iam_authorizer(),
    );
    let (create_key, bare_create) = measure_pair(
        plan,
        (
            "create an API key (handler; its transaction holds the audit event)",
            || async {
                let response = keygen::handle(&admin_store, to_request(admin_event.clone()))
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
            },
        ),
        (
            "bare TransactWriteItems of the same key, without an event",
            || bare_key_creation(&admin_store, "bulk"),
        ),
    )
    .await;

    let contacts: Vec<Value> = (0..100)
        .map(|i| json!({"phone": format!("+3538612{i:05}"), "variables": {"firstName": "Ann"}}))
        .collect();
    let body =
        json!({"scheduleId": "s000", "reference": "bench", "contacts": contacts}).to_string();
    let event = http_event_json(
        route(Operation::DispatchOutbound).key,
        &[],
        Some(&body),
        bench_key("bulk"),
    );
    let conversations = sample_conversations();
    let (dispatch, bare_batch) = measure_pair(
        plan,
        (
            "dispatch 100 contacts (handler, request counted, contacts taken, no Idempotency-Key)",
            || async {
                let response = dispatch::handle(&store, to_request(event.clone()))
                    .await
                    .unwrap();
                assert_eq!(response.status(), 202);
            },
        ),
        (
            "bare BatchWriteItem of the same 100 items (4 × 25, parallel)",
            || bare_batch_write(&store, &conversations),
        ),
    )
    .await;
    let counter = AtomicUsize::new(0);
    let keyed = measure(
        plan,
        "dispatch 100 contacts (handler, request counted, Idempotency-Key, key claimed with the contacts)",
        1,
        || async {
            let key = format!("bench-{}", counter.fetch_add(1, Ordering::Relaxed));
            let request = to_request(with_header(event.clone(), "Idempotency-Key", &key));
            let response = dispatch::handle(&store, request).await.unwrap();
            assert_eq!(response.status(), 202, "{:?}", response.body());
        },
    )
    .await;

    let mut report = table(
        "Public API",
        &[
            &list,
            &bare_query,
            &dispatch,
            &bare_batch,
            &keyed,
            &create_key,
            &bare_create,
        ],
    );
    report.push('\n');
    report.push_str(TARGETS_HEADER);
    report.push_str(&ratio(
        "list schedules with the request limiter / bare Query",
        &list,
        &bare_query,
        1.15,
    ));
    // 1.3 before limits; the request counter and the quota update are two
    // more round trips (docs/performance.md), held to the keyed goal.
    report.push_str(&ratio(
        "dispatch 100, request counted and contacts taken / bare BatchWriteItem",
        &dispatch,
        &bare_batch,
        1.5,
    ));
    report.push_str(&ratio(
        "dispatch 100 with Idempotency-Key, quota and audit / bare BatchWriteItem",
        &keyed,
        &bare_batch,
        1.5,
    ));
    report.push_str(&ratio(
        "key creation with its audit event / without it",
        &create_key,
        &bare_create,
        1.2,
    ));
    println!(
        "{}{report}",
        if plan.is_smoke() {
            "smoke run (figures meaningless; use scripts/bench):\n"
        } else {
            ""
        }
    );
}

async fn bare_batch_write(store: &Store, conversations: &[Conversation]) {
    let mut calls = tokio::task::JoinSet::new();
    let retention = orgkeys_shared::conversations::Retention::default();
    for requests in conversation_batches(conversations, retention).unwrap() {
        let (client, table) = (store.client().clone(), store.table().to_owned());
        calls.spawn(async move {
            let out = client
                .batch_write_item()
                .request_items(table, requests)
                .send()
                .await
                .unwrap();
            assert!(out.unprocessed_items.is_none_or(|left| left.is_empty()));
        });
    }
    while let Some(done) = calls.join_next().await {
        done.unwrap();
    }
}

/// A key's creation as the store makes it (the organization read for its
/// terms; then, in one transaction, the organization's generation bumped and
/// both key items put), but without the audit event.
async fn bare_key_creation(store: &Store, org: &str) {
    use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
    use orgkeys_shared::key_format::ApiKey;
    use orgkeys_shared::key_hash::KeyHash;
    use orgkeys_shared::keys::new_key_items;
    let key = ApiKey::generate().unwrap();
    let key_id = orgkeys_shared::ids::random_id("key_").unwrap();
    let record = orgkeys_tests::key_record(org, &key_id, &key);
    let org_item = store
        .client()
        .get_item()
        .table_name(store.table())
        .key(PK, s(tenancy::partition(&OrgId::parse(org).unwrap())))
        .key(SK, s("ORG"))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let bump = Update::builder()
        .table_name(store.table())
        .key(PK, s(tenancy::partition(&OrgId::parse(org).unwrap())))
        .key(SK, s("ORG"))
        .update_expression("ADD #generation :one")
        .condition_expression("#revision = :revision")
        .expression_attribute_names("#generation", "generation")
        .expression_attribute_names("#revision", "revision")
        .expression_attribute_values(
            ":one",
            aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
        )
        .expression_attribute_values(":revision", org_item["revision"].clone())
        .build()
        .unwrap();
    let mut writes = vec![TransactWriteItem::builder().update(bump).build()];
    for item in new_key_items(&record, &KeyHash::of(&key)) {
        let put = Put::builder()
            .table_name(store.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .unwrap();
        writes.push(TransactWriteItem::builder().put(put).build());
    }
    store
        .client()
        .transact_write_items()
        .set_transact_items(Some(writes))
        .send()
        .await
        .unwrap();
}

async fn seed(store: &Store, org: &str, schedules: usize) {
    seed_org(store, org).await;
    for i in 0..schedules {
        seed_schedule(store, org, &format!("s{i:03}")).await;
    }
}

fn sample_conversations() -> Vec<Conversation> {
    let now = chrono::Utc::now();
    (0..100)
        .map(|i| Conversation {
            organization_id: OrgId::parse("bulk").unwrap(),
            conversation_id: format!("conv_bare{i:03}"),
            dispatch_id: "dsp_bare".into(),
            schedule_id: "s000".into(),
            channel: Channel::Sms,
            contact: Contact {
                phone: format!("+3538612{i:05}"),
                name: None,
                customer_uid: None,
                variables: [("firstName".to_owned(), "Ann".to_owned())].into(),
            },
            reference: Some("bench".into()),
            status: ConversationStatus::Queued,
            status_history: vec![StatusChange {
                status: ConversationStatus::Queued,
                at: now,
            }],
            provider_message_id: None,
            error: None,
            created_at: now,
        })
        .collect()
}
