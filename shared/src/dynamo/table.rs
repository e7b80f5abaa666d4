//! The table's schema, declared once here and once in `template.yaml` (a test
//! checks they agree), and the function that creates it where it is missing:
//! locally, in tests, and on any endpoint `AWS_ENDPOINT_URL_DYNAMODB` names.

use super::StoreError;
use super::attributes::{PK, SK, TTL};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use std::time::Duration;

/// `(attribute, key type)`: string partition key `PK`, string sort key `SK`.
pub const KEY_SCHEMA: [(&str, KeyType); 2] = [(PK, KeyType::Hash), (SK, KeyType::Range)];
/// On-demand: no capacity to plan, throttling only at account limits.
pub const BILLING_MODE: BillingMode = BillingMode::PayPerRequest;
/// The numeric epoch-seconds attribute DynamoDB's TTL deletes by.
pub const TTL_ATTRIBUTE: &str = TTL;
/// New images on the stream: the downstream sender reads queued conversations from it.
pub const STREAM_VIEW_TYPE: StreamViewType = StreamViewType::NewImage;

/// Creates the table and enables TTL unless they already exist. Safe to call
/// on every start and from concurrent tests.
pub async fn ensure_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let exists = client.describe_table().table_name(table).send().await;
    if let Err(err) = exists {
        if !err
            .as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception())
        {
            return Err(StoreError::from_sdk(err));
        }
        create(client, table).await?;
    }
    wait_until_active(client, table).await?;
    enable_ttl(client, table).await
}

async fn create(client: &Client, table: &str) -> Result<(), StoreError> {
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BILLING_MODE)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(STREAM_VIEW_TYPE)
                .build()
                .map_err(StoreError::from_build)?,
        );
    for (attribute, key_type) in KEY_SCHEMA {
        request = request
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attribute)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(StoreError::from_build)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(attribute)
                    .key_type(key_type)
                    .build()
                    .map_err(StoreError::from_build)?,
            );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        // Another process created it between our describe and create.
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(err) => Err(StoreError::from_sdk(err)),
    }
}

async fn wait_until_active(client: &Client, table: &str) -> Result<(), StoreError> {
    for _ in 0..120 {
        let description = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        if description.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(StoreError::Unavailable(format!(
        "table {table} did not become ACTIVE"
    )))
}

async fn enable_ttl(client: &Client, table: &str) -> Result<(), StoreError> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(StoreError::from_sdk)?;
    let status = current
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status());
    if matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ) {
        return Ok(());
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(StoreError::from_build)?,
        )
        .send()
        .await
        .map_err(StoreError::from_sdk)?;
    Ok(())
}
