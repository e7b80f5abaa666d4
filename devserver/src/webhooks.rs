//! Webhooks locally: the webhooks function's own fan-out and delivery code,
//! fed the way Lambda feeds it in AWS, by polling moto's DynamoDB stream
//! (the event source mapping's part) and moto's SQS queue. Its KMS key and
//! queues are made on moto when the environment names none
//! (`WEBHOOK_KMS_KEY_ID`, `WEBHOOK_QUEUE_URL`). The stream's position is
//! kept in the table (`LOCAL#WEBHOOKS`), so a gateway restarted on the same
//! moto goes on where it stopped; jobs in flight come back to the queue
//! when their visibility ends.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodbstreams::types::{
    AttributeValue as StreamValue, OperationType, ShardIteratorType,
};
use chrono::Utc;
use orgkeys_shared::Store;
use orgkeys_shared::dynamo::attributes::Item;
use orgkeys_shared::webhooks::secrets::SecretBox;
use std::sync::Arc;
use std::time::Duration;
use webhooks::delivery::Deliverer;
use webhooks::fanout::{self, StreamRecord};
use webhooks::job::Job;
use webhooks::queue::Queue;

/// How often an idle stream is read again.
const STREAM_IDLE: Duration = Duration::from_millis(100);
/// Deliveries at once: they wait on receivers, not on the CPU.
const WORKERS: usize = 16;
/// How often an empty queue is read again.
const QUEUE_IDLE: Duration = Duration::from_millis(50);
/// A received job is hidden this long; one not done by then (the gateway
/// stopped in the middle) comes back. Longer than an attempt may take.
const VISIBILITY_SECONDS: i32 = 30;
const CHECKPOINT_PK: &str = "LOCAL#WEBHOOKS";

/// The KMS key and queue of the local webhooks: the environment's, or new
/// ones on moto.
pub struct LocalResources {
    pub key_id: String,
    pub queue_url: String,
}

impl LocalResources {
    /// `WEBHOOK_KMS_KEY_ID` and `WEBHOOK_QUEUE_URL` when set; otherwise a
    /// key and a queue (with its dead-letter queue) made on the local moto
    /// for `table`.
    pub async fn ensure(
        config: &aws_config::SdkConfig,
        table: &str,
    ) -> Result<LocalResources, Box<dyn std::error::Error + Send + Sync>> {
        let key_id = match std::env::var("WEBHOOK_KMS_KEY_ID") {
            Ok(id) if !id.is_empty() => id,
            _ => table_key(&kms_client(config), table).await?,
        };
        let queue_url = match std::env::var("WEBHOOK_QUEUE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => make_queues(&Queue::client_from(config), table).await?,
        };
        Ok(LocalResources { key_id, queue_url })
    }
}

/// The table's key on moto, found by its alias, so a restarted gateway
/// opens the secrets the one before it sealed; made on first use.
async fn table_key(
    kms: &aws_sdk_kms::Client,
    table: &str,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let alias = format!("alias/orgkeys-{table}-webhooks");
    if let Ok(found) = kms.describe_key().key_id(&alias).send().await
        && let Some(metadata) = found.key_metadata()
    {
        return Ok(metadata.key_id().to_owned());
    }
    let key = kms
        .create_key()
        .description(format!("orgkeys {table} webhook signing secrets (local)"))
        .send()
        .await?;
    let key_id = key
        .key_metadata()
        .map(|m| m.key_id().to_owned())
        .ok_or("KMS made no key")?;
    kms.create_alias()
        .alias_name(alias)
        .target_key_id(&key_id)
        .send()
        .await?;
    Ok(key_id)
}

fn kms_client(config: &aws_config::SdkConfig) -> aws_sdk_kms::Client {
    let mut builder = aws_sdk_kms::config::Builder::from(config);
    if let Some(endpoint) = orgkeys_shared::dynamo::config::service_endpoint("KMS") {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_kms::Client::from_conf(builder.build())
}

/// The delivery queue and its dead-letter queue (five receives), as the
/// stack makes them; an existing queue is reused.
async fn make_queues(
    sqs: &aws_sdk_sqs::Client,
    table: &str,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let dlq = sqs
        .create_queue()
        .queue_name(format!("{table}-webhooks-dlq"))
        .send()
        .await?;
    let dlq_url = dlq.queue_url().ok_or("SQS made no dead-letter queue")?;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or("SQS gave no dead-letter queue ARN")?;
    let redrive = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#);
    let queue = sqs
        .create_queue()
        .queue_name(format!("{table}-webhooks"))
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            VISIBILITY_SECONDS.to_string(),
        )
        .send()
        .await?;
    Ok(queue.queue_url().ok_or("SQS made no queue")?.to_owned())
}

/// The sealing box keygen uses for new secrets, on the local key.
pub fn secret_box(config: &aws_config::SdkConfig, resources: &LocalResources) -> SecretBox {
    SecretBox::from_config(config, &resources.key_id)
}

/// Starts the stream poller and the queue workers; they run as long as the
/// process.
pub fn start(config: &aws_config::SdkConfig, deliverer: Arc<Deliverer>) {
    let mut builder = aws_sdk_dynamodbstreams::config::Builder::from(config);
    if let Some(endpoint) = orgkeys_shared::dynamo::config::service_endpoint("DYNAMODBSTREAMS") {
        builder = builder.endpoint_url(endpoint);
    }
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(builder.build());
    tokio::spawn(poll_stream(streams, deliverer.clone()));
    tokio::spawn(work_queue(deliverer));
}

/// Reads the table's stream as Lambda's event source mapping does, and
/// hands the new audit events and delivery requests to the fan-out.
async fn poll_stream(streams: aws_sdk_dynamodbstreams::Client, deliverer: Arc<Deliverer>) {
    loop {
        if let Err(err) = follow_stream(&streams, &deliverer).await {
            tracing::warn!(error = %err, "webhooks: reading the table's stream failed; again in a second");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn follow_stream(
    streams: &aws_sdk_dynamodbstreams::Client,
    deliverer: &Deliverer,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let store = &deliverer.store;
    let table = store
        .client()
        .describe_table()
        .table_name(store.table())
        .send()
        .await?;
    let stream_arn = table
        .table()
        .and_then(|t| t.latest_stream_arn())
        .ok_or("the table has no stream")?
        .to_owned();
    let stream = streams
        .describe_stream()
        .stream_arn(&stream_arn)
        .send()
        .await?;
    let shard_id = stream
        .stream_description()
        .and_then(|d| d.shards().first())
        .and_then(|s| s.shard_id())
        .ok_or("the stream has no shard")?
        .to_owned();
    let request = streams
        .get_shard_iterator()
        .stream_arn(&stream_arn)
        .shard_id(&shard_id);
    let request = match checkpoint(store, &shard_id).await? {
        Some(sequence) => request
            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
            .sequence_number(sequence),
        None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
    };
    let mut iterator = request.send().await?.shard_iterator().map(str::to_owned);
    while let Some(current) = iterator {
        let page = streams
            .get_records()
            .shard_iterator(current)
            .limit(100)
            .send()
            .await?;
        let wanted: Vec<StreamRecord> = page.records().iter().filter_map(stream_record).collect();
        if !wanted.is_empty() {
            if let Some(failed) = fanout::fan_out(store, &deliverer.queue, &wanted).await? {
                return Err(format!("fan-out stopped at {failed}").into());
            }
            let last = &wanted[wanted.len() - 1].sequence_number;
            save_checkpoint(store, &shard_id, last).await?;
        }
        if page.records().is_empty() {
            tokio::time::sleep(STREAM_IDLE).await;
        }
        iterator = page.next_shard_iterator().map(str::to_owned);
    }
    Ok(())
}

/// A new item the fan-out wants, in the fan-out's terms.
fn stream_record(record: &aws_sdk_dynamodbstreams::types::Record) -> Option<StreamRecord> {
    if record.event_name() != Some(&OperationType::Insert) {
        return None;
    }
    let data = record.dynamodb()?;
    let image: Item = data
        .new_image()?
        .iter()
        .map(|(name, value)| (name.clone(), attribute(value)))
        .collect();
    fanout::wanted(&image).then(|| StreamRecord {
        sequence_number: data.sequence_number().unwrap_or_default().to_owned(),
        new_image: image,
    })
}

/// The stream client's attribute value as the DynamoDB client's (the two
/// SDK crates each declare their own).
fn attribute(value: &StreamValue) -> AttributeValue {
    match value {
        StreamValue::S(s) => AttributeValue::S(s.clone()),
        StreamValue::N(n) => AttributeValue::N(n.clone()),
        StreamValue::B(b) => AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(b.as_ref())),
        StreamValue::Bool(b) => AttributeValue::Bool(*b),
        StreamValue::L(l) => AttributeValue::L(l.iter().map(attribute).collect()),
        StreamValue::M(m) => {
            AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), attribute(v))).collect())
        }
        StreamValue::Ss(v) => AttributeValue::Ss(v.clone()),
        StreamValue::Ns(v) => AttributeValue::Ns(v.clone()),
        StreamValue::Bs(v) => AttributeValue::Bs(
            v.iter()
                .map(|b| aws_sdk_dynamodb::primitives::Blob::new(b.as_ref()))
                .collect(),
        ),
        _ => AttributeValue::Null(true),
    }
}

async fn checkpoint(
    store: &Store,
    shard_id: &str,
) -> Result<Option<String>, Box<dyn std::error::Error + Send + Sync>> {
    let item = store
        .client()
        .get_item()
        .table_name(store.table())
        .key("PK", AttributeValue::S(CHECKPOINT_PK.into()))
        .key("SK", AttributeValue::S(format!("SHARD#{shard_id}")))
        .consistent_read(true)
        .send()
        .await?;
    Ok(item
        .item()
        .and_then(|i| i.get("sequenceNumber"))
        .and_then(|v| v.as_s().ok())
        .cloned())
}

async fn save_checkpoint(
    store: &Store,
    shard_id: &str,
    sequence: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("PK", AttributeValue::S(CHECKPOINT_PK.into()))
        .item("SK", AttributeValue::S(format!("SHARD#{shard_id}")))
        .item("sequenceNumber", AttributeValue::S(sequence.to_owned()))
        .send()
        .await?;
    Ok(())
}

/// Receives jobs from the queue and delivers them, as Lambda's SQS event
/// source does: a job handled is deleted; one that failed comes back. One
/// receiver (moto answers a long poll by holding its lock, so the queue is
/// polled briefly instead), up to [`WORKERS`] deliveries at once.
async fn work_queue(deliverer: Arc<Deliverer>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(WORKERS));
    loop {
        match receive(&deliverer).await {
            Ok(messages) if messages.is_empty() => tokio::time::sleep(QUEUE_IDLE).await,
            Ok(messages) => {
                for message in messages {
                    let Ok(slot) = slots.clone().acquire_owned().await else {
                        return;
                    };
                    let deliverer = deliverer.clone();
                    tokio::spawn(async move {
                        deliver(&deliverer, message).await;
                        drop(slot);
                    });
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "webhooks: reading the delivery queue failed; again in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn receive(
    deliverer: &Deliverer,
) -> Result<Vec<aws_sdk_sqs::types::Message>, Box<dyn std::error::Error + Send + Sync>> {
    let queue = &deliverer.queue;
    let received = queue
        .client()
        .receive_message()
        .queue_url(queue.url())
        .max_number_of_messages(10)
        .visibility_timeout(VISIBILITY_SECONDS)
        .send()
        .await?;
    Ok(received.messages.unwrap_or_default())
}

async fn deliver(deliverer: &Deliverer, message: aws_sdk_sqs::types::Message) {
    let body = message.body().unwrap_or_default();
    let Ok(job) = serde_json::from_str::<Job>(body) else {
        tracing::error!("webhooks: a queue message is not a job; left for the dead-letter queue");
        return;
    };
    if let Err(err) = deliverer.deliver(&job, Utc::now()).await {
        tracing::warn!(error = %err, "webhooks: a delivery failed; the queue brings it back");
        return;
    }
    let queue = &deliverer.queue;
    if let Some(receipt) = message.receipt_handle() {
        let deleted = queue
            .client()
            .delete_message()
            .queue_url(queue.url())
            .receipt_handle(receipt)
            .send()
            .await;
        if let Err(err) = deleted {
            tracing::warn!(error = %err, "webhooks: a delivered job was not deleted; it comes back (same webhook-id)");
        }
    }
}
