//! The console's second look at a signed-in user: the token says who they
//! were when it was issued; the membership record (`shared::users`) says who
//! they are now. Every console request but `GET /v1/console/me` needs a
//! record of the token's user in the token's organization, with the token's
//! role, created no later than the token was issued (a token from before its
//! organization, or its user, was (re-)created is stale). One `GetItem`,
//! remembered for at most [`CACHE_FOR`]: a removal or demotion made anywhere
//! takes effect within that, one made by this process at once ([`Memberships::forget`]).

use crate::dynamo::Store;
use crate::edge::problem::Problem;
use crate::edge::user::Member;
use chrono::{DateTime, TimeDelta, Utc};
use orgkeys_api::OrgId;
use orgkeys_api::Role;
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a membership read is trusted.
pub const CACHE_FOR: TimeDelta = TimeDelta::seconds(5);

/// What the record says, as of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Recorded {
    role: Role,
    /// The record's `createdAt`, in whole seconds (a token's `iat` has no fraction).
    since: i64,
}

/// A read of one user's record in one organization, and when it was made.
#[derive(Debug, Clone, Copy)]
struct Read {
    at: DateTime<Utc>,
    recorded: Option<Recorded>,
}

/// The membership checks of one function instance, with their short cache.
#[derive(Debug, Default)]
pub struct Memberships {
    /// By (organization, user).
    reads: Mutex<HashMap<(OrgId, String), Read>>,
}

impl Memberships {
    /// Admits `member`, whose token was issued at `issued_at` (its `iat`),
    /// at `now`: 403 when no record of them is in their token's organization
    /// or the record's role is not the token's, 401 when the token is older
    /// than the record. A store that cannot be read lets nobody in.
    pub async fn admit(
        &self,
        store: &Store,
        member: &Member,
        issued_at: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), Problem> {
        let recorded = self.recorded(store, member, now).await?;
        let Some(recorded) = recorded else {
            return Err(Problem::not_permitted(
                "you are not a user of this organization any more; ask one of its admins",
                None,
            ));
        };
        if recorded.role != member.role {
            return Err(Problem::not_permitted(
                format!("your role is now {}: sign in again", recorded.role.as_str()),
                None,
            ));
        }
        match issued_at {
            Some(iat) if iat >= recorded.since => Ok(()),
            _ => Err(Problem::unauthorized(
                "your sign-in is older than your membership of this organization: sign in again",
            )),
        }
    }

    /// The record as read within [`CACHE_FOR`] of `now`, else read now.
    async fn recorded(
        &self,
        store: &Store,
        member: &Member,
        now: DateTime<Utc>,
    ) -> Result<Option<Recorded>, Problem> {
        let key = (member.home.clone(), member.user.id.clone());
        if let Some(read) = self.reads().get(&key)
            && now - read.at < CACHE_FOR
            && read.at <= now
        {
            return Ok(read.recorded);
        }
        let record = store.get_member(&key.0, &key.1).await?;
        let recorded = record.map(|record| Recorded {
            role: record.role,
            since: record.created_at.timestamp(),
        });
        let mut reads = self.reads();
        reads.retain(|_, read| now - read.at < CACHE_FOR);
        reads.insert(key, Read { at: now, recorded });
        Ok(recorded)
    }

    /// Forgets what was read of `user_id` in `org_id`: this process changed
    /// the record, and the next request reads it again.
    pub fn forget(&self, org_id: &OrgId, user_id: &str) {
        self.reads().remove(&(org_id.clone(), user_id.to_owned()));
    }

    fn reads(&self) -> std::sync::MutexGuard<'_, HashMap<(OrgId, String), Read>> {
        // Reads are whole when a holder panicked: keep using them.
        self.reads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
