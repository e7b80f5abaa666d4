//! `GET /v1/admin/organizations/{orgId}/audit-events`: an organization's audit
//! events since its creation, newest first, a page at a time, optionally of
//! one action. Events outlive what they describe, so an organization that no
//! longer exists answers the events still kept under its ID (an empty list if
//! it never did) rather than a 404.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use orgkeys_api::OrgId;
use orgkeys_shared::Store;
use orgkeys_shared::audit::{Action, AuditEvent};
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::request::{Page, json_response};
use serde::Serialize;

/// A page of events.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EventPage {
    items: Vec<AuditEvent>,
    next_cursor: Option<String>,
}

pub async fn list(
    store: &Store,
    request: &Request,
    org_id: &OrgId,
) -> Result<Response<Body>, Problem> {
    let mut errors = Vec::new();
    let action = match request.query_string_parameters().first("action") {
        None => None,
        Some(text) => text.parse::<Action>().map(Some).unwrap_or_else(|()| {
            let known: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
            errors.push(FieldError::parameter(
                "action",
                format!("must be one of {}", known.join(", ")),
            ));
            None
        }),
    };
    let filters = format!("action={}", action.map_or("", Action::as_str));
    let page = Page::of(request, org_id.as_str(), filters, &mut errors);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let (items, next) = store
        .list_audit_events(org_id, action, page.limit, page.after.as_deref())
        .await?;
    let body = EventPage {
        items,
        next_cursor: next.map(|after| page.next_cursor(&after)),
    };
    Ok(json_response(StatusCode::OK, &body))
}
