//! `scripts/dev`: the whole API on http://127.0.0.1:$PORT (default 3000).
//!
//! Environment: `PORT`, `TABLE_NAME` (default `orgkeys`), `ORGKEYS_ADMIN_TOKEN`
//! (random when unset, printed), `ORGKEYS_LOCAL_IAM` (`ACCESS_KEY_ID:SECRET_ACCESS_KEY`:
//! admin routes also accept SigV4 by that key pair), `AUTH_CACHE_TTL_SECONDS`,
//! `AUTH_DENY_CACHE_TTL_SECONDS`, `AUDIT_RETENTION_DAYS`, `CONVERSATION_RETENTION_DAYS`,
//! `DEFAULT_REQUESTS_PER_MINUTE`, `DEFAULT_CONTACTS_PER_DAY`, `LEAKED_KEY_ACTION`,
//! `GITHUB_SECRET_SCANNING_KEYS_URL`, and
//! `AWS_ENDPOINT_URL_DYNAMODB` (when unset, an embedded moto server is started).
//! Console sign-in: `CONSOLE_ISSUER`, `CONSOLE_AUDIENCE`, `CONSOLE_JWKS_URL`
//! (another provider), else a local pool on `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`
//! or the local moto; `ORGKEYS_DEMO=1` seeds the demo (`ORGKEYS_DEMO_PASSWORD`).
//! Console users (the users routes): the local pool through the outbox at
//! `/local/outbox`, or the pool `CONSOLE_USER_POOL_ID` names.

use aws_sdk_dynamodb::config::{Credentials, Region};
use devserver::gateway::Gateway;
use devserver::identity::cognito::Cognito;
use devserver::identity::outbox::{self, Outbox};
use devserver::identity::{DEMO_ADMIN, Identity, LocalPool, demo};
use devserver::moto::{self, EmbeddedMoto};
use keygen::user_directory::UserDirectory;
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
    let webhook_settings = webhooks::delivery::Settings::from_env()?;
    let webhook_addresses = orgkeys_shared::webhooks::address_policy::AddressPolicy::from_env()?;
    // Bound first: a taken port is told before anything is started.
    let listener = match bind(port).await {
        Ok(listener) => listener,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(1);
        }
    };

    // The embedded server lives as long as `_moto`; dropping it stops moto.
    let (_moto, config, data, dynamo_endpoint) = match std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        Ok(endpoint) => {
            let config = orgkeys_shared::dynamo::config::loader()
                .region(
                    aws_config::meta::region::RegionProviderChain::default_provider()
                        .or_else("us-east-1"),
                )
                .load()
                .await;
            (None, config, format!("DynamoDB at {endpoint}"), endpoint)
        }
        Err(_) => {
            let server = EmbeddedMoto::start(moto::default_python())?;
            let config = local_config(&server.endpoint, "us-east-1").await;
            let data = format!(
                "embedded moto at {} (in memory: gone when this stops)",
                server.endpoint
            );
            let endpoint = server.endpoint.clone();
            // The other services (streams, SQS, KMS, Cognito) are on the
            // same embedded server: `service_endpoint` reads this.
            // SAFETY: set before any other thread reads the environment.
            unsafe { std::env::set_var("AWS_ENDPOINT_URL_DYNAMODB", &endpoint) };
            (Some(server), config, data, endpoint)
        }
    };
    let client = aws_sdk_dynamodb::Client::new(&config);
    orgkeys_shared::dynamo::table::ensure_table(&client, &table).await?;
    let store = orgkeys_shared::Store::new(client, &table);
    let cache = settings.cache_ttl.as_secs();
    let deny_cache = settings.deny_cache_ttl.min(settings.cache_ttl).as_secs();
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
    let webhook_resources = devserver::webhooks::LocalResources::ensure(&config, &table)
        .await
        .map_err(|err| format!("webhooks (local KMS key and queues): {err}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let (identity, sign_in, local_pool) =
        console_sign_in(&store, &dynamo_endpoint, keygen_settings.audit_retention).await?;
    let (users, outbox) =
        console_users(local_pool, keygen_settings.user_pool_id.clone(), &url).await;
    let gateway = Arc::new(
        Gateway::new(
            store.clone(),
            authorizer::Authorizer::new(store, settings),
            &admin_token,
        )
        .with_local_iam(local_iam)
        .with_keygen_settings(keygen_settings)
        .with_users(users, outbox)
        .with_identity(identity)
        .with_settings(schedules_settings, dispatch_settings)
        .with_webhook_secrets(Some(devserver::webhooks::secret_box(
            &config,
            &webhook_resources,
        ))),
    );
    let deliverer = webhooks::delivery::Deliverer::new(
        gateway.store.clone(),
        webhooks::queue::Queue::new(
            webhooks::queue::Queue::client_from(&config),
            &webhook_resources.queue_url,
        ),
        webhooks::client::Sender::new(
            webhook_addresses,
            webhooks::client::Sender::timeout_from_env()?,
        ),
        devserver::webhooks::secret_box(&config, &webhook_resources),
        webhook_settings,
    );
    devserver::webhooks::start(&config, std::sync::Arc::new(deliverer));

    let docs = if devserver::docs_file().exists() {
        format!("{url}/docs")
    } else {
        "not built (scripts/docs)".to_owned()
    };
    let console = match (
        devserver::console::console_dir()
            .join("index.html")
            .exists(),
        gateway.managed_login(),
    ) {
        (true, Some(_)) => format!("{url}/console/"),
        (true, None) => {
            format!("{url}/console/ (sign-in is another provider's: no local config.json)")
        }
        (false, _) => "not built (scripts/console)".to_owned(),
    };
    println!(
        "orgkeys local gateway\n  url:          {url}\n  API reference: {docs}\n  web console:  {console}\n  admin token:  {shown_token}   (Authorization: Bearer <token> on /v1/admin/...)\n  admin IAM:    {iam}\n  data:         table {table}, {data}\n  authorizer cache: {cache} s, refusals of known keys {deny_cache} s\n{sign_in}"
    );
    devserver::serve(listener, gateway, shutdown_signal()).await;
    println!("stopped");
    Ok(())
}

/// Console sign-in: another provider's tokens when `CONSOLE_ISSUER`,
/// `CONSOLE_AUDIENCE` and `CONSOLE_JWKS_URL` say so; otherwise a local pool
/// on moto's Cognito API (`AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`, or the
/// local DynamoDB server's), with the demo when `ORGKEYS_DEMO=1`. Returns the
/// identity, the banner's lines about it and, for the local pool, moto's
/// Cognito endpoint and the pool's ID.
async fn console_sign_in(
    store: &orgkeys_shared::Store,
    dynamo_endpoint: &str,
    retention: orgkeys_shared::audit::Retention,
) -> Result<(Option<Identity>, String, Option<(String, String)>), Box<dyn std::error::Error>> {
    if let Some(issuer) = Identity::issuer_from_env()? {
        let lines = format!(
            "  console sign-in: tokens of {} (CONSOLE_ISSUER)\n",
            issuer.issuer
        );
        return Ok((Some(Identity::external(issuer)), lines, None));
    }
    let endpoint = std::env::var("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")
        .ok()
        .or_else(|| is_loopback(dynamo_endpoint).then(|| dynamo_endpoint.to_owned()));
    let Some(endpoint) = endpoint else {
        let lines =
            "  console sign-in: off (set CONSOLE_ISSUER, CONSOLE_AUDIENCE, CONSOLE_JWKS_URL)\n";
        return Ok((None, lines.to_owned(), None));
    };
    let cognito = Cognito::new(endpoint);
    let pool = LocalPool::create(&cognito).await?;
    let mut lines = format!(
        "  console sign-in: local pool {} (moto's Cognito API), app client {}\n",
        pool.pool_id, pool.client_id
    );
    if std::env::var("ORGKEYS_DEMO").is_ok_and(|demo| demo == "1") {
        // A password the user chose is theirs to know; only a generated one is printed.
        let (password, shown) = match std::env::var("ORGKEYS_DEMO_PASSWORD") {
            Ok(password) if !password.is_empty() => {
                (password, "(from ORGKEYS_DEMO_PASSWORD)".to_owned())
            }
            _ => {
                let password = demo::random_password()?;
                (password.clone(), password)
            }
        };
        demo::seed(store, &cognito, &pool, &password, retention).await?;
        lines.push_str(&format!(
            "  demo:         organization acme with acme-emea; sign in as {DEMO_ADMIN}, password {shown}\n"
        ));
    }
    let local = (cognito.endpoint().to_owned(), pool.pool_id.clone());
    Ok((Some(Identity::local(&cognito, &pool)), lines, Some(local)))
}

/// Who manages console users for keygen's users routes: the local pool,
/// called through this gateway's outbox (`identity::outbox`), so the
/// invitations Cognito would email are kept at `/local/outbox`; else the
/// pool `CONSOLE_USER_POOL_ID` names, at the standard endpoint; else none
/// (the users routes answer 501).
async fn console_users(
    local_pool: Option<(String, String)>,
    pool_id: Option<String>,
    gateway_url: &str,
) -> (Option<UserDirectory>, Option<Arc<Outbox>>) {
    match (local_pool, pool_id) {
        (Some((cognito_endpoint, pool_id)), _) => {
            let proxy = format!("{gateway_url}{}", outbox::PROXY_PATH);
            let config = local_config(&proxy, devserver::identity::cognito::REGION).await;
            let outbox = Arc::new(Outbox::new(cognito_endpoint, gateway_url));
            (
                Some(UserDirectory::from_config(&config, pool_id)),
                Some(outbox),
            )
        }
        (None, Some(pool_id)) => {
            let config = orgkeys_shared::dynamo::config::loader().load().await;
            (Some(UserDirectory::from_config(&config, pool_id)), None)
        }
        (None, None) => (None, None),
    }
}

/// Whether `endpoint` is on this machine (a local moto, not AWS).
/// The SDK configuration for a local server at `endpoint` (moto, or the
/// gateway's own Cognito proxy): orgkeys' timeouts, placeholder credentials.
async fn local_config(endpoint: &str, region: &'static str) -> aws_config::SdkConfig {
    let credentials = Credentials::new("local", "local", None, None, "orgkeys-local");
    orgkeys_shared::dynamo::config::loader()
        .endpoint_url(endpoint)
        .region(Region::new(region))
        .credentials_provider(credentials)
        .load()
        .await
}

fn is_loopback(endpoint: &str) -> bool {
    let host = endpoint
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    matches!(host, "127.0.0.1" | "localhost")
}

/// The listener on 127.0.0.1:`port`; a port in use is an error that says
/// how to pick another.
async fn bind(port: u16) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "port {port} is already in use (another scripts/dev?): stop it, or pick another port with PORT=3001 scripts/dev (PORT=0 picks a free one)"
            ),
            _ => format!("cannot listen on 127.0.0.1:{port}: {err}"),
        })
}

async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
