//! The admin API for organizations and their API keys, behind `AWS_IAM`:
//! organizations (list, create, read, change, suspend and resume, delete;
//! [`organizations`]), their keys (generate, shown once; list, read, change,
//! disable and enable, roll, delete; [`api_keys`]) and their audit events
//! ([`audit_events`]). Routing is on API Gateway's route key; every error is
//! a problem+json body; the plaintext key appears only in the 201 that
//! creates it.

mod api_keys;
mod audit_events;
mod organizations;

use chrono::{DateTime, Utc};
use lambda_http::{Body, Error, Request, Response};
use orgkeys_shared::Store;
use orgkeys_shared::edge::caller::Caller;
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::request::{audit_draft, authorize, path_param, respond};
use orgkeys_shared::routes::{Function, Operation};
use orgkeys_shared::validation::is_valid_id;

/// Admin bodies are small; anything larger is a mistake or an attack.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Roll grace period bounds: up to a week, one hour unless told otherwise.
pub const MAX_GRACE_SECONDS: i64 = 604_800;
pub const DEFAULT_GRACE_SECONDS: i64 = 3_600;
const MAX_NAME_CHARS: usize = 200;
const ORG_ID_RULE: &str = "must be 1-64 characters of A-Z, a-z, 0-9, _ and -";

/// Checks a limit from a body: `None` when absent, a violation when out of
/// `1..=max`.
fn limit_in_range(
    violations: &mut orgkeys_shared::validation::Violations,
    pointer: &str,
    value: Option<i64>,
    max: u32,
) -> Option<u32> {
    let value = value?;
    match u32::try_from(value) {
        Ok(limit) if (1..=max).contains(&limit) => Some(limit),
        _ => {
            violations.body(pointer, format!("must be a whole number from 1 to {max}"));
            None
        }
    }
}

/// Serves one admin request; never fails at the Lambda level, so every error
/// reaches the client as problem+json.
pub async fn handle(store: &Store, request: Request) -> Result<Response<Body>, Error> {
    Ok(respond(route(store, &request, Utc::now()).await))
}

async fn route(
    store: &Store,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Problem> {
    let (route, caller) = authorize(request, Function::Keygen)?;
    let Caller::Admin(admin) = &caller else {
        return Err(Problem::not_found(format!("no route {}", route.key)));
    };
    if route.operation == Operation::ListOrganizations {
        return organizations::list(store, request).await;
    }
    let org_id = path_param(request, "orgId");
    if !is_valid_id(&org_id) {
        return Err(Problem::validation(vec![FieldError::parameter(
            "orgId",
            ORG_ID_RULE,
        )]));
    }
    let org_id = org_id.as_str();
    let key_id = path_param(request, "keyId");
    let key_id = key_id.as_str();
    let draft = || audit_draft(request, &caller, now);
    match route.operation {
        Operation::PutOrganization => organizations::put(store, request, org_id, &draft()?).await,
        Operation::GetOrganization => organizations::get(store, org_id).await,
        Operation::UpdateOrganization => {
            organizations::patch(store, request, org_id, &draft()?).await
        }
        Operation::DeleteOrganization => organizations::delete(store, org_id, &draft()?).await,
        Operation::CreateApiKey => api_keys::create(store, request, org_id, admin, &draft()?).await,
        Operation::ListApiKeys => api_keys::list(store, org_id).await,
        Operation::GetApiKey => api_keys::get(store, org_id, key_id).await,
        Operation::UpdateApiKey => api_keys::patch(store, request, org_id, key_id, &draft()?).await,
        Operation::DeleteApiKey => api_keys::delete(store, org_id, key_id, &draft()?).await,
        Operation::RollApiKey => {
            api_keys::roll(store, request, org_id, key_id, admin, &draft()?).await
        }
        Operation::ListAuditEvents => audit_events::list(store, request, org_id).await,
        Operation::GetOrganizationUsage => organizations::usage(store, request, org_id, now).await,
        _ => Err(Problem::not_found(format!("no route {}", route.key))),
    }
}
