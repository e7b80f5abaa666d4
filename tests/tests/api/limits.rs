//! Limits through the handlers, against the DynamoDB server: a key's requests
//! per minute, an organization's contacts per UTC day, the RateLimit headers,
//! and the usage routes. Keys are real: each request carries the context the
//! authorizer gives for it, limits included.

use chrono::{DateTime, Duration, Utc};
use orgkeys_shared::Store;
use orgkeys_tests::app::{Call, Caller, TestApp, authorize};
use orgkeys_tests::fault_proxy::FaultProxy;
use orgkeys_tests::{Reply, client_for, endpoint, org_id};
use serde_json::{Value, json};

/// A new key of `org` (all scopes) and the context the authorizer gives it
/// now, kept for later calls (a key's context travels with the request).
async fn new_key(app: &TestApp, org: &str, body: Value) -> (String, Caller) {
    let created = app.create_key(org, body).expect(201).await;
    let id = created.json["keyId"].as_str().unwrap().to_owned();
    let plaintext = created.json["apiKey"].as_str().unwrap();
    let context = authorize(app.store(), plaintext).await.to_context();
    (id, Caller::key_context(json!({ "lambda": context })))
}

/// The context of a key already created, from its lookup copy (the item
/// the authorizer reads), when its plaintext is no longer at hand.
async fn context_of(app: &TestApp, org: &str, key_id: &str) -> Caller {
    let store = app.store();
    let (_, hash) = store
        .get_key(&org_id(org), key_id)
        .await
        .unwrap()
        .expect("key");
    let record = store.find_key(&hash).await.unwrap().expect("lookup copy");
    let key = orgkeys_shared::edge::caller::OrganizationKey {
        organization_id: record.organization_id.clone(),
        key_id: record.key_id.clone(),
        scopes: record.scopes.clone(),
        limits: record.limits(),
    };
    Caller::key_context(json!({"lambda": key.to_context()}))
}

/// A dispatch of `contacts` numbers on schedule `spring` by `key`.
fn dispatch<'a>(
    app: &'a TestApp,
    key: &Caller,
    contacts: usize,
    idempotency_key: Option<&str>,
) -> Call<'a> {
    let contacts: Vec<Value> = (0..contacts)
        .map(|i| json!({"phone": format!("+3538612{i:05}")}))
        .collect();
    let call = app
        .dispatch(json!({"scheduleId": "spring", "contacts": contacts}))
        .by(key);
    match idempotency_key {
        Some(idempotency_key) => call.header("Idempotency-Key", idempotency_key),
        None => call,
    }
}

/// The operator's view of `org`'s usage, `days` back when given.
fn admin_usage<'a>(app: &'a TestApp, org: &str, days: Option<&str>) -> Call<'a> {
    let call = app.get_organization_usage(org);
    match days {
        Some(days) => call.query(&[("days", days)]),
        None => call,
    }
}

/// An organization with an active schedule `spring` and these limits.
async fn org(app: &TestApp, org: &str, limits: Value) {
    app.put_organization(org, json!({"name": org, "limits": limits}))
        .expect(201)
        .await;
    orgkeys_tests::seed_schedule(app.store(), org, "spring").await;
}

async fn conversations(app: &TestApp, org: &str) -> usize {
    let prefix = format!("ORG#{org}\"");
    orgkeys_tests::dump_table(app.store())
        .await
        .lines()
        .filter(|line| line.contains("CONVERSATION") && line.contains(&prefix))
        .count()
}

fn minute(text: &str) -> DateTime<Utc> {
    orgkeys_shared::wire_time::parse(text).unwrap()
}

#[tokio::test]
async fn a_key_over_its_request_limit_gets_a_429_and_the_next_window_admits_it_again() {
    let app = TestApp::spawn().await;
    org(&app, "acme", json!({"requestsPerMinute": 3})).await;
    let (_, key) = new_key(&app, "acme", json!({})).await;
    let start = minute("2026-11-26T10:41:50Z");
    for remaining in [2, 1, 0] {
        let reply = app.list_schedules().by(&key).at(start).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.header("ratelimit-policy"),
            Some("\"requests\";q=3;w=60")
        );
        assert_eq!(
            reply.header("ratelimit"),
            Some(format!("\"requests\";r={remaining};t=10").as_str())
        );
    }
    let refused = app.list_schedules().by(&key).at(start).await;
    let problem = refused.problem(429);
    assert_eq!(problem["type"], "urn:orgkeys:problem:rate-limited");
    assert_eq!(refused.header("retry-after"), Some("10"));
    assert_eq!(refused.header("ratelimit"), Some("\"requests\";r=0;t=10"));
    assert_eq!(
        refused.header("ratelimit-policy"),
        Some("\"requests\";q=3;w=60")
    );
    // A dispatch in the same window is refused before it writes anything.
    dispatch(&app, &key, 1, None).at(start).await.problem(429);
    assert_eq!(conversations(&app, "acme").await, 0);

    let next_window = start + Duration::seconds(10);
    let admitted = app.list_schedules().by(&key).at(next_window).await;
    assert_eq!(admitted.status, 200, "{}", admitted.body);
    assert_eq!(admitted.header("ratelimit"), Some("\"requests\";r=2;t=60"));
}

#[tokio::test]
async fn a_keys_own_limit_beats_its_organizations_and_other_keys_count_apart() {
    let app = TestApp::spawn().await;
    org(&app, "acme", json!({"requestsPerMinute": 1})).await;
    let (own_id, own) = new_key(&app, "acme", json!({"requestsPerMinute": 3})).await;
    let (_, inherited) = new_key(&app, "acme", json!({})).await;
    let now = minute("2026-11-26T10:00:00Z");
    for _ in 0..3 {
        assert_eq!(app.list_schedules().by(&own).at(now).await.status, 200);
    }
    app.list_schedules().by(&own).at(now).await.problem(429);
    assert_eq!(
        app.list_schedules().by(&inherited).at(now).await.status,
        200
    );
    app.list_schedules()
        .by(&inherited)
        .at(now)
        .await
        .problem(429);

    let listed = app.get_key("acme", &own_id).await;
    assert_eq!(listed.json["requestsPerMinute"], 3);
    // Back to the organization's limit: a new window, one request.
    let patched = app
        .update_key("acme", &own_id, json!({"requestsPerMinute": null}))
        .await;
    assert_eq!(
        patched.json["requestsPerMinute"],
        Value::Null,
        "{}",
        patched.body
    );
    let own = context_of(&app, "acme", &own_id).await;
    let later = now + Duration::minutes(1);
    assert_eq!(app.list_schedules().by(&own).at(later).await.status, 200);
    app.list_schedules().by(&own).at(later).await.problem(429);
}

#[tokio::test]
async fn organization_limits_show_with_defaults_filled_in_and_are_validated() {
    let app = TestApp::spawn().await;
    let created = app.put_organization("acme", json!({"name": "Acme"})).await;
    assert_eq!(
        created.json["limits"],
        json!({"requestsPerMinute": 600, "contactsPerDay": 10000})
    );
    let patched = app
        .update_organization("acme", json!({"limits": {"contactsPerDay": 20}}))
        .await;
    assert_eq!(
        patched.json["limits"],
        json!({"requestsPerMinute": 600, "contactsPerDay": 20})
    );
    let reset = app
        .update_organization("acme", json!({"limits": null}))
        .await;
    assert_eq!(reset.json["limits"]["contactsPerDay"], 10000);
    for (body, pointer) in [
        (
            json!({"limits": {"requestsPerMinute": 0}}),
            "/limits/requestsPerMinute",
        ),
        (
            json!({"limits": {"requestsPerMinute": 100001}}),
            "/limits/requestsPerMinute",
        ),
        (
            json!({"limits": {"contactsPerDay": 10000001}}),
            "/limits/contactsPerDay",
        ),
        (
            json!({"limits": {"contactsPerDay": "many"}}),
            "/limits/contactsPerDay",
        ),
        (json!({"limits": {"perHour": 5}}), "/limits/perHour"),
    ] {
        let reply = app.update_organization("acme", body.clone()).await;
        assert_eq!(reply.pointers(400), [pointer], "{body}");
    }
    let reply = app
        .put_organization(
            "acme",
            json!({"name": "Acme", "limits": {"requestsPerMinute": -1}}),
        )
        .await;
    assert_eq!(reply.pointers(400), ["/limits/requestsPerMinute"]);
    let reply = app
        .create_key("acme", json!({"requestsPerMinute": 0}))
        .await;
    assert_eq!(reply.pointers(400), ["/requestsPerMinute"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_daily_quota_holds_exactly_under_concurrent_dispatches() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    org(&app, "acme", json!({"contactsPerDay": 20})).await;
    let (_, key) = new_key(&app, "acme", json!({})).await;
    let key = std::sync::Arc::new(key);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let (app, key) = (app.clone(), key.clone());
        let idempotency_key = (i % 2 == 0).then(|| format!("k{i}"));
        tasks.spawn(async move { dispatch(&app, &key, 3, idempotency_key.as_deref()).await });
    }
    let mut statuses = Vec::new();
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        if reply.status == 429 {
            let problem = reply.problem(429);
            assert_eq!(problem["type"], "urn:orgkeys:problem:quota-exceeded");
            assert!(
                problem["detail"].as_str().unwrap().contains("2 of its 20"),
                "{problem}"
            );
            let retry: i64 = reply.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=86_400).contains(&retry));
        }
        assert!(
            reply
                .header("ratelimit-policy")
                .unwrap()
                .contains("\"contacts\";q=20;w=86400"),
            "{:?}",
            reply.header("ratelimit-policy")
        );
        statuses.push(reply.status);
    }
    statuses.sort();
    assert_eq!(statuses, [202, 202, 202, 202, 202, 202, 429, 429, 429, 429]);
    assert_eq!(conversations(&app, "acme").await, 18);
    let usage = app.usage().by(&key).await;
    assert_eq!(usage.json["contacts"]["used"], 18, "{}", usage.body);
    assert_eq!(usage.json["contacts"]["remaining"], 2);
    let history = admin_usage(&app, "acme", None).await;
    assert_eq!(history.json["items"][0]["contacts"], 18, "{}", history.body);
    assert_eq!(history.json["items"][0]["dispatches"], 6);
}

#[tokio::test]
async fn replays_and_refused_dispatches_take_nothing_and_another_organization_is_untouched() {
    let app = TestApp::spawn().await;
    org(&app, "acme", json!({"contactsPerDay": 10})).await;
    org(&app, "globex", json!({})).await;
    let (_, key) = new_key(&app, "acme", json!({})).await;
    let (_, theirs) = new_key(&app, "globex", json!({})).await;

    let first = dispatch(&app, &key, 4, Some("once")).await;
    assert_eq!(first.status, 202, "{}", first.body);
    // A keyed dispatch's transaction does not return today's count: the
    // policy names the quota, the state only the requests.
    assert!(
        first
            .header("ratelimit-policy")
            .unwrap()
            .ends_with("\"contacts\";q=10;w=86400")
    );
    assert!(!first.header("ratelimit").unwrap().contains("contacts"));
    let replay = dispatch(&app, &key, 4, Some("once")).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    // Validation errors, an unknown schedule, a reused key: nothing taken.
    let bad = json!({"scheduleId": "spring", "contacts": [{"phone": "12"}]});
    let invalid = app.dispatch(bad).by(&key).await;
    invalid.problem(400);
    assert!(
        invalid.header("ratelimit").is_some(),
        "4xx answers carry the headers"
    );
    dispatch(&app, &key, 5, Some("once")).await.problem(422);
    // Too many for what is left: refused whole; fits again after it.
    let refused = dispatch(&app, &key, 7, None).await;
    refused.problem(429);
    assert_eq!(
        refused.header("ratelimit").unwrap().split(", ").nth(1),
        Some(format!("\"contacts\";r=6;t={}", contacts_wait(&refused)).as_str())
    );
    let fits = dispatch(&app, &key, 6, None).await;
    assert_eq!(fits.status, 202, "{}", fits.body);
    assert_eq!(
        fits.header("ratelimit").unwrap().split(", ").nth(1),
        Some(format!("\"contacts\";r=0;t={}", contacts_wait(&fits)).as_str()),
        "an unkeyed dispatch's count comes back with its write"
    );
    dispatch(&app, &key, 1, None).await.problem(429);

    assert_eq!(app.usage().by(&key).await.json["contacts"]["used"], 10);
    assert_eq!(conversations(&app, "acme").await, 10);
    let theirs = app.usage().by(&theirs).await;
    assert_eq!(theirs.json["organizationId"], "globex");
    assert_eq!(theirs.json["contacts"]["used"], 0);
    assert_eq!(theirs.json["contacts"]["limit"], 10000);
    assert_eq!(
        admin_usage(&app, "globex", Some("90")).await.json["items"],
        json!([])
    );
    admin_usage(&app, "acme", Some("91")).await.problem(400);
    admin_usage(&app, "acme", Some("0")).await.problem(400);
}

/// The `t` of the contacts member of `RateLimit`.
fn contacts_wait(reply: &Reply) -> String {
    let contacts = reply
        .header("ratelimit")
        .unwrap()
        .split(", ")
        .nth(1)
        .unwrap();
    contacts.rsplit("t=").next().unwrap().to_owned()
}

/// A dispatch cut off after its contacts were taken, retried with the same
/// `Idempotency-Key`, completes once and counts its contacts once.
#[tokio::test]
async fn a_dispatch_retried_after_the_quota_was_taken_counts_once() {
    let app = TestApp::spawn().await;
    org(&app, "acme", json!({"contactsPerDay": 100})).await;
    let (_, key) = new_key(&app, "acme", json!({})).await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let flaky = app.with_store(Store::new(
        client_for(&proxy.endpoint).await,
        app.store().table(),
    ));
    let started = Utc::now();
    // The request count and the schedule read, the transaction of the claim
    // and the quota: then the store is gone.
    proxy.cut_after(3);
    dispatch(&flaky, &key, 30, Some("cut"))
        .at(started)
        .await
        .problem(500);
    proxy.heal();
    assert_eq!(
        app.usage().by(&key).await.json["contacts"]["used"],
        30,
        "taken before the cut"
    );

    let after_lease =
        started + dispatch::Settings::default().idempotency.lease + Duration::seconds(1);
    let retried = dispatch(&flaky, &key, 30, Some("cut"))
        .at(after_lease)
        .await;
    assert_eq!(retried.status, 202, "{}", retried.body);
    assert_eq!(
        app.usage().by(&key).await.json["contacts"]["used"],
        30,
        "not taken twice"
    );
    assert_eq!(conversations(&app, "acme").await, 30);
    let history = admin_usage(&app, "acme", None).await;
    assert_eq!(history.json["items"][0]["dispatches"], 1);
}

/// When the counter cannot be written nobody is admitted unlimited.
#[tokio::test]
async fn a_counter_that_cannot_be_written_is_a_500() {
    let app = TestApp::spawn().await;
    org(&app, "acme", json!({})).await;
    let (_, key) = new_key(&app, "acme", json!({})).await;
    let down = app.with_store(orgkeys_tests::unreachable_store().await);
    let reply = down.list_schedules().by(&key).await;
    reply.problem(500);
    assert!(reply.header("ratelimit").is_none());
    let reply = dispatch(&down, &key, 1, None).at(Utc::now()).await;
    reply.problem(500);
}
