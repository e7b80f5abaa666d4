//! The local sign-in stand-in and the other local-only routes, turned
//! against their users as a red team did: a first sign-in's new password set
//! for someone else, wrong passwords without end, control characters in the
//! redirect parameters, a DNS-rebinding `Host`, the Cognito proxy called by
//! anyone. Each is refused, and the gateway keeps answering.

use super::console::{
    PASSWORD, authorize_page, client_id, code_of, exchange, me, pkce, sign_in, start, submit,
};
use devserver::identity::DEMO_ADMIN;
use devserver::identity::cognito::{Cognito, NewUser};
use orgkeys_tests::http_client::http;
use orgkeys_tests::local_gateway::Devserver;
use serde_json::json;

const REDIRECT: &str = "http://127.0.0.1:4000/console/";

/// A user of `acme-emea` created with a temporary password (a pending invitation).
async fn pending_user(server: &Devserver, email: &'static str) -> NewUser<'static> {
    let pool = super::console::pool_id(server);
    let user = NewUser {
        email,
        organization_id: "acme-emea",
        group: "org-viewer",
    };
    Cognito::new(orgkeys_tests::endpoint())
        .create_user(&pool, &user, "Temp-pass-1234", false)
        .await
        .unwrap();
    user
}

#[tokio::test]
async fn the_new_password_step_sets_the_signed_in_users_password_whatever_the_form_says() {
    let server = start();
    let mallory = pending_user(&server, "mallory@acme.example").await;
    let client = client_id(&server);
    let pkce = pkce();
    let page = authorize_page(&server, &client, &pkce).await;
    let challenge = submit(
        &server,
        &page.body,
        &[("email", mallory.email), ("password", "Temp-pass-1234")],
    )
    .await;
    assert!(challenge.body.contains(">New password</label>"));
    // Mallory's own pending session, with the demo admin's email added.
    let redirect = submit(
        &server,
        &challenge.body,
        &[("email", DEMO_ADMIN), ("new_password", "Taken-over-5678")],
    )
    .await;
    let tokens = exchange(&server, &client, &code_of(&redirect), &pkce.verifier).await;
    let who = me(&server, tokens.json["id_token"].as_str().unwrap()).await;
    assert_eq!(who.json["user"]["email"], mallory.email, "{}", who.body);
    // The admin's password is still theirs; the one Mallory chose is Mallory's.
    assert!(sign_in(&server, DEMO_ADMIN, PASSWORD).await["id_token"].is_string());
    assert!(sign_in(&server, mallory.email, "Taken-over-5678").await["id_token"].is_string());
}

#[tokio::test]
async fn a_new_password_without_a_pending_sign_in_of_this_server_is_refused() {
    let server = start();
    let client = client_id(&server);
    let pkce = pkce();
    let page = authorize_page(&server, &client, &pkce).await;
    let forged = submit(
        &server,
        &page.body,
        &[
            ("email", DEMO_ADMIN),
            ("session", "made-up-session"),
            ("new_password", "Taken-over-5678"),
        ],
    )
    .await;
    assert_eq!(forged.status, 200);
    assert!(
        forged.body.contains("That sign-in expired"),
        "{}",
        forged.body
    );
    assert!(sign_in(&server, DEMO_ADMIN, PASSWORD).await["id_token"].is_string());
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_email_out_even_for_the_right_one() {
    let server = start();
    let client = client_id(&server);
    let pkce = pkce();
    let page = authorize_page(&server, &client, &pkce).await;
    let attempt = |password: &'static str| {
        let (server, page) = (&server, &page.body);
        async move {
            submit(
                server,
                page,
                &[("email", DEMO_ADMIN), ("password", password)],
            )
            .await
        }
    };
    for _ in 0..5 {
        let wrong = attempt("Wrong-pass-0000").await;
        assert!(
            wrong.body.contains("Incorrect email or password."),
            "{}",
            wrong.body
        );
    }
    let right = attempt(PASSWORD).await;
    assert_eq!(right.status, 200, "no redirect while locked out");
    assert!(
        right.body.contains("Password attempts exceeded"),
        "{}",
        right.body
    );
}

/// Every byte that may not stand in a header as it is.
fn control_characters() -> impl Iterator<Item = char> {
    (0u8..0x20).chain([0x7f]).map(char::from)
}

fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[tokio::test]
async fn a_control_character_in_any_redirect_parameter_is_a_400_and_the_gateway_lives_on() {
    let server = start();
    let client = client_id(&server);
    let challenge = pkce().challenge;
    for c in control_characters() {
        let tainted_uri = format!("{REDIRECT}{c}X:1");
        let tainted_state = format!("s{c}X:1");
        for (uri, state) in [
            (tainted_uri.as_str(), "s"),
            (REDIRECT, tainted_state.as_str()),
        ] {
            let authorize = query(&[
                ("response_type", "code"),
                ("client_id", &client),
                ("redirect_uri", uri),
                ("state", state),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("email", DEMO_ADMIN),
                ("password", PASSWORD),
            ]);
            let url = format!("{}/oauth2/authorize", server.url);
            let page = http("GET", &format!("{url}?{authorize}"), &[], None).await;
            assert_eq!(page.status, 400, "GET with {:?}", c);
            let form = [("content-type", "application/x-www-form-urlencoded")];
            let signed_in = http("POST", &url, &form, Some(authorize.into_bytes())).await;
            assert_eq!(signed_in.status, 400, "POST with {:?}", c);
        }
        let logout = query(&[("client_id", &client), ("logout_uri", &tainted_uri)]);
        let url = format!("{}/logout?{logout}", server.url);
        assert_eq!(
            http("GET", &url, &[], None).await.status,
            400,
            "logout with {c:?}"
        );
    }
    assert!(sign_in(&server, DEMO_ADMIN, PASSWORD).await["id_token"].is_string());
}

#[tokio::test]
async fn local_only_routes_refuse_a_host_that_is_not_loopback() {
    let server = start();
    let paths = [
        ("GET", "/local/outbox"),
        ("POST", "/local/cognito-idp"),
        ("POST", "/local/user-pool"),
        ("GET", "/oauth2/authorize"),
        ("POST", "/oauth2/token"),
        ("GET", "/logout"),
        ("GET", "/console/config.json"),
        ("GET", "/docs"),
    ];
    for (method, path) in paths {
        let url = format!("{}{path}", server.url);
        let rebound = http(method, &url, &[("host", "rebound.example:3000")], None).await;
        assert_eq!(rebound.status, 403, "{method} {path}");
        assert_eq!(rebound.json, json!({"message": "Forbidden"}));
        // The same request by a loopback name gets past the check (the
        // proxy then refuses it for its own reason: it is unsigned).
        let port = server.url.rsplit(':').next().unwrap();
        let local = http(
            method,
            &url,
            &[("host", &format!("localhost:{port}"))],
            None,
        )
        .await;
        assert_ne!(local.json, rebound.json, "{method} {path}");
    }
    // The API itself is not local-only.
    let me = http(
        "GET",
        &format!("{}/v1/console/me", server.url),
        &[("host", "api.example")],
        None,
    )
    .await;
    assert_eq!(me.status, 401);
}

#[tokio::test]
async fn the_cognito_proxy_forwards_no_call_but_the_gateways_own() {
    let server = start();
    let url = format!("{}/local/cognito-idp", server.url);
    let pool = super::console::pool_id(&server);
    let body = json!({
        "UserPoolId": pool, "Username": "backdoor@acme.example",
        "UserAttributes": [{"Name": "custom:organizationId", "Value": "acme"}]
    });
    let moto_style = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0";
    for authorization in [None, Some(moto_style)] {
        let mut headers = vec![
            ("content-type", "application/x-amz-json-1.1"),
            (
                "x-amz-target",
                "AWSCognitoIdentityProviderService.AdminCreateUser",
            ),
        ];
        headers.extend(authorization.map(|a| ("authorization", a)));
        let reply = http("POST", &url, &headers, Some(body.to_string().into_bytes())).await;
        assert_eq!(reply.status, 403, "{}", reply.body);
    }
    let found = Cognito::new(orgkeys_tests::endpoint())
        .sign_in(&client_id(&server), "backdoor@acme.example", "whatever")
        .await;
    assert!(found.is_err(), "no user was created");
}
