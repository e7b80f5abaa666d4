//! Schedules: the IDs an organization's outbound campaigns send under.
//! The platform syncs them through the IAM-protected admin routes; an
//! organization key with `schedules:read` lists and reads its own (each such
//! request counted against the key's request limit, concurrently with its
//! read). Another organization's schedule is answered exactly like one that
//! does not exist. An organization's console users read its schedules (the
//! IDs their campaigns need) within their own tree.

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, RequestExt, Response};
use orgkeys_api::body::ScheduleInput;
use orgkeys_api::{OrgId, ScheduleId};
use orgkeys_shared::audit::{self, Draft};
use orgkeys_shared::edge::caller::{Caller, OrganizationKey};
use orgkeys_shared::edge::membership::Memberships;
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::rate_limit::{Meter, metered};
use orgkeys_shared::edge::request::{
    Page, audit_draft, authorize, existing_organization, json_body, json_response, no_content,
    path_id, respond,
};
use orgkeys_shared::edge::user::{ClaimNames, Member};
use orgkeys_shared::limits::Defaults;
use orgkeys_shared::routes::{Function, Operation};
use orgkeys_shared::schedules::{Channel, Schedule, ScheduleFilter, ScheduleStatus};
use orgkeys_shared::validation::Violations;
use orgkeys_shared::wire_time::{self, format as timestamp};
use orgkeys_shared::{Store, StoreError};
use serde::Serialize;

pub const BODY_LIMIT: usize = 64 * 1024;
const MAX_TEXT_CHARS: usize = 200;

/// What the schedules function reads from its environment, once, in `main`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `AUDIT_RETENTION_DAYS`: how long the events of schedule changes are kept.
    pub audit_retention: audit::Retention,
    /// `DEFAULT_REQUESTS_PER_MINUTE` (and `DEFAULT_CONTACTS_PER_DAY`): the
    /// limits of keys and organizations that set none.
    pub default_limits: Defaults,
    /// `CONSOLE_ORG_CLAIM`, `CONSOLE_ROLE_CLAIM`: where a console user's
    /// organization and role are in their token.
    pub claims: ClaimNames,
}

impl Settings {
    pub fn from_env() -> Result<Settings, String> {
        Ok(Settings {
            audit_retention: audit::Retention::from_env()?,
            default_limits: Defaults::from_env()?,
            claims: ClaimNames::from_env(),
        })
    }
}

/// Serves one request with the default settings; every error reaches the
/// client as problem+json.
pub async fn handle(store: &Store, request: Request) -> Result<Response<Body>, Error> {
    handle_at(store, &Settings::default(), request, Utc::now()).await
}

/// [`handle`] with explicit settings at the given time: tests step the clock
/// across request windows.
pub async fn handle_at(
    store: &Store,
    settings: &Settings,
    request: Request,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Error> {
    Ok(respond(route(store, settings, &request, now).await))
}

async fn route(
    store: &Store,
    settings: &Settings,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Problem> {
    let (route, caller) = authorize(request, Function::Schedules)?;
    match (route.operation, &caller) {
        (Operation::PutSchedule, Caller::Admin(_)) => {
            let (org_id, schedule_id) = admin_ids(request)?;
            let draft = audit_draft(request, &caller, now, settings.audit_retention)?;
            put_schedule(store, request, &org_id, schedule_id.as_str(), &draft).await
        }
        (Operation::DeleteSchedule, Caller::Admin(_)) => {
            let (org_id, schedule_id) = admin_ids(request)?;
            let draft = audit_draft(request, &caller, now, settings.audit_retention)?;
            delete_schedule(store, &org_id, schedule_id.as_str(), &draft).await
        }
        (Operation::ListOrganizationSchedules, Caller::Admin(_)) => {
            let org_id: OrgId =
                path_id(request, "orgId").map_err(|e| Problem::validation(vec![e]))?;
            existing_organization(store, &org_id).await?;
            list_schedules(store, request, &org_id).await
        }
        (Operation::ListConsoleSchedules, Caller::User(signed_in)) => {
            let member = Member::of(signed_in, &settings.claims, route)?;
            // Each invocation reads the record afresh: this handler keeps no state.
            Memberships::default()
                .admit(store, &member, signed_in.issued_at(), now)
                .await?;
            let org_id: OrgId =
                path_id(request, "orgId").map_err(|e| Problem::validation(vec![e]))?;
            let org = member.organization(store, &org_id).await?;
            list_schedules(store, request, &org.organization_id).await
        }
        (Operation::ListSchedules, Caller::Key(key)) => {
            let list = list_schedules(store, request, &key.organization_id);
            let count = Meter::count(store, key, settings.default_limits, now);
            Ok(metered(count, list).await)
        }
        (Operation::GetSchedule, Caller::Key(key)) => {
            let count = Meter::count(store, key, settings.default_limits, now);
            Ok(metered(count, get_schedule(store, request, key)).await)
        }
        _ => Err(Problem::not_found(format!("no route {}", route.key))),
    }
}

/// The admin routes' two IDs, parsed once; both named when both are malformed.
fn admin_ids(request: &Request) -> Result<(OrgId, ScheduleId), Problem> {
    match (path_id(request, "orgId"), path_id(request, "scheduleId")) {
        (Ok(org_id), Ok(schedule_id)) => Ok((org_id, schedule_id)),
        (org_id, schedule_id) => Err(Problem::validation(
            org_id.err().into_iter().chain(schedule_id.err()).collect(),
        )),
    }
}

/// A schedule as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleView {
    schedule_id: String,
    name: String,
    campaign: String,
    channel: Channel,
    status: ScheduleStatus,
    starts_at: Option<String>,
    ends_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<Schedule> for ScheduleView {
    fn from(s: Schedule) -> ScheduleView {
        ScheduleView {
            schedule_id: s.schedule_id,
            name: s.name,
            campaign: s.campaign,
            channel: s.channel,
            status: s.status,
            starts_at: s.starts_at.map(timestamp),
            ends_at: s.ends_at.map(timestamp),
            created_at: timestamp(s.created_at),
            updated_at: timestamp(s.updated_at),
        }
    }
}

async fn put_schedule(
    store: &Store,
    request: &Request,
    org_id: &OrgId,
    schedule_id: &str,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let input: ScheduleInput = json_body(request, BODY_LIMIT)?;
    let schedule = validate_schedule(input, org_id, schedule_id, draft.occurred_at)
        .map_err(Problem::validation)?;
    let (saved, created) = store
        .put_schedule(&schedule, draft)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => Problem::no_organization(),
            other => other.into(),
        })?;
    tracing::info!(%org_id, schedule_id, created, "schedule saved");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &ScheduleView::from(saved)))
}

fn validate_schedule(
    input: ScheduleInput,
    org_id: &OrgId,
    schedule_id: &str,
    now: DateTime<Utc>,
) -> Result<Schedule, Vec<FieldError>> {
    let mut v = Violations::new();
    for (pointer, value) in [("/name", &input.name), ("/campaign", &input.campaign)] {
        match value {
            None => v.body(pointer, "is required"),
            Some(text) => v.text(pointer, Some(text), MAX_TEXT_CHARS),
        }
    }
    let channel = required_enum::<Channel>(
        &mut v,
        "/channel",
        input.channel.as_deref(),
        "sms, whatsapp, webchat or email",
    );
    let status = required_enum::<ScheduleStatus>(
        &mut v,
        "/status",
        input.status.as_deref(),
        "active, paused or ended",
    );
    let starts_at = optional_time(&mut v, "/startsAt", input.starts_at.as_deref());
    let ends_at = optional_time(&mut v, "/endsAt", input.ends_at.as_deref());
    if let (Some(start), Some(end)) = (starts_at, ends_at)
        && end <= start
    {
        v.body("/endsAt", "must be after startsAt");
    }
    v.finish()?;
    Ok(Schedule {
        organization_id: org_id.clone(),
        schedule_id: schedule_id.to_owned(),
        name: input.name.unwrap_or_default().trim().to_owned(),
        campaign: input.campaign.unwrap_or_default().trim().to_owned(),
        channel: channel.expect("validated"),
        status: status.expect("validated"),
        starts_at,
        ends_at,
        created_at: now,
        updated_at: now,
    })
}

fn required_enum<T: std::str::FromStr>(
    v: &mut Violations,
    pointer: &str,
    value: Option<&str>,
    allowed: &str,
) -> Option<T> {
    match value.map(str::parse::<T>) {
        Some(Ok(parsed)) => Some(parsed),
        Some(Err(_)) => {
            v.body(pointer, format!("must be one of {allowed}"));
            None
        }
        None => {
            v.body(pointer, "is required");
            None
        }
    }
}

fn optional_time(v: &mut Violations, pointer: &str, value: Option<&str>) -> Option<DateTime<Utc>> {
    let text = value?;
    match wire_time::parse(text) {
        Some(at) => Some(at),
        None => {
            v.body(pointer, "must be an RFC 3339 date-time");
            None
        }
    }
}

async fn delete_schedule(
    store: &Store,
    org_id: &OrgId,
    schedule_id: &str,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    store
        .delete_schedule(org_id, schedule_id, draft)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => {
                Problem::not_found("no schedule with this ID in this organization")
            }
            other => other.into(),
        })?;
    tracing::info!(%org_id, schedule_id, "schedule deleted");
    Ok(no_content())
}

/// The answer for a schedule that is missing or another organization's: the same bytes.
fn no_such_schedule() -> Problem {
    Problem::not_found("no schedule with this ID")
}

async fn get_schedule(
    store: &Store,
    request: &Request,
    caller: &OrganizationKey,
) -> Result<Response<Body>, Problem> {
    // A malformed ID names no schedule: the same answer as a missing one.
    let schedule_id: ScheduleId = path_id(request, "scheduleId").map_err(|_| no_such_schedule())?;
    let schedule = store
        .get_schedule(&caller.organization_id, schedule_id.as_str())
        .await?
        .ok_or_else(no_such_schedule)?;
    Ok(json_response(StatusCode::OK, &ScheduleView::from(schedule)))
}

/// A page of schedules.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SchedulePage {
    items: Vec<ScheduleView>,
    next_cursor: Option<String>,
}

/// An organization's schedules, a page at a time: the public route for the
/// calling key's organization and the admin route for any organization
/// answer the same list.
async fn list_schedules(
    store: &Store,
    request: &Request,
    org_id: &OrgId,
) -> Result<Response<Body>, Problem> {
    let query = request.query_string_parameters();
    let mut errors = Vec::new();
    let mut filter = ScheduleFilter::default();
    match query.first("status").map(str::parse::<ScheduleStatus>) {
        Some(Ok(status)) => filter.status = Some(status),
        Some(Err(_)) => errors.push(FieldError::parameter(
            "status",
            "must be active, paused or ended",
        )),
        None => {}
    }
    match query.first("channel").map(str::parse::<Channel>) {
        Some(Ok(channel)) => filter.channel = Some(channel),
        Some(Err(_)) => errors.push(FieldError::parameter(
            "channel",
            "must be sms, whatsapp, webchat or email",
        )),
        None => {}
    }
    let filters = format!(
        "status={}&channel={}",
        filter.status.map_or("", ScheduleStatus::as_str),
        filter.channel.map_or("", Channel::as_str)
    );
    let page = Page::of(request, org_id.as_str(), filters, &mut errors);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let (schedules, next) = store
        .list_schedules(org_id, &filter, page.limit, page.after.as_deref())
        .await?;
    let body = SchedulePage {
        items: schedules.into_iter().map(ScheduleView::from).collect(),
        next_cursor: next.map(|after| page.next_cursor(&after)),
    };
    Ok(json_response(StatusCode::OK, &body))
}
