//! Idempotency: an operation done once per `Idempotency-Key`, whatever the
//! client retries. One module owns the header ([`header`]), the record and its
//! writes (`record`), its states, the lease and the retention; a handler makes
//! one guarded call, [`Guard::run`], and never touches the record.
//!
//! A new attempt claims the key in its operation's first transaction (see
//! [`ClaimWrite`]): the claim costs no round trip of its own, and whatever
//! that transaction counts (a dispatch's contacts) is counted exactly when the
//! claim exists. Only when the claim is lost, or the operation refuses before
//! writing, is the record read, and it decides:
//! - free (no record, or one past its retention): the refusal stands, or
//!   after a lost claim the attempt claims again;
//! - resumed (same body, an earlier attempt died or failed after its claim):
//!   the operation runs again under the earlier operation ID, which must make
//!   the rewrite land on the same items, and skips its first transaction;
//! - replay (same body, completed): the stored response is returned;
//! - in flight (same body, another attempt holds the lease): refused;
//! - mismatch (another body): refused.
//!
//! Then the attempt completes (the response is stored: in the operation's own
//! last transaction when it has one, see [`Completion`]), or fails after its
//! claim: the lease is released so the client's retry resumes at once. Each
//! write names the attempt that holds the lease, so an attempt whose claim
//! was applied but whose reply was lost (the SDK then retries it) meets its
//! own claim and proceeds.
//!
//! A handler reads the header and fingerprints its validated body with
//! [`Guard::new`], runs its operation with [`Guard::run`] (unguarded when the
//! request has no key), and answers with [`Outcome::into_response`], which
//! marks a replay with `Idempotent-Replayed`.

pub mod header;
mod record;

use crate::dynamo::update::Update;
use crate::dynamo::{Store, StoreError};
use crate::edge::problem::Problem;
use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Duration, Utc};
use lambda_http::http::{HeaderMap, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use orgkeys_api::OrgId;
use record::{NewClaim, Record};
use serde::Serialize;
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

/// One request's idempotency: its key (if it sent one) and what identifies
/// its body, so the same key with another body is caught.
#[derive(Debug, Clone)]
pub struct Guard<'a> {
    org_id: &'a OrgId,
    key: Option<&'a str>,
    fingerprint: String,
    now: DateTime<Utc>,
    policy: Policy,
}

impl<'a> Guard<'a> {
    /// Reads the `Idempotency-Key` header (a malformed one is a 400) and
    /// fingerprints `body`, the request as validated.
    pub fn new(
        headers: &'a HeaderMap,
        org_id: &'a OrgId,
        body: &impl Serialize,
        now: DateTime<Utc>,
        policy: Policy,
    ) -> Result<Guard<'a>, Problem> {
        Ok(Guard {
            org_id,
            key: header::from_headers(headers)?,
            fingerprint: fingerprint(body),
            now,
            policy,
        })
    }

    /// Runs `operation` at most once per key (see the module doc), or once
    /// unguarded when the request has no key. `attempt_id` is this request's
    /// own operation ID, used unless an earlier attempt is resumed.
    /// `operation` answers the [`Completion`] made from its attempt and a
    /// value of its own; it may run again (at most [`ROUNDS`] times in all)
    /// when its claim is lost or the key's record says to resume.
    pub async fn run<T, E, F, Fut>(
        &self,
        store: &Store,
        attempt_id: String,
        mut operation: F,
    ) -> Result<Outcome<T>, E>
    where
        E: AttemptError,
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<(Completion, T), E>>,
    {
        let Some(key) = self.key else {
            let (completion, value) = operation(Attempt::unguarded(attempt_id, self.now)).await?;
            return Ok(Outcome::Ran(completion.response, value));
        };
        let ours = Lease {
            org_id: self.org_id.to_owned(),
            key: key.to_owned(),
            attempt_id,
        };
        let mut attempt = self.fresh(store, &ours, None)?;
        for _ in 0..ROUNDS {
            let claiming = matches!(attempt.claim, ClaimWrite::Pending(_));
            let err = match operation(attempt.clone()).await {
                Ok((completion, value)) => {
                    self.record_response(store, completion.update, &attempt)
                        .await;
                    return Ok(Outcome::Ran(completion.response, value));
                }
                Err(err) => err,
            };
            if !claiming || !err.wrote_nothing() {
                // The claim is ours: free its lease so the client's retry resumes at once.
                if let Err(store_err) = store
                    .release_idempotency(self.org_id, key, &ours.attempt_id)
                    .await
                {
                    tracing::warn!(org_id = %self.org_id, error = %store_err, "could not free the idempotency key");
                }
                return Err(err);
            }
            // Nothing was written: the key's record, if any, decides.
            attempt = match self.decide(store, &ours).await? {
                Decision::Start(next) => next,
                Decision::Free(replacing) if err.lost_claim() => {
                    self.fresh(store, &ours, replacing)?
                }
                Decision::Free(_) => return Err(err),
                Decision::Replay(response) => return Ok(Outcome::Replayed(response)),
                Decision::Refused(refusal) => return Err(refusal.into()),
            };
        }
        Err(StoreError::Conflict.into())
    }

    /// A new attempt under `ours`, its claim to be written by the operation.
    fn fresh(
        &self,
        store: &Store,
        ours: &Lease,
        replacing: Option<DateTime<Utc>>,
    ) -> Result<Attempt, StoreError> {
        let claim = NewClaim {
            org_id: self.org_id,
            key: &ours.key,
            fingerprint: &self.fingerprint,
            attempt_id: &ours.attempt_id,
            now: self.now,
            lease_until: self.now + self.policy.lease,
            expires_at: self.now + self.policy.retention,
        };
        Ok(Attempt {
            operation_id: ours.attempt_id.clone(),
            started_at: self.now,
            resumed: false,
            lease: Some(ours.clone()),
            claim: ClaimWrite::Pending(Box::new(store.claim_write(&claim, replacing)?)),
        })
    }

    /// Stores the response when the operation did not write it in its own
    /// transaction. The operation is done either way: on failure a retry
    /// resumes it and rewrites the same items.
    async fn record_response(&self, store: &Store, update: Option<Update>, attempt: &Attempt) {
        if let Some(update) = update
            && let Err(err) = store.complete_idempotency(update).await
        {
            tracing::warn!(org_id = %self.org_id, operation_id = %attempt.operation_id, error = %err,
                "could not record the idempotent response");
        }
    }

    /// Reads the key's record after a lost claim or a refusal, and says what
    /// the request may do; a resumable record is taken over with one
    /// conditional write.
    async fn decide(&self, store: &Store, ours: &Lease) -> Result<Decision, StoreError> {
        let Some(record) = store.read_idempotency(self.org_id, &ours.key).await? else {
            return Ok(Decision::Free(None));
        };
        if record.attempt_id == ours.attempt_id {
            // Our own claim, applied although its reply was lost.
            return Ok(Decision::Start(Attempt::held(record, ours.clone())));
        }
        if record.created_at + self.policy.retention <= self.now {
            // Past its retention but not yet removed by TTL: the key is free again.
            return Ok(Decision::Free(Some(record.created_at)));
        }
        if record.fingerprint != self.fingerprint {
            return Ok(Decision::Refused(Refusal::Mismatch));
        }
        let Some(lease) = record.lease_until else {
            return Ok(Decision::Replay(record.response.unwrap_or_default()));
        };
        if lease > self.now {
            return Ok(Decision::Refused(Refusal::InFlight));
        }
        // The previous attempt died or gave up: resume its operation, unless
        // another retry took it over first (then that one is in flight).
        let taken = store
            .take_over_lease(
                self.org_id,
                &ours.key,
                lease,
                &ours.attempt_id,
                self.now + self.policy.lease,
            )
            .await?;
        Ok(if taken {
            Decision::Start(Attempt {
                operation_id: record.operation_id,
                started_at: record.created_at,
                resumed: true,
                lease: Some(ours.clone()),
                claim: ClaimWrite::Written,
            })
        } else {
            Decision::Refused(Refusal::InFlight)
        })
    }
}

/// How many times [`Guard::run`] runs an operation at most: a lost claim or
/// a resume each cost a run, and racing attempts settle within a few.
pub const ROUNDS: usize = 3;

/// Identifies a validated request body: its JSON with object keys in sorted
/// order (a `serde_json::Value` sorts them), so the fingerprint does not
/// depend on field order in the code, and records written by earlier
/// versions keep matching.
fn fingerprint(body: &impl Serialize) -> String {
    let canonical = serde_json::to_value(body).expect("a validated body serializes");
    blake3::hash(canonical.to_string().as_bytes())
        .to_hex()
        .to_string()
}

/// What one attempt runs as.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// The operation's ID: the attempt's own, or the earlier attempt's when resumed.
    pub operation_id: String,
    /// When the operation first started.
    pub started_at: DateTime<Utc>,
    /// An earlier attempt may have written part of the operation.
    pub resumed: bool,
    /// The record whose lease this attempt holds; `None` when unguarded.
    lease: Option<Lease>,
    claim: ClaimWrite,
}

/// Where an attempt stands with its key's claim, for the operation's first
/// transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimWrite {
    /// The request has no key.
    Unguarded,
    /// A new attempt: the operation puts this conditional write in its first
    /// transaction, and when that transaction fails on it, answers
    /// [`ClaimLost`] (nothing of the transaction was written).
    Pending(Box<TransactWriteItem>),
    /// The claim was written, with the first transaction, by an earlier
    /// attempt of the same operation: the operation skips that transaction.
    Written,
}

/// Names the record an attempt holds, for the write that completes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lease {
    org_id: OrgId,
    key: String,
    attempt_id: String,
}

impl Attempt {
    /// An attempt with no key to guard it: always fresh.
    fn unguarded(operation_id: String, now: DateTime<Utc>) -> Attempt {
        Attempt {
            operation_id,
            started_at: now,
            resumed: false,
            lease: None,
            claim: ClaimWrite::Unguarded,
        }
    }

    /// The attempt a record already names as ours.
    fn held(record: Record, lease: Lease) -> Attempt {
        Attempt {
            resumed: record.operation_id != record.attempt_id,
            operation_id: record.operation_id,
            started_at: record.created_at,
            lease: Some(lease),
            claim: ClaimWrite::Written,
        }
    }

    /// The claim, for the operation's first transaction: see [`ClaimWrite`].
    pub fn claim_write(&self) -> ClaimWrite {
        self.claim.clone()
    }

    /// What the operation answers when it is done: `response`, and for a
    /// keyed attempt the write that stores it for replays.
    pub fn complete(&self, response: String) -> Completion {
        let update = self.lease.as_ref().map(|lease| {
            record::completion(&lease.org_id, &lease.key, &lease.attempt_id, &response)
        });
        Completion { response, update }
    }
}

/// A finished operation's response and, when keyed, the conditional write
/// that stores it (it holds only while the attempt holds the lease). An
/// operation that ends with a transaction takes the write into it
/// ([`Completion::take_update`]): the response is then stored with the
/// operation's last items, with no round trip of its own. Otherwise
/// [`Guard::run`] sends it after the operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    response: String,
    update: Option<Update>,
}

impl Completion {
    /// The write, for the operation's last transaction; `None` when unguarded.
    pub fn take_update(&mut self) -> Option<Update> {
        self.update.take()
    }
}

/// The answer a guarded call gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The operation ran now: its response and its own value.
    Ran(String, T),
    /// It ran before: the stored response.
    Replayed(String),
}

impl<T> Outcome<T> {
    /// The operation's value, when it ran now.
    pub fn value(&self) -> Option<&T> {
        match self {
            Outcome::Ran(_, value) => Some(value),
            Outcome::Replayed(_) => None,
        }
    }

    /// The JSON answer with `status`; a replay says so in `Idempotent-Replayed`.
    pub fn into_response(self, status: StatusCode) -> Response<Body> {
        let (body, replayed) = match self {
            Outcome::Ran(body, _) => (body, false),
            Outcome::Replayed(body) => (body, true),
        };
        let mut response = Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::Text(body))
            .expect("static response parts are valid");
        if replayed {
            response
                .headers_mut()
                .insert(header::REPLAYED, HeaderValue::from_static("true"));
        }
        response
    }
}

/// Why a request may not run under its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Another attempt with the same body holds the key right now.
    InFlight,
    /// The key was used with a different body.
    Mismatch,
}

impl From<Refusal> for Problem {
    fn from(refusal: Refusal) -> Problem {
        match refusal {
            Refusal::InFlight => Problem::conflict(
                "a request with this Idempotency-Key is still in progress; retry later",
            ),
            Refusal::Mismatch => Problem::unprocessable(
                "this Idempotency-Key was used with a different request body",
            ),
        }
    }
}

/// What an operation answers when its first transaction failed on its
/// [`ClaimWrite::Pending`]: another attempt claimed the key first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLost;

/// The error of a guarded operation: it says whether the operation was
/// refused before writing anything, and whether its claim was lost (a lost
/// claim wrote nothing either).
pub trait AttemptError: From<StoreError> + From<Refusal> + From<ClaimLost> {
    fn wrote_nothing(&self) -> bool;
    fn lost_claim(&self) -> bool;
}

/// What the key's record lets the request do.
#[derive(Debug, Clone, PartialEq)]
enum Decision {
    Start(Attempt),
    /// No record holds the key; `Some` names the `createdAt` of an expired one.
    Free(Option<DateTime<Utc>>),
    Replay(String),
    Refused(Refusal),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_fingerprint_ignores_field_order_and_tells_bodies_apart() {
        #[derive(Serialize)]
        struct Body {
            second: u8,
            first: u8,
        }
        let body = Body {
            second: 2,
            first: 1,
        };
        assert_eq!(
            fingerprint(&body),
            fingerprint(&json!({"first": 1, "second": 2}))
        );
        assert_ne!(
            fingerprint(&body),
            fingerprint(&json!({"first": 1, "second": 3}))
        );
    }

    #[test]
    fn only_a_replay_carries_the_replayed_header() {
        let ran = Outcome::Ran("{}".to_owned(), ()).into_response(StatusCode::ACCEPTED);
        assert_eq!(ran.status(), StatusCode::ACCEPTED);
        assert!(ran.headers().get(header::REPLAYED).is_none());
        let replayed = Outcome::<()>::Replayed("{}".to_owned()).into_response(StatusCode::ACCEPTED);
        assert_eq!(replayed.headers()[header::REPLAYED], "true");
        assert_eq!(replayed.headers()["content-type"], "application/json");
    }
}
