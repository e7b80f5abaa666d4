//! Builds the AWS configuration and the [`Store`] once per process, from the
//! standard environment: credentials and region the usual way,
//! `AWS_ENDPOINT_URL_DYNAMODB` for a local or other endpoint, `TABLE_NAME`.
//! Only `main`s and test harnesses call this; handlers receive the store.

use crate::store::Store;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use std::time::Duration;

/// Connect timeout: a healthy regional endpoint connects in milliseconds.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// One attempt of one call; single-item reads and writes take a few ms.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// All attempts of one call, so a stalled store cannot eat a Lambda's whole
/// timeout (the functions' timeout in `template.yaml` is 10 s).
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(4);
/// Standard retry mode: the first try and two retries with jittered backoff.
pub const MAX_ATTEMPTS: u32 = 3;

/// The shared SDK configuration with orgkeys' timeouts and retries.
pub async fn aws_config() -> SdkConfig {
    loader().load().await
}

/// The standard loader with orgkeys' timeouts and retries, for callers (test
/// harnesses, the local gateway) that add settings of their own before loading.
pub fn loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
}

/// The store for the table named by `TABLE_NAME`.
pub async fn store_from_env() -> Result<Store, lambda_http::Error> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    let config = aws_config().await;
    Ok(Store::new(aws_sdk_dynamodb::Client::new(&config), table))
}
