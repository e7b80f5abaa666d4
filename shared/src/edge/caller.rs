//! Who is calling: an administrator or an organization key, read from the
//! context API Gateway attaches (payload 2.0 or REST), and the context the
//! authorizer hands API Gateway for a key. The coming audit log records the
//! caller as the actor.
//!
//! Admin routes are protected by `AWS_IAM` at API Gateway; the handlers still
//! demand the IAM context and refuse a request without it, and public routes
//! demand the authorizer's context: a function wired to a route without its
//! protection fails closed rather than open.

use crate::audit::Actor;
use crate::edge::problem::Problem;
use crate::edge::user::SignedIn;
use crate::keys::Scope;
use crate::limits::Limits;
use crate::routes::Access;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use orgkeys_api::OrgId;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Field names of the authorizer context.
pub const ORGANIZATION_ID: &str = "organizationId";
pub const KEY_ID: &str = "keyId";
pub const SCOPES: &str = "scopes";
pub const REQUESTS_PER_MINUTE: &str = "requestsPerMinute";
pub const CONTACTS_PER_DAY: &str = "contactsPerDay";

/// The caller of a route, checked against the route's [`Access`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin(Admin),
    Key(OrganizationKey),
    /// A console user; the function reads who they are with its claim names.
    User(SignedIn),
}

/// An administrator: the IAM principal (user or role ARN) that signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    pub principal: String,
}

/// An authenticated organization key, as the authorizer describes it.
///
/// Values are flat strings in the context (`scopes` space-separated) because
/// REST API authorizer contexts accept only string, number and boolean values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationKey {
    pub organization_id: OrgId,
    pub key_id: String,
    pub scopes: Vec<Scope>,
    /// The key's limits as set (its own request limit over its
    /// organization's); `None` where the function's default applies.
    pub limits: Limits,
}

impl Caller {
    /// The caller of `request`, if it may use a route with `access`:
    /// 401 without the context the route's protection attaches, 403 for a key
    /// without the route's scope.
    pub fn of(request: &Request, access: Access) -> Result<Caller, Problem> {
        match access {
            Access::Admin => Ok(Caller::Admin(Admin::of(request)?)),
            Access::Key(scope) => {
                let key = OrganizationKey::of(request)?;
                key.require(scope)?;
                Ok(Caller::Key(key))
            }
            Access::AnyKey => Ok(Caller::Key(OrganizationKey::of(request)?)),
            Access::User | Access::AnyUser => Ok(Caller::User(SignedIn::of(request)?)),
            // Only the function that verifies the signature knows this caller.
            Access::GitHubSignature => Err(Problem::unauthorized(
                "this route is called by GitHub, with its signature",
            )),
        }
    }
}

impl Caller {
    /// The caller as an audit event's actor.
    pub fn actor(&self) -> Actor {
        match self {
            Caller::Admin(admin) => admin.actor(),
            Caller::Key(key) => key.actor(),
            Caller::User(signed_in) => signed_in.actor(),
        }
    }
}

impl Admin {
    pub fn actor(&self) -> Actor {
        Actor::admin(&self.principal)
    }

    fn of(request: &Request) -> Result<Admin, Problem> {
        let principal = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|auth| auth.iam.as_ref())
                .and_then(|iam| iam.user_arn.clone().or_else(|| iam.caller_id.clone())),
            Some(RequestContext::ApiGatewayV1(ctx)) => ctx
                .identity
                .user_arn
                .clone()
                .or_else(|| ctx.identity.caller.clone()),
            _ => None,
        };
        principal
            .filter(|p| !p.is_empty())
            .map(|principal| Admin { principal })
            .ok_or_else(|| Problem::unauthorized("admin routes require IAM (SigV4) authorization"))
    }
}

impl OrganizationKey {
    pub fn actor(&self) -> Actor {
        Actor::api_key(&self.key_id)
    }

    /// The context object the authorizer returns to API Gateway.
    pub fn to_context(&self) -> Value {
        let scopes: Vec<&str> = self.scopes.iter().map(|s| s.as_str()).collect();
        let mut context = json!({
            ORGANIZATION_ID: self.organization_id,
            KEY_ID: self.key_id,
            SCOPES: scopes.join(" "),
        });
        let limits = [
            (REQUESTS_PER_MINUTE, self.limits.requests_per_minute),
            (CONTACTS_PER_DAY, self.limits.contacts_per_day),
        ];
        for (name, limit) in limits {
            if let Some(limit) = limit {
                context[name] = json!(limit.to_string());
            }
        }
        context
    }

    /// Reads the context back. `None` unless both IDs are present and the
    /// organization's follows the ID rule (parsed here, at the edge, and
    /// carried typed to the store); unknown scopes are dropped, so a context
    /// can only ever grant less; a limit that is not a positive whole number
    /// is left to the default.
    pub fn from_context(fields: &HashMap<String, Value>) -> Option<OrganizationKey> {
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        let limit = |name: &str| {
            let value = fields.get(name)?;
            let number = match value {
                Value::String(text) => text.parse::<u32>().ok(),
                other => other.as_u64().and_then(|n| u32::try_from(n).ok()),
            };
            number.filter(|n| *n >= 1)
        };
        Some(OrganizationKey {
            organization_id: OrgId::parse(text(ORGANIZATION_ID)?).ok()?,
            key_id: text(KEY_ID)?.to_owned(),
            scopes: text(SCOPES)
                .unwrap_or_default()
                .split(' ')
                .filter_map(|s| s.parse().ok())
                .collect(),
            limits: Limits {
                requests_per_minute: limit(REQUESTS_PER_MINUTE),
                contacts_per_day: limit(CONTACTS_PER_DAY),
            },
        })
    }

    /// From `requestContext.authorizer.lambda` (HTTP API) or the flat
    /// `requestContext.authorizer` (REST). No context is a 401: a function
    /// wired up without the authorizer serves nobody.
    fn of(request: &Request) -> Result<OrganizationKey, Problem> {
        let fields = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.authorizer.as_ref().map(|a| &a.fields),
            Some(RequestContext::ApiGatewayV1(ctx)) => Some(&ctx.authorizer.fields),
            _ => None,
        };
        fields
            .and_then(OrganizationKey::from_context)
            .ok_or_else(|| Problem::unauthorized("this route needs an organization API key"))
    }

    /// A 403 naming the scope unless the key carries it.
    fn require(&self, scope: Scope) -> Result<(), Problem> {
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
        let key = OrganizationKey {
            organization_id: OrgId::parse("acme").unwrap(),
            key_id: "key_1".into(),
            scopes: vec![Scope::SchedulesRead, Scope::ConversationsWrite],
            limits: Limits {
                requests_per_minute: Some(120),
                contacts_per_day: None,
            },
        };
        let value = key.to_context();
        assert_eq!(value["scopes"], "schedules:read conversations:write");
        assert_eq!(value["requestsPerMinute"], "120");
        assert!(value.get("contactsPerDay").is_none());
        assert!(value.as_object().unwrap().values().all(Value::is_string));
        assert_eq!(OrganizationKey::from_context(&fields(&value)), Some(key));
    }

    #[test]
    fn missing_ids_give_no_context_and_unknown_scopes_are_dropped() {
        let partial = json!({"organizationId": "acme", "scopes": "schedules:read"});
        assert_eq!(OrganizationKey::from_context(&fields(&partial)), None);
        let odd =
            json!({"organizationId": "a", "keyId": "k", "scopes": "admin:all schedules:read"});
        let key = OrganizationKey::from_context(&fields(&odd)).unwrap();
        assert_eq!(key.scopes, vec![Scope::SchedulesRead]);
        assert_eq!(key.limits, Limits::default());
        let bad_limits = json!({"organizationId": "a", "keyId": "k", "requestsPerMinute": "0", "contactsPerDay": "lots"});
        let key = OrganizationKey::from_context(&fields(&bad_limits)).unwrap();
        assert_eq!(key.limits, Limits::default());
    }

    #[test]
    fn a_context_whose_organization_id_breaks_the_id_rule_is_no_context() {
        for bad in ["a b", "a#b", "acme/../other", &"x".repeat(65)] {
            let context = json!({"organizationId": bad, "keyId": "k", "scopes": "schedules:read"});
            assert_eq!(
                OrganizationKey::from_context(&fields(&context)),
                None,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_key_without_the_route_scope_is_refused_with_403() {
        let key = OrganizationKey {
            organization_id: OrgId::parse("acme").unwrap(),
            key_id: "key_1".into(),
            scopes: vec![Scope::SchedulesRead],
            limits: Limits::default(),
        };
        assert!(key.require(Scope::SchedulesRead).is_ok());
        assert_eq!(
            key.require(Scope::ConversationsWrite).unwrap_err().status,
            403
        );
    }
}
