//! API key records: what is known about a key except the key itself, and its
//! two items; the store calls on them are in `store.rs`.
//!
//! | item                          | PK               | SK            |
//! |-------------------------------|------------------|---------------|
//! | lookup copy (the authorizer's)| `KEY#<hash hex>` | `KEY`         |
//! | listing copy (the org's)      | `ORG#<orgId>`    | `KEY#<keyId>` |
//!
//! The authorizer finds a key with one `GetItem` on its hash; admins list and
//! delete through the organization's partition. Both copies are written in one
//! transaction and carry the same attributes; only the listing copy holds
//! `keyHash` (to find its twin) and `lastUsedAt` (so listing is one Query).
//! Both carry the organization's [`Terms`] (`organizations/` keeps them in
//! step), so the authorizer's one read sees a suspended organization.
//!
//! Rolling and changing a key meet in conditional writes: a roll is refused
//! for a disabled key, and a change of expiry is refused for a rolled key (its
//! expiry is the end of its grace period). So a disabled key never gains an
//! enabled successor unless the roll committed first, while it was enabled;
//! a key's successor is a key of its own, disabled separately.

use crate::audit::{Action, Actor, ActorAttributes, ActorType, Draft, Target, TargetType, details};
use crate::dynamo::attributes::{
    CREATED_AT, CorruptItem, Item, ORG_ID, TTL, item_address, n, optional_bool, optional_number,
    optional_string, optional_time, parsed_list, required_time, s, stored_org_id, string, strings,
    time,
};
use crate::dynamo::update::{Condition, Update};
use crate::dynamo::{Store, StoreError, conditional};
use crate::key_hash::KeyHash;
use crate::organizations::{KEY_ORG_TERMS_RANK, Stamped, Terms};
use crate::tenancy;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use chrono::{DateTime, Utc};
use orgkeys_api::OrgId;

use std::collections::HashMap;

mod leaks;
mod store;

pub use leaks::{Leak, LeakOutcome, LeakedKeyAction};

const KEY_ID: &str = "keyId";
const KEY_HASH: &str = "keyHash";
const NAME: &str = "name";
const HINT: &str = "hint";
const SCOPES: &str = "scopes";
/// Who created the key; a key written before console users existed stored
/// only the administrator's principal (`createdBy`).
const CREATED_BY: ActorAttributes = ActorAttributes {
    kind: "createdByType",
    id: "createdBy",
    email: "createdByEmail",
};
const EXPIRES_AT: &str = "expiresAt";
const LAST_USED_AT: &str = "lastUsedAt";
const ROLLED_TO: &str = "rolledTo";
const ENABLED: &str = "enabled";
const REQUESTS_PER_MINUTE: &str = "requestsPerMinute";
const LEAKED: &str = "leaked";
const LISTING_PREFIX: &str = "KEY#";
/// How often a write re-reads its organization and retries after the
/// organization changed under it.
const ATTEMPTS: usize = 5;

/// Expired keys stay this long before DynamoDB's TTL removes them, so admins
/// still see a just-expired or just-rolled key in the listing.
const EXPIRED_KEY_RETENTION_SECS: i64 = 7 * 24 * 3600;

pub use orgkeys_api::Scope;

/// Everything known about one API key except the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub organization_id: OrgId,
    pub key_id: String,
    pub name: Option<String>,
    pub hint: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub created_by: Actor,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Set once the key has been rolled: the keyId of its successor.
    pub rolled_to: Option<String>,
    /// A disabled key is refused like a deleted one until it is enabled again.
    pub enabled: bool,
    /// The key's own request limit, over its organization's; `None` inherits.
    pub requests_per_minute: Option<u32>,
    /// What the key carries of its organization.
    pub terms: Terms,
    /// Set once the key was reported found in public ([`Leak`]).
    pub leaked: Option<Leak>,
}

impl KeyRecord {
    /// The limits the key is held to as set: its own request limit over its
    /// organization's; `None` where the default applies.
    pub fn limits(&self) -> crate::limits::Limits {
        crate::limits::Limits {
            requests_per_minute: self
                .requests_per_minute
                .or(self.terms.limits.requests_per_minute),
            contacts_per_day: self.terms.limits.contacts_per_day,
        }
    }

    /// A key past its expiry (rolled keys included, once their grace ends) is dead.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// The key's state at `now`, the one order every view uses: a leak
    /// first (whatever else holds), then disabled, expired (a rolled key's
    /// grace included), rolled (still valid, its successor named), active.
    pub fn state(&self, now: DateTime<Utc>) -> KeyState {
        if self.leaked.is_some() {
            KeyState::Leaked
        } else if !self.enabled {
            KeyState::Disabled
        } else if self.is_expired(now) {
            KeyState::Expired
        } else if self.rolled_to.is_some() {
            KeyState::Rolled
        } else {
            KeyState::Active
        }
    }
}

orgkeys_api::wire_enum!(
    /// A key's state as key views send it (`state`), decided by the server
    /// alone ([`KeyRecord::state`]); the CLI and the console show it.
    KeyState {
        /// Reported found in public.
        Leaked => "leaked",
        /// Refused like a deleted key until enabled again.
        Disabled => "disabled",
        /// Past its expiry, or its grace after a roll.
        Expired => "expired",
        /// Rolled to its successor, valid until its grace ends.
        Rolled => "rolled",
        /// Valid.
        Active => "active",
    }
);

/// A change to a key (a JSON merge patch, parsed): `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPatch {
    pub name: Option<Option<String>>,
    pub scopes: Option<Vec<Scope>>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub enabled: Option<bool>,
    pub requests_per_minute: Option<Option<u32>>,
}

impl KeyPatch {
    /// `record` with this change made.
    pub fn apply(&self, record: &KeyRecord) -> KeyRecord {
        let mut changed = record.clone();
        if let Some(name) = &self.name {
            changed.name = name.clone();
        }
        if let Some(scopes) = &self.scopes {
            changed.scopes = scopes.clone();
        }
        if let Some(expires_at) = self.expires_at {
            changed.expires_at = expires_at;
        }
        if let Some(enabled) = self.enabled {
            changed.enabled = enabled;
        }
        if let Some(limit) = self.requests_per_minute {
            changed.requests_per_minute = limit;
        }
        changed
    }

    /// This patch without the fields `record` already has as asked: empty
    /// when it would change nothing.
    pub fn changes_from(&self, record: &KeyRecord) -> KeyPatch {
        fn differing<T: PartialEq + Clone>(asked: &Option<T>, current: &T) -> Option<T> {
            asked.clone().filter(|value| value != current)
        }
        KeyPatch {
            name: differing(&self.name, &record.name),
            scopes: differing(&self.scopes, &record.scopes),
            expires_at: differing(&self.expires_at, &record.expires_at),
            enabled: differing(&self.enabled, &record.enabled),
            requests_per_minute: differing(&self.requests_per_minute, &record.requests_per_minute),
        }
    }

    /// The attributes it sets and the ones it removes, for both copies.
    fn writes(&self) -> (Item, Vec<&'static str>) {
        let (mut set, mut remove) = (Item::new(), Vec::new());
        match &self.name {
            Some(Some(name)) => drop(set.insert(NAME.to_owned(), s(name))),
            Some(None) => remove.push(NAME),
            None => {}
        }
        if let Some(scopes) = &self.scopes {
            set.insert(
                SCOPES.to_owned(),
                strings(scopes.iter().map(|scope| scope.as_str())),
            );
        }
        match self.expires_at {
            Some(Some(at)) => {
                set.insert(EXPIRES_AT.to_owned(), time(at));
                set.insert(TTL.to_owned(), ttl(at));
            }
            Some(None) => remove.extend([EXPIRES_AT, TTL]),
            None => {}
        }
        if let Some(enabled) = self.enabled {
            set.insert(ENABLED.to_owned(), AttributeValue::Bool(enabled));
        }
        match self.requests_per_minute {
            Some(Some(limit)) => drop(set.insert(REQUESTS_PER_MINUTE.to_owned(), n(limit.into()))),
            Some(None) => remove.push(REQUESTS_PER_MINUTE),
            None => {}
        }
        (set, remove)
    }

    /// The patched fields and their new values, for the event.
    fn event_details(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut details = serde_json::Map::new();
        if let Some(name) = &self.name {
            details.insert("name".into(), name.clone().into());
        }
        if let Some(scopes) = &self.scopes {
            details.insert("scopes".into(), scope_names(scopes));
        }
        if let Some(expires_at) = self.expires_at {
            details.insert(
                "expiresAt".into(),
                expires_at.map(crate::wire_time::format).into(),
            );
        }
        if let Some(enabled) = self.enabled {
            details.insert("enabled".into(), enabled.into());
        }
        if let Some(limit) = self.requests_per_minute {
            details.insert("requestsPerMinute".into(), limit.into());
        }
        details
    }
}

/// The lookup copy's address (public for the benchmark's bare `GetItem`).
pub fn lookup_address(hash: &KeyHash) -> Item {
    item_address(format!("KEY#{}", hash.to_hex()), "KEY".to_owned())
}

fn listing_address(org_id: &OrgId, key_id: &str) -> Item {
    item_address(
        tenancy::partition(org_id),
        format!("{LISTING_PREFIX}{key_id}"),
    )
}

/// The two items of a new key, lookup copy first. Public for the benchmark's
/// bare baseline, which writes them without the store (and without an event).
pub fn new_key_items(record: &KeyRecord, hash: &KeyHash) -> [Item; 2] {
    [lookup_item(record, hash), listing_item(record, hash)]
}

/// The TTL value for a key that expires at `at`.
fn ttl(at: DateTime<Utc>) -> aws_sdk_dynamodb::types::AttributeValue {
    n(at.timestamp() + EXPIRED_KEY_RETENTION_SECS)
}

fn lookup_item(record: &KeyRecord, hash: &KeyHash) -> Item {
    let mut item = shared_attributes(record);
    item.extend(lookup_address(hash));
    item
}

fn listing_item(record: &KeyRecord, hash: &KeyHash) -> Item {
    let mut item = shared_attributes(record);
    item.extend(listing_address(&record.organization_id, &record.key_id));
    item.insert(KEY_HASH.to_owned(), s(hash.to_hex()));
    item
}

fn shared_attributes(record: &KeyRecord) -> Item {
    let mut item = Item::from([
        (ORG_ID.to_owned(), s(&record.organization_id)),
        (KEY_ID.to_owned(), s(&record.key_id)),
        (HINT.to_owned(), s(&record.hint)),
        (
            SCOPES.to_owned(),
            strings(record.scopes.iter().map(|scope| scope.as_str())),
        ),
        (CREATED_AT.to_owned(), time(record.created_at)),
        (ENABLED.to_owned(), AttributeValue::Bool(record.enabled)),
    ]);
    item.extend(record.created_by.attributes(CREATED_BY));
    item.extend(record.terms.attributes());
    if let Some(limit) = record.requests_per_minute {
        item.insert(REQUESTS_PER_MINUTE.to_owned(), n(limit.into()));
    }
    if let Some(name) = &record.name {
        item.insert(NAME.to_owned(), s(name));
    }
    if let Some(at) = record.expires_at {
        item.insert(EXPIRES_AT.to_owned(), time(at));
        item.insert(TTL.to_owned(), ttl(at));
    }
    if let Some(leak) = &record.leaked {
        item.insert(LEAKED.to_owned(), leak.attribute());
    }
    item
}

fn record_from_item(item: &Item) -> Result<KeyRecord, CorruptItem> {
    Ok(KeyRecord {
        organization_id: stored_org_id(item, ORG_ID)?,
        key_id: string(item, KEY_ID)?,
        name: optional_string(item, NAME)?,
        hint: string(item, HINT)?,
        scopes: parsed_list(item, SCOPES)?,
        created_at: required_time(item, CREATED_AT)?,
        created_by: Actor::of_item(item, CREATED_BY, Some(ActorType::Admin))?,
        expires_at: optional_time(item, EXPIRES_AT)?,
        last_used_at: optional_time(item, LAST_USED_AT)?,
        rolled_to: optional_string(item, ROLLED_TO)?,
        enabled: optional_bool(item, ENABLED)?.unwrap_or(true),
        requests_per_minute: optional_number(item, REQUESTS_PER_MINUTE)?
            .map(|value| {
                u32::try_from(value)
                    .map_err(|_| CorruptItem(format!("{REQUESTS_PER_MINUTE} out of range")))
            })
            .transpose()?,
        terms: Terms::of_key_item(item)?,
        leaked: Leak::of_item(item, LEAKED)?,
    })
}

/// `item` with the terms of `stamped` (its revision included).
fn stamp(mut item: Item, stamped: Stamped) -> Item {
    item.extend(stamped.attributes());
    item
}

/// A change written alike to both copies of a key: the attributes it sets
/// and removes, and the condition each copy must meet.
struct KeyChange<'a> {
    set: &'a Item,
    remove: &'a [&'a str],
    condition: Condition,
}

impl KeyChange<'_> {
    /// The change of the copies at `addresses`, as writes of one transaction.
    fn writes(
        &self,
        store: &Store,
        addresses: [Item; 2],
    ) -> Result<[TransactWriteItem; 2], StoreError> {
        let write = |address| {
            Update::at(address, self.condition.clone())
                .set_all(self.set.clone())
                .remove_all(self.remove.iter().copied())
                .transaction_write(store)
        };
        let [listing, lookup] = addresses;
        Ok([write(listing)?, write(lookup)?])
    }
}

/// Scope names as a JSON array, for event details.
fn scope_names(scopes: &[Scope]) -> serde_json::Value {
    scopes
        .iter()
        .map(|scope| scope.as_str())
        .collect::<Vec<_>>()
        .into()
}

/// The hash stored on the listing copy of a key.
fn hash_from_item(item: &Item) -> Result<KeyHash, CorruptItem> {
    KeyHash::from_hex(&string(item, KEY_HASH)?)
        .ok_or_else(|| CorruptItem(format!("bad {KEY_HASH}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_format::ApiKey;
    use aws_sdk_dynamodb::types::AttributeValue;

    fn record() -> KeyRecord {
        let now = crate::wire_time::parse("2026-01-02T03:04:05.678Z").unwrap();
        KeyRecord {
            organization_id: OrgId::parse("acme").unwrap(),
            key_id: "key_1".into(),
            name: Some("ci".into()),
            hint: "orgk_...abcd".into(),
            scopes: vec![Scope::SchedulesRead, Scope::ConversationsRead],
            created_at: now,
            created_by: Actor::admin("arn:aws:iam::1:user/admin"),
            expires_at: Some(now + chrono::Duration::days(1)),
            last_used_at: None,
            rolled_to: None,
            enabled: false,
            requests_per_minute: Some(30),
            terms: Terms {
                suspended: true,
                limits: crate::limits::Limits {
                    requests_per_minute: Some(60),
                    contacts_per_day: Some(100),
                },
            },
            leaked: Some(Leak {
                at: now,
                source: "commit".into(),
                url: Some("https://github.com/o/r/blob/x/.env".into()),
            }),
        }
    }

    #[test]
    fn a_keys_state_is_decided_in_one_order_leak_first() {
        let leaked = record();
        let created = leaked.created_at;
        let ends = leaked.expires_at.unwrap();
        assert_eq!(leaked.state(created), KeyState::Leaked);
        let disabled = KeyRecord {
            leaked: None,
            ..record()
        };
        assert_eq!(disabled.state(ends), KeyState::Disabled);
        let enabled = KeyRecord {
            enabled: true,
            ..disabled
        };
        assert_eq!(enabled.state(created), KeyState::Active);
        assert_eq!(enabled.state(ends), KeyState::Expired);
        let rolled = KeyRecord {
            rolled_to: Some("key_2".into()),
            ..enabled
        };
        assert_eq!(rolled.state(created), KeyState::Rolled);
        assert_eq!(rolled.state(ends), KeyState::Expired);
        assert_eq!(serde_json::to_value(KeyState::Rolled).unwrap(), "rolled");
    }

    #[test]
    fn key_items_round_trip_and_only_the_listing_copy_holds_the_hash() {
        let record = record();
        let hash = KeyHash::of(&ApiKey::generate().unwrap());
        let lookup = lookup_item(&record, &hash);
        let listing = listing_item(&record, &hash);
        assert_eq!(record_from_item(&lookup).unwrap(), record);
        assert_eq!(record_from_item(&listing).unwrap(), record);
        assert!(!lookup.contains_key(KEY_HASH));
        assert_eq!(hash_from_item(&listing).unwrap(), hash);
        assert_eq!(lookup["PK"], s(format!("KEY#{}", hash.to_hex())));
        assert_eq!(listing["SK"], s("KEY#key_1"));
        assert!(lookup.contains_key(TTL));
    }

    #[test]
    fn a_patch_keeps_only_what_it_changes() {
        let record = record();
        let same = KeyPatch {
            name: Some(Some("ci".into())),
            scopes: Some(record.scopes.clone()),
            expires_at: Some(record.expires_at),
            enabled: Some(false),
            requests_per_minute: Some(Some(30)),
        };
        assert_eq!(same.changes_from(&record), KeyPatch::default());
        let some = KeyPatch {
            enabled: Some(true),
            requests_per_minute: Some(None),
            ..same
        };
        assert_eq!(
            some.changes_from(&record),
            KeyPatch {
                enabled: Some(true),
                requests_per_minute: Some(None),
                ..KeyPatch::default()
            }
        );
    }

    #[test]
    fn a_corrupt_item_is_an_error_not_a_panic() {
        let mut item = lookup_item(&record(), &KeyHash::of(&ApiKey::generate().unwrap()));
        item.insert(SCOPES.into(), AttributeValue::L(vec![s("admin:all")]));
        assert!(record_from_item(&item).is_err());
        item.remove(SCOPES);
        assert!(record_from_item(&item).is_err());
    }
}
