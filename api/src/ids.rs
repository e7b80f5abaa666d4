//! Organization, key and schedule IDs: 1–64 of `[A-Za-z0-9_-]`, safe in a
//! path segment and in a DynamoDB key after a `#` separator. Each kind is a
//! type that parses once, at the edge; past it an invalid ID cannot exist.
//! The rule's text, [`ID_RULE`], has its home here.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// The rule every ID follows, as an error detail says it.
pub const ID_RULE: &str = "must be 1-64 characters of A-Z, a-z, 0-9, _ and -";

/// Whether `id` follows [`ID_RULE`].
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A string that does not follow [`ID_RULE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidId;

impl fmt::Display for InvalidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ID_RULE)
    }
}

impl std::error::Error for InvalidId {}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The ID, if `id` follows [`ID_RULE`].
            pub fn parse(id: impl Into<String>) -> Result<$name, InvalidId> {
                let id = id.into();
                if is_valid_id(&id) { Ok($name(id)) } else { Err(InvalidId) }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl From<&$name> for String {
            fn from(id: &$name) -> String {
                id.0.clone()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<$name, InvalidId> {
                $name::parse(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                $name::parse(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// An organization's ID, chosen by the platform (`acme`, `acme-emea`).
    OrgId
);
impl OrgId {
    /// An ID read back from our own table, not checked again: the table
    /// holds only IDs that were parsed on their way in, and the authorizer
    /// reads one on every call, where it parses nothing it need not. Only
    /// the shared crate's attribute reader calls this (a test there holds
    /// it so); anything from outside goes through [`OrgId::parse`].
    pub fn from_store(id: String) -> OrgId {
        OrgId(id)
    }
}

id_type!(
    /// An API key's ID (`key_` and hex), never the key itself.
    KeyId
);
id_type!(
    /// A schedule's ID, what an outbound campaign sends under.
    ScheduleId
);
id_type!(
    /// An outbound conversation's ID (`conv_` and hex).
    ConversationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_rule() {
        for good in ["acme", "a", "A-z_09", &"x".repeat(64)] {
            assert_eq!(OrgId::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "a b", "a/b", "a#b", "é", &"x".repeat(65)] {
            assert_eq!(OrgId::parse(bad), Err(InvalidId), "{bad:?}");
        }
    }

    #[test]
    fn an_id_in_json_is_checked_when_read() {
        let id: ScheduleId = serde_json::from_str("\"spring-renewals\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"spring-renewals\"");
        let err = serde_json::from_str::<KeyId>("\"no spaces\"").unwrap_err();
        assert!(err.to_string().contains(ID_RULE), "{err}");
    }
}
