//! The authorizer Lambda: builds the store and the cache once, then answers
//! API Gateway's authorization requests.

use authorizer::{Authorizer, Settings};
use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    orgkeys_shared::logging::init();
    let settings = Settings::from_env()?;
    let store = orgkeys_shared::dynamo::config::store_from_env().await?;
    let authorizer = Authorizer::new(store, settings);
    let authorizer = &authorizer;
    run(service_fn(move |event| authorizer.handle(event))).await
}
