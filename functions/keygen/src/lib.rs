//! The admin API for organizations and their API keys, behind `AWS_IAM`:
//! create or update an organization, generate keys (shown once), list, delete
//! and roll them. Routing is on API Gateway's route key; every error is a
//! problem+json body; the plaintext key appears only in the 201 that creates it.

mod audit_events;

use chrono::{DateTime, Duration, Utc};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Error, Request, Response};
use orgkeys_shared::audit::{Actor, Draft};
use orgkeys_shared::edge::caller::{Admin, Caller};
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::request::{
    audit_draft, authorize, json_body, json_response, no_content, path_param, respond,
};
use orgkeys_shared::key_format::ApiKey;
use orgkeys_shared::key_hash::KeyHash;
use orgkeys_shared::keys::{KeyRecord, Scope};
use orgkeys_shared::organizations::Organization;
use orgkeys_shared::routes::{Function, Operation};
use orgkeys_shared::validation::{Violations, is_valid_id};
use orgkeys_shared::wire_time::{self, format as timestamp};
use orgkeys_shared::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// Admin bodies are small; anything larger is a mistake or an attack.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Roll grace period bounds: up to a week, one hour unless told otherwise.
pub const MAX_GRACE_SECONDS: i64 = 604_800;
pub const DEFAULT_GRACE_SECONDS: i64 = 3_600;
const MAX_NAME_CHARS: usize = 200;
/// Deep enough for any real hierarchy, small enough to bound the cycle check.
const MAX_ORG_DEPTH: usize = 32;

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
    let org_id = path_param(request, "orgId");
    if !is_valid_id(&org_id) {
        return Err(Problem::validation(vec![FieldError::parameter(
            "orgId",
            "must be 1-64 characters of A-Z, a-z, 0-9, _ and -",
        )]));
    }
    let key_id = path_param(request, "keyId");
    let draft = || audit_draft(request, &caller, now);
    match route.operation {
        Operation::PutOrganization => put_organization(store, request, &org_id, &draft()?).await,
        Operation::GetOrganization => get_organization(store, &org_id).await,
        Operation::CreateApiKey => create_key(store, request, &org_id, admin, &draft()?).await,
        Operation::ListApiKeys => list_keys(store, &org_id).await,
        Operation::DeleteApiKey => delete_key(store, &org_id, &key_id, &draft()?).await,
        Operation::RollApiKey => roll_key(store, request, &org_id, &key_id, admin, &draft()?).await,
        Operation::ListAuditEvents => audit_events::list(store, request, &org_id).await,
        _ => Err(Problem::not_found(format!("no route {}", route.key))),
    }
}

/// Body of `PUT /v1/admin/organizations/{orgId}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OrganizationInput {
    name: Option<String>,
    parent_id: Option<String>,
}

/// An organization as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrganizationView {
    organization_id: String,
    name: String,
    parent_id: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<Organization> for OrganizationView {
    fn from(org: Organization) -> OrganizationView {
        OrganizationView {
            organization_id: org.organization_id,
            name: org.name,
            parent_id: org.parent_id,
            created_at: timestamp(org.created_at),
            updated_at: timestamp(org.updated_at),
        }
    }
}

async fn put_organization(
    store: &Store,
    request: &Request,
    org_id: &str,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let input: OrganizationInput = json_body(request, BODY_LIMIT)?;
    let mut violations = Violations::new();
    match &input.name {
        None => violations.body("/name", "is required"),
        Some(name) => violations.text("/name", Some(name), MAX_NAME_CHARS),
    }
    if let Some(parent) = &input.parent_id {
        if !is_valid_id(parent) {
            violations.body(
                "/parentId",
                "must be 1-64 characters of A-Z, a-z, 0-9, _ and -",
            );
        } else if parent == org_id {
            violations.body("/parentId", "an organization cannot be its own parent");
        }
    }
    violations.finish().map_err(Problem::validation)?;
    if let Some(parent) = &input.parent_id {
        check_parent(store, org_id, parent).await?;
    }
    let name = input.name.as_deref().unwrap_or_default().trim();
    let (organization, created) = store
        .put_organization(org_id, name, input.parent_id.as_deref(), draft)
        .await?;
    tracing::info!(org_id, created, "organization saved");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &OrganizationView::from(organization)))
}

/// The parent must exist, and `org_id` must not be among its ancestors.
async fn check_parent(store: &Store, org_id: &str, parent: &str) -> Result<(), Problem> {
    let mut next = Some(parent.to_owned());
    for _ in 0..MAX_ORG_DEPTH {
        let Some(current) = next else { return Ok(()) };
        let Some(org) = store.get_organization(&current).await? else {
            return Err(Problem::validation(vec![FieldError::body(
                "/parentId",
                "no organization with this ID exists",
            )]));
        };
        if org.parent_id.as_deref() == Some(org_id) {
            return Err(Problem::validation(vec![FieldError::body(
                "/parentId",
                "this parent would make the hierarchy a cycle",
            )]));
        }
        next = org.parent_id;
    }
    Err(Problem::validation(vec![FieldError::body(
        "/parentId",
        format!("organizations nest at most {MAX_ORG_DEPTH} deep"),
    )]))
}

async fn get_organization(store: &Store, org_id: &str) -> Result<Response<Body>, Problem> {
    let organization = store
        .get_organization(org_id)
        .await?
        .ok_or_else(|| Problem::not_found("no organization with this ID"))?;
    Ok(json_response(
        StatusCode::OK,
        &OrganizationView::from(organization),
    ))
}

/// Body of `POST .../api-keys`: everything optional.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateKeyInput {
    name: Option<String>,
    scopes: Option<Vec<String>>,
    expires_at: Option<String>,
}

/// The one response that carries a plaintext key.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedKey<'a> {
    key_id: &'a str,
    organization_id: &'a str,
    name: Option<&'a str>,
    api_key: &'a str,
    hint: &'a str,
    scopes: &'a [Scope],
    created_at: String,
    created_by: Actor,
    expires_at: Option<String>,
}

/// A key as listings show it: never the key, never its hash.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyView {
    key_id: String,
    name: Option<String>,
    hint: String,
    scopes: Vec<Scope>,
    created_at: String,
    created_by: Actor,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    rolled_to: Option<String>,
}

impl From<KeyRecord> for KeyView {
    fn from(record: KeyRecord) -> KeyView {
        KeyView {
            key_id: record.key_id,
            name: record.name,
            hint: record.hint,
            scopes: record.scopes,
            created_at: timestamp(record.created_at),
            // Keys are created (and rolled) by administrators only.
            created_by: Actor::admin(&record.created_by),
            expires_at: record.expires_at.map(timestamp),
            last_used_at: record.last_used_at.map(timestamp),
            rolled_to: record.rolled_to,
        }
    }
}

async fn create_key(
    store: &Store,
    request: &Request,
    org_id: &str,
    admin: &Admin,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let now = draft.occurred_at;
    let input: CreateKeyInput = json_body(request, BODY_LIMIT)?;
    let valid = validate_key_input(&input, now).map_err(Problem::validation)?;
    let (key, record) = new_key(KeyTemplate {
        organization_id: org_id,
        name: input.name.map(|name| name.trim().to_owned()),
        scopes: valid.scopes,
        expires_at: valid.expires_at,
        created_by: &admin.principal,
        now,
    })?;
    let hash = KeyHash::of(&key);
    store
        .create_key(&record, &hash, draft)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => Problem::not_found("no organization with this ID"),
            other => other.into(),
        })?;
    tracing::info!(org_id, key_id = %record.key_id, hash = %hash.short(), "api key created");
    Ok(created_key_response(&key, &record))
}

fn validate_key_input(
    input: &CreateKeyInput,
    now: DateTime<Utc>,
) -> Result<ValidKeyInput, Vec<FieldError>> {
    let mut violations = Violations::new();
    violations.text("/name", input.name.as_deref(), MAX_NAME_CHARS);
    let mut scopes = Vec::new();
    match &input.scopes {
        None => scopes.extend(Scope::ALL),
        Some(requested) if requested.is_empty() => {
            violations.body("/scopes", "a key needs at least one scope");
        }
        Some(requested) => {
            for (index, text) in requested.iter().enumerate() {
                match text.parse::<Scope>() {
                    Ok(scope) if !scopes.contains(&scope) => scopes.push(scope),
                    Ok(_) => {}
                    Err(()) => violations.body(
                        format!("/scopes/{index}"),
                        "unknown scope; expected schedules:read, conversations:write or conversations:read",
                    ),
                }
            }
        }
    }
    let expires_at = input
        .expires_at
        .as_deref()
        .and_then(|text| match wire_time::parse(text) {
            Some(at) if at <= now => {
                violations.body("/expiresAt", "must be in the future");
                None
            }
            Some(at) => Some(at),
            None => {
                violations.body("/expiresAt", "must be an RFC 3339 date-time");
                None
            }
        });
    violations.finish()?;
    scopes.sort();
    Ok(ValidKeyInput { scopes, expires_at })
}

/// A [`CreateKeyInput`] that passed validation, defaults applied.
struct ValidKeyInput {
    scopes: Vec<Scope>,
    expires_at: Option<DateTime<Utc>>,
}

/// What a new key inherits: from the request, or from the key it replaces.
struct KeyTemplate<'a> {
    organization_id: &'a str,
    name: Option<String>,
    scopes: Vec<Scope>,
    expires_at: Option<DateTime<Utc>>,
    created_by: &'a str,
    now: DateTime<Utc>,
}

fn new_key(template: KeyTemplate<'_>) -> Result<(ApiKey, KeyRecord), Problem> {
    let key = ApiKey::generate()?;
    let record = KeyRecord {
        organization_id: template.organization_id.to_owned(),
        key_id: orgkeys_shared::ids::random_id("key_")?,
        name: template.name,
        hint: key.hint(),
        scopes: template.scopes,
        created_at: template.now,
        created_by: template.created_by.to_owned(),
        expires_at: template.expires_at,
        last_used_at: None,
        rolled_to: None,
    };
    Ok((key, record))
}

fn created_key_response(key: &ApiKey, record: &KeyRecord) -> Response<Body> {
    let body = CreatedKey {
        key_id: &record.key_id,
        organization_id: &record.organization_id,
        name: record.name.as_deref(),
        api_key: key.expose(),
        hint: &record.hint,
        scopes: &record.scopes,
        created_at: timestamp(record.created_at),
        // Keys are created (and rolled) by administrators only.
        created_by: Actor::admin(&record.created_by),
        expires_at: record.expires_at.map(timestamp),
    };
    let mut response = json_response(StatusCode::CREATED, &body);
    // The key must not be kept by any cache between the admin and us.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn list_keys(store: &Store, org_id: &str) -> Result<Response<Body>, Problem> {
    if store.get_organization(org_id).await?.is_none() {
        return Err(Problem::not_found("no organization with this ID"));
    }
    let items: Vec<KeyView> = store
        .list_keys(org_id)
        .await?
        .into_iter()
        .map(KeyView::from)
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "items": items }),
    ))
}

async fn delete_key(
    store: &Store,
    org_id: &str,
    key_id: &str,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let not_found = || Problem::not_found("no API key with this ID in this organization");
    if !is_valid_id(key_id) {
        return Err(not_found());
    }
    store
        .delete_key(org_id, key_id, draft)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => not_found(),
            other => other.into(),
        })?;
    tracing::info!(org_id, key_id, "api key deleted");
    Ok(no_content())
}

/// Body of `POST .../roll`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RollInput {
    grace_period_seconds: Option<i64>,
}

async fn roll_key(
    store: &Store,
    request: &Request,
    org_id: &str,
    key_id: &str,
    admin: &Admin,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let now = draft.occurred_at;
    let input: RollInput = json_body(request, BODY_LIMIT)?;
    let grace = input.grace_period_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    if !(0..=MAX_GRACE_SECONDS).contains(&grace) {
        return Err(Problem::validation(vec![FieldError::body(
            "/gracePeriodSeconds",
            format!("must be between 0 and {MAX_GRACE_SECONDS}"),
        )]));
    }
    let not_found = || Problem::not_found("no API key with this ID in this organization");
    if !is_valid_id(key_id) {
        return Err(not_found());
    }
    let (old, old_hash) = store.get_key(org_id, key_id).await?.ok_or_else(not_found)?;
    if old.rolled_to.is_some() {
        return Err(Problem::conflict("this key has already been rolled"));
    }
    if old.is_expired(now) {
        return Err(Problem::conflict("this key has expired; create a new one"));
    }
    let grace_end = now + Duration::seconds(grace);
    let old_expires_at = old.expires_at.map_or(grace_end, |at| at.min(grace_end));
    let (key, successor) = new_key(KeyTemplate {
        organization_id: org_id,
        name: old.name.clone(),
        scopes: old.scopes.clone(),
        expires_at: old.expires_at,
        created_by: &admin.principal,
        now,
    })?;
    let hash = KeyHash::of(&key);
    store
        .roll_key(&old, &old_hash, old_expires_at, &successor, &hash, draft)
        .await
        .map_err(|err| match err {
            StoreError::Conflict => {
                Problem::conflict("this key was rolled or deleted by another request")
            }
            other => other.into(),
        })?;
    tracing::info!(org_id, key_id, successor = %successor.key_id, "api key rolled");
    Ok(created_key_response(&key, &successor))
}
