//! The read routes of the dispatch function: `GET /v1/conversations/{id}`
//! (one conversation of the caller's organization) and `GET /v1/usage` (where
//! the calling key and its organization stand).

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_api::{ConversationId, OrgId};
use orgkeys_shared::Store;
use orgkeys_shared::conversations::{Contact, Conversation, ConversationStatus, DeliveryError};
use orgkeys_shared::edge::caller::OrganizationKey;
use orgkeys_shared::edge::problem::Problem;
use orgkeys_shared::edge::rate_limit::Meter;
use orgkeys_shared::edge::request::{json_response, path_id};
use orgkeys_shared::limits::Defaults;
use orgkeys_shared::schedules::Channel;
use orgkeys_shared::wire_time::format as timestamp;
use serde::Serialize;

/// Where the calling key and its organization stand.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Usage<'a> {
    organization_id: &'a OrgId,
    requests: RequestUsage,
    contacts: ContactUsage,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestUsage {
    limit: u32,
    remaining: u32,
    resets_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactUsage {
    limit: u32,
    used: u32,
    remaining: u32,
    resets_at: String,
}

/// `GET /v1/usage`: the key's requests this minute (this one counted) and
/// its organization's contacts today (`defaults` where the key and its
/// organization set no limit); the count and the read go together.
pub async fn usage(
    store: &Store,
    caller: &OrganizationKey,
    defaults: Defaults,
    now: DateTime<Utc>,
) -> Response<Body> {
    let limit = caller.limits.effective(defaults).contacts_per_day;
    let org_id = &caller.organization_id;
    let (meter, day) = tokio::join!(
        Meter::count(store, caller, defaults, now),
        store.contact_day(org_id, limit, now)
    );
    let meter = match meter {
        Ok(meter) => meter,
        Err(problem) => return problem.into_response(),
    };
    if let Some(refusal) = meter.refusal() {
        return meter.answer(Err(refusal));
    }
    let answer = day.map_err(Problem::from).map(|day| {
        let body = Usage {
            organization_id: org_id,
            requests: RequestUsage {
                limit: meter.requests.limit,
                remaining: meter.requests.remaining(),
                resets_at: timestamp(meter.requests.resets_at),
            },
            contacts: ContactUsage {
                limit: day.limit,
                used: day.used,
                remaining: day.remaining(),
                resets_at: timestamp(day.resets_at),
            },
        };
        json_response(StatusCode::OK, &body)
    });
    meter.answer(answer)
}

/// A conversation as the API shows it (to its key and to the sender).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConversationView {
    conversation_id: String,
    dispatch_id: String,
    schedule_id: String,
    channel: Channel,
    contact: Contact,
    reference: Option<String>,
    status: ConversationStatus,
    status_history: Vec<HistoryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<DeliveryError>,
    created_at: String,
}

#[derive(Debug, Serialize)]
struct HistoryView {
    status: ConversationStatus,
    at: String,
}

impl From<Conversation> for ConversationView {
    fn from(c: Conversation) -> ConversationView {
        ConversationView {
            conversation_id: c.conversation_id,
            dispatch_id: c.dispatch_id,
            schedule_id: c.schedule_id,
            channel: c.channel,
            contact: c.contact,
            reference: c.reference,
            status: c.status,
            status_history: c
                .status_history
                .into_iter()
                .map(|change| HistoryView {
                    status: change.status,
                    at: timestamp(change.at),
                })
                .collect(),
            provider_message_id: c.provider_message_id,
            error: c.error,
            created_at: timestamp(c.created_at),
        }
    }
}

pub async fn get_conversation(
    store: &Store,
    request: &Request,
    caller: &OrganizationKey,
) -> Result<Response<Body>, Problem> {
    let not_found = || Problem::not_found("no conversation with this ID");
    // A malformed ID names no conversation: the same answer as a missing one.
    let id: ConversationId = path_id(request, "conversationId").map_err(|_| not_found())?;
    let conversation = store
        .get_conversation(&caller.organization_id, id.as_str())
        .await?
        .ok_or_else(not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &ConversationView::from(conversation),
    ))
}
