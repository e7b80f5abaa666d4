//! The orgkeys API as a client sees it, shared by the functions, the local
//! gateway, the tests and the `orgkeys` CLI. It depends on serde alone, so a
//! client links neither the AWS SDK nor the Lambda runtime.
//!
//! - [`routes`]: every route, the operation it is, the function that serves
//!   it and who may call it.
//! - [`scope`]: what an API key may do; [`role`]: what a console user may do.
//! - [`ids`]: organization, key and schedule IDs, parsed once.
//! - [`body`]: the request bodies, which a client serializes and a function
//!   deserializes, and the merge-patch field.
//! - [`text`]: the characters stored text may not carry; [`wire_time`]:
//!   the one timestamp format.
//! - [`whole_number`]: integer body fields, which take `174.0` as 174.
//! - [`wire_enum!`]: the one way an enum maps to its wire string.

pub mod body;
pub mod ids;
pub mod role;
pub mod routes;
pub mod scope;
pub mod text;
pub mod whole_number;
mod wire;
pub mod wire_time;

pub use ids::{ConversationId, KeyId, OrgId, ScheduleId};
pub use role::Role;
pub use scope::Scope;

#[doc(hidden)]
pub use serde as __serde;
