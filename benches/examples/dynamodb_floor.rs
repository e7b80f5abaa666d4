//! The floor of a function's cold start: hello world's `lambda_runtime`
//! plus the DynamoDB calls the function makes on its first event, made
//! through the same SDK configuration (`store_from_env`), nothing else. The
//! runtime bench records which calls a function makes (their kind and how
//! many items each carries) and hands them over in `FLOOR_CALLS`, e.g.
//! `GetItem UpdateItem+Query TransactWriteItems:3`: calls that were in flight
//! together are joined by `+` and made together here too; each is made on
//! scratch items of its own partition.

use aws_sdk_dynamodb::types::{AttributeValue, Put, PutRequest, TransactWriteItem, WriteRequest};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use orgkeys_shared::Store;
use serde_json::Value;
use std::collections::HashMap;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let store = orgkeys_shared::dynamo::config::store_from_env().await?;
    let calls = std::env::var("FLOOR_CALLS").unwrap_or_default();
    let (store, calls) = (&store, calls.as_str());
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        for group in calls.split_whitespace() {
            let mut together = tokio::task::JoinSet::new();
            for call in group.split('+') {
                let (store, call) = (store.clone(), call.to_owned());
                together.spawn(async move { make(&store, &call).await });
            }
            while let Some(made) = together.join_next().await {
                made??;
            }
        }
        Ok::<Value, Error>(event.payload)
    }))
    .await
}

fn item(sk: String) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("PK".to_owned(), AttributeValue::S("FLOOR".into())),
        ("SK".to_owned(), AttributeValue::S(sk)),
    ])
}

/// One call, `Kind` or `Kind:items`.
async fn make(store: &Store, call: &str) -> Result<(), Error> {
    let (kind, count) = match call.split_once(':') {
        Some((kind, count)) => (kind, count.parse::<usize>()?.max(1)),
        None => (call, 1),
    };
    let (client, table) = (store.client(), store.table());
    let items = || (0..count).map(|i| item(format!("item-{i}")));
    match kind {
        "GetItem" => {
            client
                .get_item()
                .table_name(table)
                .set_key(Some(item("get".into())))
                .consistent_read(true)
                .send()
                .await?;
        }
        "Query" => {
            client
                .query()
                .table_name(table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", AttributeValue::S("FLOOR".into()))
                .consistent_read(true)
                .send()
                .await?;
        }
        "UpdateItem" => {
            client
                .update_item()
                .table_name(table)
                .set_key(Some(item("count".into())))
                .update_expression("ADD #n :one")
                .expression_attribute_names("#n", "n")
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .send()
                .await?;
        }
        "PutItem" => {
            client
                .put_item()
                .table_name(table)
                .set_item(Some(item("put".into())))
                .send()
                .await?;
        }
        "DeleteItem" => {
            client
                .delete_item()
                .table_name(table)
                .set_key(Some(item("delete".into())))
                .send()
                .await?;
        }
        "TransactWriteItems" => {
            let writes = items().map(|item| {
                let put = Put::builder().table_name(table).set_item(Some(item));
                TransactWriteItem::builder()
                    .put(put.build().unwrap())
                    .build()
            });
            client
                .transact_write_items()
                .set_transact_items(Some(writes.collect()))
                .send()
                .await?;
        }
        "BatchWriteItem" => {
            let writes = items().map(|item| {
                let put = PutRequest::builder().set_item(Some(item)).build().unwrap();
                WriteRequest::builder().put_request(put).build()
            });
            client
                .batch_write_item()
                .request_items(table, writes.collect())
                .send()
                .await?;
        }
        "BatchGetItem" => {
            let keys = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .set_keys(Some(items().collect()))
                .consistent_read(true)
                .build()?;
            client
                .batch_get_item()
                .request_items(table, keys)
                .send()
                .await?;
        }
        other => return Err(format!("FLOOR_CALLS: unknown call {other}").into()),
    }
    Ok(())
}
