//! Delivery: one queue job becomes one attempt, recorded in the log, and
//! what follows from it: delivered; retried after the schedule's delay (a
//! new delayed job); failed for good after the last attempt; the endpoint
//! disabled by a 410 or by failing for `WEBHOOK_DISABLE_AFTER_HOURS`. A
//! job comes back early when its wait was longer than SQS can delay, and is
//! sent on. At least once: a job whose handling fails is received again,
//! and delivered under the same `webhook-id`.

use crate::client::{Attempt, Outcome as AttemptOutcome, Sender};
use crate::job::Job;
use crate::queue::Queue;
use crate::retry::RetrySchedule;
use chrono::{DateTime, Duration, Utc};
use orgkeys_shared::audit::{Actor, Draft, Origin};
use orgkeys_shared::webhooks::messages::{Outcome, Retention};
use orgkeys_shared::webhooks::secrets::SecretBox;
use orgkeys_shared::webhooks::signing::SigningSecret;
use orgkeys_shared::webhooks::{AttemptRecord, Endpoint, MessageStatus};
use orgkeys_shared::{Store, StoreError, audit};
use std::sync::Arc;

/// How long an endpoint may fail before it is disabled, unless
/// `WEBHOOK_DISABLE_AFTER_HOURS` says otherwise (Svix's five days).
pub const DEFAULT_DISABLE_AFTER_HOURS: i64 = 120;
/// The system actor of a disabling.
const ACTOR: &str = "webhook-delivery";

/// The delivery settings, read once in `main`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub schedule: RetrySchedule,
    pub disable_after: Duration,
    pub retention: Retention,
    pub audit_retention: audit::Retention,
}

impl Settings {
    pub fn from_env() -> Result<Settings, String> {
        let hours = match std::env::var("WEBHOOK_DISABLE_AFTER_HOURS") {
            Err(_) => DEFAULT_DISABLE_AFTER_HOURS,
            Ok(text) => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|h| *h >= 1)
                .ok_or_else(|| {
                    format!(
                        "WEBHOOK_DISABLE_AFTER_HOURS must be whole hours, 1 or more; got {text:?}"
                    )
                })?,
        };
        Ok(Settings {
            schedule: RetrySchedule::from_env()?,
            disable_after: Duration::hours(hours),
            retention: Retention::from_env()?,
            audit_retention: audit::Retention::from_env()?,
        })
    }
}

/// Everything a delivery needs, built once per process.
pub struct Deliverer {
    pub store: Store,
    pub queue: Queue,
    pub sender: Sender,
    pub secrets: SecretBox,
    pub settings: Settings,
    /// Opened secrets by their sealed bytes: one KMS call per secret and
    /// process, not per attempt.
    opened: moka::sync::Cache<Vec<u8>, Arc<SigningSecret>>,
}

impl Deliverer {
    pub fn new(
        store: Store,
        queue: Queue,
        sender: Sender,
        secrets: SecretBox,
        settings: Settings,
    ) -> Deliverer {
        Deliverer {
            store,
            queue,
            sender,
            secrets,
            settings,
            opened: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(600))
                .build(),
        }
    }

    /// Handles one job at `now`. An error leaves the job on the queue, to
    /// be received again.
    pub async fn deliver(&self, job: &Job, now: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(due) = job.not_before
            && due > now + Duration::seconds(1)
        {
            return self.queue.send_at(job, due, now).await;
        }
        let request = job.request();
        let Some(endpoint) = self
            .store
            .get_endpoint(&job.organization_id, &job.endpoint_id)
            .await?
        else {
            // Deleted since: there is no one to deliver to, and no log.
            return Ok(());
        };
        if !endpoint.enabled {
            let outcome = not_sent(&endpoint, now);
            return self
                .store
                .record_attempt(&request, &outcome, self.settings.retention)
                .await;
        }
        let secrets = self.secrets_of(&endpoint, now).await?;
        let secrets: Vec<&SigningSecret> = secrets.iter().map(Arc::as_ref).collect();
        let attempt = match self.sender.url_of(&endpoint.url) {
            Ok(url) => {
                self.sender
                    .attempt(&url, &job.message_id, job.payload.as_bytes(), &secrets, now)
                    .await
            }
            Err(refused) => Attempt::refused(now, refused),
        };
        let (outcome, retry_at) = self.follow_up(job, &endpoint, &attempt, now).await?;
        self.store
            .record_attempt(&request, &outcome, self.settings.retention)
            .await?;
        if let Some(due) = retry_at {
            let next = Job {
                attempts_made: job.attempts_made + 1,
                not_before: Some(due),
                ..job.clone()
            };
            self.queue.send_at(&next, due, now).await?;
        }
        Ok(())
    }

    /// The log's outcome of `attempt`, when to try again, and the
    /// endpoint's health brought up to date.
    async fn follow_up(
        &self,
        job: &Job,
        endpoint: &Endpoint,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<(Outcome, Option<DateTime<Utc>>), StoreError> {
        let record = attempt.record();
        let outcome = |status: Option<MessageStatus>, next: Option<DateTime<Utc>>| Outcome {
            attempt: record.clone(),
            status,
            next_attempt_at: next,
        };
        match attempt.outcome {
            AttemptOutcome::Delivered => {
                if endpoint.failing_since.is_some() {
                    self.store.endpoint_recovered(endpoint).await?;
                }
                Ok((outcome(Some(MessageStatus::Delivered), None), None))
            }
            AttemptOutcome::Gone => {
                self.disable(endpoint, "the endpoint answered 410 Gone", now)
                    .await?;
                Ok((outcome(Some(MessageStatus::Failed), None), None))
            }
            AttemptOutcome::Failed => {
                self.note_failure(endpoint, now).await?;
                if job.once {
                    return Ok((outcome(None, None), None));
                }
                let delay = self.settings.schedule.next_delay(
                    job.attempts_made as usize + 1,
                    attempt.retry_after,
                    jitter(),
                );
                Ok(match delay {
                    Some(delay) => {
                        let due = now + Duration::from_std(delay).unwrap_or(Duration::zero());
                        (outcome(Some(MessageStatus::Pending), Some(due)), Some(due))
                    }
                    None => (outcome(Some(MessageStatus::Failed), None), None),
                })
            }
        }
    }

    /// A failure: the endpoint is failing from now, or disabled when it
    /// has failed for long enough.
    async fn note_failure(
        &self,
        endpoint: &Endpoint,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match endpoint.failing_since {
            None => self.store.endpoint_failing(endpoint, now).await,
            Some(since) if now - since >= self.settings.disable_after => {
                let hours = self.settings.disable_after.num_hours();
                let reason = format!("every attempt failed for {hours} hours");
                self.disable(endpoint, &reason, now).await
            }
            Some(_) => Ok(()),
        }
    }

    async fn disable(
        &self,
        endpoint: &Endpoint,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let draft = Draft::new(
            Actor::system(ACTOR),
            Origin::default(),
            now,
            self.settings.audit_retention,
        )
        .map_err(|err| StoreError::Unavailable(format!("no randomness: {err}")))?;
        self.store
            .disable_endpoint(
                &endpoint.organization_id,
                &endpoint.endpoint_id,
                reason,
                &draft,
            )
            .await
            .map(|_| ())
    }

    /// The secrets that sign now, opened (KMS) once per process each.
    async fn secrets_of(
        &self,
        endpoint: &Endpoint,
        now: DateTime<Utc>,
    ) -> Result<Vec<Arc<SigningSecret>>, StoreError> {
        let mut opened = Vec::new();
        for sealed in endpoint.signing_secrets(now) {
            if let Some(secret) = self.opened.get(sealed) {
                opened.push(secret);
                continue;
            }
            let bytes = self
                .secrets
                .open(&endpoint.organization_id, &endpoint.endpoint_id, sealed)
                .await?;
            let secret = Arc::new(SigningSecret::from_bytes(bytes));
            self.opened.insert(sealed.to_vec(), secret.clone());
            opened.push(secret);
        }
        Ok(opened)
    }
}

/// The log's entry for a message not sent because its endpoint is disabled.
fn not_sent(endpoint: &Endpoint, now: DateTime<Utc>) -> Outcome {
    let why = endpoint.disabled_reason.as_deref().unwrap_or("disabled");
    Outcome {
        attempt: AttemptRecord {
            at: orgkeys_shared::wire_time::format(now),
            status_code: None,
            duration_ms: 0,
            error: Some(format!("not sent: the endpoint is disabled ({why})")),
            response_body: None,
        },
        status: Some(MessageStatus::Failed),
        next_attempt_at: None,
    }
}

/// A jitter factor in [-1, 1] from the OS's randomness (0 without it).
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX) * 2.0 - 1.0,
        Err(_) => 0.0,
    }
}
