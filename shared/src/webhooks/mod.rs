//! Webhooks: an organization's endpoints, the messages sent to them and
//! their attempts. The audit event written in a change's transaction is the
//! outbox: the table's stream carries it to the webhooks function, which fans
//! it out to the endpoints that want it (`functions/webhooks`).
//!
//! - [`address_policy`]: which addresses a delivery may reach, and which URLs
//!   may be registered.
//! - [`signing`]: the endpoint's signing secret (`whsec_…`).

pub mod address_policy;
pub mod signing;
