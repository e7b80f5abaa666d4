//! SigV4 on the local gateway's admin routes (`ORGKEYS_LOCAL_IAM`), checked
//! against requests signed by an independent implementation: botocore's
//! `SigV4Auth`, from the Python tools `scripts/venv` installs.

use orgkeys_tests::app::Caller;
use orgkeys_tests::local_gateway::Devserver;
use serde_json::{Value, json};

const ACCESS_KEY: &str = "AKIDLOCALADMIN";
const SECRET_KEY: &str = "local-secret-for-tests";

fn start() -> Devserver {
    Devserver::start(&[("ORGKEYS_LOCAL_IAM", &format!("{ACCESS_KEY}:{SECRET_KEY}"))])
}

/// Sends a request signed by botocore; `spec` adds to or overrides the defaults.
fn botocore(server: &Devserver, method: &str, path: &str, spec: Value) -> (u16, Value) {
    let mut request = json!({
        "url": format!("{}{path}", server.url),
        "method": method,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "region": "us-east-1",
    });
    request
        .as_object_mut()
        .unwrap()
        .extend(spec.as_object().unwrap().clone());
    let output = orgkeys_tests::python_support("botocore_sign.py", &request.to_string());
    let reply: Value = serde_json::from_str(&output).unwrap();
    let body = serde_json::from_str(reply["body"].as_str().unwrap()).unwrap_or(Value::Null);
    (reply["status"].as_u64().unwrap() as u16, body)
}

#[tokio::test]
async fn a_request_signed_by_botocore_is_accepted_and_runs_as_the_local_iam_user() {
    let server = start();
    let body = json!({"name": "Acme"}).to_string();
    let (status, created) = botocore(
        &server,
        "PUT",
        "/v1/admin/organizations/acme",
        json!({"body": body}),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["organizationId"], "acme");
    let (status, listed) = botocore(&server, "GET", "/v1/admin/organizations?limit=1", json!({}));
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["items"][0]["organizationId"], "acme");
    let events = server.app().list_audit_events("acme").await;
    assert_eq!(
        events.json["items"][0]["actor"],
        json!({"type": "admin", "id": "arn:aws:iam::000000000000:user/local-admin"})
    );
    // The admin token keeps working beside it.
    assert_eq!(
        server
            .app()
            .get_organization("acme")
            .by(&Caller::Operator)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn tampered_wrongly_keyed_stale_or_missing_signatures_are_refused_with_403() {
    let server = start();
    let path = "/v1/admin/organizations/acme";
    let signed = json!({"name": "Acme"}).to_string();
    let cases = [
        (
            "tampered body",
            json!({"body": signed, "sent_body": json!({"name": "Evil"}).to_string()}),
            "signature we calculated does not match",
        ),
        (
            "wrong secret",
            json!({"body": signed, "secret_key": "not-the-secret"}),
            "signature we calculated does not match",
        ),
        (
            "unknown key",
            json!({"body": signed, "access_key": "AKIDSOMEONEELSE"}),
            "security token included in the request is invalid",
        ),
        (
            "ten minutes old",
            json!({"body": signed, "age_seconds": 600}),
            "Signature expired",
        ),
        (
            "another region",
            json!({"body": signed, "region": "eu-west-1"}),
            "scoped to a valid region",
        ),
    ];
    for (case, spec, message) in cases {
        let (status, body) = botocore(&server, "PUT", path, spec);
        assert_eq!(status, 403, "{case}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(message),
            "{case}: {body}"
        );
    }
    let unsigned = server
        .app()
        .put_organization("acme", json!({"name": "Acme"}))
        .by(&Caller::Anonymous)
        .await;
    assert_eq!(unsigned.status, 403);
    assert_eq!(unsigned.json, json!({"message": "Forbidden"}));
    // Nothing above got through.
    let organization = server.app().get_organization("acme").await;
    assert_eq!(organization.status, 404);
}
