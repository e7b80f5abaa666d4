//! `POST /v1/secret-scanning/github`: GitHub's secret-scanning partner
//! endpoint. GitHub posts every match of the registered pattern it finds in
//! public code, signed; each match that is one of our keys is revoked as
//! `LEAKED_KEY_ACTION` says, and the answer labels every match in GitHub's
//! feedback format.
//!
//! Nothing in a request is read before its signature holds: the headers
//! (401), the size (413), GitHub's signature of the raw body (401), then the
//! JSON (400, or 413 over [`MAX_ALERTS`]). A token that is not a well-formed
//! key (prefix, length, checksum) is a false positive with no read; the rest
//! are looked up with one `BatchGetItem` per 100.

use crate::Keygen;
use crate::signature::{self, Refusal, SignedBy};
use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_api::OrgId;
use orgkeys_shared::StoreError;
use orgkeys_shared::audit::{Actor, Draft, details};
use orgkeys_shared::edge::problem::Problem;
use orgkeys_shared::edge::request::{json_response, origin};
use orgkeys_shared::key_format::ApiKey;
use orgkeys_shared::key_hash::KeyHash;
use orgkeys_shared::keys::{KeyRecord, Leak, LeakOutcome};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// GitHub's batches are at most this large, in bytes and in matches.
pub const BODY_LIMIT: usize = 1024 * 1024;
pub const MAX_ALERTS: usize = 1000;
/// The actor of the events this endpoint records.
pub const ACTOR: &str = "github-secret-scanning";
/// What of GitHub's `url` and `source` a key and its event keep: enough for
/// any real address, and a key item stays far below DynamoDB's item limit
/// whatever a (signed) body holds.
const MAX_URL_CHARS: usize = 2048;
const MAX_SOURCE_CHARS: usize = 64;

/// One match GitHub reports.
#[derive(Debug, Deserialize)]
pub struct Alert {
    pub token: String,
    #[serde(rename = "type")]
    pub token_type: String,
    /// Where GitHub found it; may be empty.
    #[serde(default)]
    pub url: Option<String>,
    /// What it was found in: `content`, `commit`, `gist`, ...
    #[serde(default)]
    pub source: Option<String>,
}

/// GitHub's verdict vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    TruePositive,
    FalsePositive,
}

/// One entry of the answer: never the token, never an organization or key.
#[derive(Debug, Serialize)]
pub struct Feedback<'a> {
    /// SHA-256 of the token, lower-case hex, as GitHub identifies it.
    pub token_hash: String,
    pub token_type: &'a str,
    pub label: Label,
}

pub async fn report(
    keygen: &Keygen,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Problem> {
    let signed = SignedBy::of(request.headers()).map_err(refused)?;
    let body: &[u8] = request.body().as_ref();
    if body.len() > BODY_LIMIT {
        return Err(Problem::payload_too_large(BODY_LIMIT));
    }
    signature::verify(&keygen.github_keys, &signed, body, now)
        .await
        .map_err(refused)?;
    let alerts = parse_alerts(body)?;
    let actor = Actor::system(ACTOR);
    let draft = Draft::new(actor, origin(request), now, keygen.audit_retention)?;
    let feedback = label_and_revoke(keygen, &alerts, &draft).await?;
    Ok(json_response(StatusCode::OK, &feedback))
}

/// The problem for a refused signature: 401, or 503 while GitHub's keys
/// cannot be had (GitHub delivers the alert again later).
fn refused(refusal: Refusal) -> Problem {
    match refusal {
        Refusal::MissingHeader(name) => {
            Problem::unauthorized(format!("the {name} header is required"))
        }
        Refusal::UnknownKey => {
            Problem::unauthorized("GitHub has no secret-scanning key by this identifier")
        }
        Refusal::BadSignature => {
            Problem::unauthorized("the signature does not verify for this body and key")
        }
        Refusal::KeysUnavailable(err) => {
            tracing::error!(error = %err, "alert refused: keys unavailable");
            Problem::unavailable("GitHub's secret-scanning keys could not be fetched; retry later")
        }
    }
}

/// The alerts of a verified body; its JSON errors are told without echoing
/// any of it (it holds secrets).
fn parse_alerts(body: &[u8]) -> Result<Vec<Alert>, Problem> {
    let alerts: Vec<Alert> = serde_json::from_slice(body).map_err(|err| {
        Problem::malformed_body(
            format!(
                "the body must be a JSON array of {{\"token\", \"type\", \"url\", \"source\"}} \
                 objects (line {}, column {})",
                err.line(),
                err.column()
            ),
            Vec::new(),
        )
    })?;
    if alerts.len() > MAX_ALERTS {
        return Err(Problem::content_too_large(format!(
            "at most {MAX_ALERTS} matches per request"
        )));
    }
    Ok(alerts)
}

/// Labels every alert and revokes each key found (once, however often it
/// appears), each with its own event derived from `draft`.
async fn label_and_revoke<'a>(
    keygen: &Keygen,
    alerts: &'a [Alert],
    draft: &Draft,
) -> Result<Vec<Feedback<'a>>, Problem> {
    let hashes: Vec<Option<KeyHash>> = alerts
        .iter()
        .map(|alert| {
            ApiKey::parse(&alert.token)
                .ok()
                .map(|key| KeyHash::of(&key))
        })
        .collect();
    let wanted: Vec<KeyHash> = hashes.iter().flatten().copied().collect();
    let found = keygen.store.find_keys(&wanted).await?;
    let mut feedback = Vec::with_capacity(alerts.len());
    let mut revocations = HashMap::new();
    for (alert, hash) in alerts.iter().zip(hashes) {
        let record = hash.and_then(|hash| Some((hash, found.get(&hash)?)));
        if let Some((hash, record)) = record {
            // The first alert of a key says where it was found.
            revocations
                .entry(hash)
                .or_insert_with(|| (record.clone(), leak_of(alert, draft)));
        }
        feedback.push(Feedback {
            token_hash: sha256_hex(&alert.token),
            token_type: &alert.token_type,
            label: if record.is_some() {
                Label::TruePositive
            } else {
                Label::FalsePositive
            },
        });
    }
    revoke_all(keygen, revocations, draft).await?;
    Ok(feedback)
}

/// How many revocations (one transaction each) run at once: a batch of
/// hundreds of keys finishes well inside the function's timeout, without
/// throttling the table.
const CONCURRENT_REVOCATIONS: usize = 8;

/// Revokes each found key with its leak, a few at a time. Every one is
/// tried; the first error is returned at the end (GitHub delivers again, and
/// skips the keys revoked by then).
async fn revoke_all(
    keygen: &Keygen,
    revocations: HashMap<KeyHash, (KeyRecord, Leak)>,
    draft: &Draft,
) -> Result<(), StoreError> {
    let mut calls = tokio::task::JoinSet::new();
    let mut first_error = None;
    for (hash, (record, leak)) in revocations {
        while calls.len() >= CONCURRENT_REVOCATIONS {
            if let Some(Err(err)) = calls.join_next().await.map(flatten) {
                first_error.get_or_insert(err);
            }
        }
        let (store, action) = (keygen.store.clone(), keygen.leaked_key_action);
        let draft = draft.derived(&record.key_id);
        calls.spawn(async move {
            let outcome = store
                .revoke_leaked_key(&record, &hash, &leak, action, &draft, details([]))
                .await?;
            log_outcome(&record.organization_id, &record.key_id, outcome);
            Ok(())
        });
    }
    while let Some(result) = calls.join_next().await {
        if let Err(err) = flatten(result) {
            first_error.get_or_insert(err);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// A task's result, a panicked or cancelled task counted as a store failure.
fn flatten(
    joined: Result<Result<(), StoreError>, tokio::task::JoinError>,
) -> Result<(), StoreError> {
    joined.unwrap_or_else(|err| Err(StoreError::Unavailable(format!("task failed: {err}"))))
}

/// What a key records of the alert that found it.
fn leak_of(alert: &Alert, draft: &Draft) -> Leak {
    Leak {
        at: draft.occurred_at,
        source: alert
            .source
            .as_deref()
            .map_or_else(|| "unknown".into(), |s| bounded(s, MAX_SOURCE_CHARS)),
        // GitHub sends an empty URL when it has none.
        url: alert
            .url
            .as_deref()
            .filter(|url| !url.is_empty())
            .map(|url| bounded(url, MAX_URL_CHARS)),
    }
}

/// At most `max` characters of `text`.
fn bounded(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn log_outcome(org_id: &OrgId, key_id: &str, outcome: LeakOutcome) {
    match outcome {
        LeakOutcome::Revoked(action) => {
            tracing::warn!(
                %org_id,
                key_id,
                action = action.as_str(),
                "leaked api key revoked"
            );
        }
        LeakOutcome::AlreadyReported => {
            tracing::info!(%org_id, key_id, "leaked api key reported again");
        }
    }
}

/// GitHub's `token_hash`: SHA-256 of the token as found, lower-case hex.
pub fn sha256_hex(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hashes_are_sha256_in_lower_case_hex() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_body_of_the_wrong_shape_is_a_400_that_echoes_none_of_it() {
        for body in [
            "not json orgk_secret",
            r#"{"token":"orgk_secret","type":"t"}"#,
            r#"[{"token":7,"type":"orgk_secret"}]"#,
            r#"[{"type":"orgk_secret"}]"#,
        ] {
            let problem = parse_alerts(body.as_bytes()).unwrap_err();
            assert_eq!(problem.status, 400, "{body}");
            assert!(
                !problem.detail.contains("orgk_secret"),
                "{}",
                problem.detail
            );
        }
    }

    #[test]
    fn what_a_key_keeps_of_url_and_source_is_bounded_in_characters() {
        assert_eq!(
            bounded("https://gist.github.com/x", MAX_URL_CHARS),
            "https://gist.github.com/x"
        );
        assert_eq!(
            bounded(&"é".repeat(5000), MAX_URL_CHARS).chars().count(),
            MAX_URL_CHARS
        );
        assert_eq!(bounded("commit", 3), "com");
    }

    #[test]
    fn more_than_a_thousand_matches_is_a_413() {
        let one = r#"{"token":"t","type":"orgkeys_api_key","url":"u","source":"content"}"#;
        let body = format!("[{}]", vec![one; MAX_ALERTS + 1].join(","));
        assert_eq!(parse_alerts(body.as_bytes()).unwrap_err().status, 413);
        let body = format!("[{}]", vec![one; MAX_ALERTS].join(","));
        assert_eq!(parse_alerts(body.as_bytes()).unwrap().len(), MAX_ALERTS);
    }
}
