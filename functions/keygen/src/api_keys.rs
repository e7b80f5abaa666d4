//! The API key routes: create (the only answer that carries the key), list,
//! read one, change (`PATCH`, a JSON merge patch: name, scopes, expiry,
//! enabled), roll and delete.

use crate::key_input::{validate_key_input, validate_patch};
use crate::{BODY_LIMIT, DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS};
use chrono::{DateTime, Duration, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_api::KeyId;
use orgkeys_api::OrgId;
use orgkeys_api::body::{CreateKeyInput, KeyPatchInput, RollInput};
use orgkeys_shared::audit::{Actor, Draft};
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::request::{existing_organization, path_id};
use orgkeys_shared::edge::request::{
    json_body, json_response, no_content, required_json_body, secret_response,
};
use orgkeys_shared::key_format::ApiKey;
use orgkeys_shared::key_hash::KeyHash;
use orgkeys_shared::keys::{KeyRecord, KeyState, Scope};
use orgkeys_shared::organizations::Terms;
use orgkeys_shared::wire_time::format as timestamp;
use orgkeys_shared::{Store, StoreError};
use serde::Serialize;

/// The one response that carries a plaintext key.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedKey<'a> {
    key_id: &'a str,
    organization_id: &'a OrgId,
    name: Option<&'a str>,
    api_key: &'a str,
    hint: &'a str,
    scopes: &'a [Scope],
    created_at: String,
    created_by: Actor,
    expires_at: Option<String>,
    enabled: bool,
    /// The key's own request limit; `null`: its organization's.
    requests_per_minute: Option<u32>,
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
    enabled: bool,
    /// The key's own request limit; `null`: its organization's.
    requests_per_minute: Option<u32>,
    /// Set once the key was reported found in public.
    leaked: Option<LeakView>,
    /// Decided here, once: what the CLI and the console show.
    state: KeyState,
}

/// Where and when a key was reported leaked.
#[derive(Debug, Serialize)]
struct LeakView {
    at: String,
    source: String,
    url: Option<String>,
}

impl KeyView {
    /// The record as a view at `now` (its state depends on the time).
    fn at(record: KeyRecord, now: DateTime<Utc>) -> KeyView {
        KeyView {
            state: record.state(now),
            key_id: record.key_id,
            name: record.name,
            hint: record.hint,
            scopes: record.scopes,
            created_at: timestamp(record.created_at),
            created_by: record.created_by,
            expires_at: record.expires_at.map(timestamp),
            last_used_at: record.last_used_at.map(timestamp),
            rolled_to: record.rolled_to,
            enabled: record.enabled,
            requests_per_minute: record.requests_per_minute,
            leaked: record.leaked.map(|leak| LeakView {
                at: timestamp(leak.at),
                source: leak.source,
                url: leak.url,
            }),
        }
    }
}

/// A request on an organization's keys, by whoever may make it there.
pub struct KeyRequest<'a> {
    pub store: &'a Store,
    pub request: &'a Request,
    pub org_id: &'a OrgId,
    /// The most requests per minute a key may be given: the API's maximum
    /// for a platform operator, the organization's limit for its own users.
    pub requests_per_minute_ceiling: u32,
}

impl KeyRequest<'_> {
    /// A key's own limit may not exceed the ceiling: 422, pointing at it.
    fn check_ceiling(&self, requests_per_minute: Option<u32>) -> Result<(), Problem> {
        match requests_per_minute {
            Some(limit) if limit > self.requests_per_minute_ceiling => {
                Err(Problem::above_organization_limit(
                    "/requestsPerMinute",
                    format!(
                        "must be at most {}, the organization's limit",
                        self.requests_per_minute_ceiling
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// The key created by `draft`'s actor.
pub async fn create(keys: &KeyRequest<'_>, draft: &Draft) -> Result<Response<Body>, Problem> {
    let (store, org_id) = (keys.store, keys.org_id);
    let now = draft.occurred_at;
    let input: CreateKeyInput = json_body(keys.request, BODY_LIMIT)?;
    let valid = validate_key_input(&input, now).map_err(Problem::validation)?;
    keys.check_ceiling(valid.requests_per_minute)?;
    let (key, record) = new_key(KeyTemplate {
        organization_id: org_id,
        name: input.name.map(|name| name.trim().to_owned()),
        scopes: valid.scopes,
        expires_at: valid.expires_at,
        requests_per_minute: valid.requests_per_minute,
        created_by: &draft.actor,
        now,
    })?;
    let hash = KeyHash::of(&key);
    let record = store
        .create_key(&record, &hash, draft)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => Problem::no_organization(),
            other => other.into(),
        })?;
    tracing::info!(%org_id, key_id = %record.key_id, hash = %hash.short(), "api key created");
    Ok(created_key_response(&key, &record))
}

/// What a new key inherits: from the request, or from the key it replaces.
struct KeyTemplate<'a> {
    organization_id: &'a OrgId,
    name: Option<String>,
    scopes: Vec<Scope>,
    expires_at: Option<DateTime<Utc>>,
    requests_per_minute: Option<u32>,
    created_by: &'a Actor,
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
        created_by: template.created_by.clone(),
        expires_at: template.expires_at,
        last_used_at: None,
        rolled_to: None,
        enabled: true,
        requests_per_minute: template.requests_per_minute,
        // The store writes the organization's terms as it reads them.
        terms: Terms::default(),
        leaked: None,
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
        created_by: record.created_by.clone(),
        expires_at: record.expires_at.map(timestamp),
        enabled: record.enabled,
        requests_per_minute: record.requests_per_minute,
    };
    secret_response(StatusCode::CREATED, &body)
}

pub async fn list(store: &Store, org_id: &OrgId) -> Result<Response<Body>, Problem> {
    existing_organization(store, org_id).await?;
    list_of_known(store, org_id).await
}

/// The keys of an organization the caller already read.
pub async fn list_of_known(store: &Store, org_id: &OrgId) -> Result<Response<Body>, Problem> {
    let items: Vec<KeyView> = store
        .list_keys(org_id)
        .await?
        .into_iter()
        .map(|record| KeyView::at(record, Utc::now()))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "items": items }),
    ))
}

pub async fn delete(
    store: &Store,
    org_id: &OrgId,
    key_id: &KeyId,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let key_id = key_id.as_str();
    store
        .delete_key(org_id, key_id, draft)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => key_not_found(),
            other => other.into(),
        })?;
    tracing::info!(%org_id, key_id, "api key deleted");
    Ok(no_content())
}

/// The successor of `key_id`, created by `draft`'s actor.
pub async fn roll(
    keys: &KeyRequest<'_>,
    key_id: &KeyId,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let (store, org_id) = (keys.store, keys.org_id);
    let now = draft.occurred_at;
    let input: RollInput = json_body(keys.request, BODY_LIMIT)?;
    let grace = input.grace_period_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    if !(0..=MAX_GRACE_SECONDS).contains(&grace) {
        return Err(Problem::validation(vec![FieldError::body(
            "/gracePeriodSeconds",
            format!("must be between 0 and {MAX_GRACE_SECONDS}"),
        )]));
    }
    let (old, old_hash) = read_key(store, org_id, key_id).await?;
    if old.rolled_to.is_some() {
        return Err(Problem::conflict("this key has already been rolled"));
    }
    if !old.enabled {
        return Err(Problem::conflict(
            "this key is disabled; enable it before rolling it",
        ));
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
        requests_per_minute: old.requests_per_minute,
        created_by: &draft.actor,
        now,
    })?;
    let hash = KeyHash::of(&key);
    let successor = store
        .roll_key(&old, &old_hash, old_expires_at, &successor, &hash, draft)
        .await
        .map_err(|err| match err {
            StoreError::Conflict => {
                Problem::conflict("this key was rolled, disabled or deleted by another request")
            }
            StoreError::NotFound => Problem::no_organization(),
            other => other.into(),
        })?;
    tracing::info!(%org_id, %key_id, successor = %successor.key_id, "api key rolled");
    Ok(created_key_response(&key, &successor))
}

fn key_not_found() -> Problem {
    Problem::not_found("no API key with this ID in this organization")
}

/// The `keyId` of the path, parsed once: a malformed one names no key, so it
/// is answered as one that does not exist.
pub fn key_id_of(request: &Request) -> Result<KeyId, Problem> {
    path_id(request, "keyId").map_err(|_| key_not_found())
}

/// The key `key_id` of `org_id` and its hash; 404 for an ID that is not one
/// of this organization's keys (another organization's included).
async fn read_key(
    store: &Store,
    org_id: &OrgId,
    key_id: &KeyId,
) -> Result<(KeyRecord, KeyHash), Problem> {
    store
        .get_key(org_id, key_id.as_str())
        .await?
        .ok_or_else(key_not_found)
}

pub async fn get(store: &Store, org_id: &OrgId, key_id: &KeyId) -> Result<Response<Body>, Problem> {
    let (record, _) = read_key(store, org_id, key_id).await?;
    Ok(json_response(
        StatusCode::OK,
        &KeyView::at(record, Utc::now()),
    ))
}

pub async fn patch(
    keys: &KeyRequest<'_>,
    key_id: &KeyId,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let (store, org_id) = (keys.store, keys.org_id);
    let input: KeyPatchInput = required_json_body(keys.request, BODY_LIMIT)?;
    let patch = validate_patch(input, draft.occurred_at).map_err(Problem::validation)?;
    keys.check_ceiling(patch.requests_per_minute.flatten())?;
    let (old, hash) = read_key(store, org_id, key_id).await?;
    if patch.expires_at.is_some() && old.rolled_to.is_some() {
        return Err(Problem::conflict(
            "this key has been rolled: its expiry is the end of its grace period",
        ));
    }
    let changed = store
        .update_key(&old, &hash, &patch, draft)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => key_not_found(),
            StoreError::Conflict => Problem::conflict(
                "this key was rolled by another request: its expiry is the end of its grace period",
            ),
            other => other.into(),
        })?;
    tracing::info!(%org_id, %key_id, enabled = changed.enabled, "api key changed");
    Ok(json_response(
        StatusCode::OK,
        &KeyView::at(changed, Utc::now()),
    ))
}
