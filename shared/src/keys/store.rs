//! The store calls on a key's two items: create, list, read, change, roll,
//! delete, the authorizer's find, the batch find of reported keys and
//! `lastUsedAt`, and the organization-wide sync of terms and delete.

use super::*;
use crate::dynamo::BATCH_GET_LIMIT;

impl Store {
    /// Writes both items of a new key, with its organization's terms, and
    /// its `api_key.created` event, in one transaction conditional on the
    /// organization being as read ([`StoreError::NotFound`] if there is none).
    /// Returns the record as written.
    pub async fn create_key(
        &self,
        record: &KeyRecord,
        hash: &KeyHash,
        draft: &Draft,
    ) -> Result<KeyRecord, StoreError> {
        let org_id = &record.organization_id;
        let event = draft.event(
            org_id,
            Action::ApiKeyCreated,
            Target::new(TargetType::ApiKey, &record.key_id),
            details([
                ("name", record.name.clone().into()),
                ("scopes", scope_names(&record.scopes)),
                (
                    "expiresAt",
                    record.expires_at.map(crate::wire_time::format).into(),
                ),
            ]),
        );
        let terms = self
            .add_keys(org_id, |stamped| {
                let record = KeyRecord {
                    terms: stamped.terms,
                    ..record.clone()
                };
                Ok(vec![
                    self.put_new(stamp(lookup_item(&record, hash), stamped))?,
                    self.put_new(stamp(listing_item(&record, hash), stamped))?,
                    self.record(&event)?,
                ])
            })
            .await?;
        Ok(KeyRecord {
            terms,
            ..record.clone()
        })
    }

    /// Runs `writes` (made for the organization's terms as read) in one
    /// transaction with the bump of the organization's generation,
    /// conditional on the organization being as read; reads and tries again
    /// when it changed meanwhile. Returns the terms the writes were made for.
    /// [`StoreError::NotFound`] without the organization; any other failed
    /// condition is a [`StoreError::Conflict`].
    async fn add_keys(
        &self,
        org_id: &OrgId,
        writes: impl Fn(Stamped) -> Result<Vec<TransactWriteItem>, StoreError>,
    ) -> Result<Terms, StoreError> {
        for _ in 0..ATTEMPTS {
            let (stamped, version) = self.read_terms(org_id).await?.ok_or(StoreError::NotFound)?;
            let mut all = vec![self.organization_gains_child(org_id, version)?];
            all.extend(writes(stamped)?);
            match self.transact(all).await? {
                None => return Ok(stamped.terms),
                // The organization changed (or went) since it was read.
                Some(0) => continue,
                Some(_) => return Err(StoreError::Conflict),
            }
        }
        Err(StoreError::Conflict)
    }

    /// The organization's keys, oldest first, read consistently.
    pub async fn list_keys(&self, org_id: &OrgId) -> Result<Vec<KeyRecord>, StoreError> {
        let items = self
            .query_all(tenancy::partition(org_id), LISTING_PREFIX)
            .await?;
        let mut records = items
            .iter()
            .map(record_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        records.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.key_id.cmp(&b.key_id))
        });
        Ok(records)
    }

    /// The listing copy of one key and the hash that finds its twin.
    pub async fn get_key(
        &self,
        org_id: &OrgId,
        key_id: &str,
    ) -> Result<Option<(KeyRecord, KeyHash)>, StoreError> {
        let Some(item) = self.get(listing_address(org_id, key_id)).await? else {
            return Ok(None);
        };
        Ok(Some((record_from_item(&item)?, hash_from_item(&item)?)))
    }

    /// Deletes both items of a key and records `api_key.deleted`, in one
    /// transaction; after it returns, the authorizer's consistent read no
    /// longer finds the key.
    pub async fn delete_key(
        &self,
        org_id: &OrgId,
        key_id: &str,
        draft: &Draft,
    ) -> Result<(), StoreError> {
        let (_, hash) = self
            .get_key(org_id, key_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let event = draft.event(
            org_id,
            Action::ApiKeyDeleted,
            Target::new(TargetType::ApiKey, key_id),
            details([]),
        );
        let writes = vec![
            self.delete(listing_address(org_id, key_id), true)?,
            self.delete(lookup_address(&hash), false)?,
            self.record(&event)?,
        ];
        match self.transact(writes).await? {
            None => Ok(()),
            Some(_) => Err(StoreError::NotFound),
        }
    }

    /// Replaces `old` with `successor` in one transaction: both items of the
    /// successor are written with the organization's terms, both items of
    /// `old` get `old_expires_at` and `rolledTo`, and `api_key.rolled` is
    /// recorded. A key can be rolled once, and only while enabled: a second
    /// roll, concurrent or not, or a roll of a disabled key is a
    /// [`StoreError::Conflict`].
    pub async fn roll_key(
        &self,
        old: &KeyRecord,
        old_hash: &KeyHash,
        old_expires_at: DateTime<Utc>,
        successor: &KeyRecord,
        successor_hash: &KeyHash,
        draft: &Draft,
    ) -> Result<KeyRecord, StoreError> {
        let org_id = &old.organization_id;
        let event = draft.event(
            org_id,
            Action::ApiKeyRolled,
            Target::new(TargetType::ApiKey, &old.key_id),
            details([
                ("successorKeyId", successor.key_id.clone().into()),
                (
                    "oldKeyExpiresAt",
                    crate::wire_time::format(old_expires_at).into(),
                ),
            ]),
        );
        let retirement = Item::from([
            (EXPIRES_AT.to_owned(), time(old_expires_at)),
            (TTL.to_owned(), ttl(old_expires_at)),
            (ROLLED_TO.to_owned(), s(&successor.key_id)),
        ]);
        let retire = KeyChange {
            set: &retirement,
            remove: &[],
            // Once only, and only while enabled (a key written before `enabled` is).
            condition: Condition::new(
                "attribute_exists(PK) AND attribute_not_exists(#rolled) \
                 AND (attribute_not_exists(#enabled) OR #enabled = :true)",
            )
            .name("#rolled", ROLLED_TO)
            .name("#enabled", ENABLED)
            .value(":true", AttributeValue::Bool(true)),
        };
        let old_copies = [
            listing_address(org_id, &old.key_id),
            lookup_address(old_hash),
        ];
        let terms = self
            .add_keys(org_id, |stamped| {
                let successor = KeyRecord {
                    terms: stamped.terms,
                    ..successor.clone()
                };
                let lookup = lookup_item(&successor, successor_hash);
                let listing = listing_item(&successor, successor_hash);
                let [retire_listing, retire_lookup] = retire.writes(self, old_copies.clone())?;
                Ok(vec![
                    retire_listing,
                    retire_lookup,
                    self.put_new(stamp(lookup, stamped))?,
                    self.put_new(stamp(listing, stamped))?,
                    self.record(&event)?,
                ])
            })
            .await?;
        Ok(KeyRecord {
            terms,
            ..successor.clone()
        })
    }

    /// Makes `patch` to both copies of the key `old` (as read, with its
    /// `hash`) and records `api_key.updated` (details: the fields it
    /// changed), in one transaction. Only the attributes that change are
    /// written, so concurrent changes of other fields both hold; a patch
    /// that changes nothing writes and records nothing.
    /// [`StoreError::NotFound`] if the key went meanwhile;
    /// [`StoreError::Conflict`] if the patch changes the expiry of a key that
    /// was rolled meanwhile. Returns `old` with the patch applied.
    pub async fn update_key(
        &self,
        old: &KeyRecord,
        hash: &KeyHash,
        patch: &KeyPatch,
        draft: &Draft,
    ) -> Result<KeyRecord, StoreError> {
        let patch = &patch.changes_from(old);
        let (set, remove) = patch.writes();
        if set.is_empty() && remove.is_empty() {
            return Ok(old.clone());
        }
        // A rolled key's expiry is the end of its grace period.
        let condition = if patch.expires_at.is_some() {
            Condition::new("attribute_exists(PK) AND attribute_not_exists(#rolled)")
                .name("#rolled", ROLLED_TO)
        } else {
            Condition::new("attribute_exists(PK)")
        };
        let org_id = &old.organization_id;
        let event = draft.event(
            org_id,
            Action::ApiKeyUpdated,
            Target::new(TargetType::ApiKey, &old.key_id),
            patch.event_details(),
        );
        let copies = [listing_address(org_id, &old.key_id), lookup_address(hash)];
        let change = KeyChange {
            set: &set,
            remove: &remove,
            condition,
        };
        let [listing, lookup] = change.writes(self, copies)?;
        let writes = vec![listing, lookup, self.record(&event)?];
        match self.transact(writes).await? {
            None => Ok(patch.apply(old)),
            Some(_) => match self.get_key(org_id, &old.key_id).await? {
                None => Err(StoreError::NotFound),
                Some(_) => Err(StoreError::Conflict),
            },
        }
    }

    /// Brings every key of the organization whose terms differ from `terms`
    /// to them, both copies of a key in one transaction, each conditional on
    /// the key carrying no terms of a higher rank than `terms` may replace
    /// (a later change's, which stay; [`Stamped::ceiling`]). A key deleted
    /// meanwhile is left deleted.
    pub(crate) async fn sync_key_terms(
        &self,
        org_id: &OrgId,
        terms: Stamped,
    ) -> Result<(), StoreError> {
        let mut behind = Vec::new();
        for item in self
            .query_all(tenancy::partition(org_id), LISTING_PREFIX)
            .await?
        {
            let carried = Stamped::of_key_item(&item)?;
            if carried != terms && carried.rank() <= terms.ceiling() {
                behind.push((string(&item, KEY_ID)?, hash_from_item(&item)?));
            }
        }
        let org_id = org_id.to_owned();
        self.for_each(behind, move |store, (key_id, hash)| {
            let org_id = org_id.clone();
            async move {
                let set = terms.attributes();
                let remove: Vec<&str> = Terms::removable()
                    .into_iter()
                    .filter(|name| !set.contains_key(*name))
                    .collect();
                let change = KeyChange {
                    set: &set,
                    remove: &remove,
                    condition: Condition::new(
                        "attribute_exists(PK) AND \
                         (attribute_not_exists(#termsRank) OR #termsRank <= :ceiling)",
                    )
                    .name("#termsRank", KEY_ORG_TERMS_RANK)
                    .value(":ceiling", n(terms.ceiling())),
                };
                let copies = [listing_address(&org_id, &key_id), lookup_address(&hash)];
                let writes = change.writes(&store, copies)?.to_vec();
                // Cancelled: deleted meanwhile, or a later revision got there first.
                store.transact(writes).await.map(|_| ())
            }
        })
        .await
    }

    /// Deletes every key of the organization, each with its `api_key.deleted`
    /// event (a draft derived from `draft`, a millisecond after the one
    /// before); returns how many it deleted.
    pub(crate) async fn delete_all_keys(
        &self,
        org_id: &OrgId,
        draft: &Draft,
    ) -> Result<usize, StoreError> {
        let mut keys = Vec::new();
        for item in self
            .query_all(tenancy::partition(org_id), LISTING_PREFIX)
            .await?
        {
            keys.push((keys.len(), string(&item, KEY_ID)?, hash_from_item(&item)?));
        }
        let count = keys.len();
        let (org_id, draft) = (org_id.to_owned(), draft.clone());
        self.for_each(keys, move |store, (index, key_id, hash)| {
            let event = draft.derived(&key_id).later(index).event(
                &org_id,
                Action::ApiKeyDeleted,
                Target::new(TargetType::ApiKey, &key_id),
                details([("reason", "organization deleted".into())]),
            );
            let org_id = org_id.clone();
            async move {
                let writes = vec![
                    store.delete(listing_address(&org_id, &key_id), true)?,
                    store.delete(lookup_address(&hash), false)?,
                    store.record(&event)?,
                ];
                // Cancelled: deleted meanwhile by someone else.
                store.transact(writes).await.map(|_| ())
            }
        })
        .await?;
        Ok(count)
    }

    /// The authorizer's lookup: one strongly consistent `GetItem` on the hash,
    /// so a deleted key is unknown at once.
    pub async fn find_key(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, StoreError> {
        let item = self.get(lookup_address(hash)).await?;
        Ok(item.as_ref().map(record_from_item).transpose()?)
    }

    /// The keys with these hashes, from their lookup copies, read strongly
    /// consistently with `BatchGetItem` (up to 100 hashes per call, the
    /// calls in turn); a hash with no key is absent from the answer. Keys
    /// DynamoDB leaves unprocessed are asked for again; still unprocessed
    /// after `BatchGetItem`'s retries, the read is [`StoreError::Unavailable`].
    pub async fn find_keys(
        &self,
        hashes: &[KeyHash],
    ) -> Result<HashMap<KeyHash, KeyRecord>, StoreError> {
        let mut unique: Vec<KeyHash> = Vec::with_capacity(hashes.len());
        for hash in hashes {
            // BatchGetItem refuses a request that names an item twice.
            if !unique.contains(hash) {
                unique.push(*hash);
            }
        }
        let mut found = HashMap::new();
        for chunk in unique.chunks(BATCH_GET_LIMIT) {
            for item in self
                .batch_get(chunk.iter().map(lookup_address).collect())
                .await?
            {
                let hash = string(&item, crate::dynamo::attributes::PK)?
                    .strip_prefix("KEY#")
                    .and_then(KeyHash::from_hex)
                    .ok_or_else(|| CorruptItem("bad key lookup address".into()))?;
                found.insert(hash, record_from_item(&item)?);
            }
        }
        Ok(found)
    }

    /// Stamps `lastUsedAt` on the listing copy of a key; a key deleted
    /// meanwhile is left deleted (the write is conditional).
    pub async fn record_key_use(
        &self,
        org_id: &OrgId,
        key_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let exists = Condition::new("attribute_exists(PK)");
        let result = Update::at(listing_address(org_id, key_id), exists)
            .set(LAST_USED_AT, time(at))
            .request(self)
            .send()
            .await;
        // A key deleted meanwhile stays deleted: the failed condition is fine.
        conditional(result).map(|_| ())
    }
}
