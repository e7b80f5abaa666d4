//! The webhook routes of an organization, for platform operators and, in
//! the console, its admins (viewers read): endpoints (create, with the
//! signing secret shown once; list, read, change, delete; roll the secret
//! with an overlap), a test event, the delivery log and a resend. Nothing
//! here sends: a test or a resend is a request item the stream brings to the
//! webhooks function, like every audit event.

use crate::{BODY_LIMIT, Keygen};
use chrono::{DateTime, Duration, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_api::OrgId;
use orgkeys_api::body::{RollSecretInput, WebhookEndpointInput, WebhookEndpointPatch};
use orgkeys_api::routes::Operation;
use orgkeys_shared::audit::Draft;
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::request::{
    Page, json_body, json_response, no_content, path_param, required_json_body, secret_response,
};
use orgkeys_shared::validation::Violations;
use orgkeys_shared::webhooks::endpoints::Created;
use orgkeys_shared::webhooks::signing::SigningSecret;
use orgkeys_shared::webhooks::{
    self, DeliveryRequest, Endpoint, EndpointChange, Message, NewEndpoint, WebhookEvent, events,
};
use orgkeys_shared::wire_time::format as timestamp;
use serde::Serialize;

/// Longest URL accepted.
pub const MAX_URL_CHARS: usize = 2048;
const MAX_DESCRIPTION_CHARS: usize = 500;
/// The old secret signs for at most a day after a roll, a day by default.
pub const MAX_SECRET_OVERLAP_SECONDS: i64 = 86_400;

/// What a webhooks route does, whoever calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookRoute {
    Create,
    List,
    Get,
    Update,
    Delete,
    RollSecret,
    Test,
    Messages,
    Resend,
}

impl WebhookRoute {
    /// The webhooks route `operation` is, admin or console.
    pub fn of(operation: Operation) -> Option<WebhookRoute> {
        use Operation as O;
        Some(match operation {
            O::CreateWebhookEndpoint | O::CreateConsoleWebhookEndpoint => WebhookRoute::Create,
            O::ListWebhookEndpoints | O::ListConsoleWebhookEndpoints => WebhookRoute::List,
            O::GetWebhookEndpoint | O::GetConsoleWebhookEndpoint => WebhookRoute::Get,
            O::UpdateWebhookEndpoint | O::UpdateConsoleWebhookEndpoint => WebhookRoute::Update,
            O::DeleteWebhookEndpoint | O::DeleteConsoleWebhookEndpoint => WebhookRoute::Delete,
            O::RollWebhookSecret | O::RollConsoleWebhookSecret => WebhookRoute::RollSecret,
            O::SendTestWebhook | O::SendConsoleTestWebhook => WebhookRoute::Test,
            O::ListWebhookMessages | O::ListConsoleWebhookMessages => WebhookRoute::Messages,
            O::ResendWebhookMessage | O::ResendConsoleWebhookMessage => WebhookRoute::Resend,
            _ => return None,
        })
    }
}

/// An endpoint as the API shows it: never a secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EndpointView {
    endpoint_id: String,
    url: String,
    description: Option<String>,
    /// `null`: every event type.
    event_types: Option<Vec<String>>,
    include_sub_organizations: bool,
    enabled: bool,
    disabled_reason: Option<String>,
    failing_since: Option<String>,
    /// Until when the secret before the last roll still signs.
    previous_secret_expires_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl EndpointView {
    fn of(endpoint: Endpoint, now: DateTime<Utc>) -> EndpointView {
        EndpointView {
            previous_secret_expires_at: endpoint
                .previous_secret
                .as_ref()
                .map(|(_, until)| *until)
                .filter(|until| *until > now)
                .map(timestamp),
            endpoint_id: endpoint.endpoint_id,
            url: endpoint.url,
            description: endpoint.description,
            event_types: endpoint.event_types,
            include_sub_organizations: endpoint.include_sub_organizations,
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason,
            failing_since: endpoint.failing_since.map(timestamp),
            created_at: timestamp(endpoint.created_at),
            updated_at: timestamp(endpoint.updated_at),
        }
    }
}

/// The answers that carry a signing secret: a create and a roll.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WithSecret<T: Serialize> {
    #[serde(flatten)]
    view: T,
    secret: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageView {
    message_id: String,
    event_type: String,
    created_at: String,
    status: webhooks::MessageStatus,
    next_attempt_at: Option<String>,
    attempts: Vec<webhooks::AttemptRecord>,
}

impl From<Message> for MessageView {
    fn from(message: Message) -> MessageView {
        MessageView {
            message_id: message.message_id,
            event_type: message.event_type,
            created_at: timestamp(message.created_at),
            status: message.status,
            next_attempt_at: message.next_attempt_at.map(timestamp),
            attempts: message.attempts,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Items<T: Serialize> {
    items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<Option<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Accepted {
    message_id: String,
}

/// Serves `route` for the organization `org_id`, which the caller may act on.
pub async fn serve(
    keygen: &Keygen,
    request: &Request,
    route: WebhookRoute,
    org_id: &OrgId,
    draft: impl Fn() -> Result<Draft, Problem>,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Problem> {
    let store = &keygen.store;
    if route == WebhookRoute::Create {
        return create(keygen, request, org_id, &draft()?).await;
    }
    if route == WebhookRoute::List {
        let items = store.list_endpoints(org_id).await?;
        let items = items
            .into_iter()
            .map(|e| EndpointView::of(e, now))
            .collect();
        return Ok(json_response(
            StatusCode::OK,
            &Items {
                items,
                next_cursor: None,
            },
        ));
    }
    let endpoint_id = endpoint_id_of(request)?;
    let endpoint_id = endpoint_id.as_str();
    match route {
        WebhookRoute::Get => {
            let endpoint = store
                .get_endpoint(org_id, endpoint_id)
                .await?
                .ok_or_else(no_endpoint)?;
            Ok(json_response(
                StatusCode::OK,
                &EndpointView::of(endpoint, now),
            ))
        }
        WebhookRoute::Update => {
            let change = change_of(keygen, request)?;
            let endpoint = store
                .update_endpoint(org_id, endpoint_id, &change, &draft()?)
                .await?
                .ok_or_else(no_endpoint)?;
            Ok(json_response(
                StatusCode::OK,
                &EndpointView::of(endpoint, now),
            ))
        }
        WebhookRoute::Delete => match store
            .delete_endpoint(org_id, endpoint_id, &draft()?)
            .await?
        {
            true => Ok(no_content()),
            false => Err(no_endpoint()),
        },
        WebhookRoute::RollSecret => {
            roll_secret(keygen, request, org_id, endpoint_id, &draft()?).await
        }
        WebhookRoute::Test => {
            let endpoint = store
                .get_endpoint(org_id, endpoint_id)
                .await?
                .ok_or_else(no_endpoint)?;
            refuse_if_disabled(&endpoint)?;
            let seed = orgkeys_shared::ids::random_id("test_").map_err(|_| Problem::internal())?;
            let message_id = webhooks::message_id(now, seed.as_bytes());
            let event = WebhookEvent::test(org_id, endpoint_id, now);
            let delivery = DeliveryRequest {
                organization_id: org_id.to_owned(),
                endpoint_id: endpoint_id.to_owned(),
                message_id: message_id.clone(),
                event_type: events::TEST_EVENT.to_owned(),
                created_at: now,
                payload: event.body(),
                once: false,
            };
            store.request_delivery(&delivery, now).await?;
            Ok(json_response(
                StatusCode::ACCEPTED,
                &Accepted { message_id },
            ))
        }
        WebhookRoute::Messages => {
            store
                .get_endpoint(org_id, endpoint_id)
                .await?
                .ok_or_else(no_endpoint)?;
            let mut errors = Vec::new();
            let page = Page::of(
                request,
                org_id.as_str(),
                format!("endpoint={endpoint_id}"),
                &mut errors,
            );
            if !errors.is_empty() {
                return Err(Problem::validation(errors));
            }
            let (messages, next) = store
                .list_messages(org_id, endpoint_id, page.limit, page.after.as_deref())
                .await?;
            let body = Items {
                items: messages
                    .into_iter()
                    .map(MessageView::from)
                    .collect::<Vec<_>>(),
                next_cursor: Some(next.map(|after| page.next_cursor(&after))),
            };
            Ok(json_response(StatusCode::OK, &body))
        }
        WebhookRoute::Resend => {
            let endpoint = store
                .get_endpoint(org_id, endpoint_id)
                .await?
                .ok_or_else(no_endpoint)?;
            let message_id = path_param(request, "messageId");
            let message = match webhooks::is_message_id(&message_id) {
                true => store.get_message(org_id, endpoint_id, &message_id).await?,
                false => None,
            };
            let message = message.ok_or_else(|| Problem::not_found("no message with this ID"))?;
            refuse_if_disabled(&endpoint)?;
            let delivery = DeliveryRequest {
                organization_id: org_id.to_owned(),
                endpoint_id: endpoint_id.to_owned(),
                message_id: message.message_id.clone(),
                event_type: message.event_type,
                created_at: message.created_at,
                payload: message.payload,
                once: true,
            };
            store.request_delivery(&delivery, now).await?;
            let accepted = Accepted {
                message_id: message.message_id,
            };
            Ok(json_response(StatusCode::ACCEPTED, &accepted))
        }
        WebhookRoute::Create | WebhookRoute::List => unreachable_route(),
    }
}

fn unreachable_route() -> Result<Response<Body>, Problem> {
    Err(Problem::internal())
}

/// The answer for an endpoint that does not exist in the organization.
fn no_endpoint() -> Problem {
    Problem::not_found("no webhook endpoint with this ID")
}

/// The `endpointId` path parameter; a malformed one is a 404 like a missing one.
fn endpoint_id_of(request: &Request) -> Result<String, Problem> {
    let id = path_param(request, "endpointId");
    match webhooks::is_endpoint_id(&id) {
        true => Ok(id),
        false => Err(no_endpoint()),
    }
}

fn refuse_if_disabled(endpoint: &Endpoint) -> Result<(), Problem> {
    match endpoint.enabled {
        true => Ok(()),
        false => Err(Problem::conflict(
            "the endpoint is disabled: enable it first (PATCH with {\"enabled\": true})",
        )),
    }
}

/// The sealing box, or why signing secrets cannot be made here.
fn secret_box(keygen: &Keygen) -> Result<&webhooks::secrets::SecretBox, Problem> {
    keygen.webhook_secrets.as_ref().ok_or_else(|| {
        Problem::not_implemented("webhook signing secrets need a KMS key: set WEBHOOK_KMS_KEY_ID")
    })
}

/// A fresh secret: the form shown once, and its sealed bytes.
async fn new_secret(
    keygen: &Keygen,
    org_id: &OrgId,
    endpoint_id: &str,
) -> Result<(String, Vec<u8>), Problem> {
    let sealer = secret_box(keygen)?;
    let (secret, shown) = SigningSecret::generate().map_err(|_| Problem::internal())?;
    let sealed = sealer
        .seal(org_id, endpoint_id, secret.expose_bytes())
        .await?;
    Ok((shown, sealed))
}

async fn create(
    keygen: &Keygen,
    request: &Request,
    org_id: &OrgId,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let input: WebhookEndpointInput = json_body(request, BODY_LIMIT)?;
    let mut violations = Violations::new();
    let url = checked_url(keygen, &mut violations, &input.url);
    violations.text(
        "/description",
        input.description.as_deref(),
        MAX_DESCRIPTION_CHARS,
    );
    let event_types = input
        .event_types
        .as_deref()
        .map(|types| checked_event_types(&mut violations, types));
    violations.finish().map_err(Problem::validation)?;
    let endpoint_id = webhooks::new_endpoint_id().map_err(|_| Problem::internal())?;
    let (shown, sealed_secret) = new_secret(keygen, org_id, &endpoint_id).await?;
    let new = NewEndpoint {
        endpoint_id,
        url: url.unwrap_or_default(),
        description: input.description,
        event_types,
        include_sub_organizations: input.include_sub_organizations.unwrap_or(false),
        sealed_secret,
    };
    match keygen.store.create_endpoint(org_id, new, draft).await {
        Ok(Created::Endpoint(endpoint)) => {
            let view = EndpointView::of(*endpoint, draft.occurred_at);
            Ok(secret_response(
                StatusCode::CREATED,
                &WithSecret {
                    view,
                    secret: shown,
                },
            ))
        }
        Ok(Created::LimitReached) => Err(Problem::conflict(format!(
            "the organization has {} webhook endpoints, the most it may have: delete one first",
            webhooks::MAX_ENDPOINTS
        ))),
        Err(orgkeys_shared::StoreError::NotFound) => Err(Problem::no_organization()),
        Err(other) => Err(other.into()),
    }
}

async fn roll_secret(
    keygen: &Keygen,
    request: &Request,
    org_id: &OrgId,
    endpoint_id: &str,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let input: RollSecretInput = json_body(request, BODY_LIMIT)?;
    let overlap = input.expires_in.unwrap_or(MAX_SECRET_OVERLAP_SECONDS);
    if !(0..=MAX_SECRET_OVERLAP_SECONDS).contains(&overlap) {
        return Err(Problem::validation(vec![FieldError::body(
            "/expiresIn",
            format!("must be whole seconds from 0 to {MAX_SECRET_OVERLAP_SECONDS}"),
        )]));
    }
    if keygen
        .store
        .get_endpoint(org_id, endpoint_id)
        .await?
        .is_none()
    {
        return Err(no_endpoint());
    }
    let (shown, sealed) = new_secret(keygen, org_id, endpoint_id).await?;
    let until = draft.occurred_at + Duration::seconds(overlap);
    let rolled = keygen
        .store
        .roll_endpoint_secret(org_id, endpoint_id, sealed, until, draft)
        .await?
        .ok_or_else(no_endpoint)?;
    let view = EndpointView::of(rolled, draft.occurred_at);
    Ok(secret_response(
        StatusCode::OK,
        &WithSecret {
            view,
            secret: shown,
        },
    ))
}

fn change_of(keygen: &Keygen, request: &Request) -> Result<EndpointChange, Problem> {
    let patch: WebhookEndpointPatch = required_json_body(request, BODY_LIMIT)?;
    let mut violations = Violations::new();
    let mut change = EndpointChange::default();
    match patch.url.into_change() {
        None => {}
        Some(None) => violations.body("/url", "cannot be removed"),
        Some(Some(url)) => change.url = checked_url(keygen, &mut violations, &url),
    }
    if let Some(description) = patch.description.into_change() {
        violations.text(
            "/description",
            description.as_deref(),
            MAX_DESCRIPTION_CHARS,
        );
        change.description = Some(description);
    }
    if let Some(types) = patch.event_types.into_change() {
        change.event_types = Some(types.map(|t| checked_event_types(&mut violations, &t)));
    }
    for (pointer, field, target) in [
        (
            "/includeSubOrganizations",
            patch.include_sub_organizations,
            &mut change.include_sub_organizations,
        ),
        ("/enabled", patch.enabled, &mut change.enabled),
    ] {
        match field.into_change() {
            None => {}
            Some(None) => violations.body(pointer, "cannot be removed: true or false"),
            Some(Some(value)) => *target = Some(value),
        }
    }
    violations.finish().map_err(Problem::validation)?;
    Ok(change)
}

/// The URL if it may be registered; otherwise a violation at `/url`.
fn checked_url(keygen: &Keygen, violations: &mut Violations, url: &str) -> Option<String> {
    if url.chars().count() > MAX_URL_CHARS {
        violations.body(
            "/url",
            format!("must be at most {MAX_URL_CHARS} characters"),
        );
        return None;
    }
    match keygen.webhook_addresses.validate_url(url) {
        Ok(url) => Some(url.as_str().to_owned()),
        Err(why) => {
            violations.body("/url", why);
            None
        }
    }
}

/// The event types, each known, without repeats; at least one.
fn checked_event_types(violations: &mut Violations, types: &[String]) -> Vec<String> {
    if types.is_empty() {
        violations.body(
            "/eventTypes",
            "must name at least one event type; leave it out for all",
        );
    }
    let mut known = Vec::new();
    for (index, name) in types.iter().enumerate() {
        if !events::is_event_type(name) {
            violations.body(
                format!("/eventTypes/{index}"),
                format!(
                    "is not an event type; one of {}",
                    events::EVENT_TYPES.join(", ")
                ),
            );
        } else if !known.contains(name) {
            known.push(name.clone());
        }
    }
    known
}
