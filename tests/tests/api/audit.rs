//! Audit events: one per successful change, in the change's own transaction,
//! with the right actor and target; none for failures and replays; paged
//! newest first, filtered by action, isolated per organization; never a secret
//! or a phone number.

use orgkeys_shared::Store;
use orgkeys_tests::app::{Call, Caller, TestApp};
use orgkeys_tests::fault_proxy::FaultProxy;
use orgkeys_tests::{ADMIN_ARN, Reply, client_for, dump_table, endpoint};
use serde_json::{Value, json};

async fn events(app: &TestApp, org: &str, query: &[(&str, &str)]) -> Reply {
    app.list_audit_events(org).query(query).await
}

/// Every event of `org`, newest first, following cursors in pages of 2.
async fn all_events(app: &TestApp, org: &str) -> Vec<Value> {
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "2")];
        if let Some(c) = &cursor {
            query.push(("cursor", c));
        }
        let page = events(app, org, &query).await;
        assert_eq!(page.status, 200, "{}", page.body);
        found.extend(page.json["items"].as_array().unwrap().iter().cloned());
        match page.json["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return found,
        }
    }
}

fn put_org<'a>(app: &'a TestApp, org: &str, name: &str) -> Call<'a> {
    app.put_organization(org, json!({"name": name}))
}

fn put_schedule<'a>(app: &'a TestApp, org: &str, id: &str, status: &str) -> Call<'a> {
    let body =
        json!({"name": "Spring", "campaign": "Renewals", "channel": "sms", "status": status});
    app.put_schedule(org, id, body)
}

fn dispatch<'a>(app: &'a TestApp, org: &str, contacts: usize, key: Option<&str>) -> Call<'a> {
    let contacts: Vec<Value> = (0..contacts)
        .map(|i| json!({"phone": format!("+3538612{i:05}"), "variables": {"firstName": "Ann"}}))
        .collect();
    let body = json!({"scheduleId": "spring", "contacts": contacts});
    let call = app
        .dispatch(body)
        .by(&Caller::key_of(org, "conversations:write"));
    match key {
        Some(key) => call.header("Idempotency-Key", key),
        None => call,
    }
}

/// (action, actor type, actor id, target type, target id), oldest first.
fn summary(events: &[Value]) -> Vec<(String, String, String, String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    events
        .iter()
        .rev()
        .map(|e| {
            (
                text(&e["action"]),
                text(&e["actor"]["type"]),
                text(&e["actor"]["id"]),
                text(&e["target"]["type"]),
                text(&e["target"]["id"]),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_change_records_one_event_with_its_actor_and_target() {
    let app = TestApp::spawn().await;
    assert_eq!(put_org(&app, "acme", "Acme").await.status, 201);
    assert_eq!(put_org(&app, "acme", "Acme Ltd").await.status, 200);
    let key = app.create_key("acme", "{}").await;
    let key_id = key.json["keyId"].as_str().unwrap().to_owned();
    assert_eq!(
        key.json["createdBy"],
        json!({"type": "admin", "id": ADMIN_ARN})
    );
    let rolled = app.roll_key("acme", &key_id, ()).await;
    let successor = rolled.json["keyId"].as_str().unwrap().to_owned();
    let deleted = app.delete_key("acme", &successor).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        put_schedule(&app, "acme", "spring", "paused").await.status,
        201
    );
    assert_eq!(
        put_schedule(&app, "acme", "spring", "active").await.status,
        200
    );
    assert_eq!(put_schedule(&app, "acme", "old", "ended").await.status, 201);
    let gone = app.delete_schedule("acme", "old").await;
    assert_eq!(gone.status, 204);
    let queued: Reply = dispatch(&app, "acme", 3, None).await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    let dispatch_id = queued.json["dispatchId"].as_str().unwrap().to_owned();

    let found = all_events(&app, "acme").await;
    let admin_row = |action: &str, kind: &str, id: &str| {
        (
            action.into(),
            "admin".into(),
            ADMIN_ARN.into(),
            kind.into(),
            id.into(),
        )
    };
    assert_eq!(
        summary(&found),
        vec![
            admin_row("organization.created", "organization", "acme"),
            admin_row("organization.updated", "organization", "acme"),
            admin_row("api_key.created", "api-key", &key_id),
            admin_row("api_key.rolled", "api-key", &key_id),
            admin_row("api_key.deleted", "api-key", &successor),
            admin_row("schedule.created", "schedule", "spring"),
            admin_row("schedule.updated", "schedule", "spring"),
            admin_row("schedule.created", "schedule", "old"),
            admin_row("schedule.deleted", "schedule", "old"),
            (
                "dispatch.created".into(),
                "api-key".into(),
                "key_test".into(),
                "dispatch".into(),
                dispatch_id
            ),
        ]
    );
    let by_action = |action: &str| {
        found
            .iter()
            .find(|e| e["action"] == action)
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_action("api_key.rolled")["details"]["successorKeyId"],
        json!(successor)
    );
    assert_eq!(
        by_action("dispatch.created")["details"],
        json!({"scheduleId": "spring", "contacts": 3})
    );
    let created = by_action("organization.created");
    assert_eq!(created["organizationId"], "acme");
    assert_eq!(created["sourceIp"], "192.0.2.1");
    assert_eq!(created["userAgent"], "orgkeys-tests");
    assert!(created["requestId"].is_string() && created["eventId"].is_string());
    // Newest first.
    let times: Vec<&str> = found
        .iter()
        .map(|e| e["occurredAt"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
}

#[tokio::test]
async fn failures_and_replays_record_nothing() {
    let app = TestApp::spawn().await;
    put_org(&app, "acme", "Acme").await;
    put_schedule(&app, "acme", "spring", "active").await;
    let first: Reply = dispatch(&app, "acme", 2, Some("k1")).await;
    assert_eq!(first.status, 202);
    let before = all_events(&app, "acme").await.len();

    let replay: Reply = dispatch(&app, "acme", 2, Some("k1")).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let bad_key = app.create_key("acme", r#"{"scopes": []}"#);
    bad_key.await.problem(400);
    app.create_key("nobody", "{}").await.problem(404);
    let missing = app.delete_key("acme", "key_nope");
    missing.await.problem(404);
    let bad_status = put_schedule(&app, "acme", "spring", "sometimes");
    bad_status.await.problem(400);
    let on_nothing: Reply = dispatch(&app, "globex", 1, None).await;
    on_nothing.problem(404);

    assert_eq!(all_events(&app, "acme").await.len(), before);
    assert_eq!(all_events(&app, "nobody").await.len(), 0);
}

/// One rule for every write: a request that changes nothing answers as a
/// change would (200, the resource as stored) and records nothing.
#[tokio::test]
async fn writes_that_change_nothing_record_nothing() {
    let app = TestApp::spawn().await;
    assert_eq!(put_org(&app, "acme", "Acme").await.status, 201);
    let spring = put_schedule(&app, "acme", "spring", "active").await;
    assert_eq!(spring.status, 201, "{}", spring.body);
    let key = app.create_key("acme", "{}").await;
    let key_id = key.json["keyId"].as_str().unwrap().to_owned();
    let patch_key = |body: &str| app.update_key("acme", &key_id, body.to_owned());
    let patch_org = |body: &str| app.update_organization("acme", body.to_owned());
    let mut recorded = Vec::new();
    let mut count = all_events(&app, "acme").await.len();
    let before = count;
    let mut check = async |what: String, reply: Reply| {
        assert_eq!(reply.status, 200, "{what}: {}", reply.body);
        let now = all_events(&app, "acme").await;
        if now.len() != count {
            recorded.push(format!("{what} recorded {}", now[0]["action"]));
            count = now.len();
        }
        reply
    };

    check("PUT org".into(), put_org(&app, "acme", "Acme").await).await;
    for body in ["{}", r#"{"status": "active"}"#, r#"{"name": "Acme"}"#] {
        let reply = patch_org(body).await;
        check(format!("PATCH org {body}"), reply).await;
    }
    let again = put_schedule(&app, "acme", "spring", "active").await;
    let again = check("PUT schedule".into(), again).await;
    let scopes = key.json["scopes"].to_string();
    for body in [
        "{}".to_owned(),
        r#"{"enabled": true}"#.to_owned(),
        r#"{"name": null}"#.to_owned(),
        format!(r#"{{"scopes": {scopes}, "enabled": true}}"#),
    ] {
        let reply = patch_key(&body).await;
        let reply = check(format!("PATCH key {body}"), reply).await;
        assert_eq!(reply.json["enabled"], true);
    }
    assert_eq!(recorded, Vec::<String>::new(), "no-ops recorded events");
    assert_eq!(again.json, spring.json, "as stored, updatedAt unchanged");

    // A patch that changes one field of two records that field only.
    let body = format!(r#"{{"scopes": {scopes}, "enabled": false}}"#);
    assert_eq!(patch_key(&body).await.status, 200);
    let found = all_events(&app, "acme").await;
    assert_eq!(found.len(), before + 1);
    assert_eq!(found[0]["action"], "api_key.updated");
    assert_eq!(found[0]["details"], json!({"enabled": false}));
}

#[tokio::test]
async fn action_filter_cursors_and_isolation() {
    let app = TestApp::spawn().await;
    for org in ["acme", "globex"] {
        put_org(&app, org, "Org").await;
    }
    for _ in 0..3 {
        app.create_key("acme", "{}").await;
    }
    app.create_key("globex", "{}").await;

    let created = events(
        &app,
        "acme",
        &[("action", "api_key.created"), ("limit", "2")],
    )
    .await;
    assert_eq!(created.json["items"].as_array().unwrap().len(), 2);
    assert!(
        created.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "api_key.created")
    );
    let cursor = created.json["nextCursor"].as_str().unwrap().to_owned();
    let rest = events(
        &app,
        "acme",
        &[("action", "api_key.created"), ("cursor", &cursor)],
    )
    .await;
    assert_eq!(rest.json["items"].as_array().unwrap().len(), 1);
    assert!(rest.json["nextCursor"].is_null());

    // A cursor is bound to its filter and its organization.
    events(&app, "acme", &[("cursor", &cursor)])
        .await
        .problem(400);
    events(
        &app,
        "globex",
        &[("action", "api_key.created"), ("cursor", &cursor)],
    )
    .await
    .problem(400);
    assert_eq!(
        events(&app, "acme", &[("action", "api_key.stolen")])
            .await
            .pointers(400)
            .len(),
        0,
        "parameter errors name the parameter, not a pointer"
    );
    events(&app, "acme", &[("limit", "0")]).await.problem(400);

    let globex = all_events(&app, "globex").await;
    assert_eq!(globex.len(), 2);
    assert!(globex.iter().all(|e| e["organizationId"] == "globex"));
    assert_eq!(all_events(&app, "acme").await.len(), 4);
}

#[tokio::test]
async fn no_event_holds_a_key_a_hash_a_token_or_a_phone_number() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    put_org(&app, "acme", "Acme").await;
    put_schedule(&app, "acme", "spring", "active").await;
    let key = app.create_key("acme", "{}").await;
    let key_id = key.json["keyId"].as_str().unwrap().to_owned();
    let plaintext = key.json["apiKey"].as_str().unwrap().to_owned();
    app.roll_key("acme", &key_id, ()).await;
    let queued: Reply = dispatch(&app, "acme", 5, Some("k")).await;
    assert_eq!(queued.status, 202);

    let audit_items: Vec<String> = dump_table(&store)
        .await
        .lines()
        .filter(|line| line.contains("AUDIT_EVENT"))
        .map(str::to_owned)
        .collect();
    assert_eq!(audit_items.len(), 5, "{audit_items:#?}");
    for item in &audit_items {
        assert!(
            !item.contains("orgk_") && !item.contains(&plaintext),
            "{item}"
        );
        assert!(!item.contains("+3538612"), "a phone number in {item}");
        assert!(!item.contains("firstName"), "a variable in {item}");
        let hex_run = item
            .split(|c: char| !c.is_ascii_hexdigit())
            .any(|run| run.len() >= 64);
        assert!(!hex_run, "a hash in {item}");
    }
}

/// A change cut off by a store failure leaves neither the change nor its event.
#[tokio::test]
async fn an_interrupted_change_leaves_neither_change_nor_event() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    put_org(&app, "acme", "Acme").await;
    let before = dump_table(&store).await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let flaky = app.with_store(Store::new(client_for(&proxy.endpoint).await, store.table()));

    // Each change's last request is its transaction: let the reads before it through.
    proxy.cut_after(1); // key creation: read the organization, then the transaction
    flaky.create_key("acme", "{}").await.problem(500);
    proxy.cut_after(2); // schedule upsert: read the organization and the schedule, then the transaction
    put_schedule(&flaky, "acme", "spring", "active")
        .await
        .problem(500);
    proxy.cut_after(2); // organization update: read it, query its keys, then the transaction
    put_org(&flaky, "acme", "Renamed").await.problem(500);
    proxy.heal();

    assert_eq!(
        dump_table(&store).await.lines().count(),
        before.lines().count()
    );
    assert_eq!(
        all_events(&app, "acme").await.len(),
        1,
        "only organization.created"
    );
}

/// A dispatch's event is written in one transaction with its last
/// conversations, after all the others: a dispatch cut before that
/// transaction has no event; its retry completes it with exactly one.
#[tokio::test]
async fn a_dispatch_has_its_event_only_once_all_its_conversations_are_written() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    put_org(&app, "acme", "Acme").await;
    put_schedule(&app, "acme", "spring", "active").await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let flaky = app.with_store(Store::new(client_for(&proxy.endpoint).await, store.table()));
    let started = chrono::Utc::now();

    // The request count and the schedule read, the transaction of the claim
    // and the quota, three batch writes of 25: then the transaction of the
    // last 25 and the event is cut.
    proxy.cut_after(6);
    let settings = dispatch::Settings::default();
    let failed: Reply = dispatch(&flaky, "acme", 100, Some("k")).at(started).await;
    failed.problem(500);
    let dispatched = |events: &[Value]| {
        events
            .iter()
            .filter(|e| e["action"] == "dispatch.created")
            .count()
    };
    assert_eq!(
        dispatched(&all_events(&app, "acme").await),
        0,
        "no event for a partial dispatch"
    );
    let written = dump_table(&store).await.matches("CONVERSATION").count();
    assert_eq!(written, 75, "the batches before the transaction");

    proxy.heal();
    let later = started + settings.idempotency.lease + chrono::Duration::seconds(1);
    let retried: Reply = dispatch(&flaky, "acme", 100, Some("k")).at(later).await;
    assert_eq!(retried.status, 202, "{}", retried.body);
    let events = all_events(&app, "acme").await;
    assert_eq!(dispatched(&events), 1);
    assert_eq!(
        dump_table(&store).await.matches("CONVERSATION").count(),
        100
    );
}

/// An organization delete records its events in the order it makes the
/// changes, each at its own time: the suspension first, then each key and
/// each schedule, the organization's deletion last. Read from the table,
/// where they stay for the platform operator.
#[tokio::test]
async fn a_deletes_events_have_distinct_timestamps_in_the_order_of_the_changes() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    assert_eq!(put_org(&app, "acme", "Acme").await.status, 201);
    for _ in 0..3 {
        let created = app.create_key("acme", "{}").await;
        assert_eq!(created.status, 201, "{}", created.body);
    }
    for id in ["s1", "s2"] {
        let put = put_schedule(&app, "acme", id, "active").await;
        assert_eq!(put.status, 201, "{}", put.body);
    }
    let deleted = app.delete_organization("acme").await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);

    let text = |item: &orgkeys_shared::dynamo::attributes::Item, name: &str| {
        item.get(name)
            .and_then(|value| value.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let of_the_delete = [
        "organization.suspended",
        "api_key.deleted",
        "schedule.deleted",
        "organization.deleted",
    ];
    let mut events: Vec<(String, String)> = orgkeys_tests::scan_all(&store)
        .await
        .iter()
        .filter(|item| text(item, "PK") == "ORG#acme" && text(item, "SK").starts_with("AUDIT#"))
        .map(|item| (text(item, "SK"), text(item, "action")))
        .filter(|(_, action)| of_the_delete.contains(&action.as_str()))
        .collect();
    events.sort();
    let actions: Vec<&str> = events.iter().map(|(_, action)| action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "organization.suspended",
            "api_key.deleted",
            "api_key.deleted",
            "api_key.deleted",
            "schedule.deleted",
            "schedule.deleted",
            "organization.deleted",
        ]
    );
    let times: std::collections::BTreeSet<&str> = events
        .iter()
        .map(|(sk, _)| sk.split('#').nth(1).unwrap())
        .collect();
    assert_eq!(times.len(), events.len(), "shared timestamps: {events:?}");
}
