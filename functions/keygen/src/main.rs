//! The keygen Lambda: builds the store once, then serves the admin API.

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    orgkeys_shared::logging::init();
    let store = orgkeys_shared::dynamo::config::store_from_env().await?;
    let store = &store;
    run(service_fn(move |request| keygen::handle(store, request))).await
}
