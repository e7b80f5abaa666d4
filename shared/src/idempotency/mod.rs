//! Idempotency: an operation done once per `Idempotency-Key`, whatever the
//! client retries. One module owns the header ([`header`]), the record and its
//! writes (`record`), its states, the lease and the retention; a handler makes
//! one guarded call, [`run_once`], and never touches the record.
//!
//! A claim on a key is one of:
//! - fresh (no record, or one past its retention): the operation runs under the
//!   request's own operation ID;
//! - resumed (same body, an earlier attempt died or failed): it runs again
//!   under the earlier operation ID, which must make the rewrite land on the
//!   same items;
//! - replay (same body, completed): the stored response is returned;
//! - in flight (same body, another attempt holds the lease): refused;
//! - mismatch (another body): refused.
//!
//! Then the attempt completes (the response is stored), or fails: an attempt
//! refused before any write abandons a fresh claim (the key is free again); any
//! other failure releases the lease so the client's retry resumes at once.
//! Each write names the attempt that holds the lease, so an attempt whose claim
//! write was applied but whose reply was lost (the SDK then retries it) meets
//! its own claim and proceeds.

pub mod header;
mod record;

use crate::dynamo::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use record::{NewClaim, Record};
use std::future::Future;

/// How long a key is remembered.
pub const RETENTION: Duration = Duration::hours(24);
/// How long one attempt holds a key: longer than the functions' 10 s timeout,
/// so a live attempt is never resumed under its feet.
pub const LEASE: Duration = Duration::seconds(15);

/// Lease and retention; tests shorten the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub lease: Duration,
    pub retention: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            lease: LEASE,
            retention: RETENTION,
        }
    }
}

/// One request under an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub org_id: &'a str,
    /// The header's value ([`header::parse`]).
    pub key: &'a str,
    /// Identifies the request body: same key, other fingerprint is a misuse.
    pub fingerprint: &'a str,
    pub now: DateTime<Utc>,
    pub policy: Policy,
}

/// What one attempt runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The operation's ID: the attempt's own, or the earlier attempt's when resumed.
    pub operation_id: String,
    /// When the operation first started.
    pub started_at: DateTime<Utc>,
    /// An earlier attempt may have written part of the operation.
    pub resumed: bool,
}

impl Attempt {
    /// An attempt with no key to guard it: always fresh.
    pub fn unguarded(operation_id: String, now: DateTime<Utc>) -> Attempt {
        Attempt {
            operation_id,
            started_at: now,
            resumed: false,
        }
    }
}

/// The answer a guarded call gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The operation ran now; its response.
    Ran(String),
    /// It ran before; the stored response.
    Replayed(String),
}

/// Why a request may not run under its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Another attempt with the same body holds the key right now.
    InFlight,
    /// The key was used with a different body.
    Mismatch,
}

/// The error of a guarded operation: it says whether the operation was
/// refused before writing anything (then a fresh key is freed again).
pub trait AttemptError: From<StoreError> + From<Refusal> {
    fn wrote_nothing(&self) -> bool;
}

/// Runs `operation` at most once per key: see the module doc. `attempt_id` is
/// this request's own operation ID, used when the key is fresh.
pub async fn run_once<E, F, Fut>(
    store: &Store,
    request: &Request<'_>,
    attempt_id: String,
    operation: F,
) -> Result<Outcome, E>
where
    E: AttemptError,
    F: FnOnce(Attempt) -> Fut,
    Fut: Future<Output = Result<String, E>>,
{
    let attempt = match claim(store, request, &attempt_id).await? {
        Claim::Start(attempt) => attempt,
        Claim::Replay(response) => return Ok(Outcome::Replayed(response)),
        Claim::Refused(refusal) => return Err(refusal.into()),
    };
    let (org_id, key) = (request.org_id, request.key);
    match operation(attempt.clone()).await {
        Ok(response) => {
            if let Err(err) = store
                .complete_idempotency(org_id, key, &attempt_id, &response)
                .await
            {
                // The operation is done; a retry resumes it and rewrites the same items.
                tracing::warn!(org_id, operation_id = %attempt.operation_id, error = %err,
                    "could not record the idempotent response");
            }
            Ok(Outcome::Ran(response))
        }
        Err(err) => {
            let freed = if err.wrote_nothing() && !attempt.resumed {
                store.abandon_idempotency(org_id, key, &attempt_id).await
            } else {
                store.release_idempotency(org_id, key, &attempt_id).await
            };
            if let Err(store_err) = freed {
                tracing::warn!(org_id, error = %store_err, "could not free the idempotency key");
            }
            Err(err)
        }
    }
}

/// What a claim lets the request do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Claim {
    Start(Attempt),
    Replay(String),
    Refused(Refusal),
}

/// Claims `request.key` for the attempt `attempt_id`: a conditional write
/// first, then, when the key is taken, a few rounds of read and conditional
/// write, since another attempt may write between the two.
async fn claim(
    store: &Store,
    request: &Request<'_>,
    attempt_id: &str,
) -> Result<Claim, StoreError> {
    let Request {
        org_id,
        key,
        now,
        policy,
        ..
    } = *request;
    let new_claim = NewClaim {
        org_id,
        key,
        fingerprint: request.fingerprint,
        attempt_id,
        now,
        lease_until: now + policy.lease,
        expires_at: now + policy.retention,
    };
    // Most keys are new: claim first, and read only when the key is taken
    // (or when this very write was applied but its reply lost, below).
    if store.put_claim(&new_claim, None).await? {
        return Ok(Claim::Start(Attempt::unguarded(attempt_id.to_owned(), now)));
    }
    for _ in 0..3 {
        let Some(record) = store.read_idempotency(org_id, key).await? else {
            if store.put_claim(&new_claim, None).await? {
                return Ok(Claim::Start(Attempt::unguarded(attempt_id.to_owned(), now)));
            }
            continue;
        };
        if record.attempt_id == attempt_id {
            // Our own write, applied although its reply was lost.
            return Ok(Claim::Start(own(record)));
        }
        if record.created_at + policy.retention <= now {
            // Past its retention but not yet removed by TTL: the key is free again.
            if store.put_claim(&new_claim, Some(record.created_at)).await? {
                return Ok(Claim::Start(Attempt::unguarded(attempt_id.to_owned(), now)));
            }
            continue;
        }
        if record.fingerprint != request.fingerprint {
            return Ok(Claim::Refused(Refusal::Mismatch));
        }
        let Some(lease) = record.lease_until else {
            return Ok(Claim::Replay(record.response.unwrap_or_default()));
        };
        if lease > now {
            return Ok(Claim::Refused(Refusal::InFlight));
        }
        // The previous attempt died or gave up: resume its operation.
        if store
            .take_over_lease(org_id, key, lease, attempt_id, now + policy.lease)
            .await?
        {
            return Ok(Claim::Start(Attempt {
                operation_id: record.operation_id,
                started_at: record.created_at,
                resumed: true,
            }));
        }
    }
    Err(StoreError::Conflict)
}

/// The attempt a record already names as ours.
fn own(record: Record) -> Attempt {
    Attempt {
        resumed: record.operation_id != record.attempt_id,
        operation_id: record.operation_id,
        started_at: record.created_at,
    }
}
