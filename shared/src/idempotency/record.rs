//! The idempotency record and its conditional writes: item `ORG#<orgId>` /
//! `IDEM#<Idempotency-Key>`, `itemType = IDEMPOTENCY`, removed by TTL when its
//! retention ends. Only `idempotency/mod.rs` calls these.

use crate::dynamo::attributes::{
    CREATED_AT, ITEM_TYPE, Item, TTL, item_address, n, required_time, s, string, time,
};
use crate::dynamo::update::{Condition, Update};
use crate::dynamo::{Store, StoreError, conditional};
use crate::tenancy;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use orgkeys_api::OrgId;

const STATUS: &str = "status";
const FINGERPRINT: &str = "fingerprint";
/// The operation the key guards (for dispatch: the dispatch ID).
const OPERATION_ID: &str = "operationId";
/// The request that holds the lease now: lets a retried write recognise its own claim.
const ATTEMPT_ID: &str = "attemptId";
const LEASE_UNTIL: &str = "leaseUntil";
const RESPONSE: &str = "response";
const SK_PREFIX: &str = "IDEM#";
const IN_PROGRESS: &str = "in_progress";
const DONE: &str = "completed";

/// A record as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Record {
    pub fingerprint: String,
    pub operation_id: String,
    pub attempt_id: String,
    pub created_at: DateTime<Utc>,
    /// `None` once completed; the stored response is then in `response`.
    pub lease_until: Option<DateTime<Utc>>,
    pub response: Option<String>,
}

/// Where the record of `key` lives. `key` is the header's value.
fn address(org_id: &OrgId, key: &str) -> Item {
    item_address(tenancy::partition(org_id), format!("{SK_PREFIX}{key}"))
}

/// What a new claim writes.
pub(super) struct NewClaim<'a> {
    pub org_id: &'a OrgId,
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub attempt_id: &'a str,
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    pub(super) async fn read_idempotency(
        &self,
        org_id: &OrgId,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        let Some(item) = self.get(address(org_id, key)).await? else {
            return Ok(None);
        };
        let status = string(&item, STATUS)?;
        let text = |name| string(&item, name);
        let lease = match status.as_str() {
            IN_PROGRESS => Some(required_time(&item, LEASE_UNTIL)?),
            DONE => None,
            _ => return Err(StoreError::Corrupt(format!("unknown idempotency {STATUS}"))),
        };
        Ok(Some(Record {
            fingerprint: text(FINGERPRINT)?,
            operation_id: text(OPERATION_ID)?,
            attempt_id: text(ATTEMPT_ID)?,
            created_at: required_time(&item, CREATED_AT)?,
            response: if lease.is_none() {
                Some(text(RESPONSE)?)
            } else {
                None
            },
            lease_until: lease,
        }))
    }

    /// The write that claims a key for a new attempt, whose operation is its
    /// own: for the operation's first transaction (see `Attempt::claim_write`).
    /// `replacing` names the `createdAt` of an expired record it takes over;
    /// without it the write holds only while the key has no record.
    pub(super) fn claim_write(
        &self,
        claim: &NewClaim<'_>,
        replacing: Option<DateTime<Utc>>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut item = address(claim.org_id, claim.key);
        item.extend([
            (ITEM_TYPE.to_owned(), s("IDEMPOTENCY")),
            (STATUS.to_owned(), s(IN_PROGRESS)),
            (FINGERPRINT.to_owned(), s(claim.fingerprint)),
            (OPERATION_ID.to_owned(), s(claim.attempt_id)),
            (ATTEMPT_ID.to_owned(), s(claim.attempt_id)),
            (CREATED_AT.to_owned(), time(claim.now)),
            (LEASE_UNTIL.to_owned(), time(claim.lease_until)),
            (TTL.to_owned(), n(claim.expires_at.timestamp())),
        ]);
        let put = Put::builder().table_name(self.table()).set_item(Some(item));
        let put = match replacing {
            None => put.condition_expression("attribute_not_exists(PK)"),
            Some(created_at) => put
                .condition_expression("#created = :old")
                .expression_attribute_names("#created", CREATED_AT)
                .expression_attribute_values(":old", time(created_at)),
        };
        let put = put.build().map_err(StoreError::from_build)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Hands an in-progress record whose lease ran out to a new attempt.
    pub(super) async fn take_over_lease(
        &self,
        org_id: &OrgId,
        key: &str,
        old_lease: DateTime<Utc>,
        attempt_id: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let expired = Condition::new("#lease = :old AND #status = :progress")
            .name("#lease", LEASE_UNTIL)
            .name("#status", STATUS)
            .value(":old", time(old_lease))
            .value(":progress", s(IN_PROGRESS));
        let result = Update::at(address(org_id, key), expired)
            .set(LEASE_UNTIL, time(lease_until))
            .set(ATTEMPT_ID, s(attempt_id))
            .request(self)
            .send()
            .await;
        conditional(result)
    }

    /// Sends a [`completion`] on its own (an operation that did not take it
    /// into its last transaction).
    pub(super) async fn complete_idempotency(&self, completion: Update) -> Result<(), StoreError> {
        if conditional(completion.request(self).send().await)? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    /// Ends the lease of a failed attempt so a retry may resume at once.
    pub(super) async fn release_idempotency(
        &self,
        org_id: &OrgId,
        key: &str,
        attempt_id: &str,
    ) -> Result<(), StoreError> {
        let update = attempt_update(org_id, key, attempt_id)
            .set(LEASE_UNTIL, time(DateTime::<Utc>::UNIX_EPOCH));
        if conditional(update.request(self).send().await)? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    /// Deletes every record of the organization (its delete): a later
    /// organization with its ID starts with every key unused.
    pub(crate) async fn delete_all_idempotency(&self, org_id: &OrgId) -> Result<usize, StoreError> {
        self.delete_prefix(tenancy::partition(org_id), SK_PREFIX)
            .await
    }
}

/// Stores the response of the finished operation, for replays, while
/// `attempt_id` holds the lease.
pub(super) fn completion(org_id: &OrgId, key: &str, attempt_id: &str, response: &str) -> Update {
    attempt_update(org_id, key, attempt_id)
        .set(STATUS, s(DONE))
        .set(RESPONSE, s(response))
        .remove(LEASE_UNTIL)
}

/// An update of the record that holds only while `attempt_id` holds its lease.
fn attempt_update(org_id: &OrgId, key: &str, attempt_id: &str) -> Update {
    let holds_lease = Condition::new("#attempt = :attempt AND #status = :progress")
        .name("#attempt", ATTEMPT_ID)
        .name("#status", STATUS)
        .value(":attempt", s(attempt_id))
        .value(":progress", s(IN_PROGRESS));
    Update::at(address(org_id, key), holds_lease)
}
