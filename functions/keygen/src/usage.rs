//! `GET .../usage` (admin and console): an organization's contacts and
//! dispatches per UTC day, the limits in force, and each live key's
//! requests this minute against its own limit.

use crate::Keygen;
use crate::organizations::LimitsView;
use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use orgkeys_api::OrgId;
use orgkeys_shared::Store;
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::request::json_response;
use orgkeys_shared::limits::{Limits, USAGE_RETENTION_DAYS};
use orgkeys_shared::organizations::Organization;
use serde::Serialize;

/// One day of usage as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DayView {
    date: String,
    contacts: u64,
    dispatches: u64,
}

/// A key's requests this minute against its limit.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyMinuteView {
    key_id: String,
    name: Option<String>,
    requests_this_minute: u32,
    requests_per_minute: u32,
}

/// `GET .../usage`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageView {
    /// Newest first; days without dispatches left out.
    items: Vec<DayView>,
    /// The organization's limits in force.
    limits: LimitsView,
    /// Each live key this minute.
    keys: Vec<KeyMinuteView>,
}

/// `GET .../usage?days=`: contacts and dispatches per UTC day, newest first,
/// the limits in force and each live key's requests this minute. Counters
/// go with their organization's delete: an unknown organization (`org`
/// `None`) has an empty history and no keys rather than a 404.
pub async fn get(
    keygen: &Keygen,
    request: &Request,
    org_id: &OrgId,
    org: Option<&Organization>,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Problem> {
    const DEFAULT_DAYS: u32 = 30;
    let store = &keygen.store;
    let days = match request.query_string_parameters().first("days") {
        None => DEFAULT_DAYS,
        Some(text) => match text.parse::<u32>() {
            Ok(days) if (1..=USAGE_RETENTION_DAYS as u32).contains(&days) => days,
            _ => {
                return Err(Problem::validation(vec![FieldError::parameter(
                    "days",
                    format!("must be a whole number from 1 to {USAGE_RETENTION_DAYS}"),
                )]));
            }
        },
    };
    let items: Vec<DayView> = store
        .usage_history(org_id, days, now)
        .await?
        .into_iter()
        .map(|day| DayView {
            date: day.date.format("%Y-%m-%d").to_string(),
            contacts: day.contacts,
            dispatches: day.dispatches,
        })
        .collect();
    let limits = org
        .map_or(Limits::default(), |org| org.limits)
        .effective(keygen.default_limits);
    let keys = match org {
        None => Vec::new(),
        Some(_) => keys_this_minute(store, org_id, limits.requests_per_minute, now).await?,
    };
    let body = UsageView {
        items,
        limits: LimitsView {
            requests_per_minute: limits.requests_per_minute,
            contacts_per_day: limits.contacts_per_day,
        },
        keys,
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// The organization's live keys and their requests this minute; a key
/// without its own limit has the organization's, `requests_per_minute`.
async fn keys_this_minute(
    store: &Store,
    org_id: &OrgId,
    requests_per_minute: u32,
    now: DateTime<Utc>,
) -> Result<Vec<KeyMinuteView>, Problem> {
    let live: Vec<_> = store
        .list_keys(org_id)
        .await?
        .into_iter()
        .filter(|key| key.enabled && !key.is_expired(now))
        .collect();
    let ids: Vec<&str> = live.iter().map(|key| key.key_id.as_str()).collect();
    let counts = store.requests_this_minute(&ids, now).await?;
    Ok(live
        .iter()
        .zip(counts)
        .map(|(key, count)| KeyMinuteView {
            key_id: key.key_id.clone(),
            name: key.name.clone(),
            requests_this_minute: count,
            requests_per_minute: key.requests_per_minute.unwrap_or(requests_per_minute),
        })
        .collect())
}
