//! Organizations: the tenants that own keys, schedules and conversations.
//! Every item an organization owns lives in its partition `ORG#<orgId>`; the
//! organization itself is the item with sort key `ORG`.

use crate::audit::{Action, Draft, Target, TargetType, details};
use crate::dynamo::attributes::{
    CREATED_AT, Item, ORG_ID, UPDATED_AT, item_address, optional_string, required_time, s, string,
    time,
};
use crate::dynamo::{Store, StoreError};
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::{DateTime, Utc};

const NAME: &str = "name";
const PARENT_ID: &str = "parentId";
const SK: &str = "ORG";

/// An organization: the tenant that owns keys, schedules and conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub organization_id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The partition key of everything `org_id` owns.
pub fn partition(org_id: &str) -> String {
    format!("ORG#{org_id}")
}

fn address(org_id: &str) -> Item {
    item_address(partition(org_id), SK.to_owned())
}

fn from_item(item: &Item) -> Result<Organization, crate::dynamo::attributes::CorruptItem> {
    Ok(Organization {
        organization_id: string(item, ORG_ID)?,
        name: string(item, NAME)?,
        parent_id: optional_string(item, PARENT_ID)?,
        created_at: required_time(item, CREATED_AT)?,
        updated_at: required_time(item, UPDATED_AT)?,
    })
}

impl Store {
    /// Creates or updates an organization and records `organization.created`
    /// or `organization.updated`, in one transaction; `true` when it was
    /// created. `createdAt` survives updates. The write is conditional on what
    /// was read, so a concurrent create or update makes it read again.
    pub async fn put_organization(
        &self,
        org_id: &str,
        name: &str,
        parent_id: Option<&str>,
        draft: &Draft,
    ) -> Result<(Organization, bool), StoreError> {
        let now = draft.occurred_at;
        for _ in 0..3 {
            let existing = self.get_organization(org_id).await?;
            let (action, created_at) = match &existing {
                None => (Action::OrganizationCreated, now),
                Some(old) => (Action::OrganizationUpdated, old.created_at),
            };
            let set =
                "SET #name = :name, #orgId = :orgId, #updatedAt = :now, #createdAt = :created";
            let mut update = Update::builder()
                .table_name(self.table())
                .set_key(Some(address(org_id)))
                .expression_attribute_names("#name", NAME)
                .expression_attribute_names("#orgId", ORG_ID)
                .expression_attribute_names("#updatedAt", UPDATED_AT)
                .expression_attribute_names("#createdAt", CREATED_AT)
                .expression_attribute_names("#parentId", PARENT_ID)
                .expression_attribute_values(":name", s(name))
                .expression_attribute_values(":orgId", s(org_id))
                .expression_attribute_values(":now", time(now))
                .expression_attribute_values(":created", time(created_at));
            update = match parent_id {
                Some(parent) => update
                    .update_expression(format!("{set}, #parentId = :parent"))
                    .expression_attribute_values(":parent", s(parent)),
                None => update.update_expression(format!("{set} REMOVE #parentId")),
            };
            update = match &existing {
                None => update.condition_expression("attribute_not_exists(PK)"),
                Some(_) => update.condition_expression("#createdAt = :created"),
            };
            let update = update.build().map_err(StoreError::from_build)?;
            let event = draft.event(
                org_id,
                action,
                Target::new(TargetType::Organization, org_id),
                details([("name", name.into()), ("parentId", parent_id.into())]),
            );
            let writes = vec![
                TransactWriteItem::builder().update(update).build(),
                self.record(&event)?,
            ];
            if self.transact(writes).await?.is_none() {
                let organization = Organization {
                    organization_id: org_id.to_owned(),
                    name: name.to_owned(),
                    parent_id: parent_id.map(str::to_owned),
                    created_at,
                    updated_at: now,
                };
                return Ok((organization, existing.is_none()));
            }
        }
        Err(StoreError::Conflict)
    }

    pub async fn get_organization(&self, org_id: &str) -> Result<Option<Organization>, StoreError> {
        let item = self.get(address(org_id)).await?;
        Ok(item.as_ref().map(from_item).transpose()?)
    }

    /// A transaction write that holds only while the organization exists.
    pub(crate) fn organization_must_exist(
        &self,
        org_id: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        self.must_exist(address(org_id))
    }
}
