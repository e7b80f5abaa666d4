//! Outbound conversations: `POST /v1/conversations/outbound` queues one
//! conversation per contact on one of the caller's active schedules, and
//! `GET /v1/conversations/{conversationId}` reads one back.
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

use chrono::{DateTime, Utc};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Error, Request, Response};
use orgkeys_shared::Store;
use orgkeys_shared::audit::{Action, Draft, Target, TargetType, details};
use orgkeys_shared::conversations::{Contact, Conversation};
use orgkeys_shared::edge::caller::{Caller, OrganizationKey};
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::rate_limit::{Contacts, Meter, metered, quota_refusal};
use orgkeys_shared::edge::request::{
    Object, authorize, json_body, json_response, origin, path_param, respond,
};
use orgkeys_shared::idempotency::{self, Attempt, Outcome, Policy};
use orgkeys_shared::ids::{hex_id, random_id};
use orgkeys_shared::limits::{Standing, Taken};
use orgkeys_shared::routes::{Function, Operation};
use orgkeys_shared::schedules::Channel;
use orgkeys_shared::schedules::Schedule;
use orgkeys_shared::validation::{Violations, is_valid_id};
use orgkeys_shared::wire_time::format as timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

pub const BODY_LIMIT: usize = 256 * 1024;
pub const MAX_CONTACTS: usize = 100;
const MAX_VARIABLE_CHARS: usize = 1024;
const MAX_TEXT_CHARS: usize = 200;
const QUEUED: &str = "queued";

/// Tunables, fixed by `main`; tests may shorten the idempotency lease.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    pub idempotency: Policy,
}

/// Serves one request; every error reaches the client as problem+json.
pub async fn handle(store: &Store, request: Request) -> Result<Response<Body>, Error> {
    handle_with(store, Settings::default(), request).await
}

/// [`handle`] with explicit settings.
pub async fn handle_with(
    store: &Store,
    settings: Settings,
    request: Request,
) -> Result<Response<Body>, Error> {
    handle_at(store, settings, request, Utc::now()).await
}

/// [`handle_with`] at the given time: tests step the clock instead of sleeping.
pub async fn handle_at(
    store: &Store,
    settings: Settings,
    request: Request,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Error> {
    Ok(respond(route(store, settings, &request, now).await))
}

/// Where the calling key and its organization stand.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Usage<'a> {
    organization_id: &'a str,
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
/// its organization's contacts today; the count and the read go together.
async fn usage(store: &Store, caller: &OrganizationKey, now: DateTime<Utc>) -> Response<Body> {
    let limit = caller
        .limits
        .effective(store.default_limits())
        .contacts_per_day;
    let org_id = caller.organization_id.as_str();
    let (meter, day) = tokio::join!(
        Meter::count(store, caller, now),
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

async fn route(
    store: &Store,
    settings: Settings,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Problem> {
    let (route, caller) = authorize(request, Function::Dispatch)?;
    match (route.operation, &caller) {
        (Operation::DispatchOutbound, Caller::Key(key)) => {
            Ok(dispatch(store, settings, request, key, now).await)
        }
        (Operation::GetConversation, Caller::Key(key)) => {
            let read = get_conversation(store, request, key);
            Ok(metered(store, key, now, read).await)
        }
        (Operation::GetUsage, Caller::Key(key)) => Ok(usage(store, key, now).await),
        _ => Err(Problem::not_found(format!("no route {}", route.key))),
    }
}

/// Body of a dispatch.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DispatchInput {
    schedule_id: Option<String>,
    reference: Option<String>,
    contacts: Option<Vec<Object<ContactInput>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ContactInput {
    phone: Option<String>,
    name: Option<String>,
    customer_uid: Option<String>,
    variables: Option<BTreeMap<String, String>>,
}

/// A dispatch that passed validation.
struct ValidDispatch {
    schedule_id: String,
    reference: Option<String>,
    contacts: Vec<Contact>,
}

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
    status: &'a str,
}

/// A dispatch: counted against the key's request limit (concurrently with
/// the read of its schedule), then run at most once per `Idempotency-Key`;
/// its contacts are taken from today's quota just before its conversations
/// are written. Every answer carries the RateLimit headers.
async fn dispatch(
    store: &Store,
    settings: Settings,
    request: &Request,
    caller: &OrganizationKey,
    now: DateTime<Utc>,
) -> Response<Body> {
    let org_id = caller.organization_id.as_str();
    let limits = caller.limits.effective(store.default_limits());
    let valid = json_body::<DispatchInput>(request, BODY_LIMIT)
        .and_then(|input| validate(input).map_err(Problem::validation));
    let schedule_read = async {
        match &valid {
            Ok(valid) => store.get_schedule(org_id, &valid.schedule_id).await,
            Err(_) => Ok(None),
        }
    };
    let (meter, schedule) = tokio::join!(Meter::count(store, caller, now), schedule_read);
    let mut meter = match meter {
        Ok(meter) => meter,
        Err(problem) => return problem.into_response(),
    };
    meter.contacts = Some(Contacts::Limit(limits.contacts_per_day));
    if let Some(refusal) = meter.refusal() {
        return meter.answer(Err(refusal));
    }
    let contact_day = OnceLock::new();
    let answer = async {
        let valid = valid?;
        let order = Order {
            valid: &valid,
            schedule: schedule?,
            contacts_per_day: limits.contacts_per_day,
            contact_day: &contact_day,
        };
        run(store, settings, request, caller, &order, now).await
    }
    .await;
    if let Some(day) = contact_day.get() {
        meter.contacts = Some(Contacts::Day(*day));
    }
    meter.answer(answer)
}

/// What a dispatch was asked to do, with what was read for it.
struct Order<'a> {
    valid: &'a ValidDispatch,
    /// The schedule named, read with the request count.
    schedule: Option<Schedule>,
    contacts_per_day: u32,
    /// Today's count, when taking the contacts (or refusing them) told it.
    contact_day: &'a OnceLock<Standing>,
}

/// Runs a validated dispatch, under its `Idempotency-Key` if it has one.
async fn run(
    store: &Store,
    settings: Settings,
    request: &Request,
    caller: &OrganizationKey,
    order: &Order<'_>,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Problem> {
    let org_id = caller.organization_id.as_str();
    let key = match request.headers().get("idempotency-key") {
        None => None,
        Some(value) => Some(idempotency::header::parse(value.as_bytes()).map_err(|_| {
            Problem::validation(vec![FieldError::parameter(
                "Idempotency-Key",
                "must be 1-255 printable ASCII characters, bare or in double quotes",
            )])
        })?),
    };
    let dispatch_id = random_id("dsp_")?;
    let queue_as = |attempt: Attempt| {
        if attempt.resumed {
            tracing::info!(org_id, dispatch_id = %attempt.operation_id, "resuming an interrupted dispatch");
        }
        queue(store, request, caller, attempt, key.is_some(), order, now)
    };
    let outcome = match key {
        None => Outcome::Ran(queue_as(Attempt::unguarded(dispatch_id, now)).await?),
        Some(key) => {
            let guarded = idempotency::Request {
                org_id,
                key,
                fingerprint: &fingerprint(order.valid),
                now,
                policy: settings.idempotency,
            };
            idempotency::run_once(store, &guarded, dispatch_id, queue_as).await?
        }
    };
    Ok(match outcome {
        Outcome::Ran(body) => accepted(body, false),
        Outcome::Replayed(body) => accepted(body, true),
    })
}

/// Checks the schedule, takes the contacts from today's quota and writes the
/// conversations; returns the 202 body. A keyed dispatch leaves a receipt with
/// its count, so resuming it does not count it again.
async fn queue(
    store: &Store,
    request: &Request,
    caller: &OrganizationKey,
    attempt: Attempt,
    keyed: bool,
    order: &Order<'_>,
    now: DateTime<Utc>,
) -> Result<String, Problem> {
    let valid = order.valid;
    let org_id = caller.organization_id.as_str();
    let dispatch_id = attempt.operation_id.as_str();
    let schedule = order
        .schedule
        .as_ref()
        .ok_or_else(|| Problem::not_found("no schedule with this ID"))?;
    if !schedule.accepts_dispatch(now) {
        return Err(Problem::conflict(
            "this schedule is not active or has ended",
        ));
    }
    let conversations = conversations(
        org_id,
        dispatch_id,
        schedule.channel,
        attempt.started_at,
        valid,
    );
    let asked = conversations.len() as u32;
    let receipt = keyed.then_some(dispatch_id);
    match store
        .take_contacts(org_id, asked, order.contacts_per_day, receipt, now)
        .await?
    {
        Taken::Admitted(day) => {
            if let Some(day) = day {
                let _ = order.contact_day.set(day);
            }
        }
        Taken::Refused(day) => {
            let _ = order.contact_day.set(day);
            return Err(quota_refusal(&day, asked, now));
        }
    }
    // Derived from the dispatch, like its conversations: a resumed dispatch
    // rewrites the same event.
    let draft = Draft::for_operation(
        dispatch_id,
        caller.actor(),
        origin(request),
        attempt.started_at,
    );
    let event = draft.event(
        org_id,
        Action::DispatchCreated,
        Target::new(TargetType::Dispatch, dispatch_id),
        details([
            ("scheduleId", valid.schedule_id.clone().into()),
            ("contacts", conversations.len().into()),
        ]),
    );
    store.put_dispatch(&conversations, &event).await?;
    tracing::info!(
        org_id,
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
    let body = Dispatched {
        dispatch_id,
        schedule_id: &valid.schedule_id,
        reference: valid.reference.as_deref(),
        conversations: conversations
            .iter()
            .map(|c| Queued {
                conversation_id: &c.conversation_id,
                phone: &c.contact.phone,
                status: QUEUED,
            })
            .collect(),
    };
    Ok(serde_json::to_string(&body).expect("response serializes"))
}

fn conversations(
    org_id: &str,
    dispatch_id: &str,
    channel: Channel,
    created_at: DateTime<Utc>,
    valid: &ValidDispatch,
) -> Vec<Conversation> {
    valid
        .contacts
        .iter()
        .enumerate()
        .map(|(index, contact)| Conversation {
            organization_id: org_id.to_owned(),
            conversation_id: conversation_id(dispatch_id, index),
            dispatch_id: dispatch_id.to_owned(),
            schedule_id: valid.schedule_id.clone(),
            channel,
            contact: contact.clone(),
            reference: valid.reference.clone(),
            status: QUEUED.to_owned(),
            created_at,
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

/// Identifies a validated request, so the same key with another body is caught.
fn fingerprint(valid: &ValidDispatch) -> String {
    let canonical = serde_json::json!({
        "scheduleId": valid.schedule_id,
        "reference": valid.reference,
        "contacts": valid.contacts,
    });
    blake3::hash(canonical.to_string().as_bytes())
        .to_hex()
        .to_string()
}

fn accepted(body: String, replayed: bool) -> Response<Body> {
    let mut response = Response::builder()
        .status(StatusCode::ACCEPTED)
        .header("content-type", "application/json")
        .body(Body::Text(body))
        .expect("static response parts are valid");
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

fn validate(input: DispatchInput) -> Result<ValidDispatch, Vec<FieldError>> {
    let mut v = Violations::new();
    match &input.schedule_id {
        None => v.body("/scheduleId", "is required"),
        Some(id) if !is_valid_id(id) => v.body(
            "/scheduleId",
            "must be 1-64 characters of A-Z, a-z, 0-9, _ and -",
        ),
        Some(_) => {}
    }
    v.text("/reference", input.reference.as_deref(), MAX_TEXT_CHARS);
    let contacts: Vec<ContactInput> = input
        .contacts
        .unwrap_or_default()
        .into_iter()
        .map(|Object(contact)| contact)
        .collect();
    if !(1..=MAX_CONTACTS).contains(&contacts.len()) {
        v.body(
            "/contacts",
            format!("must hold 1 to {MAX_CONTACTS} contacts"),
        );
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, contact) in contacts.iter().enumerate() {
        match contact.phone.as_deref() {
            None => v.body(format!("/contacts/{i}/phone"), "is required"),
            Some(phone) if !is_e164(phone) => v.body(
                format!("/contacts/{i}/phone"),
                "must be E.164: + then 7 to 15 digits, the first not 0",
            ),
            Some(phone) => {
                if let Some(first) = seen.insert(phone, i) {
                    v.body(
                        format!("/contacts/{i}/phone"),
                        format!("repeats /contacts/{first}/phone"),
                    );
                }
            }
        }
        v.text(
            &format!("/contacts/{i}/name"),
            contact.name.as_deref(),
            MAX_TEXT_CHARS,
        );
        v.text(
            &format!("/contacts/{i}/customerUid"),
            contact.customer_uid.as_deref(),
            MAX_TEXT_CHARS,
        );
        for (name, value) in contact.variables.iter().flatten() {
            let pointer = format!(
                "/contacts/{i}/variables/{}",
                name.replace('~', "~0").replace('/', "~1")
            );
            if !is_variable_name(name) {
                v.body(
                    &pointer,
                    "variable names are 1-64 characters of A-Z, a-z, 0-9 and _",
                );
            }
            v.multiline_text(&pointer, value, MAX_VARIABLE_CHARS);
        }
    }
    v.finish()?;
    Ok(ValidDispatch {
        schedule_id: input.schedule_id.unwrap_or_default(),
        reference: input.reference,
        contacts: contacts
            .into_iter()
            .map(|c| Contact {
                phone: c.phone.unwrap_or_default(),
                name: c.name,
                customer_uid: c.customer_uid,
                variables: c.variables.unwrap_or_default(),
            })
            .collect(),
    })
}

/// `+`, then 7–15 digits, the first not 0.
fn is_e164(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

fn is_variable_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A conversation as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversationView {
    conversation_id: String,
    dispatch_id: String,
    schedule_id: String,
    channel: Channel,
    contact: Contact,
    reference: Option<String>,
    status: String,
    created_at: String,
}

async fn get_conversation(
    store: &Store,
    request: &Request,
    caller: &OrganizationKey,
) -> Result<Response<Body>, Problem> {
    let not_found = || Problem::not_found("no conversation with this ID");
    let id = path_param(request, "conversationId");
    if !is_valid_id(&id) {
        return Err(not_found());
    }
    let c = store
        .get_conversation(&caller.organization_id, &id)
        .await?
        .ok_or_else(not_found)?;
    let view = ConversationView {
        conversation_id: c.conversation_id,
        dispatch_id: c.dispatch_id,
        schedule_id: c.schedule_id,
        channel: c.channel,
        contact: c.contact,
        reference: c.reference,
        status: c.status,
        created_at: timestamp(c.created_at),
    };
    Ok(json_response(StatusCode::OK, &view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers() {
        for good in ["+353861234567", "+1234567", "+123456789012345"] {
            assert!(is_e164(good), "{good}");
        }
        for bad in [
            "353861234567",
            "+0353861234",
            "+123456",
            "+1234567890123456",
            "+35386 123",
            "+",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn conversation_ids_are_deterministic_per_dispatch_and_position() {
        assert_eq!(conversation_id("dsp_1", 0), conversation_id("dsp_1", 0));
        assert_ne!(conversation_id("dsp_1", 0), conversation_id("dsp_1", 1));
        assert_ne!(conversation_id("dsp_1", 0), conversation_id("dsp_2", 0));
        assert!(is_valid_id(&conversation_id("dsp_1", 99)));
    }

    #[test]
    fn every_violation_is_listed_with_its_pointer() {
        let input: DispatchInput = serde_json::from_value(serde_json::json!({
            "scheduleId": "bad id",
            "contacts": [
                {"phone": "+353861234567", "variables": {"ok": "x", "bad-name": "y", "long": "z".repeat(1025)}},
                {"phone": "0861234567"},
                {"phone": "+353861234567"},
                {}
            ]
        }))
        .unwrap();
        let errors = validate(input).err().unwrap();
        let pointers: Vec<&str> = errors.iter().filter_map(|e| e.pointer.as_deref()).collect();
        assert_eq!(
            pointers,
            [
                "/scheduleId",
                "/contacts/0/variables/bad-name",
                "/contacts/0/variables/long",
                "/contacts/1/phone",
                "/contacts/2/phone",
                "/contacts/3/phone"
            ]
        );
    }
}

/// Property tests: the request parsers never panic on anything a client sends.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Any JSON value, nested a few levels.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            ".{0,20}".prop_map(serde_json::Value::from),
            "\\+[0-9]{0,16}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("scheduleId".to_owned()),
                        Just("contacts".to_owned()),
                        Just("phone".to_owned()),
                        Just("variables".to_owned()),
                        Just("reference".to_owned()),
                        ".{0,8}".prop_map(String::from)
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn idempotency_header_parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(key) = idempotency::header::parse(&bytes) {
                prop_assert!((1..=255).contains(&key.len()));
                prop_assert!(key.bytes().all(|b| (0x20..=0x7e).contains(&b)));
            }
        }

        #[test]
        fn valid_idempotency_keys_round_trip_bare_and_quoted(key in "[!#-~][ -!#-~]{0,253}[!#-~]") {
            prop_assert_eq!(idempotency::header::parse(key.as_bytes()), Ok(key.as_str()));
            let quoted = format!("\"{key}\"");
            prop_assert_eq!(idempotency::header::parse(quoted.as_bytes()), Ok(key.as_str()));
        }

        #[test]
        fn dispatch_bodies_never_panic_and_accepted_ones_are_valid(body in json()) {
            if let Ok(input) = serde_json::from_value::<DispatchInput>(body)
                && let Ok(valid) = validate(input)
            {
                prop_assert!(is_valid_id(&valid.schedule_id));
                prop_assert!((1..=MAX_CONTACTS).contains(&valid.contacts.len()));
                prop_assert!(valid.contacts.iter().all(|c| is_e164(&c.phone)));
            }
        }
    }
}
