//! The organization routes: list, create or replace (`PUT`), read, change
//! (`PATCH`, a JSON merge patch: suspend and resume are a change of
//! `status`) and delete.

use crate::{BODY_LIMIT, MAX_NAME_CHARS, ORG_ID_RULE};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_shared::Store;
use orgkeys_shared::StoreError;
use orgkeys_shared::audit::Draft;
use orgkeys_shared::edge::merge_patch::Field;
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::request::{
    Page, json_body, json_response, no_content, required_json_body,
};
use orgkeys_shared::organizations::{Organization, OrganizationStatus, Saved};
use orgkeys_shared::validation::{Violations, is_valid_id};
use orgkeys_shared::wire_time::format as timestamp;
use serde::{Deserialize, Serialize};

/// Deep enough for any real hierarchy, small enough to bound the cycle check.
const MAX_ORG_DEPTH: usize = 32;

/// An organization as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrganizationView {
    organization_id: String,
    name: String,
    parent_id: Option<String>,
    status: OrganizationStatus,
    created_at: String,
    updated_at: String,
}

impl From<Organization> for OrganizationView {
    fn from(org: Organization) -> OrganizationView {
        OrganizationView {
            organization_id: org.organization_id,
            name: org.name,
            parent_id: org.parent_id,
            status: org.status,
            created_at: timestamp(org.created_at),
            updated_at: timestamp(org.updated_at),
        }
    }
}

fn not_found() -> Problem {
    Problem::not_found("no organization with this ID")
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

pub async fn list(store: &Store, request: &Request) -> Result<Response<Body>, Problem> {
    let mut errors = Vec::new();
    let page = Page::of(request, LISTING_SCOPE, "organizations".into(), &mut errors);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let (found, next) = store
        .list_organizations(page.limit, page.after.as_deref())
        .await?;
    let body = OrganizationPage {
        items: found.into_iter().map(OrganizationView::from).collect(),
        next_cursor: next.map(|after| page.next_cursor(&after)),
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// Body of `PUT /v1/admin/organizations/{orgId}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OrganizationInput {
    name: Option<String>,
    parent_id: Option<String>,
}

/// `PUT`: creates the organization (active), or replaces its name and parent
/// (its status is changed with `PATCH` only).
pub async fn put(
    store: &Store,
    request: &Request,
    org_id: &str,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let input: OrganizationInput = json_body(request, BODY_LIMIT)?;
    let mut violations = Violations::new();
    match &input.name {
        None => violations.body("/name", "is required"),
        Some(name) => violations.text("/name", Some(name), MAX_NAME_CHARS),
    }
    check_parent_id(&mut violations, org_id, input.parent_id.as_deref());
    violations.finish().map_err(Problem::validation)?;
    if let Some(parent) = &input.parent_id {
        check_parent(store, org_id, parent).await?;
    }
    let name = input.name.as_deref().unwrap_or_default().trim();
    let (organization, saved) = store
        .save_organization(org_id, draft, |existing| {
            Ok::<_, StoreError>(Organization {
                name: name.to_owned(),
                parent_id: input.parent_id.clone(),
                status: existing.map_or(OrganizationStatus::Active, |org| org.status),
                ..blank(org_id, draft)
            })
        })
        .await?;
    tracing::info!(org_id, ?saved, "organization saved");
    let status = match saved {
        Saved::Created => StatusCode::CREATED,
        Saved::Updated | Saved::Unchanged => StatusCode::OK,
    };
    Ok(json_response(status, &OrganizationView::from(organization)))
}

/// An organization with nothing set; the store fills in the times.
fn blank(org_id: &str, draft: &Draft) -> Organization {
    Organization {
        organization_id: org_id.to_owned(),
        name: String::new(),
        parent_id: None,
        status: OrganizationStatus::Active,
        created_at: draft.occurred_at,
        updated_at: draft.occurred_at,
    }
}

fn check_parent_id(violations: &mut Violations, org_id: &str, parent: Option<&str>) {
    match parent {
        Some(parent) if !is_valid_id(parent) => violations.body("/parentId", ORG_ID_RULE),
        Some(parent) if parent == org_id => {
            violations.body("/parentId", "an organization cannot be its own parent")
        }
        _ => {}
    }
}

/// The parent must exist, and `org_id` must not be among its ancestors.
async fn check_parent(store: &Store, org_id: &str, parent: &str) -> Result<(), Problem> {
    let mut next = Some(parent.to_owned());
    for _ in 0..MAX_ORG_DEPTH {
        let Some(current) = next else { return Ok(()) };
        let Some(org) = store.get_organization(&current).await? else {
            return Err(Problem::validation(vec![FieldError::body(
                "/parentId",
                "no organization with this ID exists",
            )]));
        };
        if org.parent_id.as_deref() == Some(org_id) {
            return Err(Problem::validation(vec![FieldError::body(
                "/parentId",
                "this parent would make the hierarchy a cycle",
            )]));
        }
        next = org.parent_id;
    }
    Err(Problem::validation(vec![FieldError::body(
        "/parentId",
        format!("organizations nest at most {MAX_ORG_DEPTH} deep"),
    )]))
}

pub async fn get(store: &Store, org_id: &str) -> Result<Response<Body>, Problem> {
    let organization = store
        .get_organization(org_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &OrganizationView::from(organization),
    ))
}

/// Body of `PATCH /v1/admin/organizations/{orgId}` (a JSON merge patch).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OrganizationPatch {
    #[serde(default)]
    name: Field<String>,
    #[serde(default)]
    parent_id: Field<String>,
    #[serde(default)]
    status: Field<String>,
}

pub async fn patch(
    store: &Store,
    request: &Request,
    org_id: &str,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let input: OrganizationPatch = required_json_body(request, BODY_LIMIT)?;
    let mut violations = Violations::new();
    match &input.name {
        Field::Null => violations.body("/name", "cannot be removed"),
        Field::Value(name) => violations.text("/name", Some(name), MAX_NAME_CHARS),
        Field::Absent => {}
    }
    if let Field::Value(parent) = &input.parent_id {
        check_parent_id(&mut violations, org_id, Some(parent));
    }
    let status = match &input.status {
        Field::Absent => None,
        Field::Value(text) if text.parse::<OrganizationStatus>().is_ok() => text.parse().ok(),
        _ => {
            violations.body("/status", "must be \"active\" or \"suspended\"");
            None
        }
    };
    violations.finish().map_err(Problem::validation)?;
    if let Field::Value(parent) = &input.parent_id {
        check_parent(store, org_id, parent).await?;
    }
    let (organization, saved) = store
        .save_organization(org_id, draft, |existing| {
            let mut org = existing.cloned().ok_or_else(not_found)?;
            if let Field::Value(name) = &input.name {
                org.name = name.trim().to_owned();
            }
            if let Some(parent) = input.parent_id.clone().into_change() {
                org.parent_id = parent;
            }
            if let Some(status) = status {
                org.status = status;
            }
            Ok::<_, Problem>(org)
        })
        .await?;
    tracing::info!(
        org_id,
        ?saved,
        status = organization.status.as_str(),
        "organization changed"
    );
    Ok(json_response(
        StatusCode::OK,
        &OrganizationView::from(organization),
    ))
}

pub async fn delete(store: &Store, org_id: &str, draft: &Draft) -> Result<Response<Body>, Problem> {
    let deleted = store
        .delete_organization(org_id, draft)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => not_found(),
            other => other.into(),
        })?;
    tracing::info!(
        org_id,
        keys = deleted.keys,
        schedules = deleted.schedules,
        "organization deleted"
    );
    Ok(no_content())
}
