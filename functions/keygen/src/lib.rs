//! The admin API for organizations and their API keys, behind `AWS_IAM`:
//! organizations (list, create, read, change, suspend and resume, delete;
//! [`organizations`]), their keys (generate, shown once; list, read, change,
//! disable and enable, roll, delete; [`api_keys`]), their audit events
//! ([`audit_events`]) and the revocation of a leaked key from the key itself
//! ([`revoke`]), their console users in Cognito ([`users`],
//! [`user_directory`]). Beside it, the one route GitHub calls: its secret-scanning
//! alerts ([`secret_scanning`]), signed ([`signature`]) by the keys of
//! [`github_keys`]. Routing is on API Gateway's route key; every error is a
//! problem+json body; the plaintext key appears only in the 201 that creates it.

mod api_keys;
mod audit_events;
mod console;
pub mod document;
pub mod github_keys;
mod key_input;
mod organizations;
mod revoke;
pub mod secret_scanning;
pub mod signature;
mod usage;
pub mod user_directory;
pub mod users;
pub mod webhook_endpoints;

use chrono::{DateTime, Utc};
use lambda_http::{Body, Error, Request, Response};
use orgkeys_api::OrgId;
use orgkeys_shared::audit;
use orgkeys_shared::edge::caller::Caller;
use orgkeys_shared::edge::membership::Memberships;
use orgkeys_shared::edge::problem::Problem;
use orgkeys_shared::edge::request::{
    audit_draft, authorize, existing_organization, path_id, path_param, respond, served_route,
};
use orgkeys_shared::edge::user::ClaimNames;
use orgkeys_shared::keys::LeakedKeyAction;
use orgkeys_shared::limits::{Defaults, MAX_REQUESTS_PER_MINUTE};
use orgkeys_shared::routes::{Access, Function, Operation};
use orgkeys_shared::webhooks::address_policy::AddressPolicy;
use orgkeys_shared::webhooks::secrets::SecretBox;
use orgkeys_shared::{Store, StoreError};

/// Admin bodies are small; anything larger is a mistake or an attack.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Roll grace period bounds: up to a week, one hour unless told otherwise.
pub const MAX_GRACE_SECONDS: i64 = 604_800;
pub const DEFAULT_GRACE_SECONDS: i64 = 3_600;
const MAX_NAME_CHARS: usize = 200;

/// Checks a limit from a body: `None` when absent, a violation when out of
/// `1..=max`.
fn limit_in_range(
    violations: &mut orgkeys_shared::validation::Violations,
    pointer: &str,
    value: Option<i64>,
    max: u32,
) -> Option<u32> {
    let value = value?;
    match u32::try_from(value) {
        Ok(limit) if (1..=max).contains(&limit) => Some(limit),
        _ => {
            violations.body(pointer, format!("must be a whole number from 1 to {max}"));
            None
        }
    }
}

/// What keygen reads from its environment, once, in `main`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `LEAKED_KEY_ACTION`: `disable` (default), `delete` or `report`.
    pub leaked_key_action: LeakedKeyAction,
    /// `GITHUB_SECRET_SCANNING_KEYS_URL`: GitHub's public keys by default.
    pub github_keys_url: String,
    /// `CONSOLE_ORG_CLAIM`, `CONSOLE_ROLE_CLAIM`: where a console user's
    /// organization and role are in their token.
    pub claims: ClaimNames,
    /// `AUDIT_RETENTION_DAYS`: how long the events of admin changes are kept.
    pub audit_retention: audit::Retention,
    /// `DEFAULT_REQUESTS_PER_MINUTE` and `DEFAULT_CONTACTS_PER_DAY`: the
    /// limits an organization that sets none is shown with.
    pub default_limits: Defaults,
    /// `CONSOLE_USER_POOL_ID`: the Cognito user pool of console users; none
    /// when another OpenID Connect provider manages them (the users routes
    /// answer 501).
    pub user_pool_id: Option<String>,
    /// `WEBHOOK_ALLOWED_NETWORKS`: where webhook URLs may point besides the
    /// public internet (the checks at registration; delivery checks again).
    pub webhook_addresses: AddressPolicy,
    /// `WEBHOOK_KMS_KEY_ID`: the key that seals webhook signing secrets;
    /// none: creating an endpoint or rolling its secret answers 501.
    pub webhook_kms_key_id: Option<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            leaked_key_action: LeakedKeyAction::default(),
            github_keys_url: github_keys::DEFAULT_URL.to_owned(),
            claims: ClaimNames::default(),
            audit_retention: audit::Retention::default(),
            default_limits: Defaults::default(),
            user_pool_id: None,
            webhook_addresses: AddressPolicy::default(),
            webhook_kms_key_id: None,
        }
    }
}

impl Settings {
    /// The settings from the environment; an unknown action is an error
    /// rather than a silent default.
    pub fn from_env() -> Result<Settings, String> {
        let mut settings = Settings::default();
        if let Ok(action) = std::env::var("LEAKED_KEY_ACTION") {
            settings.leaked_key_action = action.parse().map_err(|()| {
                format!("LEAKED_KEY_ACTION={action}: expected disable, delete or report")
            })?;
        }
        if let Ok(url) = std::env::var("GITHUB_SECRET_SCANNING_KEYS_URL") {
            settings.github_keys_url = url;
        }
        settings.claims = ClaimNames::from_env();
        settings.audit_retention = audit::Retention::from_env()?;
        settings.default_limits = Defaults::from_env()?;
        settings.user_pool_id = std::env::var("CONSOLE_USER_POOL_ID")
            .ok()
            .filter(|id| !id.is_empty());
        settings.webhook_addresses = AddressPolicy::from_env()?;
        settings.webhook_kms_key_id = std::env::var("WEBHOOK_KMS_KEY_ID")
            .ok()
            .filter(|id| !id.is_empty());
        Ok(settings)
    }
}

/// The keygen function as it runs: the store, what to do with leaked keys,
/// GitHub's public keys (cached for the life of the process), how long
/// events are kept and the default limits.
pub struct Keygen {
    pub store: Store,
    pub leaked_key_action: LeakedKeyAction,
    pub github_keys: github_keys::GitHubKeys,
    pub claims: ClaimNames,
    pub audit_retention: audit::Retention,
    pub default_limits: Defaults,
    /// The console users' Cognito pool; `None`: the users routes answer 501.
    pub users: Option<user_directory::UserDirectory>,
    /// Where webhook URLs may point.
    pub webhook_addresses: AddressPolicy,
    /// Seals webhook signing secrets; `None`: creating an endpoint or
    /// rolling its secret answers 501.
    pub webhook_secrets: Option<SecretBox>,
    /// Console users' membership records, as recently read.
    pub memberships: Memberships,
}

impl Keygen {
    pub fn new(store: Store, settings: Settings) -> Keygen {
        Keygen {
            store,
            leaked_key_action: settings.leaked_key_action,
            github_keys: github_keys::GitHubKeys::new(settings.github_keys_url),
            claims: settings.claims,
            audit_retention: settings.audit_retention,
            default_limits: settings.default_limits,
            users: None,
            webhook_addresses: settings.webhook_addresses,
            webhook_secrets: None,
            memberships: Memberships::default(),
        }
    }

    /// The same function, sealing webhook signing secrets with `secrets`.
    pub fn with_webhook_secrets(mut self, secrets: Option<SecretBox>) -> Keygen {
        self.webhook_secrets = secrets;
        self
    }

    /// The same function, managing console users in `users`.
    pub fn with_user_directory(mut self, users: Option<user_directory::UserDirectory>) -> Keygen {
        self.users = users;
        self
    }

    /// Serves one request; never fails at the Lambda level, so every error
    /// reaches the client as problem+json.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Error> {
        Ok(respond(route(self, &request, Utc::now()).await))
    }
}

/// Serves one request with the default [`Settings`], for callers that hold
/// only a store (tests and benches of the admin routes); each call starts
/// with no GitHub key cached.
pub async fn handle(store: &Store, request: Request) -> Result<Response<Body>, Error> {
    Keygen::new(store.clone(), Settings::default())
        .handle(request)
        .await
}

async fn route(
    keygen: &Keygen,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Problem> {
    if served_route(request, Function::Keygen)?.access == Access::GitHubSignature {
        return secret_scanning::report(keygen, request, now).await;
    }
    let store = &keygen.store;
    let (route, caller) = authorize(request, Function::Keygen)?;
    if let Caller::User(signed_in) = &caller {
        return console::route(keygen, request, route, signed_in, now).await;
    }
    let Caller::Admin(_) = &caller else {
        return Err(Problem::not_found(format!("no route {}", route.key)));
    };
    match route.operation {
        Operation::ListOrganizations => return organizations::list(keygen, request).await,
        Operation::RevokeLeakedApiKey => {
            let draft = audit_draft(request, &caller, now, keygen.audit_retention)?;
            return revoke::revoke(keygen, request, &draft).await;
        }
        _ => {}
    }
    let org_id: OrgId = path_id(request, "orgId").map_err(|e| Problem::validation(vec![e]))?;
    let org_id = &org_id;
    let draft = || audit_draft(request, &caller, now, keygen.audit_retention);
    if let Some(webhooks) = webhook_endpoints::WebhookRoute::of(route.operation) {
        existing_organization(store, org_id).await?;
        return webhook_endpoints::serve(keygen, request, webhooks, org_id, draft, now).await;
    }
    let key_id = || api_keys::key_id_of(request);
    let user_id = path_param(request, "userId");
    let user_id = user_id.as_str();
    let keys = api_keys::KeyRequest {
        store,
        request,
        org_id,
        requests_per_minute_ceiling: MAX_REQUESTS_PER_MINUTE,
    };
    match route.operation {
        Operation::PutOrganization => organizations::put(keygen, request, org_id, &draft()?).await,
        Operation::GetOrganization => organizations::get(keygen, org_id).await,
        Operation::UpdateOrganization => {
            organizations::patch(keygen, request, org_id, &draft()?).await
        }
        Operation::DeleteOrganization => {
            // Refused before its users leave Cognito, not after.
            if store.has_children(org_id).await? {
                return Err(StoreError::HasChildren.into());
            }
            users::remove_all(keygen, org_id).await?;
            organizations::delete(store, org_id, &draft()?).await
        }
        Operation::CreateApiKey => api_keys::create(&keys, &draft()?).await,
        Operation::ListApiKeys => api_keys::list(store, org_id).await,
        Operation::GetApiKey => api_keys::get(store, org_id, &key_id()?).await,
        Operation::UpdateApiKey => api_keys::patch(&keys, &key_id()?, &draft()?).await,
        Operation::DeleteApiKey => api_keys::delete(store, org_id, &key_id()?, &draft()?).await,
        Operation::RollApiKey => api_keys::roll(&keys, &key_id()?, &draft()?).await,
        Operation::ListAuditEvents => audit_events::list(store, request, org_id).await,
        Operation::GetOrganizationUsage => {
            let org = store.get_organization(org_id).await?;
            usage::get(keygen, request, org_id, org.as_ref(), now).await
        }
        Operation::ListUsers => users::list(keygen, org_id).await,
        Operation::InviteUser => users::invite(keygen, request, org_id, &draft()?).await,
        Operation::UpdateUser => {
            users::update(keygen, request, org_id, user_id, None, &draft()?).await
        }
        Operation::RemoveUser => users::remove(keygen, org_id, user_id, None, &draft()?).await,
        _ => Err(Problem::not_found(format!("no route {}", route.key))),
    }
}
