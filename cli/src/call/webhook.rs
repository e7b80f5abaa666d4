//! The `webhook` commands: one per admin webhook route, with the API's own
//! body types.

use super::{Call, Cell, View, set_or_clear};
use crate::args::WebhookCommand;
use orgkeys_api::body::{Field, RollSecretInput, WebhookEndpointInput, WebhookEndpointPatch};
use orgkeys_api::routes::Operation;

const ENDPOINTS: &[(&str, Cell)] = &[
    ("ENDPOINT", Cell::At("/endpointId")),
    ("URL", Cell::At("/url")),
    ("EVENTS", Cell::At("/eventTypes")),
    ("SUB-ORGS", Cell::At("/includeSubOrganizations")),
    ("STATE", Cell::EndpointState),
    ("DESCRIPTION", Cell::At("/description")),
];
const MESSAGES: &[(&str, Cell)] = &[
    ("MESSAGE", Cell::At("/messageId")),
    ("EVENT", Cell::At("/eventType")),
    ("CREATED", Cell::At("/createdAt")),
    ("STATUS", Cell::At("/status")),
    ("ATTEMPTS", Cell::Attempts),
    ("NEXT ATTEMPT", Cell::At("/nextAttemptAt")),
];

/// `true` or `false` when one of a pair of flags is given.
fn either(yes: bool, no: bool) -> Field<bool> {
    match (yes, no) {
        (true, _) => Field::Value(true),
        (_, true) => Field::Value(false),
        _ => Field::Absent,
    }
}

/// The request a `webhook` command makes.
pub(super) fn call(command: &WebhookCommand) -> Call {
    use Operation::*;
    let endpoint_of = |org: &str, endpoint: &str, operation, view| {
        Call::new(operation, &[("orgId", org), ("endpointId", endpoint)], view)
    };
    match command {
        WebhookCommand::Create {
            org,
            url,
            description,
            events,
            include_sub_organizations,
        } => Call::new(CreateWebhookEndpoint, &[("orgId", org)], View::NewSecret).body(
            &WebhookEndpointInput {
                url: url.clone(),
                description: description.clone(),
                event_types: (!events.is_empty()).then(|| events.clone()),
                include_sub_organizations: include_sub_organizations.then_some(true),
            },
        ),
        WebhookCommand::List { org } => Call::new(
            ListWebhookEndpoints,
            &[("orgId", org)],
            View::List(ENDPOINTS),
        ),
        WebhookCommand::Get { org, endpoint } => {
            endpoint_of(org, endpoint, GetWebhookEndpoint, View::Object)
        }
        WebhookCommand::Update {
            org,
            endpoint,
            url,
            description,
            no_description,
            events,
            all_events,
            include_sub_organizations,
            no_sub_organizations,
            enable,
            disable,
        } => endpoint_of(org, endpoint, UpdateWebhookEndpoint, View::Object).patch(
            &WebhookEndpointPatch {
                url: Field::from_change(url.clone().map(Some)),
                description: set_or_clear(description, *no_description),
                event_types: set_or_clear(
                    &(!events.is_empty()).then(|| events.clone()),
                    *all_events,
                ),
                include_sub_organizations: either(
                    *include_sub_organizations,
                    *no_sub_organizations,
                ),
                enabled: either(*enable, *disable),
            },
        ),
        WebhookCommand::Delete { org, endpoint } => {
            endpoint_of(org, endpoint, DeleteWebhookEndpoint, View::Done)
        }
        WebhookCommand::RollSecret {
            org,
            endpoint,
            expires_in,
        } => {
            endpoint_of(org, endpoint, RollWebhookSecret, View::NewSecret).body(&RollSecretInput {
                expires_in: *expires_in,
            })
        }
        WebhookCommand::Test { org, endpoint } => {
            endpoint_of(org, endpoint, SendTestWebhook, View::Object)
        }
        WebhookCommand::Messages {
            org,
            endpoint,
            page,
        } => endpoint_of(org, endpoint, ListWebhookMessages, View::List(MESSAGES)).page(page),
        WebhookCommand::Resend {
            org,
            endpoint,
            message,
        } => Call::new(
            ResendWebhookMessage,
            &[
                ("orgId", org),
                ("endpointId", endpoint),
                ("messageId", message),
            ],
            View::Object,
        ),
    }
}
