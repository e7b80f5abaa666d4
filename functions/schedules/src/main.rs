//! The schedules Lambda: reads its settings and builds the store once, then
//! serves its routes.

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    orgkeys_shared::logging::init();
    let settings = schedules::Settings::from_env()?;
    let store = orgkeys_shared::dynamo::config::store_from_env().await?;
    let (store, settings) = (&store, &settings);
    run(service_fn(move |request| {
        schedules::handle_at(store, settings, request, chrono::Utc::now())
    }))
    .await
}
