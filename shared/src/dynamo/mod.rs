//! The generic DynamoDB plumbing every aggregate uses: the [`Store`] (client
//! and table), [`StoreError`], consistent reads, conditional writes and
//! updates ([`update`]), transactions, prefix queries and paging, and the
//! batch reads, writes and sweeps of [`bulk`]. The
//! aggregates (`organizations`, `keys`, `schedules`, `conversations`,
//! `idempotency`, `limits`, `audit`) add their own methods to `Store` in their
//! own modules, next to their item layout. It knows no domain: it imports no
//! aggregate (`layering.rs` checks).

pub mod attributes;
mod bulk;
pub mod config;
pub mod retention;
pub mod table;
pub mod update;

use attributes::{CorruptItem, Item, PK, SK, s};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use std::fmt;
use update::Condition;

/// Why a store call did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A condition named an item that does not exist.
    NotFound,
    /// A condition failed because of a concurrent or earlier change.
    Conflict,
    /// An organization to delete still has organizations below it.
    HasChildren,
    /// What is stored refuses the request in a way the client can fix: the
    /// field at `pointer` (a JSON pointer into the body), and why.
    Invalid {
        pointer: &'static str,
        detail: String,
    },
    /// An item in the table is not in the shape its module writes.
    Corrupt(String),
    /// DynamoDB could not be reached or refused the call (timeouts, throttling,
    /// network). Security decisions fail closed on this.
    Unavailable(String),
}

impl StoreError {
    pub fn from_sdk<E, R>(err: SdkError<E, R>) -> StoreError
    where
        E: std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        StoreError::Unavailable(DisplayErrorContext(&err).to_string())
    }

    pub fn from_build(err: BuildError) -> StoreError {
        StoreError::Unavailable(err.to_string())
    }
}

impl From<CorruptItem> for StoreError {
    fn from(err: CorruptItem) -> StoreError {
        StoreError::Corrupt(err.0)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound => f.write_str("item not found"),
            StoreError::Conflict => f.write_str("conditional write conflict"),
            StoreError::HasChildren => f.write_str("the organization has sub-organizations"),
            StoreError::Invalid { pointer, detail } => write!(f, "refused: {pointer} {detail}"),
            StoreError::Corrupt(why) => write!(f, "corrupt item: {why}"),
            StoreError::Unavailable(why) => write!(f, "DynamoDB unavailable: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// The table and the client that reaches it; cheap to clone. It knows no
/// domain setting: retentions and default limits are the settings of the
/// functions that use them, passed where they are needed.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Store {
        Store {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One item, read strongly consistently.
    pub(crate) async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        Ok(output.item)
    }

    /// A consistent Query for the items of one partition whose sort key starts
    /// with `prefix`.
    pub(crate) fn query_prefix(&self, pk: String, prefix: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
    }

    /// Every item a prefix query finds, all pages.
    pub(crate) async fn query_all(
        &self,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .query_prefix(pk.clone(), prefix)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            items.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// One page of a query's items, at most `limit`, parsed with `parse`,
    /// resuming after the item at `after` (an address). `query` builds the
    /// query; `filtered` says it has a filter expression, so DynamoDB's own
    /// `Limit` (which counts items read, not returned) cannot be used. Returns
    /// the page and, when more may follow, the sort key of its last item.
    pub(crate) async fn query_page<T>(
        &self,
        query: impl Fn() -> QueryFluentBuilder,
        filtered: bool,
        limit: usize,
        after: Option<Item>,
        parse: impl Fn(&Item) -> Result<T, CorruptItem>,
    ) -> Result<(Vec<T>, Option<String>), StoreError> {
        let mut found = Vec::new();
        let mut start = after;
        loop {
            let mut request = query().set_exclusive_start_key(start);
            if !filtered {
                // Every item read is returned: read no more than needed.
                request = request.limit((limit - found.len()) as i32);
            }
            let page = request.send().await.map_err(StoreError::from_sdk)?;
            let more_in_table = page.last_evaluated_key().is_some();
            for (index, item) in page.items().iter().enumerate() {
                found.push(parse(item)?);
                if found.len() == limit {
                    let more = more_in_table || index + 1 < page.items().len();
                    let next = more.then(|| attributes::string(item, SK)).transpose()?;
                    return Ok((found, next));
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok((found, None));
            }
        }
    }

    /// A transaction write that puts `item` unless its key is taken.
    pub(crate) fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(StoreError::from_build)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A transaction write that deletes `key`, if `must_exist` only when it is there.
    pub(crate) fn delete(
        &self,
        key: Item,
        must_exist: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .set_condition_expression(must_exist.then(|| "attribute_exists(PK)".to_owned()))
            .build()
            .map_err(StoreError::from_build)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// A transaction write that deletes `key` only while `condition` holds.
    pub(crate) fn delete_when(
        &self,
        key: Item,
        condition: Condition,
    ) -> Result<TransactWriteItem, StoreError> {
        let (expression, names, values) = condition.into_parts();
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(StoreError::from_build)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Runs a transaction. `Ok(None)` when it committed; `Ok(Some(i))` when it
    /// was cancelled because the condition of write `i` failed.
    pub(crate) async fn transact(
        &self,
        writes: Vec<TransactWriteItem>,
    ) -> Result<Option<usize>, StoreError> {
        let err = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => return Ok(None),
            Err(err) => err,
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        {
            let failed = cancelled
                .cancellation_reasons()
                .iter()
                .position(|reason| reason.code() == Some("ConditionalCheckFailed"));
            if let Some(index) = failed {
                return Ok(Some(index));
            }
        }
        Err(StoreError::from_sdk(err))
    }
}

pub(crate) use bulk::{BATCH_GET_LIMIT, BATCH_SIZE};

/// `Ok(true)` when a conditional write happened, `Ok(false)` when its condition failed.
pub(crate) fn conditional<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err)
            if err.as_service_error().and_then(|e| e.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(err) => Err(StoreError::from_sdk(err)),
    }
}
