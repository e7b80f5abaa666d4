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
