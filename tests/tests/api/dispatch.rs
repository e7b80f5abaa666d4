//! Dispatch through its handler against the DynamoDB server: validation,
//! schedules, tenant isolation, idempotency, and a store cut mid-write.

use chrono::Utc;
use orgkeys_shared::Store;
use orgkeys_tests::app::{Call, Caller, TestApp};
use orgkeys_tests::fault_proxy::FaultProxy;
use orgkeys_tests::{Reply, client_for, endpoint};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const ALL: &str = "schedules:read conversations:write conversations:read";

async fn setup(app: &TestApp) {
    for org in ["acme", "globex"] {
        orgkeys_tests::seed_org(app.store(), org).await;
    }
    schedule(app, "acme", "spring", json!({"status": "active"})).await;
    schedule(app, "acme", "paused", json!({"status": "paused"})).await;
    schedule(
        app,
        "acme",
        "over",
        json!({"status": "active", "endsAt": "2020-01-01T00:00:00Z"}),
    )
    .await;
    schedule(app, "globex", "theirs", json!({"status": "active"})).await;
}

async fn schedule(app: &TestApp, org: &str, id: &str, extra: Value) {
    let mut body = json!({"name": "n", "campaign": "c", "channel": "whatsapp"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    app.put_schedule(org, id, body).expect(201).await;
}

fn contacts(n: usize) -> Value {
    Value::Array((0..n).map(|i| json!({"phone": format!("+3538612{i:05}"), "variables": {"firstName": format!("Ann{i}")}})).collect())
}

fn body(schedule: &str, n: usize) -> String {
    json!({"scheduleId": schedule, "reference": "batch-7", "contacts": contacts(n)}).to_string()
}

/// A dispatch of `body` (sent as it is) by a key of `org` with every scope.
fn request<'a>(app: &'a TestApp, org: &str, body: &str, key: Option<&str>) -> Call<'a> {
    let call = app.dispatch(body).by(&Caller::key_of(org, ALL));
    match key {
        Some(key) => call.header("Idempotency-Key", key),
        None => call,
    }
}

async fn send(app: &TestApp, org: &str, body: &str, key: Option<&str>) -> Reply {
    request(app, org, body, key).await
}

async fn get(app: &TestApp, org: &str, id: &str) -> Reply {
    app.get_conversation(id).by(&Caller::key_of(org, ALL)).await
}

/// `(dispatchId, conversationId, phone)` of every stored conversation.
async fn stored(store: &Store) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = orgkeys_tests::scan_all(store)
        .await
        .iter()
        .filter(|item| {
            item.get("itemType")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some("CONVERSATION")
        })
        .map(|item| {
            let s = |k: &str| item[k].as_s().unwrap().clone();
            (s("dispatchId"), s("conversationId"), s("phone"))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn dispatch_queues_one_conversation_per_contact() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    setup(&app).await;
    let reply = send(&app, "acme", &body("spring", 3), None).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.json["scheduleId"], "spring");
    assert_eq!(reply.json["reference"], "batch-7");
    let conversations = reply.json["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 3);
    assert!(conversations.iter().all(|c| c["status"] == "queued"));
    assert_eq!(conversations[1]["phone"], "+353861200001");
    let rows = stored(&store).await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|(d, _, _)| d == reply.json["dispatchId"].as_str().unwrap())
    );

    let id = conversations[2]["conversationId"].as_str().unwrap();
    let got = get(&app, "acme", id).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["channel"], "whatsapp");
    assert_eq!(got.json["contact"]["variables"]["firstName"], "Ann2");
    assert_eq!(got.json["dispatchId"], reply.json["dispatchId"]);
    let foreign = get(&app, "globex", id).await;
    let missing = get(&app, "acme", "conv_000000000000000000000000").await;
    assert_eq!(foreign.problem(404), missing.problem(404));
}

#[tokio::test]
async fn invalid_dispatches_list_every_violation_and_write_nothing() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    setup(&app).await;
    let bad = json!({"scheduleId": "spring", "contacts": [
        {"phone": "+353861234567"}, {"phone": "+353861234567"}, {"phone": "0861234567"},
        {"phone": "+353861234568", "variables": {"first name": "x", "ok": "y".repeat(1025)}}
    ]});
    let reply = send(&app, "acme", &bad.to_string(), None).await;
    let pointers = reply.pointers(400);
    assert_eq!(
        pointers,
        [
            "/contacts/1/phone",
            "/contacts/2/phone",
            "/contacts/3/variables/first name",
            "/contacts/3/variables/ok"
        ]
    );
    send(&app, "acme", &body("spring", 0), None)
        .await
        .problem(400);
    send(&app, "acme", &body("spring", 101), None)
        .await
        .problem(400);
    send(
        &app,
        "acme",
        r#"{"scheduleId":"spring","contacts":[{"phone":123}]}"#,
        None,
    )
    .await
    .problem(400);
    send(&app, "acme", "not json", None).await.problem(400);
    let huge = json!({"scheduleId": "spring", "contacts": [{"phone": "+353861234567", "variables": {"x": "y".repeat(300 * 1024)}}]});
    send(&app, "acme", &huge.to_string(), None)
        .await
        .problem(413);
    assert!(stored(&store).await.is_empty());
}

#[tokio::test]
async fn schedules_must_be_the_callers_and_active() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    setup(&app).await;
    let theirs = send(&app, "acme", &body("theirs", 1), None).await;
    let unknown = send(&app, "acme", &body("nope", 1), None).await;
    assert_eq!(
        theirs.problem(404),
        unknown.problem(404),
        "another's schedule looks missing"
    );
    send(&app, "acme", &body("paused", 1), None)
        .await
        .problem(409);
    send(&app, "acme", &body("over", 1), None)
        .await
        .problem(409);
    assert!(stored(&store).await.is_empty());
    // The owner can use it.
    assert_eq!(
        send(&app, "globex", &body("theirs", 1), None).await.status,
        202
    );
}

#[tokio::test]
async fn caller_context_and_scopes_are_enforced() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    setup(&app).await;
    let no_context = app.dispatch(body("spring", 1)).await;
    no_context.problem(401);
    let read_only = Caller::key_of("acme", "conversations:read");
    let reply = app.dispatch(body("spring", 1)).by(&read_only).await;
    assert!(
        reply.problem(403)["detail"]
            .as_str()
            .unwrap()
            .contains("conversations:write")
    );
    let write_only = Caller::key_of("acme", "conversations:write");
    let reply = app.get_conversation("conv_x").by(&write_only).await;
    assert!(
        reply.problem(403)["detail"]
            .as_str()
            .unwrap()
            .contains("conversations:read")
    );
    assert!(stored(&store).await.is_empty());
}

#[tokio::test]
async fn idempotency_key_replays_conflicts_and_is_scoped_to_the_organization() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    setup(&app).await;
    let first = send(&app, "acme", &body("spring", 2), Some("order-1")).await;
    assert_eq!(first.status, 202);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = send(&app, "acme", &body("spring", 2), Some("\"order-1\"")).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json, "same IDs");
    send(&app, "acme", &body("spring", 3), Some("order-1"))
        .await
        .problem(422);
    // Another organization's identical key is its own.
    schedule(&app, "globex", "spring", json!({"status": "active"})).await;
    let other = send(&app, "globex", &body("spring", 2), Some("order-1")).await;
    assert_eq!(other.status, 202);
    assert_ne!(other.json["dispatchId"], first.json["dispatchId"]);
    assert_eq!(stored(&store).await.len(), 4);
    for bad in ["", "\"half", &"k".repeat(256)] {
        send(&app, "acme", &body("spring", 1), Some(bad))
            .await
            .problem(400);
    }
    // A refused request leaves its key unused.
    send(&app, "acme", &body("paused", 1), Some("order-2"))
        .await
        .problem(409);
    assert_eq!(
        send(&app, "acme", &body("spring", 1), Some("order-2"))
            .await
            .status,
        202
    );
}

#[tokio::test]
async fn a_key_still_leased_by_an_unfinished_attempt_is_a_409() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    setup(&app).await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let flaky = app.with_store(Store::new(client_for(&proxy.endpoint).await, store.table()));
    let payload = body("spring", 30);
    // The store goes away after the request count, the schedule read and the
    // transaction of the claim and the quota, so the attempt dies holding its
    // lease (15 s by default): as if it were still running.
    proxy.cut_after(3);
    request(&flaky, "acme", &payload, Some("busy"))
        .await
        .problem(500);
    proxy.heal();
    let reply: Reply = request(&flaky, "acme", &payload, Some("busy")).await;
    assert!(
        reply.problem(409)["detail"]
            .as_str()
            .unwrap()
            .contains("in progress")
    );
    // A different body under the held key is a misuse, not a wait.
    send(&app, "acme", &body("spring", 1), Some("busy"))
        .await
        .problem(422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_with_one_key_make_one_dispatch() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    setup(&app).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let app = app.clone();
        tasks.spawn(async move { send(&app, "acme", &body("spring", 5), Some("same")).await });
    }
    let mut dispatch_ids = BTreeSet::new();
    let mut accepted = 0;
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        match reply.status {
            202 => {
                accepted += 1;
                dispatch_ids.insert(reply.json["dispatchId"].as_str().unwrap().to_owned());
            }
            409 => {}
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert!(accepted >= 1);
    assert_eq!(dispatch_ids.len(), 1, "every 202 names the same dispatch");
    let rows = stored(&store).await;
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|(d, _, _)| dispatch_ids.contains(d)));
    // Once settled, the key replays.
    let replay = send(&app, "acme", &body("spring", 5), Some("same")).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
}

#[tokio::test]
async fn a_dispatch_cut_off_mid_write_completes_exactly_once_on_retry() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    setup(&app).await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let flaky = app.with_store(Store::new(client_for(&proxy.endpoint).await, store.table()));
    let settings = dispatch::Settings::default();
    let payload = body("spring", 100);
    let started = Utc::now();

    // The request count and the schedule read, the transaction of the claim
    // and the quota, one of the four batch writes: then the store is gone.
    proxy.cut_after(4);
    let failed: Reply = request(&flaky, "acme", &payload, Some("retry-me"))
        .at(started)
        .await;
    failed.problem(500);
    let partial = stored(&store).await;
    assert!(partial.len() < 100, "the cut came before the last batch");

    proxy.heal();
    // Past the lease the dead attempt could not release.
    let after_lease = started + settings.idempotency.lease + chrono::Duration::seconds(1);
    let retried: Reply = request(&flaky, "acme", &payload, Some("retry-me"))
        .at(after_lease)
        .await;
    assert_eq!(retried.status, 202, "{}", retried.body);
    let rows = stored(&store).await;
    assert_eq!(rows.len(), 100, "none lost, none twice");
    let phones: BTreeSet<&str> = rows.iter().map(|(_, _, p)| p.as_str()).collect();
    assert_eq!(phones.len(), 100);
    let dispatch_id = retried.json["dispatchId"].as_str().unwrap();
    assert!(
        rows.iter().all(|(d, _, _)| d == dispatch_id),
        "the retry resumed the same dispatch"
    );
    assert!(
        partial.iter().all(|row| rows.contains(row)),
        "what was written first is kept as is"
    );
    let replay: Reply = request(&flaky, "acme", &payload, Some("retry-me"))
        .at(Utc::now())
        .await;
    assert_eq!(replay.json, retried.json);
}

/// The claim (with the quota, one transaction) is applied but its reply is
/// lost; the SDK's retry may then meet the claim it made itself. That attempt
/// must go on (not answer 409 "in progress" while nothing runs), dispatch
/// exactly once and count its contacts once.
#[tokio::test]
async fn a_claim_whose_reply_was_lost_proceeds_and_dispatches_once() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    setup(&app).await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let flaky = app.with_store(Store::new(client_for(&proxy.endpoint).await, store.table()));
    let payload = body("spring", 30);

    // Requests 1 and 2 count the request and read the schedule, request 3
    // writes the claim and takes the contacts: lose that reply.
    proxy.lose_reply_to(3);
    let reply: Reply = request(&flaky, "acme", &payload, Some("lost-reply")).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let rows = stored(&store).await;
    assert_eq!(rows.len(), 30, "every contact once");
    let dispatch_id = reply.json["dispatchId"].as_str().unwrap();
    assert!(rows.iter().all(|(d, _, _)| d == dispatch_id));

    let replay = send(&app, "acme", &payload, Some("lost-reply")).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json, reply.json);
    assert_eq!(stored(&store).await.len(), 30);
    let usage = app.usage().by(&Caller::key_of("acme", ALL)).await;
    assert_eq!(usage.json["contacts"]["used"], 30, "counted once");
}

/// The last transaction (the conversations, the event and the stored
/// answer) is applied but its reply is lost; the SDK retries it with the same
/// `ClientRequestToken`, which DynamoDB (and the local server, like it) does
/// not apply twice. The dispatch answers 202 once, not a conflict with its
/// own completion.
#[tokio::test]
async fn a_last_transaction_whose_reply_was_lost_is_not_a_conflict() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    setup(&app).await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let flaky = app.with_store(Store::new(client_for(&proxy.endpoint).await, store.table()));
    let payload = body("spring", 25);
    // 1 and 2: the request count and the schedule read; 3: the claim with
    // the quota; 4: the 25 conversations' transaction. Lose that reply.
    proxy.lose_reply_to(4);
    let reply: Reply = request(&flaky, "acme", &payload, Some("last-lost")).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(stored(&store).await.len(), 25);
    let replay = send(&app, "acme", &payload, Some("last-lost")).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json, reply.json);
}

/// A used key's record answers before the request's own checks, which come
/// first now that the claim rides in the quota's transaction: a replay
/// outlives the schedule paused since, and another body under the key is a
/// 422 even when it names a schedule that could not take it.
#[tokio::test]
async fn a_used_key_answers_from_its_record_whatever_the_schedule_became() {
    let app = TestApp::spawn().await;
    setup(&app).await;
    let first = send(&app, "acme", &body("spring", 2), Some("k-1")).await;
    assert_eq!(first.status, 202, "{}", first.body);
    let paused = json!({"name": "n", "campaign": "c", "channel": "whatsapp", "status": "paused"});
    app.put_schedule("acme", "spring", paused).expect(200).await;
    let replay = send(&app, "acme", &body("spring", 2), Some("k-1")).await;
    assert_eq!(replay.status, 202, "{}", replay.body);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json, first.json);
    send(&app, "acme", &body("spring", 3), Some("k-1"))
        .await
        .problem(422);
    send(&app, "acme", &body("nowhere", 1), Some("k-1"))
        .await
        .problem(422);
    // Without a record the schedule's refusal stands.
    send(&app, "acme", &body("spring", 1), Some("k-2"))
        .await
        .problem(409);
}

/// Every free-text field of a dispatch refuses control characters and
/// bidirectional overrides; variable values may hold tab and line feed.
#[tokio::test]
async fn dispatch_text_refuses_control_and_bidi_characters_but_values_keep_newlines() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    setup(&app).await;
    for bad in ["a\u{0}b", "\u{202e}evil\r\nX-Injected: 1"] {
        let body = json!({"scheduleId": "spring", "reference": bad, "contacts": [
            {"phone": "+353861234567", "name": bad, "customerUid": bad, "variables": {"note": bad}}
        ]});
        let reply = send(&app, "acme", &body.to_string(), None).await;
        assert_eq!(
            reply.pointers(400),
            [
                "/reference",
                "/contacts/0/name",
                "/contacts/0/customerUid",
                "/contacts/0/variables/note"
            ],
            "{bad:?}"
        );
    }
    assert!(stored(&store).await.is_empty());
    let body = json!({"scheduleId": "spring", "contacts": [
        {"phone": "+353861234567", "variables": {"note": "line one\n\tline two"}}
    ]});
    let reply = send(&app, "acme", &body.to_string(), None).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
}

/// A wrong type is told in the API's terms with its pointer.
#[tokio::test]
async fn a_wrong_typed_contacts_field_is_told_without_rust_type_names() {
    let app = TestApp::spawn().await;
    setup(&app).await;
    let body = json!({"scheduleId": "spring", "contacts": {"phone": "+353861234567"}});
    let reply = send(&app, "acme", &body.to_string(), None).await;
    reply.problem(400);
    assert_eq!(reply.json["errors"][0]["pointer"], "/contacts");
    assert_eq!(reply.json["errors"][0]["detail"], "must be an array");
    assert!(
        !reply.body.contains("sequence") && !reply.body.contains("Vec"),
        "{}",
        reply.body
    );
    // A contact given as an array of its fields is not a contact.
    let body = json!({"scheduleId": "spring", "contacts": [["+353861234567"]]});
    let reply = send(&app, "acme", &body.to_string(), None).await;
    assert_eq!(reply.pointers(400), ["/contacts/0"]);
    assert_eq!(reply.json["errors"][0]["detail"], "must be an object");
}
