//! The store calls on an organization: read, save (keys brought to its terms first), list, delete.

use super::*;

impl Store {
    pub async fn get_organization(&self, org_id: &str) -> Result<Option<Organization>, StoreError> {
        Ok(self.read_organization(org_id).await?.map(|(org, _)| org))
    }

    /// The organization and the version a conditional write on it checks.
    pub(crate) async fn read_organization(
        &self,
        org_id: &str,
    ) -> Result<Option<(Organization, Version)>, StoreError> {
        let Some(item) = self.get(address(org_id)).await? else {
            return Ok(None);
        };
        Ok(Some((from_item(&item)?, version_of(&item)?)))
    }

    /// Creates or changes an organization: `change` gets what is stored (if
    /// anything) and returns what should be. Its keys are brought to the new
    /// terms first, then the organization item, its directory entry and the
    /// event (`organization.created`, `.suspended`, `.resumed` or `.updated`)
    /// commit in one transaction, conditional on nothing having changed since
    /// the read (otherwise it reads and tries again). `createdAt` survives
    /// changes. A call that changes nothing records nothing, but still brings
    /// any key a cut-short change left behind to the organization's terms.
    pub async fn save_organization<E: From<StoreError>>(
        &self,
        org_id: &str,
        draft: &Draft,
        mut change: impl FnMut(Option<&Organization>) -> Result<Organization, E>,
    ) -> Result<(Organization, Saved), E> {
        let now = draft.occurred_at;
        for _ in 0..ATTEMPTS {
            let existing = self.read_organization(org_id).await?;
            let mut wanted = change(existing.as_ref().map(|(org, _)| org))?;
            wanted.organization_id = org_id.to_owned();
            let (action, version) = match &existing {
                None => {
                    (wanted.created_at, wanted.updated_at) = (now, now);
                    (Action::OrganizationCreated, None)
                }
                Some((old, version)) => {
                    wanted.created_at = old.created_at;
                    wanted.updated_at = old.updated_at;
                    self.sync_key_terms(org_id, wanted.terms()).await?;
                    if !wanted.differs_from(old) {
                        return Ok((wanted, Saved::Unchanged));
                    }
                    wanted.updated_at = now;
                    let action = match (old.status, wanted.status) {
                        (OrganizationStatus::Active, OrganizationStatus::Suspended) => {
                            Action::OrganizationSuspended
                        }
                        (OrganizationStatus::Suspended, OrganizationStatus::Active) => {
                            Action::OrganizationResumed
                        }
                        _ => Action::OrganizationUpdated,
                    };
                    (action, Some(*version))
                }
            };
            let event = draft.event(
                org_id,
                action,
                Target::new(TargetType::Organization, org_id),
                details([
                    ("name", wanted.name.clone().into()),
                    ("parentId", wanted.parent_id.clone().into()),
                    ("status", wanted.status.as_str().into()),
                    (
                        "requestsPerMinute",
                        wanted.limits.requests_per_minute.into(),
                    ),
                    ("contactsPerDay", wanted.limits.contacts_per_day.into()),
                ]),
            );
            let writes = vec![
                self.organization_write(&wanted, version)?,
                self.directory_put(&wanted)?,
                self.record(&event)?,
            ];
            if self.transact(writes).await?.is_none() {
                let saved = match existing {
                    None => Saved::Created,
                    Some(_) => Saved::Updated,
                };
                return Ok((wanted, saved));
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// Writes `org` (all of it), bumping its revision: a new item when
    /// `version` is `None`, else conditional on `version`.
    fn organization_write(
        &self,
        org: &Organization,
        version: Option<Version>,
    ) -> Result<TransactWriteItem, StoreError> {
        let (condition, mut values) = match version {
            None => ("attribute_not_exists(PK)".to_owned(), Item::new()),
            Some(version) => version_condition(version),
        };
        values.insert(":one".to_owned(), n(1));
        let mut names = counter_names();
        if version.is_none() {
            names.remove("#generation");
        }
        let mut sets = Vec::new();
        for (i, (name, value)) in attributes(org).into_iter().enumerate() {
            sets.push(format!("#a{i} = :a{i}"));
            names.insert(format!("#a{i}"), name);
            values.insert(format!(":a{i}"), value);
        }
        let mut expression = format!("SET {} ADD #revision :one", sets.join(", "));
        let unset = [
            (PARENT_ID, org.parent_id.is_none()),
            (
                REQUESTS_PER_MINUTE,
                org.limits.requests_per_minute.is_none(),
            ),
            (CONTACTS_PER_DAY, org.limits.contacts_per_day.is_none()),
        ];
        let removed: Vec<String> = unset
            .iter()
            .enumerate()
            .filter(|(_, (_, absent))| *absent)
            .map(|(i, (name, _))| {
                names.insert(format!("#r{i}"), (*name).to_owned());
                format!("#r{i}")
            })
            .collect();
        if !removed.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removed.join(", ")));
        }
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(address(&org.organization_id)))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(StoreError::from_build)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn directory_put(&self, org: &Organization) -> Result<TransactWriteItem, StoreError> {
        let mut item = attributes(org);
        item.extend(directory_address(&org.organization_id));
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
        org_id: &str,
        version: Version,
    ) -> Result<TransactWriteItem, StoreError> {
        let (condition, values) = version_condition(version);
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(address(org_id)))
            .update_expression("ADD #generation :one")
            .condition_expression(condition)
            .set_expression_attribute_names(Some(counter_names()))
            .set_expression_attribute_values(Some(
                values
                    .into_iter()
                    .chain([(":one".to_owned(), n(1))])
                    .collect(),
            ))
            .build()
            .map_err(StoreError::from_build)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// One page of organizations in ID order, at most `limit`, resuming after
    /// the organization ID `after`; with the ID to resume after when more may
    /// follow.
    pub async fn list_organizations(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<Organization>, Option<String>), StoreError> {
        let query = || {
            self.client()
                .query()
                .table_name(self.table())
                .consistent_read(true)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(DIRECTORY_PK))
        };
        let after = after.map(directory_address);
        self.query_page(query, false, limit, after, from_item).await
    }

    /// Deletes an organization: suspends it (recording
    /// `organization.suspended`) unless it already is, so that a delete cut
    /// short leaves an organization none of whose keys work; deletes its keys
    /// and schedules, each with its own event; then deletes the organization
    /// and its directory entry and records `organization.deleted`, in one
    /// transaction conditional on no key or schedule having been added
    /// meanwhile (otherwise it goes round again). Repeating a delete that was
    /// cut short finishes it. Conversations, idempotency records and audit
    /// events stay until their TTL.
    pub async fn delete_organization(
        &self,
        org_id: &str,
        draft: &Draft,
    ) -> Result<Deleted, StoreError> {
        let mut deleted = Deleted::default();
        for _ in 0..ATTEMPTS {
            let (org, version) = self
                .read_organization(org_id)
                .await?
                .ok_or(StoreError::NotFound)?;
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
            let (condition, values) = version_condition(version);
            let delete = Delete::builder()
                .table_name(self.table())
                .set_key(Some(address(org_id)))
                .condition_expression(condition)
                .set_expression_attribute_names(Some(counter_names()))
                .set_expression_attribute_values((!values.is_empty()).then_some(values))
                .build()
                .map_err(StoreError::from_build)?;
            let writes = vec![
                TransactWriteItem::builder().delete(delete).build(),
                self.delete(directory_address(org_id), false)?,
                self.record(&event)?,
            ];
            if self.transact(writes).await?.is_none() {
                return Ok(deleted);
            }
        }
        Err(StoreError::Conflict)
    }
}
