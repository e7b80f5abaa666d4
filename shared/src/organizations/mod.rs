//! Organizations: the tenants that own keys, schedules and conversations;
//! their items and terms here, the store calls in `store.rs`.
//!
//! | item                               | PK              | SK      |
//! |------------------------------------|-----------------|---------|
//! | the organization                   | `ORG#<orgId>`   | `ORG`   |
//! | its entry in the directory         | `ORGANIZATIONS` | `<orgId>` |
//!
//! Every item an organization owns lives in its partition `ORG#<orgId>`
//! ([`crate::tenancy`]). The directory holds a copy of every organization,
//! written in the same transaction, so admins list organizations in ID order
//! with one Query instead of a scan (one partition: admin traffic is light).
//!
//! Each key carries its organization's [`Terms`] (suspended or not, and its
//! limits), so the authorizer's one read of the key knows them. A change of terms
//! reaches every key *before* the organization item commits it (the
//! organization's own item only says "suspended" once all its keys do) and
//! again after it; a change cut short is finished by repeating it. Three
//! counters on the organization item make that safe under concurrency:
//! `revision` (bumped by every change of the organization), `termsRevision`
//! (bumped by every change of its terms) and `generation` (bumped by every key
//! or schedule added to it). A new key copies the terms of the revision it
//! read, conditional on that revision; the organization's commit is
//! conditional on the generation it synced, so a key added meanwhile makes it
//! sync again. Each key stores the rank of the terms it carries (their
//! `termsRevision`, and whether they are a change's not yet committed), and
//! takes terms only of a rank at least as late ([`Stamped`]): a request that
//! read the organization before a change can no longer undo that change on
//! the keys, and a change that did not commit leaves nothing there.
//!
//! A new parent is checked (it exists, the hierarchy stays acyclic and at most
//! [`MAX_DEPTH`] deep) on the chain of ancestors as read, and the commit is
//! conditional on each of them still having the parent read: two
//! re-parentings that would together make a cycle cannot both commit.

use crate::audit::{Action, Draft, Target, TargetType, details};
use crate::dynamo::attributes::{
    CREATED_AT, CorruptItem, Item, ORG_ID, UPDATED_AT, item_address, n, optional_number,
    optional_stored_org_id, optional_string, parsed, required_time, s, stored_org_id, string, time,
};
use crate::dynamo::update::{Condition, Update};
use crate::dynamo::{Store, StoreError};
use crate::limits::Limits;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use orgkeys_api::OrgId;

mod store;
mod tree;

use tree::{Ancestry, Descendant, write_ancestry};

const NAME: &str = "name";
const PARENT_ID: &str = "parentId";
const STATUS: &str = "status";
const REQUESTS_PER_MINUTE: &str = "requestsPerMinute";
const CONTACTS_PER_DAY: &str = "contactsPerDay";
const REVISION: &str = "revision";
const TERMS_REVISION: &str = "termsRevision";
const GENERATION: &str = "generation";
const SK: &str = "ORG";
const DIRECTORY_PK: &str = "ORGANIZATIONS";
/// The organization's status and limits as each of its keys carries them.
const KEY_ORG_STATUS: &str = "orgStatus";
const KEY_ORG_REQUESTS_PER_MINUTE: &str = "orgRequestsPerMinute";
const KEY_ORG_CONTACTS_PER_DAY: &str = "orgContactsPerDay";
/// The [rank](Stamped::rank) of the terms a key carries.
pub(crate) const KEY_ORG_TERMS_RANK: &str = "orgTermsRank";
/// Deep enough for any real hierarchy, small enough to bound the cycle check
/// (and the conditions of the write that sets a parent).
pub const MAX_DEPTH: usize = 32;
/// How often a change re-reads and retries when it meets a concurrent one.
const ATTEMPTS: usize = 5;

orgkeys_api::wire_enum!(
    /// Whether an organization's keys may be used.
    #[derive(Default)]
    OrganizationStatus {
        #[default]
        Active => "active",
        /// Every key is refused by the authorizer; admin routes keep working.
        Suspended => "suspended",
    }
);

/// An organization: the tenant that owns keys, schedules and conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub organization_id: OrgId,
    pub name: String,
    pub parent_id: Option<OrgId>,
    pub status: OrganizationStatus,
    /// As set; `None` takes the default.
    pub limits: Limits,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Organization {
    /// What each of its keys carries of it.
    pub fn terms(&self) -> Terms {
        Terms {
            suspended: self.status == OrganizationStatus::Suspended,
            limits: self.limits,
        }
    }

    /// Whether `other` says something different (times aside).
    fn differs_from(&self, other: &Organization) -> bool {
        let fields = |org: &Organization| {
            (
                org.name.clone(),
                org.parent_id.clone(),
                org.status,
                org.limits,
            )
        };
        fields(self) != fields(other)
    }
}

/// What every key of an organization carries of it, so that the authorizer
/// decides with one read of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Terms {
    pub suspended: bool,
    /// The organization's limits as set (`None`: the default).
    pub limits: Limits,
}

impl Terms {
    /// The attributes a key item stores these terms in.
    pub(crate) fn attributes(self) -> Item {
        let status = if self.suspended {
            OrganizationStatus::Suspended
        } else {
            OrganizationStatus::Active
        };
        let mut item = Item::from([(KEY_ORG_STATUS.to_owned(), s(status.as_str()))]);
        write_limits(
            &mut item,
            self.limits,
            KEY_ORG_REQUESTS_PER_MINUTE,
            KEY_ORG_CONTACTS_PER_DAY,
        );
        item
    }

    /// The attributes [`attributes`](Self::attributes) may leave out (a
    /// limit at its default), which a change of terms must remove.
    pub(crate) fn removable() -> [&'static str; 2] {
        [KEY_ORG_REQUESTS_PER_MINUTE, KEY_ORG_CONTACTS_PER_DAY]
    }

    /// The terms a key item carries; a key written before terms existed
    /// carries none and is of an active organization.
    pub(crate) fn of_key_item(item: &Item) -> Result<Terms, CorruptItem> {
        let status = match optional_string(item, KEY_ORG_STATUS)? {
            None => OrganizationStatus::Active,
            Some(text) => text
                .parse()
                .map_err(|_| CorruptItem(format!("unknown {KEY_ORG_STATUS}")))?,
        };
        Ok(Terms {
            suspended: status == OrganizationStatus::Suspended,
            limits: read_limits(item, KEY_ORG_REQUESTS_PER_MINUTE, KEY_ORG_CONTACTS_PER_DAY)?,
        })
    }
}

/// An organization's terms as of one `termsRevision`: what a key item
/// stores. Pending terms are a change's, written to the keys before it
/// commits: it may yet lose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamped {
    pub terms: Terms,
    /// The `termsRevision` they are of (pending: will be of, if committed).
    pub revision: i64,
    pub pending: bool,
}

impl Stamped {
    /// The order of the writes of a key's terms, stored with them: a
    /// revision's pending terms come after the revision before and before
    /// its own committed terms.
    pub(crate) fn rank(self) -> i64 {
        2 * self.revision - i64::from(self.pending)
    }

    /// The highest rank a key may carry and still take these terms. Pending
    /// terms replace no committed terms of their revision. Committed terms
    /// also replace the pending terms of the next revision: if that change
    /// commits, it writes its terms again after its commit; if it does not,
    /// its terms must not stay.
    pub(crate) fn ceiling(self) -> i64 {
        if self.pending {
            self.rank()
        } else {
            self.rank() + 1
        }
    }

    /// The attributes a key item stores them in.
    pub(crate) fn attributes(self) -> Item {
        let mut item = self.terms.attributes();
        item.insert(KEY_ORG_TERMS_RANK.to_owned(), n(self.rank()));
        item
    }

    /// What a key item carries; a key written before ranks existed carries
    /// the committed terms of revision 0.
    pub(crate) fn of_key_item(item: &Item) -> Result<Stamped, CorruptItem> {
        let rank = optional_number(item, KEY_ORG_TERMS_RANK)?.unwrap_or(0);
        Ok(Stamped {
            terms: Terms::of_key_item(item)?,
            revision: (rank + 1).div_euclid(2),
            pending: rank.rem_euclid(2) == 1,
        })
    }
}

/// Why an organization cannot have the parent asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentRefusal {
    /// The parent, or one of its ancestors, does not exist.
    Missing,
    /// The organization is among the parent's ancestors.
    Cycle,
    /// The hierarchy would be deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl ParentRefusal {
    /// What the client is told.
    pub fn detail(self) -> String {
        match self {
            ParentRefusal::Missing => "no organization with this ID exists".to_owned(),
            ParentRefusal::Cycle => "this parent would make the hierarchy a cycle".to_owned(),
            ParentRefusal::TooDeep => format!("organizations nest at most {MAX_DEPTH} deep"),
        }
    }
}

impl From<ParentRefusal> for StoreError {
    fn from(refusal: ParentRefusal) -> StoreError {
        StoreError::Invalid {
            pointer: "/parentId",
            detail: refusal.detail(),
        }
    }
}

/// Writes the limits that are set under the names given.
fn write_limits(item: &mut Item, limits: Limits, requests: &str, contacts: &str) {
    if let Some(value) = limits.requests_per_minute {
        item.insert(requests.to_owned(), n(value.into()));
    }
    if let Some(value) = limits.contacts_per_day {
        item.insert(contacts.to_owned(), n(value.into()));
    }
}

/// Reads limits written by [`write_limits`].
pub(crate) fn read_limits(
    item: &Item,
    requests: &str,
    contacts: &str,
) -> Result<Limits, CorruptItem> {
    let limit = |name: &str| {
        optional_number(item, name)?
            .map(|value| {
                u32::try_from(value).map_err(|_| CorruptItem(format!("{name} out of range")))
            })
            .transpose()
    };
    Ok(Limits {
        requests_per_minute: limit(requests)?,
        contacts_per_day: limit(contacts)?,
    })
}

/// The counters a conditional write on the organization item checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version {
    revision: i64,
    generation: i64,
    /// Not checked by writes: it changes only with `revision`.
    terms_revision: i64,
}

/// What [`Store::save_organization`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Created,
    Updated,
    /// The organization already was as asked; nothing was recorded.
    Unchanged,
}

/// What [`Store::delete_organization`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deleted {
    pub keys: usize,
    pub schedules: usize,
    /// Conversations, idempotency records, usage counters and users'
    /// membership records.
    pub records: usize,
}

fn address(org_id: &OrgId) -> Item {
    item_address(crate::tenancy::partition(org_id), SK.to_owned())
}

/// An organization's entry in the directory, or a position in it.
fn directory_address(id: &str) -> Item {
    item_address(DIRECTORY_PK.to_owned(), id.to_owned())
}

fn from_item(item: &Item) -> Result<Organization, CorruptItem> {
    Ok(Organization {
        organization_id: stored_org_id(item, ORG_ID)?,
        name: string(item, NAME)?,
        parent_id: optional_stored_org_id(item, PARENT_ID)?,
        status: match item.get(STATUS) {
            None => OrganizationStatus::Active,
            Some(_) => parsed(item, STATUS)?,
        },
        limits: read_limits(item, REQUESTS_PER_MINUTE, CONTACTS_PER_DAY)?,
        created_at: required_time(item, CREATED_AT)?,
        updated_at: required_time(item, UPDATED_AT)?,
    })
}

fn version_of(item: &Item) -> Result<Version, CorruptItem> {
    Ok(Version {
        revision: optional_number(item, REVISION)?.unwrap_or(0),
        generation: optional_number(item, GENERATION)?.unwrap_or(0),
        terms_revision: optional_number(item, TERMS_REVISION)?.unwrap_or(0),
    })
}

/// The terms of `org` as stored at `version`.
fn stamped(org: &Organization, version: Version) -> Stamped {
    Stamped {
        terms: org.terms(),
        revision: version.terms_revision,
        pending: false,
    }
}

fn attributes(org: &Organization) -> Item {
    let mut item = Item::from([
        (ORG_ID.to_owned(), s(org.organization_id.as_str())),
        (NAME.to_owned(), s(&org.name)),
        (STATUS.to_owned(), s(org.status.as_str())),
        (CREATED_AT.to_owned(), time(org.created_at)),
        (UPDATED_AT.to_owned(), time(org.updated_at)),
    ]);
    if let Some(parent) = &org.parent_id {
        item.insert(PARENT_ID.to_owned(), s(parent.as_str()));
    }
    write_limits(&mut item, org.limits, REQUESTS_PER_MINUTE, CONTACTS_PER_DAY);
    item
}

/// Where a saved organization sits: its ancestors (root first), the chain
/// of a new parent as read (nearest first, each with its parent), and the
/// organizations below it whose ancestry a move rewrites.
#[derive(Debug, Default)]
struct Placement {
    ancestors: Vec<OrgId>,
    chain: Vec<(OrgId, Option<OrgId>)>,
    descendants: Vec<Descendant>,
}

impl Placement {
    /// Under the parent whose chain (nearest first) is `chain`.
    fn under(chain: Vec<(OrgId, Option<OrgId>)>) -> Placement {
        Placement {
            ancestors: chain.iter().rev().map(|(id, _)| id.clone()).collect(),
            chain,
            descendants: Vec::new(),
        }
    }

    /// Where it was: nothing below it changes.
    fn unmoved(ancestors: Vec<OrgId>) -> Placement {
        Placement {
            ancestors,
            ..Placement::default()
        }
    }

    /// The writes of a save at this place besides the descendants': the
    /// organization, its directory entry, its event and one per ancestor.
    fn writes(&self) -> usize {
        3 + self.chain.len()
    }
}

/// The transaction write, for a write that places a descendant under
/// organization `org_id`, that holds only while `org_id` still has the
/// parent `parent` read, and counts the descendant in its generation: a move
/// of `org_id` (conditional on its generation) then cannot miss it.
fn ancestor_gains_descendant(
    store: &Store,
    org_id: &OrgId,
    parent: Option<&OrgId>,
) -> Result<TransactWriteItem, StoreError> {
    let condition = match parent {
        Some(parent) => Condition::new("#parent = :parent").value(":parent", s(parent.as_str())),
        None => Condition::new("attribute_exists(PK) AND attribute_not_exists(#parent)"),
    };
    Update::at(address(org_id), condition.name("#parent", PARENT_ID))
        .add(GENERATION, n(1))
        .transaction_write(store)
}

/// A condition that the organization item still has `version` (a counter
/// never written reads as zero).
fn version_condition(version: Version) -> Condition {
    let counters = [
        ("#revision", REVISION, ":revision", version.revision),
        ("#generation", GENERATION, ":generation", version.generation),
    ];
    let mut clauses = vec!["attribute_exists(PK)".to_owned()];
    for (name, _, placeholder, value) in counters {
        clauses.push(match value {
            0 => format!("attribute_not_exists({name})"),
            _ => format!("{name} = {placeholder}"),
        });
    }
    let mut condition = Condition::new(clauses.join(" AND "));
    for (name, attribute, placeholder, value) in counters {
        condition = condition.name(name, attribute);
        if value != 0 {
            condition = condition.value(placeholder, n(value));
        }
    }
    condition
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Organization {
        let now = crate::wire_time::parse("2026-01-02T03:04:05.678Z").unwrap();
        Organization {
            organization_id: OrgId::parse("acme").unwrap(),
            name: "Acme".into(),
            parent_id: Some(OrgId::parse("group").unwrap()),
            status: OrganizationStatus::Suspended,
            limits: Limits {
                requests_per_minute: Some(5),
                contacts_per_day: None,
            },
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn organizations_round_trip_and_an_item_without_status_is_active() {
        let org = org();
        let mut item = attributes(&org);
        assert_eq!(from_item(&item).unwrap(), org);
        item.remove(STATUS);
        assert_eq!(from_item(&item).unwrap().status, OrganizationStatus::Active);
    }

    #[test]
    fn terms_round_trip_on_key_items_and_a_key_without_them_is_of_an_active_organization() {
        for suspended in [false, true] {
            let terms = Terms {
                suspended,
                limits: Limits {
                    requests_per_minute: None,
                    contacts_per_day: Some(7),
                },
            };
            assert_eq!(Terms::of_key_item(&terms.attributes()).unwrap(), terms);
        }
        assert_eq!(Terms::of_key_item(&Item::new()).unwrap(), Terms::default());
        for (revision, pending) in [(0, false), (4, false), (4, true), (1, true)] {
            let stamped = Stamped {
                terms: Terms::default(),
                revision,
                pending,
            };
            assert_eq!(
                Stamped::of_key_item(&stamped.attributes()).unwrap(),
                stamped
            );
        }
        assert_eq!(Stamped::of_key_item(&Item::new()).unwrap().revision, 0);
    }

    #[test]
    fn committed_terms_replace_the_pending_terms_of_the_next_revision_only() {
        let at = |revision, pending| Stamped {
            terms: Terms::default(),
            revision,
            pending,
        };
        let committed = at(3, false);
        assert!(at(4, true).rank() <= committed.ceiling());
        assert!(at(4, false).rank() > committed.ceiling());
        let pending = at(4, true);
        assert!(at(3, false).rank() <= pending.ceiling());
        assert!(at(4, false).rank() > pending.ceiling());
        assert!(at(5, true).rank() > pending.ceiling());
        let bad = Item::from([(KEY_ORG_STATUS.to_owned(), s("closed"))]);
        assert!(Terms::of_key_item(&bad).is_err());
    }

    #[test]
    fn a_version_never_written_is_checked_as_absent() {
        let condition = version_condition(Version {
            revision: 0,
            generation: 3,
            terms_revision: 0,
        });
        assert_eq!(
            condition.expression(),
            "attribute_exists(PK) AND attribute_not_exists(#revision) AND #generation = :generation"
        );
        assert_eq!(condition.values().len(), 1);
    }
}
