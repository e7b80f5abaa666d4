//! Limits through the handlers, against the DynamoDB server: a key's requests
//! per minute, an organization's contacts per UTC day, the RateLimit headers,
//! and the usage routes. Keys are real: each request carries the context the
//! authorizer gives for it, limits included.

use authorizer::{Authorizer, Decision, Settings};
use chrono::{DateTime, Duration, Utc};
use orgkeys_shared::Store;
use orgkeys_shared::routes::{Operation, route};
use orgkeys_tests::fault_proxy::FaultProxy;
use orgkeys_tests::{
    Reply, admin, client_for, endpoint, fresh_store, http_event_json, iam_authorizer, to_request,
    with_header, with_query,
};
use serde_json::{Value, json};

/// The admin and public API of one store, one method per request.
struct App {
    store: Store,
}

/// An organization key as the authorizer passes it on.
struct Key {
    context: Value,
}

impl App {
    async fn new() -> App {
        App {
            store: fresh_store().await,
        }
    }

    async fn keygen(&self, operation: Operation, params: &[(&str, &str)], body: Value) -> Reply {
        let body = body.to_string();
        let request = admin(route(operation).key, params, Some(&body));
        keygen::handle(&self.store, request).await.unwrap().into()
    }

    async fn put_org(&self, org: &str, body: Value) -> Reply {
        self.keygen(Operation::PutOrganization, &[("orgId", org)], body)
            .await
    }

    async fn patch_org(&self, org: &str, body: Value) -> Reply {
        self.keygen(Operation::UpdateOrganization, &[("orgId", org)], body)
            .await
    }

    /// A new key of `org` (all scopes) and the context the authorizer gives it.
    async fn key(&self, org: &str, body: Value) -> (String, Key) {
        let created = self
            .keygen(Operation::CreateApiKey, &[("orgId", org)], body)
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.json["keyId"].as_str().unwrap().to_owned();
        (
            id,
            self.context(created.json["apiKey"].as_str().unwrap()).await,
        )
    }

    /// The context of a key already created, from its lookup copy (the item
    /// the authorizer reads), when its plaintext is no longer at hand.
    async fn context_of(&self, org: &str, key_id: &str) -> Key {
        let (_, hash) = self.store.get_key(org, key_id).await.unwrap().expect("key");
        let record = self
            .store
            .find_key(&hash)
            .await
            .unwrap()
            .expect("lookup copy");
        let key = orgkeys_shared::edge::caller::OrganizationKey {
            organization_id: record.organization_id.clone(),
            key_id: record.key_id.clone(),
            scopes: record.scopes.clone(),
            limits: record.limits(),
        };
        Key {
            context: json!({"lambda": key.to_context()}),
        }
    }

    /// What the authorizer (reading the table every time) says of `plaintext`.
    async fn context(&self, plaintext: &str) -> Key {
        let settings = Settings {
            cache_ttl: std::time::Duration::ZERO,
            ..Settings::default()
        };
        let authorizer = Authorizer::new(self.store.clone(), settings);
        match authorizer.check(plaintext, Utc::now()).await.unwrap() {
            Decision::Allow(key) => Key {
                context: json!({"lambda": key.to_context()}),
            },
            Decision::Deny(reason) => panic!("denied: {reason:?}"),
        }
    }

    async fn list_schedules(&self, key: &Key, now: DateTime<Utc>) -> Reply {
        let event = http_event_json(
            route(Operation::ListSchedules).key,
            &[],
            None,
            key.context.clone(),
        );
        schedules::handle_at(
            &self.store,
            &schedules::Settings::default(),
            to_request(event),
            now,
        )
        .await
        .unwrap()
        .into()
    }

    async fn dispatch_at(
        &self,
        store: &Store,
        key: &Key,
        contacts: usize,
        idempotency_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Reply {
        let contacts: Vec<Value> = (0..contacts)
            .map(|i| json!({"phone": format!("+3538612{i:05}")}))
            .collect();
        let body = json!({"scheduleId": "spring", "contacts": contacts}).to_string();
        let mut event = http_event_json(
            route(Operation::DispatchOutbound).key,
            &[],
            Some(&body),
            key.context.clone(),
        );
        if let Some(idempotency_key) = idempotency_key {
            event = with_header(event, "Idempotency-Key", idempotency_key);
        }
        dispatch::handle_at(store, dispatch::Settings::default(), to_request(event), now)
            .await
            .unwrap()
            .into()
    }

    async fn dispatch(&self, key: &Key, contacts: usize, idempotency_key: Option<&str>) -> Reply {
        self.dispatch_at(&self.store, key, contacts, idempotency_key, Utc::now())
            .await
    }

    async fn usage(&self, key: &Key) -> Reply {
        let event = http_event_json(
            route(Operation::GetUsage).key,
            &[],
            None,
            key.context.clone(),
        );
        dispatch::handle(&self.store, to_request(event))
            .await
            .unwrap()
            .into()
    }

    async fn admin_usage(&self, org: &str, days: Option<&str>) -> Reply {
        let mut event = http_event_json(
            route(Operation::GetOrganizationUsage).key,
            &[("orgId", org)],
            None,
            iam_authorizer(),
        );
        if let Some(days) = days {
            event = with_query(event, &[("days", days)]);
        }
        keygen::handle(&self.store, to_request(event))
            .await
            .unwrap()
            .into()
    }

    /// An organization with an active schedule `spring` and these limits.
    async fn org(&self, org: &str, limits: Value) {
        let reply = self
            .put_org(org, json!({"name": org, "limits": limits}))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        orgkeys_tests::seed_schedule(&self.store, org, "spring").await;
    }

    async fn conversations(&self, org: &str) -> usize {
        let prefix = format!("ORG#{org}\"");
        orgkeys_tests::dump_table(&self.store)
            .await
            .lines()
            .filter(|line| line.contains("CONVERSATION") && line.contains(&prefix))
            .count()
    }
}

fn minute(text: &str) -> DateTime<Utc> {
    orgkeys_shared::wire_time::parse(text).unwrap()
}

#[tokio::test]
async fn a_key_over_its_request_limit_gets_a_429_and_the_next_window_admits_it_again() {
    let app = App::new().await;
    app.org("acme", json!({"requestsPerMinute": 3})).await;
    let (_, key) = app.key("acme", json!({})).await;
    let start = minute("2026-11-26T10:41:50Z");
    for remaining in [2, 1, 0] {
        let reply = app.list_schedules(&key, start).await;
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
    let refused = app.list_schedules(&key, start).await;
    let problem = refused.problem(429);
    assert_eq!(problem["type"], "urn:orgkeys:problem:rate-limited");
    assert_eq!(refused.header("retry-after"), Some("10"));
    assert_eq!(refused.header("ratelimit"), Some("\"requests\";r=0;t=10"));
    assert_eq!(
        refused.header("ratelimit-policy"),
        Some("\"requests\";q=3;w=60")
    );
    // A dispatch in the same window is refused before it writes anything.
    app.dispatch_at(&app.store, &key, 1, None, start)
        .await
        .problem(429);
    assert_eq!(app.conversations("acme").await, 0);

    let next_window = start + Duration::seconds(10);
    let admitted = app.list_schedules(&key, next_window).await;
    assert_eq!(admitted.status, 200, "{}", admitted.body);
    assert_eq!(admitted.header("ratelimit"), Some("\"requests\";r=2;t=60"));
}

#[tokio::test]
async fn a_keys_own_limit_beats_its_organizations_and_other_keys_count_apart() {
    let app = App::new().await;
    app.org("acme", json!({"requestsPerMinute": 1})).await;
    let (own_id, own) = app.key("acme", json!({"requestsPerMinute": 3})).await;
    let (_, inherited) = app.key("acme", json!({})).await;
    let now = minute("2026-11-26T10:00:00Z");
    for _ in 0..3 {
        assert_eq!(app.list_schedules(&own, now).await.status, 200);
    }
    app.list_schedules(&own, now).await.problem(429);
    assert_eq!(app.list_schedules(&inherited, now).await.status, 200);
    app.list_schedules(&inherited, now).await.problem(429);

    let listed = app
        .keygen(
            Operation::GetApiKey,
            &[("orgId", "acme"), ("keyId", &own_id)],
            json!(null),
        )
        .await;
    assert_eq!(listed.json["requestsPerMinute"], 3);
    // Back to the organization's limit: a new window, one request.
    let patched = app
        .keygen(
            Operation::UpdateApiKey,
            &[("orgId", "acme"), ("keyId", &own_id)],
            json!({"requestsPerMinute": null}),
        )
        .await;
    assert_eq!(
        patched.json["requestsPerMinute"],
        Value::Null,
        "{}",
        patched.body
    );
    let own = app.context_of("acme", &own_id).await;
    let later = now + Duration::minutes(1);
    assert_eq!(app.list_schedules(&own, later).await.status, 200);
    app.list_schedules(&own, later).await.problem(429);
}

#[tokio::test]
async fn organization_limits_show_with_defaults_filled_in_and_are_validated() {
    let app = App::new().await;
    let created = app.put_org("acme", json!({"name": "Acme"})).await;
    assert_eq!(
        created.json["limits"],
        json!({"requestsPerMinute": 600, "contactsPerDay": 10000})
    );
    let patched = app
        .patch_org("acme", json!({"limits": {"contactsPerDay": 20}}))
        .await;
    assert_eq!(
        patched.json["limits"],
        json!({"requestsPerMinute": 600, "contactsPerDay": 20})
    );
    let reset = app.patch_org("acme", json!({"limits": null})).await;
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
        let reply = app.patch_org("acme", body.clone()).await;
        assert_eq!(reply.pointers(400), [pointer], "{body}");
    }
    let reply = app
        .put_org(
            "acme",
            json!({"name": "Acme", "limits": {"requestsPerMinute": -1}}),
        )
        .await;
    assert_eq!(reply.pointers(400), ["/limits/requestsPerMinute"]);
    let reply = app
        .keygen(
            Operation::CreateApiKey,
            &[("orgId", "acme")],
            json!({"requestsPerMinute": 0}),
        )
        .await;
    assert_eq!(reply.pointers(400), ["/requestsPerMinute"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_daily_quota_holds_exactly_under_concurrent_dispatches() {
    let app = std::sync::Arc::new(App::new().await);
    app.org("acme", json!({"contactsPerDay": 20})).await;
    let (_, key) = app.key("acme", json!({})).await;
    let key = std::sync::Arc::new(key);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let (app, key) = (app.clone(), key.clone());
        let idempotency_key = (i % 2 == 0).then(|| format!("k{i}"));
        tasks.spawn(async move { app.dispatch(&key, 3, idempotency_key.as_deref()).await });
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
    assert_eq!(app.conversations("acme").await, 18);
    let usage = app.usage(&key).await;
    assert_eq!(usage.json["contacts"]["used"], 18, "{}", usage.body);
    assert_eq!(usage.json["contacts"]["remaining"], 2);
    let history = app.admin_usage("acme", None).await;
    assert_eq!(history.json["items"][0]["contacts"], 18, "{}", history.body);
    assert_eq!(history.json["items"][0]["dispatches"], 6);
}

#[tokio::test]
async fn replays_and_refused_dispatches_take_nothing_and_another_organization_is_untouched() {
    let app = App::new().await;
    app.org("acme", json!({"contactsPerDay": 10})).await;
    app.org("globex", json!({})).await;
    let (_, key) = app.key("acme", json!({})).await;
    let (_, theirs) = app.key("globex", json!({})).await;

    let first = app.dispatch(&key, 4, Some("once")).await;
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
    let replay = app.dispatch(&key, 4, Some("once")).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    // Validation errors, an unknown schedule, a reused key: nothing taken.
    let bad = json!({"scheduleId": "spring", "contacts": [{"phone": "12"}]});
    let event = http_event_json(
        route(Operation::DispatchOutbound).key,
        &[],
        Some(&bad.to_string()),
        key.context.clone(),
    );
    let invalid: Reply = dispatch::handle(&app.store, to_request(event))
        .await
        .unwrap()
        .into();
    invalid.problem(400);
    assert!(
        invalid.header("ratelimit").is_some(),
        "4xx answers carry the headers"
    );
    app.dispatch(&key, 5, Some("once")).await.problem(422);
    // Too many for what is left: refused whole; fits again after it.
    let refused = app.dispatch(&key, 7, None).await;
    refused.problem(429);
    assert_eq!(
        refused.header("ratelimit").unwrap().split(", ").nth(1),
        Some(format!("\"contacts\";r=6;t={}", contacts_wait(&refused)).as_str())
    );
    let fits = app.dispatch(&key, 6, None).await;
    assert_eq!(fits.status, 202, "{}", fits.body);
    assert_eq!(
        fits.header("ratelimit").unwrap().split(", ").nth(1),
        Some(format!("\"contacts\";r=0;t={}", contacts_wait(&fits)).as_str()),
        "an unkeyed dispatch's count comes back with its write"
    );
    app.dispatch(&key, 1, None).await.problem(429);

    assert_eq!(app.usage(&key).await.json["contacts"]["used"], 10);
    assert_eq!(app.conversations("acme").await, 10);
    let theirs = app.usage(&theirs).await;
    assert_eq!(theirs.json["organizationId"], "globex");
    assert_eq!(theirs.json["contacts"]["used"], 0);
    assert_eq!(theirs.json["contacts"]["limit"], 10000);
    assert_eq!(
        app.admin_usage("globex", Some("90")).await.json["items"],
        json!([])
    );
    app.admin_usage("acme", Some("91")).await.problem(400);
    app.admin_usage("acme", Some("0")).await.problem(400);
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
    let app = App::new().await;
    app.org("acme", json!({"contactsPerDay": 100})).await;
    let (_, key) = app.key("acme", json!({})).await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let flaky = Store::new(client_for(&proxy.endpoint).await, app.store.table());
    let started = Utc::now();
    // The request count and the schedule read, the claim, the quota
    // transaction: then the store is gone.
    proxy.cut_after(4);
    app.dispatch_at(&flaky, &key, 30, Some("cut"), started)
        .await
        .problem(500);
    proxy.heal();
    assert_eq!(
        app.usage(&key).await.json["contacts"]["used"],
        30,
        "taken before the cut"
    );

    let after_lease =
        started + dispatch::Settings::default().idempotency.lease + Duration::seconds(1);
    let retried = app
        .dispatch_at(&flaky, &key, 30, Some("cut"), after_lease)
        .await;
    assert_eq!(retried.status, 202, "{}", retried.body);
    assert_eq!(
        app.usage(&key).await.json["contacts"]["used"],
        30,
        "not taken twice"
    );
    assert_eq!(app.conversations("acme").await, 30);
    let history = app.admin_usage("acme", None).await;
    assert_eq!(history.json["items"][0]["dispatches"], 1);
}

/// When the counter cannot be written nobody is admitted unlimited.
#[tokio::test]
async fn a_counter_that_cannot_be_written_is_a_500() {
    let app = App::new().await;
    app.org("acme", json!({})).await;
    let (_, key) = app.key("acme", json!({})).await;
    let down = orgkeys_tests::unreachable_store().await;
    let event = http_event_json(
        route(Operation::ListSchedules).key,
        &[],
        None,
        key.context.clone(),
    );
    let reply: Reply = schedules::handle(&down, to_request(event))
        .await
        .unwrap()
        .into();
    reply.problem(500);
    assert!(reply.header("ratelimit").is_none());
    let reply = app.dispatch_at(&down, &key, 1, None, Utc::now()).await;
    reply.problem(500);
}
