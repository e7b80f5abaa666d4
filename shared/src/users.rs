//! Console users' membership of an organization: who the organization's
//! admins and viewers are, as the console and the CLI list them.
//!
//! | item                   | PK            | SK            |
//! |------------------------|---------------|---------------|
//! | a user of the org      | `ORG#<orgId>` | `USER#<sub>`  |
//!
//! The identity itself (email, password, the `organizationId` attribute, the
//! role's group) lives in the identity provider (Cognito); keygen's
//! `user_directory` changes it there first and then records the membership
//! here with its audit event (`user.invited`, `user.updated`,
//! `user.removed`) in one transaction. The record exists because Cognito's
//! `ListUsers` cannot filter on a custom attribute: an organization's users
//! list with one Query of its partition. An organization's delete sweeps its
//! records with everything else it owns.

use crate::audit::{Action, AuditEvent, Draft, Target, TargetType, details};
use crate::dynamo::attributes::{
    CREATED_AT, CorruptItem, ITEM_TYPE, Item, ORG_ID, UPDATED_AT, item_address, parsed,
    required_time, s, stored_org_id, string, time,
};
use crate::dynamo::update::{Condition, Update};
use crate::dynamo::{Store, StoreError};
use crate::tenancy;
use chrono::{DateTime, Utc};
use orgkeys_api::OrgId;
use orgkeys_api::Role;
use serde::Serialize;

/// The identity provider's custom attribute that names a user's home
/// organization (immutable in the stack's pool).
pub const ORGANIZATION_ATTRIBUTE: &str = "custom:organizationId";

const USER_ID: &str = "userId";
const EMAIL: &str = "email";
const ROLE: &str = "role";
const STATUS: &str = "status";
const SK_PREFIX: &str = "USER#";
/// How often a change re-reads and retries when it meets a concurrent one.
const ATTEMPTS: usize = 3;

orgkeys_api::wire_enum!(
    /// Whether a user has signed in yet.
    MemberStatus {
        /// Invited: their first sign-in, with the temporary password, is ahead.
        Invited => "invited",
        /// They have signed in and chosen their own password.
        Active => "active",
    }
);

/// A user of an organization, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The identity provider's `sub`: the token's subject.
    pub user_id: String,
    #[serde(skip)]
    pub organization_id: OrgId,
    pub email: String,
    pub role: Role,
    pub status: MemberStatus,
    #[serde(serialize_with = "wire_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "wire_time")]
    pub updated_at: DateTime<Utc>,
}

fn wire_time<S: serde::Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&crate::wire_time::format(*at))
}

fn address(org_id: &OrgId, user_id: &str) -> Item {
    item_address(tenancy::partition(org_id), format!("{SK_PREFIX}{user_id}"))
}

fn to_item(member: &Member) -> Item {
    let mut item = address(&member.organization_id, &member.user_id);
    item.extend([
        (ITEM_TYPE.to_owned(), s("USER")),
        (ORG_ID.to_owned(), s(&member.organization_id)),
        (USER_ID.to_owned(), s(&member.user_id)),
        (EMAIL.to_owned(), s(&member.email)),
        (ROLE.to_owned(), s(member.role.as_str())),
        (STATUS.to_owned(), s(member.status.as_str())),
        (CREATED_AT.to_owned(), time(member.created_at)),
        (UPDATED_AT.to_owned(), time(member.updated_at)),
    ]);
    item
}

fn from_item(item: &Item) -> Result<Member, CorruptItem> {
    Ok(Member {
        user_id: string(item, USER_ID)?,
        organization_id: stored_org_id(item, ORG_ID)?,
        email: string(item, EMAIL)?,
        role: parsed(item, ROLE)?,
        status: parsed(item, STATUS)?,
        created_at: required_time(item, CREATED_AT)?,
        updated_at: required_time(item, UPDATED_AT)?,
    })
}

/// The event of a change to `member`; never more than its email and role.
fn member_event(
    draft: &Draft,
    member: &Member,
    action: Action,
    previous: Option<Role>,
) -> AuditEvent {
    let mut details = details([
        ("email", member.email.clone().into()),
        ("role", member.role.as_str().into()),
    ]);
    if let Some(previous) = previous {
        details.insert("previousRole".into(), previous.as_str().into());
    }
    draft.event(
        &member.organization_id,
        action,
        Target::new(TargetType::User, &member.user_id),
        details,
    )
}

impl Store {
    pub async fn get_member(
        &self,
        org_id: &OrgId,
        user_id: &str,
    ) -> Result<Option<Member>, StoreError> {
        let item = self.get(address(org_id, user_id)).await?;
        Ok(item.as_ref().map(from_item).transpose()?)
    }

    /// Every user of the organization, by email.
    pub async fn list_members(&self, org_id: &OrgId) -> Result<Vec<Member>, StoreError> {
        let items = self
            .query_all(tenancy::partition(org_id), SK_PREFIX)
            .await?;
        let mut members = items.iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
        members.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(members)
    }

    /// Records a new user of the organization and `user.invited`, in one
    /// transaction that also checks the organization is as read
    /// ([`StoreError::NotFound`] if there is none) and counts the user in
    /// its generation, so a delete running meanwhile sweeps it.
    /// [`StoreError::Conflict`] if the user is recorded already.
    pub async fn add_member(&self, member: &Member, draft: &Draft) -> Result<(), StoreError> {
        let org_id = &member.organization_id;
        for _ in 0..ATTEMPTS {
            let (_, version, _) = self
                .read_organization(org_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            let writes = vec![
                self.put_new(to_item(member))?,
                self.organization_gains_child(org_id, version)?,
                self.record(&member_event(draft, member, Action::UserInvited, None))?,
            ];
            match self.transact(writes).await? {
                None => return Ok(()),
                Some(0) => return Err(StoreError::Conflict),
                // The organization changed since it was read.
                Some(_) => continue,
            }
        }
        Err(StoreError::Conflict)
    }

    /// Gives a recorded user `role` and records `user.updated`, in one
    /// transaction conditional on the role read; the same role writes and
    /// records nothing. [`StoreError::NotFound`] if there is no such user.
    pub async fn change_member_role(
        &self,
        org_id: &OrgId,
        user_id: &str,
        role: Role,
        draft: &Draft,
    ) -> Result<Member, StoreError> {
        for _ in 0..ATTEMPTS {
            let old = self
                .get_member(org_id, user_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            if old.role == role {
                return Ok(old);
            }
            let member = Member {
                role,
                updated_at: draft.occurred_at,
                ..old.clone()
            };
            let unchanged = Condition::new("#role = :role")
                .name("#role", ROLE)
                .value(":role", s(old.role.as_str()));
            let update = Update::at(address(org_id, user_id), unchanged).set_all(Item::from([
                (ROLE.to_owned(), s(role.as_str())),
                (UPDATED_AT.to_owned(), time(member.updated_at)),
            ]));
            let event = member_event(draft, &member, Action::UserUpdated, Some(old.role));
            let writes = vec![update.transaction_write(self)?, self.record(&event)?];
            if self.transact(writes).await?.is_none() {
                return Ok(member);
            }
        }
        Err(StoreError::Conflict)
    }

    /// Deletes a user's record and records `user.removed`, in one
    /// transaction; [`StoreError::NotFound`] if it was gone already.
    pub async fn remove_member(&self, member: &Member, draft: &Draft) -> Result<(), StoreError> {
        let writes = vec![
            self.delete(address(&member.organization_id, &member.user_id), true)?,
            self.record(&member_event(draft, member, Action::UserRemoved, None))?,
        ];
        match self.transact(writes).await? {
            None => Ok(()),
            Some(_) => Err(StoreError::NotFound),
        }
    }

    /// Marks an invited user active once the identity provider says they
    /// have signed in: what they are, not a change anyone made, so no event.
    pub async fn mark_member_active(
        &self,
        org_id: &OrgId,
        user_id: &str,
    ) -> Result<(), StoreError> {
        let invited = Condition::new("#status = :invited")
            .name("#status", STATUS)
            .value(":invited", s(MemberStatus::Invited.as_str()));
        let update = Update::at(address(org_id, user_id), invited).set_all(Item::from([(
            STATUS.to_owned(),
            s(MemberStatus::Active.as_str()),
        )]));
        // A condition that failed: removed or marked meanwhile, either is fine.
        crate::dynamo::conditional(update.request(self).send().await).map(|_| ())
    }

    /// Deletes every user record of the organization (its delete), a page at
    /// a time; returns how many.
    pub(crate) async fn delete_all_members(&self, org_id: &OrgId) -> Result<usize, StoreError> {
        self.delete_prefix(tenancy::partition(org_id), SK_PREFIX)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip_and_show_no_organization_of_their_own() {
        let at = crate::wire_time::parse("2026-11-30T10:00:00.000Z").unwrap();
        let member = Member {
            user_id: "0f8c-sub".into(),
            organization_id: OrgId::parse("acme").unwrap(),
            email: "ann@acme.example".into(),
            role: Role::OrgViewer,
            status: MemberStatus::Invited,
            created_at: at,
            updated_at: at,
        };
        let item = to_item(&member);
        assert_eq!(item["PK"], s("ORG#acme"));
        assert_eq!(item["SK"], s("USER#0f8c-sub"));
        assert_eq!(from_item(&item).unwrap(), member);
        assert_eq!(
            serde_json::to_value(&member).unwrap(),
            serde_json::json!({
                "userId": "0f8c-sub", "email": "ann@acme.example", "role": "org-viewer",
                "status": "invited", "createdAt": "2026-11-30T10:00:00.000Z",
                "updatedAt": "2026-11-30T10:00:00.000Z"
            })
        );
    }
}
