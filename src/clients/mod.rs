//! Clients of outside services, each with a local default that needs no
//! credentials and a real client of the provider's protocol:
//!
//! - [`captcha`], [`sms`], [`phone`]: SMS login (codes, the HTTP SMS gateway,
//!   phone numbers).
//! - [`rtc`]: voice tokens (Agora AccessToken).
//! - [`storage`]: image uploads: the local store, S3 SigV4 and OSS V1 presigned URLs.
//! - [`push`]: push notifications for users with no live socket (log, JPush).
//! - [`linkpreview`]: link previews behind an SSRF guard.
//! - [`wechat`]: WeChat JS-SDK signatures, jsapi_ticket and OAuth for H5 pages.

pub mod captcha;
pub mod linkpreview;
pub mod phone;
pub mod push;
pub mod rtc;
pub mod sms;
pub mod storage;
pub mod wechat;
