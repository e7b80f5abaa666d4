//! Outbound conversations, queued for the downstream sender: item
//! `ORG#<orgId>` / `CONV#<conversationId>` with `itemType = CONVERSATION`,
//! which the sender reads from the table's stream. They leave by TTL after
//! `CONVERSATION_RETENTION_DAYS`, or with their organization. The sender
//! reports what became of each (`status`).

use crate::audit::AuditEvent;
use crate::dynamo::attributes::{
    CREATED_AT, CorruptItem, ITEM_TYPE, Item, ORG_ID, TTL, item_address, n, optional_string,
    parsed, required_time, s, stored_org_id, string, string_map, time,
};
use crate::dynamo::retention::Kept;
use crate::dynamo::update::Update;
use crate::dynamo::{BATCH_SIZE, Store, StoreError};
use crate::schedules::Channel;
use crate::tenancy;
use aws_sdk_dynamodb::types::{AttributeValue, Put, PutRequest, TransactWriteItem, WriteRequest};
use chrono::{DateTime, Utc};
use orgkeys_api::OrgId;
use serde::{Deserialize, Serialize};

mod status;

pub use status::{ConversationStatus, DeliveryError, Reported, StatusChange, StatusReport};

const CONVERSATION_ID: &str = "conversationId";
const DISPATCH_ID: &str = "dispatchId";
const SCHEDULE_ID: &str = "scheduleId";
const CHANNEL: &str = "channel";
const PHONE: &str = "phone";
const NAME: &str = "name";
const CUSTOMER_UID: &str = "customerUid";
const VARIABLES: &str = "variables";
const REFERENCE: &str = "reference";
const STATUS: &str = "status";
const SK_PREFIX: &str = "CONV#";

/// How long conversations are kept unless `CONVERSATION_RETENTION_DAYS` says otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 90;

/// Conversations, as a kind of item kept for a while.
pub enum Conversations {}

impl Kept for Conversations {
    const VARIABLE: &'static str = "CONVERSATION_RETENTION_DAYS";
    const DEFAULT_DAYS: i64 = DEFAULT_RETENTION_DAYS;
}

/// How long conversations are kept before their TTL removes them: a setting
/// of the dispatch function, read once in its `main`, passed to
/// [`Store::put_dispatch`].
pub type Retention = crate::dynamo::retention::Retention<Conversations>;

/// One contact of an outbound dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_uid: Option<String>,
    #[serde(default)]
    pub variables: std::collections::BTreeMap<String, String>,
}

/// An outbound conversation, queued for the downstream sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub organization_id: OrgId,
    pub conversation_id: String,
    pub dispatch_id: String,
    pub schedule_id: String,
    pub channel: Channel,
    pub contact: Contact,
    pub reference: Option<String>,
    pub status: ConversationStatus,
    /// Oldest first, from `queued` at `created_at`.
    pub status_history: Vec<StatusChange>,
    /// The sender's (or its provider's) ID of the message, once reported.
    pub provider_message_id: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<DeliveryError>,
    pub created_at: DateTime<Utc>,
}

fn address(org_id: &OrgId, conversation_id: &str) -> Item {
    item_address(
        tenancy::partition(org_id),
        format!("{SK_PREFIX}{conversation_id}"),
    )
}

/// The item of `conversation`, removed by TTL `retention` after its creation.
fn to_item(conversation: &Conversation, retention: chrono::Duration) -> Item {
    let contact = &conversation.contact;
    let mut item = address(&conversation.organization_id, &conversation.conversation_id);
    item.extend([
        (ITEM_TYPE.to_owned(), s("CONVERSATION")),
        (ORG_ID.to_owned(), s(&conversation.organization_id)),
        (CONVERSATION_ID.to_owned(), s(&conversation.conversation_id)),
        (DISPATCH_ID.to_owned(), s(&conversation.dispatch_id)),
        (SCHEDULE_ID.to_owned(), s(&conversation.schedule_id)),
        (CHANNEL.to_owned(), s(conversation.channel.as_str())),
        (PHONE.to_owned(), s(&contact.phone)),
        (
            VARIABLES.to_owned(),
            AttributeValue::M(
                contact
                    .variables
                    .iter()
                    .map(|(k, v)| (k.clone(), s(v)))
                    .collect(),
            ),
        ),
        (STATUS.to_owned(), s(conversation.status.as_str())),
        (CREATED_AT.to_owned(), time(conversation.created_at)),
        (
            TTL.to_owned(),
            n((conversation.created_at + retention).timestamp()),
        ),
    ]);
    let optional = [
        (NAME, &contact.name),
        (CUSTOMER_UID, &contact.customer_uid),
        (REFERENCE, &conversation.reference),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            item.insert(name.to_owned(), s(value));
        }
    }
    item
}

fn from_item(item: &Item) -> Result<Conversation, CorruptItem> {
    let created_at = required_time(item, CREATED_AT)?;
    let status = status::status_fields(item, created_at)?;
    Ok(Conversation {
        organization_id: stored_org_id(item, ORG_ID)?,
        conversation_id: string(item, CONVERSATION_ID)?,
        dispatch_id: string(item, DISPATCH_ID)?,
        schedule_id: string(item, SCHEDULE_ID)?,
        channel: parsed(item, CHANNEL)?,
        contact: Contact {
            phone: string(item, PHONE)?,
            name: optional_string(item, NAME)?,
            customer_uid: optional_string(item, CUSTOMER_UID)?,
            variables: string_map(item, VARIABLES)?,
        },
        reference: optional_string(item, REFERENCE)?,
        status: parsed(item, STATUS)?,
        status_history: status.history,
        provider_message_id: status.provider_message_id,
        error: status.error,
        created_at,
    })
}

/// Conversations as `BatchWriteItem` requests, at most 25 (DynamoDB's limit)
/// per call, each kept for `retention`. Public so the benchmark's bare
/// baseline sends the same calls.
pub fn conversation_batches(
    conversations: &[Conversation],
    retention: Retention,
) -> Result<Vec<Vec<WriteRequest>>, StoreError> {
    let items = conversations
        .iter()
        .map(|c| to_item(c, retention.duration()));
    batches(items.collect())
}

fn batches(items: Vec<Item>) -> Result<Vec<Vec<WriteRequest>>, StoreError> {
    items
        .chunks(BATCH_SIZE)
        .map(|chunk| {
            chunk
                .iter()
                .map(|item| {
                    let put = PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map_err(StoreError::from_build)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect()
        })
        .collect()
}

impl Store {
    /// Writes a dispatch's conversations, each kept for `retention`, and its
    /// `dispatch.created` event (and `also`, the write that records its
    /// answer under an `Idempotency-Key`, which then needs no call of its own):
    /// all but the last 25 conversations with `BatchWriteItem`, 25 per call,
    /// the calls in parallel; then the last ones and the event in one
    /// transaction. So the event exists only once every conversation does (a
    /// dispatch and its event are more items than one transaction takes,
    /// hence the split). Items unprocessed under throttling are retried with
    /// backoff; if some still remain the call fails, and because conversation
    /// and event IDs are derived from the dispatch, a retry rewrites the same
    /// items rather than adding any.
    pub async fn put_dispatch(
        &self,
        conversations: &[Conversation],
        event: &AuditEvent,
        retention: Retention,
        also: Option<Update>,
    ) -> Result<(), StoreError> {
        let items = conversations
            .iter()
            .map(|c| to_item(c, retention.duration()));
        let mut items: Vec<Item> = items.collect();
        let last = items.split_off(items.len().saturating_sub(BATCH_SIZE));
        let mut calls = tokio::task::JoinSet::new();
        for requests in batches(items)? {
            let store = self.clone();
            calls.spawn(async move { store.batch_write(requests).await });
        }
        while let Some(joined) = calls.join_next().await {
            joined
                .map_err(|err| StoreError::Unavailable(format!("batch task failed: {err}")))??;
        }
        // Unconditional puts: a resumed dispatch rewrites the same items.
        let mut writes = Vec::with_capacity(last.len() + 1);
        for item in last.into_iter().chain([self.audit_item(event)]) {
            let put = Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .build()
                .map_err(StoreError::from_build)?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        if let Some(update) = also {
            writes.push(update.transaction_write(self)?);
        }
        match self.transact(writes).await? {
            None => Ok(()),
            Some(_) => Err(StoreError::Conflict),
        }
    }

    /// Deletes every conversation of the organization (its delete); returns
    /// how many.
    pub(crate) async fn delete_all_conversations(
        &self,
        org_id: &OrgId,
    ) -> Result<usize, StoreError> {
        self.delete_prefix(tenancy::partition(org_id), SK_PREFIX)
            .await
    }

    pub async fn get_conversation(
        &self,
        org_id: &OrgId,
        conversation_id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let item = self.get(address(org_id, conversation_id)).await?;
        Ok(item.as_ref().map(from_item).transpose()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversations_round_trip() {
        let now = crate::wire_time::parse("2026-01-02T03:04:05.678Z").unwrap();
        let conversation = Conversation {
            organization_id: OrgId::parse("acme").unwrap(),
            conversation_id: "conv_1".into(),
            dispatch_id: "dsp_1".into(),
            schedule_id: "spring".into(),
            channel: Channel::Sms,
            contact: Contact {
                phone: "+353861234567".into(),
                name: None,
                customer_uid: Some("c-9".into()),
                variables: [("firstName".to_owned(), "Ann".to_owned())].into(),
            },
            reference: Some("batch-7".into()),
            status: ConversationStatus::Queued,
            status_history: vec![StatusChange {
                status: ConversationStatus::Queued,
                at: now,
            }],
            provider_message_id: None,
            error: None,
            created_at: now,
        };
        let item = to_item(&conversation, chrono::Duration::days(90));
        assert_eq!(item["SK"], s("CONV#conv_1"));
        assert_eq!(item[TTL], n(now.timestamp() + 90 * 86_400));
        assert_eq!(from_item(&item).unwrap(), conversation);
    }
}
