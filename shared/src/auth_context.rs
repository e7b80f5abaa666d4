//! The authorizer context: what the authorizer tells API Gateway about an
//! allowed caller, and what the public functions read back from the request.
//!
//! Values are flat strings (`scopes` space-separated) because REST API
//! authorizer contexts accept only string, number and boolean values.

use crate::models::Scope;
use crate::problem::Problem;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::{Value, json};
use std::collections::HashMap;

pub const ORGANIZATION_ID: &str = "organizationId";
pub const KEY_ID: &str = "keyId";
pub const SCOPES: &str = "scopes";

/// An authenticated organization key, as the functions behind the authorizer see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    pub organization_id: String,
    pub key_id: String,
    pub scopes: Vec<Scope>,
}

impl AuthContext {
    /// The context object the authorizer returns to API Gateway.
    pub fn to_value(&self) -> Value {
        let scopes: Vec<&str> = self.scopes.iter().map(|s| s.as_str()).collect();
        json!({
            ORGANIZATION_ID: self.organization_id,
            KEY_ID: self.key_id,
            SCOPES: scopes.join(" "),
        })
    }

    /// Reads the context back. `None` unless both IDs are present; unknown
    /// scopes are dropped, so a context can only ever grant less.
    pub fn from_fields(fields: &HashMap<String, Value>) -> Option<AuthContext> {
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        Some(AuthContext {
            organization_id: text(ORGANIZATION_ID)?.to_owned(),
            key_id: text(KEY_ID)?.to_owned(),
            scopes: text(SCOPES)
                .unwrap_or_default()
                .split(' ')
                .filter_map(|s| s.parse().ok())
                .collect(),
        })
    }

    /// The caller of a public route: from `requestContext.authorizer.lambda`
    /// (HTTP API) or the flat `requestContext.authorizer` (REST). No context is
    /// a 401: a function wired up without the authorizer serves nobody.
    pub fn from_request(request: &Request) -> Result<AuthContext, Problem> {
        let fields = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.authorizer.as_ref().map(|a| &a.fields),
            Some(RequestContext::ApiGatewayV1(ctx)) => Some(&ctx.authorizer.fields),
            _ => None,
        };
        fields
            .and_then(AuthContext::from_fields)
            .ok_or_else(|| Problem::unauthorized("this route needs an organization API key"))
    }

    /// A 403 naming the scope unless the key carries it.
    pub fn require(&self, scope: Scope) -> Result<(), Problem> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "this API key lacks the scope {scope}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(value: &Value) -> HashMap<String, Value> {
        value.as_object().unwrap().clone().into_iter().collect()
    }

    #[test]
    fn context_round_trips_as_flat_strings() {
        let ctx = AuthContext {
            organization_id: "acme".into(),
            key_id: "key_1".into(),
            scopes: vec![Scope::SchedulesRead, Scope::ConversationsWrite],
        };
        let value = ctx.to_value();
        assert_eq!(value["scopes"], "schedules:read conversations:write");
        assert!(value.as_object().unwrap().values().all(Value::is_string));
        assert_eq!(AuthContext::from_fields(&fields(&value)), Some(ctx));
    }

    #[test]
    fn missing_ids_give_no_context_and_unknown_scopes_are_dropped() {
        let partial = json!({"organizationId": "acme", "scopes": "schedules:read"});
        assert_eq!(AuthContext::from_fields(&fields(&partial)), None);
        let odd =
            json!({"organizationId": "a", "keyId": "k", "scopes": "admin:all schedules:read"});
        let ctx = AuthContext::from_fields(&fields(&odd)).unwrap();
        assert_eq!(ctx.scopes, vec![Scope::SchedulesRead]);
    }
}
