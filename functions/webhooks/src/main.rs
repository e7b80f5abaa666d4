//! The webhooks Lambda: reads its settings and builds its clients once
//! (DynamoDB, SQS, KMS), then handles the table's stream batches and the
//! delivery queue's batches (`webhooks::handle`).

#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use orgkeys_shared::webhooks::address_policy::AddressPolicy;
use webhooks::delivery::{Deliverer, Settings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    orgkeys_shared::logging::init();
    let settings = Settings::from_env()?;
    let config = orgkeys_shared::dynamo::config::aws_config().await;
    let store = orgkeys_shared::dynamo::config::store_with(&config)?;
    let queue_url =
        std::env::var("WEBHOOK_QUEUE_URL").map_err(|_| "WEBHOOK_QUEUE_URL is not set")?;
    let key_id =
        std::env::var("WEBHOOK_KMS_KEY_ID").map_err(|_| "WEBHOOK_KMS_KEY_ID is not set")?;
    let queue =
        webhooks::queue::Queue::new(webhooks::queue::Queue::client_from(&config), queue_url);
    let secrets = orgkeys_shared::webhooks::secrets::SecretBox::from_config(&config, key_id);
    let timeout = webhooks::client::Sender::timeout_from_env()?;
    let sender = webhooks::client::Sender::new(AddressPolicy::from_env()?, timeout);
    let deliverer = &Deliverer::new(store, queue, sender, secrets, settings);
    run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            webhooks::handle(deliverer, event.payload).await
        },
    ))
    .await
}
