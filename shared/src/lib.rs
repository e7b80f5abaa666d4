//! The orgkeys shared crate: everything the Lambda functions agree on.
//!
//! Aggregates, each owning its domain types, its item layout (addresses and
//! attribute names) and its DynamoDB calls, as methods on [`Store`]:
//! - [`organizations`]: the tenants; every item they own is in their partition.
//! - [`keys`]: API key records and scopes, their lookup and listing copies.
//! - [`schedules`]: what outbound campaigns send under.
//! - [`conversations`]: outbound conversations queued for the sender.
//! - [`idempotency`]: one operation per `Idempotency-Key` (header, record, guard).
//! - [`audit`]: who changed what, written in the same transaction as the change.
//! - [`limits`]: requests per key per minute, contacts per organization per
//!   day: their counters and the usage they report.
//! - [`users`]: console users' membership of an organization (the identity
//!   itself is the identity provider's).
//!
//! Underneath them, [`tenancy`]: the partition `ORG#<orgId>` every item of an
//! organization lives in; and [`dynamo`], plumbing that knows no domain: the
//! store (client and table), its errors, the attribute helpers, the typed
//! update and condition every aggregate writes with, the table schema, the
//! AWS configuration, and how long a kind of item is kept before its TTL
//! (`dynamo::retention`). The settings of the domain (how long audit events and
//! conversations are kept, the default limits) are not the store's: each
//! function reads them in its `main` and passes them where they are used
//! (`audit::Retention` in each `Draft`, `conversations::Retention` to
//! `put_dispatch`, `limits::Defaults` to the meter and the views).
//!
//! No module imports one that imports it back (a test, `layering.rs`, reads
//! the sources and fails on a cycle): from the bottom, `wire_time`, `ids`,
//! `tenancy`, `dynamo`; then `audit`, `limits`, `schedules`, `users`; then
//! `organizations`, `conversations`, `keys`; then `edge`; then `idempotency`
//! and `validation`.
//!
//! The HTTP edge, [`edge`]: problem+json errors, request and response helpers,
//! and who is calling. [`logging`]: how the functions log; [`metrics`]: CloudWatch EMF lines. The API's routes, [`routes`]: one table that the
//! functions, the local gateway, the tests and both YAML documents agree with.
//!
//! Values: [`key_format`] (what an API key looks like), [`key_hash`] (its
//! stored form), [`cursor`] (pagination cursors), [`ids`] (random public IDs),
//! [`validation`] (field checks) and [`wire_time`] (the timestamp format).
//! [`invitation`]: the email that invites a console user, naming the organization.

pub mod audit;
pub mod conversations;
pub mod cursor;
pub mod dynamo;
pub mod edge;
pub mod idempotency;
pub mod ids;
pub mod invitation;
pub mod key_format;
pub mod key_hash;
pub mod keys;
#[cfg(test)]
mod layering;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod organizations;
#[cfg(test)]
mod properties;
pub mod schedules;
pub mod tenancy;
pub mod users;
pub mod validation;
pub mod webhooks;

pub use dynamo::{Store, StoreError};
/// The route table lives in the API crate, which clients share.
pub use orgkeys_api::{routes, wire_time};
