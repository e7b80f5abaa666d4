//! The keygen Lambda: reads its settings and builds the store once, then
//! serves the admin API and GitHub's secret-scanning alerts.

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    orgkeys_shared::logging::init();
    let settings = keygen::Settings::from_env()?;
    let store = orgkeys_shared::dynamo::config::store_from_env().await?;
    let keygen = &keygen::Keygen::new(store, settings);
    run(service_fn(move |request| keygen.handle(request))).await
}
