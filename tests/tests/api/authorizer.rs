//! The authorizer through its handler, for all three event shapes, against the
//! DynamoDB server: keys made by the keygen handler, fixtures from `events/`.

use authorizer::{Authorizer, Settings, UNAUTHORIZED};
use chrono::{DateTime, Duration, Utc};
use orgkeys_shared::Store;
use orgkeys_shared::routes::Operation;
use orgkeys_tests::app::{Call, TestApp};
use orgkeys_tests::{
    FIXTURE_KEY_ID, FIXTURE_ORG, event_fixture, fresh_store, seed_fixture_key, seed_org,
    unreachable_store,
};
use serde_json::{Value, json};
use std::time::Duration as StdDuration;

const METHOD_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1/schedules";
const STAGE_WIDE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*";

#[derive(Clone, Copy, Debug)]
enum Shape {
    Http,
    Token,
    Request,
}

const SHAPES: [Shape; 3] = [Shape::Http, Shape::Token, Shape::Request];

fn event(shape: Shape, key: Option<&str>) -> Value {
    match shape {
        Shape::Http => {
            let mut event = event_fixture("authorizer-http-missing.json");
            if let Some(key) = key {
                event["headers"]["authorization"] = json!(format!("Bearer {key}"));
            }
            event
        }
        Shape::Token => {
            json!({"type": "TOKEN", "authorizationToken": key.unwrap_or(""), "methodArn": METHOD_ARN})
        }
        Shape::Request => {
            let mut event = event_fixture("authorizer-request-missing.json");
            event["methodArn"] = json!(METHOD_ARN);
            if let Some(key) = key {
                event["headers"]["x-api-key"] = json!(key);
            }
            event
        }
    }
}

/// What an answer means, whatever its shape.
#[derive(Debug, PartialEq)]
enum Outcome {
    Allow(Value),
    Deny,
    Unauthorized,
}

fn outcome(shape: Shape, answer: Result<Value, lambda_http::Error>) -> Outcome {
    let answer = match answer {
        Err(err) if err.to_string() == UNAUTHORIZED => return Outcome::Unauthorized,
        Err(err) => panic!("unexpected error: {err}"),
        Ok(answer) => answer,
    };
    match shape {
        Shape::Http => match answer["isAuthorized"].as_bool() {
            Some(true) => Outcome::Allow(answer["context"].clone()),
            Some(false) => Outcome::Deny,
            None => panic!("no isAuthorized in {answer}"),
        },
        Shape::Token | Shape::Request => {
            assert!(
                answer.get("usageIdentifierKey").is_none(),
                "no usage plans: the field is left out, not null"
            );
            let statement = &answer["policyDocument"]["Statement"][0];
            assert_eq!(statement["Action"], json!(["execute-api:Invoke"]));
            assert_eq!(
                statement["Resource"],
                json!([STAGE_WIDE]),
                "policy covers the stage"
            );
            match statement["Effect"].as_str() {
                Some("Allow") => {
                    assert_eq!(answer["principalId"], answer["context"]["keyId"]);
                    Outcome::Allow(answer["context"].clone())
                }
                Some("Deny") => Outcome::Deny,
                other => panic!("unexpected effect {other:?}"),
            }
        }
    }
}

async fn decide(auth: &Authorizer, shape: Shape, key: Option<&str>, now: DateTime<Utc>) -> Outcome {
    outcome(shape, auth.respond(event(shape, key), now).await)
}

fn authorizer(store: &Store, ttl_secs: u64) -> Authorizer {
    let settings = Settings {
        cache_ttl: StdDuration::from_secs(ttl_secs),
        ..Settings::default()
    };
    Authorizer::new(store.clone(), settings)
}

/// A call the test's setup makes through keygen: asserts it succeeded; its JSON.
async fn succeeded(call: Call<'_>) -> Value {
    let reply = call.await;
    assert!((200..300).contains(&reply.status), "{}", reply.body);
    reply.json
}

async fn new_key(store: &Store, org: &str, body: Value) -> Value {
    let app = TestApp::over_store(store.clone());
    succeeded(app.create_key(org, body)).await
}

async fn delete_key(store: &Store, org: &str, key_id: &Value) {
    let app = TestApp::over_store(store.clone());
    succeeded(app.delete_key(org, key_id.as_str().unwrap())).await;
}

#[tokio::test]
async fn fixtures_in_events_get_the_documented_answers() {
    let store = fresh_store().await;
    seed_fixture_key(&store).await;
    let auth = authorizer(&store, 30);
    let expected_context = json!({
        "organizationId": FIXTURE_ORG,
        "keyId": FIXTURE_KEY_ID,
        "scopes": "schedules:read conversations:write conversations:read"
    });
    for (shape, name) in [
        (Shape::Http, "http"),
        (Shape::Token, "token"),
        (Shape::Request, "request"),
    ] {
        let run = |case: &str| {
            auth.respond(
                event_fixture(&format!("authorizer-{name}-{case}.json")),
                Utc::now(),
            )
        };
        let good = run("good").await.expect("good fixture answers");
        match shape {
            Shape::Http => assert_eq!(
                good,
                json!({"isAuthorized": true, "context": expected_context})
            ),
            _ => {
                assert_eq!(good["context"], expected_context);
                assert_eq!(good["policyDocument"]["Statement"][0]["Effect"], "Allow");
            }
        }
        let bad = run("bad").await.expect("bad fixture answers");
        match shape {
            Shape::Http => assert_eq!(bad, json!({"isAuthorized": false, "context": {}})),
            _ => assert_eq!(bad["policyDocument"]["Statement"][0]["Effect"], "Deny"),
        }
        let missing = run("missing").await;
        match shape {
            Shape::Http => assert_eq!(missing.unwrap()["isAuthorized"], false),
            _ => assert_eq!(missing.unwrap_err().to_string(), UNAUTHORIZED),
        }
    }
}

#[tokio::test]
async fn good_key_is_allowed_with_its_context_in_every_shape() {
    let store = fresh_store().await;
    seed_org(&store, "acme").await;
    let key = new_key(
        &store,
        "acme",
        json!({"scopes": ["conversations:read", "schedules:read"]}),
    )
    .await;
    let auth = authorizer(&store, 30);
    for shape in SHAPES {
        let got = decide(&auth, shape, key["apiKey"].as_str(), Utc::now()).await;
        assert_eq!(
            got,
            Outcome::Allow(json!({
                "organizationId": "acme",
                "keyId": key["keyId"],
                "scopes": "schedules:read conversations:read"
            })),
            "{shape:?}"
        );
    }
}

#[tokio::test]
async fn missing_malformed_altered_and_deleted_keys_never_get_in() {
    let store = fresh_store().await;
    seed_org(&store, "acme").await;
    seed_org(&store, "globex").await;
    let good = new_key(&store, "acme", json!({})).await;
    let good = good["apiKey"].as_str().unwrap().to_owned();
    let deleted = new_key(&store, "globex", json!({})).await;
    delete_key(&store, "globex", &deleted["keyId"]).await;
    let mut altered = good.clone().into_bytes();
    altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let wrong_prefix = format!("orgx_{}", &good[5..]);
    let deleted_key = deleted["apiKey"].as_str().unwrap();
    let auth = authorizer(&store, 30);
    for shape in SHAPES {
        let missing = decide(&auth, shape, None, Utc::now()).await;
        let empty = decide(&auth, shape, Some(""), Utc::now()).await;
        let expected_missing = if matches!(shape, Shape::Http) {
            Outcome::Deny
        } else {
            Outcome::Unauthorized
        };
        assert_eq!(missing, expected_missing, "{shape:?} missing");
        assert_eq!(empty, expected_missing, "{shape:?} empty");
        for bad in [
            "garbage",
            &wrong_prefix,
            &altered,
            deleted_key,
            &good[..good.len() - 1],
        ] {
            assert_eq!(
                decide(&auth, shape, Some(bad), Utc::now()).await,
                Outcome::Deny,
                "{shape:?} {bad}"
            );
        }
        assert!(matches!(
            decide(&auth, shape, Some(&good), Utc::now()).await,
            Outcome::Allow(_)
        ));
    }
}

#[tokio::test]
async fn expired_key_is_denied_even_from_the_cache() {
    let store = fresh_store().await;
    seed_org(&store, "acme").await;
    let expires = Utc::now() + Duration::hours(1);
    let key = new_key(&store, "acme", json!({"expiresAt": expires.to_rfc3339()})).await;
    let key = key["apiKey"].as_str().unwrap();
    let auth = authorizer(&store, 300);
    for shape in SHAPES {
        // The first call caches the key; the later one must still see the expiry.
        assert!(matches!(
            decide(&auth, shape, Some(key), Utc::now()).await,
            Outcome::Allow(_)
        ));
        assert_eq!(
            decide(&auth, shape, Some(key), expires).await,
            Outcome::Deny
        );
        assert_eq!(
            decide(&auth, shape, Some(key), expires + Duration::hours(1)).await,
            Outcome::Deny
        );
    }
    // And straight from the table, with no cache.
    let uncached = authorizer(&store, 0);
    assert_eq!(
        decide(
            &uncached,
            Shape::Http,
            Some(key),
            expires + Duration::seconds(1)
        )
        .await,
        Outcome::Deny
    );
}

#[tokio::test]
async fn rolled_key_works_during_the_grace_period_only() {
    let store = fresh_store().await;
    seed_org(&store, "acme").await;
    let old = new_key(&store, "acme", json!({})).await;
    let app = TestApp::over_store(store.clone());
    let old_id = old["keyId"].as_str().unwrap();
    let rolled = succeeded(app.roll_key("acme", old_id, r#"{"gracePeriodSeconds":600}"#)).await;
    let auth = authorizer(&store, 0);
    let now = Utc::now();
    for shape in SHAPES {
        assert!(matches!(
            decide(&auth, shape, old["apiKey"].as_str(), now).await,
            Outcome::Allow(_)
        ));
        assert_eq!(
            decide(
                &auth,
                shape,
                old["apiKey"].as_str(),
                now + Duration::seconds(601)
            )
            .await,
            Outcome::Deny
        );
        assert!(matches!(
            decide(
                &auth,
                shape,
                rolled["apiKey"].as_str(),
                now + Duration::seconds(601)
            )
            .await,
            Outcome::Allow(_)
        ));
    }
}

#[tokio::test]
async fn deleted_key_is_denied_after_the_cache_ttl_and_at_once_without_cache() {
    let store = fresh_store().await;
    seed_org(&store, "acme").await;
    let cached_key = new_key(&store, "acme", json!({})).await;
    let uncached_key = new_key(&store, "acme", json!({})).await;
    let cached = authorizer(&store, 1);
    let uncached = authorizer(&store, 0);
    let (cached_plain, uncached_plain) = (
        cached_key["apiKey"].as_str(),
        uncached_key["apiKey"].as_str(),
    );
    assert!(matches!(
        decide(&cached, Shape::Http, cached_plain, Utc::now()).await,
        Outcome::Allow(_)
    ));
    assert!(matches!(
        decide(&uncached, Shape::Http, uncached_plain, Utc::now()).await,
        Outcome::Allow(_)
    ));

    delete_key(&store, "acme", &cached_key["keyId"]).await;
    delete_key(&store, "acme", &uncached_key["keyId"]).await;

    assert_eq!(
        decide(&uncached, Shape::Http, uncached_plain, Utc::now()).await,
        Outcome::Deny
    );
    // Within the 1 s window the cache still answers: the documented trade-off.
    let read_at = Utc::now();
    assert!(matches!(
        decide(&cached, Shape::Http, cached_plain, read_at).await,
        Outcome::Allow(_)
    ));
    let later = read_at + chrono::Duration::milliseconds(1100);
    for shape in SHAPES {
        assert_eq!(
            decide(&cached, shape, cached_plain, later).await,
            Outcome::Deny
        );
    }
}

#[tokio::test]
async fn unreachable_store_is_an_error_never_an_allow() {
    let store = unreachable_store().await;
    let key = orgkeys_shared::key_format::ApiKey::generate().unwrap();
    for ttl in [0, 30] {
        let auth = authorizer(&store, ttl);
        for shape in SHAPES {
            let answer = auth
                .respond(event(shape, Some(key.expose())), Utc::now())
                .await;
            let err = answer.expect_err("must fail closed");
            assert_ne!(
                err.to_string(),
                UNAUTHORIZED,
                "a store failure is a 500, not a 401"
            );
            assert!(
                !err.to_string().contains(key.expose()),
                "error leaks the key"
            );
        }
    }
    // A malformed key needs no store: it is denied even while the store is down.
    let auth = authorizer(&store, 30);
    assert_eq!(
        decide(&auth, Shape::Token, Some("orgk_short"), Utc::now()).await,
        Outcome::Deny
    );
}

#[tokio::test]
async fn use_is_recorded_as_last_used_at() {
    let store = fresh_store().await;
    seed_org(&store, "acme").await;
    let key = new_key(&store, "acme", json!({})).await;
    let auth = authorizer(&store, 30);
    assert!(matches!(
        decide(&auth, Shape::Token, key["apiKey"].as_str(), Utc::now()).await,
        Outcome::Allow(_)
    ));
    // Written before the decision returns: Lambda may freeze the instance right after.
    let listed = succeeded(TestApp::over_store(store.clone()).list_keys("acme")).await;
    assert!(
        listed["items"][0]["lastUsedAt"].is_string(),
        "lastUsedAt not recorded: {listed}"
    );
}

/// API Gateway caches a decision under its identity source, one header. A
/// request carrying a real key in each header must not be decided on the
/// other one: it is denied. The same key in both headers is fine.
#[tokio::test]
async fn different_keys_in_authorization_and_x_api_key_are_denied() {
    let store = fresh_store().await;
    seed_org(&store, "acme").await;
    seed_org(&store, "globex").await;
    let mine = new_key(&store, "acme", json!({})).await;
    let theirs = new_key(&store, "globex", json!({})).await;
    let (mine, theirs) = (
        mine["apiKey"].as_str().unwrap(),
        theirs["apiKey"].as_str().unwrap(),
    );
    let auth = authorizer(&store, 30);
    for shape in [Shape::Http, Shape::Request] {
        let with_both = |authorization: &str, api_key: &str| {
            let mut event = event(shape, None);
            event["headers"]["authorization"] = json!(format!("Bearer {authorization}"));
            event["headers"]["x-api-key"] = json!(api_key);
            event
        };
        let answer = auth.respond(with_both(theirs, mine), Utc::now()).await;
        assert_eq!(outcome(shape, answer), Outcome::Deny, "{shape:?}");
        let answer = auth.respond(with_both(mine, mine), Utc::now()).await;
        assert!(
            matches!(outcome(shape, answer), Outcome::Allow(_)),
            "{shape:?}"
        );
    }
}

/// A refusal of a known key (disabled, its organization suspended, expired)
/// is trusted for the short deny window only (default 5 s), so undoing it
/// works within seconds; a grant keeps the long cache. Stepped clock, no sleeps.
#[tokio::test]
async fn refusals_of_known_keys_are_cached_for_seconds_and_grants_for_the_full_ttl() {
    let store = fresh_store().await;
    seed_org(&store, "acme").await;
    let key = new_key(&store, "acme", json!({})).await;
    let (plain, key_id) = (key["apiKey"].as_str(), key["keyId"].as_str().unwrap());
    let auth = authorizer(&store, 300);
    let app = TestApp::over_store(store.clone());
    let patch = |operation: Operation, body: &str| {
        let params = [("orgId", "acme"), ("keyId", key_id)];
        let params = if operation == Operation::UpdateApiKey {
            &params[..]
        } else {
            &params[..1]
        };
        succeeded(app.request(operation, params, body.to_owned()))
    };
    let cached = &auth;
    let refused_at = |at: DateTime<Utc>| async move {
        assert_eq!(decide(cached, Shape::Http, plain, at).await, Outcome::Deny);
        at
    };
    let allowed = |outcome: Outcome| matches!(outcome, Outcome::Allow(_));

    // Disabled, then enabled: refused from the cache for under 5 s only.
    patch(Operation::UpdateApiKey, r#"{"enabled":false}"#).await;
    let at = refused_at(Utc::now()).await;
    patch(Operation::UpdateApiKey, r#"{"enabled":true}"#).await;
    let within = at + Duration::milliseconds(4900);
    assert_eq!(
        decide(&auth, Shape::Http, plain, within).await,
        Outcome::Deny
    );
    let after = at + Duration::seconds(5);
    assert!(allowed(decide(&auth, Shape::Http, plain, after).await));

    // The grant is cached for the full 300 s: a suspension made now is not seen yet.
    patch(Operation::UpdateOrganization, r#"{"status":"suspended"}"#).await;
    let granted_until = after + Duration::seconds(299);
    assert!(allowed(
        decide(&auth, Shape::Http, plain, granted_until).await
    ));

    // Suspended, then resumed.
    let at = refused_at(after + Duration::seconds(300)).await;
    patch(Operation::UpdateOrganization, r#"{"status":"active"}"#).await;
    let within = at + Duration::milliseconds(4900);
    assert_eq!(
        decide(&auth, Shape::Http, plain, within).await,
        Outcome::Deny
    );
    let after = at + Duration::seconds(5);
    assert!(allowed(decide(&auth, Shape::Http, plain, after).await));

    // Expired, then its expiry lifted.
    let expires = Utc::now() + Duration::hours(1);
    let body = json!({"expiresAt": expires.to_rfc3339()}).to_string();
    patch(Operation::UpdateApiKey, &body).await;
    let at = refused_at(after.max(expires) + Duration::seconds(300)).await;
    patch(Operation::UpdateApiKey, r#"{"expiresAt":null}"#).await;
    let within = at + Duration::milliseconds(4900);
    assert_eq!(
        decide(&auth, Shape::Http, plain, within).await,
        Outcome::Deny
    );
    let after = at + Duration::seconds(5);
    assert!(allowed(decide(&auth, Shape::Http, plain, after).await));
}
