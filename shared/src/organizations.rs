//! Organizations: the tenants that own keys, schedules and conversations.
//! Every item an organization owns lives in its partition `ORG#<orgId>`; the
//! organization itself is the item with sort key `ORG`.

use crate::dynamo::attributes::{
    CREATED_AT, Item, ORG_ID, UPDATED_AT, item_address, optional_string, required_time, s, string,
    time,
};
use crate::dynamo::{Store, StoreError};
use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem};
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
    /// Creates or updates an organization; `true` when it was created.
    /// `createdAt` survives updates.
    pub async fn put_organization(
        &self,
        org_id: &str,
        name: &str,
        parent_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Organization, bool), StoreError> {
        let mut update = self
            .client()
            .update_item()
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
            .return_values(ReturnValue::AllOld);
        let set = "SET #name = :name, #orgId = :orgId, #updatedAt = :now, \
                   #createdAt = if_not_exists(#createdAt, :now)";
        update = match parent_id {
            Some(parent) => update
                .update_expression(format!("{set}, #parentId = :parent"))
                .expression_attribute_values(":parent", s(parent)),
            None => update.update_expression(format!("{set} REMOVE #parentId")),
        };
        let output = update.send().await.map_err(StoreError::from_sdk)?;
        let old = output.attributes().filter(|item| !item.is_empty());
        let created_at = match old {
            Some(item) => from_item(item)?.created_at,
            None => now,
        };
        let organization = Organization {
            organization_id: org_id.to_owned(),
            name: name.to_owned(),
            parent_id: parent_id.map(str::to_owned),
            created_at,
            updated_at: now,
        };
        Ok((organization, old.is_none()))
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
