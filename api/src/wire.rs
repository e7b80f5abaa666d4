//! [`wire_enum!`](crate::wire_enum): a closed set of names with their wire
//! form, one macro for every such enum (scopes, statuses, channels, audit
//! actions, deny reasons), so the text, its parser and its serde forms
//! cannot disagree.

/// Declares an enum whose variants each have one wire string:
///
/// ```
/// orgkeys_api::wire_enum!(
///     /// A traffic light.
///     Light { Red => "red", Green => "green" }
/// );
/// assert_eq!(Light::Red.as_str(), "red");
/// assert_eq!("green".parse::<Light>(), Ok(Light::Green));
/// assert_eq!(Light::ALL.len(), 2);
/// ```
///
/// It derives `Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord`,
/// and implements `as_str`, `ALL`, `FromStr` (`Err = ()`), `Display`,
/// `Serialize` and `Deserialize` (which names the accepted strings).
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* $ty:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $ty { $($(#[$variant_meta])* $variant),+ }

        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The wire form.
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }

        impl ::core::str::FromStr for $ty {
            type Err = ();
            fn from_str(s: &str) -> ::core::result::Result<$ty, ()> {
                match s { $($text => Ok($ty::$variant),)+ _ => Err(()) }
            }
        }

        impl ::core::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__serde::Serialize for $ty {
            fn serialize<S: $crate::__serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<$ty, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as $crate::__serde::Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(|()| {
                    <D::Error as $crate::__serde::de::Error>::unknown_variant(&text, &[$($text),+])
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::wire_enum!(
        /// Test colours.
        Colour { Red => "red", DarkBlue => "dark-blue" }
    );

    #[test]
    fn every_name_round_trips_as_text_and_json() {
        for colour in Colour::ALL {
            assert_eq!(colour.as_str().parse::<Colour>(), Ok(*colour));
            assert_eq!(colour.to_string(), colour.as_str());
            let json = serde_json::to_string(colour).unwrap();
            assert_eq!(json, format!("\"{}\"", colour.as_str()));
            assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), *colour);
        }
    }

    #[test]
    fn an_unknown_name_is_refused_and_the_error_lists_the_known_ones() {
        assert_eq!("DarkBlue".parse::<Colour>(), Err(()));
        let err = serde_json::from_str::<Colour>("\"green\"").unwrap_err();
        assert!(
            err.to_string().contains("expected `red` or `dark-blue`"),
            "{err}"
        );
    }
}
