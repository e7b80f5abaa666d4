//! The store calls on an organization: read, save (keys brought to its terms
//! before and after), list, delete.

use super::*;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

impl Store {
    pub async fn get_organization(
        &self,
        org_id: &OrgId,
    ) -> Result<Option<Organization>, StoreError> {
        Ok(self.read_organization(org_id).await?.map(|(org, ..)| org))
    }

    /// The organization, the version a conditional write on it checks, and
    /// its ancestry.
    pub(crate) async fn read_organization(
        &self,
        org_id: &OrgId,
    ) -> Result<Option<(Organization, Version, Ancestry)>, StoreError> {
        let Some(item) = self.get(address(org_id)).await? else {
            return Ok(None);
        };
        Ok(Some((
            from_item(&item)?,
            version_of(&item)?,
            Ancestry::of_item(&item)?,
        )))
    }

    /// The organization's terms as stored and the version a conditional
    /// write on it checks, for a key made with them.
    pub(crate) async fn read_terms(
        &self,
        org_id: &OrgId,
    ) -> Result<Option<(Stamped, Version)>, StoreError> {
        let found = self.read_organization(org_id).await?;
        Ok(found.map(|(org, version, _)| (stamped(&org, version), version)))
    }

    /// Creates or changes an organization: `change` gets what is stored (if
    /// anything) and returns what should be. Its keys are brought to the new
    /// terms first, then the organization item, its directory entry and the
    /// event (`organization.created`, `.suspended`, `.resumed` or `.updated`)
    /// commit in one transaction, conditional on nothing having changed since
    /// the read (otherwise it reads and tries again), and the keys are
    /// brought to the terms again. `createdAt` survives changes. A call that
    /// changes nothing writes nothing of the organization and records
    /// nothing, but still brings any key a cut-short change left behind to
    /// the organization's terms. A new parent is refused
    /// ([`StoreError::Invalid`]) if it is missing, or would make a cycle or
    /// too deep a hierarchy. A call that fails leaves the keys at the terms
    /// the organization has.
    pub async fn save_organization<E: From<StoreError>>(
        &self,
        org_id: &OrgId,
        draft: &Draft,
        change: impl FnMut(Option<&Organization>) -> Result<Organization, E>,
    ) -> Result<(Organization, Saved), E> {
        let saved = self.save_attempts(org_id, draft, change).await;
        if saved.is_err() {
            // An attempt that lost may have brought keys to its own terms.
            if let Some((stored, _)) = self.read_terms(org_id).await? {
                self.sync_key_terms(org_id, stored).await?;
            }
        }
        saved
    }

    /// [`save_organization`](Self::save_organization) but the repair.
    async fn save_attempts<E: From<StoreError>>(
        &self,
        org_id: &OrgId,
        draft: &Draft,
        mut change: impl FnMut(Option<&Organization>) -> Result<Organization, E>,
    ) -> Result<(Organization, Saved), E> {
        for _ in 0..ATTEMPTS {
            let existing = self.read_organization(org_id).await?;
            let mut wanted = change(existing.as_ref().map(|(org, ..)| org))?;
            wanted.organization_id = org_id.clone();
            let saved = match existing {
                None => self.create_organization(wanted, draft).await?,
                Some((old, version, ancestry)) => {
                    self.update_organization(wanted, (old, version, ancestry), draft)
                        .await?
                }
            };
            if let Some(saved) = saved {
                return Ok(saved);
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// Writes a new organization, unless one was created meanwhile (`None`).
    /// Its creation comes after every event its ID already has (of an
    /// organization deleted before), so that its audit list, which starts
    /// at its creation, shows none of them.
    async fn create_organization(
        &self,
        wanted: Organization,
        draft: &Draft,
    ) -> Result<Option<(Organization, Saved)>, StoreError> {
        let chain = match &wanted.parent_id {
            Some(parent) => self.ancestors(&wanted.organization_id, parent).await?,
            None => Vec::new(),
        };
        self.create_organization_at(wanted, chain, draft).await
    }

    /// Writes a new organization under the parent whose `chain` was read,
    /// unless one was created meanwhile or the chain changed (`None`).
    pub(super) async fn create_organization_at(
        &self,
        mut wanted: Organization,
        chain: Vec<(OrgId, Option<OrgId>)>,
        draft: &Draft,
    ) -> Result<Option<(Organization, Saved)>, StoreError> {
        let mut created_at = draft.occurred_at;
        if let Some(latest) = self.latest_audit_time(&wanted.organization_id).await? {
            created_at = created_at.max(latest + chrono::Duration::milliseconds(1));
        }
        (wanted.created_at, wanted.updated_at) = (created_at, created_at);
        let draft = Draft {
            occurred_at: created_at,
            ..draft.clone()
        };
        let place = Placement::under(chain);
        let committed = self
            .commit_organization(&wanted, None, &place, Action::OrganizationCreated, &draft)
            .await?;
        Ok(committed.then_some((wanted, Saved::Created)))
    }

    /// Changes `old` (read at `version`, with `ancestry`) to `wanted`, unless
    /// the organization changed meanwhile (`None`). A new parent rewrites
    /// the ancestry of every organization below it in the same transaction.
    async fn update_organization(
        &self,
        mut wanted: Organization,
        (old, version, ancestry): (Organization, Version, Ancestry),
        draft: &Draft,
    ) -> Result<Option<(Organization, Saved)>, StoreError> {
        let org_id = old.organization_id.clone();
        (wanted.created_at, wanted.updated_at) = (old.created_at, old.updated_at);
        let stored = stamped(&old, version);
        if !wanted.differs_from(&old) {
            self.sync_key_terms(&org_id, stored).await?;
            return Ok(Some((wanted, Saved::Unchanged)));
        }
        let terms = if wanted.terms() == old.terms() {
            stored
        } else {
            Stamped {
                terms: wanted.terms(),
                revision: stored.revision + 1,
                pending: true,
            }
        };
        let place = if wanted.parent_id == old.parent_id {
            match (ancestry.0, &old.parent_id) {
                (Some(ancestors), _) => Placement::unmoved(ancestors),
                (None, None) => Placement::unmoved(Vec::new()),
                // Walked, not stored: conditional on the chain as read, so
                // a move above it meanwhile makes this save read again.
                (None, Some(parent)) => Placement::under(self.ancestors(&org_id, parent).await?),
            }
        } else {
            let chain = match &wanted.parent_id {
                Some(parent) => self.ancestors(&org_id, parent).await?,
                None => Vec::new(),
            };
            let mut place = Placement::under(chain);
            place.descendants = self
                .descendants_moved(&org_id, &place.ancestors, place.writes())
                .await?;
            place
        };
        self.sync_key_terms(&org_id, terms).await?;
        wanted.updated_at = draft.occurred_at;
        let action = match (old.status, wanted.status) {
            (OrganizationStatus::Active, OrganizationStatus::Suspended) => {
                Action::OrganizationSuspended
            }
            (OrganizationStatus::Suspended, OrganizationStatus::Active) => {
                Action::OrganizationResumed
            }
            _ => Action::OrganizationUpdated,
        };
        let version = Some((version, terms.pending));
        if !self
            .commit_organization(&wanted, version, &place, action, draft)
            .await?
        {
            return Ok(None);
        }
        // Again, committed: a request that read the organization before
        // this commit may have replaced the pending terms on some keys.
        let committed = Stamped {
            pending: false,
            ..terms
        };
        self.sync_key_terms(&org_id, committed).await?;
        Ok(Some((wanted, Saved::Updated)))
    }

    /// Writes `org` (at `place`), its directory entry and its event in one
    /// transaction, conditional on `version` (none: a new organization) and
    /// on each ancestor of a new parent still having the parent read (each
    /// counts a new descendant in its generation), with the new ancestry of
    /// every organization below a moved one; `false` when a condition
    /// failed. The bool of `version` says the terms changed.
    async fn commit_organization(
        &self,
        org: &Organization,
        version: Option<(Version, bool)>,
        place: &Placement,
        action: Action,
        draft: &Draft,
    ) -> Result<bool, StoreError> {
        let org_id = &org.organization_id;
        let event = draft.event(
            org_id,
            action,
            Target::new(TargetType::Organization, org_id),
            details([
                ("name", org.name.clone().into()),
                ("parentId", org.parent_id.as_ref().map(OrgId::as_str).into()),
                ("status", org.status.as_str().into()),
                ("requestsPerMinute", org.limits.requests_per_minute.into()),
                ("contactsPerDay", org.limits.contacts_per_day.into()),
            ]),
        );
        let mut writes = vec![
            self.organization_write(org, version, &place.ancestors)?,
            self.directory_put(org, &place.ancestors)?,
            self.record(&event)?,
        ];
        for (ancestor, parent) in &place.chain {
            writes.push(ancestor_gains_descendant(self, ancestor, parent.as_ref())?);
        }
        writes.extend(self.descendant_writes(&place.descendants)?);
        Ok(self.transact(writes).await?.is_none())
    }

    /// The ancestors `org_id` would have under `parent`, nearest first, each
    /// with the parent it has as read; refused if one is missing, if
    /// `org_id` is among them, or if there are more than [`MAX_DEPTH`].
    pub(super) async fn ancestors(
        &self,
        org_id: &OrgId,
        parent: &OrgId,
    ) -> Result<Vec<(OrgId, Option<OrgId>)>, StoreError> {
        let mut chain = Vec::new();
        let mut next = Some(parent.clone());
        while let Some(current) = next {
            if chain.len() == MAX_DEPTH {
                return Err(ParentRefusal::TooDeep.into());
            }
            let org = self
                .get_organization(&current)
                .await?
                .ok_or(ParentRefusal::Missing)?;
            if current == *org_id || org.parent_id.as_ref() == Some(org_id) {
                return Err(ParentRefusal::Cycle.into());
            }
            next = org.parent_id.clone();
            chain.push((current, org.parent_id));
        }
        Ok(chain)
    }

    /// Writes `org` (all of it), bumping its revision: a new item when
    /// `version` is `None`, else conditional on `version`.
    fn organization_write(
        &self,
        org: &Organization,
        version: Option<(Version, bool)>,
        ancestors: &[OrgId],
    ) -> Result<TransactWriteItem, StoreError> {
        let condition = match version {
            None => Condition::new("attribute_not_exists(PK)"),
            Some((version, _)) => version_condition(version),
        };
        let mut item = attributes(org);
        write_ancestry(&mut item, ancestors);
        let mut update = Update::at(address(&org.organization_id), condition)
            .set_all(item)
            .add(REVISION, n(1));
        if version.is_some_and(|(_, terms_changed)| terms_changed) {
            update = update.add(TERMS_REVISION, n(1));
        }
        let unset = [
            (PARENT_ID, org.parent_id.is_none()),
            (
                REQUESTS_PER_MINUTE,
                org.limits.requests_per_minute.is_none(),
            ),
            (CONTACTS_PER_DAY, org.limits.contacts_per_day.is_none()),
        ];
        let removed = unset.into_iter().filter(|(_, absent)| *absent);
        update
            .remove_all(removed.map(|(name, _)| name))
            .transaction_write(self)
    }

    fn directory_put(
        &self,
        org: &Organization,
        ancestors: &[OrgId],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut item = attributes(org);
        write_ancestry(&mut item, ancestors);
        item.extend(directory_address(org.organization_id.as_str()));
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .build()
            .map_err(StoreError::from_build)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The write, for a transaction that adds a key or a schedule to the
    /// organization, that holds only while the organization is as read at
    /// `version` and bumps its generation.
    pub(crate) fn organization_gains_child(
        &self,
        org_id: &OrgId,
        version: Version,
    ) -> Result<TransactWriteItem, StoreError> {
        Update::at(address(org_id), version_condition(version))
            .add(GENERATION, n(1))
            .transaction_write(self)
    }

    /// A consistent Query of the directory of organizations, in ID order.
    pub(super) fn directory_query(&self) -> QueryFluentBuilder {
        self.client()
            .query()
            .table_name(self.table())
            .consistent_read(true)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(DIRECTORY_PK))
    }

    /// One page of organizations in ID order, at most `limit`, resuming after
    /// the organization ID `after`; with the ID to resume after when more may
    /// follow.
    pub async fn list_organizations(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<Organization>, Option<String>), StoreError> {
        let query = || self.directory_query();
        let after = after.map(directory_address);
        self.query_page(query, false, limit, after, from_item).await
    }

    /// Deletes an organization: suspends it (recording
    /// `organization.suspended`) unless it already is, so that a delete cut
    /// short leaves an organization none of whose keys work; deletes its keys
    /// and schedules, each with its own event; its conversations,
    /// idempotency records, usage counters and users' membership records
    /// (`users.rs`), a page at a time; then deletes
    /// the organization and its directory entry and records
    /// `organization.deleted`, in one transaction conditional on no key or
    /// schedule having been added meanwhile (otherwise it goes round again).
    /// Repeating a delete that was cut short finishes it. Audit events stay
    /// until their TTL, for the platform operator; a later organization with
    /// the ID lists only its own (`audit.rs`).
    pub async fn delete_organization(
        &self,
        org_id: &OrgId,
        draft: &Draft,
    ) -> Result<Deleted, StoreError> {
        let mut deleted = Deleted::default();
        for _ in 0..ATTEMPTS {
            let (org, version, _) = self
                .read_organization(org_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            // Its children would keep its ID in their ancestry, and whoever
            // created an organization with the ID again would reach them. A
            // child created after this check bumps the generation the
            // delete's commit is conditional on, so it goes round again.
            if self.has_children(org_id).await? {
                return Err(StoreError::HasChildren);
            }
            if org.status == OrganizationStatus::Active {
                let suspend = draft.derived("suspend");
                self.save_organization(org_id, &suspend, |_| {
                    Ok::<_, StoreError>(Organization {
                        status: OrganizationStatus::Suspended,
                        ..org.clone()
                    })
                })
                .await?;
                continue;
            }
            // Each event a millisecond after the one before: the suspension,
            // the keys, the schedules, then the organization's deletion.
            deleted.keys += self.delete_all_keys(org_id, &draft.later(1)).await?;
            let after_keys = draft.later(1 + deleted.keys);
            deleted.schedules += self.delete_all_schedules(org_id, &after_keys).await?;
            deleted.records += self.delete_all_conversations(org_id).await?;
            deleted.records += self.delete_all_idempotency(org_id).await?;
            deleted.records += self.delete_usage(org_id).await?;
            deleted.records += self.delete_all_members(org_id).await?;
            let event = draft.later(1 + deleted.keys + deleted.schedules).event(
                org_id,
                Action::OrganizationDeleted,
                Target::new(TargetType::Organization, org_id),
                details([
                    ("name", org.name.clone().into()),
                    ("keysDeleted", deleted.keys.into()),
                    ("schedulesDeleted", deleted.schedules.into()),
                ]),
            );
            let writes = vec![
                self.delete_when(address(org_id), version_condition(version))?,
                self.delete(directory_address(org_id.as_str()), false)?,
                self.record(&event)?,
            ];
            if self.transact(writes).await?.is_none() {
                return Ok(deleted);
            }
        }
        Err(StoreError::Conflict)
    }
}

impl Store {
    /// A transaction check that holds only while the organization exists:
    /// what an organization owns is never written beside a deleted one.
    pub(crate) fn organization_exists(
        &self,
        org_id: &OrgId,
    ) -> Result<TransactWriteItem, StoreError> {
        let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(self.table())
            .set_key(Some(address(org_id)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(StoreError::from_build)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The organization's ancestors, root first (empty for a root), or
    /// `None` when it does not exist: whose endpoints that include
    /// sub-organizations hear of its events.
    pub async fn ancestors_of(&self, org_id: &OrgId) -> Result<Option<Vec<OrgId>>, StoreError> {
        let Some((org, _, ancestry)) = self.read_organization(org_id).await? else {
            return Ok(None);
        };
        match ancestry.0 {
            Some(ancestors) => Ok(Some(ancestors)),
            None => self.chain_of(&org).await.map(Some),
        }
    }
}
