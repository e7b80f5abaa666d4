//! Schedules: what an outbound campaign sends under. Item `ORG#<orgId>` /
//! `SCHED#<scheduleId>`, so an organization's schedules list in ID order with
//! one Query.

use crate::audit::{Action, Draft, Target, TargetType, details};
use crate::dynamo::attributes::{
    CREATED_AT, CorruptItem, ITEM_TYPE, Item, ORG_ID, UPDATED_AT, item_address, optional_time,
    parsed, required_time, s, stored_org_id, string, time,
};
use crate::dynamo::update::{Condition, Update};
use crate::dynamo::{Store, StoreError};
use crate::tenancy;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use orgkeys_api::OrgId;

const SCHEDULE_ID: &str = "scheduleId";
const NAME: &str = "name";
const CAMPAIGN: &str = "campaign";
const CHANNEL: &str = "channel";
const STATUS: &str = "status";
const STARTS_AT: &str = "startsAt";
const ENDS_AT: &str = "endsAt";
/// The sort-key prefix of schedules (public for the benchmark's bare Query).
pub const SK_PREFIX: &str = "SCHED#";

orgkeys_api::wire_enum!(
    /// How a schedule reaches contacts.
    Channel { Sms => "sms", Whatsapp => "whatsapp", Webchat => "webchat", Email => "email" }
);

orgkeys_api::wire_enum!(
    /// Whether a schedule accepts new outbound conversations (only `active` does).
    ScheduleStatus { Active => "active", Paused => "paused", Ended => "ended" }
);

/// A schedule: what an outbound campaign sends under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub organization_id: OrgId,
    pub schedule_id: String,
    pub name: String,
    pub campaign: String,
    pub channel: Channel,
    pub status: ScheduleStatus,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Schedule {
    /// Whether `other` says the same (times of writing aside).
    fn same_as(&self, other: &Schedule) -> bool {
        let unstamped = Schedule {
            created_at: self.created_at,
            updated_at: self.updated_at,
            ..other.clone()
        };
        *self == unstamped
    }

    /// Active and not past its end: new conversations may be queued on it.
    pub fn accepts_dispatch(&self, now: DateTime<Utc>) -> bool {
        self.status == ScheduleStatus::Active && self.ends_at.is_none_or(|end| now < end)
    }
}

/// Filters of a schedule listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScheduleFilter {
    pub status: Option<ScheduleStatus>,
    pub channel: Option<Channel>,
}

fn address(org_id: &OrgId, schedule_id: &str) -> Item {
    item_address(
        tenancy::partition(org_id),
        format!("{SK_PREFIX}{schedule_id}"),
    )
}

/// A schedule's attributes other than its address and `createdAt`, for `SET`
/// expressions.
fn attributes(schedule: &Schedule) -> Item {
    let mut item = Item::from([
        (ITEM_TYPE.to_owned(), s("SCHEDULE")),
        (ORG_ID.to_owned(), s(&schedule.organization_id)),
        (SCHEDULE_ID.to_owned(), s(&schedule.schedule_id)),
        (NAME.to_owned(), s(&schedule.name)),
        (CAMPAIGN.to_owned(), s(&schedule.campaign)),
        (CHANNEL.to_owned(), s(schedule.channel.as_str())),
        (STATUS.to_owned(), s(schedule.status.as_str())),
        (UPDATED_AT.to_owned(), time(schedule.updated_at)),
    ]);
    for (name, at) in [(STARTS_AT, schedule.starts_at), (ENDS_AT, schedule.ends_at)] {
        item.insert(name.to_owned(), at.map_or(AttributeValue::Null(true), time));
    }
    item
}

fn from_item(item: &Item) -> Result<Schedule, CorruptItem> {
    Ok(Schedule {
        organization_id: stored_org_id(item, ORG_ID)?,
        schedule_id: string(item, SCHEDULE_ID)?,
        name: string(item, NAME)?,
        campaign: string(item, CAMPAIGN)?,
        channel: parsed(item, CHANNEL)?,
        status: parsed(item, STATUS)?,
        starts_at: optional_time(item, STARTS_AT)?,
        ends_at: optional_time(item, ENDS_AT)?,
        created_at: required_time(item, CREATED_AT)?,
        updated_at: required_time(item, UPDATED_AT)?,
    })
}

impl Store {
    /// Creates or replaces a schedule, keeping `createdAt`, and records
    /// `schedule.created` or `schedule.updated`, in one transaction that also
    /// checks the organization is as read ([`StoreError::NotFound`] if there
    /// is none) and counts the schedule in its generation.
    /// `true` when created. A concurrent write makes it read again. A
    /// replacement that changes nothing writes and records nothing, and
    /// returns the schedule as stored.
    pub async fn put_schedule(
        &self,
        schedule: &Schedule,
        draft: &Draft,
    ) -> Result<(Schedule, bool), StoreError> {
        let (org_id, schedule_id) = (&schedule.organization_id, &schedule.schedule_id);
        for _ in 0..3 {
            let (_, version, _) = self
                .read_organization(org_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            let existing = self.get_schedule(org_id, schedule_id).await?;
            if let Some(old) = existing.as_ref().filter(|old| old.same_as(schedule)) {
                return Ok((old.clone(), false));
            }
            let mut saved = schedule.clone();
            let action = match &existing {
                None => Action::ScheduleCreated,
                Some(old) => {
                    saved.created_at = old.created_at;
                    Action::ScheduleUpdated
                }
            };
            // The schedule as read: none, or the one created then.
            let unchanged = match &existing {
                None => Condition::new("attribute_not_exists(PK)"),
                Some(old) => Condition::new("#created = :created")
                    .name("#created", CREATED_AT)
                    .value(":created", time(old.created_at)),
            };
            let mut item = attributes(&saved);
            item.insert(CREATED_AT.to_owned(), time(saved.created_at));
            let update = Update::at(address(org_id, schedule_id), unchanged).set_all(item);
            let event = draft.event(
                org_id,
                action,
                Target::new(TargetType::Schedule, schedule_id),
                details([
                    ("name", schedule.name.clone().into()),
                    ("campaign", schedule.campaign.clone().into()),
                    ("channel", schedule.channel.as_str().into()),
                    ("status", schedule.status.as_str().into()),
                ]),
            );
            let writes = vec![
                update.transaction_write(self)?,
                self.organization_gains_child(org_id, version)?,
                self.record(&event)?,
            ];
            match self.transact(writes).await? {
                None => return Ok((saved, existing.is_none())),
                // The schedule or the organization changed since it was read.
                Some(_) => continue,
            }
        }
        Err(StoreError::Conflict)
    }

    pub async fn get_schedule(
        &self,
        org_id: &OrgId,
        schedule_id: &str,
    ) -> Result<Option<Schedule>, StoreError> {
        let item = self.get(address(org_id, schedule_id)).await?;
        Ok(item.as_ref().map(from_item).transpose()?)
    }

    /// Deletes a schedule and records `schedule.deleted`, in one transaction;
    /// [`StoreError::NotFound`] if there was none.
    pub async fn delete_schedule(
        &self,
        org_id: &OrgId,
        schedule_id: &str,
        draft: &Draft,
    ) -> Result<(), StoreError> {
        let event = draft.event(
            org_id,
            Action::ScheduleDeleted,
            Target::new(TargetType::Schedule, schedule_id),
            details([]),
        );
        let writes = vec![
            self.delete(address(org_id, schedule_id), true)?,
            self.record(&event)?,
        ];
        match self.transact(writes).await? {
            None => Ok(()),
            Some(_) => Err(StoreError::NotFound),
        }
    }

    /// Deletes every schedule of the organization, each with its
    /// `schedule.deleted` event (a draft derived from `draft`, a millisecond
    /// after the one before); returns how many it deleted.
    pub(crate) async fn delete_all_schedules(
        &self,
        org_id: &OrgId,
        draft: &Draft,
    ) -> Result<usize, StoreError> {
        let items = self
            .query_all(tenancy::partition(org_id), SK_PREFIX)
            .await?;
        let ids = items
            .iter()
            .enumerate()
            .map(|(index, item)| Ok((index, string(item, SCHEDULE_ID)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let count = ids.len();
        let (org_id, draft) = (org_id.to_owned(), draft.clone());
        self.for_each(ids, move |store, (index, schedule_id)| {
            let event = draft.derived(&schedule_id).later(index).event(
                &org_id,
                Action::ScheduleDeleted,
                Target::new(TargetType::Schedule, &schedule_id),
                details([("reason", "organization deleted".into())]),
            );
            let address = address(&org_id, &schedule_id);
            async move {
                let writes = vec![store.delete(address, false)?, store.record(&event)?];
                store.transact(writes).await.map(|_| ())
            }
        })
        .await?;
        Ok(count)
    }

    /// One page of an organization's schedules in ID order, at most `limit`,
    /// resuming after the schedule ID `after`. Returns the page and, when more
    /// may follow, the ID to resume after.
    pub async fn list_schedules(
        &self,
        org_id: &OrgId,
        filter: &ScheduleFilter,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<Schedule>, Option<String>), StoreError> {
        let query = || {
            let mut query = self.query_prefix(tenancy::partition(org_id), SK_PREFIX);
            let mut conditions = Vec::new();
            if let Some(status) = filter.status {
                conditions.push("#status = :status");
                query = query
                    .expression_attribute_names("#status", STATUS)
                    .expression_attribute_values(":status", s(status.as_str()));
            }
            if let Some(channel) = filter.channel {
                conditions.push("#channel = :channel");
                query = query
                    .expression_attribute_names("#channel", CHANNEL)
                    .expression_attribute_values(":channel", s(channel.as_str()));
            }
            if conditions.is_empty() {
                query
            } else {
                query.filter_expression(conditions.join(" AND "))
            }
        };
        let filtered = filter.status.is_some() || filter.channel.is_some();
        let after = after.map(|id| address(org_id, id));
        let (found, next) = self
            .query_page(query, filtered, limit, after, from_item)
            .await?;
        let next = next.map(|sk| sk.trim_start_matches(SK_PREFIX).to_owned());
        Ok((found, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_round_trip() {
        let now = crate::wire_time::parse("2026-01-02T03:04:05.678Z").unwrap();
        let schedule = Schedule {
            organization_id: OrgId::parse("acme").unwrap(),
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
        let mut item = attributes(&schedule);
        item.insert(CREATED_AT.into(), time(now));
        assert_eq!(from_item(&item).unwrap(), schedule);

        let later = now + chrono::Duration::hours(1);
        let rewritten = Schedule {
            created_at: later,
            updated_at: later,
            ..schedule.clone()
        };
        assert!(schedule.same_as(&rewritten), "times of writing aside");
        let activated = Schedule {
            status: ScheduleStatus::Active,
            ..rewritten
        };
        assert!(!schedule.same_as(&activated));
    }
}
