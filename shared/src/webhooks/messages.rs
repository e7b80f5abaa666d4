//! The delivery log: item `ORG#<orgId>` / `WHMSG#<endpointId>#<messageId>`
//! (`itemType = WEBHOOK_MESSAGE`) per event and endpoint, written by its
//! first attempt and updated by each next one (status, next attempt, the
//! attempt appended), so one Query lists an endpoint's messages newest
//! first (message IDs sort by time). Messages leave by TTL after
//! `WEBHOOK_RETENTION_DAYS`.
//!
//! A test event or a resend asked for by an admin is a request item
//! `ORG#<orgId>` / `WHREQ#<messageId>` (`itemType = WEBHOOK_REQUEST`) that
//! the stream carries to the webhooks function like an audit event: the
//! handlers write to the table only, and one function sends.

use crate::dynamo::attributes::{
    CREATED_AT, CorruptItem, ITEM_TYPE, Item, ORG_ID, TTL, item_address, n, optional_number,
    optional_string, optional_time, parsed, required_time, s, stored_org_id, string, time,
};
use crate::dynamo::retention::Kept;
use crate::dynamo::{Store, StoreError};
use crate::tenancy;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use orgkeys_api::OrgId;
use orgkeys_api::wire_enum as names;
use serde::Serialize;

const SK_PREFIX: &str = "WHMSG#";
const REQUEST_SK_PREFIX: &str = "WHREQ#";
/// The item type of a message.
pub const MESSAGE_ITEM_TYPE: &str = "WEBHOOK_MESSAGE";
/// The item type of a request for a test event or a resend.
pub const REQUEST_ITEM_TYPE: &str = "WEBHOOK_REQUEST";
const MESSAGE_ID: &str = "messageId";
const ENDPOINT_ID: &str = "endpointId";
const EVENT_TYPE: &str = "eventType";
const STATUS: &str = "status";
const NEXT_ATTEMPT_AT: &str = "nextAttemptAt";
const ATTEMPTS: &str = "attempts";
const PAYLOAD: &str = "payload";
const ONCE: &str = "once";

/// How long messages are kept unless `WEBHOOK_RETENTION_DAYS` says otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;
/// A request item is read from the stream within seconds; it is kept a day.
const REQUEST_RETENTION: Duration = Duration::days(1);

/// Webhook messages and their attempts, as a kind of item kept for a while.
pub enum Messages {}

impl Kept for Messages {
    const VARIABLE: &'static str = "WEBHOOK_RETENTION_DAYS";
    const DEFAULT_DAYS: i64 = DEFAULT_RETENTION_DAYS;
}

/// How long messages and their attempts are kept.
pub type Retention = crate::dynamo::retention::Retention<Messages>;

names!(
    /// Where a message stands.
    MessageStatus { Pending => "pending", Delivered => "delivered", Failed => "failed" }
);

/// One attempt, as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    pub at: String,
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    pub error: Option<String>,
    /// The start of the response's body, as text (at most 1 KiB).
    pub response_body: Option<String>,
}

/// A message and its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub organization_id: OrgId,
    pub endpoint_id: String,
    pub message_id: String,
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    pub status: MessageStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: Vec<AttemptRecord>,
    /// The body delivered (and delivered again by a resend).
    pub payload: String,
}

/// A message to send to one endpoint, as the queue carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRequest {
    pub organization_id: OrgId,
    pub endpoint_id: String,
    pub message_id: String,
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    pub payload: String,
    /// One attempt and no retries (a resend).
    pub once: bool,
}

fn message_address(org_id: &OrgId, endpoint_id: &str, message_id: &str) -> Item {
    item_address(
        tenancy::partition(org_id),
        format!("{SK_PREFIX}{endpoint_id}#{message_id}"),
    )
}

fn attempt_value(attempt: &AttemptRecord) -> AttributeValue {
    let mut map = Item::from([
        ("at".to_owned(), s(&attempt.at)),
        (
            "durationMs".to_owned(),
            n(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX)),
        ),
    ]);
    if let Some(code) = attempt.status_code {
        map.insert("statusCode".to_owned(), n(i64::from(code)));
    }
    if let Some(error) = &attempt.error {
        map.insert("error".to_owned(), s(error));
    }
    if let Some(body) = &attempt.response_body {
        map.insert("responseBody".to_owned(), s(body));
    }
    AttributeValue::M(map)
}

fn attempt_of(value: &AttributeValue) -> Result<AttemptRecord, CorruptItem> {
    let AttributeValue::M(map) = value else {
        return Err(CorruptItem("an attempt is not a map".into()));
    };
    Ok(AttemptRecord {
        at: string(map, "at")?,
        status_code: optional_number(map, "statusCode")?.and_then(|c| u16::try_from(c).ok()),
        duration_ms: optional_number(map, "durationMs")?
            .and_then(|d| u64::try_from(d).ok())
            .unwrap_or(0),
        error: optional_string(map, "error")?,
        response_body: optional_string(map, "responseBody")?,
    })
}

fn message_of(item: &Item) -> Result<Message, CorruptItem> {
    let attempts = match item.get(ATTEMPTS) {
        Some(AttributeValue::L(values)) => {
            values.iter().map(attempt_of).collect::<Result<_, _>>()?
        }
        _ => Vec::new(),
    };
    Ok(Message {
        organization_id: stored_org_id(item, ORG_ID)?,
        endpoint_id: string(item, ENDPOINT_ID)?,
        message_id: string(item, MESSAGE_ID)?,
        event_type: string(item, EVENT_TYPE)?,
        created_at: required_time(item, CREATED_AT)?,
        status: parsed(item, STATUS)?,
        next_attempt_at: optional_time(item, NEXT_ATTEMPT_AT)?,
        attempts,
        payload: string(item, PAYLOAD)?,
    })
}

impl DeliveryRequest {
    /// The request a request item holds, as the stream brings it.
    pub fn from_item(item: &Item) -> Result<DeliveryRequest, CorruptItem> {
        Ok(DeliveryRequest {
            organization_id: stored_org_id(item, ORG_ID)?,
            endpoint_id: string(item, ENDPOINT_ID)?,
            message_id: string(item, MESSAGE_ID)?,
            event_type: string(item, EVENT_TYPE)?,
            created_at: required_time(item, CREATED_AT)?,
            payload: string(item, PAYLOAD)?,
            once: crate::dynamo::attributes::optional_bool(item, ONCE)?.unwrap_or(false),
        })
    }

    fn to_item(&self, now: DateTime<Utc>) -> Item {
        let mut item = item_address(
            tenancy::partition(&self.organization_id),
            format!(
                "{REQUEST_SK_PREFIX}{}#{}",
                self.message_id,
                crate::wire_time::format(now)
            ),
        );
        item.extend([
            (ITEM_TYPE.to_owned(), s(REQUEST_ITEM_TYPE)),
            (ORG_ID.to_owned(), s(&self.organization_id)),
            (ENDPOINT_ID.to_owned(), s(&self.endpoint_id)),
            (MESSAGE_ID.to_owned(), s(&self.message_id)),
            (EVENT_TYPE.to_owned(), s(&self.event_type)),
            (CREATED_AT.to_owned(), time(self.created_at)),
            (PAYLOAD.to_owned(), s(&self.payload)),
            (ONCE.to_owned(), AttributeValue::Bool(self.once)),
            (TTL.to_owned(), n((now + REQUEST_RETENTION).timestamp())),
        ]);
        item
    }
}

/// What one attempt leaves in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub attempt: AttemptRecord,
    /// The status after it; `None` keeps the message's own (a resend that
    /// failed leaves a message as it was).
    pub status: Option<MessageStatus>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Asks for `request` to be delivered: a test event or a resend. The
    /// stream brings it to the webhooks function.
    pub async fn request_delivery(
        &self,
        request: &DeliveryRequest,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(request.to_item(now)))
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        Ok(())
    }

    /// Appends an attempt to the message of `request`, creating it on the
    /// first, with the status and next attempt `outcome` says.
    pub async fn record_attempt(
        &self,
        request: &DeliveryRequest,
        outcome: &Outcome,
        retention: Retention,
    ) -> Result<(), StoreError> {
        let address = message_address(
            &request.organization_id,
            &request.endpoint_id,
            &request.message_id,
        );
        let mut set = vec![
            "#org = :org",
            "#endpoint = :endpoint",
            "#message = :message",
            "#type = :type",
            "#created = if_not_exists(#created, :created)",
            "#payload = if_not_exists(#payload, :payload)",
            "#itemType = :itemType",
            "#ttl = if_not_exists(#ttl, :ttl)",
            "#attempts = list_append(if_not_exists(#attempts, :none), :attempt)",
        ];
        let status = match outcome.status {
            Some(status) => (":status", s(status.as_str())),
            // Kept as it is; a first attempt of a resend has nothing to keep.
            None => (":status", s(MessageStatus::Failed.as_str())),
        };
        set.push(if outcome.status.is_some() {
            "#status = :status"
        } else {
            "#status = if_not_exists(#status, :status)"
        });
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(address))
            .expression_attribute_names("#org", ORG_ID)
            .expression_attribute_names("#endpoint", ENDPOINT_ID)
            .expression_attribute_names("#message", MESSAGE_ID)
            .expression_attribute_names("#type", EVENT_TYPE)
            .expression_attribute_names("#created", CREATED_AT)
            .expression_attribute_names("#payload", PAYLOAD)
            .expression_attribute_names("#itemType", ITEM_TYPE)
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_names("#attempts", ATTEMPTS)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_values(":org", s(&request.organization_id))
            .expression_attribute_values(":endpoint", s(&request.endpoint_id))
            .expression_attribute_values(":message", s(&request.message_id))
            .expression_attribute_values(":type", s(&request.event_type))
            .expression_attribute_values(":created", time(request.created_at))
            .expression_attribute_values(":payload", s(&request.payload))
            .expression_attribute_values(":itemType", s(MESSAGE_ITEM_TYPE))
            .expression_attribute_values(
                ":ttl",
                n((request.created_at + retention.duration()).timestamp()),
            )
            .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
            .expression_attribute_values(
                ":attempt",
                AttributeValue::L(vec![attempt_value(&outcome.attempt)]),
            )
            .expression_attribute_values(status.0, status.1);
        let expression = match outcome.next_attempt_at {
            Some(at) => {
                set.push("#next = :next");
                update = update
                    .expression_attribute_names("#next", NEXT_ATTEMPT_AT)
                    .expression_attribute_values(":next", time(at));
                format!("SET {}", set.join(", "))
            }
            None => {
                update = update.expression_attribute_names("#next", NEXT_ATTEMPT_AT);
                format!("SET {} REMOVE #next", set.join(", "))
            }
        };
        update
            .update_expression(expression)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        Ok(())
    }

    /// One message of an endpoint.
    pub async fn get_message(
        &self,
        org_id: &OrgId,
        endpoint_id: &str,
        message_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        Ok(self
            .get(message_address(org_id, endpoint_id, message_id))
            .await?
            .as_ref()
            .map(message_of)
            .transpose()?)
    }

    /// A page of an endpoint's messages, newest first, at most `limit`,
    /// resuming after the sort key `after`.
    pub async fn list_messages(
        &self,
        org_id: &OrgId,
        endpoint_id: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<Message>, Option<String>), StoreError> {
        let pk = tenancy::partition(org_id);
        let prefix = format!("{SK_PREFIX}{endpoint_id}#");
        let query = || {
            self.query_prefix(pk.clone(), &prefix)
                .scan_index_forward(false)
        };
        let after = after
            .filter(|sk| sk.starts_with(&prefix))
            .map(|sk| item_address(pk.clone(), sk.to_owned()));
        self.query_page(query, false, limit, after, message_of)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_round_trip_through_their_maps() {
        let full = AttemptRecord {
            at: "2026-01-01T00:00:00Z".into(),
            status_code: Some(503),
            duration_ms: 15,
            error: Some("HTTP 503".into()),
            response_body: Some("busy".into()),
        };
        assert_eq!(attempt_of(&attempt_value(&full)).unwrap(), full);
        let bare = AttemptRecord {
            status_code: None,
            error: None,
            response_body: None,
            ..full
        };
        assert_eq!(attempt_of(&attempt_value(&bare)).unwrap(), bare);
    }

    #[test]
    fn a_request_round_trips_through_its_item() {
        let at = crate::wire_time::parse("2026-01-01T00:00:00Z").unwrap();
        let request = DeliveryRequest {
            organization_id: OrgId::parse("acme").unwrap(),
            endpoint_id: "ep_1".into(),
            message_id: "msg_1".into(),
            event_type: "webhook.test".into(),
            created_at: at,
            payload: "{}".into(),
            once: true,
        };
        assert_eq!(
            DeliveryRequest::from_item(&request.to_item(at)).unwrap(),
            request
        );
    }
}
