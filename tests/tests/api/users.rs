//! Console users through keygen's handler: the admin routes and the console
//! routes, against DynamoDB and a Cognito user pool on the same moto server.

use devserver::identity::LocalPool;
use devserver::identity::cognito::Cognito;
use keygen::user_directory::UserDirectory;
use orgkeys_api::Role;
use orgkeys_shared::Store;
use orgkeys_tests::app::{Caller, HandlerSettings, TestApp};
use orgkeys_tests::{Reply, endpoint, fresh_store, seed_member, seed_org};
use serde_json::{Value, json};

/// The app over a fresh table and a fresh user pool, and the pool's directory.
struct Users {
    app: TestApp,
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
    let settings = HandlerSettings {
        users: Some(directory.clone()),
        ..HandlerSettings::default()
    };
    Users {
        app: TestApp::with_settings(store.clone(), settings),
        directory,
        store,
    }
}

impl Users {
    async fn invite(&self, org: &str, email: &str, role: &str) -> Reply {
        let body = json!({"email": email, "role": role});
        self.app.invite_user(org, body).await
    }

    async fn list(&self, org: &str) -> Vec<Value> {
        let reply = self.app.list_users(org).expect(200).await;
        reply.json["items"].as_array().unwrap().clone()
    }

    /// The organization's `user.*` events, newest first.
    async fn user_events(&self, org: &str) -> Vec<Value> {
        let reply = self.app.list_audit_events(org).expect(200).await;
        let items = reply.json["items"].as_array().unwrap();
        let is_user = |e: &&Value| e["action"].as_str().unwrap().starts_with("user.");
        items.iter().filter(is_user).cloned().collect()
    }
}

/// The console user `sub`, home `org`, in `group`, their token issued now.
fn console_user(sub: &str, org: &str, group: &str) -> Caller {
    Caller::user(json!({
        "sub": sub, "email": format!("{sub}@acme.example"),
        "custom:organizationId": org, "cognito:groups": format!("[{group}]"),
        "iat": chrono::Utc::now().timestamp().to_string(),
    }))
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

    let promoted = users
        .app
        .update_user("acme", &user_id, json!({"role": "org-admin"}))
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    assert_eq!(promoted.json["role"], "org-admin");
    let again = users
        .app
        .update_user("acme", &user_id, json!({"role": "org-admin"}))
        .await;
    assert_eq!(again.status, 200, "the same role again changes nothing");
    let removed = users.app.remove_user("acme", &user_id).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert!(users.list("acme").await.is_empty());
    assert_eq!(users.directory.find(&user_id).await.unwrap(), None);
    users.app.remove_user("acme", &user_id).await.problem(404);

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
    let created = users
        .directory
        .invite("bob@acme.example", "acme", "Acme")
        .await;
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
    let invite = |body: &'static str| users.app.invite_user("acme", body);
    let reply = invite(r#"{"email":"not an email","role":"boss"}"#).await;
    assert_eq!(reply.pointers(400), ["/email", "/role"]);
    let reply = invite(r#"{"email":"a@acme.example","role":"org-admin","org":"x"}"#).await;
    assert_eq!(reply.pointers(400), ["/org"]);
    invite("").await.problem(400);
    invite(r#"{"email":"a@acme.example"}"#).await.problem(400);
    assert_eq!(users.directory.find("a@acme.example").await.unwrap(), None);
    let missing = users.invite("initech", "a@acme.example", "org-admin").await;
    missing.problem(404);
    assert_eq!(users.directory.find("a@acme.example").await.unwrap(), None);

    let reply = users
        .app
        .update_user("acme", "a b", json!({"role": "org-admin"}))
        .await;
    assert_eq!(reply.problem(400)["errors"][0]["parameter"], "userId");
    let unknown = |body: Value| users.app.update_user("acme", "no-such-user", body);
    let reply = unknown(json!({"role": "superuser"})).await;
    assert_eq!(reply.pointers(400), ["/role"]);
    unknown(json!({"role": "org-admin"})).await.problem(404);
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
    let as_me = console_user(&me, "acme", "org-admin");
    let invited = users
        .app
        .console_invite_user(
            "acme",
            json!({"email": "dee@acme.example", "role": "org-viewer"}),
        )
        .by(&as_me)
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let dee = invited.json["userId"].as_str().unwrap().to_owned();
    let listed = users.app.console_list_users("acme").by(&as_me).await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 2);

    let demoted = users
        .app
        .console_update_user("acme", &me, json!({"role": "org-viewer"}))
        .by(&as_me)
        .await;
    assert!(
        demoted.problem(403)["detail"]
            .as_str()
            .unwrap()
            .contains("demote yourself")
    );
    let removed = users.app.console_remove_user("acme", &me).by(&as_me).await;
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

    let promoted = users
        .app
        .console_update_user("acme", &dee, json!({"role": "org-admin"}))
        .by(&as_me)
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    assert_eq!(
        users
            .app
            .console_remove_user("acme", &dee)
            .by(&as_me)
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
    let body = json!({"email": "eve@acme.example", "role": "org-admin"});
    let invite = |caller: &Caller| {
        users
            .app
            .console_invite_user("acme", body.clone())
            .by(caller)
    };
    let store = users.app.store();
    seed_member(store, "acme", "v1", "v1@acme.example", Role::OrgViewer).await;
    seed_member(store, "globex", "g1", "g1@acme.example", Role::OrgAdmin).await;
    let seeded = users.user_events("acme").await.len();
    let refused = invite(&console_user("v1", "acme", "org-viewer")).await;
    assert_eq!(
        refused.problem(403)["type"],
        "urn:orgkeys:problem:forbidden"
    );
    let outsider = console_user("g1", "globex", "org-admin");
    invite(&outsider).await.problem(404);
    let listed = users.app.console_list_users("acme").by(&outsider).await;
    listed.problem(404);
    assert_eq!(
        users.directory.find("eve@acme.example").await.unwrap(),
        None
    );
    assert_eq!(users.user_events("acme").await.len(), seeded);
}

#[tokio::test]
async fn deleting_an_organization_deletes_its_users_in_cognito_and_their_records() {
    let users = users().await;
    let user = users
        .invite("acme", "fay@acme.example", "org-admin")
        .await
        .json;
    let user_id = user["userId"].as_str().unwrap();
    let deleted = users.app.delete_organization("acme").await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(users.directory.find(user_id).await.unwrap(), None);
    assert_eq!(
        users
            .store
            .get_member(&orgkeys_tests::org_id("acme"), user_id)
            .await
            .unwrap(),
        None
    );
    seed_org(&users.store, "acme").await;
    assert!(users.list("acme").await.is_empty());
}

#[tokio::test]
async fn without_a_user_pool_the_users_routes_say_so_with_a_501() {
    let app = TestApp::spawn().await;
    seed_org(app.store(), "acme").await;
    let body = json!({"email": "gus@acme.example", "role": "org-admin"});
    for call in [app.list_users("acme"), app.invite_user("acme", body)] {
        let reply = call.await;
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
    let cut = users.app.with_store(flaky);
    // The organization, the user's record, the organization again, then the transaction.
    proxy.cut_after(3);
    let body = json!({"email": "hal@acme.example", "role": "org-admin"});
    let reply = cut.invite_user("acme", body).await;
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
