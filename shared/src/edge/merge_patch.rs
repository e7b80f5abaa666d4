//! JSON merge patch (RFC 7396) bodies: a field left out keeps its value,
//! `null` removes it, anything else replaces it. serde alone cannot tell a
//! missing field from a `null` one; [`Field`] can, with `#[serde(default)]`.

use serde::{Deserialize, Deserializer};

/// One field of a merge patch.
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
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field<T>, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Field::Null,
            Some(value) => Field::Value(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Patch {
        #[serde(default)]
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
}
