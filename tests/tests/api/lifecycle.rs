//! The lifecycle of organizations and keys through the handlers, against the
//! DynamoDB server: list, change, suspend and resume, disable and enable,
//! delete (also cut short and repeated), and what the authorizer makes of it.

use authorizer::{Authorizer, Decision, DenyReason, Settings};
use chrono::Utc;
use orgkeys_shared::Store;
use orgkeys_tests::app::{Caller, TestApp};
use orgkeys_tests::fault_proxy::FaultProxy;
use orgkeys_tests::{Reply, client_for};
use orgkeys_tests::{endpoint, org_id};
use serde_json::{Value, json};
use std::time::Duration;

/// Creates a key and returns `(keyId, apiKey)`.
async fn create_key(app: &TestApp, org: &str, body: Value) -> (String, String) {
    let reply = app.create_key(org, body).expect(201).await;
    let id = reply.json["keyId"].as_str().unwrap().to_owned();
    (id, reply.json["apiKey"].as_str().unwrap().to_owned())
}

/// The actions of `org`'s audit events, oldest first.
async fn actions(app: &TestApp, org: &str) -> Vec<String> {
    let reply = app.list_audit_events(org).expect(200).await;
    reply.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|event| event["action"].as_str().unwrap().to_owned())
        .collect()
}

/// An authorizer that reads the table on every decision.
fn uncached(store: &Store) -> Authorizer {
    let settings = Settings {
        cache_ttl: Duration::ZERO,
        ..Settings::default()
    };
    Authorizer::new(store.clone(), settings)
}

async fn decide(store: &Store, key: &str) -> Decision {
    uncached(store)
        .check(key, Utc::now())
        .await
        .expect("store reachable")
}

fn allowed_scopes(decision: &Decision) -> Vec<String> {
    match decision {
        Decision::Allow(key) => key.scopes.iter().map(|s| s.to_string()).collect(),
        Decision::Deny(reason) => panic!("denied: {reason:?}"),
    }
}

#[tokio::test]
async fn organizations_list_in_id_order_a_page_at_a_time() {
    let app = TestApp::spawn().await;
    for org in ["delta", "alpha", "charlie", "bravo"] {
        assert_eq!(
            app.put_organization(org, json!({"name": org})).await.status,
            201
        );
    }
    let first = app.list_organizations().query(&[("limit", "3")]).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let ids = |reply: &Reply| -> Vec<String> {
        reply.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|org| org["organizationId"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&first), ["alpha", "bravo", "charlie"]);
    assert_eq!(first.json["items"][0]["status"], "active");
    let cursor = first.json["nextCursor"].as_str().expect("more follow");
    let second = app
        .list_organizations()
        .query(&[("limit", "3"), ("cursor", cursor)])
        .await;
    assert_eq!(ids(&second), ["delta"]);
    assert_eq!(second.json["nextCursor"], Value::Null);

    let bad = app.list_organizations().query(&[("limit", "0")]).await;
    assert_eq!(bad.problem(400)["errors"][0]["parameter"], "limit");
    let bad = app
        .list_organizations()
        .query(&[("cursor", "not-a-cursor")])
        .await;
    assert_eq!(bad.problem(400)["errors"][0]["parameter"], "cursor");
}

#[tokio::test]
async fn an_organization_patch_merges_and_records_what_it_changed() {
    let app = TestApp::spawn().await;
    app.put_organization("group", json!({"name": "Group"}))
        .await;
    app.put_organization("acme", json!({"name": "Acme"})).await;

    let renamed = app
        .update_organization("acme", json!({"name": "Acme Ltd", "parentId": "group"}))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.json["name"], "Acme Ltd");
    assert_eq!(renamed.json["parentId"], "group");
    assert_eq!(renamed.json["status"], "active");
    let unparented = app
        .update_organization("acme", json!({"parentId": null}))
        .await;
    assert_eq!(unparented.json["parentId"], Value::Null);
    assert_eq!(unparented.json["name"], "Acme Ltd", "left out: kept");
    // A patch that changes nothing records nothing.
    assert_eq!(app.update_organization("acme", json!({})).await.status, 200);
    assert_eq!(
        actions(&app, "acme").await,
        [
            "organization.created",
            "organization.updated",
            "organization.updated"
        ]
    );

    let cases = [
        (json!({"name": null}), "/name"),
        (json!({"name": ""}), "/name"),
        (json!({"status": "closed"}), "/status"),
        (json!({"status": null}), "/status"),
        (json!({"parentId": "acme"}), "/parentId"),
        (json!({"parentId": "nobody"}), "/parentId"),
        (json!({"colour": "red"}), "/colour"),
    ];
    for (body, pointer) in cases {
        let reply = app.update_organization("acme", body.clone()).await;
        assert_eq!(reply.pointers(400), [pointer], "{body}");
    }
    assert_eq!(
        app.update_organization("ghost", json!({"name": "G"}))
            .await
            .problem(404)["status"],
        404
    );
    assert_eq!(
        actions(&app, "acme").await.len(),
        3,
        "refusals record nothing"
    );
}

#[tokio::test]
async fn suspending_refuses_every_key_and_resuming_restores_them() {
    let app = TestApp::spawn().await;
    app.put_organization("acme", json!({"name": "Acme"})).await;
    app.put_organization("other", json!({"name": "Other"}))
        .await;
    let mut keys = Vec::new();
    for name in ["a", "b", "c"] {
        keys.push(create_key(&app, "acme", json!({"name": name})).await.1);
    }
    let (_, other_key) = create_key(&app, "other", json!({})).await;

    let suspended = app
        .update_organization("acme", json!({"status": "suspended"}))
        .await;
    assert_eq!(suspended.status, 200, "{}", suspended.body);
    assert_eq!(suspended.json["status"], "suspended");
    for key in &keys {
        assert_eq!(
            decide(app.store(), key).await,
            Decision::Deny(DenyReason::Suspended)
        );
    }
    assert!(matches!(
        decide(app.store(), &other_key).await,
        Decision::Allow(_)
    ));
    // Admin routes keep working, and a key made now is refused too.
    assert_eq!(
        app.list_keys("acme").await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (_, late_key) = create_key(&app, "acme", json!({"name": "late"})).await;
    assert_eq!(
        decide(app.store(), &late_key).await,
        Decision::Deny(DenyReason::Suspended)
    );
    assert_eq!(
        app.get_organization("acme").await.json["status"],
        "suspended"
    );

    let resumed = app
        .update_organization("acme", json!({"status": "active"}))
        .await;
    assert_eq!(resumed.json["status"], "active");
    for key in keys.iter().chain([&late_key]) {
        assert!(matches!(decide(app.store(), key).await, Decision::Allow(_)));
    }
    let actions = actions(&app, "acme").await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.starts_with("organization."))
            .collect::<Vec<_>>(),
        [
            "organization.created",
            "organization.suspended",
            "organization.resumed"
        ]
    );
}

#[tokio::test]
async fn a_disabled_key_is_refused_until_enabled_and_scope_changes_reach_the_authorizer() {
    let app = TestApp::spawn().await;
    app.put_organization("acme", json!({"name": "Acme"})).await;
    let (key_id, key) = create_key(&app, "acme", json!({"name": "crm"})).await;
    let (_, neighbour) = create_key(&app, "acme", json!({})).await;

    let disabled = app
        .update_key("acme", &key_id, json!({"enabled": false}))
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(disabled.json["enabled"], false);
    assert_eq!(disabled.json["name"], "crm");
    assert_eq!(
        decide(app.store(), &key).await,
        Decision::Deny(DenyReason::Disabled)
    );
    assert!(matches!(
        decide(app.store(), &neighbour).await,
        Decision::Allow(_)
    ));
    assert_eq!(app.get_key("acme", &key_id).await.json["enabled"], false);

    let enabled = app
        .update_key(
            "acme",
            &key_id,
            json!({"enabled": true, "scopes": ["schedules:read"]}),
        )
        .await;
    assert_eq!(enabled.json["enabled"], true);
    assert_eq!(
        allowed_scopes(&decide(app.store(), &key).await),
        ["schedules:read"]
    );

    let events = actions(&app, "acme").await;
    assert_eq!(
        events.iter().filter(|a| *a == "api_key.updated").count(),
        2,
        "{events:?}"
    );
}

#[tokio::test]
async fn a_key_is_read_by_id_and_another_organizations_key_is_not_found() {
    let app = TestApp::spawn().await;
    app.put_organization("acme", json!({"name": "Acme"})).await;
    app.put_organization("other", json!({"name": "Other"}))
        .await;
    let (key_id, key) = create_key(&app, "acme", json!({"name": "crm"})).await;
    let reply = app.get_key("acme", &key_id).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json["keyId"], key_id.as_str());
    assert_eq!(reply.json["enabled"], true);
    assert!(
        reply.json["hint"]
            .as_str()
            .unwrap()
            .ends_with(&key[key.len() - 4..])
    );
    assert!(!reply.body.contains(&key), "never the key");
    assert!(reply.json.get("apiKey").is_none());

    for (org, id) in [
        ("other", key_id.as_str()),
        ("acme", "key_nope"),
        ("acme", "../x"),
    ] {
        app.get_key(org, id).await.problem(404);
        app.update_key(org, id, json!({"enabled": false}))
            .await
            .problem(404);
    }
    assert_eq!(app.get_key("acme", &key_id).await.json["enabled"], true);
}

#[tokio::test]
async fn a_key_patch_validates_every_field_and_clears_with_null() {
    let app = TestApp::spawn().await;
    app.put_organization("acme", json!({"name": "Acme"})).await;
    let (key_id, _) = create_key(
        &app,
        "acme",
        json!({"name": "crm", "expiresAt": "2099-01-01T00:00:00Z"}),
    )
    .await;
    let cases = [
        (json!({"scopes": []}), "/scopes"),
        (json!({"scopes": null}), "/scopes"),
        (json!({"scopes": ["admin:all"]}), "/scopes/0"),
        (json!({"expiresAt": "2001-01-01T00:00:00Z"}), "/expiresAt"),
        (json!({"expiresAt": "tomorrow"}), "/expiresAt"),
        (json!({"enabled": null}), "/enabled"),
        (json!({"enabled": "no"}), "/enabled"),
        (json!({"name": "a\u{202e}b"}), "/name"),
        (json!({"keyHash": "x"}), "/keyHash"),
    ];
    for (body, pointer) in cases {
        let reply = app.update_key("acme", &key_id, body.clone()).await;
        assert_eq!(reply.pointers(400), [pointer], "{body}");
    }
    let cleared = app
        .update_key("acme", &key_id, json!({"name": null, "expiresAt": null}))
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(cleared.json["name"], Value::Null);
    assert_eq!(cleared.json["expiresAt"], Value::Null);
    let stored = app.get_key("acme", &key_id).await;
    assert_eq!(stored.json["name"], Value::Null);
    assert_eq!(stored.json["expiresAt"], Value::Null);

    // A rolled key's expiry is its grace period; a disabled key does not roll.
    assert_eq!(
        app.roll_key("acme", &key_id, json!({"gracePeriodSeconds": 0}))
            .await
            .status,
        201
    );
    app.update_key("acme", &key_id, json!({"expiresAt": null}))
        .await
        .problem(409);
    let (other_id, _) = create_key(&app, "acme", json!({})).await;
    app.update_key("acme", &other_id, json!({"enabled": false}))
        .await;
    app.roll_key("acme", &other_id, json!({"gracePeriodSeconds": 0}))
        .await
        .problem(409);
}

/// Disabling and rolling one key at the same time: either the roll came
/// first (an enabled successor of a key disabled afterwards) or it is
/// refused; never a successor of a key that was already disabled, and the
/// key's two copies always agree.
#[tokio::test]
async fn a_concurrent_disable_and_roll_leave_one_consistent_outcome() {
    let app = TestApp::spawn().await;
    app.put_organization("acme", json!({"name": "Acme"})).await;
    for _ in 0..6 {
        let (key_id, key) = create_key(&app, "acme", json!({})).await;
        let (patched, rolled) = tokio::join!(
            app.update_key("acme", &key_id, json!({"enabled": false})),
            app.roll_key("acme", &key_id, json!({"gracePeriodSeconds": 0})),
        );
        assert_eq!(patched.status, 200, "{}", patched.body);
        let listing = app.get_key("acme", &key_id).await.json;
        assert_eq!(listing["enabled"], false);
        let decision = decide(app.store(), &key).await;
        match rolled.status {
            201 => {
                // A roll that won may have ended the old key at once (its
                // grace period), and the authorizer checks expiry first.
                assert!(
                    matches!(
                        decision,
                        Decision::Deny(DenyReason::Disabled | DenyReason::Expired)
                    ),
                    "the lookup copy refuses the key: {decision:?}"
                );
                assert_eq!(listing["rolledTo"], rolled.json["keyId"]);
                let successor = rolled.json["apiKey"].as_str().unwrap();
                assert!(matches!(
                    decide(app.store(), successor).await,
                    Decision::Allow(_)
                ));
            }
            409 => {
                assert_eq!(
                    decision,
                    Decision::Deny(DenyReason::Disabled),
                    "the lookup copy agrees with the listing"
                );
                assert_eq!(listing["rolledTo"], Value::Null);
            }
            other => panic!("roll answered {other}: {}", rolled.body),
        }
    }
}

#[tokio::test]
async fn the_admin_schedule_list_is_the_organizations_list() {
    let app = TestApp::spawn().await;
    app.put_organization("acme", json!({"name": "Acme"})).await;
    for id in ["b", "a", "c"] {
        orgkeys_tests::seed_schedule(app.store(), "acme", id).await;
    }
    let page = app
        .list_organization_schedules("acme")
        .query(&[("limit", "2")])
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.json["items"][0]["scheduleId"], "a");
    assert_eq!(page.json["items"][1]["scheduleId"], "b");
    let cursor = page.json["nextCursor"].as_str().unwrap();
    let rest = app
        .list_organization_schedules("acme")
        .query(&[("limit", "2"), ("cursor", cursor)])
        .await;
    assert_eq!(rest.json["items"][0]["scheduleId"], "c");
    assert_eq!(
        app.list_organization_schedules("acme")
            .query(&[("status", "paused")])
            .await
            .json["items"],
        json!([])
    );
    app.list_organization_schedules("ghost")
        .query(&[])
        .await
        .problem(404);
    app.list_organization_schedules("acme")
        .query(&[("channel", "fax")])
        .await
        .problem(400);
}

async fn populate(app: &TestApp, org: &str, keys: usize, schedules: usize) -> Vec<String> {
    app.put_organization(org, json!({"name": org})).await;
    let mut plaintexts = Vec::new();
    for _ in 0..keys {
        plaintexts.push(create_key(app, org, json!({})).await.1);
    }
    for i in 0..schedules {
        orgkeys_tests::seed_schedule(app.store(), org, &format!("s{i}")).await;
    }
    plaintexts
}

#[tokio::test]
async fn deleting_an_organization_removes_its_keys_and_schedules_and_a_new_one_starts_fresh() {
    let app = TestApp::spawn().await;
    let keys = populate(&app, "acme", 3, 2).await;
    let other = populate(&app, "other", 1, 1).await;

    assert_eq!(app.delete_organization("acme").await.status, 204);
    app.get_organization("acme").await.problem(404);
    app.delete_organization("acme").await.problem(404);
    for key in &keys {
        assert_eq!(
            decide(app.store(), key).await,
            Decision::Deny(DenyReason::Unknown)
        );
    }
    let listed = app.list_organizations().query(&[]).await.json;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["organizationId"], "other");
    let table = orgkeys_tests::dump_table(app.store()).await;
    for line in table.lines().filter(|line| line.contains("ORG#acme")) {
        assert!(line.contains("AUDIT_EVENT"), "left behind: {line}");
    }
    let actions = actions(&app, "acme").await;
    for (action, count) in [
        ("organization.suspended", 1),
        ("api_key.deleted", 3),
        ("schedule.deleted", 2),
        ("organization.deleted", 1),
    ] {
        assert_eq!(
            actions.iter().filter(|a| *a == action).count(),
            count,
            "{action} in {actions:?}"
        );
    }

    // Untouched: the other organization.
    assert!(matches!(
        decide(app.store(), &other[0]).await,
        Decision::Allow(_)
    ));
    assert_eq!(
        app.list_organization_schedules("other")
            .query(&[])
            .await
            .json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The same ID again is a new organization; the old keys stay dead.
    assert_eq!(
        app.put_organization("acme", json!({"name": "Acme"}))
            .await
            .status,
        201
    );
    assert_eq!(app.get_organization("acme").await.json["status"], "active");
    assert_eq!(app.list_keys("acme").await.json["items"], json!([]));
    for key in &keys {
        assert_eq!(
            decide(app.store(), key).await,
            Decision::Deny(DenyReason::Unknown)
        );
    }
}

/// A delete cut off by the network either did nothing yet (every key and
/// schedule still there) or leaves no key of the organization that works;
/// repeating it finishes it.
#[tokio::test]
async fn a_delete_cut_short_leaves_no_working_key_and_finishes_when_repeated() {
    let app = TestApp::spawn().await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let flaky = app.with_store(Store::new(
        client_for(&proxy.endpoint).await,
        app.store().table(),
    ));
    for cut in [2, 5, 9, 14] {
        let org = format!("acme{cut}");
        let keys = populate(&app, &org, 4, 3).await;
        proxy.cut_after(cut);
        let reply = flaky.delete_organization(&org).await;
        proxy.heal();
        assert_eq!(reply.status, 500, "cut after {cut}: {}", reply.body);
        let keys_left = app.list_keys(&org).await.json["items"]
            .as_array()
            .unwrap()
            .len();
        let schedules_left = app.list_organization_schedules(&org).query(&[]).await.json["items"]
            .as_array()
            .unwrap()
            .len();
        if (keys_left, schedules_left) != (4, 3) {
            for key in &keys {
                assert!(
                    matches!(decide(app.store(), key).await, Decision::Deny(_)),
                    "cut after {cut}: half deleted, yet a key works"
                );
            }
        }
        assert_eq!(
            app.delete_organization(&org).await.status,
            204,
            "cut after {cut}"
        );
        app.get_organization(&org).await.problem(404);
        let table = orgkeys_tests::dump_table(app.store()).await;
        let owned = format!("ORG#{org}\"");
        for line in table.lines().filter(|line| line.contains(&owned)) {
            assert!(
                line.contains("AUDIT_EVENT"),
                "cut after {cut}, left behind: {line}"
            );
        }
        let actions = actions(&app, &org).await;
        assert!(actions.contains(&"organization.deleted".to_owned()));
        assert_eq!(
            actions.iter().filter(|a| *a == "api_key.deleted").count(),
            4,
            "cut after {cut}: {actions:?}"
        );
    }
}

/// How far apart the racing requests of one trial start: enough for each to
/// land anywhere among the others' reads and writes.
const JITTER_MS: u64 = 40;

/// `request`, started after a random pause of up to [`JITTER_MS`].
async fn jittered<F: std::future::IntoFuture>(request: F) -> F::Output {
    let mut byte = [0u8; 1];
    getrandom::fill(&mut byte).expect("OS random");
    tokio::time::sleep(Duration::from_millis(u64::from(byte[0]) % JITTER_MS)).await;
    request.await
}

/// The key copies (listing and lookup) whose status and limits differ from
/// their organization's.
async fn keys_out_of_line(store: &Store, org: &str, keys: &[String]) -> usize {
    use orgkeys_shared::{key_format::ApiKey, key_hash::KeyHash};
    let terms = store
        .get_organization(&org_id(org))
        .await
        .unwrap()
        .expect("organization")
        .terms();
    let listing = store.list_keys(&org_id(org)).await.unwrap();
    assert_eq!(listing.len(), keys.len());
    let mut out = listing.iter().filter(|key| key.terms != terms).count();
    for key in keys {
        let hash = KeyHash::of(&ApiKey::parse(key).unwrap());
        let record = store.find_key(&hash).await.unwrap().expect("lookup copy");
        out += usize::from(record.terms != terms);
        let refused = decide(store, key).await == Decision::Deny(DenyReason::Suspended);
        assert_eq!(
            refused, record.terms.suspended,
            "the authorizer reads the lookup copy"
        );
    }
    out
}

/// A change of an organization's terms raced by two requests that mean to
/// change nothing, as an admin tool might send them.
#[derive(Debug, Clone, Copy)]
enum TermsRace {
    SuspendVsPatches,
    SuspendVsPuts,
    ResumeVsPatches,
    ResumeVsPuts,
}

const RACE_LIMITS: &str = r#"{"contactsPerDay": 5, "requestsPerMinute": 2}"#;

impl TermsRace {
    const ALL: [TermsRace; 4] = [
        TermsRace::SuspendVsPatches,
        TermsRace::SuspendVsPuts,
        TermsRace::ResumeVsPatches,
        TermsRace::ResumeVsPuts,
    ];

    fn suspends(self) -> bool {
        matches!(self, TermsRace::SuspendVsPatches | TermsRace::SuspendVsPuts)
    }

    /// Creates `org` with `keys` keys in the state the change starts from.
    async fn set_up(self, app: &TestApp, org: &str, keys: usize) -> Vec<String> {
        let created = populate(app, org, keys, 0).await;
        if !self.suspends() {
            let limits: Value = serde_json::from_str(RACE_LIMITS).unwrap();
            let body = json!({"status": "suspended", "limits": limits});
            assert_eq!(app.update_organization(org, body).await.status, 200);
        }
        created
    }

    /// Runs the change and the two no-ops at once; every one answers 200.
    async fn run(self, app: &TestApp, org: &str) {
        let limits: Value = serde_json::from_str(RACE_LIMITS).unwrap();
        let change = if self.suspends() {
            json!({"status": "suspended", "limits": limits})
        } else {
            json!({"status": "active", "limits": null})
        };
        let noop = || async {
            match self {
                TermsRace::SuspendVsPatches | TermsRace::ResumeVsPatches => {
                    app.update_organization(org, json!({})).await
                }
                TermsRace::SuspendVsPuts => app.put_organization(org, json!({"name": org})).await,
                TermsRace::ResumeVsPuts => {
                    app.put_organization(org, json!({"name": org, "limits": limits}))
                        .await
                }
            }
        };
        let (changed, first, second) = tokio::join!(
            jittered(app.update_organization(org, change)),
            jittered(noop()),
            jittered(noop()),
        );
        for reply in [changed, first, second] {
            assert_eq!(reply.status, 200, "{self:?}: {}", reply.body);
        }
    }
}

/// The race of finding 1 of issue 21: a suspension (with new limits), or a
/// resumption, sent with two `PATCH {}` or two unchanged `PUT`s. Once all
/// have answered, every copy of every key carries the organization's final
/// status and limits.
#[tokio::test]
async fn no_interleaving_of_a_terms_change_and_no_ops_leaves_a_key_out_of_line() {
    const TRIALS_PER_RACE: usize = 15;
    const KEYS: usize = 6;
    let app = TestApp::spawn().await;
    let mut failed = Vec::new();
    for race in TermsRace::ALL {
        let (mut trials_out, mut copies_out) = (0, 0);
        for trial in 0..TRIALS_PER_RACE {
            let org = format!("race-{race:?}-{trial}").to_lowercase();
            let keys = race.set_up(&app, &org, KEYS).await;
            race.run(&app, &org).await;
            let out = keys_out_of_line(app.store(), &org, &keys).await;
            trials_out += usize::from(out > 0);
            copies_out += out;
        }
        eprintln!(
            "{race:?}: {trials_out} of {TRIALS_PER_RACE} trials left key copies out of line \
             ({copies_out} of {} copies)",
            TRIALS_PER_RACE * KEYS * 2
        );
        if trials_out > 0 {
            failed.push((race, trials_out));
        }
    }
    assert!(
        failed.is_empty(),
        "trials with keys out of line: {failed:?}"
    );
}

/// Two organizations made each other's parent at the same time: at most one
/// of the two changes succeeds, and the stored hierarchy has no cycle.
#[tokio::test]
async fn concurrent_re_parentings_never_make_a_cycle() {
    const TRIALS: usize = 20;
    let app = TestApp::spawn().await;
    let mut both = 0;
    for trial in 0..TRIALS {
        let (a, b) = (format!("a{trial}"), format!("b{trial}"));
        app.put_organization(&a, json!({"name": "A"})).await;
        app.put_organization(&b, json!({"name": "B"})).await;
        let (a_under_b, b_under_a) = tokio::join!(
            jittered(app.update_organization(&a, json!({"parentId": b}))),
            jittered(app.update_organization(&b, json!({"parentId": a}))),
        );
        match (a_under_b.status, b_under_a.status) {
            (200, 200) => both += 1,
            (200, _) => assert_eq!(b_under_a.pointers(400), ["/parentId"]),
            (_, 200) => assert_eq!(a_under_b.pointers(400), ["/parentId"]),
            other => panic!("{other:?}: {} {}", a_under_b.body, b_under_a.body),
        }
        let parent = |org: &str| {
            let org = org.to_owned();
            let app = &app;
            async move { app.get_organization(&org).await.json["parentId"].clone() }
        };
        let cycle = parent(&a).await == json!(b) && parent(&b).await == json!(a);
        assert_eq!(cycle, a_under_b.status == 200 && b_under_a.status == 200);
    }
    eprintln!("{both} of {TRIALS} trials made a cycle");
    assert_eq!(both, 0, "cycles made");
}

/// A suspension that also re-parents, raced by the opposite re-parenting:
/// when the suspension loses its commit after bringing its keys to its terms
/// and is then refused (a cycle), the keys are left as the organization
/// stands, not suspended.
#[tokio::test]
async fn a_change_refused_after_losing_a_race_leaves_no_key_with_its_terms() {
    const TRIALS: usize = 20;
    let app = TestApp::spawn().await;
    let (mut refused, mut out_of_line) = (0, 0);
    for trial in 0..TRIALS {
        let (a, b) = (format!("a{trial}"), format!("b{trial}"));
        let keys = populate(&app, &a, 4, 0).await;
        app.put_organization(&b, json!({"name": "B"})).await;
        let (suspension, b_under_a) = tokio::join!(
            jittered(app.update_organization(&a, json!({"parentId": b, "status": "suspended"}))),
            jittered(app.update_organization(&b, json!({"parentId": a}))),
        );
        assert_ne!((suspension.status, b_under_a.status), (200, 200));
        refused += usize::from(suspension.status == 400);
        out_of_line += keys_out_of_line(app.store(), &a, &keys).await;
    }
    eprintln!("{refused} of {TRIALS} suspensions refused; {out_of_line} key copies out of line");
    assert_eq!(out_of_line, 0);
}

/// Finding 2 of issue 21: an organization deleted and created again under
/// the same ID shows the new tenant nothing of the old one.
#[tokio::test]
async fn an_organization_id_used_again_sees_nothing_of_the_deleted_tenant() {
    let app = TestApp::spawn().await;
    let store = app.store();
    let dispatch_body = json!({"scheduleId": "s0", "contacts": [
        {"phone": "+353861234567", "name": "Ann", "variables": {"firstName": "Ann"}}
    ]});
    let send = |key: String| {
        let call = app.dispatch(dispatch_body.clone()).by(&Caller::key(&key));
        call.header("Idempotency-Key", "batch-1")
    };
    let old_key = populate(&app, "acme", 1, 1).await.remove(0);
    let first = send(old_key).await;
    assert_eq!(first.status, 202, "{}", first.body);
    let conversation = first.json["conversations"][0]["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(app.delete_organization("acme").await.status, 204);
    let table = orgkeys_tests::dump_table(store).await;
    for line in table.lines().filter(|line| line.contains("ORG#acme\"")) {
        assert!(line.contains("AUDIT_EVENT"), "left behind: {line}");
    }
    let audit_page = |cursor: Option<String>| {
        let app = &app;
        async move {
            let mut query = vec![("limit", "1".to_owned())];
            query.extend(cursor.map(|cursor| ("cursor", cursor)));
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.list_audit_events("acme").query(&query).await
        }
    };
    let old_page = audit_page(None).await;
    assert_eq!(
        old_page.json["items"].as_array().unwrap().len(),
        1,
        "the old events list"
    );
    let old_cursor = old_page.json["nextCursor"].as_str().unwrap().to_owned();
    let new_key = populate(&app, "acme", 1, 1).await.remove(0);
    let after_old = audit_page(Some(old_cursor)).await;
    assert_eq!(after_old.status, 200, "{}", after_old.body);
    assert_eq!(
        after_old.json["items"],
        json!([]),
        "an old cursor finds nothing"
    );

    let new_caller = Caller::key(&new_key);
    let old = app.get_conversation(&conversation).by(&new_caller).await;
    old.problem(404);
    let usage = app.usage().by(&new_caller).await;
    assert_eq!(usage.json["contacts"]["used"], 0, "{}", usage.body);
    let second = send(new_key.clone()).await;
    assert_eq!(second.status, 202, "{}", second.body);
    assert_eq!(second.header("idempotent-replayed"), None, "not a replay");
    assert_ne!(second.json["dispatchId"], first.json["dispatchId"]);
    let usage = app.usage().by(&new_caller).await;
    assert_eq!(usage.json["contacts"]["used"], 1, "{}", usage.body);

    assert_eq!(
        actions(&app, "acme").await,
        [
            "organization.created",
            "api_key.created",
            "schedule.created",
            "dispatch.created"
        ],
        "the new tenant's events only"
    );
}

/// A creation whose clock is behind the events of the ID's deleted
/// organization (a `PUT` that began before that delete finished) is stamped
/// after them, so its list still starts with its own creation.
#[tokio::test]
async fn a_creation_stamped_before_the_old_events_still_lists_only_its_own() {
    use orgkeys_shared::organizations::{Organization, OrganizationStatus};
    let app = TestApp::spawn().await;
    populate(&app, "acme", 1, 0).await;
    assert_eq!(app.delete_organization("acme").await.status, 204);
    let mut draft = orgkeys_tests::seed_draft();
    draft.occurred_at -= chrono::Duration::hours(1);
    let (created, _) = app
        .store()
        .save_organization(&org_id("acme"), &draft, |_| {
            Ok::<_, orgkeys_shared::StoreError>(Organization {
                organization_id: org_id("acme"),
                name: "Acme".into(),
                parent_id: None,
                status: OrganizationStatus::Active,
                limits: Default::default(),
                created_at: draft.occurred_at,
                updated_at: draft.occurred_at,
            })
        })
        .await
        .unwrap();
    assert!(created.created_at > draft.occurred_at);
    assert_eq!(actions(&app, "acme").await, ["organization.created"]);
}

/// A delete cut while it sweeps the organization's conversations,
/// idempotency records and counters leaves the rest to its repetition,
/// which removes them: only audit events stay.
#[tokio::test]
async fn a_delete_cut_in_its_sweep_finishes_the_sweep_when_repeated() {
    let app = TestApp::spawn().await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let flaky = app.with_store(Store::new(
        client_for(&proxy.endpoint).await,
        app.store().table(),
    ));
    let contacts: Vec<Value> = (0..30)
        .map(|i| json!({"phone": format!("+3538612{i:05}")}))
        .collect();
    let body = json!({"scheduleId": "s0", "contacts": contacts});
    let mut cut_short = 0;
    for cut in (12..=24).step_by(2) {
        let org = format!("sweep{cut}");
        let key = populate(&app, &org, 1, 1).await.remove(0);
        let sent = app.dispatch(body.clone()).by(&Caller::key(&key));
        let sent = sent.header("Idempotency-Key", "b-1").await;
        assert_eq!(sent.status, 202, "{}", sent.body);
        proxy.cut_after(cut);
        let reply = flaky.delete_organization(&org).await;
        proxy.heal();
        if reply.status == 500 {
            cut_short += 1;
            let table = orgkeys_tests::dump_table(app.store()).await;
            let owned = format!("ORG#{org}\"");
            let left = |kind: &str| {
                let lines = table.lines().filter(|line| line.contains(&owned));
                lines.filter(|line| line.contains(kind)).count()
            };
            eprintln!(
                "cut after {cut}: {} conversations, {} idempotency records, {} keys left",
                left("CONVERSATION"),
                left("IDEMPOTENCY"),
                left("KEY#")
            );
            assert_eq!(
                app.delete_organization(&org).await.status,
                204,
                "cut after {cut}"
            );
        } else {
            assert_eq!(reply.status, 204, "cut after {cut}: {}", reply.body);
        }
        let table = orgkeys_tests::dump_table(app.store()).await;
        let owned = format!("ORG#{org}\"");
        for line in table.lines().filter(|line| line.contains(&owned)) {
            assert!(
                line.contains("AUDIT_EVENT"),
                "cut after {cut}, left behind: {line}"
            );
        }
    }
    assert!(cut_short >= 3, "only {cut_short} deletes were cut short");
}
