//! Console sign-in on the local gateway (run with `scripts/bench`): verifying
//! an ID token of the local user pool with its JWKS cached, as the gateway
//! does before every console route (signature, `kid`, `iss`, `aud`, `exp`).
//! The token is a real one: moto's Cognito API signs it for a user the bench
//! creates and signs in. Then the console's list of an organization's keys
//! against the admin's (the access decision's one read against the admin
//! route's existence check), in alternation, through the keygen handler:
//! with the membership check as it runs (its read trusted for 5 s), and
//! with the record read on every request (the first request of each 5 s).

use devserver::identity::LocalPool;
use devserver::identity::cognito::{Cognito, NewUser, SignIn};
use devserver::identity::fetch_over_http;
use devserver::identity::jwt::Verifier;
use orgkeys_benches::{Plan, Sample, TARGETS_HEADER, measure, measure_pair, ratio, table, within};
use orgkeys_shared::routes::{Operation, route};
use orgkeys_tests::{admin, http_event};
use serde_json::json;
use std::time::Duration;

const PASSWORD: &str = "Bench-pass-1234";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let plan = Plan::from_args();
    let cognito = Cognito::new(orgkeys_tests::endpoint());
    let pool = LocalPool::create(&cognito).await.expect("a pool on moto");
    let user = NewUser {
        email: "bench@acme.example",
        organization_id: "acme",
        group: "org-admin",
    };
    cognito
        .create_user(&pool.pool_id, &user, PASSWORD, true)
        .await
        .unwrap();
    let SignIn::Done(tokens) = cognito
        .sign_in(&pool.client_id, user.email, PASSWORD)
        .await
        .unwrap()
    else {
        panic!("a permanent password signs in at once")
    };
    let verifier = Verifier::new(pool.issuer(&cognito), fetch_over_http());
    // The first check fetches the JWKS; the measured ones use the cache.
    let claims = verifier.verify(&tokens.id_token).await.unwrap();
    assert_eq!(claims["custom:organizationId"], "acme");

    let verification = measure(
        plan,
        "ID token verification, JWKS cached (RS256, kid, iss, aud, exp)",
        10,
        || async {
            verifier.verify(&tokens.id_token).await.unwrap();
        },
    )
    .await;

    let [console_list, admin_list, console_read, admin_again] = key_lists(plan).await;

    let mut report = table(
        "Console sign-in (local gateway) and the console's key list",
        &[
            &verification,
            &console_list,
            &admin_list,
            &console_read,
            &admin_again,
        ],
    );
    report.push('\n');
    report.push_str(TARGETS_HEADER);
    report.push_str(&within(&verification, Duration::from_micros(50)));
    report.push_str(&ratio(
        "console key list / admin key list",
        &console_list,
        &admin_list,
        1.1,
    ));
    report.push_str(&ratio(
        "console key list, membership read each time / admin key list",
        &console_read,
        &admin_again,
        1.1,
    ));
    println!(
        "{}{report}",
        if plan.is_smoke() {
            "smoke run (figures meaningless; use scripts/bench):\n"
        } else {
            ""
        }
    );
}

/// The keys of `acme-emea` (ten of them) listed by an org admin of its
/// parent through the console route, and by the platform operator.
async fn key_lists(plan: Plan) -> [Sample; 4] {
    let store = orgkeys_tests::fresh_store().await;
    let keygen = keygen::Keygen::new(store.clone(), keygen::Settings::default());
    for (org, parent) in [("acme", None), ("acme-emea", Some("acme"))] {
        let body = json!({"name": org, "parentId": parent}).to_string();
        let put = admin(
            route(Operation::PutOrganization).key,
            &[("orgId", org)],
            Some(&body),
        );
        assert_eq!(keygen.handle(put).await.unwrap().status(), 201);
    }
    let org = [("orgId", "acme-emea")];
    for _ in 0..10 {
        let create = admin(route(Operation::CreateApiKey).key, &org, Some("{}"));
        assert_eq!(keygen.handle(create).await.unwrap().status(), 201);
    }
    let role = orgkeys_api::Role::OrgAdmin;
    let email = "bench@acme.example";
    orgkeys_tests::seed_member(&store, "acme", "bench-user", email, role).await;
    let user = json!({"jwt": {"claims": {
        "sub": "bench-user",
        "custom:organizationId": "acme",
        "cognito:groups": "[org-admin]",
        "iat": chrono::Utc::now().timestamp().to_string(),
    }, "scopes": null}});
    let console = || {
        http_event(
            route(Operation::ListConsoleApiKeys).key,
            &org,
            None,
            user.clone(),
        )
    };
    let operator = || admin(route(Operation::ListApiKeys).key, &org, None);
    let list_as_admin = || async {
        assert_eq!(keygen.handle(operator()).await.unwrap().status(), 200);
    };
    let (cached, admin_list) = measure_pair(
        plan,
        ("console: list a sub-organization's 10 keys", || async {
            assert_eq!(keygen.handle(console()).await.unwrap().status(), 200);
        }),
        ("admin: list the same 10 keys", list_as_admin),
    )
    .await;
    let (read, admin_again) = measure_pair(
        plan,
        ("console: the same, membership read each time", || async {
            keygen
                .memberships
                .forget(&orgkeys_api::OrgId::parse("acme").unwrap(), "bench-user");
            assert_eq!(keygen.handle(console()).await.unwrap().status(), 200);
        }),
        ("admin: the same 10 keys again", list_as_admin),
    )
    .await;
    [cached, admin_list, read, admin_again]
}
