//! The console API (`/v1/console/...`) for organization admins and viewers,
//! signed in with OpenID Connect. `GET /v1/console/me` tells a signed-in user
//! who the console takes them for: any valid token may ask, so a user whose
//! token lacks an organization or a role learns why the rest is refused.

use crate::Keygen;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use orgkeys_api::Role;
use orgkeys_api::routes::{Operation, Route};
use orgkeys_shared::edge::problem::Problem;
use orgkeys_shared::edge::request::json_response;
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
    _keygen: &Keygen,
    route: &Route,
    user: &User,
) -> Result<Response<Body>, Problem> {
    match route.operation {
        Operation::GetConsoleMe => Ok(me(user)),
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
    };
    json_response(StatusCode::OK, &body)
}
