//! Console users over HTTP against the devserver binary: an organization
//! admin invites a user in the console, the invitation Cognito would email
//! lands in the local gateway's outbox (`GET /local/outbox`), and the invited
//! user signs in with its temporary password through `/oauth2/authorize` and
//! `/oauth2/token`, choosing their own; removed, they can no longer sign in.

use super::console::{
    PASSWORD, authorize_page, client_id, code_of, exchange, me, pkce, sign_in, start, submit,
};
use devserver::identity::DEMO_ADMIN;
use orgkeys_tests::app::Caller;
use orgkeys_tests::local_gateway::Devserver;
use serde_json::{Value, json};

async fn outbox(server: &Devserver) -> Vec<Value> {
    let reply = server.call("GET", "/local/outbox", None, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json["items"].as_array().unwrap().clone()
}

/// The invited user's first sign-in: the temporary password, then their own.
async fn first_sign_in(server: &Devserver, email: &str, temporary: &str, chosen: &str) -> Value {
    let client = client_id(server);
    let pkce = pkce();
    let page = authorize_page(server, &client, &pkce).await;
    let challenge = submit(
        server,
        &page.body,
        &[("email", email), ("password", temporary)],
    )
    .await;
    assert!(
        challenge.body.contains(">New password</label>"),
        "{}",
        challenge.body
    );
    let redirect = submit(server, &challenge.body, &[("new_password", chosen)]).await;
    let tokens = exchange(server, &client, &code_of(&redirect), &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    tokens.json
}

#[tokio::test]
async fn an_invited_user_finds_the_invitation_in_the_outbox_and_signs_in() {
    let server = start();
    assert!(outbox(&server).await.is_empty());
    let admin_tokens = sign_in(&server, DEMO_ADMIN, PASSWORD).await;
    let admin = Caller::id_token(admin_tokens["id_token"].as_str().unwrap());
    let app = server.app();
    let body = json!({"email": "new.viewer@acme.example", "role": "org-viewer"});
    let invited = app.console_invite_user("acme", body).by(&admin).await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let user_id = invited.json["userId"].as_str().unwrap().to_owned();

    let messages = outbox(&server).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert_eq!(message["to"], "new.viewer@acme.example");
    assert_eq!(message["signInUrl"], format!("{}/console/", server.url));
    let temporary = message["temporaryPassword"].as_str().unwrap();
    // The product's invitation (the invitations function's), naming the
    // organization, with Cognito's placeholders filled in.
    assert_eq!(
        message["subject"],
        "You are invited to Acme's API keys console"
    );
    let text = message["body"].as_str().unwrap();
    assert!(text.contains("manage Acme's API keys"), "{text}");
    assert!(text.contains(&format!("<b>{temporary}</b>")), "{text}");
    assert!(text.contains("<b>new.viewer@acme.example</b>"), "{text}");
    // keygen never handled the password: its answer and the table hold none.
    assert!(!invited.body.contains(temporary));
    let stored = orgkeys_tests::dump_table(&table_store(&server).await).await;
    assert!(!stored.contains(temporary));

    let tokens = first_sign_in(
        &server,
        "new.viewer@acme.example",
        temporary,
        "Chosen-pass-9876",
    )
    .await;
    let who = me(&server, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(who.json["user"]["id"], user_id.as_str());
    assert_eq!(
        (who.json["role"].clone(), who.json["organizationId"].clone()),
        (json!("org-viewer"), json!("acme"))
    );
    let listed = app.console_list_users("acme").by(&admin).await;
    let items = listed.json["items"].as_array().unwrap();
    let entry = items
        .iter()
        .find(|user| user["userId"] == user_id.as_str())
        .expect("the invited user is listed, beside the demo admin");
    assert_eq!(entry["status"], "active");

    // A viewer may read the list but not invite.
    let viewer = Caller::id_token(tokens["id_token"].as_str().unwrap());
    assert_eq!(app.console_list_users("acme").by(&viewer).await.status, 200);
    let body = json!({"email": "x@acme.example", "role": "org-admin"});
    assert_eq!(
        app.console_invite_user("acme", body)
            .by(&viewer)
            .await
            .status,
        403
    );

    let removed = app.console_remove_user("acme", &user_id).by(&admin).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    let client = client_id(&server);
    let pkce = pkce();
    let page = authorize_page(&server, &client, &pkce).await;
    let refused = submit(
        &server,
        &page.body,
        &[
            ("email", "new.viewer@acme.example"),
            ("password", "Chosen-pass-9876"),
        ],
    )
    .await;
    assert_ne!(
        refused.status, 302,
        "a removed user signed in: {}",
        refused.body
    );
}

/// A store on the devserver's table, to look at what it wrote.
async fn table_store(server: &Devserver) -> orgkeys_shared::Store {
    let client = orgkeys_tests::client_for(&orgkeys_tests::endpoint()).await;
    orgkeys_shared::Store::new(client, &server.table)
}

/// `orgkeys` with the admin token against `server`; asserts it succeeded.
fn orgkeys(server: &Devserver, args: &[&str]) -> String {
    let output =
        std::process::Command::new(orgkeys_tests::local_gateway::workspace_binary("orgkeys"))
            .args(args)
            .env("ORGKEYS_API_URL", &server.url)
            .env("ORGKEYS_ADMIN_TOKEN", "e2e-admin-token")
            .output()
            .expect("run orgkeys");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert!(
        output.status.success(),
        "{args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    stdout
}

#[tokio::test]
async fn the_cli_invites_lists_changes_and_removes_users() {
    let server = start();
    let invited = orgkeys(
        &server,
        &[
            "--output",
            "json",
            "user",
            "invite",
            "acme",
            "Ivy@acme.example",
            "--role",
            "org-viewer",
        ],
    );
    let invited: Value = serde_json::from_str(&invited).unwrap();
    let user_id = invited["userId"].as_str().unwrap().to_owned();
    assert_eq!(invited["email"], "ivy@acme.example");
    assert_eq!(outbox(&server).await[0]["to"], "ivy@acme.example");

    let table = orgkeys(&server, &["user", "list", "acme"]);
    assert!(table.starts_with("USER "), "{table}");
    assert!(
        table.contains(&user_id) && table.contains("org-viewer"),
        "{table}"
    );
    let listed = orgkeys(&server, &["--output", "json", "user", "list", "acme"]);
    let api = server.app().list_users("acme").await;
    assert_eq!(
        listed.trim_end(),
        api.body,
        "--output json is the API's JSON"
    );

    let updated = orgkeys(
        &server,
        &["user", "update", "acme", &user_id, "--role", "org-admin"],
    );
    assert!(updated.contains("org-admin"), "{updated}");
    orgkeys(&server, &["user", "remove", "acme", &user_id]);
    let after = server.app().list_users("acme").await;
    let emails: Vec<&Value> = after.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["email"])
        .collect();
    assert_eq!(
        emails,
        [&json!("admin@acme.example")],
        "the demo admin's record stays"
    );
    let events = orgkeys(&server, &["audit", "acme"]);
    for action in ["user.invited", "user.updated", "user.removed"] {
        assert!(events.contains(action), "{events}");
    }
}
