//! Outbound conversations: `POST /v1/conversations/outbound` queues one
//! conversation per contact on one of the caller's active schedules,
//! `GET /v1/conversations/{conversationId}` reads one back, and the
//! downstream sender reports what became of each through the IAM route
//! `POST /v1/admin/organizations/{orgId}/conversations/{conversationId}/status`.
//!
//! Nothing lost, nothing twice: conversation IDs are derived from the
//! dispatch ID and the contact's position, so writing a dispatch again writes
//! the same items. With an `Idempotency-Key` a retry after a failure resumes
//! the same dispatch (same IDs), a repeat after success replays the original
//! 202, and the key is remembered for 24 hours. Without a key, a retry after a
//! 5xx is a new dispatch: contacts written before the failure may be queued twice.
//!
//! Limits: every request counts against the key's requests per minute, and a
//! dispatch takes its contacts from the organization's daily quota, all or
//! none, once per dispatch (`limits.rs`). `GET /v1/usage` tells a key where
//! it stands.
//!
//! The modules: `body` (the dispatch body and its validation),
//! `outbound` (the dispatch itself), `lookup` (the read routes), `status`
//! (the sender's reports).

mod body;
mod lookup;
mod outbound;
mod status;

use chrono::{DateTime, Utc};
use lambda_http::{Body, Error, Request, Response};
use orgkeys_shared::Store;
use orgkeys_shared::audit;
use orgkeys_shared::conversations;
use orgkeys_shared::edge::caller::Caller;
use orgkeys_shared::edge::problem::Problem;
use orgkeys_shared::edge::rate_limit::{Meter, metered};
use orgkeys_shared::edge::request::{audit_draft, authorize, respond};
use orgkeys_shared::idempotency::Policy;
use orgkeys_shared::limits::Defaults;
use orgkeys_shared::routes::{Function, Operation};

pub use body::MAX_CONTACTS;
pub use outbound::BODY_LIMIT;

/// Tunables. `main` reads the retentions and the default limits from its
/// environment and keeps the documented idempotency lease and retention;
/// tests shorten the lease through [`handle_at`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    pub idempotency: Policy,
    /// `AUDIT_RETENTION_DAYS`: how long `dispatch.created` and
    /// `conversation.*` events are kept.
    pub audit_retention: audit::Retention,
    /// `CONVERSATION_RETENTION_DAYS`: how long conversations are kept.
    pub conversation_retention: conversations::Retention,
    /// `DEFAULT_REQUESTS_PER_MINUTE` and `DEFAULT_CONTACTS_PER_DAY`: the
    /// limits of keys and organizations that set none.
    pub default_limits: Defaults,
}

impl Settings {
    /// The settings from the environment; the idempotency policy's defaults.
    pub fn from_env() -> Result<Settings, String> {
        Ok(Settings {
            idempotency: Policy::default(),
            audit_retention: audit::Retention::from_env()?,
            conversation_retention: conversations::Retention::from_env()?,
            default_limits: Defaults::from_env()?,
        })
    }
}

/// Serves one request with the default settings; every error reaches the
/// client as problem+json.
pub async fn handle(store: &Store, request: Request) -> Result<Response<Body>, Error> {
    handle_at(store, Settings::default(), request, Utc::now()).await
}

/// [`handle`] with explicit settings at the given time: tests step the clock
/// instead of sleeping.
pub async fn handle_at(
    store: &Store,
    settings: Settings,
    request: Request,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Error> {
    Ok(respond(route(store, settings, &request, now).await))
}

async fn route(
    store: &Store,
    settings: Settings,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Problem> {
    let (route, caller) = authorize(request, Function::Dispatch)?;
    if let (Operation::ReportConversationStatus, Caller::Admin(_)) = (route.operation, &caller) {
        let draft = audit_draft(request, &caller, now, settings.audit_retention)?;
        return status::report(store, request, &draft).await;
    }
    let Caller::Key(key) = &caller else {
        return Err(Problem::not_found(format!("no route {}", route.key)));
    };
    match route.operation {
        Operation::DispatchOutbound => {
            Ok(outbound::dispatch(store, settings, request, key, now).await)
        }
        Operation::GetConversation => {
            let read = lookup::get_conversation(store, request, key);
            let count = Meter::count(store, key, settings.default_limits, now);
            Ok(metered(count, read).await)
        }
        Operation::GetUsage => Ok(lookup::usage(store, key, settings.default_limits, now).await),
        _ => Err(Problem::not_found(format!("no route {}", route.key))),
    }
}
