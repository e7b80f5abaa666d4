//! The hierarchy of organizations as the console's access decision needs it:
//! each organization item (and its directory entry) stores its ancestors,
//! root first, as one string `ancestry` = `/root/…/parent/` (`/` for a root;
//! IDs never contain `/`). So "may a user of `home` act on `org`?" is one
//! read of `org`, and "everything below `home`" is one filtered Query of the
//! directory (`contains(ancestry, "/home/")`).
//!
//! Ancestry is derived: a re-parenting rewrites it on every organization
//! below, in the same transaction as the move, each write conditional on the
//! ancestry read; a sub-organization created meanwhile bumps the
//! `generation` of each of its ancestors in its own transaction, so the
//! move (conditional on the generation it read) cannot miss it. An item
//! written before ancestry existed has none; its chain is then walked (its
//! next save stores it).

use super::*;
use crate::dynamo::attributes::stored_org_ids;
use aws_sdk_dynamodb::types::AttributeValue;

const ANCESTRY: &str = "ancestry";
/// DynamoDB's limit of writes in one transaction.
const TRANSACTION_LIMIT: usize = 100;

/// An organization's ancestors, root first; `None` on an item written
/// before ancestry was stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Ancestry(pub Option<Vec<OrgId>>);

impl Ancestry {
    pub(crate) fn of_item(item: &Item) -> Result<Ancestry, CorruptItem> {
        Ok(Ancestry(stored_org_ids(item, ANCESTRY)?))
    }

    /// Whether `home` is one of these ancestors (known only when stored).
    fn includes(&self, home: &OrgId) -> Option<bool> {
        self.0.as_ref().map(|ids| ids.contains(home))
    }
}

/// The stored form of a list of ancestors.
pub(crate) fn ancestry_value(ancestors: &[OrgId]) -> AttributeValue {
    let mut text = String::from("/");
    for id in ancestors {
        text.push_str(id.as_str());
        text.push('/');
    }
    s(text)
}

/// Writes `ancestors` on `item`.
pub(crate) fn write_ancestry(item: &mut Item, ancestors: &[OrgId]) {
    item.insert(ANCESTRY.to_owned(), ancestry_value(ancestors));
}

/// An organization below one being moved, and the ancestry it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Descendant {
    organization_id: OrgId,
    old: Vec<OrgId>,
    new: Vec<OrgId>,
}

impl Store {
    /// The organization `org_id` if a user whose home is `home` may act on
    /// it: it is `home` or below it. `None` for one that does not exist and
    /// for one outside the tree alike. One read, unless the item predates
    /// stored ancestry.
    pub async fn organization_within(
        &self,
        home: &OrgId,
        org_id: &OrgId,
    ) -> Result<Option<Organization>, StoreError> {
        let Some((org, _, ancestry)) = self.read_organization(org_id).await? else {
            return Ok(None);
        };
        let within = self.is_within(home, &org, &ancestry).await?;
        Ok(within.then_some(org))
    }

    /// Whether `org`, with `ancestry` as stored, is `home` or below it; an
    /// item that predates stored ancestry has its parents walked.
    async fn is_within(
        &self,
        home: &OrgId,
        org: &Organization,
        ancestry: &Ancestry,
    ) -> Result<bool, StoreError> {
        if org.organization_id == *home {
            return Ok(true);
        }
        match ancestry.includes(home) {
            Some(known) => Ok(known),
            None => match self.chain_of(org).await {
                Ok(chain) => Ok(chain.contains(home)),
                // A chain that cannot be walked (a parent deleted before
                // deletes refused parents): within no one else's tree.
                Err(StoreError::Invalid { .. }) => Ok(false),
                Err(other) => Err(other),
            },
        }
    }

    /// The ancestors of `org` (root first), walked from its parents; for an
    /// item that predates stored ancestry.
    pub(crate) async fn chain_of(&self, org: &Organization) -> Result<Vec<OrgId>, StoreError> {
        let Some(parent) = &org.parent_id else {
            return Ok(Vec::new());
        };
        let chain = self.ancestors(&org.organization_id, parent).await?;
        Ok(chain.into_iter().rev().map(|(id, _)| id).collect())
    }

    /// Whether any organization names `org_id` as its parent.
    pub async fn has_children(&self, org_id: &OrgId) -> Result<bool, StoreError> {
        let children = || {
            self.directory_query()
                .filter_expression("#parent = :org")
                .expression_attribute_names("#parent", PARENT_ID)
                .expression_attribute_values(":org", s(org_id))
        };
        let (found, _) = self.query_page(children, true, 1, None, |_| Ok(())).await?;
        Ok(!found.is_empty())
    }

    /// Creates `wanted` (with a parent) for a console user whose home is
    /// `home`: `None` when an organization has the ID. Refused as missing ([`StoreError::NotFound`]) unless the
    /// parent's chain as read, on which the commit is conditional, passes
    /// through `home`; nothing of an existing organization is read beyond
    /// its existence, and nothing of it is written.
    pub async fn create_organization_within(
        &self,
        home: &OrgId,
        wanted: Organization,
        draft: &Draft,
    ) -> Result<Option<Organization>, StoreError> {
        let parent = wanted.parent_id.clone().ok_or(StoreError::NotFound)?;
        for _ in 0..ATTEMPTS {
            if self.get(address(&wanted.organization_id)).await?.is_some() {
                return Ok(None);
            }
            let chain = self.ancestors(&wanted.organization_id, &parent).await?;
            if !chain.iter().any(|(id, _)| id == home) {
                return Err(StoreError::NotFound);
            }
            // `None`: created meanwhile, or the chain moved; read again.
            if let Some((org, _)) = self
                .create_organization_at(wanted.clone(), chain, draft)
                .await?
            {
                return Ok(Some(org));
            }
        }
        Err(StoreError::Conflict)
    }

    /// One page of the organizations `home` and below, in ID order (the
    /// console's list): the directory, filtered on ancestry. An entry
    /// written before ancestry was stored is read too and kept if its walked
    /// chain passes through `home` (such a page may hold fewer than `limit`).
    pub async fn list_organizations_within(
        &self,
        home: &OrgId,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<Organization>, Option<String>), StoreError> {
        let query = || {
            self.directory_query()
                .filter_expression(
                    "#id = :home OR contains(#ancestry, :needle) OR attribute_not_exists(#ancestry)",
                )
                .expression_attribute_names("#id", ORG_ID)
                .expression_attribute_names("#ancestry", ANCESTRY)
                .expression_attribute_values(":home", s(home))
                .expression_attribute_values(":needle", s(format!("/{home}/")))
        };
        let after = after.map(directory_address);
        let parse = |item: &Item| Ok((from_item(item)?, Ancestry::of_item(item)?));
        let (found, next) = self.query_page(query, true, limit, after, parse).await?;
        let mut within = Vec::with_capacity(found.len());
        for (org, ancestry) in found {
            if self.is_within(home, &org, &ancestry).await? {
                within.push(org);
            }
        }
        Ok((within, next))
    }

    /// Every organization below `org_id`, with the ancestry each gets when
    /// `org_id`'s own ancestors become `moved_to`. Refused when one would
    /// nest deeper than [`MAX_DEPTH`], or when there are more than one
    /// transaction can rewrite beside `other_writes` writes.
    pub(crate) async fn descendants_moved(
        &self,
        org_id: &OrgId,
        moved_to: &[OrgId],
        other_writes: usize,
    ) -> Result<Vec<Descendant>, StoreError> {
        let below = || {
            self.directory_query()
                .filter_expression("contains(#ancestry, :needle)")
                .expression_attribute_names("#ancestry", ANCESTRY)
                .expression_attribute_values(":needle", s(format!("/{org_id}/")))
        };
        let (items, _) = self
            .query_page(below, true, usize::MAX, None, |item| Ok(item.clone()))
            .await?;
        let mut descendants = Vec::new();
        for item in &items {
            let old = Ancestry::of_item(item)?.0.unwrap_or_default();
            let Some(at) = old.iter().position(|id| id == org_id) else {
                continue;
            };
            let organization_id = stored_org_id(item, ORG_ID)?;
            // Placed below the moved organization since its new parent's
            // chain was read: the move would now make a cycle.
            if moved_to.contains(&organization_id) {
                return Err(ParentRefusal::Cycle.into());
            }
            let mut new = moved_to.to_vec();
            new.extend(old[at..].iter().cloned());
            if new.len() > MAX_DEPTH {
                return Err(ParentRefusal::TooDeep.into());
            }
            descendants.push(Descendant {
                organization_id,
                old,
                new,
            });
        }
        // Each descendant is two writes: its item and its directory entry.
        let room = TRANSACTION_LIMIT.saturating_sub(other_writes) / 2;
        if descendants.len() > room {
            return Err(StoreError::Invalid {
                pointer: "/parentId",
                detail: format!(
                    "an organization with more than {room} organizations below it cannot be \
                     moved in one step; move some of them first"
                ),
            });
        }
        Ok(descendants)
    }

    /// The writes that give each of `descendants` its new ancestry, each
    /// conditional on the ancestry read.
    pub(crate) fn descendant_writes(
        &self,
        descendants: &[Descendant],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut writes = Vec::new();
        for descendant in descendants {
            let id = &descendant.organization_id;
            for (at, is_item) in [(address(id), true), (directory_address(id.as_str()), false)] {
                let unchanged = Condition::new("#ancestry = :old")
                    .name("#ancestry", ANCESTRY)
                    .value(":old", ancestry_value(&descendant.old));
                let mut write =
                    Update::at(at, unchanged).set(ANCESTRY, ancestry_value(&descendant.new));
                // A save of the descendant that read it before the move is
                // conditional on its revision: it reads again rather than
                // write the old ancestry back.
                if is_item {
                    write = write.add(REVISION, n(1));
                }
                writes.push(write.transaction_write(self)?);
            }
        }
        Ok(writes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestry_round_trips_and_a_root_has_none() {
        let id = |id: &str| OrgId::parse(id).unwrap();
        for ancestors in [vec![], vec![id("acme"), id("acme-emea")]] {
            let mut item = Item::new();
            write_ancestry(&mut item, &ancestors);
            assert_eq!(Ancestry::of_item(&item).unwrap(), Ancestry(Some(ancestors)));
        }
        assert_eq!(Ancestry::of_item(&Item::new()).unwrap(), Ancestry(None));
    }

    #[test]
    fn only_a_whole_id_is_an_ancestor() {
        let id = |id: &str| OrgId::parse(id).unwrap();
        let ancestry = Ancestry(Some(vec![id("acme-emea")]));
        assert_eq!(ancestry.includes(&id("acme")), Some(false));
        assert_eq!(ancestry.includes(&id("acme-emea")), Some(true));
        assert_eq!(Ancestry(None).includes(&id("acme")), None);
        // The filter's needle is delimited, so "acme" does not match "acme-emea".
        assert_eq!(
            ancestry_value(&[id("acme-emea")]).as_s().unwrap(),
            "/acme-emea/"
        );
    }
}
