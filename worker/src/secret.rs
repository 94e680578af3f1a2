//! Setting values that must never be printed: [`Secret`] (tokens, keys) and
//! [`DatabaseUrl`] (a URL whose password is hidden). Their `Debug` redacts, so
//! every settings struct can derive `Debug` and log itself safely.

use std::convert::Infallible;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use entity::store::connection::redact_url;

/// A secret setting (a token, a key). `Debug` shows only whether it is set.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "<empty>"
        } else {
            "<redacted>"
        })
    }
}

/// A database URL. `Debug` and `Display` hide its password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", redact_url(&self.0))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// What both kinds of hidden value have in common: they parse from any text
/// (clap reads them), convert from strings, and give their value only on request.
macro_rules! hidden_text {
    ($name:ident) => {
        impl $name {
            /// The value itself, for the one place that uses it (connecting,
            /// a comparison, a key derivation). Never log it.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Infallible;

            fn from_str(value: &str) -> Result<Self, Infallible> {
                Ok(Self(value.to_owned()))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

hidden_text!(Secret);
hidden_text!(DatabaseUrl);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        assert_eq!(format!("{:?}", Secret::from("hunter2")), "<redacted>");
        let url = DatabaseUrl::from("postgres://app:pw@db/audit");
        assert!(!format!("{url:?}").contains("pw"));
        assert!(!url.to_string().contains("pw"));
        assert_eq!(url.expose(), "postgres://app:pw@db/audit");
    }
}
