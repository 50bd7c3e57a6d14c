//! Typed identifiers. Every id on the wire is 32 lowercase hex characters (a UUID v4
//! in simple form); the only way to get one is to generate it or to parse a string
//! that has that shape, so an invalid id cannot exist past the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be 32 lowercase hex characters")]
pub struct IdError {
    /// Which kind of id was expected (for the error message).
    pub what: &'static str,
}

/// True when `s` is exactly 32 lowercase hex characters.
pub fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A fresh random id.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(uuid::Uuid::new_v4().simple().to_string())
            }

            /// Accepts exactly 32 lowercase hex characters.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                if is_hex32(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(IdError { what: $what })
                }
            }

            /// The wire form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

hex_id!(
    /// A user (account) id.
    Uid,
    "uid"
);
hex_id!(
    /// A login session id (carried inside the access token).
    SessionId,
    "session id"
);
hex_id!(
    /// A club (圈子).
    ClubId,
    "clubId"
);
hex_id!(
    /// A live room (活动).
    RoomId,
    "roomId"
);
hex_id!(
    /// A scheduled event (日程).
    EventId,
    "eventId"
);
hex_id!(
    /// A room share token for the H5 page.
    RoomCacheId,
    "roomCacheId"
);

hex_id!(
    /// An uploaded image.
    ImageId,
    "imageId"
);
hex_id!(
    /// A published app version.
    VersionId,
    "versionId"
);

/// 32 random lowercase hex characters, for secrets that are not ids (access secrets).
pub fn random_hex32() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        let uid = Uid::new();
        assert_eq!(Uid::parse(uid.as_str()), Ok(uid.clone()));
        assert_eq!(uid.as_str().len(), 32);
    }

    #[test]
    fn rejects_wrong_shapes() {
        for bad in [
            "",
            "2701a6fbd0464da99789c9ad1ca1c65",   // 31
            "2701a6fbd0464da99789c9ad1ca1c6544", // 33
            "2701A6FBD0464DA99789C9AD1CA1C654",  // upper case
            "2701a6fbd0464da99789c9ad1ca1c65g",  // not hex
            "2701a6fb-d046-4da9-9789-c9ad1ca1",  // dashes
        ] {
            assert!(Uid::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Uid::parse("2701a6fbd0464da99789c9ad1ca1c654").is_ok());
    }

    #[test]
    fn random_hex_is_hex32_and_varies() {
        let a = random_hex32();
        assert!(is_hex32(&a));
        assert_ne!(a, random_hex32());
    }
}
