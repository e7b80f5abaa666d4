//! `POST /v1/admin/api-keys/revoke`: an operator holding a leaked key (from a
//! support ticket, a paste) revokes it without knowing whose it is. The key
//! is found by its hash wherever it belongs, gets `LEAKED_KEY_ACTION` as a
//! GitHub report would, and `api_key.leaked` names the admin and the reason.

use crate::{BODY_LIMIT, Keygen};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_api::OrgId;
use orgkeys_api::body::RevokeInput;
use orgkeys_shared::audit::{Draft, details};
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::request::{json_response, required_json_body};
use orgkeys_shared::key_format::ApiKey;
use orgkeys_shared::key_hash::KeyHash;
use orgkeys_shared::keys::{Leak, LeakOutcome};
use orgkeys_shared::validation::Violations;
use serde::Serialize;

/// Why an operator revokes a key; kept in the event.
const MAX_REASON_CHARS: usize = 500;
/// The leak's `source` for an operator's report.
const SOURCE: &str = "admin";

/// The answer: whose key it was, and what was done now (`null`: it had
/// been reported already, nothing changed).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Revoked<'a> {
    organization_id: &'a OrgId,
    key_id: &'a str,
    action: Option<&'static str>,
}

pub async fn revoke(
    keygen: &Keygen,
    request: &Request,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let input: RevokeInput = required_json_body(request, BODY_LIMIT)?;
    let (key, reason) = validate(&input).map_err(Problem::validation)?;
    let hash = KeyHash::of(&key);
    let record = keygen.store.find_key(&hash).await?.ok_or_else(|| {
        Problem::not_found("no API key matches this key; it may have been deleted")
    })?;
    let leak = Leak {
        at: draft.occurred_at,
        source: SOURCE.to_owned(),
        url: None,
    };
    let outcome = keygen
        .store
        .revoke_leaked_key(
            &record,
            &hash,
            &leak,
            keygen.leaked_key_action,
            draft,
            details([("reason", reason.into())]),
        )
        .await?;
    let action = match outcome {
        LeakOutcome::Revoked(action) => Some(action.as_str()),
        LeakOutcome::AlreadyReported => None,
    };
    let (org_id, key_id) = (&record.organization_id, &record.key_id);
    tracing::warn!(%org_id, key_id, action, "api key revoked by an admin");
    Ok(json_response(
        StatusCode::OK,
        &Revoked {
            organization_id: org_id,
            key_id,
            action,
        },
    ))
}

/// The key and the trimmed reason, or a violation for each bad field; the
/// key's violation never repeats it.
fn validate(input: &RevokeInput) -> Result<(ApiKey, String), Vec<FieldError>> {
    let mut violations = Violations::new();
    violations.text("/reason", Some(&input.reason), MAX_REASON_CHARS);
    let key = ApiKey::parse(input.api_key.trim()).inspect_err(|why| {
        violations.body("/apiKey", format!("is not an orgkeys API key: {why}"));
    });
    violations.finish()?;
    let key = key.map_err(|_| Vec::new())?;
    Ok((key, input.reason.trim().to_owned()))
}
