//! An organization's console users: list, invite, change role, remove;
//! the same four for a platform operator (`/v1/admin/...`, the CLI) and for
//! an organization admin (`/v1/console/...`, whose routing decides the
//! organization first and passes the acting user).
//!
//! Each change goes to Cognito first ([`UserDirectory`]) and is then recorded
//! in DynamoDB with its audit event in one transaction
//! (`orgkeys_shared::users`); repeated after a failure in between, the same
//! request finishes it. Without a user pool (another OpenID Connect provider
//! manages the users) these routes answer 501.

use crate::user_directory::{DirectoryError, DirectoryUser, UserDirectory};
use crate::{BODY_LIMIT, Keygen};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_api::OrgId;
use orgkeys_api::Role;
use orgkeys_api::body::{UserInput, UserPatch};
use orgkeys_shared::StoreError;
use orgkeys_shared::audit::Draft;
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::request::{
    existing_organization, json_response, no_content, required_json_body,
};
use orgkeys_shared::edge::user::User;
use orgkeys_shared::organizations::Organization;
use orgkeys_shared::users::{Member, MemberStatus};
use orgkeys_shared::validation::Violations;
use serde::Serialize;

/// RFC 5321's limit on a forward path, which an email address must fit.
const MAX_EMAIL_CHARS: usize = 254;
/// Cognito's `sub` is a UUID; other usernames stay within this.
const MAX_USER_ID_CHARS: usize = 128;

/// `GET .../users`.
#[derive(Debug, Serialize)]
struct Members {
    items: Vec<Member>,
}

/// The user pool, or the 501 that says why there is none.
fn directory(keygen: &Keygen) -> Result<&UserDirectory, Problem> {
    keygen.users.as_ref().ok_or_else(|| {
        Problem::not_implemented(
            "console users are managed in the stack's Cognito user pool, and this platform has \
             none (CONSOLE_USER_POOL_ID is not set: its OpenID Connect provider manages its \
             users); invite and remove them there",
        )
    })
}

fn directory_problem(err: DirectoryError) -> Problem {
    match err {
        DirectoryError::Refused(why) => Problem::validation(vec![FieldError::body("/email", why)]),
        DirectoryError::Unavailable(_) => {
            tracing::error!(error = %err, "user directory call failed");
            Problem::unavailable(
                "the user directory (Cognito) could not be reached; it is safe to retry",
            )
        }
    }
}

fn user_not_found() -> Problem {
    Problem::not_found("no user with this ID in this organization")
}

/// `GET .../users`: every user of the organization, by email. An invited
/// user's first sign-in is looked up in Cognito and kept, once seen.
pub async fn list(keygen: &Keygen, org_id: &OrgId) -> Result<Response<Body>, Problem> {
    let directory = directory(keygen)?;
    let store = &keygen.store;
    existing_organization(store, org_id).await?;
    let mut items = store.list_members(org_id).await?;
    for member in items
        .iter_mut()
        .filter(|member| member.status == MemberStatus::Invited)
    {
        // The list still answers, as recorded, when Cognito cannot.
        if let Ok(Some(user)) = directory.find(&member.user_id).await
            && user.confirmed
        {
            store.mark_member_active(org_id, &member.user_id).await?;
            member.status = MemberStatus::Active;
        }
    }
    Ok(json_response(StatusCode::OK, &Members { items }))
}

/// `POST .../users` `{email, role}`: invites the user; 201 with the user.
/// 409 if the email is already a user here or in another organization.
pub async fn invite(
    keygen: &Keygen,
    request: &Request,
    org_id: &OrgId,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let input: UserInput = required_json_body(request, BODY_LIMIT)?;
    let mut violations = Violations::new();
    let email = checked_email(&mut violations, &input.email);
    let role = checked_role(&mut violations, &input.role);
    violations.finish().map_err(Problem::validation)?;
    let (email, role) = (email.unwrap_or_default(), role.unwrap_or(Role::OrgViewer));
    let directory = directory(keygen)?;
    let store = &keygen.store;
    // Nobody is created in Cognito for an organization that does not exist.
    let organization = existing_organization(store, org_id).await?;
    let user = invited(directory, &email, &organization).await?;
    if store.get_member(org_id, &user.sub).await?.is_some() {
        return Err(Problem::conflict(
            "a user with this email is already a user of this organization",
        ));
    }
    directory
        .set_role(&user.sub, role)
        .await
        .map_err(directory_problem)?;
    let member = Member {
        user_id: user.sub,
        organization_id: org_id.to_owned(),
        email,
        role,
        status: if user.confirmed {
            MemberStatus::Active
        } else {
            MemberStatus::Invited
        },
        created_at: draft.occurred_at,
        updated_at: draft.occurred_at,
    };
    match store.add_member(&member, draft).await {
        Ok(()) => Ok(json_response(StatusCode::CREATED, &member)),
        Err(StoreError::NotFound) => Err(Problem::no_organization()),
        Err(StoreError::Conflict) => Err(Problem::conflict(
            "a user with this email is already a user of this organization",
        )),
        Err(err) => Err(err.into()),
    }
}

/// The Cognito user for an invitation of `email` into `organization`:
/// created now, or found from an earlier attempt of the same invitation (the
/// same organization); a user of another organization is a 409.
async fn invited(
    directory: &UserDirectory,
    email: &str,
    organization: &Organization,
) -> Result<DirectoryUser, Problem> {
    let org_id = organization.organization_id.as_str();
    if let Some(created) = directory
        .invite(email, org_id, &organization.name)
        .await
        .map_err(directory_problem)?
    {
        return Ok(created);
    }
    let existing = directory.find(email).await.map_err(directory_problem)?;
    match existing {
        Some(user) if user.organization_id.as_deref() == Some(org_id) => Ok(user),
        Some(_) => Err(Problem::conflict(
            "a user with this email belongs to another organization",
        )),
        // Deleted between the two calls: the client may simply try again.
        None => Err(Problem::conflict(
            "the user with this email was changed by another request; try again",
        )),
    }
}

/// `PATCH .../users/{userId}` `{role}`: 200 with the user. `acting` is the
/// console user making the change (`None`: a platform operator), who may
/// not demote themselves.
pub async fn update(
    keygen: &Keygen,
    request: &Request,
    org_id: &OrgId,
    user_id: &str,
    acting: Option<&User>,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let input: UserPatch = required_json_body(request, BODY_LIMIT)?;
    let mut violations = Violations::new();
    check_user_id(&mut violations, user_id);
    let role = checked_role(&mut violations, &input.role);
    violations.finish().map_err(Problem::validation)?;
    let role = role.unwrap_or(Role::OrgViewer);
    if acting.is_some_and(|me| me.id == user_id) && role != Role::OrgAdmin {
        return Err(Problem::forbidden(
            "you cannot demote yourself; another admin of the organization can",
        ));
    }
    let directory = directory(keygen)?;
    let store = &keygen.store;
    store
        .get_member(org_id, user_id)
        .await?
        .ok_or_else(user_not_found)?;
    directory
        .set_role(user_id, role)
        .await
        .map_err(directory_problem)?;
    let changed = store.change_member_role(org_id, user_id, role, draft).await;
    keygen.memberships.forget(org_id, user_id);
    match changed {
        Ok(member) => Ok(json_response(StatusCode::OK, &member)),
        Err(StoreError::NotFound) => Err(user_not_found()),
        Err(err) => Err(err.into()),
    }
}

/// `DELETE .../users/{userId}`: 204; the user can no longer sign in. A
/// console user (`acting`) may not remove themselves.
pub async fn remove(
    keygen: &Keygen,
    org_id: &OrgId,
    user_id: &str,
    acting: Option<&User>,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let mut violations = Violations::new();
    check_user_id(&mut violations, user_id);
    violations.finish().map_err(Problem::validation)?;
    if acting.is_some_and(|me| me.id == user_id) {
        return Err(Problem::forbidden(
            "you cannot remove yourself; another admin of the organization can",
        ));
    }
    let directory = directory(keygen)?;
    let store = &keygen.store;
    let member = store
        .get_member(org_id, user_id)
        .await?
        .ok_or_else(user_not_found)?;
    directory.delete(user_id).await.map_err(directory_problem)?;
    let removed = store.remove_member(&member, draft).await;
    keygen.memberships.forget(org_id, user_id);
    match removed {
        Ok(()) => Ok(no_content()),
        Err(StoreError::NotFound) => Err(user_not_found()),
        Err(err) => Err(err.into()),
    }
}

/// Deletes the Cognito users of an organization being deleted (its
/// membership records go with the organization), so that none of them can
/// sign in to a later organization with the same ID. Nothing without a pool.
pub async fn remove_all(keygen: &Keygen, org_id: &OrgId) -> Result<(), Problem> {
    let Some(directory) = keygen.users.as_ref() else {
        return Ok(());
    };
    for member in keygen.store.list_members(org_id).await? {
        directory
            .delete(&member.user_id)
            .await
            .map_err(directory_problem)?;
        keygen.memberships.forget(org_id, &member.user_id);
    }
    Ok(())
}

/// The email, lower-cased (Cognito's usernames are compared without case),
/// if it has the shape of an address; spaces are refused, not trimmed, as
/// `openapi.yaml`'s pattern says.
fn checked_email(violations: &mut Violations, email: &str) -> Option<String> {
    let email = email.to_lowercase();
    let shaped = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    });
    let clean = !email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || orgkeys_shared::validation::is_unsafe(c));
    if email.chars().count() > MAX_EMAIL_CHARS {
        violations.body(
            "/email",
            format!("must be at most {MAX_EMAIL_CHARS} characters"),
        );
        None
    } else if !shaped || !clean {
        violations.body("/email", "must be an email address, like ann@example.com");
        None
    } else {
        Some(email)
    }
}

fn checked_role(violations: &mut Violations, role: &str) -> Option<Role> {
    let parsed = role.parse().ok();
    if parsed.is_none() {
        violations.body("/role", "must be org-admin or org-viewer");
    }
    parsed
}

fn check_user_id(violations: &mut Violations, user_id: &str) {
    let valid = !user_id.is_empty()
        && user_id.len() <= MAX_USER_ID_CHARS
        && user_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        violations.parameter(
            "userId",
            format!(
                "must be a user ID as the users list shows it: up to {MAX_USER_ID_CHARS} letters, digits, '-' or '_'"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(text: &str) -> Option<String> {
        checked_email(&mut Violations::new(), text)
    }

    #[test]
    fn emails_are_lower_cased_and_must_have_an_address_shape() {
        assert_eq!(
            email("Ann@Acme.Example").as_deref(),
            Some("ann@acme.example")
        );
        for bad in [
            "",
            " ann@acme.example",
            "ann",
            "@acme.example",
            "ann@",
            "ann@acme",
            "ann@@acme.example",
            "ann smith@acme.example",
            "ann@acme.example.",
            "ann\u{202e}@acme.example",
        ] {
            assert_eq!(email(bad), None, "{bad:?}");
        }
        assert_eq!(email(&format!("{}@acme.example", "a".repeat(250))), None);
    }

    #[test]
    fn roles_are_the_two_groups_and_user_ids_are_plain() {
        assert_eq!(
            checked_role(&mut Violations::new(), "org-admin"),
            Some(Role::OrgAdmin)
        );
        let mut violations = Violations::new();
        assert_eq!(checked_role(&mut violations, "admin"), None);
        check_user_id(&mut violations, "0b1c-9f_a");
        check_user_id(&mut violations, "a/b");
        check_user_id(&mut violations, "");
        assert_eq!(violations.finish().unwrap_err().len(), 3);
    }
}
