//! Domain types shared by the functions: organizations, API key records and scopes.
//! They know nothing of DynamoDB (see `items`) or of HTTP bodies (see each function).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a key may do. The authorizer passes them on; each public route demands one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "schedules:read")]
    SchedulesRead,
    #[serde(rename = "conversations:write")]
    ConversationsWrite,
    #[serde(rename = "conversations:read")]
    ConversationsRead,
}

impl Scope {
    pub const ALL: [Scope; 3] = [
        Scope::SchedulesRead,
        Scope::ConversationsWrite,
        Scope::ConversationsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SchedulesRead => "schedules:read",
            Scope::ConversationsWrite => "conversations:write",
            Scope::ConversationsRead => "conversations:read",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = ();
    fn from_str(s: &str) -> Result<Scope, ()> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or(())
    }
}

/// An organization: the tenant that owns keys, schedules and conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub organization_id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Everything known about one API key except the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub organization_id: String,
    pub key_id: String,
    pub name: Option<String>,
    pub hint: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Set once the key has been rolled: the keyId of its successor.
    pub rolled_to: Option<String>,
}

impl KeyRecord {
    /// A key past its expiry (rolled keys included, once their grace ends) is dead.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// How a schedule reaches contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Whatsapp,
    Webchat,
    Email,
}

/// Whether a schedule accepts new outbound conversations (only `active` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleStatus {
    Active,
    Paused,
    Ended,
}

/// Text form of the small enums, as stored and as used in query strings.
macro_rules! wire_names {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),+ }
            }
        }
        impl FromStr for $ty {
            type Err = ();
            fn from_str(s: &str) -> Result<$ty, ()> {
                match s { $($text => Ok(<$ty>::$variant),)+ _ => Err(()) }
            }
        }
    };
}

wire_names!(Channel { Sms => "sms", Whatsapp => "whatsapp", Webchat => "webchat", Email => "email" });
wire_names!(ScheduleStatus { Active => "active", Paused => "paused", Ended => "ended" });

/// A schedule: what an outbound campaign sends under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub organization_id: String,
    pub schedule_id: String,
    pub name: String,
    pub campaign: String,
    pub channel: Channel,
    pub status: ScheduleStatus,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Schedule {
    /// Active and not past its end: new conversations may be queued on it.
    pub fn accepts_dispatch(&self, now: DateTime<Utc>) -> bool {
        self.status == ScheduleStatus::Active && self.ends_at.is_none_or(|end| now < end)
    }
}

/// One contact of an outbound dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_uid: Option<String>,
    #[serde(default)]
    pub variables: std::collections::BTreeMap<String, String>,
}

/// An outbound conversation, queued for the downstream sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub organization_id: String,
    pub conversation_id: String,
    pub dispatch_id: String,
    pub schedule_id: String,
    pub channel: Channel,
    pub contact: Contact,
    pub reference: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
}
