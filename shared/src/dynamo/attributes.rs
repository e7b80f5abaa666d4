//! Reading and writing DynamoDB attributes, and the attributes every item
//! shares. Each aggregate module spells its own attribute names; only the
//! primary key, the TTL, the item type and the organization/time stamps that
//! every organization-owned item carries are named here.

use crate::wire_time;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use orgkeys_api::OrgId;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// Partition key attribute (string).
pub const PK: &str = "PK";
/// Sort key attribute (string).
pub const SK: &str = "SK";
/// Epoch seconds after which DynamoDB may delete the item.
pub const TTL: &str = "ttl";
/// What an item is, for stream consumers that filter (`CONVERSATION`, ...).
pub const ITEM_TYPE: &str = "itemType";
/// The organization an item belongs to.
pub const ORG_ID: &str = "orgId";
pub const CREATED_AT: &str = "createdAt";
pub const UPDATED_AT: &str = "updatedAt";

/// An item that is in the table but not in the shape its module writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptItem(pub String);

/// An item's address: its primary key, the `PK`/`SK` pair (named so, not
/// "key", to keep it apart from API keys and Idempotency-Keys).
pub fn item_address(pk: String, sk: String) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A timestamp attribute, in the wire format (which sorts as text).
pub fn time(at: DateTime<Utc>) -> AttributeValue {
    s(wire_time::format(at))
}

/// A list of strings.
pub fn strings<'a>(values: impl IntoIterator<Item = &'a str>) -> AttributeValue {
    AttributeValue::L(values.into_iter().map(s).collect())
}

pub fn optional_string(item: &Item, name: &str) -> Result<Option<String>, CorruptItem> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(value)) => Ok(Some(value.clone())),
        Some(_) => Err(CorruptItem(format!("{name} is not a string"))),
    }
}

pub fn string(item: &Item, name: &str) -> Result<String, CorruptItem> {
    optional_string(item, name)?.ok_or_else(|| CorruptItem(format!("missing {name}")))
}

/// An organization ID attribute, trusted as read ([`OrgId::from_store`]):
/// every write takes an [`OrgId`], so the table holds only IDs that parsed.
pub fn stored_org_id(item: &Item, name: &str) -> Result<OrgId, CorruptItem> {
    string(item, name).map(OrgId::from_store)
}

/// An optional organization ID attribute, trusted as [`stored_org_id`] is.
pub fn optional_stored_org_id(item: &Item, name: &str) -> Result<Option<OrgId>, CorruptItem> {
    Ok(optional_string(item, name)?.map(OrgId::from_store))
}

/// Organization IDs stored as one string, each after a `/` (IDs never
/// contain one), trusted as [`stored_org_id`] is; `None` when absent.
pub fn stored_org_ids(item: &Item, name: &str) -> Result<Option<Vec<OrgId>>, CorruptItem> {
    Ok(optional_string(item, name)?.map(|text| {
        text.split('/')
            .filter(|id| !id.is_empty())
            .map(|id| OrgId::from_store(id.to_owned()))
            .collect()
    }))
}

/// A string attribute parsed with `FromStr` (the small enums).
pub fn parsed<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, CorruptItem> {
    string(item, name)?
        .parse()
        .map_err(|_| CorruptItem(format!("unknown {name}")))
}

pub fn optional_time(item: &Item, name: &str) -> Result<Option<DateTime<Utc>>, CorruptItem> {
    optional_string(item, name)?
        .map(|text| {
            wire_time::parse(&text).ok_or_else(|| CorruptItem(format!("{name} is not RFC 3339")))
        })
        .transpose()
}

pub fn required_time(item: &Item, name: &str) -> Result<DateTime<Utc>, CorruptItem> {
    optional_time(item, name)?.ok_or_else(|| CorruptItem(format!("missing {name}")))
}

/// A list of strings, each parsed with `FromStr`.
pub fn parsed_list<T: std::str::FromStr>(item: &Item, name: &str) -> Result<Vec<T>, CorruptItem> {
    match item.get(name) {
        Some(AttributeValue::L(values)) => values
            .iter()
            .map(|value| {
                value
                    .as_s()
                    .ok()
                    .and_then(|text| text.parse::<T>().ok())
                    .ok_or_else(|| CorruptItem(format!("unknown value in {name}")))
            })
            .collect(),
        _ => Err(CorruptItem(format!("missing {name}"))),
    }
}

/// A map of strings to strings.
pub fn string_map<K: Ord + From<String>>(
    item: &Item,
    name: &str,
) -> Result<std::collections::BTreeMap<K, String>, CorruptItem> {
    match item.get(name) {
        Some(AttributeValue::M(map)) => map
            .iter()
            .map(|(k, v)| match v {
                AttributeValue::S(text) => Ok((K::from(k.clone()), text.clone())),
                _ => Err(CorruptItem(format!("{name}.{k} is not a string"))),
            })
            .collect(),
        _ => Err(CorruptItem(format!("missing {name}"))),
    }
}

pub fn optional_bool(item: &Item, name: &str) -> Result<Option<bool>, CorruptItem> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::Bool(value)) => Ok(Some(*value)),
        Some(_) => Err(CorruptItem(format!("{name} is not a boolean"))),
    }
}

pub fn optional_number(item: &Item, name: &str) -> Result<Option<i64>, CorruptItem> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(text)) => text
            .parse()
            .map(Some)
            .map_err(|_| CorruptItem(format!("{name} is not an integer"))),
        Some(_) => Err(CorruptItem(format!("{name} is not a number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn rust_sources(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("the workspace is readable") {
            let path = entry.expect("the workspace is readable").path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() && !name.starts_with('.') && name != "target" && name != "node_modules"
            {
                rust_sources(&path, found);
            } else if name.ends_with(".rs") {
                found.push(path);
            }
        }
    }

    #[test]
    fn only_this_reader_takes_an_organization_id_unchecked() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut sources = Vec::new();
        rust_sources(&root, &mut sources);
        assert!(sources.len() > 50, "the workspace's sources are found");
        let call = ["OrgId::", "from_store"].concat();
        let callers: Vec<_> = sources
            .iter()
            .filter(|path| std::fs::read_to_string(path).unwrap().contains(&call))
            .map(|path| path.strip_prefix(&root).unwrap().display().to_string())
            .collect();
        assert_eq!(callers, ["shared/src/dynamo/attributes.rs"]);
    }

    #[test]
    fn an_organization_id_is_read_as_stored() {
        let item = Item::from([(ORG_ID.to_owned(), s("acme"))]);
        assert_eq!(stored_org_id(&item, ORG_ID).unwrap().as_str(), "acme");
        assert!(stored_org_id(&Item::new(), ORG_ID).is_err());
    }
}
