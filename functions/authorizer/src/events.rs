//! The three event shapes API Gateway sends a Lambda authorizer, where each
//! carries the key, and the answer each expects.

use crate::{Authorizer, Decision, DenyReason, Trace};
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequest,
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use aws_lambda_events::http::HeaderMap;
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use chrono::{DateTime, Utc};
use lambda_runtime::{Error, LambdaEvent};
use orgkeys_shared::StoreError;
use serde_json::{Value, json};

/// The error message REST API Gateway maps to a 401 response.
pub const UNAUTHORIZED: &str = "Unauthorized";

/// An authorization request, by shape.
#[derive(Debug)]
pub enum AuthorizerEvent {
    /// HTTP API, payload format 2.0, simple responses.
    Http(Box<ApiGatewayV2CustomAuthorizerV2Request>),
    /// REST API `TOKEN` authorizer.
    Token(ApiGatewayCustomAuthorizerRequest),
    /// REST API `REQUEST` authorizer.
    Request(Box<ApiGatewayCustomAuthorizerRequestTypeRequest>),
}

impl AuthorizerEvent {
    /// Tells the shapes apart by the fields API Gateway always sets:
    /// `version: "2.0"` for HTTP APIs, `type` for REST.
    pub fn from_value(value: Value) -> Result<AuthorizerEvent, Error> {
        let version = value.get("version").and_then(Value::as_str);
        let kind = value.get("type").and_then(Value::as_str);
        Ok(match (version, kind) {
            (Some("2.0"), _) => AuthorizerEvent::Http(serde_json::from_value(value)?),
            (_, Some("TOKEN")) => AuthorizerEvent::Token(serde_json::from_value(value)?),
            (_, Some("REQUEST")) => AuthorizerEvent::Request(serde_json::from_value(value)?),
            _ => {
                return Err(
                    "unsupported authorizer event: expected HTTP API 2.0, TOKEN or REQUEST".into(),
                );
            }
        })
    }

    /// The key the caller presented.
    pub fn presented_key(&self) -> Presented<'_> {
        match self {
            AuthorizerEvent::Http(event) => from_headers(&event.headers),
            AuthorizerEvent::Request(event) => from_headers(&event.headers),
            AuthorizerEvent::Token(event) => {
                let token = event
                    .authorization_token
                    .as_deref()
                    .unwrap_or_default()
                    .trim();
                let token = strip_bearer(token).unwrap_or(token);
                if token.is_empty() {
                    Presented::Nothing
                } else {
                    Presented::Key(token)
                }
            }
        }
    }

    /// The answer API Gateway expects for this shape. `decision` is `None`
    /// when no key was presented.
    pub fn answer(&self, decision: Option<&Decision>) -> Result<Value, Error> {
        let allowed = match decision {
            Some(Decision::Allow(ctx)) => Some(ctx),
            Some(Decision::Deny(_)) => None,
            None => match self {
                AuthorizerEvent::Http(_) => None,
                // REST turns exactly this error message into a 401.
                _ => return Err(UNAUTHORIZED.into()),
            },
        };
        let method_arn = match self {
            AuthorizerEvent::Http(_) => {
                let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
                response.is_authorized = allowed.is_some();
                response.context = allowed.map_or_else(|| json!({}), |ctx| ctx.to_context());
                return Ok(serde_json::to_value(response)?);
            }
            AuthorizerEvent::Token(event) => event.method_arn.as_deref(),
            AuthorizerEvent::Request(event) => event.method_arn.as_deref(),
        };
        let resource = stage_wide(method_arn.ok_or("authorizer event has no methodArn")?)?;
        let mut statement = IamPolicyStatement::default();
        statement.action = vec!["execute-api:Invoke".to_owned()];
        statement.effect = if allowed.is_some() {
            IamPolicyEffect::Allow
        } else {
            IamPolicyEffect::Deny
        };
        statement.resource = vec![resource];
        let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
        policy.version = Some("2012-10-17".to_owned());
        policy.statement = vec![statement];
        let mut response = ApiGatewayCustomAuthorizerResponse::default();
        response.principal_id =
            Some(allowed.map_or_else(|| "anonymous".to_owned(), |ctx| ctx.key_id.clone()));
        response.policy_document = policy;
        response.context = allowed.map_or_else(|| json!({}), |ctx| ctx.to_context());
        let mut answer = serde_json::to_value(response)?;
        // No usage plans here: leave the field out rather than send `null`.
        if let Some(fields) = answer.as_object_mut() {
            fields.retain(|name, value| name != "usageIdentifierKey" || !value.is_null());
        }
        Ok(answer)
    }
}

/// One structured line per decision (never the key: the keyId once found,
/// else the first 12 hex characters of its hash), and one EMF count of
/// decisions by result and by result and reason.
fn log_decision(result: &str, reason: &str, trace: &Trace, error: Option<&StoreError>) {
    let record = trace.record.as_deref();
    let org_id = record.map(|r| r.organization_id.as_str());
    let key_id = record.map(|r| r.key_id.as_str());
    let hash_prefix = match (key_id, trace.hash) {
        (None, Some(hash)) => Some(hash.short()),
        _ => None,
    };
    let hash_prefix = hash_prefix.as_deref();
    let cached = trace.cached;
    match error {
        Some(err) => tracing::error!(
            result, reason, org_id, key_id, hash_prefix, cached, error = %err,
            "authorizer decision: refused, the key could not be read"
        ),
        None => tracing::info!(
            result,
            reason,
            org_id,
            key_id,
            hash_prefix,
            cached,
            "authorizer decision"
        ),
    }
    orgkeys_shared::metrics::emit(
        "Decisions",
        1.0,
        "Count",
        &[("Result", result), ("Reason", reason)],
        &[&["Result"], &["Result", "Reason"]],
    );
}

/// `arn:aws:execute-api:region:account:api/stage/*/*` from a method ARN.
/// API Gateway caches the returned policy per identity and reuses it for every
/// route of the stage, so a policy naming only the called method would deny the
/// same key on the next route; the policy must therefore cover the whole stage.
fn stage_wide(method_arn: &str) -> Result<String, Error> {
    let mut parts = method_arn.splitn(3, '/');
    match (parts.next(), parts.next()) {
        (Some(api), Some(stage)) if api.starts_with("arn:") && !stage.is_empty() => {
            Ok(format!("{api}/{stage}/*/*"))
        }
        _ => Err(format!("malformed methodArn {method_arn:?}").into()),
    }
}

/// What a request presents as its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    Nothing,
    Key(&'a str),
    /// `Authorization` and `X-Api-Key` carry different keys. Refused: API
    /// Gateway caches a decision under its identity source (one header), so
    /// deciding on the other would let one caller's answer be reused for
    /// whoever sends the cached header next.
    Ambiguous,
}

/// `Authorization: Bearer <key>` (scheme case-insensitive) or `X-Api-Key`;
/// both are fine when they carry the same key. `HeaderMap` lookups are
/// case-insensitive, as HTTP header names are.
fn from_headers(headers: &HeaderMap) -> Presented<'_> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    // Another scheme is a credential, just not ours: present it so it is denied.
    let authorization = header("authorization").map(|value| strip_bearer(value).unwrap_or(value));
    match (authorization, header("x-api-key")) {
        (Some(a), Some(b)) if a != b => Presented::Ambiguous,
        (Some(key), _) | (None, Some(key)) => Presented::Key(key),
        (None, None) => Presented::Nothing,
    }
}

fn strip_bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

impl Authorizer {
    /// The Lambda entry point.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        self.respond(event.payload, Utc::now()).await
    }

    /// Answers one authorization request at `now`; `Err` (API Gateway: 500)
    /// when the store cannot be read or the event is not an authorizer event.
    pub async fn respond(&self, payload: Value, now: DateTime<Utc>) -> Result<Value, Error> {
        let event = AuthorizerEvent::from_value(payload)?;
        let (decision, trace) = match event.presented_key() {
            Presented::Key(key) => self.check_traced(key, now).await,
            Presented::Ambiguous => (
                Ok(Decision::Deny(DenyReason::AmbiguousHeaders)),
                Trace::default(),
            ),
            Presented::Nothing => {
                log_decision("deny", "no-key", &Trace::default(), None);
                return event.answer(None);
            }
        };
        let decision = match decision {
            Ok(decision) => decision,
            Err(err) => {
                log_decision("error", "store-error", &trace, Some(&err));
                return Err(err.into());
            }
        };
        match &decision {
            Decision::Allow(_) => log_decision("allow", "valid", &trace, None),
            Decision::Deny(reason) => log_decision("deny", reason.as_str(), &trace, None),
        }
        event.answer(Some(&decision))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn key_comes_from_bearer_or_x_api_key_case_insensitively() {
        let key = Presented::Key;
        assert_eq!(
            from_headers(&headers(&[("authorization", "Bearer abc")])),
            key("abc")
        );
        assert_eq!(
            from_headers(&headers(&[("Authorization", "bEaReR   abc ")])),
            key("abc")
        );
        assert_eq!(from_headers(&headers(&[("X-API-KEY", "abc")])), key("abc"));
        assert_eq!(
            from_headers(&headers(&[("authorization", "Basic Zm9v")])),
            key("Basic Zm9v")
        );
        assert_eq!(
            from_headers(&headers(&[("authorization", "  ")])),
            Presented::Nothing
        );
        assert_eq!(
            from_headers(&headers(&[("x-api-key", "")])),
            Presented::Nothing
        );
        assert_eq!(from_headers(&headers(&[])), Presented::Nothing);
    }

    #[test]
    fn two_headers_with_different_keys_are_ambiguous_and_the_same_key_is_fine() {
        let both = |auth: &'static str, api: &'static str| {
            let headers = headers(&[("authorization", auth), ("x-api-key", api)]);
            format!("{:?}", from_headers(&headers))
        };
        assert_eq!(both("Bearer abc", "xyz"), "Ambiguous");
        assert_eq!(both("Bearer abc", "abc"), r#"Key("abc")"#);
        assert_eq!(both("abc", "abc"), r#"Key("abc")"#);
    }

    #[test]
    fn token_events_accept_the_token_with_or_without_bearer() {
        let token = |t: &str| {
            AuthorizerEvent::from_value(
                json!({"type": "TOKEN", "authorizationToken": t, "methodArn": "arn:x/s/GET/"}),
            )
            .unwrap()
        };
        assert_eq!(token("Bearer abc").presented_key(), Presented::Key("abc"));
        assert_eq!(token("abc").presented_key(), Presented::Key("abc"));
        assert_eq!(token("").presented_key(), Presented::Nothing);
    }

    #[test]
    fn policy_covers_the_whole_stage() {
        assert_eq!(
            stage_wide("arn:aws:execute-api:eu-west-1:123:api1/prod/GET/v1/schedules").unwrap(),
            "arn:aws:execute-api:eu-west-1:123:api1/prod/*/*"
        );
        assert!(stage_wide("nonsense").is_err());
    }

    #[test]
    fn unknown_shapes_are_errors() {
        assert!(AuthorizerEvent::from_value(json!({"hello": "world"})).is_err());
        assert!(AuthorizerEvent::from_value(json!([])).is_err());
    }
}

/// Property tests: no event, however malformed, panics the authorizer's parsing.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            ".{0,60}".prop_map(Value::from),
            "(Bearer |bearer |Basic )?orgk_[A-Za-z0-9_-]{0,50}".prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
        ]
    }

    /// Events of the three shapes with fields missing, mistyped or garbled.
    fn event() -> impl Strategy<Value = Value> {
        let headers = proptest::collection::btree_map(
            prop_oneof![
                Just("authorization".to_owned()),
                Just("X-Api-Key".to_owned()),
                "[a-zA-Z-]{1,12}".prop_map(String::from)
            ],
            text(),
            0..4,
        )
        .prop_map(|m| Value::Object(m.into_iter().collect()));
        (
            prop_oneof![Just(json!("2.0")), Just(json!("1.0")), Just(Value::Null)],
            prop_oneof![Just(json!("TOKEN")), Just(json!("REQUEST")), text()],
            text(),
            prop_oneof![Just(json!("arn:aws:execute-api:r:1:api/stage/GET/x")), text()],
            headers,
        )
            .prop_map(|(version, kind, token, arn, headers)| {
                json!({"version": version, "type": kind, "authorizationToken": token, "methodArn": arn,
                       "headers": headers, "requestContext": {"http": {"method": "GET"}}})
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn parsing_and_answering_never_panic(event in event()) {
            if let Ok(event) = AuthorizerEvent::from_value(event) {
                let _ = event.presented_key();
                let _ = event.answer(None);
                let _ = event.answer(Some(&Decision::Deny(crate::DenyReason::Malformed)));
            }
        }
    }
}
