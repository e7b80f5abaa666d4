//! A console user: the claims of an OpenID Connect token that API Gateway's
//! JWT authorizer verified (the local gateway verifies it the same way), as
//! `requestContext.authorizer.jwt.claims` carries them: every value a string,
//! an array claim such as `cognito:groups` as `"[a b]"`.
//!
//! Which claims name the user's organization and role is configuration
//! ([`ClaimNames`]: `CONSOLE_ORG_CLAIM`, `CONSOLE_ROLE_CLAIM`), read by `main`;
//! the organization comes only from the verified token, never from a header
//! or a body.
//!
//! Claims are read strictly: a role is an exact member of the role claim,
//! which must be a JSON array of strings or API Gateway's `[a b]`; since
//! API Gateway hands every claim over as a string, the token's own payload
//! (the `Authorization` header API Gateway verified) says whether the
//! organization claim was a string and the role claim an array of strings:
//! anything else names no organization and no role.

use crate::audit::Actor;
use crate::dynamo::Store;
use crate::edge::problem::Problem;
use crate::organizations::Organization;
use crate::routes::Route;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use orgkeys_api::{OrgId, Role};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The claims of a verified token, as API Gateway hands them over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub claims: HashMap<String, String>,
    /// The same claims with their JSON types, from the token in the
    /// request's `Authorization` header, when it carries one.
    pub typed: Option<Map<String, Value>>,
}

/// Which claims name a user's home organization and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    pub organization: String,
    pub role: String,
}

impl Default for ClaimNames {
    fn default() -> ClaimNames {
        ClaimNames {
            organization: "custom:organizationId".into(),
            role: "cognito:groups".into(),
        }
    }
}

impl ClaimNames {
    /// `CONSOLE_ORG_CLAIM` and `CONSOLE_ROLE_CLAIM`, or the Cognito defaults.
    pub fn from_env() -> ClaimNames {
        let default = ClaimNames::default();
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        ClaimNames {
            organization: var("CONSOLE_ORG_CLAIM").unwrap_or(default.organization),
            role: var("CONSOLE_ROLE_CLAIM").unwrap_or(default.role),
        }
    }
}

/// Who a signed-in user is, as far as the console is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The token's `sub`.
    pub id: String,
    pub email: Option<String>,
    /// Their home organization; `None` when the token names none (or a
    /// malformed one): such a user may only ask who they are.
    pub organization_id: Option<OrgId>,
    /// `None` when the token carries neither group.
    pub role: Option<Role>,
}

impl SignedIn {
    /// From `requestContext.authorizer.jwt.claims`. No claims is a 401: a
    /// function wired up without the JWT authorizer serves nobody.
    pub fn of(request: &Request) -> Result<SignedIn, Problem> {
        let claims = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|authorizer| authorizer.jwt.as_ref())
                .map(|jwt| jwt.claims.clone()),
            _ => None,
        };
        let typed = request
            .headers()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(token_payload);
        claims
            .filter(|claims| claims.get("sub").is_some_and(|sub| !sub.is_empty()))
            .map(|claims| SignedIn { claims, typed })
            .ok_or_else(|| Problem::unauthorized("this route needs a signed-in user"))
    }

    /// The token's `iat`: when it was issued, in seconds since the epoch.
    pub fn issued_at(&self) -> Option<i64> {
        self.claims.get("iat")?.parse().ok()
    }

    /// Whether claim `name` had JSON type `wanted` in the token (true when
    /// the token itself is not at hand: API Gateway's strings are all there is).
    fn typed_as(&self, name: &str, wanted: fn(&Value) -> bool) -> bool {
        self.typed
            .as_ref()
            .is_none_or(|typed| typed.get(name).is_some_and(wanted))
    }

    /// The user as an audit event's actor: their `sub` and email.
    pub fn actor(&self) -> Actor {
        Actor::user(&self.claims["sub"], self.email())
    }

    fn email(&self) -> Option<String> {
        self.claims.get("email").filter(|v| !v.is_empty()).cloned()
    }

    /// The user these claims describe, read with `names`.
    pub fn user(&self, names: &ClaimNames) -> User {
        let claim = |name: &str| self.claims.get(name).filter(|v| !v.is_empty());
        let groups = claim(&names.role)
            .filter(|_| self.typed_as(&names.role, is_array_of_strings))
            .map(|value| groups(value))
            .unwrap_or_default();
        let role = [Role::OrgAdmin, Role::OrgViewer]
            .into_iter()
            .find(|role| groups.iter().any(|group| group == role.as_str()));
        User {
            id: self.claims["sub"].clone(),
            email: self.email(),
            organization_id: claim(&names.organization)
                .filter(|_| self.typed_as(&names.organization, Value::is_string))
                .and_then(|id| OrgId::parse(id.as_str()).ok()),
            role,
        }
    }
}

/// A console user who may use the console's organization routes: their
/// token names a home organization and a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: User,
    pub home: OrgId,
    pub role: Role,
}

impl Member {
    /// The member behind a request for `route`: 403 for a token without an
    /// organization or a role, and for a viewer's request that is not a `GET`.
    pub fn of(signed_in: &SignedIn, names: &ClaimNames, route: &Route) -> Result<Member, Problem> {
        let user = signed_in.user(names);
        let (Some(home), Some(role)) = (user.organization_id.clone(), user.role) else {
            return Err(Problem::not_permitted(
                format!(
                    "your token names no organization ({}) or no role ({}: org-admin or \
                     org-viewer); ask an admin of your organization",
                    names.organization, names.role
                ),
                None,
            ));
        };
        if !role.may(route.method) {
            return Err(Problem::not_permitted(
                format!("an {} may only read", role.as_str()),
                None,
            ));
        }
        Ok(Member { user, home, role })
    }

    /// The organization `org_id` if this member may act on it (their home
    /// or one below it); 404 as if it did not exist otherwise. One read.
    pub async fn organization(
        &self,
        store: &Store,
        org_id: &OrgId,
    ) -> Result<Organization, Problem> {
        store
            .organization_within(&self.home, org_id)
            .await?
            .ok_or_else(Problem::no_organization)
    }
}

/// The names in a group claim: a JSON array of strings, or `[a b]` as API
/// Gateway flattens one (names without brackets, commas or quotes). Anything
/// else names no group.
fn groups(value: &str) -> Vec<String> {
    if let Ok(names) = serde_json::from_str::<Vec<String>>(value) {
        return names;
    }
    let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) else {
        return Vec::new();
    };
    if inner.contains(['[', ']', ',', '"']) {
        return Vec::new();
    }
    inner.split_whitespace().map(str::to_owned).collect()
}

fn is_array_of_strings(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|items| items.iter().all(Value::is_string))
}

/// The payload of `Bearer <header>.<payload>.<signature>`, as JSON: read,
/// not verified (API Gateway verified this very token), and used only to
/// refuse claims of the wrong type.
fn token_payload(authorization: &str) -> Option<Map<String, Value>> {
    use base64::Engine;
    let (scheme, token) = authorization.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let payload = token.trim().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_in(pairs: &[(&str, &str)]) -> SignedIn {
        SignedIn {
            claims: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            typed: None,
        }
    }

    #[test]
    fn groups_arrive_as_api_gateway_flattens_them_or_as_json() {
        for value in ["[org-viewer org-admin]", r#"["org-viewer","org-admin"]"#] {
            assert_eq!(groups(value), ["org-viewer", "org-admin"], "{value}");
        }
        assert!(groups("[]").is_empty());
    }

    #[test]
    fn a_role_is_an_exact_member_of_a_well_formed_group_claim() {
        let names = ClaimNames::default();
        // The red team's shapes: none is an admin.
        for groups in [
            r#"["former org-admin"]"#,
            r#"["sales,org-admin"]"#,
            r#"["org-admin]"]"#,
            "[sales,org-admin]",
            "[org-admin]]",
            "[[org-admin]",
            r#"["org-admin"#,
            "org-admin",
            "org-viewer, org-admin",
            r#"[1, "x"]"#,
        ] {
            let token = signed_in(&[("sub", "u1"), ("cognito:groups", groups)]);
            assert_eq!(token.user(&names).role, None, "{groups}");
        }
    }

    /// Claims as API Gateway hands them over, with the token whose payload is `payload`.
    fn with_token(pairs: &[(&str, &str)], payload: serde_json::Value) -> SignedIn {
        use base64::Engine;
        let encode = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let token = format!(
            "{}.{}.sig",
            encode(&serde_json::json!({"alg": "RS256"})),
            encode(&payload)
        );
        SignedIn {
            typed: token_payload(&format!("Bearer {token}")),
            ..signed_in(pairs)
        }
    }

    #[test]
    fn a_non_string_organization_claim_is_no_organization() {
        let names = ClaimNames::default();
        for (flattened, typed) in [
            ("null", serde_json::Value::Null),
            ("true", serde_json::json!(true)),
            ("123", serde_json::json!(123)),
            ("[acme]", serde_json::json!(["acme"])),
        ] {
            let token = with_token(
                &[
                    ("sub", "u1"),
                    ("custom:organizationId", flattened),
                    ("cognito:groups", "[org-admin]"),
                ],
                serde_json::json!({"sub": "u1", "custom:organizationId": typed, "cognito:groups": ["org-admin"]}),
            );
            let user = token.user(&names);
            assert_eq!(user.organization_id, None, "{flattened}");
            assert_eq!(user.role, Some(Role::OrgAdmin));
        }
        let string = with_token(
            &[("sub", "u1"), ("custom:organizationId", "acme")],
            serde_json::json!({"sub": "u1", "custom:organizationId": "acme"}),
        );
        assert_eq!(
            string.user(&names).organization_id.unwrap().as_str(),
            "acme"
        );
    }

    #[test]
    fn a_role_claim_that_was_not_an_array_of_strings_names_no_role() {
        let names = ClaimNames::default();
        for typed in [
            serde_json::json!("[org-admin]"),
            serde_json::json!(["org-admin", 1]),
        ] {
            let token = with_token(
                &[("sub", "u1"), ("cognito:groups", "[org-admin]")],
                serde_json::json!({"sub": "u1", "cognito:groups": typed}),
            );
            assert_eq!(token.user(&names).role, None, "{typed}");
        }
    }

    #[test]
    fn admin_outranks_viewer_and_unknown_groups_give_no_role() {
        let names = ClaimNames::default();
        let both = signed_in(&[("sub", "u1"), ("cognito:groups", "[org-viewer org-admin]")]);
        assert_eq!(both.user(&names).role, Some(Role::OrgAdmin));
        let other = signed_in(&[("sub", "u1"), ("cognito:groups", "[staff]")]);
        assert_eq!(other.user(&names).role, None);
    }

    #[test]
    fn the_organization_comes_from_the_configured_claim_and_must_be_an_id() {
        let token = signed_in(&[
            ("sub", "u1"),
            ("custom:organizationId", "acme"),
            ("tenant", "globex"),
            ("email", "a@acme.example"),
        ]);
        let user = token.user(&ClaimNames::default());
        assert_eq!(user.organization_id.unwrap().as_str(), "acme");
        assert_eq!(user.email.as_deref(), Some("a@acme.example"));
        let names = ClaimNames {
            organization: "tenant".into(),
            role: "roles".into(),
        };
        assert_eq!(
            token.user(&names).organization_id.unwrap().as_str(),
            "globex"
        );
        let bad = signed_in(&[("sub", "u1"), ("custom:organizationId", "a b")]);
        assert_eq!(bad.user(&ClaimNames::default()).organization_id, None);
    }
}
