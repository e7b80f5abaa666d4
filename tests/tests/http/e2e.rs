//! End to end over real HTTP: the devserver binary (as `scripts/dev` runs it)
//! on the test run's DynamoDB server, and an in-process gateway whose store is
//! unreachable for the 500 path.

use devserver::gateway::Gateway;
use orgkeys_tests::app::{Caller, TestApp};
use orgkeys_tests::http_client::{HttpReply, http};
use orgkeys_tests::local_gateway::{ADMIN, Devserver, ORG};
use orgkeys_tests::unreachable_store;
use serde_json::json;
use std::sync::Arc;

fn gateway_message(reply: &HttpReply, status: u16, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.json, json!({ "message": message }));
}

#[tokio::test]
async fn quickstart_works_as_the_readme_tells_it() {
    let server = Devserver::start(&[("AUTH_CACHE_TTL_SECONDS", "0")]);
    let org = server
        .app()
        .put_organization("acme", json!({"name": "Acme"}))
        .await;
    assert_eq!(org.status, 201, "{}", org.body);
    let created = server
        .app()
        .create_key("acme", json!({"name": "quickstart"}))
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let key = created.json["apiKey"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {key}");
    let by_key = Caller::key(&key);
    let schedule = json!({"name": "Spring renewals", "campaign": "Renewals 2026", "channel": "sms", "status": "active"});
    let put = server
        .app()
        .put_schedule("acme", "spring-renewals", schedule)
        .await;
    assert_eq!(put.status, 201, "{}", put.body);

    let list = server
        .app()
        .list_schedules()
        .query(&[("status", "active"), ("limit", "10")])
        .by(&by_key)
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.json["items"][0]["scheduleId"], "spring-renewals");
    let usage = server.app().usage().by(&by_key).await;
    assert_eq!(usage.status, 200, "{}", usage.body);
    assert_eq!(usage.json["organizationId"], "acme");

    let dispatch = json!({"scheduleId": "spring-renewals", "reference": "qs-1", "contacts": [
        {"phone": "+353861234567", "name": "Ann", "variables": {"firstName": "Ann"}}
    ]});
    let headers = [
        ("authorization", bearer.as_str()),
        ("idempotency-key", "qs-1"),
    ];
    let sent = http(
        "POST",
        &format!("{}/v1/conversations/outbound", server.url),
        &headers,
        Some(dispatch.to_string().into_bytes()),
    )
    .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let replay = http(
        "POST",
        &format!("{}/v1/conversations/outbound", server.url),
        &headers,
        Some(dispatch.to_string().into_bytes()),
    )
    .await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json, sent.json);
    let conversation_id = sent.json["conversations"][0]["conversationId"]
        .as_str()
        .unwrap();
    let conversation = server
        .app()
        .get_conversation(conversation_id)
        .by(&by_key)
        .await;
    assert_eq!(conversation.status, 200);
    assert_eq!(conversation.json["contact"]["phone"], "+353861234567");

    let listing = server.app().list_keys("acme").await;
    let key_id = listing.json["items"][0]["keyId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        listing.json["items"][0]["lastUsedAt"].is_string()
            || listing.json["items"][0]["lastUsedAt"].is_null()
    );
    let deleted = server.app().delete_key("acme", &key_id).await;
    assert_eq!(deleted.status, 204);
    gateway_message(
        &server.app().list_schedules().by(&by_key).await,
        403,
        "Forbidden",
    );

    // One log line per call, and never a key or the admin token.
    let log = server.output();
    assert!(log.contains("GET /v1/schedules 200"), "{log}");
    assert!(log.contains("POST /v1/conversations/outbound 202"));
    assert!(!log.contains(&key[5..]), "the key reached the log");
    assert!(
        log.contains("admin token:  (from ORGKEYS_ADMIN_TOKEN)"),
        "{log}"
    );
    assert!(
        !log.contains("e2e-admin-token"),
        "a token the user set is never printed"
    );
}

#[tokio::test]
async fn gateway_answers_like_api_gateway() {
    let server = Devserver::start(&[]);
    gateway_message(
        &server.app().list_schedules().by(&Caller::Anonymous).await,
        401,
        "Unauthorized",
    );
    gateway_message(
        &server.call("GET", "/v1/schedules", Some(""), None).await,
        401,
        "Unauthorized",
    );
    gateway_message(
        &server
            .app()
            .list_schedules()
            .by(&Caller::key("orgk_made-up"))
            .await,
        403,
        "Forbidden",
    );
    gateway_message(
        &server.call("GET", "/v1/nowhere", None, None).await,
        404,
        "Not Found",
    );
    gateway_message(
        &server.call("PATCH", "/v1/schedules", None, None).await,
        404,
        "Not Found",
    );
    gateway_message(
        &server
            .app()
            .get_organization("acme")
            .by(&Caller::Anonymous)
            .await,
        403,
        "Forbidden",
    );
    gateway_message(
        &TestApp::over_http(&server.url, "wrong")
            .get_organization("acme")
            .await,
        403,
        "Forbidden",
    );

    // Our own handlers' problems pass through untouched.
    let missing = server.app().get_organization("acme").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    let bad = http(
        "PUT",
        &format!("{}/v1/admin/organizations/acme", server.url),
        &[("authorization", ADMIN)],
        Some(b"{not json".to_vec()),
    )
    .await;
    assert_eq!(bad.status, 400);
    let binary = http(
        "PUT",
        &format!("{}/v1/admin/organizations/acme", server.url),
        &[("authorization", ADMIN)],
        Some(vec![0xff, 0xfe, 0x00]),
    )
    .await;
    assert_eq!(binary.status, 400, "{}", binary.body);
    let huge = http(
        "PUT",
        &format!("{}/v1/admin/organizations/acme", server.url),
        &[("authorization", ADMIN)],
        Some(vec![b' '; 11 * 1024 * 1024]),
    )
    .await;
    gateway_message(&huge, 413, "Request Entity Too Large");
    let big_json = json!({"name": "x".repeat(100 * 1024)});
    let too_big_for_keygen = server.app().put_organization("acme", big_json).await;
    assert_eq!(too_big_for_keygen.status, 413);
    assert_eq!(
        too_big_for_keygen.header("content-type"),
        Some("application/problem+json")
    );
    // Still serving after all of that.
    assert_eq!(
        server
            .app()
            .put_organization("acme", json!({"name": "A"}))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn an_unreadable_store_is_a_500_never_an_allow() {
    let store = unreachable_store().await;
    let authorizer = authorizer::Authorizer::new(store.clone(), authorizer::Settings::default());
    let gateway = Arc::new(Gateway::new(store, authorizer, "t"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(devserver::serve(listener, gateway, std::future::pending()));
    let key = orgkeys_shared::key_format::ApiKey::generate().unwrap();
    let app = TestApp::over_http(&url, "t");
    let reply = app.list_schedules().by(&Caller::key(key.expose())).await;
    gateway_message(&reply, 500, "Internal Server Error");
}

#[tokio::test]
async fn a_generated_admin_token_is_printed_and_works() {
    let server = Devserver::start(&[("ORGKEYS_ADMIN_TOKEN", "")]);
    let log = server.output();
    let token = log
        .lines()
        .find_map(|l| l.trim().strip_prefix("admin token:"))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("banner names the token")
        .to_owned();
    assert!(token.starts_with("adm_"), "{log}");
    let reply = TestApp::over_http(&server.url, &token)
        .put_organization("acme", json!({"name": "A"}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let refused = server
        .app()
        .put_organization("acme", json!({"name": "A"}))
        .await;
    assert_eq!(refused.status, 403);
}

/// A request with one key in `Authorization` and another in
/// `X-Api-Key` is refused by the authorizer: 403, as API Gateway answers.
#[tokio::test]
async fn different_keys_in_the_two_key_headers_are_forbidden() {
    let server = Devserver::start(&[]);
    server.create_organization().await;
    let first = server.create_key().await.json["apiKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = server.create_key().await.json["apiKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("{}/v1/schedules", server.url);
    let bearer = format!("Bearer {first}");
    let mixed = http(
        "GET",
        &url,
        &[("authorization", &bearer), ("x-api-key", &second)],
        None,
    )
    .await;
    gateway_message(&mixed, 403, "Forbidden");
    let same = http(
        "GET",
        &url,
        &[("authorization", &bearer), ("x-api-key", &first)],
        None,
    )
    .await;
    assert_eq!(same.status, 200, "{}", same.body);
}

/// Over HTTP, as `scripts/dev` runs: changes made with the admin token are
/// audited with the actor `local-admin`, and dispatches with the key's ID.
#[tokio::test]
async fn changes_over_http_are_audited_with_their_actor() {
    let server = Devserver::start(&[]);
    server.create_organization().await;
    let key = server.create_key().await;
    assert_eq!(
        key.json["createdBy"],
        json!({"type": "admin", "id": "local-admin"})
    );
    let key_id = key.json["keyId"].as_str().unwrap();
    let events = server.app().list_audit_events("acme").await;
    assert_eq!(events.status, 200, "{}", events.body);
    let items = events.json["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["api_key.created", "organization.created"]);
    assert_eq!(
        items[0]["actor"],
        json!({"type": "admin", "id": "local-admin"})
    );
    assert_eq!(items[0]["target"], json!({"type": "api-key", "id": key_id}));
    assert_eq!(items[0]["sourceIp"], "127.0.0.1");
    assert!(!events.body.contains("orgk_"), "{}", events.body);
}

/// Support staff's day over HTTP: read and disable a key, suspend and resume
/// the organization (with a merge-patch body), then delete it.
#[tokio::test]
async fn a_key_and_its_organization_are_disabled_suspended_resumed_and_deleted_over_http() {
    let server = Devserver::start(&[("AUTH_CACHE_TTL_SECONDS", "0")]);
    assert_eq!(server.create_organization().await.status, 201);
    let created = server.create_key().await;
    let key_id = created.json["keyId"].as_str().unwrap().to_owned();
    let by_key = Caller::key(created.json["apiKey"].as_str().unwrap());
    let app = server.app();
    assert_eq!(server.create_schedule("spring").await.status, 201);
    let key_path = format!("{}/api-keys/{key_id}", ORG);
    let public = || app.list_schedules().by(&by_key);
    let merge_patch = |path: String, body: serde_json::Value| {
        let url = format!("{}{path}", server.url);
        async move {
            let headers = [
                ("authorization", ADMIN),
                ("content-type", "application/merge-patch+json"),
            ];
            http("PATCH", &url, &headers, Some(body.to_string().into_bytes())).await
        }
    };
    assert_eq!(public().await.status, 200);

    let read = server.app().get_key("acme", &key_id).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.json["enabled"], true);
    let disabled = merge_patch(key_path.clone(), json!({"enabled": false})).await;
    assert_eq!(disabled.json["enabled"], false, "{}", disabled.body);
    gateway_message(&public().await, 403, "Forbidden");
    merge_patch(key_path.clone(), json!({"enabled": true})).await;
    assert_eq!(public().await.status, 200);

    let suspended = merge_patch(ORG.into(), json!({"status": "suspended"})).await;
    assert_eq!(suspended.json["status"], "suspended", "{}", suspended.body);
    gateway_message(&public().await, 403, "Forbidden");
    let schedules = server.app().list_organization_schedules("acme").await;
    assert_eq!(schedules.status, 200, "admin routes keep working");
    assert_eq!(schedules.json["items"][0]["scheduleId"], "spring");
    merge_patch(ORG.into(), json!({"status": "active"})).await;
    assert_eq!(public().await.status, 200);

    let listed = server.app().list_organizations().await;
    assert_eq!(listed.json["items"][0]["organizationId"], "acme");
    assert_eq!(server.app().delete_organization("acme").await.status, 204);
    assert_eq!(server.app().get_organization("acme").await.status, 404);
    gateway_message(&public().await, 403, "Forbidden");
}

/// Limits over HTTP: a key over its requests of the minute gets a 429 with
/// Retry-After and the RateLimit headers; `GET /v1/usage` tells where it
/// stands; a dispatch over the day's contacts is refused whole.
#[tokio::test]
async fn a_key_over_its_limits_is_refused_with_the_headers_over_http() {
    let server = Devserver::start(&[
        ("AUTH_CACHE_TTL_SECONDS", "0"),
        ("DEFAULT_REQUESTS_PER_MINUTE", "4"),
        ("DEFAULT_CONTACTS_PER_DAY", "2"),
    ]);
    assert_eq!(server.create_organization().await.status, 201);
    let created = server.create_key().await;
    let by_key = Caller::key(created.json["apiKey"].as_str().unwrap());
    assert_eq!(server.create_schedule("spring").await.status, 201);

    let usage = server.app().usage().by(&by_key).await;
    assert_eq!(usage.status, 200, "{}", usage.body);
    assert_eq!(usage.json["requests"]["limit"], 4);
    assert_eq!(usage.json["requests"]["remaining"], 3);
    assert_eq!(usage.json["contacts"]["limit"], 2);
    assert_eq!(
        usage.header("ratelimit-policy"),
        Some("\"requests\";q=4;w=60")
    );

    let contacts = |n: usize| {
        let contacts: Vec<_> = (0..n)
            .map(|i| json!({"phone": format!("+35386123450{i}")}))
            .collect();
        json!({"scheduleId": "spring", "contacts": contacts})
    };
    let over_quota = server.app().dispatch(contacts(3)).by(&by_key).await;
    assert_eq!(over_quota.status, 429, "{}", over_quota.body);
    assert_eq!(
        over_quota.json["type"],
        "urn:orgkeys:problem:quota-exceeded"
    );
    assert!(over_quota.header("retry-after").is_some());
    assert!(
        over_quota
            .header("ratelimit")
            .unwrap()
            .contains("\"contacts\";r=2;")
    );

    let fits = server.app().dispatch(contacts(2)).by(&by_key).await;
    assert_eq!(fits.status, 202, "{}", fits.body);
    // Three requests made; the window may turn over meanwhile (the clock is
    // real here), so at most two windows' worth pass before the refusal.
    let mut refused = None;
    for _ in 0..9 {
        let reply = server.app().list_schedules().by(&by_key).await;
        if reply.status != 200 {
            refused = Some(reply);
            break;
        }
    }
    let refused = refused.expect("refused within two windows");
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.json["type"], "urn:orgkeys:problem:rate-limited");
    assert!(
        refused
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert!(
        refused
            .header("ratelimit")
            .unwrap()
            .starts_with("\"requests\";r=0;t=")
    );
    assert_eq!(
        refused.header("ratelimit-policy"),
        Some("\"requests\";q=4;w=60")
    );
}
