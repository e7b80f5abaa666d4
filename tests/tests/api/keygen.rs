//! The admin API (keygen) through its handler, against the DynamoDB server.

use chrono::{DateTime, Duration, Utc};
use orgkeys_shared::Store;
use orgkeys_shared::key_format::ApiKey;
use orgkeys_shared::key_hash::KeyHash;
use orgkeys_tests::app::{Caller, TestApp};
use orgkeys_tests::{admin, dump_table};
use serde_json::{Value, json};

async fn create_org(app: &TestApp, org: &str) {
    app.put_organization(org, r#"{"name":"Acme"}"#)
        .expect(201)
        .await;
}

async fn create_key(app: &TestApp, org: &str, body: &str) -> Value {
    app.create_key(org, body).expect(201).await.json
}

async fn list(app: &TestApp, org: &str) -> Vec<Value> {
    let reply = app.list_keys(org).expect(200).await;
    reply.json["items"].as_array().expect("items").clone()
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("timestamp"))
        .unwrap()
        .with_timezone(&Utc)
}

async fn stored_key(store: &Store, plaintext: &str) -> Option<orgkeys_shared::keys::KeyRecord> {
    let key = ApiKey::parse(plaintext).expect("well-formed key");
    store
        .find_key(&KeyHash::of(&key))
        .await
        .expect("store reachable")
}

#[tokio::test]
async fn organization_is_created_then_updated_and_keeps_created_at() {
    let app = TestApp::spawn().await;
    let first = app.put_organization("acme", r#"{"name":"Acme"}"#).await;
    assert_eq!(first.status, 201);
    assert_eq!(first.json["organizationId"], "acme");
    let second = app.put_organization("acme", r#"{"name":"Acme Ltd"}"#).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.json["name"], "Acme Ltd");
    assert_eq!(second.json["createdAt"], first.json["createdAt"]);
    let fetched = app.get_organization("acme").await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json["name"], "Acme Ltd");
    app.get_organization("nobody").await.problem(404);
}

#[tokio::test]
async fn parent_must_exist_and_must_not_make_a_cycle() {
    let app = TestApp::spawn().await;
    create_org(&app, "root").await;
    let missing = app
        .put_organization("child", r#"{"name":"C","parentId":"ghost"}"#)
        .await;
    assert_eq!(missing.problem(400)["errors"][0]["pointer"], "/parentId");
    let child = app
        .put_organization("child", r#"{"name":"C","parentId":"root"}"#)
        .await;
    assert_eq!(child.status, 201);
    assert_eq!(child.json["parentId"], "root");
    let cycle = app
        .put_organization("root", r#"{"name":"R","parentId":"child"}"#)
        .await;
    assert_eq!(cycle.problem(400)["errors"][0]["pointer"], "/parentId");
    let own = app
        .put_organization("root", r#"{"name":"R","parentId":"root"}"#)
        .await;
    own.problem(400);
}

#[tokio::test]
async fn generated_key_is_shown_once_listed_by_hint_and_never_stored() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    create_org(&app, "acme").await;
    let reply = app.create_key("acme", r#"{"name":"ci"}"#).await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let created = reply.json;
    let plaintext = created["apiKey"].as_str().unwrap().to_owned();
    ApiKey::parse(&plaintext).expect("a well-formed key");
    assert_eq!(created["organizationId"], "acme");
    assert_eq!(
        created["hint"],
        format!("orgk_...{}", &plaintext[plaintext.len() - 4..])
    );
    assert_eq!(
        created["scopes"],
        json!([
            "schedules:read",
            "conversations:write",
            "conversations:read"
        ])
    );
    assert_eq!(created["expiresAt"], Value::Null);

    let listing = app.list_keys("acme").await;
    assert_eq!(listing.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(listing.json["items"][0]["hint"], created["hint"]);
    assert_eq!(listing.json["items"][0]["keyId"], created["keyId"]);
    assert!(!listing.body.contains(&plaintext));
    let hash = KeyHash::of(&ApiKey::parse(&plaintext).unwrap()).to_hex();
    assert!(!listing.body.contains(&hash), "listing leaks the hash");
    assert!(!listing.body.contains(&plaintext[5..]));

    let table = dump_table(&store).await;
    assert!(table.contains(&hash), "the key is stored by its hash");
    assert!(
        !table.contains(&plaintext[5..]),
        "the table holds the plaintext key"
    );

    let record = stored_key(&store, &plaintext).await.expect("found by hash");
    assert_eq!(record.organization_id.as_str(), "acme");
    assert_eq!(record.created_by.id, orgkeys_tests::ADMIN_ARN);
}

#[tokio::test]
async fn each_organization_lists_only_its_own_keys() {
    let app = TestApp::spawn().await;
    create_org(&app, "acme").await;
    create_org(&app, "globex").await;
    let a1 = create_key(&app, "acme", "{}").await;
    let a2 = create_key(&app, "acme", r#"{"scopes":["schedules:read"]}"#).await;
    let g1 = create_key(&app, "globex", "").await;
    let ids =
        |items: Vec<Value>| -> Vec<Value> { items.iter().map(|i| i["keyId"].clone()).collect() };
    let acme = ids(list(&app, "acme").await);
    assert_eq!(acme.len(), 2);
    assert!(acme.contains(&a1["keyId"]) && acme.contains(&a2["keyId"]));
    assert_eq!(ids(list(&app, "globex").await), vec![g1["keyId"].clone()]);
    app.list_keys("initech").await.problem(404);
}

#[tokio::test]
async fn deleted_key_leaves_the_listing_and_the_lookup() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    create_org(&app, "acme").await;
    create_org(&app, "globex").await;
    let created = create_key(&app, "acme", "{}").await;
    let key_id = created["keyId"].as_str().unwrap();
    let plaintext = created["apiKey"].as_str().unwrap();
    assert!(stored_key(&store, plaintext).await.is_some());

    // Another organization cannot delete it.
    app.delete_key("globex", key_id).await.problem(404);
    assert!(stored_key(&store, plaintext).await.is_some());

    let deleted = app.delete_key("acme", key_id).await;
    assert_eq!(deleted.status, 204);
    assert!(list(&app, "acme").await.is_empty());
    assert!(stored_key(&store, plaintext).await.is_none());
    app.delete_key("acme", key_id).await.problem(404);
}

#[tokio::test]
async fn roll_with_grace_keeps_the_old_key_until_the_grace_ends() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    create_org(&app, "acme").await;
    let old = create_key(
        &app,
        "acme",
        r#"{"name":"prod","scopes":["conversations:write"]}"#,
    )
    .await;
    let key_id = old["keyId"].as_str().unwrap();
    let before = Utc::now();
    let reply = app
        .roll_key("acme", key_id, r#"{"gracePeriodSeconds":600}"#)
        .await;
    let after = Utc::now();
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let successor = reply.json;
    assert_ne!(successor["keyId"], old["keyId"]);
    assert_ne!(successor["apiKey"], old["apiKey"]);
    assert_eq!(successor["name"], "prod");
    assert_eq!(successor["scopes"], json!(["conversations:write"]));
    assert_eq!(successor["expiresAt"], Value::Null);

    let old_record = stored_key(&store, old["apiKey"].as_str().unwrap())
        .await
        .unwrap();
    let expires = old_record.expires_at.expect("old key now expires");
    let grace = Duration::seconds(600);
    assert!(expires >= before + grace - Duration::milliseconds(1) && expires <= after + grace);
    assert!(!old_record.is_expired(after));
    assert!(old_record.is_expired(after + grace));
    assert!(
        stored_key(&store, successor["apiKey"].as_str().unwrap())
            .await
            .is_some()
    );

    let listing = list(&app, "acme").await;
    assert_eq!(listing.len(), 2);
    let listed_old = listing.iter().find(|k| k["keyId"] == old["keyId"]).unwrap();
    assert_eq!(time(&listed_old["expiresAt"]), expires);
    assert_eq!(listed_old["rolledTo"], successor["keyId"]);

    // A key rolls once.
    app.roll_key("acme", key_id, ()).await.problem(409);
}

#[tokio::test]
async fn roll_with_zero_grace_expires_the_old_key_at_once_and_keeps_an_earlier_expiry() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    create_org(&app, "acme").await;
    let old = create_key(&app, "acme", "{}").await;
    let reply = app
        .roll_key(
            "acme",
            old["keyId"].as_str().unwrap(),
            r#"{"gracePeriodSeconds":0}"#,
        )
        .await;
    assert_eq!(reply.status, 201);
    let record = stored_key(&store, old["apiKey"].as_str().unwrap())
        .await
        .unwrap();
    assert!(record.is_expired(Utc::now()));

    // A key expiring in a minute, rolled with an hour of grace, still expires in a minute.
    let soon = (Utc::now() + Duration::seconds(60)).to_rfc3339();
    let short = create_key(&app, "acme", &json!({"expiresAt": soon}).to_string()).await;
    let rolled = app
        .roll_key("acme", short["keyId"].as_str().unwrap(), ())
        .await;
    assert_eq!(rolled.status, 201);
    assert_eq!(
        time(&rolled.json["expiresAt"]),
        time(&short["expiresAt"]),
        "successor keeps the expiry"
    );
    let record = stored_key(&store, short["apiKey"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(record.expires_at, Some(time(&short["expiresAt"])));
}

#[tokio::test]
async fn bad_input_gets_a_problem_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    create_org(&app, "acme").await;
    let past = (Utc::now() - Duration::seconds(5)).to_rfc3339();
    let cases: Vec<(orgkeys_tests::app::Call<'_>, u16, Option<&str>)> = vec![
        (
            app.put_organization("bad id!", r#"{"name":"x"}"#),
            400,
            None,
        ),
        (
            app.put_organization(&"a".repeat(65), r#"{"name":"x"}"#),
            400,
            None,
        ),
        (app.put_organization("new", "{}"), 400, Some("/name")),
        (
            app.put_organization("new", r#"{"name":"   "}"#),
            400,
            Some("/name"),
        ),
        (
            app.put_organization("new", r#"{"name":7}"#),
            400,
            Some("/name"),
        ),
        (app.put_organization("new", "{not json"), 400, None),
        (
            app.put_organization("new", r#"{"name":"x","colour":"red"}"#),
            400,
            None,
        ),
        (
            app.create_key("acme", r#"{"scopes":["admin:all"]}"#),
            400,
            Some("/scopes/0"),
        ),
        (
            app.create_key("acme", r#"{"scopes":[]}"#),
            400,
            Some("/scopes"),
        ),
        (
            app.create_key("acme", r#"{"scopes":"schedules:read"}"#),
            400,
            Some("/scopes"),
        ),
        (
            app.create_key("acme", json!({"expiresAt": past})),
            400,
            Some("/expiresAt"),
        ),
        (
            app.create_key("acme", r#"{"expiresAt":"tomorrow"}"#),
            400,
            Some("/expiresAt"),
        ),
        (app.create_key("acme", "[1,2]"), 400, None),
        (app.create_key("ghost", "{}"), 404, None),
        (app.roll_key("acme", "key_nope", ()), 404, None),
        (
            app.roll_key("acme", "key_nope", r#"{"gracePeriodSeconds":-1}"#),
            400,
            Some("/gracePeriodSeconds"),
        ),
        (
            app.roll_key("acme", "key_nope", r#"{"gracePeriodSeconds":604801}"#),
            400,
            Some("/gracePeriodSeconds"),
        ),
        (
            app.roll_key("acme", "key_nope", r#"{"gracePeriodSeconds":"10"}"#),
            400,
            Some("/gracePeriodSeconds"),
        ),
        (app.delete_key("acme", "../x"), 404, None),
    ];
    for (request, status, pointer) in cases {
        let reply = request.await;
        if let Some(pointer) = pointer {
            let pointers = reply.pointers(status);
            assert!(
                pointers.contains(&pointer),
                "{pointer} not in {}",
                reply.body
            );
        } else {
            reply.problem(status);
        }
    }
    let oversized = format!(r#"{{"name":"{}"}}"#, "x".repeat(70 * 1024));
    app.put_organization("big", oversized.as_str())
        .await
        .problem(413);
    app.create_key("acme", oversized.as_str())
        .await
        .problem(413);

    // Only the organization made at the start, its directory entry and its
    // organization.created event exist: nothing above wrote, not even an event.
    let table = dump_table(&store).await;
    assert_eq!(table.lines().count(), 3, "unexpected writes:\n{table}");
    assert_eq!(table.matches("AUDIT_EVENT").count(), 1, "{table}");
}

#[tokio::test]
async fn a_request_without_iam_context_is_refused() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    app.put_organization("acme", r#"{"name":"Acme"}"#)
        .by(&Caller::Anonymous)
        .await
        .problem(401);
    let lambda_only = Caller::key_context(json!({"lambda": {"organizationId": "acme"}}));
    app.list_keys("acme").by(&lambda_only).await.problem(401);
    assert!(dump_table(&store).await.is_empty());
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    // Not a route of the table, so no method of the app: the event by hand.
    let request = admin(
        "PATCH /v1/admin/organizations/{orgId}/api-keys",
        &[("orgId", "acme")],
        None,
    );
    let reply: orgkeys_tests::Reply = keygen::handle(&store, request).await.unwrap().into();
    reply.problem(404);
}

/// Control characters and bidirectional overrides would reach consoles and
/// exports as sent: every free-text field refuses them, naming the field.
#[tokio::test]
async fn names_with_control_or_bidi_characters_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let store = app.store().clone();
    create_org(&app, "acme").await;
    let before = orgkeys_tests::scan_all(&store).await;
    for bad in [
        "a\u{0}b",
        "\u{202e}evil\r\nX-Injected: 1",
        "tab\there",
        "x\u{2067}",
    ] {
        let org = app.put_organization("acme", json!({"name": bad})).await;
        assert_eq!(org.pointers(400), ["/name"], "{bad:?}");
        let key = app.create_key("acme", json!({"name": bad})).await;
        assert_eq!(key.pointers(400), ["/name"], "{bad:?}");
    }
    assert_eq!(orgkeys_tests::scan_all(&store).await, before);
}

/// A wrong type is answered in the API's terms, not Rust's, and the client's
/// value is not echoed back.
#[tokio::test]
async fn a_wrong_type_is_told_without_rust_type_names() {
    let app = TestApp::spawn().await;
    create_org(&app, "acme").await;
    let key = create_key(&app, "acme", "{}").await;
    let key_id = key["keyId"].as_str().unwrap();
    let reply = app
        .roll_key("acme", key_id, r#"{"gracePeriodSeconds":"60"}"#)
        .await;
    assert_eq!(reply.pointers(400), ["/gracePeriodSeconds"]);
    assert_eq!(reply.json["errors"][0]["detail"], "must be an integer");
    assert!(
        !reply.body.contains("i64") && !reply.body.contains("\"60\""),
        "{}",
        reply.body
    );
}

/// A whole number written with a fraction of zero is the integer it equals
/// (JSON Schema's reading of `integer`, which openapi.yaml follows); a real
/// fraction is refused as any non-integer is, and nothing is written.
#[tokio::test]
async fn a_whole_number_may_be_written_with_a_fraction_of_zero() {
    let app = TestApp::spawn().await;
    create_org(&app, "acme").await;
    let key = create_key(&app, "acme", r#"{"requestsPerMinute":120.0}"#).await;
    assert_eq!(key["requestsPerMinute"], 120, "{key}");
    let key_id = key["keyId"].as_str().unwrap();

    let store = app.store().clone();
    let before = orgkeys_tests::scan_all(&store).await;
    let reply = app
        .roll_key("acme", key_id, r#"{"gracePeriodSeconds":174.5}"#)
        .await;
    assert_eq!(reply.pointers(400), ["/gracePeriodSeconds"]);
    assert_eq!(reply.json["errors"][0]["detail"], "must be an integer");
    assert_eq!(orgkeys_tests::scan_all(&store).await, before);

    let rolled = app
        .roll_key("acme", key_id, r#"{"gracePeriodSeconds":6e2}"#)
        .await;
    assert_eq!(rolled.status, 201, "{}", rolled.body);
}
