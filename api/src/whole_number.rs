//! The integer fields of request bodies, as JSON Schema reads them: a number
//! with a fraction of zero is an integer (`174.0`, `1e2`), so a client whose
//! JSON library writes every number as a float is understood. A fraction
//! (`174.5`), a value out of range or another type is refused with serde's
//! own message (`expected i64`), which the edge puts in the API's words.
//!
//! Used with `#[serde(default, deserialize_with = "...")]`: [`option`] for an
//! `Option<i64>`, [`field`] for a merge-patch [`Field<i64>`].

use crate::body::Field;
use serde::Deserializer;
use serde::de::{Error, Unexpected, Visitor};

/// One more than the largest `i64`, as an `f64` (exactly 2^63).
const I64_END: f64 = 9_223_372_036_854_775_808.0;

struct WholeNumber;

impl Visitor<'_> for WholeNumber {
    type Value = i64;

    // The same word serde's own i64 uses, so errors read as they always did.
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("i64")
    }

    fn visit_i64<E: Error>(self, value: i64) -> Result<i64, E> {
        Ok(value)
    }

    fn visit_u64<E: Error>(self, value: u64) -> Result<i64, E> {
        i64::try_from(value).map_err(|_| E::invalid_value(Unexpected::Unsigned(value), &self))
    }

    fn visit_f64<E: Error>(self, value: f64) -> Result<i64, E> {
        if value.fract() == 0.0 && (-I64_END..I64_END).contains(&value) {
            // In range and whole, so the cast is exact (and -0.0 is 0).
            Ok(value as i64)
        } else {
            Err(E::invalid_type(Unexpected::Float(value), &self))
        }
    }
}

/// An optional integer field (left out or `null`: `None`).
pub fn option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    field(deserializer).map(|value| match value {
        Field::Value(value) => Some(value),
        Field::Absent | Field::Null => None,
    })
}

/// A merge-patch integer field (`null`: removed).
pub fn field<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Field<i64>, D::Error> {
    struct Nullable;
    impl<'de> Visitor<'de> for Nullable {
        type Value = Field<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("i64")
        }
        fn visit_none<E: Error>(self) -> Result<Field<i64>, E> {
            Ok(Field::Null)
        }
        fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Field<i64>, D::Error> {
            inner.deserialize_i64(WholeNumber).map(Field::Value)
        }
    }
    deserializer.deserialize_option(Nullable)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::option")]
        seconds: Option<i64>,
        #[serde(default, deserialize_with = "super::field")]
        limit: super::Field<i64>,
    }

    fn seconds(json: &str) -> Result<Option<i64>, String> {
        serde_json::from_str::<Body>(&format!(r#"{{"seconds":{json}}}"#))
            .map(|body| body.seconds)
            .map_err(|err| err.to_string())
    }

    #[test]
    fn a_fraction_of_zero_is_an_integer() {
        assert_eq!(seconds("174.0"), Ok(Some(174)));
        assert_eq!(seconds("1e2"), Ok(Some(100)));
        assert_eq!(seconds("1.5e1"), Ok(Some(15)));
        assert_eq!(seconds("-0.0"), Ok(Some(0)));
        assert_eq!(seconds("-42.000"), Ok(Some(-42)));
    }

    #[test]
    fn integers_are_read_as_before() {
        assert_eq!(seconds("174"), Ok(Some(174)));
        assert_eq!(seconds("-9223372036854775808"), Ok(Some(i64::MIN)));
        assert_eq!(seconds("9223372036854775807"), Ok(Some(i64::MAX)));
        assert_eq!(
            serde_json::from_str::<Body>("{}").unwrap().seconds,
            None,
            "left out"
        );
    }

    #[test]
    fn a_fraction_is_refused_as_serde_refuses_it() {
        let err = seconds("174.5").unwrap_err();
        assert!(
            err.starts_with("invalid type: floating point `174.5`, expected i64"),
            "{err}"
        );
    }

    #[test]
    fn values_beyond_i64_are_refused() {
        for huge in [
            "9223372036854775808",
            "9223372036854775808.0",
            "-1e19",
            "1e19",
            "1e300",
            "-1e300",
        ] {
            let err = seconds(huge).unwrap_err();
            assert!(err.contains("expected i64"), "{huge}: {err}");
        }
    }

    #[test]
    fn other_types_are_refused_and_null_is_none() {
        assert_eq!(seconds("null"), Ok(None));
        for other in [r#""174""#, "true", "[174]", "{}"] {
            let err = seconds(other).unwrap_err();
            assert!(err.contains("expected i64"), "{other}: {err}");
        }
    }

    #[test]
    fn a_patch_field_keeps_absent_null_and_value_apart() {
        let limit = |json: &str| serde_json::from_str::<Body>(json).unwrap().limit;
        assert_eq!(limit("{}"), super::Field::Absent);
        assert_eq!(limit(r#"{"limit":null}"#), super::Field::Null);
        assert_eq!(limit(r#"{"limit":600.0}"#), super::Field::Value(600));
        let err = serde_json::from_str::<Body>(r#"{"limit":600.5}"#).unwrap_err();
        assert!(err.to_string().contains("expected i64"), "{err}");
    }
}
