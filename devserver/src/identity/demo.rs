//! The demo `scripts/dev` seeds for the console: organization `acme`
//! ("Acme") with its sub-organization `acme-emea` ("Acme EMEA"), and
//! [`DEMO_ADMIN`](super::DEMO_ADMIN), admin of `acme`, ready to sign in,
//! with the membership record every console user needs (made here, not by
//! the API: the demo admin is nobody's invitation). Organizations and
//! records that exist already are left as they are.

use super::cognito::{Cognito, CognitoError};
use super::{DEMO_ADMIN, LocalPool};
use crate::principal::LOCAL_ADMIN;
use orgkeys_api::{OrgId, Role};
use orgkeys_shared::audit::{Actor, Draft, Origin, Retention};
use orgkeys_shared::organizations::{Organization, OrganizationStatus};
use orgkeys_shared::users::{Member, MemberStatus};
use orgkeys_shared::{Store, StoreError};

/// The demo's organizations: (ID, name, parent).
pub const ORGANIZATIONS: [(&str, &str, Option<&str>); 2] = [
    ("acme", "Acme", None),
    ("acme-emea", "Acme EMEA", Some("acme")),
];

/// Seeds the demo; the admin signs in with `password`.
pub async fn seed(
    store: &Store,
    cognito: &Cognito,
    pool: &LocalPool,
    password: &str,
    retention: Retention,
) -> Result<(), Box<dyn std::error::Error>> {
    let now = chrono::Utc::now();
    // One draft per change: it carries the change's event ID.
    let draft = || Draft::new(Actor::admin(LOCAL_ADMIN), Origin::default(), now, retention);
    for (id, name, parent) in ORGANIZATIONS {
        let draft = draft()?;
        let (id, parent) = (OrgId::parse(id)?, parent.map(OrgId::parse).transpose()?);
        store
            .save_organization(&id, &draft, |existing| {
                Ok::<_, StoreError>(existing.cloned().unwrap_or(Organization {
                    organization_id: id.clone(),
                    name: name.to_owned(),
                    parent_id: parent.clone(),
                    status: OrganizationStatus::Active,
                    limits: Default::default(),
                    created_at: now,
                    updated_at: now,
                }))
            })
            .await?;
    }
    let sub = match pool.seed_demo_admin(cognito, "acme", password).await {
        Ok(sub) => sub,
        // A pool that already has the user (a persistent Cognito endpoint) keeps it.
        Err(CognitoError { kind, .. }) if kind == "UsernameExistsException" => {
            cognito.sub_of(&pool.pool_id, DEMO_ADMIN).await?
        }
        Err(err) => return Err(err.into()),
    };
    let admin = Member {
        user_id: sub,
        organization_id: OrgId::parse("acme")?,
        email: DEMO_ADMIN.to_owned(),
        role: Role::OrgAdmin,
        status: MemberStatus::Active,
        created_at: now,
        updated_at: now,
    };
    match store.add_member(&admin, &draft()?).await {
        Ok(()) | Err(StoreError::Conflict) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// A password Cognito's default policy accepts: random, with an upper-case
/// letter, a lower-case letter, a digit and a symbol.
pub fn random_password() -> Result<String, getrandom::Error> {
    let token = crate::random_token()?;
    Ok(format!("{}Aa1-", &token[..16]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn random_passwords_differ_and_have_every_class() {
        let (a, b) = (
            super::random_password().unwrap(),
            super::random_password().unwrap(),
        );
        assert_ne!(a, b);
        assert!(a.len() >= 20);
        assert!(a.chars().any(|c| c.is_ascii_uppercase()));
        assert!(a.chars().any(|c| c.is_ascii_digit()));
        assert!(a.contains('-'));
    }
}
