//! Console sign-in over HTTP against the devserver binary: the local stand-in
//! of Cognito's managed login (authorization code with PKCE, a first sign-in's
//! new password, refresh), the tokens moto's Cognito API issues, and the JWT
//! check the gateway makes before a console route runs, which refuses every
//! forgery and every token not issued for it.

use devserver::identity::cognito::{Cognito, NewUser, PASSWORD_POLICY};
use devserver::identity::oauth::pkce_challenge;
use orgkeys_shared::routes::Operation;
use orgkeys_tests::app::Caller;
use orgkeys_tests::http_client::{HttpReply, http};
use orgkeys_tests::local_gateway::Devserver;
use serde_json::{Value, json};

pub(super) const PASSWORD: &str = "Demo-pass-1234";
const REDIRECT: &str = "http://127.0.0.1:4000/console/";
const FORM: &str = "application/x-www-form-urlencoded";

pub(super) fn start() -> Devserver {
    Devserver::start(&[("ORGKEYS_DEMO", "1"), ("ORGKEYS_DEMO_PASSWORD", PASSWORD)])
}

/// A value the banner prints after `label` (the pool, the app client).
fn banner_value(server: &Devserver, label: &str) -> String {
    let output = server.output();
    let at = output.find(label).expect("the banner names it") + label.len();
    output[at..]
        .split(|c: char| c.is_whitespace() || c == ',')
        .find(|word| !word.is_empty())
        .unwrap()
        .to_owned()
}

/// The local pool the gateway made.
pub(super) fn pool_id(server: &Devserver) -> String {
    banner_value(server, "local pool ")
}

pub(super) fn client_id(server: &Devserver) -> String {
    banner_value(server, "app client ")
}

fn encode(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

/// The hidden fields of a sign-in page, to send back with the user's input.
fn hidden_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|input| {
            let attribute = |name: &str| {
                let start = input.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                let end = start + input[start..].find('"').unwrap();
                input[start..end]
                    .replace("&amp;", "&")
                    .replace("&quot;", "\"")
            };
            (attribute("name"), attribute("value"))
        })
        .collect()
}

/// One sign-in's PKCE pair.
pub(super) struct Pkce {
    pub(super) verifier: String,
    pub(super) challenge: String,
}

pub(super) fn pkce() -> Pkce {
    let verifier = format!("v{}", orgkeys_tests::random_hex(32));
    Pkce {
        challenge: pkce_challenge(&verifier),
        verifier,
    }
}

pub(super) async fn authorize_page(server: &Devserver, client: &str, pkce: &Pkce) -> HttpReply {
    let query = String::from_utf8(encode(&[
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", REDIRECT),
        ("state", "state-1"),
        ("code_challenge", &pkce.challenge),
        ("code_challenge_method", "S256"),
        ("scope", "openid email"),
    ]))
    .unwrap();
    http(
        "GET",
        &format!("{}/oauth2/authorize?{query}", server.url),
        &[],
        None,
    )
    .await
}

/// Posts the page's form with `fields` filled in.
pub(super) async fn submit(server: &Devserver, page: &str, fields: &[(&str, &str)]) -> HttpReply {
    let mut pairs = hidden_fields(page);
    pairs.extend(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    let url = format!("{}/oauth2/authorize", server.url);
    http(
        "POST",
        &url,
        &[("content-type", FORM)],
        Some(body.into_bytes()),
    )
    .await
}

/// The code of a redirect back to the console, checked for its state.
pub(super) fn code_of(reply: &HttpReply) -> String {
    assert_eq!(reply.status, 302, "{}", reply.body);
    let location = reply.header("location").unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    let query = location.split_once('?').unwrap().1;
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    assert!(params.contains(&("state".into(), "state-1".into())));
    params.into_iter().find(|(k, _)| k == "code").unwrap().1
}

async fn token(server: &Devserver, pairs: &[(&str, &str)]) -> HttpReply {
    let url = format!("{}/oauth2/token", server.url);
    http("POST", &url, &[("content-type", FORM)], Some(encode(pairs))).await
}

pub(super) async fn exchange(
    server: &Devserver,
    client: &str,
    code: &str,
    verifier: &str,
) -> HttpReply {
    token(
        server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

pub(super) async fn me(server: &Devserver, token: &str) -> HttpReply {
    server.app().console_me().by(&Caller::id_token(token)).await
}

/// Signs `email` in with `password` through the forms; the code's tokens.
pub(super) async fn sign_in(server: &Devserver, email: &str, password: &str) -> Value {
    let client = client_id(server);
    let pkce = pkce();
    let page = authorize_page(server, &client, &pkce).await;
    let redirect = submit(
        server,
        &page.body,
        &[("email", email), ("password", password)],
    )
    .await;
    let tokens = exchange(server, &client, &code_of(&redirect), &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    tokens.json
}

#[tokio::test]
async fn the_demo_admin_signs_in_with_pkce_and_the_console_knows_them() {
    let server = start();
    let client = client_id(&server);
    let pkce = pkce();
    let page = authorize_page(&server, &client, &pkce).await;
    assert_eq!(page.status, 200);
    for label in [">Email</label>", ">Password</label>", ">Sign in</button>"] {
        assert!(page.body.contains(label), "{label} in {}", page.body);
    }

    let wrong = submit(
        &server,
        &page.body,
        &[("email", "admin@acme.example"), ("password", "nope")],
    )
    .await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("Incorrect email or password."));

    let redirect = submit(
        &server,
        &page.body,
        &[("email", "admin@acme.example"), ("password", PASSWORD)],
    )
    .await;
    let code = code_of(&redirect);
    let tokens = exchange(&server, &client, &code, &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.json["token_type"], "Bearer");
    let reused = exchange(&server, &client, &code, &pkce.verifier).await;
    assert_eq!(
        (reused.status, &reused.json["error"]),
        (400, &json!("invalid_grant"))
    );

    let who = me(&server, tokens.json["id_token"].as_str().unwrap()).await;
    assert_eq!(who.status, 200, "{}", who.body);
    assert_eq!(who.json["user"]["email"], "admin@acme.example");
    assert_eq!(who.json["role"], "org-admin");
    assert_eq!(who.json["organizationId"], "acme");
    assert_eq!(who.json["idRule"], orgkeys_api::ids::ID_RULE);
    assert!(
        who.json["user"]["id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );

    let refreshed = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            (
                "refresh_token",
                tokens.json["refresh_token"].as_str().unwrap(),
            ),
        ],
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let again = me(&server, refreshed.json["id_token"].as_str().unwrap()).await;
    assert_eq!(again.json["organizationId"], "acme");

    // The demo's organizations exist, the sub-organization under its parent.
    let emea = server.app().get_organization("acme-emea").await;
    assert_eq!(emea.json["parentId"], "acme", "{}", emea.body);
}

async fn refresh_with(server: &Devserver, client: &str, refresh_token: &str) -> HttpReply {
    token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

async fn revoke(server: &Devserver, pairs: &[(&str, &str)]) -> HttpReply {
    let url = format!("{}/oauth2/revoke", server.url);
    http("POST", &url, &[("content-type", FORM)], Some(encode(pairs))).await
}

#[tokio::test]
async fn a_revoked_refresh_token_gets_invalid_grant_and_another_session_keeps_working() {
    let server = start();
    let client = client_id(&server);
    let signed_out = sign_in(&server, "admin@acme.example", PASSWORD).await;
    let other = sign_in(&server, "admin@acme.example", PASSWORD).await;
    let refresh_token = signed_out["refresh_token"].as_str().unwrap();
    assert_eq!(
        refresh_with(&server, &client, refresh_token).await.status,
        200
    );

    let foreign = revoke(&server, &[("token", refresh_token), ("client_id", "other")]).await;
    assert_eq!(
        (foreign.status, &foreign.json["error"]),
        (400, &json!("invalid_client"))
    );
    assert_eq!(
        refresh_with(&server, &client, refresh_token).await.status,
        200
    );

    let revoked = revoke(&server, &[("token", refresh_token), ("client_id", &client)]).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let refused = refresh_with(&server, &client, refresh_token).await;
    assert_eq!(
        (refused.status, &refused.json["error"]),
        (400, &json!("invalid_grant"))
    );
    let still = refresh_with(&server, &client, other["refresh_token"].as_str().unwrap()).await;
    assert_eq!(still.status, 200, "{}", still.body);
}

#[tokio::test]
async fn a_code_is_only_exchanged_with_its_own_verifier_client_and_redirect() {
    let server = start();
    let client = client_id(&server);
    for (verifier, client_id, redirect) in [
        (
            "another-verifier-of-enough-length-0123456789abcdef",
            client.as_str(),
            REDIRECT,
        ),
        ("", client.as_str(), REDIRECT),
        ("same", "another-client", REDIRECT),
        ("same", client.as_str(), "http://127.0.0.1:4000/elsewhere/"),
    ] {
        let pkce = pkce();
        let page = authorize_page(&server, &client, &pkce).await;
        let redirected = submit(
            &server,
            &page.body,
            &[("email", "admin@acme.example"), ("password", PASSWORD)],
        )
        .await;
        let code = code_of(&redirected);
        let verifier = if verifier == "same" {
            pkce.verifier.as_str()
        } else {
            verifier
        };
        let refused = token(
            &server,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", client_id),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
            ],
        )
        .await;
        assert_eq!(refused.status, 400, "{verifier} {client_id} {redirect}");
        assert!(refused.json["id_token"].is_null());
    }
    // Redirects go to loopback only, and PKCE is required.
    let pkce = pkce();
    let mut page = authorize_page(&server, &client, &pkce).await;
    assert_eq!(page.status, 200);
    for (name, value) in [
        ("redirect_uri", "https://evil.example/"),
        ("code_challenge_method", "plain"),
    ] {
        let query = String::from_utf8(encode(&[
            ("response_type", "code"),
            ("client_id", &client),
            (
                "redirect_uri",
                if name == "redirect_uri" {
                    value
                } else {
                    REDIRECT
                },
            ),
            ("code_challenge", &pkce.challenge),
            (
                "code_challenge_method",
                if name == "code_challenge_method" {
                    value
                } else {
                    "S256"
                },
            ),
        ]))
        .unwrap();
        page = http(
            "GET",
            &format!("{}/oauth2/authorize?{query}", server.url),
            &[],
            None,
        )
        .await;
        assert_eq!(page.status, 400, "{name}={value}");
    }
}

#[tokio::test]
async fn a_first_sign_in_chooses_a_new_password() {
    let server = start();
    let pool = banner_value(&server, "local pool ");
    let cognito = Cognito::new(orgkeys_tests::endpoint());
    let viewer = NewUser {
        email: "viewer@acme.example",
        organization_id: "acme-emea",
        group: "org-viewer",
    };
    cognito
        .create_user(&pool, &viewer, "Temp-pass-1234", false)
        .await
        .unwrap();
    let client = client_id(&server);
    let pkce = pkce();
    let page = authorize_page(&server, &client, &pkce).await;
    let challenge = submit(
        &server,
        &page.body,
        &[("email", viewer.email), ("password", "Temp-pass-1234")],
    )
    .await;
    assert_eq!(challenge.status, 200);
    assert!(
        challenge.body.contains(">New password</label>"),
        "{}",
        challenge.body
    );
    assert!(challenge.body.contains(">Set password</button>"));
    assert!(
        challenge.body.contains(PASSWORD_POLICY),
        "the page states the policy"
    );
    let short = submit(&server, &challenge.body, &[("new_password", "Short-pass1")]).await;
    assert!(
        short.body.contains("does not meet the policy"),
        "11 characters are refused: {}",
        short.body
    );
    let redirect = submit(
        &server,
        &short.body,
        &[("new_password", "Chosen-pass-5678")],
    )
    .await;
    let tokens = exchange(&server, &client, &code_of(&redirect), &pkce.verifier).await;
    let who = me(&server, tokens.json["id_token"].as_str().unwrap()).await;
    assert_eq!(
        (who.json["role"].clone(), who.json["organizationId"].clone()),
        (json!("org-viewer"), json!("acme-emea"))
    );
    // The chosen password is the user's from now on.
    let again = sign_in(&server, viewer.email, "Chosen-pass-5678").await;
    assert!(again["id_token"].is_string());
}

/// The article's journey over HTTP: the demo admin signs in (PKCE),
/// generates a key in the sub-organization, the key works on the public API
/// and the audit log names the admin; a viewer may read, not change; a user
/// of another organization finds nothing of this one.
#[tokio::test]
async fn a_signed_in_admin_generates_a_working_key_in_a_sub_organization_and_others_are_refused() {
    let server = start();
    let pool = banner_value(&server, "local pool ");
    let schedule =
        json!({"name": "Spring", "campaign": "Renewals", "channel": "sms", "status": "active"});
    let app = server.app();
    let synced = app
        .put_schedule("acme-emea", "spring-renewals", schedule)
        .await;
    assert_eq!(synced.status, 201, "{}", synced.body);

    let tokens = sign_in(&server, "admin@acme.example", PASSWORD).await;
    let admin = Caller::id_token(tokens["id_token"].as_str().unwrap());
    let sub = me(&server, tokens["id_token"].as_str().unwrap()).await.json["user"]["id"].clone();
    let created = app
        .console_create_key("acme-emea", json!({"name": "crm"}))
        .by(&admin)
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let api_key = created.json["apiKey"].as_str().unwrap();
    let listed = app.list_schedules().by(&Caller::key(api_key)).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.json["items"][0]["scheduleId"], "spring-renewals");
    let events = app.console_list_audit_events("acme-emea").by(&admin).await;
    assert_eq!(
        events.json["items"][0]["action"], "api_key.created",
        "{}",
        events.body
    );
    assert_eq!(
        events.json["items"][0]["actor"],
        json!({"type": "user", "id": sub, "email": "admin@acme.example"})
    );

    let cognito = Cognito::new(orgkeys_tests::endpoint());
    let created_org = app
        .put_organization("globex", json!({"name": "Globex"}))
        .await;
    assert_eq!(created_org.status, 201, "{}", created_org.body);
    let store = orgkeys_tests::store_of(&server.table).await;
    for (email, organization_id, group) in [
        ("viewer@acme.example", "acme-emea", "org-viewer"),
        ("admin@globex.example", "globex", "org-admin"),
    ] {
        let user = NewUser {
            email,
            organization_id,
            group,
        };
        let sub = cognito
            .create_user(&pool, &user, PASSWORD, true)
            .await
            .unwrap();
        let role = group.parse().unwrap();
        orgkeys_tests::seed_member(&store, organization_id, &sub, email, role).await;
    }
    let viewer = sign_in(&server, "viewer@acme.example", PASSWORD).await;
    let viewer = Caller::id_token(viewer["id_token"].as_str().unwrap());
    let read = app.console_list_keys("acme-emea").by(&viewer).await;
    assert_eq!(read.status, 200, "{}", read.body);
    let refused = app
        .console_create_key("acme-emea", json!({}))
        .by(&viewer)
        .await;
    assert_eq!(
        (refused.status, &refused.json["type"]),
        (403, &json!("urn:orgkeys:problem:forbidden"))
    );

    let other = sign_in(&server, "admin@globex.example", PASSWORD).await;
    let other = Caller::id_token(other["id_token"].as_str().unwrap());
    for operation in [
        Operation::GetConsoleOrganization,
        Operation::ListConsoleApiKeys,
        Operation::CreateConsoleApiKey,
        Operation::ListConsoleSchedules,
    ] {
        let params = [("orgId", "acme-emea")];
        let reply = app.request(operation, &params, json!({})).by(&other).await;
        assert_eq!(reply.status, 404, "{operation:?}: {}", reply.body);
    }
    let mine = app.console_list_organizations().by(&other).await;
    assert_eq!(
        mine.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        mine.body
    );
    assert_eq!(mine.json["items"][0]["organizationId"], "globex");
    let after = app.console_list_keys("acme-emea").by(&admin).await;
    assert_eq!(
        after.json["items"].as_array().unwrap().len(),
        1,
        "no key made by others"
    );
}

/// A token from `jwt_forge.py` (joserfc; moto's key or another).
fn forge(spec: Value) -> String {
    orgkeys_tests::python_support("jwt_forge.py", &spec.to_string())
        .trim()
        .to_owned()
}

#[tokio::test]
async fn forged_expired_and_misissued_tokens_are_refused_and_nothing_runs() {
    let server = start();
    let pool = banner_value(&server, "local pool ");
    let client = client_id(&server);
    let issuer = format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}");
    let now = chrono::Utc::now().timestamp();
    let claims = |changes: Value| {
        let mut claims = json!({
            "sub": "forged-user", "iss": issuer, "aud": client, "token_use": "id",
            "iat": now, "exp": now + 600,
            "custom:organizationId": "acme", "cognito:groups": ["org-admin"],
        });
        claims
            .as_object_mut()
            .unwrap()
            .extend(changes.as_object().unwrap().clone());
        claims
    };
    // The same claims signed by moto's own key pass: the cases below differ in one thing.
    let genuine = forge(json!({"sign": "moto", "claims": claims(json!({}))}));
    assert_eq!(me(&server, &genuine).await.status, 200);

    let refused = [
        (
            "another key",
            json!({"sign": "other", "claims": claims(json!({}))}),
        ),
        (
            "alg none",
            json!({"sign": "none", "claims": claims(json!({}))}),
        ),
        (
            "HS256 with the public key",
            json!({"sign": "hs256-with-public-key", "claims": claims(json!({}))}),
        ),
        (
            "expired",
            json!({"sign": "moto", "claims": claims(json!({"exp": now - 120}))}),
        ),
        (
            "not yet valid",
            json!({"sign": "moto", "claims": claims(json!({"nbf": now + 600}))}),
        ),
        (
            "another issuer",
            json!({"sign": "moto", "claims": claims(json!({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}))}),
        ),
        (
            "another audience",
            json!({"sign": "moto", "claims": claims(json!({"aud": "another-client"}))}),
        ),
        (
            "unknown kid",
            json!({"sign": "moto", "kid": "no-such-key", "claims": claims(json!({}))}),
        ),
        (
            "tampered payload",
            json!({"sign": "moto", "claims": claims(json!({})), "tamper": true}),
        ),
    ];
    for (case, spec) in refused {
        let reply = me(&server, &forge(spec)).await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.body);
        assert_eq!(reply.json, json!({"message": "Unauthorized"}), "{case}");
    }
    for (case, header) in [
        ("no token", None),
        ("not a JWT", Some("Bearer abc.def")),
        ("an API key", Some("Bearer orgk_x")),
    ] {
        let headers: Vec<(&str, &str)> = header.iter().map(|h| ("authorization", *h)).collect();
        let reply = http(
            "GET",
            &format!("{}/v1/console/me", server.url),
            &headers,
            None,
        )
        .await;
        assert_eq!(reply.status, 401, "{case}");
    }
    // An access token names the client in client_id, not aud: accepted too.
    let access = forge(
        json!({"sign": "moto", "claims": claims(json!({"aud": null, "client_id": client, "token_use": "access"}))}),
    );
    assert_eq!(me(&server, &access).await.status, 200);
}

/// The red team's reproduction over HTTP: the demo admin's token, once they
/// are demoted, then removed, by the platform operator, makes nothing.
#[tokio::test]
async fn a_demoted_then_removed_admins_token_is_refused_at_once() {
    let server = start();
    let app = server.app();
    let tokens = sign_in(&server, "admin@acme.example", PASSWORD).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let admin = Caller::id_token(id_token);
    let sub = me(&server, id_token).await.json["user"]["id"].clone();
    let sub = sub.as_str().unwrap();
    app.console_list_keys("acme").by(&admin).expect(200).await;
    app.update_user("acme", sub, json!({"role": "org-viewer"}))
        .expect(200)
        .await;
    let created = app
        .console_create_key("acme", json!({"name": "backdoor"}))
        .by(&admin)
        .await;
    assert_eq!(created.status, 403, "{}", created.body);
    let invited = app
        .console_invite_user(
            "acme",
            json!({"email": "backdoor@acme.example", "role": "org-admin"}),
        )
        .by(&admin)
        .await;
    assert_eq!(invited.status, 403, "{}", invited.body);
    app.remove_user("acme", sub).expect(204).await;
    let listed = app.console_list_keys("acme").by(&admin).await;
    assert_eq!(listed.status, 403, "{}", listed.body);
    let keys = app.list_keys("acme").expect(200).await;
    assert_eq!(keys.json["items"], json!([]), "no key was made");
}
