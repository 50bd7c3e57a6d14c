//! Typed, validated inputs: every route's parameters as one struct, decoded
//! once from the verified [`Params`], and the text newtypes that hold them.
//!
//! - A text newtype ([`Nickname`], [`ClubName`], ...) is declared with
//!   `text_input!`: its parameter name and its limit in characters. Like the
//!   ids of `huddle_actors::ids`, its only constructor is `parse`, so a handler
//!   holding a `Nickname` holds one that fits.
//! - A route's parameters are declared with `inputs!`: for each field its
//!   wire name, whether it is required, where it travels, its type and its
//!   one description. The macro writes the struct, its [`FromParams`]
//!   decoding (fields in declaration order, the same 400 messages the
//!   handlers always answered) and `PARAMS`, the parameters as
//!   `/docs-json` describes them. The document's parameter names, types and
//!   limits are therefore these declarations, not a second list.
//!
//! How absence is read is the field's kind, as the handlers always read it:
//! - `required`: trimmed; absent or blank is `{key} is required`;
//! - `optional`: trimmed; blank is absent;
//! - `present`: trimmed; blank is a value (an empty `bio` clears it).
//!
//! Where a parameter's check depends on another one (`clubId` only without
//! `inviteOnly`, `originId` by its type, a WeChat `code` only with WeChat),
//! its field is a [`Deferred`]: documented as its type, checked by the
//! handler where the check always was, so the first error of a request with
//! several stays the same.
//!
//! The alternative, a `serde::Deserialize` of the parameters, was not taken:
//! every value is signed text (`"1"`, `"[\"a\"]"`) whatever the transport, and
//! serde's messages are not the contract's.

use std::marker::PhantomData;

use huddle_actors::{ClubId, EventId, RoomId, Uid};

use super::openapi::Ty;
use crate::auth::Params;
use crate::clients::storage::key::ImageDir;
use crate::envelope::ApiError;

/// A route's parameters, decoded from the verified request.
pub trait FromParams: Sized {
    /// Decodes and validates them; the first problem is a 400.
    fn from_params(params: &Params) -> Result<Self, ApiError>;
}

/// One parameter's type: how it is read from its (trimmed) text and how the
/// document describes it.
pub trait Param: Sized {
    /// The type and limits in `/docs-json`.
    const TY: Ty;
    /// Reads the text of parameter `key`.
    fn decode(key: &'static str, text: &str) -> Result<Self, ApiError>;
}

/// A `required` field: absent or blank is `{key} is required`.
pub fn required<T: Param>(params: &Params, key: &'static str) -> Result<T, ApiError> {
    T::decode(key, params.required(key)?)
}

/// An `optional` field: absent or blank is `None`.
pub fn optional<T: Param>(params: &Params, key: &'static str) -> Result<Option<T>, ApiError> {
    params.optional(key).map(|v| T::decode(key, v)).transpose()
}

/// A `present` field: absent is `None`, blank is a (blank) value.
pub fn present<T: Param>(params: &Params, key: &'static str) -> Result<Option<T>, ApiError> {
    params
        .get(key)
        .map(|v| T::decode(key, v.trim()))
        .transpose()
}

/// `value`, or the 400 a missing required parameter `key` answers.
pub fn require<T>(value: Option<T>, key: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::BadRequest(format!("{key} is required")))
}

/// Declares a route's parameter struct; see the module docs.
///
/// ```ignore
/// inputs! {
///     /// `POST /club`.
///     pub struct NewClub {
///         name: required ClubName = "name", Body, "Name (名称).";
///         cover: required CoverUrl = "cover", Body, "Cover image URL (封面).";
///     }
/// }
/// ```
macro_rules! inputs {
    (@ty required $t:ty) => { $t };
    (@ty optional $t:ty) => { Option<$t> };
    (@ty present $t:ty) => { Option<$t> };
    (@required required) => { true };
    (@required optional) => { false };
    (@required present) => { false };
    (
        $(#[$doc:meta])*
        $vis:vis struct $name:ident {
            $(
                $field:ident : $kind:ident $t:ty = $key:literal, $loc:ident, $desc:literal;
            )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug)]
        $vis struct $name {
            $(
                #[doc = $desc]
                pub $field: inputs!(@ty $kind $t),
            )*
        }

        impl $name {
            /// The parameters as `/docs-json` describes them.
            pub const PARAMS: &'static [$crate::http::openapi::ParamDoc] = &[
                $(
                    $crate::http::openapi::param(
                        $key,
                        $crate::http::openapi::Loc::$loc,
                        inputs!(@required $kind),
                        <$t as $crate::http::inputs::Param>::TY,
                        $desc,
                    ),
                )*
            ];
        }

        impl $crate::http::inputs::FromParams for $name {
            fn from_params(
                params: &$crate::auth::Params,
            ) -> Result<Self, $crate::envelope::ApiError> {
                Ok(Self {
                    $( $field: $crate::http::inputs::$kind::<$t>(params, $key)?, )*
                })
            }
        }
    };
}
pub(crate) use inputs;

/// Text of at most `max` characters (as Rust counts `char`s).
fn text_limit(key: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        Err(ApiError::BadRequest(format!(
            "{key} must be at most {max} characters"
        )))
    } else {
        Ok(())
    }
}

/// Declares a validated text newtype: its parameter and its limit.
macro_rules! text_input {
    ($(#[$doc:meta])* $name:ident, $key:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// The parameter it travels in (named in its error).
            pub const KEY: &'static str = $key;
            /// At most this many characters.
            pub const MAX: usize = $max;

            /// Accepts text of at most [`Self::MAX`] characters.
            pub fn parse(text: &str) -> Result<Self, ApiError> {
                text_limit($key, text, $max)?;
                Ok(Self(text.to_owned()))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl Param for $name {
            const TY: Ty = Ty::Text($max);
            fn decode(_key: &'static str, text: &str) -> Result<Self, ApiError> {
                Self::parse(text)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

/// URLs of images (avatars, covers): characters.
pub const URL_MAX: usize = 1024;

text_input!(
    /// A display name (昵称).
    Nickname,
    "nickname",
    32
);
text_input!(
    /// A self-description (介绍).
    Bio,
    "bio",
    300
);
text_input!(
    /// An avatar URL (头像).
    AvatarUrl,
    "avatar",
    URL_MAX
);
text_input!(
    /// A club's cover URL (封面).
    CoverUrl,
    "cover",
    URL_MAX
);
text_input!(
    /// A club's name (名称).
    ClubName,
    "name",
    100
);
text_input!(
    /// A room's topic (主题).
    RoomName,
    "name",
    100
);
text_input!(
    /// An event's title (标题).
    EventName,
    "name",
    100
);
text_input!(
    /// An event's description (介绍).
    EventDesc,
    "desc",
    300
);
text_input!(
    /// Feedback (反馈内容).
    FeedbackText,
    "feedbackContent",
    500
);
text_input!(
    /// Where feedback comes from, when not a room (反馈来源ID).
    FeedbackOrigin,
    "originId",
    64
);
text_input!(
    /// A report's details (投诉原因).
    ReportReason,
    "reason",
    500
);
text_input!(
    /// A link to preview.
    Link,
    "link",
    2048
);
text_input!(
    /// A page's URL for the WeChat JS-SDK.
    PageUrl,
    "url",
    2048
);
text_input!(
    /// A WeChat OAuth code.
    OAuthCode,
    "code",
    256
);

/// Text taken as it is (a value checked elsewhere, or with no limit).
impl Param for String {
    const TY: Ty = Ty::Text(0);
    fn decode(_key: &'static str, text: &str) -> Result<Self, ApiError> {
        Ok(text.to_owned())
    }
}

/// The text of a parameter documented as `T`, which the handler checks
/// ([`Deferred::parse`]) where another parameter decides whether it matters.
pub struct Deferred<T> {
    key: &'static str,
    text: String,
    kind: PhantomData<T>,
}

impl<T: Param> Deferred<T> {
    /// The text as sent (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Its check, now.
    pub fn parse(&self) -> Result<T, ApiError> {
        T::decode(self.key, &self.text)
    }
}

impl<T: Param> Param for Deferred<T> {
    const TY: Ty = T::TY;
    fn decode(key: &'static str, text: &str) -> Result<Self, ApiError> {
        Ok(Self {
            key,
            text: text.to_owned(),
            kind: PhantomData,
        })
    }
}

impl<T> std::fmt::Debug for Deferred<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Deferred({}={:?})", self.key, self.text)
    }
}

macro_rules! id_param {
    ($($id:ty),*) => {$(
        impl Param for $id {
            const TY: Ty = Ty::Hex32;
            fn decode(_key: &'static str, text: &str) -> Result<Self, ApiError> {
                super::path_id(text, <$id>::parse)
            }
        }
    )*};
}
id_param!(Uid, ClubId, RoomId, EventId);

fn integer(key: &str, text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::BadRequest(format!("{key} must be an integer")))
}

/// An integer in `MIN..=MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranged<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Ranged<MIN, MAX> {
    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl<const MIN: i64, const MAX: i64> Param for Ranged<MIN, MAX> {
    const TY: Ty = Ty::Int(MIN, MAX);
    fn decode(key: &'static str, text: &str) -> Result<Self, ApiError> {
        let v = integer(key, text)?;
        if (MIN..=MAX).contains(&v) {
            Ok(Self(v))
        } else {
            Err(ApiError::BadRequest(format!(
                "{key} must be between {MIN} and {MAX}"
            )))
        }
    }
}

/// 0 or 1, read as a bool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bit(pub bool);

impl Param for Bit {
    const TY: Ty = Ty::Int(0, 1);
    fn decode(key: &'static str, text: &str) -> Result<Self, ApiError> {
        match integer(key, text)? {
            0 => Ok(Self(false)),
            1 => Ok(Self(true)),
            _ => Err(ApiError::BadRequest(format!("{key} must be 0 or 1"))),
        }
    }
}

/// Milliseconds since the epoch (any `i64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub i64);

impl Param for Millis {
    const TY: Ty = Ty::Millis;
    fn decode(key: &'static str, text: &str) -> Result<Self, ApiError> {
        integer(key, text).map(Self)
    }
}

fn string_list(key: &str, text: &str) -> Result<Vec<String>, ApiError> {
    serde_json::from_str(text)
        .map_err(|_| ApiError::BadRequest(format!("{key} must be a JSON array of strings")))
}

/// Most hosts/guests per event.
pub const MEMBERS_MAX: usize = 20;

/// An event's hosts and guests: 1 to [`MEMBERS_MAX`] distinct uids, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberUids(Vec<Uid>);

impl MemberUids {
    /// The uids.
    pub fn into_vec(self) -> Vec<Uid> {
        self.0
    }
}

impl Param for MemberUids {
    const TY: Ty = Ty::List(MEMBERS_MAX);
    fn decode(key: &'static str, text: &str) -> Result<Self, ApiError> {
        let mut members: Vec<Uid> = Vec::new();
        for text in string_list(key, text)? {
            let uid = Uid::parse(&text).map_err(|e| ApiError::BadRequest(format!("{key}: {e}")))?;
            if !members.contains(&uid) {
                members.push(uid);
            }
        }
        if members.is_empty() || members.len() > MEMBERS_MAX {
            return Err(ApiError::BadRequest(format!(
                "{key} must hold 1 to {MEMBERS_MAX} uids"
            )));
        }
        Ok(Self(members))
    }
}

/// Images attached to one feedback.
pub const FEEDBACK_IMAGES_MAX: usize = 9;

/// Images of a feedback by `imageId` or `imageURL`: at most [`FEEDBACK_IMAGES_MAX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRefs(Vec<String>);

impl ImageRefs {
    /// The references as sent.
    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

impl Param for ImageRefs {
    const TY: Ty = Ty::List(FEEDBACK_IMAGES_MAX);
    fn decode(key: &'static str, text: &str) -> Result<Self, ApiError> {
        let refs = string_list(key, text)?;
        if refs.len() > FEEDBACK_IMAGES_MAX {
            return Err(ApiError::BadRequest(format!(
                "{key} may hold at most {FEEDBACK_IMAGES_MAX} images"
            )));
        }
        Ok(Self(refs))
    }
}

impl Param for ImageDir {
    const TY: Ty = Ty::OneOf(ImageDir::NAMES);
    fn decode(_key: &'static str, text: &str) -> Result<Self, ApiError> {
        ImageDir::parse(text).map_err(ApiError::BadRequest)
    }
}

/// An SMS code (短信验证码): 4 to 6 digits.
#[derive(Clone, PartialEq, Eq)]
pub struct CaptchaCode(String);

impl CaptchaCode {
    /// Accepts 4 to 6 ASCII digits.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        if crate::clients::captcha::is_code_shaped(text) {
            Ok(Self(text.to_owned()))
        } else {
            Err(ApiError::BadRequest("captcha must be 4-6 digits".into()))
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for CaptchaCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CaptchaCode(..)")
    }
}

impl Param for CaptchaCode {
    const TY: Ty = Ty::Pattern("^[0-9]{4,6}$");
    fn decode(_key: &'static str, text: &str) -> Result<Self, ApiError> {
        Self::parse(text)
    }
}

/// A country calling code as sent; [`crate::clients::phone::Phone`] checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(String);

impl CountryCode {
    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Param for CountryCode {
    const TY: Ty = Ty::Pattern("^\\+?[0-9]{1,4}$");
    fn decode(_key: &'static str, text: &str) -> Result<Self, ApiError> {
        Ok(Self(text.to_owned()))
    }
}

/// A national mobile number as sent; [`crate::clients::phone::Phone`] checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mobile(String);

impl Mobile {
    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Param for Mobile {
    const TY: Ty = Ty::Pattern("^[0-9]{4,15}$");
    fn decode(_key: &'static str, text: &str) -> Result<Self, ApiError> {
        Ok(Self(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::params::BodyKind;

    fn params(q: &str) -> Params {
        Params::parse(q, BodyKind::None, b"").expect("params")
    }

    fn message(e: ApiError) -> String {
        match e {
            ApiError::BadRequest(m) => m,
            other => panic!("{other:?}"),
        }
    }

    inputs! {
        struct Sample {
            nickname: required Nickname = "nickname", Body, "A name.";
            bio: present Bio = "bio", Body, "A bio.";
            desc: optional EventDesc = "desc", Body, "A description.";
            flag: optional Bit = "inviteOnly", Body, "A flag.";
            kind: required Ranged<1, 5> = "kind", Body, "A kind.";
        }
    }

    #[test]
    fn texts_have_their_limits_and_only_parse_builds_them() {
        assert!(Nickname::parse(&"字".repeat(32)).is_ok());
        assert_eq!(
            message(Nickname::parse(&"字".repeat(33)).unwrap_err()),
            "nickname must be at most 32 characters"
        );
        assert_eq!(
            message(ClubName::parse(&"x".repeat(101)).unwrap_err()),
            "name must be at most 100 characters"
        );
        assert_eq!(AvatarUrl::MAX, URL_MAX);
    }

    #[test]
    fn kinds_read_absence_as_the_handlers_did() {
        let s = Sample::from_params(&params("nickname=%20toby%20&bio=%20&desc=%20&kind=2"))
            .expect("decodes");
        assert_eq!(s.nickname.as_str(), "toby");
        assert_eq!(s.bio.map(Bio::into_string), Some(String::new()));
        assert!(s.desc.is_none() && s.flag.is_none());
        assert_eq!(s.kind.get(), 2);
        let e = |q: &str| message(Sample::from_params(&params(q)).unwrap_err());
        assert_eq!(e("kind=2"), "nickname is required");
        assert_eq!(e("nickname=%20&kind=2"), "nickname is required");
        assert_eq!(
            e("nickname=t&inviteOnly=2&kind=2"),
            "inviteOnly must be 0 or 1"
        );
        assert_eq!(e("nickname=t&kind=x"), "kind must be an integer");
        assert_eq!(e("nickname=t&kind=9"), "kind must be between 1 and 5");
        // Fields are read in order: the first problem is the one answered.
        assert_eq!(e("inviteOnly=7"), "nickname is required");
    }

    #[test]
    fn the_document_reads_the_declarations() {
        let names: Vec<&str> = Sample::PARAMS.iter().map(|p| p.name).collect();
        assert_eq!(names, ["nickname", "bio", "desc", "inviteOnly", "kind"]);
        assert!(Sample::PARAMS[0].required && !Sample::PARAMS[1].required);
        assert_eq!(Sample::PARAMS[0].ty, Ty::Text(32));
        assert_eq!(Sample::PARAMS[4].ty, Ty::Int(1, 5));
        assert_eq!(Sample::PARAMS[1].description, "A bio.");
    }

    #[test]
    fn lists() {
        let uid = Uid::new();
        let text = format!("[\"{uid}\",\"{uid}\"]");
        let members = MemberUids::decode("memberUidList", &text).expect("a list");
        assert_eq!(members.into_vec(), vec![uid]);
        assert_eq!(
            message(MemberUids::decode("memberUidList", "[]").unwrap_err()),
            "memberUidList must hold 1 to 20 uids"
        );
        assert_eq!(
            message(MemberUids::decode("memberUidList", "u1,u2").unwrap_err()),
            "memberUidList must be a JSON array of strings"
        );
        let ten = serde_json::to_string(&vec!["a"; 10]).expect("json");
        assert_eq!(
            message(ImageRefs::decode("feedbackImageList", &ten).unwrap_err()),
            "feedbackImageList may hold at most 9 images"
        );
    }
}
