//! The keygen Lambda: reads its settings and builds the store once, then
//! serves the admin API and GitHub's secret-scanning alerts; with
//! `CONSOLE_USER_POOL_ID`, the users routes' Cognito client on the same
//! configuration, and with `WEBHOOK_KMS_KEY_ID` the KMS client that seals
//! webhook signing secrets.

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    orgkeys_shared::logging::init();
    let settings = keygen::Settings::from_env()?;
    let config = orgkeys_shared::dynamo::config::aws_config().await;
    let store = orgkeys_shared::dynamo::config::store_with(&config)?;
    let users = settings
        .user_pool_id
        .as_ref()
        .map(|pool_id| keygen::user_directory::UserDirectory::from_config(&config, pool_id));
    let secrets = settings
        .webhook_kms_key_id
        .as_ref()
        .map(|key_id| orgkeys_shared::webhooks::secrets::SecretBox::from_config(&config, key_id));
    let keygen = &keygen::Keygen::new(store, settings)
        .with_user_directory(users)
        .with_webhook_secrets(secrets);
    run(service_fn(move |request| keygen.handle(request))).await
}
