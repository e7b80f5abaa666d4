//! What an endpoint can hear: every audit action (a change, as its audit
//! event records it) and `webhook.test`. The payload is
//! `{"type", "timestamp", "data"}`, `data` the audit event's public view
//! (the same JSON the audit-events routes list), so `data.organizationId` is
//! always there and no secret ever is: audit events hold none.

use crate::audit::{Action, AuditEvent};
use orgkeys_api::OrgId;
use serde::Serialize;
use serde_json::{Value, json};

/// The one event type that is no audit action.
pub const TEST_EVENT: &str = "webhook.test";

/// Every event type, in the order the console lists them.
pub static EVENT_TYPES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let mut all: Vec<&'static str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    all.push(TEST_EVENT);
    all
});

/// Whether `name` is an event type an endpoint may ask for.
pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.contains(&name)
}

/// One event as delivered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookEvent {
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: String,
    pub data: Value,
}

impl WebhookEvent {
    /// The event of an audit event.
    pub fn of_audit(event: &AuditEvent) -> WebhookEvent {
        WebhookEvent {
            kind: event.action.as_str().to_owned(),
            timestamp: crate::wire_time::format(event.occurred_at),
            data: serde_json::to_value(event).unwrap_or(Value::Null),
        }
    }

    /// The test event an admin asks for, to one endpoint.
    pub fn test(
        organization_id: &OrgId,
        endpoint_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> WebhookEvent {
        WebhookEvent {
            kind: TEST_EVENT.to_owned(),
            timestamp: crate::wire_time::format(at),
            data: json!({
                "organizationId": organization_id,
                "endpointId": endpoint_id,
                "message": "A test event from orgkeys: this endpoint receives and verifies webhooks.",
            }),
        }
    }

    /// The body sent: compact JSON.
    pub fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audit_action_and_the_test_event_are_event_types() {
        for action in Action::ALL {
            assert!(is_event_type(action.as_str()));
        }
        assert!(is_event_type("webhook.test"));
        assert!(!is_event_type("api_key.*"));
        assert_eq!(EVENT_TYPES.len(), Action::ALL.len() + 1);
    }
}
