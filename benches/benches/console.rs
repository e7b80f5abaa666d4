//! Console sign-in on the local gateway (run with `scripts/bench`): verifying
//! an ID token of the local user pool with its JWKS cached, as the gateway
//! does before every console route (signature, `kid`, `iss`, `aud`, `exp`).
//! The token is a real one: moto's Cognito API signs it for a user the bench
//! creates and signs in.

use devserver::identity::LocalPool;
use devserver::identity::cognito::{Cognito, NewUser, SignIn};
use devserver::identity::fetch_over_http;
use devserver::identity::jwt::Verifier;
use orgkeys_benches::{Plan, TARGETS_HEADER, measure, table, within};
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

    let mut report = table("Console sign-in (local gateway)", &[&verification]);
    report.push('\n');
    report.push_str(TARGETS_HEADER);
    report.push_str(&within(&verification, Duration::from_micros(50)));
    println!(
        "{}{report}",
        if plan.is_smoke() {
            "smoke run (figures meaningless; use scripts/bench):\n"
        } else {
            ""
        }
    );
}
