//! The console API through the keygen and schedules handlers, as API
//! Gateway's JWT authorizer hands requests over (`jwt.claims`): the access
//! decision (home organization and below; 404 outside, 403 for a viewer's
//! change), the routes, the user as actor, and the ancestry a re-parenting
//! keeps right.

use orgkeys_shared::Store;
use orgkeys_shared::routes::Operation;
use orgkeys_tests::app::{Caller, TestApp};
use orgkeys_tests::{org_id, scan_all, seed_member};
use serde_json::{Value, json};

/// A console user as their verified token describes them.
#[derive(Clone)]
struct User {
    sub: &'static str,
    email: &'static str,
    home: Option<&'static str>,
    groups: &'static str,
}

const ADMIN_OF_ACME: User = User {
    sub: "sub-ann",
    email: "ann@acme.example",
    home: Some("acme"),
    groups: "[org-admin]",
};
const ADMIN_OF_EMEA: User = User {
    sub: "sub-eve",
    email: "eve@acme.example",
    home: Some("acme-emea"),
    groups: "[org-admin]",
};
const VIEWER_OF_ACME: User = User {
    sub: "sub-vic",
    email: "vic@acme.example",
    home: Some("acme"),
    groups: "[org-viewer]",
};

impl User {
    /// The user as API Gateway's JWT authorizer hands them over, their
    /// token issued now.
    fn caller(&self) -> Caller {
        let mut claims = json!({
            "sub": self.sub,
            "email": self.email,
            "cognito:groups": self.groups,
            "iss": "https://cognito-idp.eu-west-1.amazonaws.com/pool",
            "iat": chrono::Utc::now().timestamp().to_string(),
        });
        if let Some(home) = self.home {
            claims["custom:organizationId"] = json!(home);
        }
        Caller::user(claims)
    }
}

/// The store with `acme` → `acme-emea` → `emea-fr`, and `globex` apart,
/// and the users' membership records (Ann is an admin of `globex` too, for
/// the tests whose token says so).
async fn start() -> TestApp {
    let console = TestApp::spawn().await;
    put_org(&console, "acme", None).await;
    put_org(&console, "acme-emea", Some("acme")).await;
    put_org(&console, "emea-fr", Some("acme-emea")).await;
    put_org(&console, "globex", None).await;
    let store = console.store();
    for (user, home) in [
        (&ADMIN_OF_ACME, "acme"),
        (&ADMIN_OF_ACME, "globex"),
        (&ADMIN_OF_EMEA, "acme-emea"),
        (&VIEWER_OF_ACME, "acme"),
    ] {
        let role = user.groups.trim_matches(['[', ']']).parse().unwrap();
        seed_member(store, home, user.sub, user.email, role).await;
    }
    console
}

/// The operator puts `org` under `parent`.
async fn put_org(console: &TestApp, org: &str, parent: Option<&str>) {
    let body = json!({"name": format!("{org} <b>"), "parentId": parent});
    let reply = console.put_organization(org, body).await;
    assert!(matches!(reply.status, 200 | 201), "{}", reply.body);
}

/// The IDs of the organizations `user` sees in the console.
async fn organizations(console: &TestApp, user: &User) -> Vec<String> {
    let reply = console
        .console_list_organizations()
        .by(&user.caller())
        .expect(200)
        .await;
    ids(&reply.json["items"], "organizationId")
}

/// `org`'s audit events as the operator lists them.
async fn audit_events(console: &TestApp, org: &str) -> Vec<Value> {
    let reply = console.list_audit_events(org).expect(200).await;
    reply.json["items"].as_array().unwrap().clone()
}

/// A request a user makes: the route, its path parameters and its body.
type Attempt<'a> = (Operation, &'a [(&'a str, &'a str)], Option<Value>);

fn ids(items: &Value, field: &str) -> Vec<String> {
    let items = items.as_array().expect("items");
    items
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_admin_generates_a_key_in_a_sub_organization_and_is_its_creator_and_actor() {
    let console = start().await;
    let created = console
        .console_create_key("acme-emea", json!({"name": "crm"}))
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key_id = created.json["keyId"].as_str().unwrap();
    assert!(
        created.json["apiKey"]
            .as_str()
            .unwrap()
            .starts_with("orgk_")
    );
    let user_actor = json!({"type": "user", "id": "sub-ann", "email": "ann@acme.example"});
    assert_eq!(created.json["createdBy"], user_actor);

    let listed = console
        .console_list_keys("acme-emea")
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(ids(&listed.json["items"], "keyId"), [key_id]);
    assert_eq!(listed.json["items"][0]["createdBy"], user_actor);

    let events = audit_events(&console, "acme-emea").await;
    assert_eq!(events[0]["action"], "api_key.created");
    assert_eq!(events[0]["actor"], user_actor);
    // The operator's listing shows the same creator.
    let listed = console.list_keys("acme-emea").await;
    assert_eq!(listed.json["items"][0]["createdBy"], user_actor);
}

#[tokio::test]
async fn an_organization_outside_the_users_tree_is_not_found_and_nothing_is_touched() {
    let console = start().await;
    let globex_key = console.create_key("globex", json!({})).await;
    let globex_key = globex_key.json["keyId"].as_str().unwrap().to_owned();
    let before = scan_all(console.store()).await;
    let user = &ADMIN_OF_EMEA;
    let attempts: &[Attempt] = &[
        (
            Operation::GetConsoleOrganization,
            &[("orgId", "acme")],
            None,
        ),
        (
            Operation::GetConsoleOrganization,
            &[("orgId", "globex")],
            None,
        ),
        (
            Operation::GetConsoleOrganization,
            &[("orgId", "nowhere")],
            None,
        ),
        (
            Operation::UpdateConsoleOrganization,
            &[("orgId", "acme")],
            Some(json!({"name": "mine"})),
        ),
        (Operation::ListConsoleApiKeys, &[("orgId", "globex")], None),
        (
            Operation::CreateConsoleApiKey,
            &[("orgId", "globex")],
            Some(json!({})),
        ),
        (
            Operation::DeleteConsoleApiKey,
            &[("orgId", "globex"), ("keyId", &globex_key)],
            None,
        ),
        (
            Operation::RollConsoleApiKey,
            &[("orgId", "globex"), ("keyId", &globex_key)],
            Some(json!({})),
        ),
        // A key of another organization named under one of the user's own.
        (
            Operation::DeleteConsoleApiKey,
            &[("orgId", "acme-emea"), ("keyId", &globex_key)],
            None,
        ),
        (
            Operation::ListConsoleSchedules,
            &[("orgId", "globex")],
            None,
        ),
        (Operation::GetConsoleUsage, &[("orgId", "acme")], None),
        (
            Operation::ListConsoleAuditEvents,
            &[("orgId", "globex")],
            None,
        ),
        (
            Operation::CreateConsoleOrganization,
            &[],
            Some(json!({"name": "x", "parentId": "globex"})),
        ),
        (
            Operation::CreateConsoleOrganization,
            &[],
            Some(json!({"name": "x", "parentId": "acme"})),
        ),
    ];
    for (operation, params, body) in attempts {
        let reply = console
            .request(*operation, params, body.clone())
            .by(&user.caller())
            .await;
        assert_eq!(
            reply.status, 404,
            "{operation:?} {params:?}: {}",
            reply.body
        );
        assert!(!reply.body.contains("globex <b>") && !reply.body.contains("acme <b>"));
    }
    assert!(scan_all(console.store()).await == before, "nothing written");
}

#[tokio::test]
async fn the_console_lists_the_home_organization_and_those_below_only() {
    let console = start().await;
    // An ID that merely starts like the home's is not below it.
    put_org(&console, "acme-emeax", Some("globex")).await;
    assert_eq!(
        organizations(&console, &ADMIN_OF_ACME).await,
        ["acme", "acme-emea", "emea-fr"]
    );
    assert_eq!(
        organizations(&console, &ADMIN_OF_EMEA).await,
        ["acme-emea", "emea-fr"]
    );
    // A page at a time; another user's cursor is refused.
    let first = console
        .console_list_organizations()
        .by(&ADMIN_OF_ACME.caller())
        .query(&[("limit", "2")])
        .await;
    assert_eq!(
        ids(&first.json["items"], "organizationId"),
        ["acme", "acme-emea"]
    );
    let cursor = first.json["nextCursor"].as_str().unwrap().to_owned();
    let rest = console
        .console_list_organizations()
        .by(&ADMIN_OF_ACME.caller())
        .query(&[("cursor", &cursor)])
        .await;
    assert_eq!(ids(&rest.json["items"], "organizationId"), ["emea-fr"]);
    let foreign = console
        .console_list_organizations()
        .by(&ADMIN_OF_EMEA.caller())
        .query(&[("cursor", &cursor)])
        .await;
    assert_eq!(foreign.pointers(400), Vec::<&str>::new());
    assert_eq!(foreign.json["errors"][0]["parameter"], "cursor");
}

#[tokio::test]
async fn a_move_by_the_operator_moves_access_with_the_subtree() {
    let console = start().await;
    let moved = console
        .update_organization("acme-emea", json!({"parentId": "globex"}))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(organizations(&console, &ADMIN_OF_ACME).await, ["acme"]);
    let globex_admin = User {
        home: Some("globex"),
        ..ADMIN_OF_ACME
    };
    assert_eq!(
        organizations(&console, &globex_admin).await,
        ["acme-emea", "emea-fr", "globex"]
    );
    let grandchild = console
        .console_get_organization("emea-fr")
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(grandchild.status, 404, "{}", grandchild.body);
    let grandchild = console
        .console_get_organization("emea-fr")
        .by(&globex_admin.caller())
        .await;
    assert_eq!(grandchild.status, 200, "{}", grandchild.body);
    // Moving it under its own descendant stays a cycle.
    let cycle = console
        .update_organization("acme-emea", json!({"parentId": "emea-fr"}))
        .await;
    assert_eq!(cycle.pointers(400), ["/parentId"]);
}

#[tokio::test]
async fn a_viewer_reads_and_is_refused_every_change_with_no_event() {
    let console = start().await;
    let key = console
        .console_create_key("acme", json!({"name": "k"}))
        .by(&ADMIN_OF_ACME.caller())
        .await;
    let key_id = key.json["keyId"].as_str().unwrap().to_owned();
    let events_before = audit_events(&console, "acme").await.len();
    for (operation, params) in [
        (Operation::ListConsoleOrganizations, &[][..]),
        (
            Operation::GetConsoleOrganization,
            &[("orgId", "acme-emea")][..],
        ),
        (Operation::ListConsoleApiKeys, &[("orgId", "acme")][..]),
        (Operation::ListConsoleSchedules, &[("orgId", "acme")][..]),
        (Operation::GetConsoleUsage, &[("orgId", "acme")][..]),
        (Operation::ListConsoleAuditEvents, &[("orgId", "acme")][..]),
    ] {
        let reply = console
            .request(operation, params, None)
            .by(&VIEWER_OF_ACME.caller())
            .await;
        assert_eq!(reply.status, 200, "{operation:?}: {}", reply.body);
    }
    let key_params = [("orgId", "acme"), ("keyId", key_id.as_str())];
    for (operation, params, body) in [
        (Operation::CreateConsoleApiKey, &key_params[..1], json!({})),
        (
            Operation::UpdateConsoleApiKey,
            &key_params[..],
            json!({"enabled": false}),
        ),
        (Operation::DeleteConsoleApiKey, &key_params[..], Value::Null),
        (Operation::RollConsoleApiKey, &key_params[..], json!({})),
        (
            Operation::UpdateConsoleOrganization,
            &key_params[..1],
            json!({"name": "n"}),
        ),
        (
            Operation::CreateConsoleOrganization,
            &[][..],
            json!({"name": "x", "parentId": "acme"}),
        ),
    ] {
        let body = (!body.is_null()).then_some(body);
        let reply = console
            .request(operation, params, body)
            .by(&VIEWER_OF_ACME.caller())
            .await;
        let problem = reply.problem(403);
        assert_eq!(
            problem["type"], "urn:orgkeys:problem:forbidden",
            "{operation:?}"
        );
    }
    assert_eq!(audit_events(&console, "acme").await.len(), events_before);
}

#[tokio::test]
async fn a_token_without_an_organization_or_a_role_may_only_ask_who_it_is() {
    let console = start().await;
    let no_org = User {
        home: None,
        ..ADMIN_OF_ACME
    };
    let no_role = User {
        groups: "[staff]",
        ..ADMIN_OF_ACME
    };
    for user in [&no_org, &no_role] {
        let me = console.console_me().by(&user.caller()).await;
        assert_eq!(me.status, 200, "{}", me.body);
        for (operation, params) in [
            (Operation::ListConsoleOrganizations, &[][..]),
            (Operation::GetConsoleOrganization, &[("orgId", "acme")][..]),
            (Operation::ListConsoleSchedules, &[("orgId", "acme")][..]),
        ] {
            let reply = console
                .request(operation, params, None)
                .by(&user.caller())
                .await;
            assert_eq!(reply.problem(403)["type"], "urn:orgkeys:problem:forbidden");
        }
    }
}

#[tokio::test]
async fn an_admin_creates_and_renames_sub_organizations_but_not_what_the_operator_owns() {
    let console = start().await;
    let body = json!({"name": "Acme DE", "parentId": "acme-emea"});
    let created = console
        .console_create_organization(body.clone())
        .by(&ADMIN_OF_EMEA.caller())
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json["parentId"], "acme-emea");
    let emea_de = created.json["organizationId"].as_str().unwrap().to_owned();
    let emea_de = emea_de.as_str();
    let again = console
        .console_create_organization(body)
        .by(&ADMIN_OF_EMEA.caller())
        .await;
    assert_eq!(again.status, 201, "a second one, with an ID of its own");
    assert_ne!(again.json["organizationId"], emea_de);
    // No ID of the user's choosing: one outside their tree, one inside,
    // one free, all answer alike, so none tells whether it exists.
    for id in ["globex", "acme-emea", "free-id"] {
        let chosen = json!({"organizationId": id, "name": "G", "parentId": "acme-emea"});
        let chosen = console
            .console_create_organization(chosen)
            .by(&ADMIN_OF_EMEA.caller())
            .await;
        assert_eq!(chosen.pointers(400), ["/organizationId"], "{id}");
    }
    let event = &audit_events(&console, emea_de).await[0];
    assert_eq!(event["action"], "organization.created");
    assert_eq!(event["actor"]["email"], "eve@acme.example");
    let mut expected = vec![
        "acme-emea".to_owned(),
        emea_de.to_owned(),
        again.json["organizationId"].as_str().unwrap().to_owned(),
        "emea-fr".to_owned(),
    ];
    expected.sort();
    assert_eq!(organizations(&console, &ADMIN_OF_EMEA).await, expected);

    let renamed = console
        .console_update_organization(emea_de, json!({"name": "Acme Deutschland"}))
        .by(&ADMIN_OF_EMEA.caller())
        .await;
    assert_eq!(renamed.json["name"], "Acme Deutschland", "{}", renamed.body);
    for (field, value) in [
        ("status", json!("suspended")),
        ("limits", json!({"requestsPerMinute": 5})),
        ("parentId", json!("acme")),
    ] {
        let reply = console
            .console_update_organization(emea_de, json!({ field: value }))
            .by(&ADMIN_OF_EMEA.caller())
            .await;
        assert_eq!(reply.pointers(403), [format!("/{field}").as_str()]);
    }
    let unchanged = console.get_organization(emea_de).await;
    assert_eq!(unchanged.json["status"], "active");
    assert_eq!(unchanged.json["parentId"], "acme-emea");
}

#[tokio::test]
async fn a_keys_limit_stays_within_its_organizations_and_a_suspended_one_gets_no_new_key() {
    let console = start().await;
    let limited = console
        .update_organization("acme-emea", json!({"limits": {"requestsPerMinute": 100}}))
        .await;
    assert_eq!(limited.status, 200, "{}", limited.body);
    let over = console
        .console_create_key("acme-emea", json!({"requestsPerMinute": 101}))
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(over.pointers(422), ["/requestsPerMinute"]);
    let within = console
        .console_create_key("acme-emea", json!({"requestsPerMinute": 100}))
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(within.status, 201, "{}", within.body);
    let key_id = within.json["keyId"].as_str().unwrap().to_owned();
    let raised = console
        .console_update_key("acme-emea", &key_id, json!({"requestsPerMinute": 500}))
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(raised.pointers(422), ["/requestsPerMinute"]);
    // The operator's own route keeps its wider bound.
    let operator = console
        .update_key("acme-emea", &key_id, json!({"requestsPerMinute": 500}))
        .await;
    assert_eq!(operator.status, 200, "{}", operator.body);

    let suspended = console
        .update_organization("acme-emea", json!({"status": "suspended"}))
        .await;
    assert_eq!(suspended.status, 200, "{}", suspended.body);
    let refused = console
        .console_create_key("acme-emea", json!({}))
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(
        refused.problem(409)["type"],
        "urn:orgkeys:problem:organization-suspended"
    );
    let roll = console
        .console_roll_key("acme-emea", &key_id, json!({}))
        .by(&ADMIN_OF_ACME.caller())
        .await;
    roll.problem(409);
    let read = console
        .console_get_key("acme-emea", &key_id)
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
}

#[tokio::test]
async fn usage_shows_the_limits_in_force_and_each_live_keys_minute() {
    let console = start().await;
    let key = console
        .console_create_key("acme", json!({"name": "crm", "requestsPerMinute": 60}))
        .by(&ADMIN_OF_ACME.caller())
        .await;
    let key_id = key.json["keyId"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let (_, admitted) = console
            .store()
            .count_request(&key_id, 60, chrono::Utc::now())
            .await
            .unwrap();
        assert!(admitted);
    }
    let usage = console
        .console_usage("acme")
        .by(&VIEWER_OF_ACME.caller())
        .query(&[("days", "7")])
        .await;
    assert_eq!(usage.status, 200, "{}", usage.body);
    assert_eq!(usage.json["limits"]["requestsPerMinute"], 600);
    assert_eq!(
        usage.json["keys"],
        json!([{"keyId": key_id, "name": "crm", "requestsThisMinute": 3, "requestsPerMinute": 60}])
    );
    let bad = console
        .console_usage("acme")
        .by(&VIEWER_OF_ACME.caller())
        .query(&[("days", "91")])
        .await;
    bad.problem(400);
}

#[tokio::test]
async fn a_user_reads_the_schedules_of_their_tree() {
    let console = start().await;
    orgkeys_tests::seed_schedule(console.store(), "emea-fr", "spring-renewals").await;
    let reply = console
        .console_list_schedules("emea-fr")
        .by(&ADMIN_OF_EMEA.caller())
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(ids(&reply.json["items"], "scheduleId"), ["spring-renewals"]);
}

#[tokio::test]
async fn a_request_without_verified_claims_is_refused() {
    let console = start().await;
    let reply = console.console_list_organizations().await;
    reply.problem(401);
}

#[tokio::test]
async fn an_organization_stored_before_ancestry_is_decided_by_walking_its_parents() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let console = start().await;
    for (pk, sk) in [("ORG#emea-fr", "ORG"), ("ORGANIZATIONS", "emea-fr")] {
        console
            .store()
            .client()
            .update_item()
            .table_name(console.store().table())
            .key("PK", AttributeValue::S(pk.into()))
            .key("SK", AttributeValue::S(sk.into()))
            .update_expression("REMOVE ancestry")
            .send()
            .await
            .unwrap();
    }
    let get = |user: &'static User| {
        let console = &console;
        async move {
            let reply = console
                .console_get_organization("emea-fr")
                .by(&user.caller())
                .await;
            reply.status
        }
    };
    assert_eq!(get(&ADMIN_OF_EMEA).await, 200);
    let globex_admin: &'static User = Box::leak(Box::new(User {
        home: Some("globex"),
        ..ADMIN_OF_ACME
    }));
    assert_eq!(get(globex_admin).await, 404);
    assert_eq!(
        organizations(&console, &ADMIN_OF_EMEA).await,
        ["acme-emea", "emea-fr"]
    );
    assert_eq!(organizations(&console, globex_admin).await, ["globex"]);
}

/// An organization stored before ancestry whose parent is gone (deleted
/// before deletes refused parents): no one else reaches it, and the
/// listings of others still answer.
#[tokio::test]
async fn an_orphan_stored_before_ancestry_is_within_no_one_elses_tree() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let console = start().await;
    let (client, table) = (console.store().client(), console.store().table());
    let key = |pk: &str, sk: &str| {
        [("PK", pk), ("SK", sk)].map(|(k, v)| (k.to_owned(), AttributeValue::S(v.into())))
    };
    for (pk, sk) in [("ORG#emea-fr", "ORG"), ("ORGANIZATIONS", "emea-fr")] {
        let update = client.update_item().table_name(table);
        let update = key(pk, sk)
            .into_iter()
            .fold(update, |update, (k, v)| update.key(k, v));
        update
            .update_expression("REMOVE ancestry")
            .send()
            .await
            .unwrap();
    }
    for (pk, sk) in [("ORG#acme-emea", "ORG"), ("ORGANIZATIONS", "acme-emea")] {
        let delete = client.delete_item().table_name(table);
        let delete = key(pk, sk)
            .into_iter()
            .fold(delete, |delete, (k, v)| delete.key(k, v));
        delete.send().await.unwrap();
    }
    let get = console
        .console_get_organization("emea-fr")
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(get.status, 404, "{}", get.body);
    assert_eq!(organizations(&console, &ADMIN_OF_ACME).await, ["acme"]);
}

/// Every organization's stored ancestry, and the one its parents give it.
async fn ancestry_drift(store: &Store) -> Vec<String> {
    use std::collections::HashMap;
    let items = scan_all(store).await;
    let org_items: Vec<_> = items
        .iter()
        .filter(|item| item["SK"].as_s().is_ok_and(|sk| sk == "ORG"))
        .collect();
    let parents: HashMap<String, Option<String>> = org_items
        .iter()
        .map(|item| {
            let id = item["orgId"].as_s().unwrap().clone();
            let parent = item.get("parentId").map(|p| p.as_s().unwrap().clone());
            (id, parent)
        })
        .collect();
    let mut drift = Vec::new();
    for item in org_items {
        let id = item["orgId"].as_s().unwrap();
        let mut chain = Vec::new();
        let mut next = parents[id].clone();
        while let Some(parent) = next {
            chain.insert(0, parent.clone());
            next = parents[&parent].clone();
        }
        let walked = format!(
            "/{}",
            chain.iter().map(|id| format!("{id}/")).collect::<String>()
        );
        let stored = item["ancestry"].as_s().unwrap();
        if *stored != walked {
            drift.push(format!("{id}: stored {stored}, walked {walked}"));
        }
    }
    drift
}

/// A sub-organization created by a user while the operator moves its
/// parent: whichever commits first, every stored ancestry ends as the
/// parents say (the move reads again, or the creation does).
#[tokio::test]
async fn a_sub_organization_created_during_a_move_gets_the_ancestry_it_ends_with() {
    const TRIALS: usize = 12;
    let console = start().await;
    let (mut created, mut moved) = (0, 0);
    for trial in 0..TRIALS {
        let (region, target) = (format!("r{trial}"), format!("t{trial}"));
        put_org(&console, &region, Some("acme")).await;
        put_org(&console, &target, Some("globex")).await;
        let body = json!({"name": "c", "parentId": region});
        let pause = |ms: u64| tokio::time::sleep(std::time::Duration::from_millis(ms));
        let (create, moving) = tokio::join!(
            async {
                pause(trial as u64 % 4).await;
                console
                    .console_create_organization(body)
                    .by(&ADMIN_OF_ACME.caller())
                    .await
            },
            async {
                pause(3 - trial as u64 % 4).await;
                console
                    .update_organization(&region, json!({"parentId": target}))
                    .await
            },
        );
        created += usize::from(create.status == 201);
        moved += usize::from(moving.status == 200);
        assert!(matches!(create.status, 201 | 404), "{}", create.body);
        assert_eq!(moving.status, 200, "{}", moving.body);
    }
    eprintln!("{created} created, {moved} moved of {TRIALS}");
    assert_eq!(ancestry_drift(console.store()).await, Vec::<String>::new());
}

/// A user's rename of an organization below one the operator moves: the
/// rename that read it before the move reads it again, so it cannot write
/// the old ancestry back (the move bumps every descendant's revision).
#[tokio::test]
async fn a_rename_during_a_move_above_it_keeps_the_new_ancestry() {
    const TRIALS: usize = 10;
    let console = start().await;
    for trial in 0..TRIALS {
        let (middle, leaf) = (format!("m{trial}"), format!("l{trial}"));
        put_org(&console, &middle, Some("acme")).await;
        put_org(&console, &leaf, Some(&middle)).await;
        let pause = |ms: u64| tokio::time::sleep(std::time::Duration::from_millis(ms));
        let (renamed, moved) = tokio::join!(
            async {
                pause(trial as u64 % 3).await;
                console
                    .console_update_organization(&leaf, json!({"name": format!("n{trial}")}))
                    .by(&ADMIN_OF_ACME.caller())
                    .await
            },
            async {
                pause(2 - trial as u64 % 3).await;
                console
                    .update_organization(&middle, json!({"parentId": "globex"}))
                    .await
            },
        );
        assert!(matches!(renamed.status, 200 | 404), "{}", renamed.body);
        assert_eq!(moved.status, 200, "{}", moved.body);
    }
    assert_eq!(ancestry_drift(console.store()).await, Vec::<String>::new());
    assert_eq!(
        organizations(&console, &ADMIN_OF_ACME).await,
        ["acme", "acme-emea", "emea-fr"]
    );
}

/// An organization with sub-organizations is not deleted: its children
/// would keep its ID in their ancestry, and an organization created again
/// with that ID would reach them.
#[tokio::test]
async fn an_organization_with_sub_organizations_is_not_deleted() {
    let console = start().await;
    let refused = console.delete_organization("acme-emea").await;
    assert!(
        refused.problem(409)["detail"]
            .as_str()
            .unwrap()
            .contains("sub-organizations")
    );
    console.get_organization("acme-emea").expect(200).await;
    let events = audit_events(&console, "acme-emea").await;
    assert!(
        events
            .iter()
            .all(|e| e["action"] != "organization.suspended")
    );
    console.delete_organization("emea-fr").expect(204).await;
    console.delete_organization("acme-emea").expect(204).await;
}

/// The store's own check of a console creation: the parent's chain as read
/// must pass through the user's home, whatever the handler checked before.
#[tokio::test]
async fn a_creation_is_refused_when_the_parents_chain_does_not_pass_through_the_home() {
    use orgkeys_shared::organizations::{Organization, OrganizationStatus};
    let console = start().await;
    let now = chrono::Utc::now();
    let wanted = |id: &str| Organization {
        organization_id: org_id(id),
        name: "x".into(),
        parent_id: Some(org_id("emea-fr")),
        status: OrganizationStatus::Active,
        limits: Default::default(),
        created_at: now,
        updated_at: now,
    };
    let store = console.store();
    let draft = orgkeys_tests::seed_draft();
    let refused = store
        .create_organization_within(&org_id("globex"), wanted("fr-x"), &draft)
        .await;
    assert_eq!(refused, Err(orgkeys_shared::StoreError::NotFound));
    assert_eq!(store.get_organization(&org_id("fr-x")).await.unwrap(), None);
    let created = store
        .create_organization_within(&org_id("acme"), wanted("fr-y"), &draft)
        .await
        .unwrap();
    assert_eq!(
        created
            .unwrap()
            .parent_id
            .as_ref()
            .map(orgkeys_api::OrgId::as_str),
        Some("emea-fr")
    );
    let taken = store
        .create_organization_within(&org_id("acme"), wanted("globex"), &draft)
        .await;
    assert_eq!(taken, Ok(None));
}

#[tokio::test]
async fn webhook_routes_are_404_outside_the_tree_and_a_viewers_changes_are_403() {
    use orgkeys_shared::webhooks::{NewEndpoint, new_endpoint_id};
    let console = start().await;
    let store = console.store();
    let endpoint_id = new_endpoint_id().unwrap();
    let new = NewEndpoint {
        endpoint_id: endpoint_id.clone(),
        url: "https://hooks.example/acme".into(),
        description: None,
        event_types: None,
        include_sub_organizations: true,
        sealed_secret: vec![7; 32],
    };
    store
        .create_endpoint(&org_id("acme"), new, &orgkeys_tests::seed_draft())
        .await
        .unwrap();
    let message = "msg_0123456789abcdef0123456789abcdef";
    let on_acme = [("orgId", "acme")];
    let on_endpoint = [("orgId", "acme"), ("endpointId", endpoint_id.as_str())];
    let on_message = [
        ("orgId", "acme"),
        ("endpointId", endpoint_id.as_str()),
        ("messageId", message),
    ];
    let reads = [
        (Operation::ListConsoleWebhookEndpoints, &on_acme[..]),
        (Operation::GetConsoleWebhookEndpoint, &on_endpoint[..]),
        (Operation::ListConsoleWebhookMessages, &on_endpoint[..]),
    ];
    let changes = [
        (
            Operation::CreateConsoleWebhookEndpoint,
            &on_acme[..],
            json!({"url": "https://hooks.example/x"}),
        ),
        (
            Operation::UpdateConsoleWebhookEndpoint,
            &on_endpoint[..],
            json!({"enabled": false}),
        ),
        (
            Operation::DeleteConsoleWebhookEndpoint,
            &on_endpoint[..],
            Value::Null,
        ),
        (
            Operation::RollConsoleWebhookSecret,
            &on_endpoint[..],
            json!({}),
        ),
        (
            Operation::SendConsoleTestWebhook,
            &on_endpoint[..],
            Value::Null,
        ),
        (
            Operation::ResendConsoleWebhookMessage,
            &on_message[..],
            Value::Null,
        ),
    ];
    let table_before = scan_all(store).await;
    // Below acme, acme-emea's admin cannot see acme's endpoints at all.
    for (operation, params) in reads {
        let reply = console
            .request(operation, params, None)
            .by(&ADMIN_OF_EMEA.caller())
            .await;
        assert_eq!(reply.status, 404, "{operation:?}: {}", reply.body);
        let reply = console
            .request(operation, params, None)
            .by(&VIEWER_OF_ACME.caller())
            .await;
        assert_eq!(reply.status, 200, "{operation:?}: {}", reply.body);
        assert!(
            !reply.body.contains("ecret\":\""),
            "{operation:?} shows a secret: {}",
            reply.body
        );
    }
    for (operation, params, body) in &changes {
        let body = (!body.is_null()).then(|| body.clone());
        let reply = console
            .request(*operation, params, body.clone())
            .by(&ADMIN_OF_EMEA.caller())
            .await;
        assert_eq!(reply.status, 404, "{operation:?}: {}", reply.body);
        let reply = console
            .request(*operation, params, body)
            .by(&VIEWER_OF_ACME.caller())
            .await;
        assert_eq!(reply.status, 403, "{operation:?}: {}", reply.body);
    }
    assert!(
        scan_all(store).await == table_before,
        "a refused call wrote"
    );
    // Acme's admin changes it, with the event in the log.
    let changed = console
        .console_update_webhook("acme", &endpoint_id, json!({"description": "CRM"}))
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.json["description"], "CRM");
    let events = audit_events(&console, "acme").await;
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "webhook.updated" && e["actor"]["email"] == "ann@acme.example")
    );
}
/// Every console route but `GET /v1/console/me`, with path IDs in `acme`.
fn console_attempts() -> Vec<(Operation, Vec<(&'static str, &'static str)>)> {
    use orgkeys_shared::routes::{Access, ROUTES};
    ROUTES
        .iter()
        .filter(|route| route.access == Access::User)
        .map(|route| {
            let params = [
                ("orgId", "acme"),
                ("keyId", "key_x"),
                ("userId", "sub-x"),
                ("endpointId", "ep_x"),
                ("messageId", "msg_x"),
            ];
            let named = params
                .into_iter()
                .filter(|(name, _)| route.key.contains(&format!("{{{name}}}")))
                .collect();
            (route.operation, named)
        })
        .collect()
}

#[tokio::test]
async fn a_removed_user_is_refused_on_every_console_route() {
    let console = start().await;
    let store = console.store();
    let ann = store
        .get_member(&org_id("acme"), ADMIN_OF_ACME.sub)
        .await
        .unwrap()
        .unwrap();
    store
        .remove_member(&ann, &orgkeys_tests::seed_draft())
        .await
        .unwrap();
    let attempts = console_attempts();
    assert!(attempts.len() >= 15, "the console routes are found");
    for (operation, params) in attempts {
        let reply = console
            .request(
                operation,
                &params,
                json!({"name": "x", "email": "x@acme.example", "role": "org-admin"}),
            )
            .by(&ADMIN_OF_ACME.caller())
            .await;
        assert_eq!(reply.status, 403, "{operation:?}: {}", reply.body);
    }
    let me = console.console_me().by(&ADMIN_OF_ACME.caller()).await;
    assert_eq!(me.status, 200, "anyone signed in may ask who they are");
    assert!(
        audit_events(&console, "acme")
            .await
            .iter()
            .all(|e| e["action"] != "api_key.created")
    );
}

#[tokio::test]
async fn a_demoted_admin_changes_nothing_and_reads_nothing_with_the_old_token() {
    let console = start().await;
    let store = console.store();
    let draft = orgkeys_tests::seed_draft();
    let viewer = orgkeys_api::Role::OrgViewer;
    store
        .change_member_role(&org_id("acme"), ADMIN_OF_ACME.sub, viewer, &draft)
        .await
        .unwrap();
    let created = console
        .console_create_key("acme", json!({"name": "backdoor"}))
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(created.status, 403, "{}", created.body);
    assert!(
        created.json["detail"]
            .as_str()
            .unwrap()
            .contains("sign in again")
    );
    let invited = console
        .console_invite_user(
            "acme",
            json!({"email": "backdoor@acme.example", "role": "org-admin"}),
        )
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(invited.status, 403, "{}", invited.body);
    let listed = console
        .console_list_keys("acme")
        .by(&ADMIN_OF_ACME.caller())
        .await;
    assert_eq!(
        listed.status, 403,
        "the token's role is not theirs any more"
    );
}

#[tokio::test]
async fn a_token_issued_before_the_membership_or_its_organization_is_refused() {
    let console = start().await;
    let mut claims = json!({
        "sub": ADMIN_OF_ACME.sub, "email": ADMIN_OF_ACME.email,
        "cognito:groups": "[org-admin]", "custom:organizationId": "acme",
    });
    let now = chrono::Utc::now().timestamp();
    for (iat, status) in [(Some(now - 60), 401), (None, 401), (Some(now), 200)] {
        match iat {
            Some(iat) => claims["iat"] = json!(iat.to_string()),
            None => _ = claims.as_object_mut().unwrap().remove("iat"),
        }
        let reply = console
            .console_list_keys("acme")
            .by(&Caller::user(claims.clone()))
            .await;
        assert_eq!(reply.status, status, "iat {iat:?}: {}", reply.body);
    }
    // An organization deleted and made again: its former users' tokens are
    // not its new users' (their records went with the old one).
    let globex_admin = User {
        home: Some("globex"),
        ..ADMIN_OF_ACME
    };
    let token = globex_admin.caller();
    console.delete_organization("globex").expect(204).await;
    put_org(&console, "globex", None).await;
    let reply = console.console_list_keys("globex").by(&token).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
}

#[tokio::test]
async fn a_membership_read_is_trusted_for_five_seconds_then_read_again() {
    use orgkeys_shared::edge::membership::{CACHE_FOR, Memberships};
    use orgkeys_shared::edge::user::{Member, User as TokenUser};
    let console = start().await;
    let store = console.store();
    let member = Member {
        user: TokenUser {
            id: ADMIN_OF_ACME.sub.into(),
            email: None,
            organization_id: None,
            role: None,
        },
        home: orgkeys_api::OrgId::parse("acme").unwrap(),
        role: orgkeys_api::Role::OrgAdmin,
    };
    let memberships = Memberships::default();
    let start = chrono::Utc::now();
    let iat = Some(start.timestamp());
    memberships.admit(store, &member, iat, start).await.unwrap();
    let ann = store
        .get_member(&org_id("acme"), ADMIN_OF_ACME.sub)
        .await
        .unwrap()
        .unwrap();
    store
        .remove_member(&ann, &orgkeys_tests::seed_draft())
        .await
        .unwrap();
    let almost = start + CACHE_FOR - chrono::TimeDelta::milliseconds(1);
    assert!(memberships.admit(store, &member, iat, almost).await.is_ok());
    let after = start + CACHE_FOR;
    assert!(memberships.admit(store, &member, iat, after).await.is_err());
    // A change this process made is seen at once.
    seed_member(
        store,
        "acme",
        ADMIN_OF_ACME.sub,
        ADMIN_OF_ACME.email,
        orgkeys_api::Role::OrgAdmin,
    )
    .await;
    let fresh = Memberships::default();
    let iat = Some(chrono::Utc::now().timestamp());
    fresh.admit(store, &member, iat, after).await.unwrap();
    fresh.forget(&org_id("acme"), ADMIN_OF_ACME.sub);
    let ann = store
        .get_member(&org_id("acme"), ADMIN_OF_ACME.sub)
        .await
        .unwrap()
        .unwrap();
    store
        .remove_member(&ann, &orgkeys_tests::seed_draft())
        .await
        .unwrap();
    assert!(fresh.admit(store, &member, iat, after).await.is_err());
}
