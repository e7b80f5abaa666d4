//! The orgkeys shared crate: everything the four Lambda functions agree on.
//!
//! - [`key_format`] owns what an API key looks like: generation, parsing and
//!   its checksum, the display hint and the secret-scanner regex.
//! - [`key_hash`] owns the stored form of a key: a domain-separated blake3 hash.
//! - [`models`] holds the domain types (organizations, key records, scopes).
//! - [`validation`] checks identifiers and collects field errors.
//! - [`problem`] renders every error as RFC 9457 `application/problem+json`.
//! - [`cursor`] makes and checks opaque pagination cursors.
//! - [`ids`] makes the random public identifiers (keys, dispatches).
//! - [`http`] reads JSON bodies and route keys and writes JSON responses.
//! - [`auth_context`] is the context the authorizer hands to the public functions.
//! - [`caller`] reads who is calling from API Gateway's authorizer context.
//! - [`items`] is the DynamoDB item layout: the only module that knows
//!   attribute names and key patterns.
//! - [`table`] creates the table with the schema `template.yaml` declares.
//! - [`store`] performs every DynamoDB call the functions make.
//! - [`config`] builds the store once per process from the environment.

pub mod auth_context;
pub mod caller;
pub mod config;
pub mod cursor;
pub mod http;
pub mod ids;
pub mod items;
pub mod key_format;
pub mod key_hash;
pub mod models;
pub mod problem;
pub mod store;
pub mod table;
pub mod validation;
