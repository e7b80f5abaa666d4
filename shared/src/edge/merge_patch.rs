//! JSON merge patch (RFC 7396) bodies: a field left out keeps its value,
//! `null` removes it, anything else replaces it. serde alone cannot tell a
//! missing field from a `null` one; [`Field`] can, with `#[serde(default)]`.

pub use orgkeys_api::body::Field;
