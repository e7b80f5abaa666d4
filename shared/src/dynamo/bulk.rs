//! Many items at a time: `BatchGetItem` reads, `BatchWriteItem` writes with
//! their unprocessed-item retries, prefix sweeps (an organization's delete),
//! and bounded concurrency for calls that must each succeed.

use super::attributes::Item;
use super::{Store, StoreError};
use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, WriteRequest};

/// The most items one `BatchGetItem` call takes.
pub(crate) const BATCH_GET_LIMIT: usize = 100;
/// How often unprocessed keys of a batch read are asked for again, with a
/// doubling pause from [`BATCH_GET_RETRY_PAUSE`], before the read fails.
const BATCH_GET_ATTEMPTS: u32 = 6;
const BATCH_GET_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);
/// DynamoDB's limit of writes in one `BatchWriteItem` call.
pub(crate) const BATCH_SIZE: usize = 25;
/// Unprocessed-item retries of one `BatchWriteItem` call before giving up.
const BATCH_ATTEMPTS: u32 = 5;
/// How many items a sweep reads and deletes at a time.
const SWEEP_PAGE: i32 = 100;

impl Store {
    /// The items at `addresses` (at most [`BATCH_GET_LIMIT`]) that exist,
    /// consistently read.
    pub(crate) async fn batch_get(&self, addresses: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::with_capacity(addresses.len());
        let mut wanted = KeysAndAttributes::builder()
            .set_keys(Some(addresses))
            .consistent_read(true)
            .build()
            .map_err(StoreError::from_build)?;
        for attempt in 0..BATCH_GET_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(BATCH_GET_RETRY_PAUSE * 2u32.pow(attempt - 1)).await;
            }
            let output = self
                .client()
                .batch_get_item()
                .request_items(self.table(), wanted)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            items.extend(
                output
                    .responses
                    .and_then(|mut tables| tables.remove(self.table()))
                    .unwrap_or_default(),
            );
            match output
                .unprocessed_keys
                .and_then(|mut tables| tables.remove(self.table()))
            {
                Some(rest) if !rest.keys().is_empty() => wanted = rest,
                _ => return Ok(items),
            }
        }
        Err(StoreError::Unavailable(
            "BatchGetItem left keys unprocessed after every retry".into(),
        ))
    }

    /// One `BatchWriteItem` of at most [`BATCH_SIZE`] requests; items left
    /// unprocessed under throttling are retried with backoff, and if some
    /// still remain the call fails.
    pub(crate) async fn batch_write(
        &self,
        mut requests: Vec<WriteRequest>,
    ) -> Result<(), StoreError> {
        for attempt in 0..BATCH_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            requests = output
                .unprocessed_items
                .and_then(|mut left| left.remove(&self.table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable(format!(
            "{} writes still unprocessed after {BATCH_ATTEMPTS} attempts",
            requests.len()
        )))
    }

    /// Deletes every item of the partition `pk` whose sort key starts with
    /// `prefix`, a page at a time; returns how many it deleted. Cut short,
    /// it has deleted some pages, and running it again deletes the rest.
    pub(crate) async fn delete_prefix(
        &self,
        pk: String,
        prefix: &str,
    ) -> Result<usize, StoreError> {
        let mut deleted = 0;
        loop {
            // Each page starts from the front: what came before is gone.
            let page = self
                .query_prefix(pk.clone(), prefix)
                .projection_expression("#pk, #sk")
                .limit(SWEEP_PAGE)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            for chunk in page.items().chunks(BATCH_SIZE) {
                let mut requests = Vec::with_capacity(chunk.len());
                for address in chunk {
                    let delete = DeleteRequest::builder()
                        .set_key(Some(address.clone()))
                        .build()
                        .map_err(StoreError::from_build)?;
                    requests.push(WriteRequest::builder().delete_request(delete).build());
                }
                self.batch_write(requests).await?;
            }
            deleted += page.items().len();
            if page.last_evaluated_key().is_none() {
                return Ok(deleted);
            }
        }
    }
}

/// How many per-item writes a bulk change (an organization's keys synced or
/// deleted) keeps in flight: enough to finish large organizations quickly,
/// few enough not to throttle a table.
const BULK_CONCURRENCY: usize = 8;

impl Store {
    /// Runs `write` for every item of `items`, a bounded number at a time;
    /// the first error is returned once the writes in flight have finished.
    pub(crate) async fn for_each<T, F, Fut>(
        &self,
        items: Vec<T>,
        write: F,
    ) -> Result<(), StoreError>
    where
        T: Send + 'static,
        F: Fn(Store, T) -> Fut,
        Fut: std::future::Future<Output = Result<(), StoreError>> + Send + 'static,
    {
        let mut calls = tokio::task::JoinSet::new();
        let mut first_error = None;
        for item in items {
            if calls.len() >= BULK_CONCURRENCY
                && let Some(Err(err)) = join_one(&mut calls).await
            {
                first_error.get_or_insert(err);
            }
            if first_error.is_some() {
                break;
            }
            calls.spawn(write(self.clone(), item));
        }
        while let Some(result) = join_one(&mut calls).await {
            if let Err(err) = result {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

async fn join_one(
    calls: &mut tokio::task::JoinSet<Result<(), StoreError>>,
) -> Option<Result<(), StoreError>> {
    let joined = calls.join_next().await?;
    Some(joined.unwrap_or_else(|err| Err(StoreError::Unavailable(format!("task failed: {err}")))))
}
