//! Every DynamoDB call orgkeys makes, behind one [`Store`]. Multi-item changes
//! are single `TransactWriteItems` calls, so a failure never leaves half a key.

use crate::items::{self, CorruptItem, Item};
use crate::key_hash::KeyHash;
use crate::models::{KeyRecord, Organization};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use std::fmt;

/// Why a store call did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A condition named an item that does not exist.
    NotFound,
    /// A condition failed because of a concurrent or earlier change.
    Conflict,
    /// An item in the table is not in the shape `items` writes.
    Corrupt(String),
    /// DynamoDB could not be reached or refused the call (timeouts, throttling,
    /// network). Security decisions fail closed on this.
    Unavailable(String),
}

impl StoreError {
    pub fn from_sdk<E, R>(err: SdkError<E, R>) -> StoreError
    where
        E: std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        StoreError::Unavailable(DisplayErrorContext(&err).to_string())
    }

    pub fn from_build(err: BuildError) -> StoreError {
        StoreError::Unavailable(err.to_string())
    }
}

impl From<CorruptItem> for StoreError {
    fn from(err: CorruptItem) -> StoreError {
        StoreError::Corrupt(err.0)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound => f.write_str("item not found"),
            StoreError::Conflict => f.write_str("conditional write conflict"),
            StoreError::Corrupt(why) => write!(f, "corrupt item: {why}"),
            StoreError::Unavailable(why) => write!(f, "DynamoDB unavailable: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// The table and the client that reaches it; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Store {
        Store {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates or updates an organization; `true` when it was created.
    /// `createdAt` survives updates.
    pub async fn put_organization(
        &self,
        org_id: &str,
        name: &str,
        parent_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Organization, bool), StoreError> {
        let stamp = items::timestamp(now);
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::organization_key(org_id)))
            .expression_attribute_names("#name", items::NAME)
            .expression_attribute_names("#orgId", items::ORG_ID)
            .expression_attribute_names("#updatedAt", items::UPDATED_AT)
            .expression_attribute_names("#createdAt", items::CREATED_AT)
            .expression_attribute_names("#parentId", items::PARENT_ID)
            .expression_attribute_values(":name", items::s(name))
            .expression_attribute_values(":orgId", items::s(org_id))
            .expression_attribute_values(":now", items::s(&stamp))
            .return_values(ReturnValue::AllOld);
        let set = "SET #name = :name, #orgId = :orgId, #updatedAt = :now, \
                   #createdAt = if_not_exists(#createdAt, :now)";
        update = match parent_id {
            Some(parent) => update
                .update_expression(format!("{set}, #parentId = :parent"))
                .expression_attribute_values(":parent", items::s(parent)),
            None => update.update_expression(format!("{set} REMOVE #parentId")),
        };
        let output = update.send().await.map_err(StoreError::from_sdk)?;
        let old = output.attributes().filter(|item| !item.is_empty());
        let created_at = match old {
            Some(item) => items::organization_from_item(item)?.created_at,
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
        let item = self.get(items::organization_key(org_id)).await?;
        Ok(item
            .as_ref()
            .map(items::organization_from_item)
            .transpose()?)
    }

    /// Writes both items of a new key, if its organization exists
    /// ([`StoreError::NotFound`] otherwise).
    pub async fn create_key(&self, record: &KeyRecord, hash: &KeyHash) -> Result<(), StoreError> {
        let writes = vec![
            self.org_must_exist(&record.organization_id)?,
            self.put_new(items::key_lookup_item(record, hash))?,
            self.put_new(items::org_key_item(record, hash))?,
        ];
        match self.transact(writes).await? {
            None => Ok(()),
            Some(0) => Err(StoreError::NotFound),
            Some(_) => Err(StoreError::Conflict),
        }
    }

    /// The organization's keys, oldest first, read consistently.
    pub async fn list_keys(&self, org_id: &str) -> Result<Vec<KeyRecord>, StoreError> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", items::PK)
                .expression_attribute_names("#sk", items::SK)
                .expression_attribute_values(":pk", items::s(items::org_pk(org_id)))
                .expression_attribute_values(":prefix", items::s(items::ORG_KEY_SK_PREFIX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            for item in page.items() {
                records.push(items::key_record_from_item(item)?);
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        records.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.key_id.cmp(&b.key_id))
        });
        Ok(records)
    }

    /// The organization's copy of one key and the hash that finds its twin.
    pub async fn get_org_key(
        &self,
        org_id: &str,
        key_id: &str,
    ) -> Result<Option<(KeyRecord, KeyHash)>, StoreError> {
        let Some(item) = self.get(items::org_key_key(org_id, key_id)).await? else {
            return Ok(None);
        };
        Ok(Some((
            items::key_record_from_item(&item)?,
            items::key_hash_from_item(&item)?,
        )))
    }

    /// Deletes both items of a key in one transaction; after it returns, the
    /// authorizer's consistent read no longer finds the key.
    pub async fn delete_key(&self, org_id: &str, key_id: &str) -> Result<(), StoreError> {
        let (_, hash) = self
            .get_org_key(org_id, key_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let delete =
            |key: Item, condition: Option<&str>| -> Result<TransactWriteItem, StoreError> {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    .set_condition_expression(condition.map(str::to_owned))
                    .build()
                    .map_err(StoreError::from_build)?;
                Ok(TransactWriteItem::builder().delete(delete).build())
            };
        let writes = vec![
            delete(
                items::org_key_key(org_id, key_id),
                Some("attribute_exists(PK)"),
            )?,
            delete(items::key_lookup_key(&hash), None)?,
        ];
        match self.transact(writes).await? {
            None => Ok(()),
            Some(_) => Err(StoreError::NotFound),
        }
    }

    /// Replaces `old` with `successor` in one transaction: both items of the
    /// successor are written and both items of `old` get `old_expires_at` and
    /// `rolledTo`. A key can be rolled once: a second roll, concurrent or not,
    /// is a [`StoreError::Conflict`].
    pub async fn roll_key(
        &self,
        old: &KeyRecord,
        old_hash: &KeyHash,
        old_expires_at: DateTime<Utc>,
        successor: &KeyRecord,
        successor_hash: &KeyHash,
    ) -> Result<(), StoreError> {
        let retire = |key: Item| -> Result<TransactWriteItem, StoreError> {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key))
                .update_expression("SET #exp = :exp, #ttl = :ttl, #rolled = :rolled")
                .condition_expression("attribute_exists(PK) AND attribute_not_exists(#rolled)")
                .expression_attribute_names("#exp", items::EXPIRES_AT)
                .expression_attribute_names("#ttl", items::TTL)
                .expression_attribute_names("#rolled", items::ROLLED_TO)
                .expression_attribute_values(":exp", items::s(items::timestamp(old_expires_at)))
                .expression_attribute_values(":ttl", items::key_ttl(old_expires_at))
                .expression_attribute_values(":rolled", items::s(&successor.key_id))
                .build()
                .map_err(StoreError::from_build)?;
            Ok(TransactWriteItem::builder().update(update).build())
        };
        let writes = vec![
            retire(items::org_key_key(&old.organization_id, &old.key_id))?,
            retire(items::key_lookup_key(old_hash))?,
            self.put_new(items::key_lookup_item(successor, successor_hash))?,
            self.put_new(items::org_key_item(successor, successor_hash))?,
        ];
        match self.transact(writes).await? {
            None => Ok(()),
            Some(_) => Err(StoreError::Conflict),
        }
    }

    /// The authorizer's lookup: one strongly consistent `GetItem` on the hash,
    /// so a deleted key is unknown at once.
    pub async fn find_key(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, StoreError> {
        let item = self.get(items::key_lookup_key(hash)).await?;
        Ok(item.as_ref().map(items::key_record_from_item).transpose()?)
    }

    /// Stamps `lastUsedAt` on the organization's copy of a key; a key deleted
    /// meanwhile is left deleted (the write is conditional).
    pub async fn record_key_use(
        &self,
        org_id: &str,
        key_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::org_key_key(org_id, key_id)))
            .update_expression("SET #used = :at")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#used", items::LAST_USED_AT)
            .expression_attribute_values(":at", items::s(items::timestamp(at)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(StoreError::from_sdk(err)),
        }
    }

    async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        Ok(output.item)
    }

    fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(StoreError::from_build)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn org_must_exist(&self, org_id: &str) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(items::organization_key(org_id)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(StoreError::from_build)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Runs a transaction. `Ok(None)` when it committed; `Ok(Some(i))` when it
    /// was cancelled because the condition of write `i` failed.
    async fn transact(&self, writes: Vec<TransactWriteItem>) -> Result<Option<usize>, StoreError> {
        let err = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => return Ok(None),
            Err(err) => err,
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        {
            let failed = cancelled
                .cancellation_reasons()
                .iter()
                .position(|reason| reason.code() == Some("ConditionalCheckFailed"));
            if let Some(index) = failed {
                return Ok(Some(index));
            }
        }
        Err(StoreError::from_sdk(err))
    }
}

/// The generic answer for a store failure a handler did not map itself:
/// conflicts and absences keep their meaning, the rest is logged and becomes
/// a 500 whose body says nothing about the cause.
impl From<StoreError> for crate::problem::Problem {
    fn from(err: StoreError) -> crate::problem::Problem {
        use crate::problem::Problem;
        match err {
            StoreError::NotFound => Problem::not_found("the resource does not exist"),
            StoreError::Conflict => {
                Problem::conflict("the resource was changed by another request")
            }
            StoreError::Corrupt(_) | StoreError::Unavailable(_) => {
                tracing::error!(error = %err, "store call failed");
                Problem::internal()
            }
        }
    }
}
