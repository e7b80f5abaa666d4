//! The bodies of the key routes, checked: a new key's name, scopes, expiry
//! and request limit, and a key's merge patch. Every bad field is named by
//! its JSON pointer; what passes carries the defaults.

use crate::{MAX_NAME_CHARS, limit_in_range};
use chrono::{DateTime, Utc};
use orgkeys_api::body::{CreateKeyInput, Field, KeyPatchInput};
use orgkeys_shared::edge::problem::FieldError;
use orgkeys_shared::keys::{KeyPatch, Scope};
use orgkeys_shared::limits::MAX_REQUESTS_PER_MINUTE;
use orgkeys_shared::validation::Violations;
use orgkeys_shared::wire_time;

pub(crate) fn validate_key_input(
    input: &CreateKeyInput,
    now: DateTime<Utc>,
) -> Result<ValidKeyInput, Vec<FieldError>> {
    let mut violations = Violations::new();
    violations.text("/name", input.name.as_deref(), MAX_NAME_CHARS);
    let scopes = match &input.scopes {
        None => Some(Scope::ALL.to_vec()),
        Some(requested) => parse_scopes(requested, &mut violations),
    };
    let expires_at = input
        .expires_at
        .as_deref()
        .and_then(|text| parse_expiry(text, now, &mut violations));
    let requests_per_minute = limit_in_range(
        &mut violations,
        "/requestsPerMinute",
        input.requests_per_minute,
        MAX_REQUESTS_PER_MINUTE,
    );
    violations.finish()?;
    Ok(ValidKeyInput {
        scopes: scopes.unwrap_or_default(),
        expires_at,
        requests_per_minute,
    })
}

/// Requested scopes, deduplicated and sorted; `None` (and a violation for
/// each bad one) unless all are known and there is at least one.
fn parse_scopes(requested: &[String], violations: &mut Violations) -> Option<Vec<Scope>> {
    if requested.is_empty() {
        violations.body("/scopes", "a key needs at least one scope");
        return None;
    }
    let mut scopes = Vec::new();
    let mut valid = true;
    for (index, text) in requested.iter().enumerate() {
        match text.parse::<Scope>() {
            Ok(scope) if !scopes.contains(&scope) => scopes.push(scope),
            Ok(_) => {}
            Err(()) => {
                valid = false;
                violations.body(
                    format!("/scopes/{index}"),
                    "unknown scope; expected schedules:read, conversations:write or conversations:read",
                );
            }
        }
    }
    scopes.sort();
    valid.then_some(scopes)
}

/// A future RFC 3339 expiry, or `None` and a violation.
fn parse_expiry(
    text: &str,
    now: DateTime<Utc>,
    violations: &mut Violations,
) -> Option<DateTime<Utc>> {
    match wire_time::parse(text) {
        Some(at) if at <= now => {
            violations.body("/expiresAt", "must be in the future");
            None
        }
        Some(at) => Some(at),
        None => {
            violations.body("/expiresAt", "must be an RFC 3339 date-time");
            None
        }
    }
}

/// A [`CreateKeyInput`] that passed validation, defaults applied.
pub(crate) struct ValidKeyInput {
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub requests_per_minute: Option<u32>,
}

pub(crate) fn validate_patch(
    input: KeyPatchInput,
    now: DateTime<Utc>,
) -> Result<KeyPatch, Vec<FieldError>> {
    let mut violations = Violations::new();
    if let Field::Value(name) = &input.name {
        violations.text("/name", Some(name), MAX_NAME_CHARS);
    }
    let scopes = match input.scopes {
        Field::Absent => None,
        Field::Null => {
            violations.body(
                "/scopes",
                "cannot be removed; a key needs at least one scope",
            );
            None
        }
        Field::Value(requested) => parse_scopes(&requested, &mut violations),
    };
    let expires_at = match input.expires_at {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Value(text) => parse_expiry(&text, now, &mut violations).map(Some),
    };
    if input.enabled == Field::Null {
        violations.body("/enabled", "must be true or false");
    }
    let requests_per_minute = match input.requests_per_minute {
        Field::Absent => None,
        // `null`: the organization's limit again.
        Field::Null => Some(None),
        Field::Value(value) => Some(limit_in_range(
            &mut violations,
            "/requestsPerMinute",
            Some(value),
            MAX_REQUESTS_PER_MINUTE,
        )),
    };
    violations.finish()?;
    Ok(KeyPatch {
        name: input
            .name
            .into_change()
            .map(|name| name.map(|name| name.trim().to_owned())),
        scopes,
        expires_at,
        enabled: input.enabled.into_change().flatten(),
        requests_per_minute,
    })
}
