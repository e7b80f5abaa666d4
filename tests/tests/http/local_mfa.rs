//! Authenticator apps (TOTP) on the local sign-in, over HTTP against the
//! devserver binary, as the console and a user's app do it: the user-pool
//! API's AssociateSoftwareToken, VerifySoftwareToken and SetUserMFAPreference
//! with the user's access token, then a sign-in that asks for the code after
//! the password. The app's codes come from `totp-lite`, not from the
//! gateway's own TOTP crate.

use super::console::{
    authorize_page, client_id, code_of, exchange, me, pkce, sign_in, start, submit,
};
use devserver::identity::cognito::{Cognito, NewUser};
use orgkeys_tests::http_client::{HttpReply, http};
use orgkeys_tests::local_gateway::Devserver;
use serde_json::{Value, json};

const PASSWORD: &str = "Totp-pass-1234";

/// A viewer of `acme-emea` who signs in with [`PASSWORD`].
async fn user(server: &Devserver, email: &str) {
    let user = NewUser {
        email,
        organization_id: "acme-emea",
        group: "org-viewer",
    };
    Cognito::new(orgkeys_tests::endpoint())
        .create_user(&super::console::pool_id(server), &user, PASSWORD, true)
        .await
        .unwrap();
}

/// A call to the local user-pool API, as the console makes it.
async fn user_pool(server: &Devserver, operation: &str, body: Value) -> HttpReply {
    let target = format!("AWSCognitoIdentityProviderService.{operation}");
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target.as_str()),
    ];
    let url = format!("{}/local/user-pool", server.url);
    http("POST", &url, &headers, Some(body.to_string().into_bytes())).await
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The authenticator app: the code of `secret` (base32) at `time`.
fn app_code(secret: &str, time: u64) -> String {
    let key = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret)
        .expect("the secret is base32");
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &key, time)
}

/// A code that is none of `secret`'s from a minute before `time` to a minute after.
fn wrong_code(secret: &str, time: u64) -> String {
    let near: Vec<String> = (0..=4)
        .map(|step| app_code(secret, time - 60 + step * 30))
        .collect();
    (0..)
        .map(|n| format!("{n:06}"))
        .find(|code| !near.contains(code))
        .unwrap()
}

/// Sets up and enables an authenticator for the holder of `access_token`; its secret.
async fn set_up(server: &Devserver, access_token: &str) -> String {
    let associated = user_pool(
        server,
        "AssociateSoftwareToken",
        json!({"AccessToken": access_token}),
    )
    .await;
    assert_eq!(associated.status, 200, "{}", associated.body);
    let secret = associated.json["SecretCode"].as_str().unwrap().to_owned();
    verify(server, access_token, &secret).await;
    let preferred = user_pool(
        server,
        "SetUserMFAPreference",
        json!({"AccessToken": access_token,
               "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    )
    .await;
    assert_eq!(preferred.status, 200, "{}", preferred.body);
    secret
}

/// Verifies the new authenticator of the holder of `access_token` with the app's code now.
async fn verify(server: &Devserver, access_token: &str, secret: &str) {
    let verified = user_pool(
        server,
        "VerifySoftwareToken",
        json!({"AccessToken": access_token, "UserCode": app_code(secret, now())}),
    )
    .await;
    assert_eq!(
        verified.json,
        json!({"Status": "SUCCESS"}),
        "{}",
        verified.body
    );
}

/// A sign-in's password step: the code form it leads to.
async fn password_step(server: &Devserver, email: &str) -> (super::console::Pkce, HttpReply) {
    let pkce = pkce();
    let page = authorize_page(server, &client_id(server), &pkce).await;
    let form = submit(
        server,
        &page.body,
        &[("email", email), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(form.status, 200, "a code, not a redirect: {}", form.body);
    assert!(form.body.contains(">Code</label>"), "{}", form.body);
    (pkce, form)
}

#[tokio::test]
async fn a_user_sets_up_an_authenticator_then_signs_in_with_its_code_once() {
    let server = start();
    let email = "ann.totp@acme.example";
    user(&server, email).await;
    let tokens = sign_in(&server, email, PASSWORD).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let described = user_pool(&server, "GetUser", json!({"AccessToken": access_token})).await;
    assert_eq!(described.status, 200, "{}", described.body);
    assert!(
        described.json.get("UserMFASettingList").is_none(),
        "{}",
        described.body
    );

    let associated = user_pool(
        &server,
        "AssociateSoftwareToken",
        json!({"AccessToken": access_token}),
    )
    .await;
    let secret = associated.json["SecretCode"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let enable = json!({"AccessToken": access_token,
                        "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}});
    let early = user_pool(&server, "SetUserMFAPreference", enable.clone()).await;
    assert_eq!(
        (early.status, &early.json["__type"]),
        (400, &json!("InvalidParameterException")),
        "not before a code verifies"
    );
    let mismatch = user_pool(
        &server,
        "VerifySoftwareToken",
        json!({"AccessToken": access_token, "UserCode": wrong_code(&secret, now())}),
    )
    .await;
    assert_eq!(
        (mismatch.status, &mismatch.json["__type"]),
        (400, &json!("EnableSoftwareTokenMFAException"))
    );
    assert!(!mismatch.body.contains(&secret));
    verify(&server, access_token, &secret).await;
    assert_eq!(
        user_pool(&server, "SetUserMFAPreference", enable)
            .await
            .status,
        200
    );
    let described = user_pool(&server, "GetUser", json!({"AccessToken": access_token})).await;
    assert_eq!(
        described.json["UserMFASettingList"],
        json!(["SOFTWARE_TOKEN_MFA"])
    );
    assert_eq!(described.json["PreferredMfaSetting"], "SOFTWARE_TOKEN_MFA");

    // The password alone no longer signs in: the code form, then the code.
    let (pkce, form) = password_step(&server, email).await;
    let wrong = submit(
        &server,
        &form.body,
        &[("code", &wrong_code(&secret, now()))],
    )
    .await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("Incorrect code"), "{}", wrong.body);
    // The next step's code: accepted a step early, as a clock a little ahead is.
    let code = app_code(&secret, now() + 30);
    let redirect = submit(&server, &wrong.body, &[("code", &code)]).await;
    let tokens = exchange(
        &server,
        &client_id(&server),
        &code_of(&redirect),
        &pkce.verifier,
    )
    .await;
    let who = me(&server, tokens.json["id_token"].as_str().unwrap()).await;
    assert_eq!(who.json["user"]["email"], email, "{}", who.body);

    // The same code does not sign in twice.
    let (_, form) = password_step(&server, email).await;
    let replayed = submit(&server, &form.body, &[("code", &code)]).await;
    assert!(
        replayed.body.contains("Incorrect code"),
        "{}",
        replayed.body
    );
    assert!(
        !server.output().contains(&secret),
        "the secret never reaches the gateway's log"
    );
}

#[tokio::test]
async fn wrong_codes_count_toward_the_lockout_and_a_right_password_does_not_reset_it() {
    let server = start();
    let email = "bob.totp@acme.example";
    user(&server, email).await;
    let tokens = sign_in(&server, email, PASSWORD).await;
    let secret = set_up(&server, tokens["access_token"].as_str().unwrap()).await;
    let wrong = wrong_code(&secret, now());

    let (_, mut form) = password_step(&server, email).await;
    for _ in 0..2 {
        form = submit(&server, &form.body, &[("code", &wrong)]).await;
        assert!(form.body.contains("Incorrect code"), "{}", form.body);
    }
    // A right password again: the count goes on.
    let (_, mut form) = password_step(&server, email).await;
    for _ in 0..2 {
        form = submit(&server, &form.body, &[("code", &wrong)]).await;
        assert!(form.body.contains("Incorrect code"), "{}", form.body);
    }
    let fifth = submit(&server, &form.body, &[("code", &wrong)]).await;
    assert!(
        fifth.body.contains("Password attempts exceeded"),
        "{}",
        fifth.body
    );
    assert!(
        fifth.body.contains(">Password</label>"),
        "back to the sign-in form"
    );

    let pkce = pkce();
    let page = authorize_page(&server, &client_id(&server), &pkce).await;
    let locked = submit(
        &server,
        &page.body,
        &[("email", email), ("password", PASSWORD)],
    )
    .await;
    assert!(
        locked.body.contains("Password attempts exceeded"),
        "{}",
        locked.body
    );
}

#[tokio::test]
async fn the_user_pool_api_refuses_a_token_the_pool_did_not_issue_as_an_access_token() {
    let server = start();
    let email = "cy.totp@acme.example";
    user(&server, email).await;
    let tokens = sign_in(&server, email, PASSWORD).await;
    for (body, kind) in [
        (json!({"AccessToken": "forged"}), "NotAuthorizedException"),
        (
            json!({"AccessToken": tokens["id_token"]}),
            "NotAuthorizedException",
        ),
        (json!({}), "InvalidParameterException"),
    ] {
        let refused = user_pool(&server, "AssociateSoftwareToken", body.clone()).await;
        assert_eq!(
            (refused.status, &refused.json["__type"]),
            (400, &json!(kind)),
            "{body}: {}",
            refused.body
        );
        assert!(refused.json.get("SecretCode").is_none());
    }
    // Operations beyond the user's own authenticator are not served here.
    let other = user_pool(
        &server,
        "AdminSetUserMFAPreference",
        json!({"AccessToken": tokens["access_token"]}),
    )
    .await;
    assert_eq!(other.json["__type"], "UnknownOperationException");
}
