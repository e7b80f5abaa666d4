//! Limits: how many requests a key may make a minute, and how many contacts
//! an organization may dispatch a UTC day; the counters behind them (in
//! DynamoDB, so every Lambda instance shares one count) and the usage they
//! report.
//!
//! | item                                | PK             | SK                    |
//! |-------------------------------------|----------------|-----------------------|
//! | a key's requests in one minute      | `RATE#<keyId>` | `<window start>`      |
//! | an organization's contacts of a day | `ORG#<orgId>`  | `USAGE#<YYYY-MM-DD>`  |
//!
//! Admission is one conditional update of a counter: it adds only while the
//! result stays within the limit, so concurrent requests never get past it
//! together. Requests are counted in fixed windows of one minute aligned on
//! the clock: simple and one write per request, at the price of admitting up
//! to twice the limit across a window boundary (the end of one minute and the
//! start of the next). Contacts are counted per UTC day, all of a dispatch or
//! none of it. A dispatch under an `Idempotency-Key` claims its key in the
//! same transaction as its count, so a retry that resumes it (the claim
//! exists) never counts it twice. Counters leave by TTL: request windows an hour after they end,
//! days after [`USAGE_RETENTION_DAYS`].

use crate::dynamo::attributes::{Item, PK, TTL, item_address, n, optional_number, s, string};
use crate::dynamo::update::{Condition, Update};
use crate::dynamo::{Store, StoreError, conditional};
use crate::tenancy;
use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use orgkeys_api::OrgId;

/// Requests a key may make per minute unless its organization or the key says otherwise.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 600;
/// Contacts an organization may dispatch per UTC day unless it says otherwise.
pub const DEFAULT_CONTACTS_PER_DAY: u32 = 10_000;
pub const MAX_REQUESTS_PER_MINUTE: u32 = 100_000;
pub const MAX_CONTACTS_PER_DAY: u32 = 10_000_000;
/// How long daily counters are kept (the admin usage route reaches this far back).
pub const USAGE_RETENTION_DAYS: i64 = 90;
/// The request window, in seconds.
pub const WINDOW_SECONDS: i64 = 60;

const COUNT: &str = "count";
const CONTACTS: &str = "contacts";
const DISPATCHES: &str = "dispatches";
const DATE: &str = "date";
const USAGE_PREFIX: &str = "USAGE#";

/// Limits as configured on an organization or a key: `None` takes the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub requests_per_minute: Option<u32>,
    pub contacts_per_day: Option<u32>,
}

impl Limits {
    /// The limits in force, defaults filled in.
    pub fn effective(self, defaults: Defaults) -> Defaults {
        Defaults {
            requests_per_minute: self
                .requests_per_minute
                .unwrap_or(defaults.requests_per_minute),
            contacts_per_day: self.contacts_per_day.unwrap_or(defaults.contacts_per_day),
        }
    }
}

/// The limits of everyone who sets none (`DEFAULT_REQUESTS_PER_MINUTE`,
/// `DEFAULT_CONTACTS_PER_DAY`); also the shape of limits in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    pub requests_per_minute: u32,
    pub contacts_per_day: u32,
}

impl Default for Defaults {
    fn default() -> Defaults {
        Defaults {
            requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
            contacts_per_day: DEFAULT_CONTACTS_PER_DAY,
        }
    }
}

impl Defaults {
    /// `DEFAULT_REQUESTS_PER_MINUTE` and `DEFAULT_CONTACTS_PER_DAY`, each
    /// within the bounds an organization may set.
    pub fn from_env() -> Result<Defaults, String> {
        let read = |name: &str, default: u32, max: u32| match std::env::var(name) {
            Err(_) => Ok(default),
            Ok(text) => match text.trim().parse::<u32>() {
                Ok(value) if (1..=max).contains(&value) => Ok(value),
                _ => Err(format!(
                    "{name} must be a whole number from 1 to {max}; got {text:?}"
                )),
            },
        };
        Ok(Defaults {
            requests_per_minute: read(
                "DEFAULT_REQUESTS_PER_MINUTE",
                DEFAULT_REQUESTS_PER_MINUTE,
                MAX_REQUESTS_PER_MINUTE,
            )?,
            contacts_per_day: read(
                "DEFAULT_CONTACTS_PER_DAY",
                DEFAULT_CONTACTS_PER_DAY,
                MAX_CONTACTS_PER_DAY,
            )?,
        })
    }
}

/// Where a key (requests this minute) or an organization (contacts today)
/// stands against one limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub limit: u32,
    pub used: u32,
    /// When the count starts again from zero.
    pub resets_at: DateTime<Utc>,
}

impl Standing {
    pub fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }
}

/// What became of a dispatch's contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Taken; today's standing when the write returned it.
    Admitted(Option<Standing>),
    /// Today's quota cannot take them: nothing was counted.
    Refused(Standing),
    /// The write that had to hold with the count failed its condition:
    /// nothing was counted (a keyed dispatch's claim, taken by another
    /// attempt).
    Preempted,
}

/// One day of an organization's dispatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyUsage {
    pub date: NaiveDate,
    pub contacts: u64,
    pub dispatches: u64,
}

/// The start of the request window `now` falls in, in epoch seconds.
fn window_start(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(WINDOW_SECONDS) * WINDOW_SECONDS
}

/// The first instant of the UTC day after `now`'s.
pub fn next_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now.date_naive() + Duration::days(1);
    tomorrow
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
}

fn window_partition(key_id: &str) -> String {
    format!("RATE#{key_id}")
}

fn window_address(key_id: &str, start: i64) -> Item {
    item_address(window_partition(key_id), start.to_string())
}

fn day_address(org_id: &OrgId, date: NaiveDate) -> Item {
    item_address(
        tenancy::partition(org_id),
        format!("{USAGE_PREFIX}{}", date.format("%Y-%m-%d")),
    )
}

fn count_of(item: Option<&Item>, name: &str) -> Result<u32, StoreError> {
    let value = item.map(|item| optional_number(item, name)).transpose()?;
    Ok(value.flatten().unwrap_or(0).clamp(0, u32::MAX as i64) as u32)
}

impl Store {
    /// Counts one request of `key_id` against `limit` in the window of `now`:
    /// admitted (and counted) only while the window's count stays within it.
    /// Returns the key's standing after it and whether it was admitted.
    pub async fn count_request(
        &self,
        key_id: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<(Standing, bool), StoreError> {
        let start = window_start(now);
        let resets_at = DateTime::from_timestamp(start + WINDOW_SECONDS, 0).unwrap_or(now);
        let within = Condition::new("attribute_not_exists(#count) OR #count < :limit")
            .name("#count", COUNT)
            .value(":limit", n(limit.into()));
        let result = Update::at(window_address(key_id, start), within)
            .add(COUNT, n(1))
            .set(TTL, n(resets_at.timestamp() + 3600))
            .request(self)
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        let (used, admitted) = match result {
            Ok(output) => (count_of(output.attributes.as_ref(), COUNT)?, true),
            Err(err) => {
                conditional(Err::<(), _>(err))?;
                (limit, false)
            }
        };
        let standing = Standing {
            limit,
            used,
            resets_at,
        };
        Ok((standing, admitted))
    }

    /// The organization's contacts today, against `limit`, read consistently.
    pub async fn contact_day(
        &self,
        org_id: &OrgId,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Standing, StoreError> {
        let item = self.get(day_address(org_id, now.date_naive())).await?;
        Ok(Standing {
            limit,
            used: count_of(item.as_ref(), CONTACTS)?,
            resets_at: next_midnight(now),
        })
    }

    /// Takes `contacts` of today's quota for one dispatch, all or none:
    /// admitted only while today's count stays within `limit`. `with` is a
    /// write that must hold in the same transaction (a keyed dispatch's
    /// idempotency claim): when its condition fails, nothing is taken. A
    /// transaction returns no values, so a dispatch admitted with one does
    /// not learn today's count ([`Taken::Admitted`] without it) rather than
    /// reading it again; a refusal always reads it, for its detail.
    pub async fn take_contacts(
        &self,
        org_id: &OrgId,
        contacts: u32,
        limit: u32,
        with: Option<TransactWriteItem>,
        now: DateTime<Utc>,
    ) -> Result<Taken, StoreError> {
        let date = now.date_naive();
        if contacts > limit {
            return Ok(Taken::Refused(self.contact_day(org_id, limit, now).await?));
        }
        let expires = next_midnight(now) + Duration::days(USAGE_RETENTION_DAYS);
        let within = Condition::new("attribute_not_exists(#contacts) OR #contacts <= :room")
            .name("#contacts", CONTACTS)
            .value(":room", n(i64::from(limit - contacts)));
        let count = Update::at(day_address(org_id, date), within)
            .add(CONTACTS, n(contacts.into()))
            .add(DISPATCHES, n(1))
            .set(DATE, s(date.format("%Y-%m-%d").to_string()))
            .set(TTL, n(expires.timestamp()));
        let Some(with) = with else {
            let result = count
                .request(self)
                .return_values(ReturnValue::UpdatedNew)
                .send()
                .await;
            return match result {
                Ok(output) => Ok(Taken::Admitted(Some(Standing {
                    limit,
                    used: count_of(output.attributes.as_ref(), CONTACTS)?,
                    resets_at: next_midnight(now),
                }))),
                Err(err) => {
                    conditional(Err::<(), _>(err))?;
                    Ok(Taken::Refused(self.contact_day(org_id, limit, now).await?))
                }
            };
        };
        // `with` first: when it fails, its failure is the one reported,
        // whether or not today's count could still take the contacts.
        let writes = vec![with, count.transaction_write(self)?];
        Ok(match self.transact(writes).await? {
            None => Taken::Admitted(None),
            Some(0) => Taken::Preempted,
            Some(_) => Taken::Refused(self.contact_day(org_id, limit, now).await?),
        })
    }

    /// Deletes the organization's daily counters (its
    /// delete): a later organization with its ID starts at zero. Request
    /// windows belong to key IDs, which are never reused, and expire within
    /// the hour. Returns how many it deleted.
    pub(crate) async fn delete_usage(&self, org_id: &OrgId) -> Result<usize, StoreError> {
        self.delete_prefix(tenancy::partition(org_id), USAGE_PREFIX)
            .await
    }

    /// Each of `key_ids`'s requests in the window of `now`, in their order
    /// (zero for a key that made none).
    pub async fn requests_this_minute(
        &self,
        key_ids: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Vec<u32>, StoreError> {
        let start = window_start(now);
        let mut counts = std::collections::HashMap::new();
        for chunk in key_ids.chunks(crate::dynamo::BATCH_GET_LIMIT) {
            let addresses = chunk.iter().map(|id| window_address(id, start)).collect();
            for item in self.batch_get(addresses).await? {
                counts.insert(string(&item, PK)?, count_of(Some(&item), COUNT)?);
            }
        }
        let count = |id: &&str| counts.get(&window_partition(id)).copied().unwrap_or(0);
        Ok(key_ids.iter().map(count).collect())
    }

    /// The organization's daily usage of the last `days` days up to `now`'s,
    /// newest first; days without dispatches are left out.
    pub async fn usage_history(
        &self,
        org_id: &OrgId,
        days: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<DailyUsage>, StoreError> {
        let first = now.date_naive() - Duration::days(i64::from(days.max(1)) - 1);
        let items = self
            .query_prefix(tenancy::partition(org_id), USAGE_PREFIX)
            .scan_index_forward(false)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        let mut usage = Vec::new();
        for item in items.items() {
            let date = NaiveDate::parse_from_str(&string(item, DATE)?, "%Y-%m-%d")
                .map_err(|_| StoreError::Corrupt(format!("{DATE} is not YYYY-MM-DD")))?;
            if date < first || date > now.date_naive() {
                continue;
            }
            usage.push(DailyUsage {
                date,
                contacts: u64::from(count_of(Some(item), CONTACTS)?),
                dispatches: u64::from(count_of(Some(item), DISPATCHES)?),
            });
        }
        Ok(usage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        crate::wire_time::parse(text).unwrap()
    }

    #[test]
    fn windows_are_whole_minutes_and_days_end_at_utc_midnight() {
        let now = at("2026-11-26T10:41:59.999Z");
        assert_eq!(window_start(now), at("2026-11-26T10:41:00Z").timestamp());
        assert_eq!(
            window_start(at("2026-11-26T10:42:00Z")),
            window_start(now) + 60
        );
        assert_eq!(next_midnight(now), at("2026-11-27T00:00:00Z"));
        assert_eq!(
            next_midnight(at("2026-12-31T23:59:59Z")),
            at("2027-01-01T00:00:00Z")
        );
    }

    #[test]
    fn limits_fill_in_defaults_field_by_field() {
        let defaults = Defaults::default();
        let limits = Limits {
            requests_per_minute: Some(5),
            contacts_per_day: None,
        };
        assert_eq!(
            limits.effective(defaults),
            Defaults {
                requests_per_minute: 5,
                contacts_per_day: DEFAULT_CONTACTS_PER_DAY
            }
        );
    }
}
