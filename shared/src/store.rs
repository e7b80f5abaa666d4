//! Every DynamoDB call orgkeys makes, behind one [`Store`]. Multi-item changes
//! are single `TransactWriteItems` calls, so a failure never leaves half a key.

use crate::items::{self, CorruptItem, Item};
use crate::key_hash::KeyHash;
use crate::models::{Channel, Conversation, KeyRecord, Organization, Schedule, ScheduleStatus};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Put, PutRequest, ReturnValue, TransactWriteItem, Update, WriteRequest,
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
                .org_items(org_id, items::ORG_KEY_SK_PREFIX)
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
        // A key deleted meanwhile stays deleted: the failed condition is fine.
        conditional(result).map(|_| ())
    }

    /// Creates or replaces a schedule, keeping `createdAt`; `true` when created.
    /// The caller checks that the organization exists (organizations are never deleted).
    pub async fn put_schedule(&self, schedule: &Schedule) -> Result<(Schedule, bool), StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::schedule_key(
                &schedule.organization_id,
                &schedule.schedule_id,
            )))
            .return_values(ReturnValue::AllOld);
        let mut sets = Vec::new();
        for (i, (name, value)) in items::schedule_attributes(schedule).into_iter().enumerate() {
            sets.push(format!("#a{i} = :v{i}"));
            update = update
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(format!(":v{i}"), value);
        }
        let output = update
            .update_expression(format!(
                "SET {}, #created = if_not_exists(#created, :now)",
                sets.join(", ")
            ))
            .expression_attribute_names("#created", items::CREATED_AT)
            .expression_attribute_values(":now", items::s(items::timestamp(schedule.updated_at)))
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        let old = output.attributes().filter(|item| !item.is_empty());
        let mut saved = schedule.clone();
        if let Some(old) = old {
            saved.created_at = items::schedule_from_item(old)?.created_at;
        }
        Ok((saved, old.is_none()))
    }

    pub async fn get_schedule(
        &self,
        org_id: &str,
        schedule_id: &str,
    ) -> Result<Option<Schedule>, StoreError> {
        let item = self.get(items::schedule_key(org_id, schedule_id)).await?;
        Ok(item.as_ref().map(items::schedule_from_item).transpose()?)
    }

    /// Deletes a schedule; [`StoreError::NotFound`] if there was none.
    pub async fn delete_schedule(&self, org_id: &str, schedule_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(items::schedule_key(org_id, schedule_id)))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await;
        if conditional(result)? {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// One page of an organization's schedules in ID order, at most `limit`,
    /// resuming after the schedule ID `after`. Returns the page and, when more
    /// may follow, the ID to resume after.
    pub async fn list_schedules(
        &self,
        org_id: &str,
        filter: &ScheduleFilter,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<Schedule>, Option<String>), StoreError> {
        let mut found = Vec::new();
        let mut start = after.map(|id| items::schedule_key(org_id, id));
        loop {
            let mut query = self
                .org_items(org_id, items::SCHEDULE_SK_PREFIX)
                .set_exclusive_start_key(start);
            let mut conditions = Vec::new();
            if let Some(status) = filter.status {
                conditions.push("#status = :status");
                query = query
                    .expression_attribute_names("#status", items::STATUS)
                    .expression_attribute_values(":status", items::s(status.as_str()));
            }
            if let Some(channel) = filter.channel {
                conditions.push("#channel = :channel");
                query = query
                    .expression_attribute_names("#channel", items::CHANNEL)
                    .expression_attribute_values(":channel", items::s(channel.as_str()));
            }
            if conditions.is_empty() {
                // Without a filter every item read is returned: read no more than needed.
                query = query.limit((limit - found.len()) as i32);
            } else {
                query = query.filter_expression(conditions.join(" AND "));
            }
            let page = query.send().await.map_err(StoreError::from_sdk)?;
            let more_in_table = page.last_evaluated_key().is_some();
            for (index, item) in page.items().iter().enumerate() {
                found.push(items::schedule_from_item(item)?);
                if found.len() == limit {
                    let more = more_in_table || index + 1 < page.items().len();
                    let next = more.then(|| found[limit - 1].schedule_id.clone());
                    return Ok((found, next));
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok((found, None));
            }
        }
    }

    /// Writes conversations with `BatchWriteItem`, 25 per call, the calls in
    /// parallel. Items unprocessed under throttling are retried with backoff;
    /// if some still remain the call fails, and because conversation IDs are
    /// deterministic a retry rewrites the same items rather than adding any.
    pub async fn put_conversations(
        &self,
        conversations: &[Conversation],
    ) -> Result<(), StoreError> {
        let mut batches = tokio::task::JoinSet::new();
        for requests in conversation_batches(conversations)? {
            let store = self.clone();
            batches.spawn(async move { store.batch_write(requests).await });
        }
        while let Some(joined) = batches.join_next().await {
            joined
                .map_err(|err| StoreError::Unavailable(format!("batch task failed: {err}")))??;
        }
        Ok(())
    }

    async fn batch_write(&self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for attempt in 0..BATCH_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            requests = output
                .unprocessed_items
                .and_then(|mut left| left.remove(&self.table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable(format!(
            "{} conversation writes still unprocessed after {BATCH_ATTEMPTS} attempts",
            requests.len()
        )))
    }

    pub async fn get_conversation(
        &self,
        org_id: &str,
        conversation_id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let item = self
            .get(items::conversation_key(org_id, conversation_id))
            .await?;
        Ok(item
            .as_ref()
            .map(items::conversation_from_item)
            .transpose()?)
    }

    /// Claims an `Idempotency-Key` for a request with `fingerprint`. See [`Claim`].
    pub async fn claim_idempotency(
        &self,
        request: &IdempotentRequest<'_>,
    ) -> Result<Claim, StoreError> {
        for _ in 0..3 {
            let key = items::idempotency_key(request.org_id, request.key);
            let Some(existing) = self.get(key.clone()).await? else {
                if self.put_claim(request, None).await? {
                    return Ok(Claim::Fresh);
                }
                continue;
            };
            let text = |name| items::attribute_string(&existing, name);
            let created_at = text(items::CREATED_AT)?;
            let created = chrono::DateTime::parse_from_rfc3339(&created_at)
                .map_err(|_| StoreError::Corrupt("idempotency createdAt".into()))?;
            if created.with_timezone(&Utc) + request.retention <= request.now {
                // Past its retention but not yet removed by TTL: the key is free again.
                if self.put_claim(request, Some(&created_at)).await? {
                    return Ok(Claim::Fresh);
                }
                continue;
            }
            if text(items::FINGERPRINT)? != request.fingerprint {
                return Ok(Claim::Mismatch);
            }
            if text(items::STATUS)? == IDEMPOTENCY_DONE {
                return Ok(Claim::Replay(text(items::RESPONSE)?));
            }
            let lease = text(items::LEASE_UNTIL)?;
            if lease > items::timestamp(request.now) {
                return Ok(Claim::InFlight);
            }
            // The previous attempt died or gave up: resume its dispatch.
            if self.renew_lease(request, &lease).await? {
                return Ok(Claim::Resume {
                    dispatch_id: text(items::DISPATCH_ID)?,
                    created_at: created.with_timezone(&Utc),
                });
            }
            return Ok(Claim::InFlight);
        }
        Err(StoreError::Conflict)
    }

    /// Writes a new claim; `false` when someone else's claim got there first.
    async fn put_claim(
        &self,
        request: &IdempotentRequest<'_>,
        replacing: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut item = items::idempotency_key(request.org_id, request.key);
        item.extend([
            (items::ITEM_TYPE.to_owned(), items::s("IDEMPOTENCY")),
            (items::STATUS.to_owned(), items::s(IDEMPOTENCY_IN_PROGRESS)),
            (items::FINGERPRINT.to_owned(), items::s(request.fingerprint)),
            (items::DISPATCH_ID.to_owned(), items::s(request.dispatch_id)),
            (
                items::CREATED_AT.to_owned(),
                items::s(items::timestamp(request.now)),
            ),
            (
                items::LEASE_UNTIL.to_owned(),
                items::s(items::timestamp(request.now + request.lease)),
            ),
            (
                items::TTL.to_owned(),
                items::n((request.now + request.retention).timestamp()),
            ),
        ]);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let put = match replacing {
            None => put.condition_expression("attribute_not_exists(PK)"),
            Some(created_at) => put
                .condition_expression("#created = :old")
                .expression_attribute_names("#created", items::CREATED_AT)
                .expression_attribute_values(":old", items::s(created_at)),
        };
        conditional(put.send().await)
    }

    async fn renew_lease(
        &self,
        request: &IdempotentRequest<'_>,
        old_lease: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::idempotency_key(request.org_id, request.key)))
            .update_expression("SET #lease = :new")
            .condition_expression("#lease = :old AND #status = :progress")
            .expression_attribute_names("#lease", items::LEASE_UNTIL)
            .expression_attribute_names("#status", items::STATUS)
            .expression_attribute_values(
                ":new",
                items::s(items::timestamp(request.now + request.lease)),
            )
            .expression_attribute_values(":old", items::s(old_lease))
            .expression_attribute_values(":progress", items::s(IDEMPOTENCY_IN_PROGRESS))
            .send()
            .await;
        conditional(result)
    }

    /// Stores the response of a finished request under its key, for replays.
    pub async fn complete_idempotency(
        &self,
        org_id: &str,
        key: &str,
        dispatch_id: &str,
        response: &str,
    ) -> Result<(), StoreError> {
        self.update_claim(
            org_id,
            key,
            dispatch_id,
            "SET #status = :done, #response = :response REMOVE #lease",
            Some(response),
        )
        .await
    }

    /// Ends the lease of a failed attempt so a retry may resume at once.
    pub async fn release_idempotency(
        &self,
        org_id: &str,
        key: &str,
        dispatch_id: &str,
    ) -> Result<(), StoreError> {
        self.update_claim(org_id, key, dispatch_id, "SET #lease = :released", None)
            .await
    }

    /// Forgets a claim whose request was refused before anything was written,
    /// so the key can be used again.
    pub async fn abandon_idempotency(
        &self,
        org_id: &str,
        key: &str,
        dispatch_id: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(items::idempotency_key(org_id, key)))
            .condition_expression("#dispatch = :dispatch AND #status = :progress")
            .expression_attribute_names("#dispatch", items::DISPATCH_ID)
            .expression_attribute_names("#status", items::STATUS)
            .expression_attribute_values(":dispatch", items::s(dispatch_id))
            .expression_attribute_values(":progress", items::s(IDEMPOTENCY_IN_PROGRESS))
            .send()
            .await;
        conditional(result).map(|_| ())
    }

    async fn update_claim(
        &self,
        org_id: &str,
        key: &str,
        dispatch_id: &str,
        expression: &str,
        response: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::idempotency_key(org_id, key)))
            .update_expression(expression)
            .condition_expression("#dispatch = :dispatch AND #status = :progress")
            .expression_attribute_names("#dispatch", items::DISPATCH_ID)
            .expression_attribute_names("#status", items::STATUS)
            .expression_attribute_names("#lease", items::LEASE_UNTIL)
            .expression_attribute_values(":dispatch", items::s(dispatch_id))
            .expression_attribute_values(":progress", items::s(IDEMPOTENCY_IN_PROGRESS));
        update = match response {
            Some(response) => update
                .expression_attribute_names("#response", items::RESPONSE)
                .expression_attribute_values(":done", items::s(IDEMPOTENCY_DONE))
                .expression_attribute_values(":response", items::s(response)),
            None => update.expression_attribute_values(
                ":released",
                items::s(items::timestamp(DateTime::<Utc>::UNIX_EPOCH)),
            ),
        };
        if conditional(update.send().await)? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    /// A consistent Query for the items of one kind in an organization's
    /// partition: those whose sort key starts with `prefix`.
    fn org_items(&self, org_id: &str, prefix: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", items::PK)
            .expression_attribute_names("#sk", items::SK)
            .expression_attribute_values(":pk", items::s(items::org_pk(org_id)))
            .expression_attribute_values(":prefix", items::s(prefix))
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

/// Unprocessed-item retries of one `BatchWriteItem` chunk before giving up.
const BATCH_ATTEMPTS: u32 = 5;
const IDEMPOTENCY_IN_PROGRESS: &str = "in_progress";
const IDEMPOTENCY_DONE: &str = "completed";

/// Filters of a schedule listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScheduleFilter {
    pub status: Option<ScheduleStatus>,
    pub channel: Option<Channel>,
}

/// One request under an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdempotentRequest<'a> {
    pub org_id: &'a str,
    pub key: &'a str,
    /// Identifies the request body: same key, other fingerprint is a misuse.
    pub fingerprint: &'a str,
    /// The dispatch this request starts if the key is fresh.
    pub dispatch_id: &'a str,
    pub now: DateTime<Utc>,
    /// How long an attempt holds the key before another may resume it.
    pub lease: chrono::Duration,
    /// How long the key is remembered.
    pub retention: chrono::Duration,
}

/// What a claimed `Idempotency-Key` lets the request do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: go ahead with the request's own dispatch ID.
    Fresh,
    /// An earlier attempt with the same body failed midway: finish its dispatch.
    Resume {
        dispatch_id: String,
        created_at: DateTime<Utc>,
    },
    /// Done before: answer with this stored response.
    Replay(String),
    /// Another attempt holds the key right now.
    InFlight,
    /// The key was used with a different body.
    Mismatch,
}

/// Conversations as `BatchWriteItem` requests, at most 25 (DynamoDB's limit)
/// per call. Public so the benchmark's bare baseline sends the same calls.
pub fn conversation_batches(
    conversations: &[Conversation],
) -> Result<Vec<Vec<WriteRequest>>, StoreError> {
    conversations
        .chunks(25)
        .map(|chunk| {
            chunk
                .iter()
                .map(|c| {
                    let put = PutRequest::builder()
                        .set_item(Some(items::conversation_item(c)))
                        .build()
                        .map_err(StoreError::from_build)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect()
        })
        .collect()
}

/// `Ok(true)` when a conditional write happened, `Ok(false)` when its condition failed.
fn conditional<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err)
            if err.as_service_error().and_then(|e| e.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(err) => Err(StoreError::from_sdk(err)),
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
