//! The organization routes: list, create or replace (`PUT`), read, change
//! (`PATCH`, a JSON merge patch: suspend and resume are a change of
//! `status`) and delete.

use crate::{BODY_LIMIT, Keygen, MAX_NAME_CHARS, limit_in_range};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_api::OrgId;
use orgkeys_api::body::{
    Field, LimitsInput, OrganizationInput, OrganizationPatch, SubOrganizationInput,
};
use orgkeys_shared::Store;
use orgkeys_shared::StoreError;
use orgkeys_shared::audit::Draft;
use orgkeys_shared::edge::problem::Problem;
use orgkeys_shared::edge::request::{
    Object, Page, existing_organization, json_body, json_response, no_content, required_json_body,
};
use orgkeys_shared::limits::{Defaults, Limits, MAX_CONTACTS_PER_DAY, MAX_REQUESTS_PER_MINUTE};
use orgkeys_shared::organizations::{Organization, OrganizationStatus, Saved};
use orgkeys_shared::validation::{ID_RULE, Violations};
use orgkeys_shared::wire_time::format as timestamp;
use serde::Serialize;

/// An organization as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrganizationView {
    organization_id: OrgId,
    name: String,
    parent_id: Option<OrgId>,
    status: OrganizationStatus,
    /// The limits in force: defaults filled in.
    limits: LimitsView,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LimitsView {
    pub(crate) requests_per_minute: u32,
    pub(crate) contacts_per_day: u32,
}

impl OrganizationView {
    fn new(org: Organization, defaults: Defaults) -> OrganizationView {
        let limits = org.limits.effective(defaults);
        OrganizationView {
            organization_id: org.organization_id,
            name: org.name,
            parent_id: org.parent_id,
            status: org.status,
            limits: LimitsView {
                requests_per_minute: limits.requests_per_minute,
                contacts_per_day: limits.contacts_per_day,
            },
            created_at: timestamp(org.created_at),
            updated_at: timestamp(org.updated_at),
        }
    }
}

/// A page of organizations.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrganizationPage {
    items: Vec<OrganizationView>,
    next_cursor: Option<String>,
}

/// Cursors of this listing are bound to no organization.
const LISTING_SCOPE: &str = "";

pub async fn list(keygen: &Keygen, request: &Request) -> Result<Response<Body>, Problem> {
    list_page(keygen, request, None).await
}

/// The console's list: the organization `home` and those below it.
pub async fn list_within(
    keygen: &Keygen,
    request: &Request,
    home: &OrgId,
) -> Result<Response<Body>, Problem> {
    list_page(keygen, request, Some(home)).await
}

/// A page of every organization, or of `home` and those below it; a
/// cursor of one listing is refused by another.
async fn list_page(
    keygen: &Keygen,
    request: &Request,
    home: Option<&OrgId>,
) -> Result<Response<Body>, Problem> {
    let store = &keygen.store;
    let mut errors = Vec::new();
    let scope = home.map_or(LISTING_SCOPE, OrgId::as_str);
    let page = Page::of(request, scope, "organizations".into(), &mut errors);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let after = page.after.as_deref();
    let (found, next) = match home {
        None => store.list_organizations(page.limit, after).await?,
        Some(home) => {
            store
                .list_organizations_within(home, page.limit, after)
                .await?
        }
    };
    let body = OrganizationPage {
        items: found
            .into_iter()
            .map(|org| OrganizationView::new(org, keygen.default_limits))
            .collect(),
        next_cursor: next.map(|after| page.next_cursor(&after)),
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// The limits a body sets, checked; `None` for each limit the body leaves
/// alone (in a patch), `Some(None)` for one it returns to the default.
struct LimitsChange {
    requests_per_minute: Option<Option<u32>>,
    contacts_per_day: Option<Option<u32>>,
}

impl LimitsChange {
    fn of(input: LimitsInput, violations: &mut Violations) -> LimitsChange {
        let mut check = |pointer: &str, field: Field<i64>, max: u32| match field {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Value(value) => Some(limit_in_range(violations, pointer, Some(value), max)),
        };
        LimitsChange {
            requests_per_minute: check(
                "/limits/requestsPerMinute",
                input.requests_per_minute,
                MAX_REQUESTS_PER_MINUTE,
            ),
            contacts_per_day: check(
                "/limits/contactsPerDay",
                input.contacts_per_day,
                MAX_CONTACTS_PER_DAY,
            ),
        }
    }

    /// `limits` with this change made.
    fn apply(&self, mut limits: Limits) -> Limits {
        if let Some(value) = self.requests_per_minute {
            limits.requests_per_minute = value;
        }
        if let Some(value) = self.contacts_per_day {
            limits.contacts_per_day = value;
        }
        limits
    }
}

/// `PUT`: creates the organization (active), or replaces its name and parent
/// (its status is changed with `PATCH` only).
pub async fn put(
    keygen: &Keygen,
    request: &Request,
    org_id: &OrgId,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let store = &keygen.store;
    let input: OrganizationInput = json_body(request, BODY_LIMIT)?;
    let mut violations = Violations::new();
    match &input.name {
        None => violations.body("/name", "is required"),
        Some(name) => violations.text("/name", Some(name), MAX_NAME_CHARS),
    }
    let parent_id = parent_id(&mut violations, org_id, input.parent_id.as_deref());
    let limits = input
        .limits
        .map(|Object(limits)| LimitsChange::of(limits, &mut violations))
        .map_or(Limits::default(), |change| change.apply(Limits::default()));
    violations.finish().map_err(Problem::validation)?;
    let name = input.name.as_deref().unwrap_or_default().trim();
    let (organization, saved) = store
        .save_organization(org_id, draft, |existing| {
            Ok::<_, StoreError>(Organization {
                name: name.to_owned(),
                parent_id: parent_id.clone(),
                status: existing.map_or(OrganizationStatus::Active, |org| org.status),
                limits,
                ..blank(org_id, draft)
            })
        })
        .await?;
    tracing::info!(%org_id, ?saved, "organization saved");
    let status = match saved {
        Saved::Created => StatusCode::CREATED,
        Saved::Updated | Saved::Unchanged => StatusCode::OK,
    };
    let view = OrganizationView::new(organization, keygen.default_limits);
    Ok(json_response(status, &view))
}

/// An organization with nothing set; the store fills in the times.
fn blank(org_id: &OrgId, draft: &Draft) -> Organization {
    Organization {
        organization_id: org_id.to_owned(),
        name: String::new(),
        parent_id: None,
        status: OrganizationStatus::Active,
        limits: Limits::default(),
        created_at: draft.occurred_at,
        updated_at: draft.occurred_at,
    }
}

/// The parent a body names, parsed; a violation instead for one that
/// breaks the ID rule or is the organization itself.
fn parent_id(violations: &mut Violations, org_id: &OrgId, parent: Option<&str>) -> Option<OrgId> {
    match OrgId::parse(parent?) {
        Err(_) => violations.body("/parentId", ID_RULE),
        Ok(parent) if parent == *org_id => {
            violations.body("/parentId", "an organization cannot be its own parent")
        }
        Ok(parent) => return Some(parent),
    }
    None
}

pub async fn get(keygen: &Keygen, org_id: &OrgId) -> Result<Response<Body>, Problem> {
    let organization = existing_organization(&keygen.store, org_id).await?;
    Ok(show(keygen, organization))
}

/// 200 with the organization as the API shows it.
pub fn show(keygen: &Keygen, organization: Organization) -> Response<Body> {
    let view = OrganizationView::new(organization, keygen.default_limits);
    json_response(StatusCode::OK, &view)
}

/// `POST /v1/console/organizations`: a new organization under `parent`, one
/// the user whose home is `home` may act on (the caller checked; the store
/// checks again on the chain its commit is conditional on). Its ID is the
/// server's (`org_` and 24 random hex digits): IDs are global, so one a user
/// chose would tell them, by a 409, that it exists outside their tree.
pub async fn create_under(
    keygen: &Keygen,
    input: SubOrganizationInput,
    (home, parent): (&OrgId, &Organization),
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let mut violations = Violations::new();
    if input.organization_id.is_some() {
        violations.body(
            "/organizationId",
            "is chosen by the server for a sub-organization: leave it out",
        );
    }
    match &input.name {
        None => violations.body("/name", "is required"),
        Some(name) => violations.text("/name", Some(name), MAX_NAME_CHARS),
    }
    violations.finish().map_err(Problem::validation)?;
    let name = input.name.as_deref().unwrap_or_default().trim();
    // `org_` and hex always follow the ID rule.
    let org_id =
        OrgId::parse(orgkeys_shared::ids::random_id("org_")?).map_err(|_| Problem::internal())?;
    let org_id = &org_id;
    let wanted = Organization {
        name: name.to_owned(),
        parent_id: Some(parent.organization_id.clone()),
        ..blank(org_id, draft)
    };
    let organization = keygen
        .store
        .create_organization_within(home, wanted, draft)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => Problem::no_organization(),
            other => other.into(),
        })?
        // 96 random bits taken: not the user's doing, and nothing to tell.
        .ok_or_else(|| Problem::conflict("the new organization's ID was taken; try again"))?;
    tracing::info!(%org_id, parent = %parent.organization_id, "sub-organization created");
    let view = OrganizationView::new(organization, keygen.default_limits);
    Ok(json_response(StatusCode::CREATED, &view))
}

pub async fn patch(
    keygen: &Keygen,
    request: &Request,
    org_id: &OrgId,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let input: OrganizationPatch = required_json_body(request, BODY_LIMIT)?;
    change(keygen, org_id, input, draft).await
}

/// The console's `PATCH`: an organization's own users may rename it;
/// its parent, status and limits are the platform operator's (403, pointing
/// at the field).
pub async fn rename(
    keygen: &Keygen,
    request: &Request,
    org_id: &OrgId,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let input: OrganizationPatch = required_json_body(request, BODY_LIMIT)?;
    let operator_fields = [
        ("/parentId", input.parent_id.is_absent()),
        ("/status", input.status.is_absent()),
        ("/limits", input.limits.is_absent()),
    ];
    if let Some((pointer, _)) = operator_fields.iter().find(|(_, absent)| !absent) {
        return Err(Problem::not_permitted(
            "only the platform operator changes an organization's parent, status and limits",
            Some(pointer),
        ));
    }
    change(keygen, org_id, input, draft).await
}

/// Applies a merge patch to the organization.
async fn change(
    keygen: &Keygen,
    org_id: &OrgId,
    input: OrganizationPatch,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let store = &keygen.store;
    let mut violations = Violations::new();
    match &input.name {
        Field::Null => violations.body("/name", "cannot be removed"),
        Field::Value(name) => violations.text("/name", Some(name), MAX_NAME_CHARS),
        Field::Absent => {}
    }
    let parent_change = match &input.parent_id {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Value(parent) => Some(parent_id(&mut violations, org_id, Some(parent))),
    };
    let status = match &input.status {
        Field::Absent => None,
        Field::Value(text) if text.parse::<OrganizationStatus>().is_ok() => text.parse().ok(),
        _ => {
            violations.body("/status", "must be \"active\" or \"suspended\"");
            None
        }
    };
    let limits = match input.limits {
        Field::Absent => None,
        // `null` returns both limits to the defaults.
        Field::Null => Some(LimitsChange {
            requests_per_minute: Some(None),
            contacts_per_day: Some(None),
        }),
        Field::Value(Object(limits)) => Some(LimitsChange::of(limits, &mut violations)),
    };
    violations.finish().map_err(Problem::validation)?;
    let (organization, saved) = store
        .save_organization(org_id, draft, |existing| {
            let mut org = existing.cloned().ok_or_else(Problem::no_organization)?;
            if let Field::Value(name) = &input.name {
                org.name = name.trim().to_owned();
            }
            if let Some(parent) = parent_change.clone() {
                org.parent_id = parent;
            }
            if let Some(status) = status {
                org.status = status;
            }
            if let Some(change) = &limits {
                org.limits = change.apply(org.limits);
            }
            Ok::<_, Problem>(org)
        })
        .await?;
    tracing::info!(
        %org_id,
        ?saved,
        status = organization.status.as_str(),
        "organization changed"
    );
    let view = OrganizationView::new(organization, keygen.default_limits);
    Ok(json_response(StatusCode::OK, &view))
}

pub async fn delete(
    store: &Store,
    org_id: &OrgId,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let deleted = store
        .delete_organization(org_id, draft)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => Problem::no_organization(),
            other => other.into(),
        })?;
    tracing::info!(
        %org_id,
        keys = deleted.keys,
        schedules = deleted.schedules,
        records = deleted.records,
        "organization deleted"
    );
    Ok(no_content())
}
