//! Console users through keygen's handler: the admin routes and the console
//! routes, against DynamoDB and a Cognito user pool on the same moto server.

use devserver::identity::LocalPool;
use devserver::identity::cognito::Cognito;
use keygen::user_directory::UserDirectory;
use orgkeys_shared::Store;
use orgkeys_shared::routes::{Operation, route};
use orgkeys_tests::{Reply, admin, endpoint, fresh_store, http_event, seed_org};
use serde_json::{Value, json};

const LIST: &str = route(Operation::ListUsers).key;
const INVITE: &str = route(Operation::InviteUser).key;
const UPDATE: &str = route(Operation::UpdateUser).key;
const REMOVE: &str = route(Operation::RemoveUser).key;
const DELETE_ORG: &str = route(Operation::DeleteOrganization).key;
const EVENTS: &str = route(Operation::ListAuditEvents).key;
const CONSOLE_INVITE: &str = route(Operation::InviteConsoleUser).key;
const CONSOLE_UPDATE: &str = route(Operation::UpdateConsoleUser).key;
const CONSOLE_REMOVE: &str = route(Operation::RemoveConsoleUser).key;
const CONSOLE_LIST: &str = route(Operation::ListConsoleUsers).key;

/// keygen with a fresh table and a fresh user pool, and the pool's directory.
struct Users {
    keygen: keygen::Keygen,
    directory: UserDirectory,
    store: Store,
}

async fn users() -> Users {
    let store = fresh_store().await;
    seed_org(&store, "acme").await;
    seed_org(&store, "globex").await;
    let pool = LocalPool::create(&Cognito::new(endpoint()))
        .await
        .expect("moto's Cognito API");
    let config = orgkeys_shared::dynamo::config::loader()
        .endpoint_url(endpoint())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
        .load()
        .await;
    let directory = UserDirectory::from_config(&config, &pool.pool_id);
    let keygen = keygen::Keygen::new(store.clone(), keygen::Settings::default())
        .with_user_directory(Some(directory.clone()));
    Users {
        keygen,
        directory,
        store,
    }
}

impl Users {
    async fn call(&self, request: lambda_http::Request) -> Reply {
        self.keygen
            .handle(request)
            .await
            .expect("handler never fails")
            .into()
    }

    async fn invite(&self, org: &str, email: &str, role: &str) -> Reply {
        let body = json!({"email": email, "role": role}).to_string();
        self.call(admin(INVITE, &[("orgId", org)], Some(&body)))
            .await
    }

    async fn list(&self, org: &str) -> Vec<Value> {
        let reply = self.call(admin(LIST, &[("orgId", org)], None)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json["items"].as_array().unwrap().clone()
    }

    /// The organization's `user.*` events, newest first.
    async fn user_events(&self, org: &str) -> Vec<Value> {
        let reply = self.call(admin(EVENTS, &[("orgId", org)], None)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let items = reply.json["items"].as_array().unwrap();
        let is_user = |e: &&Value| e["action"].as_str().unwrap().starts_with("user.");
        items.iter().filter(is_user).cloned().collect()
    }
}

/// A console request of the user `sub`, home `org`, in `group`.
fn console(
    route: &str,
    params: &[(&str, &str)],
    body: Option<&str>,
    sub: &str,
    org: &str,
    group: &str,
) -> lambda_http::Request {
    let claims = json!({
        "sub": sub, "email": format!("{sub}@acme.example"),
        "custom:organizationId": org, "cognito:groups": format!("[{group}]"),
    });
    http_event(
        route,
        params,
        body,
        json!({"jwt": {"claims": claims, "scopes": null}}),
    )
}

#[tokio::test]
async fn a_user_is_invited_listed_promoted_and_removed_each_with_its_event() {
    let users = users().await;
    let invited = users.invite("acme", "Ann@Acme.example", "org-viewer").await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let user = &invited.json;
    assert_eq!(user["email"], "ann@acme.example");
    assert_eq!(user["role"], "org-viewer");
    assert_eq!(user["status"], "invited");
    let user_id = user["userId"].as_str().unwrap().to_owned();
    let in_cognito = users.directory.find("ann@acme.example").await.unwrap();
    let in_cognito = in_cognito.expect("the user is in the pool");
    assert_eq!(in_cognito.sub, user_id);
    assert_eq!(in_cognito.organization_id.as_deref(), Some("acme"));
    assert_eq!(users.list("acme").await, vec![user.clone()]);
    assert!(users.list("globex").await.is_empty());

    let params = [("orgId", "acme"), ("userId", user_id.as_str())];
    let promoted = users
        .call(admin(UPDATE, &params, Some(r#"{"role":"org-admin"}"#)))
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    assert_eq!(promoted.json["role"], "org-admin");
    let again = users
        .call(admin(UPDATE, &params, Some(r#"{"role":"org-admin"}"#)))
        .await;
    assert_eq!(again.status, 200, "the same role again changes nothing");
    let removed = users.call(admin(REMOVE, &params, None)).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert!(users.list("acme").await.is_empty());
    assert_eq!(users.directory.find(&user_id).await.unwrap(), None);
    users.call(admin(REMOVE, &params, None)).await.problem(404);

    let events = users.user_events("acme").await;
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user.removed", "user.updated", "user.invited"]);
    for event in &events {
        assert_eq!(event["target"], json!({"type": "user", "id": user_id}));
        assert_eq!(event["actor"]["type"], "admin");
        assert_eq!(event["details"]["email"], "ann@acme.example");
    }
    assert_eq!(events[1]["details"]["previousRole"], "org-viewer");
    assert_eq!(events[1]["details"]["role"], "org-admin");
}

#[tokio::test]
async fn an_invitation_cut_after_cognito_is_finished_by_the_same_invitation() {
    let users = users().await;
    // What an invitation leaves when DynamoDB fails after Cognito: the
    // user in the pool, no group, no record.
    let created = users.directory.invite("bob@acme.example", "acme").await;
    let created = created.unwrap().expect("a new user");
    assert!(users.list("acme").await.is_empty());
    let finished = users.invite("acme", "bob@acme.example", "org-admin").await;
    assert_eq!(finished.status, 201, "{}", finished.body);
    assert_eq!(finished.json["userId"], created.sub.as_str());
    assert_eq!(users.list("acme").await.len(), 1);
    assert_eq!(users.user_events("acme").await.len(), 1);
}

#[tokio::test]
async fn an_email_already_a_user_here_or_elsewhere_is_a_409_that_records_nothing() {
    let users = users().await;
    assert_eq!(
        users
            .invite("acme", "cy@acme.example", "org-viewer")
            .await
            .status,
        201
    );
    let duplicate = users.invite("acme", "CY@acme.example", "org-admin").await;
    assert!(
        duplicate.problem(409)["detail"]
            .as_str()
            .unwrap()
            .contains("already a user")
    );
    let elsewhere = users
        .invite("globex", "cy@acme.example", "org-viewer")
        .await;
    assert!(
        elsewhere.problem(409)["detail"]
            .as_str()
            .unwrap()
            .contains("another organization")
    );
    assert_eq!(users.list("acme").await[0]["role"], "org-viewer");
    assert!(users.list("globex").await.is_empty());
    assert_eq!(users.user_events("acme").await.len(), 1);
    assert!(users.user_events("globex").await.is_empty());
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field_and_creates_nobody() {
    let users = users().await;
    let invite = |body: &'static str| admin(INVITE, &[("orgId", "acme")], Some(body));
    let reply = users
        .call(invite(r#"{"email":"not an email","role":"boss"}"#))
        .await;
    assert_eq!(reply.pointers(400), ["/email", "/role"]);
    let reply = users
        .call(invite(
            r#"{"email":"a@acme.example","role":"org-admin","org":"x"}"#,
        ))
        .await;
    assert_eq!(reply.pointers(400), ["/org"]);
    users.call(invite("")).await.problem(400);
    users
        .call(invite(r#"{"email":"a@acme.example"}"#))
        .await
        .problem(400);
    assert_eq!(users.directory.find("a@acme.example").await.unwrap(), None);
    let missing = users.invite("initech", "a@acme.example", "org-admin").await;
    missing.problem(404);
    assert_eq!(users.directory.find("a@acme.example").await.unwrap(), None);

    let bad_id = [("orgId", "acme"), ("userId", "a b")];
    let reply = users
        .call(admin(UPDATE, &bad_id, Some(r#"{"role":"org-admin"}"#)))
        .await;
    assert_eq!(reply.problem(400)["errors"][0]["parameter"], "userId");
    let unknown = [("orgId", "acme"), ("userId", "no-such-user")];
    let reply = users
        .call(admin(UPDATE, &unknown, Some(r#"{"role":"superuser"}"#)))
        .await;
    assert_eq!(reply.pointers(400), ["/role"]);
    users
        .call(admin(UPDATE, &unknown, Some(r#"{"role":"org-admin"}"#)))
        .await
        .problem(404);
    assert!(users.user_events("acme").await.is_empty());
}

#[tokio::test]
async fn a_console_admin_manages_others_but_cannot_remove_or_demote_themselves() {
    let users = users().await;
    let me = users
        .invite("acme", "me@acme.example", "org-admin")
        .await
        .json;
    let me = me["userId"].as_str().unwrap().to_owned();
    let as_me = |route, params: &[(&str, &str)], body| {
        console(route, params, body, &me, "acme", "org-admin")
    };
    let invited = users
        .call(as_me(
            CONSOLE_INVITE,
            &[("orgId", "acme")],
            Some(r#"{"email":"dee@acme.example","role":"org-viewer"}"#),
        ))
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let dee = invited.json["userId"].as_str().unwrap().to_owned();
    let listed = users
        .call(as_me(CONSOLE_LIST, &[("orgId", "acme")], None))
        .await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 2);

    let mine = [("orgId", "acme"), ("userId", me.as_str())];
    let demoted = users
        .call(as_me(
            CONSOLE_UPDATE,
            &mine,
            Some(r#"{"role":"org-viewer"}"#),
        ))
        .await;
    assert!(
        demoted.problem(403)["detail"]
            .as_str()
            .unwrap()
            .contains("demote yourself")
    );
    let removed = users.call(as_me(CONSOLE_REMOVE, &mine, None)).await;
    assert!(
        removed.problem(403)["detail"]
            .as_str()
            .unwrap()
            .contains("remove yourself")
    );
    let kept = users.list("acme").await;
    assert!(
        kept.iter()
            .any(|u| u["userId"] == me.as_str() && u["role"] == "org-admin")
    );

    let theirs = [("orgId", "acme"), ("userId", dee.as_str())];
    let promoted = users
        .call(as_me(
            CONSOLE_UPDATE,
            &theirs,
            Some(r#"{"role":"org-admin"}"#),
        ))
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    assert_eq!(
        users
            .call(as_me(CONSOLE_REMOVE, &theirs, None))
            .await
            .status,
        204
    );
    let events = users.user_events("acme").await;
    let by_me = events
        .iter()
        .filter(|e| e["actor"]["id"] == me.as_str())
        .count();
    assert_eq!(
        by_me, 3,
        "invited, promoted and removed by the console user"
    );
}

#[tokio::test]
async fn a_viewer_and_a_user_of_another_organization_change_nothing() {
    let users = users().await;
    let body = Some(r#"{"email":"eve@acme.example","role":"org-admin"}"#);
    let viewer = console(
        CONSOLE_INVITE,
        &[("orgId", "acme")],
        body,
        "v1",
        "acme",
        "org-viewer",
    );
    let refused = users.call(viewer).await;
    assert_eq!(
        refused.problem(403)["type"],
        "urn:orgkeys:problem:forbidden"
    );
    let outsider = console(
        CONSOLE_INVITE,
        &[("orgId", "acme")],
        body,
        "g1",
        "globex",
        "org-admin",
    );
    users.call(outsider).await.problem(404);
    let outsider = console(
        CONSOLE_LIST,
        &[("orgId", "acme")],
        None,
        "g1",
        "globex",
        "org-admin",
    );
    users.call(outsider).await.problem(404);
    assert_eq!(
        users.directory.find("eve@acme.example").await.unwrap(),
        None
    );
    assert!(users.user_events("acme").await.is_empty());
}

#[tokio::test]
async fn deleting_an_organization_deletes_its_users_in_cognito_and_their_records() {
    let users = users().await;
    let user = users
        .invite("acme", "fay@acme.example", "org-admin")
        .await
        .json;
    let user_id = user["userId"].as_str().unwrap();
    let deleted = users
        .call(admin(DELETE_ORG, &[("orgId", "acme")], None))
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(users.directory.find(user_id).await.unwrap(), None);
    assert_eq!(users.store.get_member("acme", user_id).await.unwrap(), None);
    seed_org(&users.store, "acme").await;
    assert!(users.list("acme").await.is_empty());
}

#[tokio::test]
async fn without_a_user_pool_the_users_routes_say_so_with_a_501() {
    let store = fresh_store().await;
    seed_org(&store, "acme").await;
    let body = Some(r#"{"email":"gus@acme.example","role":"org-admin"}"#);
    for request in [
        admin(LIST, &[("orgId", "acme")], None),
        admin(INVITE, &[("orgId", "acme")], body),
    ] {
        let reply: Reply = keygen::handle(&store, request).await.unwrap().into();
        let detail = reply.problem(501)["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("CONSOLE_USER_POOL_ID"), "{detail}");
    }
}

#[tokio::test]
async fn an_invitation_whose_transaction_is_cut_leaves_no_record_or_event_and_its_retry_finishes() {
    let users = users().await;
    let before = orgkeys_tests::dump_table(&users.store).await;
    let proxy = orgkeys_tests::fault_proxy::FaultProxy::start(&endpoint()).await;
    let flaky = Store::new(
        orgkeys_tests::client_for(&proxy.endpoint).await,
        users.store.table(),
    );
    let cut = keygen::Keygen::new(flaky, keygen::Settings::default())
        .with_user_directory(Some(users.directory.clone()));
    // The organization, the user's record, the organization again, then the transaction.
    proxy.cut_after(3);
    let body = r#"{"email":"hal@acme.example","role":"org-admin"}"#;
    let reply: Reply = cut
        .handle(admin(INVITE, &[("orgId", "acme")], Some(body)))
        .await
        .unwrap()
        .into();
    reply.problem(500);
    proxy.heal();
    let after = orgkeys_tests::dump_table(&users.store).await;
    assert_eq!(after.lines().count(), before.lines().count());
    assert!(
        !after.contains("hal@acme.example"),
        "neither record nor event"
    );
    let in_cognito = users.directory.find("hal@acme.example").await.unwrap();
    assert!(in_cognito.is_some(), "Cognito came first");

    let retried = users.invite("acme", "hal@acme.example", "org-admin").await;
    assert_eq!(retried.status, 201, "{}", retried.body);
    assert_eq!(retried.json["userId"], in_cognito.unwrap().sub.as_str());
    assert_eq!(users.user_events("acme").await.len(), 1);
}
