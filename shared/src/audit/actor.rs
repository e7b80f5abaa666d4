//! Who made a change, as an event records it and a key remembers its
//! creator: an administrator, an API key, a console user (with their email)
//! or the system itself.

use super::ActorType;
use crate::dynamo::attributes::{CorruptItem, Item, optional_string, parsed, s, string};
use serde::Serialize;

/// Who made a change: the IAM principal ARN (`local-admin` on the local
/// gateway), the keyId, a console user's `sub` (with their email), or a
/// system actor's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorType,
    pub id: String,
    /// A console user's email as their token gave it; no other actor has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Actor {
    /// An administrator, by IAM principal ARN (`local-admin` locally).
    pub fn admin(principal: impl Into<String>) -> Actor {
        Actor {
            kind: ActorType::Admin,
            id: principal.into(),
            email: None,
        }
    }

    /// An organization API key, by keyId.
    pub fn api_key(key_id: impl Into<String>) -> Actor {
        Actor {
            kind: ActorType::ApiKey,
            id: key_id.into(),
            email: None,
        }
    }

    /// A console user, by the `sub` of their token, with its email.
    pub fn user(id: impl Into<String>, email: Option<String>) -> Actor {
        Actor {
            kind: ActorType::User,
            id: id.into(),
            email,
        }
    }

    /// The attributes an item that records this actor stores, named by `names`.
    pub(crate) fn attributes(&self, names: ActorAttributes) -> Item {
        let mut item = Item::from([
            (names.kind.to_owned(), s(self.kind.as_str())),
            (names.id.to_owned(), s(&self.id)),
        ]);
        if let Some(email) = &self.email {
            item.insert(names.email.to_owned(), s(email));
        }
        item
    }

    /// The actor [`attributes`](Self::attributes) stored; `default_kind`
    /// for an item that stored no type (written before there was one).
    pub(crate) fn of_item(
        item: &Item,
        names: ActorAttributes,
        default_kind: Option<ActorType>,
    ) -> Result<Actor, CorruptItem> {
        let kind = match (item.get(names.kind), default_kind) {
            (None, Some(kind)) => kind,
            _ => parsed(item, names.kind)?,
        };
        Ok(Actor {
            kind,
            id: string(item, names.id)?,
            email: optional_string(item, names.email)?,
        })
    }

    /// The system acting on its own, named for what made it act
    /// (`github-secret-scanning`).
    pub fn system(name: impl Into<String>) -> Actor {
        Actor {
            kind: ActorType::System,
            id: name.into(),
            email: None,
        }
    }
}

/// The names of the attributes an item records an [`Actor`] in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActorAttributes {
    pub kind: &'static str,
    pub id: &'static str,
    pub email: &'static str,
}
