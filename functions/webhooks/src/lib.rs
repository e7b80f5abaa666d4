//! The webhooks function: the table's stream brings the audit events (the
//! outbox of every change); each is fanned out to the endpoints that want it
//! as one SQS message per endpoint; the queue's messages are delivered,
//! signed as Standard Webhooks 1.0 says, and retried on the schedule.
//!
//! - [`signature`]: the `webhook-signature` header.
//! - [`client`]: one attempt: resolve, check the address, POST, record.
//! - [`retry`]: when the next attempt is due.

pub mod client;
pub mod retry;
pub mod signature;
