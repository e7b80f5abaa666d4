//! The console API (`/v1/console/...`) for organization admins and viewers,
//! signed in with OpenID Connect. The same handlers as the admin routes,
//! behind one access decision ([`Member`]): a user acts on their home
//! organization and those below it (anything else is 404, as if it did not
//! exist), a viewer only reads (403), and a platform operator's powers
//! (status, limits, parent, deletion, the schedule sync) stay out of reach.
//!
//! Before anything else is decided, the user's membership record must say
//! what their token says (`orgkeys_shared::edge::membership`): a removed or
//! demoted user is refused within seconds, not when their token expires. It
//! is read together with the organization the route names.
//!
//! `GET /v1/console/me` tells a signed-in user who the console takes them
//! for: any valid token may ask, so a user whose token lacks an organization
//! or a role learns why the rest is refused. The users routes call
//! `crate::users` with the organization decided here and the member acting.

use crate::{Keygen, api_keys, audit_events, organizations, usage, users, webhook_endpoints};
use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_api::OrgId;
use orgkeys_api::Role;
use orgkeys_api::body::SubOrganizationInput;
use orgkeys_api::ids::ID_RULE;
use orgkeys_api::routes::{Operation, Route};
use orgkeys_shared::edge::caller::Caller;
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::request::{audit_draft, json_body, json_response, path_id, path_param};
use orgkeys_shared::edge::user::{Member, SignedIn, User};
use orgkeys_shared::organizations::{Organization, OrganizationStatus};
use serde::Serialize;

/// `GET /v1/console/me`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Me<'a> {
    user: UserView<'a>,
    role: Option<Role>,
    organization_id: Option<&'a str>,
    /// The one rule for IDs, so the console's hint is the server's.
    id_rule: &'static str,
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
    signed_in: &SignedIn,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Problem> {
    if route.operation == Operation::GetConsoleMe {
        return Ok(me(&signed_in.user(&keygen.claims)));
    }
    let member = Member::of(signed_in, &keygen.claims, route)?;
    let store = &keygen.store;
    let admitted = keygen
        .memberships
        .admit(store, &member, signed_in.issued_at(), now);
    let caller = Caller::User(signed_in.clone());
    let draft = || audit_draft(request, &caller, now, keygen.audit_retention);
    match route.operation {
        Operation::ListConsoleOrganizations => {
            admitted.await?;
            return organizations::list_within(keygen, request, &member.home).await;
        }
        Operation::CreateConsoleOrganization => {
            admitted.await?;
            let input: SubOrganizationInput = json_body(request, crate::BODY_LIMIT)?;
            let parent = parent_of_new(keygen, &member, input.parent_id.as_deref()).await?;
            let under = (&member.home, &parent);
            return organizations::create_under(keygen, input, under, &draft()?).await;
        }
        _ => {}
    }
    let org_id: OrgId = match path_id(request, "orgId") {
        Ok(org_id) => org_id,
        Err(invalid) => {
            admitted.await?;
            return Err(Problem::validation(vec![invalid]));
        }
    };
    // The membership and the organization are read at once (both only
    // reads); the membership decides first, so a refused user learns nothing
    // of the organization.
    let (admitted, org) = tokio::join!(admitted, member.organization(store, &org_id));
    admitted?;
    let org = org?;
    let org_id = &org.organization_id;
    if let Some(webhooks) = webhook_endpoints::WebhookRoute::of(route.operation) {
        return webhook_endpoints::serve(keygen, request, webhooks, org_id, draft, now).await;
    }
    let key_id = || api_keys::key_id_of(request);
    let keys = api_keys::KeyRequest {
        store,
        request,
        org_id,
        requests_per_minute_ceiling: effective_requests_per_minute(keygen, &org),
    };
    match route.operation {
        Operation::GetConsoleOrganization => Ok(organizations::show(keygen, org)),
        Operation::UpdateConsoleOrganization => {
            organizations::rename(keygen, request, org_id, &draft()?).await
        }
        Operation::ListConsoleApiKeys => api_keys::list_of_known(store, org_id).await,
        Operation::GetConsoleApiKey => api_keys::get(store, org_id, &key_id()?).await,
        Operation::CreateConsoleApiKey => {
            refuse_if_suspended(&org)?;
            api_keys::create(&keys, &draft()?).await
        }
        Operation::RollConsoleApiKey => {
            refuse_if_suspended(&org)?;
            api_keys::roll(&keys, &key_id()?, &draft()?).await
        }
        Operation::UpdateConsoleApiKey => api_keys::patch(&keys, &key_id()?, &draft()?).await,
        Operation::DeleteConsoleApiKey => {
            api_keys::delete(store, org_id, &key_id()?, &draft()?).await
        }
        Operation::GetConsoleUsage => usage::get(keygen, request, org_id, Some(&org), now).await,
        Operation::ListConsoleAuditEvents => audit_events::list(store, request, org_id).await,
        Operation::ListConsoleUsers => users::list(keygen, org_id).await,
        Operation::InviteConsoleUser => users::invite(keygen, request, org_id, &draft()?).await,
        Operation::UpdateConsoleUser => {
            let user_id = path_param(request, "userId");
            let acting = Some(&member.user);
            users::update(keygen, request, org_id, &user_id, acting, &draft()?).await
        }
        Operation::RemoveConsoleUser => {
            let user_id = path_param(request, "userId");
            users::remove(keygen, org_id, &user_id, Some(&member.user), &draft()?).await
        }
        _ => Err(Problem::not_found(format!("no route {}", route.key))),
    }
}

fn me(user: &User) -> Response<Body> {
    let body = Me {
        user: UserView {
            id: &user.id,
            email: user.email.as_deref(),
        },
        role: user.role,
        organization_id: user.organization_id.as_ref().map(|id| id.as_str()),
        id_rule: ID_RULE,
    };
    json_response(StatusCode::OK, &body)
}

/// The parent a new sub-organization names: required, and one the member
/// may act on (404 otherwise, as if it did not exist).
async fn parent_of_new(
    keygen: &Keygen,
    member: &Member,
    parent_id: Option<&str>,
) -> Result<Organization, Problem> {
    let parent_id = match parent_id.map(OrgId::parse) {
        None => "is required: a new organization sits under one of yours",
        Some(Err(_)) => ID_RULE,
        Some(Ok(id)) => return member.organization(&keygen.store, &id).await,
    };
    Err(Problem::validation(vec![FieldError::body(
        "/parentId",
        parent_id,
    )]))
}

/// A suspended organization's users may read its keys, not add to them.
fn refuse_if_suspended(org: &Organization) -> Result<(), Problem> {
    match org.status {
        OrganizationStatus::Suspended => Err(Problem::organization_suspended()),
        OrganizationStatus::Active => Ok(()),
    }
}

/// The request limit in force for the organization's keys: the most a key
/// of its own users may be given.
fn effective_requests_per_minute(keygen: &Keygen, org: &Organization) -> u32 {
    org.limits
        .effective(keygen.default_limits)
        .requests_per_minute
}
