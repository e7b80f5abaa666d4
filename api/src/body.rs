//! The request bodies of the API: a client serializes them, the function that
//! serves the route deserializes them (unknown fields refused), so the two
//! cannot drift. Values are checked by the functions, which name each bad field;
//! these types only fix the shape. Also the two shapes bodies are made of:
//! [`Field`], one field of a JSON merge patch, and [`Object`], a nested object
//! that must be a JSON object.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One field of a JSON merge patch (RFC 7396): left out keeps the value,
/// `null` removes it, anything else replaces it. serde alone cannot tell a
/// missing field from a `null` one; `Field` can, with `#[serde(default)]`,
/// and is left out when serialized absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Field<T> {
    /// Left out: unchanged.
    #[default]
    Absent,
    /// `null`: removed (or refused, for a field that cannot be removed).
    Null,
    Value(T),
}

impl<T> Field<T> {
    /// `None` when absent, `Some(None)` for `null`, `Some(Some(value))` otherwise.
    pub fn into_change(self) -> Option<Option<T>> {
        match self {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Value(value) => Some(Some(value)),
        }
    }

    /// The field a change makes: absent for `None`, `null` for `Some(None)`.
    pub fn from_change(change: Option<Option<T>>) -> Field<T> {
        match change {
            None => Field::Absent,
            Some(None) => Field::Null,
            Some(Some(value)) => Field::Value(value),
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field<T>, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Field::Null,
            Some(value) => Field::Value(value),
        })
    }
}

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Absent | Field::Null => serializer.serialize_none(),
            Field::Value(value) => value.serialize(serializer),
        }
    }
}

/// A nested body object that must be a JSON object: serde's derived structs
/// also accept an array of their fields in order (`[600, null]`), which a
/// client never means. Field paths are kept, so errors inside still point at
/// the field (`/limits/contactsPerDay`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Object<T>, D::Error> {
        struct OnlyMaps<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for OnlyMaps<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Object<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        deserializer.deserialize_map(OnlyMaps(std::marker::PhantomData))
    }
}

impl<T: Serialize> Serialize for Object<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Body of `PUT /v1/admin/organizations/{orgId}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Object<LimitsInput>>,
}

/// Body of `POST /v1/console/organizations`: a sub-organization of one the
/// signed-in user may act on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubOrganizationInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
}

/// `limits` of an organization body; a limit left out or `null` takes the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitsInput {
    #[serde(
        default,
        deserialize_with = "crate::whole_number::field",
        skip_serializing_if = "Field::is_absent"
    )]
    pub requests_per_minute: Field<i64>,
    #[serde(
        default,
        deserialize_with = "crate::whole_number::field",
        skip_serializing_if = "Field::is_absent"
    )]
    pub contacts_per_day: Field<i64>,
}

/// Body of `PATCH /v1/admin/organizations/{orgId}`: a merge patch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationPatch {
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub name: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub parent_id: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub status: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub limits: Field<Object<LimitsInput>>,
}

/// Body of `POST .../api-keys`: everything optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateKeyInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::whole_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub requests_per_minute: Option<i64>,
}

/// Body of `PATCH .../api-keys/{keyId}`: a merge patch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyPatchInput {
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub name: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub scopes: Field<Vec<String>>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub expires_at: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub enabled: Field<bool>,
    #[serde(
        default,
        deserialize_with = "crate::whole_number::field",
        skip_serializing_if = "Field::is_absent"
    )]
    pub requests_per_minute: Field<i64>,
}

/// Body of `POST .../api-keys/{keyId}/roll`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollInput {
    #[serde(
        default,
        deserialize_with = "crate::whole_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub grace_period_seconds: Option<i64>,
}

/// Body of `PUT /v1/admin/organizations/{orgId}/schedules/{scheduleId}`: the
/// whole schedule (fields left out are cleared).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
}

/// Body of `POST /v1/admin/organizations/{orgId}/conversations/{conversationId}/status`:
/// what the downstream sender reports. `status` is `sent`, `delivered` or
/// `failed`; `error` goes with `failed` only. The function checks the values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConversationStatusInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Object<DeliveryErrorInput>>,
}

/// Why a conversation failed, in the sender's (or its provider's) words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryErrorInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Body of `POST .../users`: an invitation. The role is `org-admin` or
/// `org-viewer`; both are checked by the function, which names a bad one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserInput {
    pub email: String,
    pub role: String,
}

/// Body of `PATCH .../users/{userId}`: the new role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserPatch {
    pub role: String,
}

/// Body of `POST .../webhooks`: a new endpoint. `eventTypes` left out: all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookEndpointInput {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_sub_organizations: Option<bool>,
}

/// Body of `PATCH .../webhooks/{endpointId}`: a merge patch (`eventTypes`
/// `null`: all event types).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookEndpointPatch {
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub url: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub description: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub event_types: Field<Vec<String>>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub include_sub_organizations: Field<bool>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub enabled: Field<bool>,
}

/// Body of `POST .../webhooks/{endpointId}/roll-secret`: how long the old
/// secret keeps signing, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollSecretInput {
    #[serde(
        default,
        deserialize_with = "crate::whole_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_in: Option<i64>,
}

/// Body of `POST /v1/admin/api-keys/revoke`: a leaked key and why it is
/// revoked. The key is left out when empty (a client fills it in last, from
/// stdin), and never shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokeInput {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_key: String,
    pub reason: String,
}

impl std::fmt::Debug for RevokeInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevokeInput")
            .field("api_key", &"<redacted>")
            .field("reason", &self.reason)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    struct Patch {
        #[serde(default, skip_serializing_if = "Field::is_absent")]
        name: Field<String>,
    }

    #[test]
    fn absent_null_and_a_value_are_three_different_things() {
        let parse = |text| serde_json::from_str::<Patch>(text).unwrap().name;
        assert_eq!(parse("{}"), Field::Absent);
        assert_eq!(parse(r#"{"name":null}"#), Field::Null);
        assert_eq!(parse(r#"{"name":"Acme"}"#), Field::Value("Acme".into()));
        assert!(serde_json::from_str::<Patch>(r#"{"name":1}"#).is_err());
    }

    #[test]
    fn a_patch_serializes_what_it_changes_and_nothing_else() {
        for text in [r#"{}"#, r#"{"name":null}"#, r#"{"name":"Acme"}"#] {
            let patch: Patch = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&patch).unwrap(), text);
        }
        let key = KeyPatchInput {
            enabled: Field::Value(false),
            expires_at: Field::Null,
            ..KeyPatchInput::default()
        };
        assert_eq!(
            serde_json::to_value(&key).unwrap(),
            json!({"expiresAt": null, "enabled": false})
        );
    }

    #[test]
    fn a_nested_object_must_be_an_object() {
        let body = r#"{"limits": [600, null]}"#;
        assert!(serde_json::from_str::<OrganizationInput>(body).is_err());
        let body = r#"{"name": "Acme", "limits": {"contactsPerDay": 20}}"#;
        let input: OrganizationInput = serde_json::from_str(body).unwrap();
        assert_eq!(
            input.limits.as_ref().unwrap().0.contacts_per_day,
            Field::Value(20)
        );
        let round_trip: serde_json::Value = serde_json::to_value(&input).unwrap();
        assert_eq!(
            round_trip,
            json!({"name": "Acme", "limits": {"contactsPerDay": 20}})
        );
    }
}
