//! The webhooks function: the table's stream brings the audit events (the
//! outbox of every change) and the admins' requests for a test event or a
//! resend; each is fanned out to the endpoints that want it as one SQS job
//! per endpoint; the queue's jobs are delivered, signed as Standard
//! Webhooks 1.0 says, and retried on the schedule. The same code runs in
//! Lambda (this crate's `main`) and in the local gateway, which polls
//! moto's stream and queue itself.
//!
//! - [`events`]: the batches Lambda hands over, and the partial failures.
//! - [`fanout`]: stream records to queue jobs.
//! - [`job`]: a queue message.
//! - [`queue`]: the delivery queue (SQS).
//! - [`delivery`]: one job, one attempt, and what follows from it.
//! - [`signature`]: the `webhook-signature` header.
//! - [`client`]: one attempt: resolve, check the address, POST, record.
//! - [`retry`]: when the next attempt is due.

pub mod client;
pub mod delivery;
pub mod events;
pub mod fanout;
pub mod job;
pub mod queue;
pub mod retry;
pub mod signature;

use chrono::Utc;
use delivery::Deliverer;
use events::{Batch, BatchResponse};
use fanout::StreamRecord;

/// Handles one batch from Lambda: a stream batch is fanned out, a queue
/// batch delivered; the answer names the records to be retried.
pub async fn handle(
    deliverer: &Deliverer,
    event: serde_json::Value,
) -> Result<BatchResponse, String> {
    match Batch::parse(event)? {
        Batch::Stream(records) => {
            let mut wanted = Vec::new();
            for record in records {
                let Some(image) = record.dynamodb.new_image.as_ref() else {
                    continue;
                };
                let image = events::item_of_json(image)?;
                if record.event_name == "INSERT" && fanout::wanted(&image) {
                    wanted.push(StreamRecord {
                        sequence_number: record.dynamodb.sequence_number,
                        new_image: image,
                    });
                }
            }
            match fanout::fan_out(&deliverer.store, &deliverer.queue, &wanted).await {
                Ok(failed) => Ok(BatchResponse::failing(failed)),
                // Nothing known to be queued: the whole batch again.
                Err(err) => {
                    tracing::error!(error = %err, "fan-out failed");
                    Ok(BatchResponse::failing(
                        wanted.first().map(|r| r.sequence_number.clone()),
                    ))
                }
            }
        }
        Batch::Queue(records) => {
            // The batch's attempts at once: each waits on a receiver, and
            // the function's timeout need only cover the slowest.
            let now = Utc::now();
            let outcomes = futures_util::future::join_all(records.iter().map(|record| async move {
                let job = serde_json::from_str::<job::Job>(&record.body).map_err(|err| {
                    // Never deliverable: it goes to the dead-letter queue,
                    // whose alarm asks someone to look.
                    tracing::error!(message_id = %record.message_id, error = %err, "a queue message is not a job");
                })?;
                deliverer.deliver(&job, now).await.map_err(|err| {
                    tracing::warn!(message_id = %record.message_id, error = %err, "delivery failed; the queue retries it");
                })
            }))
            .await;
            let failed = records
                .iter()
                .zip(outcomes)
                .filter(|(_, outcome)| outcome.is_err())
                .map(|(record, _)| record.message_id.clone());
            Ok(BatchResponse::failing(failed))
        }
    }
}
