//! The delivery queue (SQS): jobs in batches of ten, a retry delayed by up
//! to SQS's fifteen minutes.

use crate::job::Job;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use chrono::{DateTime, Utc};
use orgkeys_shared::StoreError;

/// SQS's most messages in one batch.
pub const BATCH: usize = 10;
/// SQS's longest delay of one message.
pub const MAX_DELAY_SECONDS: i64 = 900;

/// The queue deliveries go through.
#[derive(Debug, Clone)]
pub struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl Queue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Queue {
        Queue {
            client,
            url: url.into(),
        }
    }

    /// The SQS client configured from `config`, its endpoint as
    /// `service_endpoint` finds it (the local moto).
    pub fn client_from(config: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
        let mut builder = aws_sdk_sqs::config::Builder::from(config);
        if let Some(endpoint) = orgkeys_shared::dynamo::config::service_endpoint("SQS") {
            builder = builder.endpoint_url(endpoint);
        }
        aws_sdk_sqs::Client::from_conf(builder.build())
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends `jobs`, ten to a call; returns the indexes of those that were
    /// not accepted (none when all were).
    pub async fn send_all(&self, jobs: &[Job]) -> Result<Vec<usize>, StoreError> {
        let mut refused = Vec::new();
        for (chunk_index, chunk) in jobs.chunks(BATCH).enumerate() {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, job)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(job.body())
                        .build()
                        .map_err(|err| StoreError::Unavailable(err.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|err| StoreError::Unavailable(format!("SQS SendMessageBatch: {err}")))?;
            for failed in output.failed() {
                if let Ok(i) = failed.id().parse::<usize>() {
                    refused.push(chunk_index * BATCH + i);
                }
            }
        }
        Ok(refused)
    }

    /// Sends `job` to come back at `due` (or within fifteen minutes of now,
    /// when `due` is later: the job then carries `due` and is sent on).
    pub async fn send_at(
        &self,
        job: &Job,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let delay = (due - now).num_seconds().clamp(0, MAX_DELAY_SECONDS);
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(job.body())
            .delay_seconds(i32::try_from(delay).unwrap_or(0))
            .send()
            .await
            .map_err(|err| StoreError::Unavailable(format!("SQS SendMessage: {err}")))?;
        Ok(())
    }
}
