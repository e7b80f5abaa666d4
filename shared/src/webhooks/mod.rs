//! Webhooks: an organization's endpoints, the messages sent to them and
//! their attempts. The audit event written in a change's transaction is the
//! outbox: the table's stream carries it to the webhooks function, which fans
//! it out to the endpoints that want it (`functions/webhooks`); no handler
//! sends anything itself.
//!
//! - [`events`]: the event types an endpoint can ask for, and the payload.
//! - [`endpoints`]: an endpoint's item, its changes (each with its audit
//!   event) and its health (failing since, disabled and why).
//! - [`messages`]: the delivery log (a message per event and endpoint, its
//!   attempts) and the requests for a test event or a resend.
//! - [`secrets`]: signing secrets sealed with KMS, so the table holds none.
//! - [`address_policy`]: which addresses a delivery may reach, and which URLs
//!   may be registered.
//! - [`signing`]: the endpoint's signing secret (`whsec_…`).

pub mod address_policy;
pub mod endpoints;
pub mod events;
pub mod messages;
pub mod secrets;
pub mod signing;

pub use endpoints::{Endpoint, EndpointChange, NewEndpoint};
pub use events::{EVENT_TYPES, WebhookEvent};
pub use messages::{AttemptRecord, DeliveryRequest, Message, MessageStatus};

/// At most this many endpoints per organization.
pub const MAX_ENDPOINTS: i64 = 20;

/// The public ID of an endpoint: `ep_` and 24 hex digits.
pub fn new_endpoint_id() -> Result<String, getrandom::Error> {
    crate::ids::random_id("ep_")
}

/// Whether `text` is an endpoint ID this service could have made.
pub fn is_endpoint_id(text: &str) -> bool {
    is_prefixed_hex(text, "ep_", 24)
}

/// Whether `text` is a message ID this service could have made.
pub fn is_message_id(text: &str) -> bool {
    is_prefixed_hex(text, "msg_", MESSAGE_ID_HEX)
}

fn is_prefixed_hex(text: &str, prefix: &str, digits: usize) -> bool {
    text.strip_prefix(prefix)
        .is_some_and(|hex| hex.len() == digits && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Hex digits of a message ID: 12 of the time in milliseconds (so IDs sort
/// by time and a log lists newest first with one Query), 20 of a hash.
const MESSAGE_ID_HEX: usize = 32;

/// The `webhook-id` of `seed` (an audit event and an endpoint, or a fresh
/// random value) sent at `at`: the same seed always gives the same ID, so
/// an event fanned out twice (a stream batch retried) is one message.
pub fn message_id(at: chrono::DateTime<chrono::Utc>, seed: &[u8]) -> String {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0) & 0xffff_ffff_ffff;
    let hash = blake3::Hasher::new_derive_key("orgkeys webhook message id v1")
        .update(seed)
        .finalize();
    crate::ids::hex_id(&format!("msg_{millis:012x}"), &hash.as_bytes()[..10])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn message_ids_are_stable_per_seed_and_sort_by_time() {
        let early = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let late = early + chrono::Duration::milliseconds(1);
        let a = message_id(early, b"evt_1 ep_1");
        assert_eq!(a, message_id(early, b"evt_1 ep_1"));
        assert_ne!(a, message_id(early, b"evt_1 ep_2"));
        assert!(message_id(late, b"evt_0") > a);
        assert!(is_message_id(&a), "{a}");
        assert!(!is_message_id("msg_xyz"));
    }

    #[test]
    fn endpoint_ids_are_recognised() {
        let id = new_endpoint_id().unwrap();
        assert!(is_endpoint_id(&id));
        assert!(!is_endpoint_id("ep_../x"));
    }
}
