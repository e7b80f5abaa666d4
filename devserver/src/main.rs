//! `scripts/dev`: the whole API on http://127.0.0.1:$PORT (default 3000).
//!
//! Environment: `PORT`, `TABLE_NAME` (default `orgkeys`), `ORGKEYS_ADMIN_TOKEN`
//! (random when unset, printed), `ORGKEYS_LOCAL_IAM` (`ACCESS_KEY_ID:SECRET_ACCESS_KEY`:
//! admin routes also accept SigV4 by that key pair), `AUTH_CACHE_TTL_SECONDS`,
//! `AUDIT_RETENTION_DAYS`, `CONVERSATION_RETENTION_DAYS`, `DEFAULT_REQUESTS_PER_MINUTE`,
//! `DEFAULT_CONTACTS_PER_DAY`, `LEAKED_KEY_ACTION`, `GITHUB_SECRET_SCANNING_KEYS_URL`, and
//! `AWS_ENDPOINT_URL_DYNAMODB` (when unset, an embedded moto server is started).

use aws_sdk_dynamodb::config::{Credentials, Region};
use devserver::gateway::Gateway;
use devserver::moto::{self, EmbeddedMoto};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,aws_config=warn,aws_smithy_runtime=warn".into()),
        )
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let port: u16 = std::env::var("PORT").ok().map_or(Ok(3000), |p| p.parse())?;
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "orgkeys".into());
    // A token the user chose is theirs to know; only a generated one is printed.
    let (admin_token, shown_token) = match std::env::var("ORGKEYS_ADMIN_TOKEN") {
        Ok(token) if !token.is_empty() => (token, "(from ORGKEYS_ADMIN_TOKEN)".to_owned()),
        _ => {
            let token = orgkeys_shared::ids::random_id("adm_")?;
            (token.clone(), token)
        }
    };
    let settings = authorizer::Settings::from_env()?;
    let keygen_settings = keygen::Settings::from_env()?;
    let schedules_settings = schedules::Settings::from_env()?;
    let dispatch_settings = dispatch::Settings::from_env()?;

    // The embedded server lives as long as `_moto`; dropping it stops moto.
    let (_moto, client, data) = match std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        Ok(endpoint) => {
            let config = orgkeys_shared::dynamo::config::loader()
                .region(
                    aws_config::meta::region::RegionProviderChain::default_provider()
                        .or_else("us-east-1"),
                )
                .load()
                .await;
            (
                None,
                aws_sdk_dynamodb::Client::new(&config),
                format!("DynamoDB at {endpoint}"),
            )
        }
        Err(_) => {
            let server = EmbeddedMoto::start(moto::default_python())?;
            let config = orgkeys_shared::dynamo::config::loader()
                .endpoint_url(&server.endpoint)
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new(
                    "local",
                    "local",
                    None,
                    None,
                    "orgkeys-local",
                ))
                .load()
                .await;
            let data = format!(
                "embedded moto at {} (in memory: gone when this stops)",
                server.endpoint
            );
            (Some(server), aws_sdk_dynamodb::Client::new(&config), data)
        }
    };
    orgkeys_shared::dynamo::table::ensure_table(&client, &table).await?;
    let store = orgkeys_shared::Store::new(client, &table);
    let cache = settings.cache_ttl.as_secs();
    let local_iam = devserver::sigv4::LocalIam::from_env()?;
    let iam = match &local_iam {
        Some(iam) => format!(
            "SigV4 by access key {} (execute-api, {}) as {}",
            iam.access_key_id(),
            iam.region(),
            devserver::sigv4::LOCAL_IAM_ARN
        ),
        None => "off (set ORGKEYS_LOCAL_IAM=ACCESS_KEY_ID:SECRET_ACCESS_KEY)".to_owned(),
    };
    let gateway = Arc::new(
        Gateway::new(
            store.clone(),
            authorizer::Authorizer::new(store, settings),
            &admin_token,
        )
        .with_local_iam(local_iam)
        .with_keygen_settings(keygen_settings)
        .with_settings(schedules_settings, dispatch_settings),
    );

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let docs = if devserver::docs_file().exists() {
        format!("{url}/docs")
    } else {
        "not built (scripts/docs)".to_owned()
    };
    println!(
        "orgkeys local gateway\n  url:          {url}\n  API reference: {docs}\n  admin token:  {shown_token}   (Authorization: Bearer <token> on /v1/admin/...)\n  admin IAM:    {iam}\n  data:         table {table}, {data}\n  authorizer cache: {cache} s\n"
    );
    devserver::serve(listener, gateway, shutdown_signal()).await;
    println!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
