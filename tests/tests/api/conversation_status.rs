//! The downstream sender's status reports through the dispatch handler:
//! which moves are allowed, a repeat that changes nothing, 409 and 404, the
//! event written in the move's own transaction, and concurrent reports.

use orgkeys_shared::Store;
use orgkeys_tests::app::{Call, Caller, TestApp};
use orgkeys_tests::fault_proxy::FaultProxy;
use orgkeys_tests::{ADMIN_ARN, client_for, endpoint, scan_all};
use serde_json::{Value, json};

/// `acme` with an active schedule, and `n` conversations dispatched on it;
/// returns their IDs.
async fn dispatched(app: &TestApp, n: usize) -> Vec<String> {
    for org in ["acme", "globex"] {
        orgkeys_tests::seed_org(app.store(), org).await;
    }
    let schedule = json!({"name": "n", "campaign": "c", "channel": "sms", "status": "active"});
    app.put_schedule("acme", "spring", schedule)
        .expect(201)
        .await;
    let contacts: Vec<Value> = (0..n)
        .map(|i| json!({"phone": format!("+3538612{i:05}"), "variables": {"firstName": "Ann"}}))
        .collect();
    let reply = app
        .dispatch(json!({"scheduleId": "spring", "contacts": contacts}))
        .by(&Caller::key_of("acme", "conversations:write"))
        .expect(202)
        .await;
    reply.json["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversationId"].as_str().unwrap().to_owned())
        .collect()
}

fn report<'a>(app: &'a TestApp, id: &str, body: Value) -> Call<'a> {
    app.report_conversation_status("acme", id, body)
}

fn status(status: &str) -> Value {
    json!({"status": status})
}

async fn read(app: &TestApp, id: &str) -> Value {
    app.get_conversation(id)
        .by(&Caller::key_of("acme", "conversations:read"))
        .expect(200)
        .await
        .json
}

/// The `conversation.*` events of `acme`, oldest first.
async fn conversation_events(app: &TestApp) -> Vec<Value> {
    let reply = app
        .list_audit_events("acme")
        .query(&[("limit", "100")])
        .expect(200)
        .await;
    let mut events: Vec<Value> = reply.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("conversation."))
        .cloned()
        .collect();
    events.reverse();
    events
}

/// Each reachable status, the path to it from `queued`.
fn path_to(status: &str) -> &'static [&'static str] {
    match status {
        "queued" => &[],
        "sent" => &["sent"],
        "delivered" => &["sent", "delivered"],
        "failed" => &["failed"],
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn every_move_is_allowed_or_refused_as_the_transitions_say() {
    let app = TestApp::spawn().await;
    let from_statuses = ["queued", "sent", "delivered", "failed"];
    let to_statuses = ["sent", "delivered", "failed"];
    let ids = dispatched(&app, from_statuses.len() * to_statuses.len()).await;
    let allowed = [
        ("queued", "sent"),
        ("queued", "failed"),
        ("sent", "delivered"),
        ("sent", "failed"),
    ];
    let mut ids = ids.iter();
    for from in from_statuses {
        for to in to_statuses {
            let id = ids.next().unwrap();
            for step in path_to(from) {
                report(&app, id, status(step)).expect(200).await;
            }
            let before = conversation_events(&app).await.len();
            let reply = report(&app, id, status(to)).await;
            let now = read(&app, id).await;
            if from == to {
                assert_eq!(reply.status, 200, "{from} → {to}: {}", reply.body);
                assert_eq!(conversation_events(&app).await.len(), before);
            } else if allowed.contains(&(from, to)) {
                assert_eq!(reply.status, 200, "{from} → {to}: {}", reply.body);
                assert_eq!(reply.json["status"], to);
                assert_eq!(now["status"], to);
                assert_eq!(conversation_events(&app).await.len(), before + 1);
            } else {
                let problem = reply.problem(409);
                assert_eq!(problem["type"], "urn:orgkeys:problem:invalid-transition");
                assert_eq!(reply.pointers(409), ["/status"], "{from} → {to}");
                assert_eq!(now["status"], from, "a refused move changes nothing");
                assert_eq!(conversation_events(&app).await.len(), before);
            }
        }
    }
}

#[tokio::test]
async fn the_history_grows_oldest_first_and_a_repeat_changes_nothing() {
    let app = TestApp::spawn().await;
    let ids = dispatched(&app, 1).await;
    let id = &ids[0];
    let queued = read(&app, id).await;
    assert_eq!(queued["status"], "queued");
    assert_eq!(
        queued["statusHistory"],
        json!([{"status": "queued", "at": queued["createdAt"]}])
    );
    assert!(queued.get("error").is_none());

    let sent = json!({"status": "sent", "providerMessageId": "SM123"});
    report(&app, id, sent.clone()).expect(200).await;
    let once = read(&app, id).await;
    let again = report(&app, id, sent).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.json, once,
        "the repeat answers the conversation as it is"
    );
    assert_eq!(read(&app, id).await, once);
    assert_eq!(once["providerMessageId"], "SM123");

    let failed =
        json!({"status": "failed", "error": {"code": "30007", "message": "carrier filtered"}});
    report(&app, id, failed).expect(200).await;
    let last = read(&app, id).await;
    let history: Vec<&str> = last["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["queued", "sent", "failed"]);
    let times: Vec<&str> = last["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(
        last["error"],
        json!({"code": "30007", "message": "carrier filtered"})
    );
    assert_eq!(
        last["providerMessageId"], "SM123",
        "kept from the sent report"
    );

    let events = conversation_events(&app).await;
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["conversation.sent", "conversation.failed"]);
    for event in &events {
        assert_eq!(event["actor"]["type"], "admin");
        assert_eq!(event["actor"]["id"], ADMIN_ARN);
        assert_eq!(event["target"], json!({"type": "conversation", "id": id}));
        assert_eq!(event["details"]["scheduleId"], "spring");
        let text = event.to_string();
        for private in ["+353861200000", "Ann", "carrier filtered"] {
            assert!(!text.contains(private), "{private} in {text}");
        }
    }
    assert_eq!(events[1]["details"]["errorCode"], "30007");
}

#[tokio::test]
async fn unknown_organizations_conversations_and_bad_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let ids = dispatched(&app, 1).await;
    let id = &ids[0];
    let missing = report(&app, "conv_000000000000000000000000", status("sent")).await;
    assert_eq!(
        missing.problem(404)["detail"],
        "no conversation with this ID in this organization"
    );
    let no_org = app
        .report_conversation_status("nobody", id, status("sent"))
        .await;
    assert_eq!(
        no_org.problem(404)["detail"],
        "no organization with this ID"
    );
    let elsewhere = app
        .report_conversation_status("globex", id, status("sent"))
        .await;
    assert_eq!(elsewhere.problem(404), missing.problem(404));

    let bad = report(
        &app,
        id,
        json!({"status": "sent", "providerMessageId": " ", "error": {"code": "x"}}),
    )
    .await;
    assert_eq!(
        bad.pointers(400),
        ["/providerMessageId", "/error/message", "/error"]
    );
    let unknown_field = report(&app, id, json!({"status": "sent", "phone": "+1"})).await;
    assert_eq!(unknown_field.pointers(400), ["/phone"]);
    let bad_ids = app
        .report_conversation_status("a b", "c d", status("sent"))
        .await;
    assert_eq!(bad_ids.problem(400)["errors"].as_array().unwrap().len(), 2);
    let by_key = app
        .report_conversation_status("acme", id, status("sent"))
        .by(&Caller::key_of("acme", "conversations:write"))
        .await;
    assert_ne!(by_key.status, 200, "{}", by_key.body);
    assert_eq!(read(&app, id).await["status"], "queued");
    assert!(conversation_events(&app).await.is_empty());
}

/// The move and its event are one transaction: cut it, and neither is there.
#[tokio::test]
async fn a_move_cut_off_leaves_neither_the_status_nor_the_event() {
    let app = TestApp::spawn().await;
    let ids = dispatched(&app, 1).await;
    let store = app.store().clone();
    let before = scan_all(&store).await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let flaky = app.with_store(Store::new(client_for(&proxy.endpoint).await, store.table()));
    proxy.cut_after(1); // the conversation is read; the transaction is cut
    flaky
        .report_conversation_status("acme", &ids[0], status("sent"))
        .await
        .problem(500);
    proxy.heal();
    let after = scan_all(&store).await;
    assert_eq!(after.len(), before.len());
    assert!(
        after.iter().all(|item| before.contains(item)),
        "nothing changed"
    );
    report(&app, &ids[0], status("sent")).expect(200).await;
    assert_eq!(conversation_events(&app).await.len(), 1);
}

/// Two different moves at once from `sent`: exactly one wins, the other is
/// refused, and only the winner's event exists. The same move twice at once:
/// both answer 200, one event.
#[tokio::test]
async fn of_two_reports_at_once_exactly_one_moves_the_conversation() {
    let app = TestApp::spawn().await;
    let ids = dispatched(&app, 6).await;
    for id in &ids[..3] {
        report(&app, id, status("sent")).expect(200).await;
    }
    let mut winners = Vec::new();
    for id in &ids[..3] {
        let (delivered, failed) = tokio::join!(
            report(&app, id, status("delivered")),
            report(&app, id, status("failed")),
        );
        let mut statuses = [delivered.status, failed.status];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", delivered.body, failed.body);
        let winner = if delivered.status == 200 {
            "delivered"
        } else {
            "failed"
        };
        assert_eq!(read(&app, id).await["status"], winner);
        winners.push(format!("conversation.{winner}"));
    }
    for id in &ids[3..] {
        let (a, b) = tokio::join!(
            report(&app, id, status("sent")),
            report(&app, id, status("sent")),
        );
        assert_eq!((a.status, b.status), (200, 200), "{} / {}", a.body, b.body);
    }
    let events = conversation_events(&app).await;
    let count = |action: &str| events.iter().filter(|e| e["action"] == action).count();
    assert_eq!(
        count("conversation.sent"),
        6,
        "three before, one per double report"
    );
    assert_eq!(
        count("conversation.delivered") + count("conversation.failed"),
        3
    );
    for winner in winners {
        assert!(count(&winner) >= 1);
    }
}
