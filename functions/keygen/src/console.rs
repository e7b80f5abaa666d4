//! The console API (`/v1/console/...`) for organization admins and viewers,
//! signed in with OpenID Connect. `GET /v1/console/me` tells a signed-in user
//! who the console takes them for: any valid token may ask, so a user whose
//! token lacks an organization or a role learns why the rest is refused.
//! The users routes call `crate::users` with the organization decided here.

use crate::{Keygen, users};
use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_api::routes::{Operation, Route};
use orgkeys_api::{OrgId, Role};
use orgkeys_shared::edge::caller::Caller;
use orgkeys_shared::edge::problem::Problem;
use orgkeys_shared::edge::request::{audit_draft, json_response, path_id, path_param};
use orgkeys_shared::edge::user::User;
use serde::Serialize;

/// `GET /v1/console/me`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Me<'a> {
    user: UserView<'a>,
    role: Option<Role>,
    organization_id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct UserView<'a> {
    id: &'a str,
    email: Option<&'a str>,
}

pub async fn route(
    keygen: &Keygen,
    request: &Request,
    route: &Route,
    caller: &Caller,
    user: &User,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Problem> {
    if route.operation == Operation::GetConsoleMe {
        return Ok(me(user));
    }
    let org_id = decided_organization(request, route, user)?;
    let org_id = org_id.as_str();
    let user_id = path_param(request, "userId");
    let user_id = user_id.as_str();
    let draft = || audit_draft(request, caller, now, keygen.audit_retention);
    match route.operation {
        Operation::ListConsoleUsers => users::list(keygen, org_id).await,
        Operation::InviteConsoleUser => users::invite(keygen, request, org_id, &draft()?).await,
        Operation::UpdateConsoleUser => {
            users::update(keygen, request, org_id, user_id, Some(user), &draft()?).await
        }
        Operation::RemoveConsoleUser => {
            users::remove(keygen, org_id, user_id, Some(user), &draft()?).await
        }
        _ => Err(Problem::not_found(format!("no route {}", route.key))),
    }
}

/// The organization of the request, if the user may act on it with this
/// method: a role that allows the method (403 otherwise), and an
/// organization of their tree (404 otherwise, as if it did not exist).
///
/// TODO(issue 22, access decision): a stand-in until main's decision (the
/// home organization and every organization below it, at most one read)
/// replaces it; this one admits the home organization only.
fn decided_organization(request: &Request, route: &Route, user: &User) -> Result<OrgId, Problem> {
    let (Some(home), Some(role)) = (&user.organization_id, user.role) else {
        return Err(Problem::forbidden(
            "your sign-in names no organization or no role (org-admin, org-viewer)",
        ));
    };
    if !role.may(route.method) {
        return Err(Problem::forbidden(format!(
            "{role} may only read; this needs org-admin"
        )));
    }
    let org_id: OrgId = path_id(request, "orgId").map_err(|e| Problem::validation(vec![e]))?;
    if org_id != *home {
        return Err(Problem::not_found("no organization with this ID"));
    }
    Ok(org_id)
}

fn me(user: &User) -> Response<Body> {
    let body = Me {
        user: UserView {
            id: &user.id,
            email: user.email.as_deref(),
        },
        role: user.role,
        organization_id: user.organization_id.as_ref().map(|id| id.as_str()),
    };
    json_response(StatusCode::OK, &body)
}
