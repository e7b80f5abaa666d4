//! Schedules through their handler: admin sync, public lookup, pagination and
//! tenant isolation, against the DynamoDB server.

use orgkeys_tests::app::{Caller, TestApp};
use orgkeys_tests::{Reply, seed_org};
use serde_json::{Value, json};

const READ: &str = "schedules:read";

async fn put(app: &TestApp, org: &str, id: &str, body: Value) -> Reply {
    app.put_schedule(org, id, body).await
}

fn schedule(channel: &str, status: &str) -> Value {
    json!({"name": "Spring renewals", "campaign": "Renewals 2026", "channel": channel, "status": status})
}

async fn list(app: &TestApp, org: &str, query: &[(&str, &str)]) -> Reply {
    let reader = Caller::key_of(org, READ);
    app.list_schedules().by(&reader).query(query).await
}

async fn get(app: &TestApp, org: &str, id: &str) -> Reply {
    app.get_schedule(id).by(&Caller::key_of(org, READ)).await
}

#[tokio::test]
async fn admin_upserts_and_deletes_schedules() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    seed_org(&store, "acme").await;
    let mut body = schedule("sms", "active");
    body["startsAt"] = json!("2026-12-01T09:00:00Z");
    body["endsAt"] = json!("2027-01-01T00:00:00+01:00");
    let created = put(&app, "acme", "spring", body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json["scheduleId"], "spring");
    assert_eq!(created.json["endsAt"], "2026-12-31T23:00:00.000Z");
    let updated = put(&app, "acme", "spring", schedule("sms", "paused")).await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json["status"], "paused");
    assert_eq!(
        updated.json["startsAt"],
        Value::Null,
        "an upsert replaces the schedule"
    );
    assert_eq!(updated.json["createdAt"], created.json["createdAt"]);
    assert_eq!(get(&app, "acme", "spring").await.json["status"], "paused");

    put(&app, "ghost", "spring", schedule("sms", "active"))
        .await
        .problem(404);
    let deleted = app.delete_schedule("acme", "spring").await;
    assert_eq!(deleted.status, 204);
    get(&app, "acme", "spring").await.problem(404);
    app.delete_schedule("acme", "spring").await.problem(404);
}

#[tokio::test]
async fn bad_schedules_are_refused_with_every_field_named() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    seed_org(&store, "acme").await;
    let reply = put(&app, "acme", "s1", json!({"channel": "fax", "status": "running", "startsAt": "2027-01-02T00:00:00Z", "endsAt": "2027-01-01T00:00:00Z"})).await;
    let pointers = reply.pointers(400);
    assert_eq!(
        pointers,
        ["/name", "/campaign", "/channel", "/status", "/endsAt"]
    );
    put(&app, "acme", "bad id", schedule("sms", "active"))
        .await
        .problem(400);
    put(
        &app,
        "acme",
        "s1",
        json!({"name": "x", "campaign": "y", "channel": "sms", "status": "active", "extra": 1}),
    )
    .await
    .problem(400);
    // Without IAM context the admin routes refuse.
    let unsigned = app.put_schedule("acme", "s1", schedule("sms", "active"));
    unsigned.by(&Caller::Anonymous).await.problem(401);
    assert_eq!(list(&app, "acme", &[]).await.json["items"], json!([]));
}

#[tokio::test]
async fn public_routes_need_the_authorizer_context_and_the_scope() {
    let app = TestApp::spawn().await;
    app.list_schedules().await.problem(401);
    app.get_schedule("x").await.problem(401);
    let wrong_scope = Caller::key_of("acme", "conversations:write conversations:read");
    let reply = app.list_schedules().by(&wrong_scope).await;
    assert!(
        reply.problem(403)["detail"]
            .as_str()
            .unwrap()
            .contains("schedules:read")
    );
}

#[tokio::test]
async fn organizations_see_only_their_own_schedules() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    seed_org(&store, "acme").await;
    seed_org(&store, "globex").await;
    put(&app, "acme", "a1", schedule("sms", "active")).await;
    put(&app, "globex", "g1", schedule("sms", "active")).await;
    let acme: Vec<Value> = list(&app, "acme", &[]).await.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scheduleId"].clone())
        .collect();
    assert_eq!(acme, [json!("a1")]);
    let foreign = get(&app, "acme", "g1").await;
    let missing = get(&app, "acme", "nope").await;
    assert_eq!(
        foreign.problem(404),
        missing.problem(404),
        "foreign looks exactly like missing"
    );
    assert_eq!(foreign.body, missing.body);
}

#[tokio::test]
async fn pages_filters_and_cursors() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    seed_org(&store, "acme").await;
    seed_org(&store, "globex").await;
    for i in 0..7 {
        let channel = if i % 2 == 0 { "sms" } else { "email" };
        put(&app, "acme", &format!("s{i}"), schedule(channel, "active")).await;
    }
    put(&app, "acme", "s9", schedule("sms", "ended")).await;
    for i in 0..3 {
        put(&app, "globex", &format!("s{i}"), schedule("sms", "active")).await;
    }

    // All of acme's in pages of 3, following the cursor.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let mut query = vec![("limit", "3")];
        if let Some(c) = &cursor {
            query.push(("cursor", c));
        }
        let page = list(&app, "acme", &query).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let items = page.json["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(
            items
                .iter()
                .map(|s| s["scheduleId"].as_str().unwrap().to_owned()),
        );
        cursor = page.json["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s9"]);

    // Filters combine, and still page.
    let sms = list(
        &app,
        "acme",
        &[("channel", "sms"), ("status", "active"), ("limit", "2")],
    )
    .await;
    let ids: Vec<&str> = sms.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scheduleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["s0", "s2"]);
    let next = sms.json["nextCursor"].as_str().unwrap().to_owned();
    let rest = list(
        &app,
        "acme",
        &[
            ("channel", "sms"),
            ("status", "active"),
            ("limit", "2"),
            ("cursor", &next),
        ],
    )
    .await;
    let ids: Vec<&str> = rest.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scheduleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["s4", "s6"]);

    // A cursor is refused by another organization, for another query, or altered.
    let mut problems = Vec::new();
    problems.push(
        list(
            &app,
            "globex",
            &[("channel", "sms"), ("status", "active"), ("cursor", &next)],
        )
        .await,
    );
    problems.push(list(&app, "acme", &[("cursor", &next)]).await);
    let mut altered = next.clone().into_bytes();
    altered[4] = if altered[4] == b'A' { b'B' } else { b'A' };
    problems.push(
        list(
            &app,
            "acme",
            &[
                ("channel", "sms"),
                ("status", "active"),
                ("cursor", &String::from_utf8(altered).unwrap()),
            ],
        )
        .await,
    );
    problems.push(list(&app, "acme", &[("cursor", "garbage")]).await);
    for reply in &problems {
        assert_eq!(reply.problem(400)["errors"][0]["parameter"], "cursor");
        assert!(!reply.body.contains("s1") && !reply.body.contains("scheduleId"));
    }
    for (name, value) in [
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "ten"),
        ("status", "live"),
        ("channel", "fax"),
    ] {
        assert_eq!(
            list(&app, "acme", &[(name, value)]).await.problem(400)["errors"][0]["parameter"],
            name
        );
    }
    assert_eq!(
        list(&app, "acme", &[]).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        8,
        "default limit 50"
    );
}

/// Names and campaigns refuse control characters and bidirectional overrides.
#[tokio::test]
async fn schedule_text_with_control_or_bidi_characters_is_refused() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    orgkeys_tests::seed_org(&store, "acme").await;
    for bad in ["a\u{0}b", "\u{202e}evil\r\nX-Injected: 1"] {
        let mut body = schedule("sms", "active");
        body["name"] = json!(bad);
        body["campaign"] = json!(bad);
        let reply = put(&app, "acme", "spring", body).await;
        assert_eq!(reply.pointers(400), ["/name", "/campaign"], "{bad:?}");
    }
    let table = orgkeys_tests::dump_table(&store).await;
    assert_eq!(
        table.lines().count(),
        3,
        "only the organization, its directory entry and its event:\n{table}"
    );
}
