//! `POST /v1/conversations/outbound`: counted against the key's request limit
//! (concurrently with the read of its schedule), then run at most once per
//! `Idempotency-Key`; its contacts are taken from today's quota just before
//! its conversations are written. Every answer carries the RateLimit headers.

use crate::Settings;
use crate::body::{DispatchInput, ValidDispatch, validate};
use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_api::OrgId;
use orgkeys_shared::Store;
use orgkeys_shared::StoreError;
use orgkeys_shared::audit::{Action, AuditEvent, Draft, Origin, Target, TargetType, details};
use orgkeys_shared::conversations::{Conversation, ConversationStatus, StatusChange};
use orgkeys_shared::edge::caller::OrganizationKey;
use orgkeys_shared::edge::problem::Problem;
use orgkeys_shared::edge::rate_limit::{Contacts, Meter, quota_refusal};
use orgkeys_shared::edge::request::{json_body, origin};
use orgkeys_shared::idempotency::{
    Attempt, AttemptError, ClaimLost, ClaimWrite, Completion, Guard, Refusal,
};
use orgkeys_shared::ids::{hex_id, random_id};
use orgkeys_shared::limits::{Standing, Taken};
use orgkeys_shared::schedules::Schedule;
use serde::Serialize;

pub const BODY_LIMIT: usize = 256 * 1024;

/// The 202 answer (also what a replay returns).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Dispatched<'a> {
    dispatch_id: &'a str,
    schedule_id: &'a str,
    reference: Option<&'a str>,
    conversations: Vec<Queued<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Queued<'a> {
    conversation_id: &'a str,
    phone: &'a str,
    status: ConversationStatus,
}

/// Serves a dispatch: see the module doc.
pub async fn dispatch(
    store: &Store,
    settings: Settings,
    request: &Request,
    caller: &OrganizationKey,
    now: DateTime<Utc>,
) -> Response<Body> {
    let org_id = &caller.organization_id;
    let limits = caller.limits.effective(settings.default_limits);
    let valid = json_body::<DispatchInput>(request, BODY_LIMIT)
        .and_then(|input| validate(input).map_err(Problem::validation));
    let schedule_read = async {
        match &valid {
            Ok(valid) => store.get_schedule(org_id, valid.schedule_id.as_str()).await,
            Err(_) => Ok(None),
        }
    };
    let count = Meter::count(store, caller, settings.default_limits, now);
    let (meter, schedule) = tokio::join!(count, schedule_read);
    let mut meter = match meter {
        Ok(meter) => meter,
        Err(problem) => return problem.into_response(),
    };
    meter.contacts = Some(Contacts::Limit(limits.contacts_per_day));
    if let Some(refusal) = meter.refusal() {
        return meter.answer(Err(refusal));
    }
    let order = match (valid, schedule) {
        (Ok(valid), Ok(schedule)) => Order {
            caller,
            origin: origin(request),
            valid,
            schedule,
            contacts_per_day: limits.contacts_per_day,
            settings,
            now,
        },
        (Err(problem), _) => return meter.answer(Err(problem)),
        (_, Err(err)) => return meter.answer(Err(err.into())),
    };
    let answer = run(store, settings, request, &order).await;
    if let Some(day) = answer.contact_day {
        meter.contacts = Some(Contacts::Day(day));
    }
    meter.answer(answer.response)
}

/// What a dispatch was asked to do, with what was read for it.
struct Order<'a> {
    caller: &'a OrganizationKey,
    origin: Origin,
    valid: ValidDispatch,
    /// The schedule named, read with the request count.
    schedule: Option<Schedule>,
    contacts_per_day: u32,
    /// The function's settings: the retentions of what it writes.
    settings: Settings,
    now: DateTime<Utc>,
}

/// A dispatch's answer, and today's contact count when taking the contacts
/// (or refusing them) told it.
struct Answer {
    response: Result<Response<Body>, Problem>,
    contact_day: Option<Standing>,
}

/// Runs a validated dispatch under its `Idempotency-Key`, if it has one.
async fn run(store: &Store, settings: Settings, request: &Request, order: &Order<'_>) -> Answer {
    let org_id = &order.caller.organization_id;
    let guard = match Guard::new(
        request.headers(),
        org_id,
        &order.valid,
        order.now,
        settings.idempotency,
    ) {
        Ok(guard) => guard,
        Err(problem) => return Answer::refused(problem),
    };
    let dispatch_id = match random_id("dsp_") {
        Ok(id) => id,
        Err(err) => return Answer::refused(err.into()),
    };
    let outcome = guard
        .run(store, dispatch_id, |attempt| {
            if attempt.resumed {
                tracing::info!(%org_id, dispatch_id = %attempt.operation_id, "resuming an interrupted dispatch");
            }
            queue(store, order, attempt)
        })
        .await;
    match outcome {
        Ok(outcome) => Answer {
            contact_day: outcome.value().copied().flatten(),
            response: Ok(outcome.into_response(StatusCode::ACCEPTED)),
        },
        Err(failed) => Answer {
            response: Err(failed.problem),
            contact_day: failed.contact_day,
        },
    }
}

impl Answer {
    fn refused(problem: Problem) -> Answer {
        Answer {
            response: Err(problem),
            contact_day: None,
        }
    }
}

/// A dispatch that did not queue: why, today's count if it was refused its
/// contacts, and whether another attempt claimed its `Idempotency-Key` first.
struct Failed {
    problem: Problem,
    contact_day: Option<Standing>,
    lost_claim: bool,
}

impl From<Problem> for Failed {
    fn from(problem: Problem) -> Failed {
        Failed {
            problem,
            contact_day: None,
            lost_claim: false,
        }
    }
}

impl From<ClaimLost> for Failed {
    fn from(_: ClaimLost) -> Failed {
        Failed {
            lost_claim: true,
            ..Failed::from(Problem::from(Refusal::InFlight))
        }
    }
}

impl From<StoreError> for Failed {
    fn from(err: StoreError) -> Failed {
        Problem::from(err).into()
    }
}

impl From<Refusal> for Failed {
    fn from(refusal: Refusal) -> Failed {
        Problem::from(refusal).into()
    }
}

impl AttemptError for Failed {
    /// Our refusals (4xx) come before anything is written: validation and
    /// existence checks first, then the quota, all or nothing.
    fn wrote_nothing(&self) -> bool {
        self.lost_claim || self.problem.status < 500
    }

    fn lost_claim(&self) -> bool {
        self.lost_claim
    }
}

/// Checks the schedule, takes the contacts from today's quota and writes the
/// conversations; returns the 202 body (stored under a key in the same
/// transaction as the last conversations) and today's count, if the quota
/// told it. A keyed dispatch claims its key in the transaction that counts
/// its contacts, so resuming it does not count it again.
async fn queue(
    store: &Store,
    order: &Order<'_>,
    attempt: Attempt,
) -> Result<(Completion, Option<Standing>), Failed> {
    let Order { valid, now, .. } = order;
    let org_id = &order.caller.organization_id;
    let dispatch_id = attempt.operation_id.as_str();
    let schedule = order
        .schedule
        .as_ref()
        .ok_or_else(|| Problem::not_found("no schedule with this ID"))?;
    if !schedule.accepts_dispatch(*now) {
        return Err(Problem::conflict("this schedule is not active or has ended").into());
    }
    let conversations = conversations(org_id, &attempt, schedule, valid);
    let asked = conversations.len() as u32;
    let limit = order.contacts_per_day;
    let taken = match attempt.claim_write() {
        // Counted by the attempt that wrote the claim, in the same transaction.
        ClaimWrite::Written => Taken::Admitted(None),
        ClaimWrite::Pending(claim) => {
            store
                .take_contacts(org_id, asked, limit, Some(*claim), *now)
                .await?
        }
        ClaimWrite::Unguarded => {
            store
                .take_contacts(org_id, asked, limit, None, *now)
                .await?
        }
    };
    let contact_day = match taken {
        Taken::Admitted(day) => day,
        Taken::Preempted => return Err(ClaimLost.into()),
        Taken::Refused(day) => {
            return Err(Failed {
                problem: quota_refusal(&day, asked, *now),
                contact_day: Some(day),
                lost_claim: false,
            });
        }
    };
    let body = Dispatched {
        dispatch_id,
        schedule_id: valid.schedule_id.as_str(),
        reference: valid.reference.as_deref(),
        conversations: conversations
            .iter()
            .map(|c| Queued {
                conversation_id: &c.conversation_id,
                phone: &c.contact.phone,
                status: ConversationStatus::Queued,
            })
            .collect(),
    };
    let mut completion =
        attempt.complete(serde_json::to_string(&body).expect("response serializes"));
    store
        .put_dispatch(
            &conversations,
            &created_event(order, &attempt),
            order.settings.conversation_retention,
            completion.take_update(),
        )
        .await?;
    tracing::info!(
        %org_id,
        dispatch_id,
        contacts = conversations.len(),
        "dispatch queued"
    );
    orgkeys_shared::metrics::emit(
        "ContactsQueued",
        conversations.len() as f64,
        "Count",
        &[("Function", "dispatch")],
        &[&["Function"]],
    );
    Ok((completion, contact_day))
}

/// The dispatch's audit event. Derived from the dispatch, like its
/// conversations: a resumed dispatch rewrites the same event.
fn created_event(order: &Order<'_>, attempt: &Attempt) -> AuditEvent {
    let dispatch_id = attempt.operation_id.as_str();
    let draft = Draft::for_operation(
        dispatch_id,
        order.caller.actor(),
        order.origin.clone(),
        attempt.started_at,
        order.settings.audit_retention,
    );
    draft.event(
        &order.caller.organization_id,
        Action::DispatchCreated,
        Target::new(TargetType::Dispatch, dispatch_id),
        details([
            ("scheduleId", order.valid.schedule_id.as_str().into()),
            ("contacts", order.valid.contacts.len().into()),
        ]),
    )
}

fn conversations(
    org_id: &OrgId,
    attempt: &Attempt,
    schedule: &Schedule,
    valid: &ValidDispatch,
) -> Vec<Conversation> {
    let dispatch_id = attempt.operation_id.as_str();
    valid
        .contacts
        .iter()
        .enumerate()
        .map(|(index, contact)| Conversation {
            organization_id: org_id.clone(),
            conversation_id: conversation_id(dispatch_id, index),
            dispatch_id: dispatch_id.to_owned(),
            schedule_id: valid.schedule_id.to_string(),
            channel: schedule.channel,
            contact: contact.clone(),
            reference: valid.reference.clone(),
            status: ConversationStatus::Queued,
            status_history: vec![StatusChange {
                status: ConversationStatus::Queued,
                at: attempt.started_at,
            }],
            provider_message_id: None,
            error: None,
            created_at: attempt.started_at,
        })
        .collect()
}

/// The same dispatch and position always give the same ID: what makes a
/// resumed dispatch rewrite its items instead of adding new ones.
fn conversation_id(dispatch_id: &str, index: usize) -> String {
    let mut hasher = blake3::Hasher::new_derive_key("orgkeys conversation id v1");
    hasher.update(dispatch_id.as_bytes());
    hasher.update(&(index as u64).to_le_bytes());
    hex_id("conv_", &hasher.finalize().as_bytes()[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use orgkeys_shared::validation::is_valid_id;

    #[test]
    fn conversation_ids_are_deterministic_per_dispatch_and_position() {
        assert_eq!(conversation_id("dsp_1", 0), conversation_id("dsp_1", 0));
        assert_ne!(conversation_id("dsp_1", 0), conversation_id("dsp_1", 1));
        assert_ne!(conversation_id("dsp_1", 0), conversation_id("dsp_2", 0));
        assert!(is_valid_id(&conversation_id("dsp_1", 99)));
    }
}
