//! Leaked keys: what a key records once it is reported found in public (by
//! GitHub's secret scanning or by an operator), what is done to it
//! (`LEAKED_KEY_ACTION`), and the store call that does it with its
//! `api_key.leaked` event in one transaction.
//!
//! A key is flagged at most once: the writes are conditional on `leaked`
//! not being set, so the same report delivered again changes nothing and
//! records no second event.

use super::*;

const AT: &str = "at";
const SOURCE: &str = "source";
const URL: &str = "url";

/// Where a key was found and when it was reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    pub at: DateTime<Utc>,
    /// Where the reporter found it: GitHub's `source` (`content`, `commit`,
    /// `gist`, ...) or `admin` for an operator's report.
    pub source: String,
    /// The public address of the find, when the reporter gave one.
    pub url: Option<String>,
}

impl Leak {
    /// The `leaked` map attribute.
    pub(super) fn attribute(&self) -> AttributeValue {
        let mut map = Item::from([
            (AT.to_owned(), time(self.at)),
            (SOURCE.to_owned(), s(&self.source)),
        ]);
        if let Some(url) = &self.url {
            map.insert(URL.to_owned(), s(url));
        }
        AttributeValue::M(map)
    }

    /// The leak recorded on `item` under `name`, if any.
    pub(super) fn of_item(item: &Item, name: &str) -> Result<Option<Leak>, CorruptItem> {
        match item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::M(map)) => Ok(Some(Leak {
                at: required_time(map, AT)?,
                source: string(map, SOURCE)?,
                url: optional_string(map, URL)?,
            })),
            Some(_) => Err(CorruptItem(format!("{name} is not a map"))),
        }
    }
}

orgkeys_api::wire_enum!(
    /// What happens to a key reported leaked, whatever its state: a disabled or
    /// expired key can be brought back by an admin, so it is treated alike.
    /// Its wire name is also `LEAKED_KEY_ACTION`'s value.
    #[derive(Default)]
    LeakedKeyAction {
        /// As `PATCH enabled=false`: refused from now on, still listed, so an
        /// admin sees the leak and decides.
        #[default]
        Disable => "disable",
        /// Both items deleted, as `DELETE`: the leak lives on in the event only.
        Delete => "delete",
        /// Only flagged: the key keeps working.
        Report => "report",
    }
);

/// What a report did to one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeakOutcome {
    /// The action was taken and the event recorded now.
    Revoked(LeakedKeyAction),
    /// The key had been reported already (or went meanwhile): nothing changed.
    AlreadyReported,
}

impl Store {
    /// Takes `action` on the key `record` (found by `hash`), records `leak` on
    /// it (unless deleted) and the `api_key.leaked` event made from `draft`
    /// (with `details` added), in one transaction, unless the key is flagged
    /// already.
    pub async fn revoke_leaked_key(
        &self,
        record: &KeyRecord,
        hash: &KeyHash,
        leak: &Leak,
        action: LeakedKeyAction,
        draft: &Draft,
        mut details: serde_json::Map<String, serde_json::Value>,
    ) -> Result<LeakOutcome, StoreError> {
        if record.leaked.is_some() {
            return Ok(LeakOutcome::AlreadyReported);
        }
        let org_id = &record.organization_id;
        details.insert("source".into(), leak.source.clone().into());
        details.insert("url".into(), leak.url.clone().into());
        details.insert("action".into(), action.as_str().into());
        let event = draft.event(
            org_id,
            Action::ApiKeyLeaked,
            Target::new(TargetType::ApiKey, &record.key_id),
            details,
        );
        let listing = listing_address(org_id, &record.key_id);
        let lookup = lookup_address(hash);
        let mut writes = match action {
            LeakedKeyAction::Delete => vec![
                self.delete_unflagged(listing)?,
                self.delete_unflagged(lookup)?,
            ],
            LeakedKeyAction::Disable | LeakedKeyAction::Report => {
                let mut set = Item::from([(LEAKED.to_owned(), leak.attribute())]);
                if action == LeakedKeyAction::Disable {
                    set.insert(ENABLED.to_owned(), AttributeValue::Bool(false));
                }
                let flag = KeyChange {
                    set: &set,
                    remove: &[],
                    condition: unflagged(),
                };
                flag.writes(self, [listing, lookup])?.to_vec()
            }
        };
        writes.push(self.record(&event)?);
        match self.transact(writes).await? {
            None => Ok(LeakOutcome::Revoked(action)),
            // Flagged or deleted by another request meanwhile.
            Some(_) => Ok(LeakOutcome::AlreadyReported),
        }
    }

    /// A transaction write deleting the key item at `address` if it is there
    /// and not flagged yet.
    fn delete_unflagged(&self, address: Item) -> Result<TransactWriteItem, StoreError> {
        self.delete_when(address, unflagged())
    }
}

/// A condition that the key item exists and was never reported leaked.
fn unflagged() -> Condition {
    Condition::new("attribute_exists(PK) AND attribute_not_exists(#leaked)").name("#leaked", LEAKED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leak_round_trips_through_its_map_and_a_wrong_shape_is_corrupt() {
        let at = crate::wire_time::parse("2026-11-30T10:00:00.000Z").unwrap();
        for url in [Some("https://gist.github.com/x".to_owned()), None] {
            let leak = Leak {
                at,
                source: "gist".into(),
                url,
            };
            let item = Item::from([("leaked".to_owned(), leak.attribute())]);
            assert_eq!(Leak::of_item(&item, "leaked").unwrap(), Some(leak));
        }
        assert_eq!(Leak::of_item(&Item::new(), "leaked").unwrap(), None);
        let odd = Item::from([("leaked".to_owned(), s("yes"))]);
        assert!(Leak::of_item(&odd, "leaked").is_err());
    }

    #[test]
    fn actions_parse_from_their_names_only() {
        for &action in LeakedKeyAction::ALL {
            assert_eq!(action.as_str().parse(), Ok(action));
        }
        assert_eq!(LeakedKeyAction::default(), LeakedKeyAction::Disable);
        assert!("Disable".parse::<LeakedKeyAction>().is_err());
        assert!("revoke".parse::<LeakedKeyAction>().is_err());
    }
}
