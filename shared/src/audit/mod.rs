//! Audit events: who changed what, written in the same DynamoDB transaction
//! as the change itself, so there is no change without its event and no event
//! without its change. Item `ORG#<orgId>` / `AUDIT#<occurredAt>#<eventId>`
//! (`itemType = AUDIT_EVENT`): an organization's events list newest first with
//! one Query, outlive what they describe, and leave by TTL after the retention.
//! An organization's list starts at its creation: the events of an earlier
//! organization with the same ID, deleted, are not its own (they list while
//! no organization has the ID).
//!
//! A dispatch is the exception in size only: its conversations and event are
//! more items than a transaction takes, so its event rides in one transaction
//! with its last conversations, after all the others (`conversations.rs`).
//!
//! A handler makes a [`Draft`] from the request (actor, origin, time, a fresh
//! event ID); the store method that makes the change turns it into the event
//! with the action it actually performed (created or updated) and writes both.
//! Events never hold a secret: no key, no key hash, no admin token, no
//! password. Their only personal data is a console user's email, as the
//! actor or as the user a `user.*` event is about (who did what to whom is
//! what the log is for); never a phone number or a template variable.

use crate::dynamo::attributes::{
    CREATED_AT, CorruptItem, ITEM_TYPE, Item, ORG_ID, PK, SK, TTL, item_address, n,
    optional_number, optional_string, parsed, required_time, s, stored_org_id, string, time,
};
use crate::dynamo::retention::Kept;
use crate::dynamo::{Store, StoreError};
use crate::tenancy;
use orgkeys_api::OrgId;

mod actor;

pub use actor::Actor;
pub(crate) use actor::ActorAttributes;
use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Utc};
use orgkeys_api::wire_enum as names;
use serde::Serialize;
use serde_json::{Map, Value};

const EVENT_ID: &str = "eventId";
const ACTION: &str = "action";
const ACTOR: ActorAttributes = ActorAttributes {
    kind: "actorType",
    id: "actorId",
    email: "actorEmail",
};
const TARGET_TYPE: &str = "targetType";
const TARGET_ID: &str = "targetId";
const REQUEST_ID: &str = "requestId";
const SOURCE_IP: &str = "sourceIp";
const USER_AGENT: &str = "userAgent";
const DETAILS: &str = "details";
const SK_PREFIX: &str = "AUDIT#";
/// Sorts after every event's sort key (`$` follows `#`).
const SK_END: &str = "AUDIT$";

/// How long events are kept unless `AUDIT_RETENTION_DAYS` says otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 400;

/// Audit events, as a kind of item kept for a while.
pub enum Events {}

impl Kept for Events {
    const VARIABLE: &'static str = "AUDIT_RETENTION_DAYS";
    const DEFAULT_DAYS: i64 = DEFAULT_RETENTION_DAYS;
}

/// How long audit events are kept before their TTL removes them: a setting
/// of each function that records events, read once in its `main`, and
/// carried by every [`Draft`] it makes.
pub type Retention = crate::dynamo::retention::Retention<Events>;

names!(
    /// What happened.
    Action {
        OrganizationCreated => "organization.created",
        OrganizationUpdated => "organization.updated",
        OrganizationSuspended => "organization.suspended",
        OrganizationResumed => "organization.resumed",
        OrganizationDeleted => "organization.deleted",
        ApiKeyCreated => "api_key.created",
        ApiKeyUpdated => "api_key.updated",
        ApiKeyRolled => "api_key.rolled",
        ApiKeyDeleted => "api_key.deleted",
        ApiKeyLeaked => "api_key.leaked",
        ScheduleCreated => "schedule.created",
        ScheduleUpdated => "schedule.updated",
        ScheduleDeleted => "schedule.deleted",
        DispatchCreated => "dispatch.created",
        ConversationSent => "conversation.sent",
        ConversationDelivered => "conversation.delivered",
        ConversationFailed => "conversation.failed",
        UserInvited => "user.invited",
        UserUpdated => "user.updated",
        UserRemoved => "user.removed",
        WebhookCreated => "webhook.created",
        WebhookUpdated => "webhook.updated",
        WebhookDeleted => "webhook.deleted",
        WebhookSecretRolled => "webhook.secret_rolled",
        WebhookDisabled => "webhook.disabled",
    }
);

names!(
    /// Who acted: an administrator, an organization API key, or the system
    /// itself on a third party's word (GitHub's secret scanning).
    ActorType { Admin => "admin", ApiKey => "api-key", System => "system", User => "user" }
);

names!(
    /// What was acted on.
    TargetType {
        Organization => "organization",
        ApiKey => "api-key",
        Schedule => "schedule",
        Dispatch => "dispatch",
        Conversation => "conversation",
        User => "user",
        Webhook => "webhook",
    }
);

/// What a change was made to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: TargetType,
    pub id: String,
}

impl Target {
    pub fn new(kind: TargetType, id: impl Into<String>) -> Target {
        Target {
            kind,
            id: id.into(),
        }
    }
}

/// Where a request came from, as API Gateway saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub request_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One recorded change, shaped as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub event_id: String,
    pub organization_id: OrgId,
    pub action: Action,
    #[serde(serialize_with = "wire_time")]
    pub occurred_at: DateTime<Utc>,
    pub actor: Actor,
    pub target: Target,
    pub request_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: Map<String, Value>,
    /// When its TTL lets DynamoDB remove it (whole seconds once stored).
    #[serde(skip)]
    pub expires_at: DateTime<Utc>,
}

fn wire_time<S: serde::Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&crate::wire_time::format(*at))
}

/// Everything an event knows before the change is made: who, from where,
/// when, under which ID, kept how long. A request that makes several changes
/// derives a draft for each further one ([`Draft::derived`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub event_id: String,
    pub actor: Actor,
    pub origin: Origin,
    pub occurred_at: DateTime<Utc>,
    pub retention: Retention,
}

impl Draft {
    /// A draft with a fresh random event ID.
    pub fn new(
        actor: Actor,
        origin: Origin,
        now: DateTime<Utc>,
        retention: Retention,
    ) -> Result<Draft, getrandom::Error> {
        Ok(Draft {
            event_id: crate::ids::random_id("evt_")?,
            actor,
            origin,
            occurred_at: now,
            retention,
        })
    }

    /// A draft whose event ID derives from the operation it records, so an
    /// operation written again (a resumed dispatch) rewrites the same event.
    pub fn for_operation(
        operation_id: &str,
        actor: Actor,
        origin: Origin,
        started_at: DateTime<Utc>,
        retention: Retention,
    ) -> Draft {
        let mut hasher = blake3::Hasher::new_derive_key("orgkeys audit event id v1");
        hasher.update(operation_id.as_bytes());
        Draft {
            event_id: crate::ids::hex_id("evt_", &hasher.finalize().as_bytes()[..12]),
            actor,
            origin,
            occurred_at: started_at,
            retention,
        }
    }

    /// A draft for one more change the same request makes (an organization
    /// delete removes each key with its own event), its ID derived from this
    /// one and `part`, so the same step of a repeated request gets the same ID.
    pub fn derived(&self, part: &str) -> Draft {
        let mut hasher = blake3::Hasher::new_derive_key("orgkeys derived audit event id v1");
        hasher.update(self.event_id.as_bytes());
        hasher.update(b"\0");
        hasher.update(part.as_bytes());
        Draft {
            event_id: crate::ids::hex_id("evt_", &hasher.finalize().as_bytes()[..12]),
            ..self.clone()
        }
    }

    /// The same draft `steps` milliseconds later (the wire format's unit):
    /// a request that records several events (an organization delete) gives
    /// each its own time, in the order it makes the changes, so they list in
    /// that order.
    pub fn later(&self, steps: usize) -> Draft {
        let steps = i64::try_from(steps).unwrap_or(i64::MAX);
        Draft {
            occurred_at: self.occurred_at + chrono::Duration::milliseconds(steps),
            ..self.clone()
        }
    }

    /// The event of the change this draft was made for.
    pub fn event(
        &self,
        organization_id: &OrgId,
        action: Action,
        target: Target,
        details: Map<String, Value>,
    ) -> AuditEvent {
        AuditEvent {
            event_id: self.event_id.clone(),
            organization_id: organization_id.clone(),
            action,
            occurred_at: self.occurred_at,
            actor: self.actor.clone(),
            target,
            request_id: self.origin.request_id.clone(),
            source_ip: self.origin.source_ip.clone(),
            user_agent: self.origin.user_agent.clone(),
            details,
            expires_at: self.occurred_at + self.retention.duration(),
        }
    }
}

/// `details` from `(name, value)` pairs.
pub fn details<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

fn sort_key(event: &AuditEvent) -> String {
    format!(
        "{SK_PREFIX}{}#{}",
        crate::wire_time::format(event.occurred_at),
        event.event_id
    )
}

fn to_item(event: &AuditEvent) -> Item {
    let mut item = item_address(tenancy::partition(&event.organization_id), sort_key(event));
    item.extend([
        (ITEM_TYPE.to_owned(), s(ITEM_TYPE_VALUE)),
        (ORG_ID.to_owned(), s(&event.organization_id)),
        (EVENT_ID.to_owned(), s(&event.event_id)),
        (ACTION.to_owned(), s(event.action.as_str())),
        (CREATED_AT.to_owned(), time(event.occurred_at)),
        (TARGET_TYPE.to_owned(), s(event.target.kind.as_str())),
        (TARGET_ID.to_owned(), s(&event.target.id)),
        (
            DETAILS.to_owned(),
            s(Value::Object(event.details.clone()).to_string()),
        ),
        (TTL.to_owned(), n(event.expires_at.timestamp())),
    ]);
    item.extend(event.actor.attributes(ACTOR));
    let origin = [
        (REQUEST_ID, &event.request_id),
        (SOURCE_IP, &event.source_ip),
        (USER_AGENT, &event.user_agent),
    ];
    for (name, value) in origin {
        if let Some(value) = value {
            item.insert(name.to_owned(), s(value));
        }
    }
    item
}

/// The item type of an audit event, for stream consumers that filter.
pub const ITEM_TYPE_VALUE: &str = "AUDIT_EVENT";

impl AuditEvent {
    /// The event an item holds, as a stream consumer reads it.
    pub fn from_item(item: &Item) -> Result<AuditEvent, CorruptItem> {
        from_item(item)
    }

    /// The item of the event, as the stream carries it (benches and tests
    /// of stream consumers).
    pub fn to_item(&self) -> Item {
        to_item(self)
    }
}

fn from_item(item: &Item) -> Result<AuditEvent, CorruptItem> {
    let details = match serde_json::from_str(&string(item, DETAILS)?) {
        Ok(Value::Object(map)) => map,
        _ => return Err(CorruptItem(format!("{DETAILS} is not a JSON object"))),
    };
    Ok(AuditEvent {
        event_id: string(item, EVENT_ID)?,
        organization_id: stored_org_id(item, ORG_ID)?,
        action: parsed(item, ACTION)?,
        occurred_at: required_time(item, CREATED_AT)?,
        actor: Actor::of_item(item, ACTOR, None)?,
        target: Target {
            kind: parsed(item, TARGET_TYPE)?,
            id: string(item, TARGET_ID)?,
        },
        request_id: optional_string(item, REQUEST_ID)?,
        source_ip: optional_string(item, SOURCE_IP)?,
        user_agent: optional_string(item, USER_AGENT)?,
        details,
        expires_at: optional_number(item, TTL)?
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .ok_or_else(|| CorruptItem(format!("missing {TTL}")))?,
    })
}

impl Store {
    /// The write that records `event`, for the transaction of its change.
    pub(crate) fn record(&self, event: &AuditEvent) -> Result<TransactWriteItem, StoreError> {
        self.put_new(to_item(event))
    }

    /// `event` as a plain item, for changes written with `BatchWriteItem`.
    pub(crate) fn audit_item(&self, event: &AuditEvent) -> Item {
        to_item(event)
    }

    /// One page of an organization's events since its creation (all of
    /// them while no organization has the ID), newest first, at most
    /// `limit`, only `action` when given, resuming after the sort key
    /// `after`. Returns the page and, when more may follow, the sort key to
    /// resume after.
    pub async fn list_audit_events(
        &self,
        org_id: &OrgId,
        action: Option<Action>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<AuditEvent>, Option<String>), StoreError> {
        let pk = tenancy::partition(org_id);
        let from = match self.get_organization(org_id).await? {
            Some(org) => format!("{SK_PREFIX}{}", crate::wire_time::format(org.created_at)),
            None => SK_PREFIX.to_owned(),
        };
        if after.is_some_and(|after| after < from.as_str()) {
            // A cursor of the deleted organization's list: nothing is left.
            return Ok((Vec::new(), None));
        }
        let query = || {
            let query = self
                .client()
                .query()
                .table_name(self.table())
                .consistent_read(true)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":from", s(&from))
                .expression_attribute_values(":to", s(SK_END))
                .scan_index_forward(false);
            match action {
                Some(action) => query
                    .filter_expression("#action = :action")
                    .expression_attribute_names("#action", ACTION)
                    .expression_attribute_values(":action", s(action.as_str())),
                None => query,
            }
        };
        let after = after.map(|sk| item_address(pk.clone(), sk.to_owned()));
        self.query_page(query, action.is_some(), limit, after, from_item)
            .await
    }

    /// When the newest event stored under `org_id` occurred, if any.
    pub(crate) async fn latest_audit_time(
        &self,
        org_id: &OrgId,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let page = self
            .query_prefix(tenancy::partition(org_id), SK_PREFIX)
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        let newest = page.items().first();
        Ok(newest
            .map(|item| required_time(item, CREATED_AT))
            .transpose()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_sort_newest_first_by_their_sort_key() {
        let at = crate::wire_time::parse("2026-11-26T10:00:00.000Z").unwrap();
        let draft = Draft {
            event_id: "evt_1".into(),
            actor: Actor::user("sub-1", Some("ann@acme.example".into())),
            origin: Origin {
                request_id: Some("req-1".into()),
                source_ip: Some("192.0.2.1".into()),
                user_agent: None,
            },
            occurred_at: at,
            retention: Retention::days(400),
        };
        let event = draft.event(
            &OrgId::parse("acme").unwrap(),
            Action::ApiKeyRolled,
            Target::new(TargetType::ApiKey, "key_1"),
            details([("successorKeyId", Value::from("key_2"))]),
        );
        let item = to_item(&event);
        assert_eq!(from_item(&item).unwrap(), event);
        assert_eq!(item["SK"], s("AUDIT#2026-11-26T10:00:00.000Z#evt_1"));
        assert_eq!(item[TTL], n(at.timestamp() + 400 * 86_400));
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json["actor"],
            serde_json::json!({"type": "user", "id": "sub-1", "email": "ann@acme.example"})
        );
        assert_eq!(json["action"], "api_key.rolled");
        assert_eq!(json["occurredAt"], "2026-11-26T10:00:00.000Z");
        assert_eq!(json["userAgent"], Value::Null);
    }

    #[test]
    fn action_names_round_trip() {
        for action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>(), Ok(*action));
        }
        assert!("api_key.stolen".parse::<Action>().is_err());
    }
}
