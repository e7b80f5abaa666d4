//! The DynamoDB item layout: the only module that knows key patterns and
//! attribute names. One table, two kinds of item per key:
//!
//! | item                      | PK               | SK             |
//! |---------------------------|------------------|----------------|
//! | organization              | `ORG#<orgId>`    | `ORG`          |
//! | key, for the authorizer   | `KEY#<hash hex>` | `KEY`          |
//! | key, the organization's   | `ORG#<orgId>`    | `KEY#<keyId>`  |
//! | schedule                  | `ORG#<orgId>`    | `SCHED#<id>`   |
//! | outbound conversation     | `ORG#<orgId>`    | `CONV#<id>`    |
//! | idempotency record        | `ORG#<orgId>`    | `IDEM#<key>`   |
//!
//! The authorizer finds a key with one `GetItem` on its hash; admins list and
//! delete through the organization's partition. Both key items are written in
//! one transaction and carry the same attributes; only the organization's copy
//! holds `keyHash` (to find its twin) and `lastUsedAt` (so listing is one Query).

use crate::key_hash::KeyHash;
use crate::models::{
    Channel, Contact, Conversation, KeyRecord, Organization, Schedule, ScheduleStatus, Scope,
};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
/// Epoch seconds after which DynamoDB may delete the item.
pub const TTL: &str = "ttl";

pub const ORG_ID: &str = "orgId";
pub const NAME: &str = "name";
pub const PARENT_ID: &str = "parentId";
pub const CREATED_AT: &str = "createdAt";
pub const UPDATED_AT: &str = "updatedAt";
pub const KEY_ID: &str = "keyId";
pub const KEY_HASH: &str = "keyHash";
pub const HINT: &str = "hint";
pub const SCOPES: &str = "scopes";
pub const CREATED_BY: &str = "createdBy";
pub const EXPIRES_AT: &str = "expiresAt";
pub const LAST_USED_AT: &str = "lastUsedAt";
pub const ROLLED_TO: &str = "rolledTo";

pub const SCHEDULE_ID: &str = "scheduleId";
pub const CAMPAIGN: &str = "campaign";
pub const CHANNEL: &str = "channel";
pub const STATUS: &str = "status";
pub const STARTS_AT: &str = "startsAt";
pub const ENDS_AT: &str = "endsAt";
pub const CONVERSATION_ID: &str = "conversationId";
pub const DISPATCH_ID: &str = "dispatchId";
pub const PHONE: &str = "phone";
pub const CUSTOMER_UID: &str = "customerUid";
pub const VARIABLES: &str = "variables";
pub const REFERENCE: &str = "reference";
pub const FINGERPRINT: &str = "fingerprint";
pub const LEASE_UNTIL: &str = "leaseUntil";
pub const RESPONSE: &str = "response";
/// What an item is, for stream consumers that filter (`CONVERSATION`, ...).
pub const ITEM_TYPE: &str = "itemType";

const ORG_SK: &str = "ORG";
const KEY_SK: &str = "KEY";
pub const ORG_KEY_SK_PREFIX: &str = "KEY#";
pub const SCHEDULE_SK_PREFIX: &str = "SCHED#";
const CONVERSATION_SK_PREFIX: &str = "CONV#";
const IDEMPOTENCY_SK_PREFIX: &str = "IDEM#";

/// Expired keys stay this long before DynamoDB's TTL removes them, so admins
/// still see a just-expired or just-rolled key in the listing.
const EXPIRED_KEY_RETENTION_SECS: i64 = 7 * 24 * 3600;

/// An item that is in the table but not in the shape this module writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptItem(pub String);

pub fn org_pk(org_id: &str) -> String {
    format!("ORG#{org_id}")
}

fn primary_key(pk: String, sk: String) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

pub fn organization_key(org_id: &str) -> Item {
    primary_key(org_pk(org_id), ORG_SK.to_owned())
}

pub fn key_lookup_key(hash: &KeyHash) -> Item {
    primary_key(format!("KEY#{}", hash.to_hex()), KEY_SK.to_owned())
}

pub fn org_key_key(org_id: &str, key_id: &str) -> Item {
    primary_key(org_pk(org_id), format!("{ORG_KEY_SK_PREFIX}{key_id}"))
}

pub fn schedule_key(org_id: &str, schedule_id: &str) -> Item {
    primary_key(org_pk(org_id), format!("{SCHEDULE_SK_PREFIX}{schedule_id}"))
}

pub fn conversation_key(org_id: &str, conversation_id: &str) -> Item {
    primary_key(
        org_pk(org_id),
        format!("{CONVERSATION_SK_PREFIX}{conversation_id}"),
    )
}

pub fn idempotency_key(org_id: &str, key: &str) -> Item {
    primary_key(org_pk(org_id), format!("{IDEMPOTENCY_SK_PREFIX}{key}"))
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The TTL value for a key that expires at `at`.
pub fn key_ttl(at: DateTime<Utc>) -> AttributeValue {
    n(at.timestamp() + EXPIRED_KEY_RETENTION_SECS)
}

pub fn organization_from_item(item: &Item) -> Result<Organization, CorruptItem> {
    Ok(Organization {
        organization_id: string(item, ORG_ID)?,
        name: string(item, NAME)?,
        parent_id: optional_string(item, PARENT_ID)?,
        created_at: time(item, CREATED_AT)?,
        updated_at: time(item, UPDATED_AT)?,
    })
}

/// The authorizer's item for a key.
pub fn key_lookup_item(record: &KeyRecord, hash: &KeyHash) -> Item {
    let mut item = key_attributes(record);
    item.extend(key_lookup_key(hash));
    item
}

/// The organization's item for a key.
pub fn org_key_item(record: &KeyRecord, hash: &KeyHash) -> Item {
    let mut item = key_attributes(record);
    item.extend(org_key_key(&record.organization_id, &record.key_id));
    item.insert(KEY_HASH.to_owned(), s(hash.to_hex()));
    item
}

fn key_attributes(record: &KeyRecord) -> Item {
    let mut item = HashMap::from([
        (ORG_ID.to_owned(), s(&record.organization_id)),
        (KEY_ID.to_owned(), s(&record.key_id)),
        (HINT.to_owned(), s(&record.hint)),
        (
            SCOPES.to_owned(),
            AttributeValue::L(
                record
                    .scopes
                    .iter()
                    .map(|scope| s(scope.as_str()))
                    .collect(),
            ),
        ),
        (CREATED_AT.to_owned(), s(timestamp(record.created_at))),
        (CREATED_BY.to_owned(), s(&record.created_by)),
    ]);
    if let Some(name) = &record.name {
        item.insert(NAME.to_owned(), s(name));
    }
    if let Some(at) = record.expires_at {
        item.insert(EXPIRES_AT.to_owned(), s(timestamp(at)));
        item.insert(TTL.to_owned(), key_ttl(at));
    }
    item
}

pub fn key_record_from_item(item: &Item) -> Result<KeyRecord, CorruptItem> {
    let scopes = match item.get(SCOPES) {
        Some(AttributeValue::L(values)) => values
            .iter()
            .map(|value| {
                value
                    .as_s()
                    .ok()
                    .and_then(|text| text.parse::<Scope>().ok())
                    .ok_or_else(|| CorruptItem(format!("unknown scope in {SCOPES}")))
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(CorruptItem(format!("missing {SCOPES}"))),
    };
    Ok(KeyRecord {
        organization_id: string(item, ORG_ID)?,
        key_id: string(item, KEY_ID)?,
        name: optional_string(item, NAME)?,
        hint: string(item, HINT)?,
        scopes,
        created_at: time(item, CREATED_AT)?,
        created_by: string(item, CREATED_BY)?,
        expires_at: optional_time(item, EXPIRES_AT)?,
        last_used_at: optional_time(item, LAST_USED_AT)?,
        rolled_to: optional_string(item, ROLLED_TO)?,
    })
}

/// A schedule's attributes other than its primary key and `createdAt`
/// (which an upsert must keep), for `SET` expressions.
pub fn schedule_attributes(schedule: &Schedule) -> Item {
    let mut item = HashMap::from([
        (ITEM_TYPE.to_owned(), s("SCHEDULE")),
        (ORG_ID.to_owned(), s(&schedule.organization_id)),
        (SCHEDULE_ID.to_owned(), s(&schedule.schedule_id)),
        (NAME.to_owned(), s(&schedule.name)),
        (CAMPAIGN.to_owned(), s(&schedule.campaign)),
        (CHANNEL.to_owned(), s(schedule.channel.as_str())),
        (STATUS.to_owned(), s(schedule.status.as_str())),
        (UPDATED_AT.to_owned(), s(timestamp(schedule.updated_at))),
    ]);
    let optional = [(STARTS_AT, schedule.starts_at), (ENDS_AT, schedule.ends_at)];
    for (name, at) in optional {
        item.insert(
            name.to_owned(),
            at.map_or(AttributeValue::Null(true), |at| s(timestamp(at))),
        );
    }
    item
}

pub fn schedule_from_item(item: &Item) -> Result<Schedule, CorruptItem> {
    Ok(Schedule {
        organization_id: string(item, ORG_ID)?,
        schedule_id: string(item, SCHEDULE_ID)?,
        name: string(item, NAME)?,
        campaign: string(item, CAMPAIGN)?,
        channel: parsed::<Channel>(item, CHANNEL)?,
        status: parsed::<ScheduleStatus>(item, STATUS)?,
        starts_at: optional_time(item, STARTS_AT)?,
        ends_at: optional_time(item, ENDS_AT)?,
        created_at: time(item, CREATED_AT)?,
        updated_at: time(item, UPDATED_AT)?,
    })
}

pub fn conversation_item(conversation: &Conversation) -> Item {
    let contact = &conversation.contact;
    let mut item = conversation_key(&conversation.organization_id, &conversation.conversation_id);
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
        (STATUS.to_owned(), s(&conversation.status)),
        (CREATED_AT.to_owned(), s(timestamp(conversation.created_at))),
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

pub fn conversation_from_item(item: &Item) -> Result<Conversation, CorruptItem> {
    let variables = match item.get(VARIABLES) {
        Some(AttributeValue::M(map)) => map
            .iter()
            .map(|(k, v)| match v {
                AttributeValue::S(text) => Ok((k.clone(), text.clone())),
                _ => Err(CorruptItem(format!("{VARIABLES}.{k} is not a string"))),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(CorruptItem(format!("missing {VARIABLES}"))),
    };
    Ok(Conversation {
        organization_id: string(item, ORG_ID)?,
        conversation_id: string(item, CONVERSATION_ID)?,
        dispatch_id: string(item, DISPATCH_ID)?,
        schedule_id: string(item, SCHEDULE_ID)?,
        channel: parsed::<Channel>(item, CHANNEL)?,
        contact: Contact {
            phone: string(item, PHONE)?,
            name: optional_string(item, NAME)?,
            customer_uid: optional_string(item, CUSTOMER_UID)?,
            variables,
        },
        reference: optional_string(item, REFERENCE)?,
        status: string(item, STATUS)?,
        created_at: time(item, CREATED_AT)?,
    })
}

fn parsed<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, CorruptItem> {
    string(item, name)?
        .parse()
        .map_err(|_| CorruptItem(format!("unknown {name}")))
}

/// Reads a named attribute as a string, for the few records (idempotency)
/// whose attributes the store reads one by one.
pub fn attribute_string(item: &Item, name: &str) -> Result<String, CorruptItem> {
    string(item, name)
}

/// The hash stored on the organization's copy of a key.
pub fn key_hash_from_item(item: &Item) -> Result<KeyHash, CorruptItem> {
    KeyHash::from_hex(&string(item, KEY_HASH)?)
        .ok_or_else(|| CorruptItem(format!("bad {KEY_HASH}")))
}

fn optional_string(item: &Item, name: &str) -> Result<Option<String>, CorruptItem> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(value)) => Ok(Some(value.clone())),
        Some(_) => Err(CorruptItem(format!("{name} is not a string"))),
    }
}

fn string(item: &Item, name: &str) -> Result<String, CorruptItem> {
    optional_string(item, name)?.ok_or_else(|| CorruptItem(format!("missing {name}")))
}

fn optional_time(item: &Item, name: &str) -> Result<Option<DateTime<Utc>>, CorruptItem> {
    optional_string(item, name)?
        .map(|text| {
            DateTime::parse_from_rfc3339(&text)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| CorruptItem(format!("{name} is not RFC 3339")))
        })
        .transpose()
}

fn time(item: &Item, name: &str) -> Result<DateTime<Utc>, CorruptItem> {
    optional_time(item, name)?.ok_or_else(|| CorruptItem(format!("missing {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_format::ApiKey;

    fn record() -> KeyRecord {
        let now = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z")
            .unwrap()
            .with_timezone(&Utc);
        KeyRecord {
            organization_id: "acme".into(),
            key_id: "key_1".into(),
            name: Some("ci".into()),
            hint: "orgk_...abcd".into(),
            scopes: vec![Scope::SchedulesRead, Scope::ConversationsRead],
            created_at: now,
            created_by: "arn:aws:iam::1:user/admin".into(),
            expires_at: Some(now + chrono::Duration::days(1)),
            last_used_at: None,
            rolled_to: None,
        }
    }

    #[test]
    fn key_items_round_trip_and_only_the_org_copy_holds_the_hash() {
        let record = record();
        let hash = KeyHash::of(&ApiKey::generate().unwrap());
        let lookup = key_lookup_item(&record, &hash);
        let org_copy = org_key_item(&record, &hash);
        assert_eq!(key_record_from_item(&lookup).unwrap(), record);
        assert_eq!(key_record_from_item(&org_copy).unwrap(), record);
        assert!(!lookup.contains_key(KEY_HASH));
        assert_eq!(key_hash_from_item(&org_copy).unwrap(), hash);
        assert_eq!(lookup[PK], s(format!("KEY#{}", hash.to_hex())));
        assert_eq!(org_copy[SK], s("KEY#key_1"));
        assert!(lookup.contains_key(TTL));
    }

    #[test]
    fn schedules_and_conversations_round_trip() {
        let now = record().created_at;
        let schedule = Schedule {
            organization_id: "acme".into(),
            schedule_id: "spring".into(),
            name: "Spring".into(),
            campaign: "Renewals".into(),
            channel: Channel::Whatsapp,
            status: ScheduleStatus::Paused,
            starts_at: Some(now),
            ends_at: None,
            created_at: now,
            updated_at: now,
        };
        let mut item = schedule_attributes(&schedule);
        item.insert(CREATED_AT.into(), s(timestamp(now)));
        assert_eq!(schedule_from_item(&item).unwrap(), schedule);

        let conversation = Conversation {
            organization_id: "acme".into(),
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
            status: "queued".into(),
            created_at: now,
        };
        let item = conversation_item(&conversation);
        assert_eq!(item[SK], s("CONV#conv_1"));
        assert_eq!(conversation_from_item(&item).unwrap(), conversation);
    }

    #[test]
    fn a_corrupt_item_is_an_error_not_a_panic() {
        let mut item = key_lookup_item(&record(), &KeyHash::of(&ApiKey::generate().unwrap()));
        item.insert(SCOPES.into(), AttributeValue::L(vec![s("admin:all")]));
        assert!(key_record_from_item(&item).is_err());
        item.remove(SCOPES);
        assert!(key_record_from_item(&item).is_err());
    }
}
