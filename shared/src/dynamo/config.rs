//! Builds the AWS configuration and the [`Store`] once per process, from the
//! standard environment: credentials and region the usual way,
//! `AWS_ENDPOINT_URL_DYNAMODB` for a local or other endpoint, `TABLE_NAME`.
//! Only `main`s and test harnesses call this; handlers receive the store. The
//! domain's settings are each function's own `Settings`.

use super::Store;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
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
        .http_client(SharedHttpClient::new(ConnectOnFirstUse(sdk_https_client())))
}

/// The SDK's default HTTPS client, built the way `aws-smithy-runtime` builds it
/// for the latest behavior version: rustls with aws-lc, the system's root
/// certificates, proxy settings from the environment, the caller's timeouts.
/// (The SDK keeps this constructor private, hence the copy.)
fn sdk_https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// An HTTP client that builds its TLS connector on the first request only.
///
/// Why: the SDK's client warms itself up whenever an SDK client is built on it
/// (aws-config's own clients while loading, then DynamoDB's), building a
/// throwaway connector each time — which reads and parses every root
/// certificate of the system — and the first request then builds the connector
/// it keeps. Skipping the warm-up leaves one build, on the first request, which
/// shortens a cold start (measured in docs/performance.md).
#[derive(Debug)]
struct ConnectOnFirstUse(SharedHttpClient);

impl HttpClient for ConnectOnFirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The store for the table named by `TABLE_NAME`. The domain's settings
/// (retentions, default limits) are the functions' own, read by their `main`.
pub async fn store_from_env() -> Result<Store, lambda_http::Error> {
    store_with(&aws_config().await)
}

/// [`store_from_env`] with a configuration the caller loaded, for a
/// function that builds other clients from it too (keygen's Cognito).
pub fn store_with(config: &SdkConfig) -> Result<Store, lambda_http::Error> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    Ok(Store::new(aws_sdk_dynamodb::Client::new(config), table))
}

/// A TTL period from the environment variable `name`: whole days, 1 or
/// more; `default` when unset. Every `retention::Retention` is read with it.
pub fn days_from_env(name: &str, default: i64) -> Result<i64, String> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(text) => match text.trim().parse::<i64>() {
            Ok(days) if days >= 1 => Ok(days),
            _ => Err(format!(
                "{name} must be whole days, 1 or more; got {text:?}"
            )),
        },
    }
}

/// The endpoint of another AWS service (`KMS`, `SQS`, `DYNAMODBSTREAMS`)
/// where it is local: its own `AWS_ENDPOINT_URL_<SERVICE>`, else the
/// DynamoDB endpoint, since one moto server stands in for all of them
/// locally and in tests. `None` in AWS: the SDK's standard endpoint.
pub fn service_endpoint(service: &str) -> Option<String> {
    [
        format!("AWS_ENDPOINT_URL_{service}"),
        "AWS_ENDPOINT_URL_DYNAMODB".to_owned(),
    ]
    .iter()
    .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
}
