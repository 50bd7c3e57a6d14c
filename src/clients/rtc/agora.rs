//! Agora RTC access tokens: builders and a small parser/verifier.
//!
//! This module is pure logic (no I/O, no clock, no global state). The caller
//! supplies the issue time, the expiry time and the salt, so every token is a
//! deterministic function of its [`TokenRequest`].
//!
//! Two token formats are implemented, following the algorithms that Agora
//! publishes in its open-source `AgoraIO/Tools` repository
//! (`DynamicKey/AgoraDynamicKey`, the `AccessToken` and `AccessToken2`
//! implementations and their unit tests).
//!
//! # Packing rules (both formats)
//!
//! All integers are little-endian. A "string" is a `u16` byte length followed
//! by the raw bytes. A privilege map is a `u16` entry count followed by
//! `(u16 privilege, u32 value)` pairs in ascending privilege order.
//!
//! # AccessToken, version `006`
//!
//! ```text
//! message   = u32 salt | u32 ts | map(privilege -> u32 absolute expire ts)
//! signature = HMAC-SHA256(key = app certificate,
//!                         data = app id | channel | account | message)
//! content   = string(signature) | u32 crc32(channel) | u32 crc32(account)
//!           | string(message)
//! token     = "006" | app id (32 chars) | base64(content)
//! ```
//!
//! `ts` is the expiry of the token itself. Agora's own builders set it to
//! "generation time + 24 h" and put the caller's expiry on each privilege;
//! [`build_006`] does the same: `ts = issue_ts + 86400` and every privilege
//! expires at `expire_ts` (absolute unix seconds).
//!
//! The channel name and the account are not in the token: only their CRC-32
//! (IEEE) is, and both are covered by the signature. Verifying a `006` token
//! therefore needs the channel and account it is meant for
//! ([`Parsed006::verify`]).
//!
//! # AccessToken2, version `007`
//!
//! ```text
//! signing_key  = HMAC-SHA256(key = u32 salt,
//!                            data = HMAC-SHA256(key = u32 issue_ts,
//!                                               data = app certificate))
//! signing_info = string(app id) | u32 issue_ts | u32 expire | u32 salt
//!              | u16 service count | services...
//! rtc service  = u16 type (1) | map(privilege -> u32 relative expire)
//!              | string(channel) | string(account)
//! signature    = HMAC-SHA256(key = signing_key, data = signing_info)
//! token        = "007" | base64(zlib(string(signature) | signing_info))
//! ```
//!
//! In `007` every expiry is a number of seconds counted from `issue_ts`
//! (Agora's `RtcTokenBuilder2` calls them "seconds elapsed since now").
//! [`build_007`] therefore writes `expire_ts - issue_ts` both as the token
//! expire and as the expire of every privilege.
//!
//! # Accounts
//!
//! Agora identifies users either by a numeric uid or by a string "user
//! account". A numeric uid is signed as its decimal string, except uid `0`
//! ("any user"), which Agora renders as the empty string (see
//! [`account_from_uid`]). Huddle uses its 32-hex user ids as string accounts.
//! The public builders refuse an empty account, since such a token would let
//! anyone join under any uid.
//!
//! # Privileges
//!
//! `JoinChannel = 1`, `PublishAudioStream = 2`, `PublishVideoStream = 3`,
//! `PublishDataStream = 4` (same numbers in both formats). Agora enforces the
//! publish privileges only when co-host authentication is enabled for the
//! project.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const VERSION_006: &str = "006";
const VERSION_007: &str = "007";
const VERSION_LEN: usize = 3;
const APP_ID_LEN: usize = 32;
/// Lifetime Agora's `006` builders give the token itself (`ts`).
const TOKEN_006_LIFETIME_SECS: u32 = 24 * 3600;
/// Service type of the RTC service inside an AccessToken2.
const SERVICE_RTC: u16 = 1;
const SERVICE_RTM: u16 = 2;
const SERVICE_FPA: u16 = 4;
const SERVICE_CHAT: u16 = 5;
const SERVICE_EDUCATION: u16 = 7;
/// Upper bound on the textual token accepted by the parsers.
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Upper bound on the inflated `007` payload (guards against zlib bombs).
const MAX_INFLATED_LEN: usize = 64 * 1024;

/// An RTC privilege, with Agora's numeric code as discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Privilege {
    /// `kJoinChannel` / `kPrivilegeJoinChannel`.
    JoinChannel = 1,
    /// `kPublishAudioStream` / `kPrivilegePublishAudioStream`.
    PublishAudio = 2,
    /// `kPublishVideoStream` / `kPrivilegePublishVideoStream`.
    PublishVideo = 3,
    /// `kPublishDataStream` / `kPrivilegePublishDataStream`.
    PublishData = 4,
}

impl Privilege {
    /// Agora's numeric code for this privilege.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The privilege with Agora's numeric code `code`, if it is an RTC one.
    pub fn from_code(code: u16) -> Option<Self> {
        match code {
            1 => Some(Self::JoinChannel),
            2 => Some(Self::PublishAudio),
            3 => Some(Self::PublishVideo),
            4 => Some(Self::PublishData),
            _ => None,
        }
    }
}

/// Everything needed to build one RTC token.
///
/// Times are unix seconds. `expire_ts` must be after `issue_ts`.
#[derive(Clone, Copy)]
pub struct TokenRequest<'a> {
    /// Agora App ID: 32 hex characters.
    pub app_id: &'a str,
    /// Agora App Certificate: 32 hex characters. Never leaves this module.
    pub app_certificate: &'a str,
    /// Channel name (non-empty).
    pub channel: &'a str,
    /// String user account (non-empty); see [`account_from_uid`] for uids.
    pub account: &'a str,
    /// Random salt; Agora uses a value in `1..=99_999_999`.
    pub salt: u32,
    /// When the token is issued.
    pub issue_ts: u32,
    /// When the privileges (and, for `007`, the token) expire.
    pub expire_ts: u32,
    /// Privileges to grant; duplicates are ignored, order does not matter.
    pub privileges: &'a [Privilege],
}

impl fmt::Debug for TokenRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("app_id", &self.app_id)
            .field("app_certificate", &"<redacted>")
            .field("channel", &self.channel)
            .field("account", &self.account)
            .field("salt", &self.salt)
            .field("issue_ts", &self.issue_ts)
            .field("expire_ts", &self.expire_ts)
            .field("privileges", &self.privileges)
            .finish()
    }
}

/// Why a token could not be built, parsed or verified.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The App ID is not 32 hex characters.
    #[error("invalid Agora app id: must be 32 hex characters")]
    InvalidAppId,
    /// The App Certificate is not 32 hex characters.
    #[error("invalid Agora app certificate: must be 32 hex characters")]
    InvalidAppCertificate,
    /// The channel name is empty.
    #[error("channel name is empty")]
    EmptyChannel,
    /// The account is empty (that would be a wildcard "uid 0" token).
    #[error("account is empty")]
    EmptyAccount,
    /// No privilege was requested.
    #[error("no privilege requested")]
    NoPrivileges,
    /// `expire_ts` is not after `issue_ts`.
    #[error("expire_ts {expire_ts} is not after issue_ts {issue_ts}")]
    ExpiryNotAfterIssue {
        /// Requested issue time.
        issue_ts: u32,
        /// Requested expiry time.
        expire_ts: u32,
    },
    /// A field does not fit its `u16` length prefix.
    #[error("{field} is too long ({len} bytes) for the token format")]
    FieldTooLong {
        /// Which field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The token does not start with the expected version.
    #[error("not a version {expected} token")]
    WrongVersion {
        /// The version the parser handles.
        expected: &'static str,
    },
    /// The token (or its inflated payload) is larger than any real token.
    #[error("token is too large")]
    TooLarge,
    /// The base64 part does not decode.
    #[error("token is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The `007` payload is not a valid zlib stream.
    #[error("token payload does not inflate: {0}")]
    Inflate(#[source] std::io::Error),
    /// The `007` payload could not be compressed.
    #[error("token payload does not deflate: {0}")]
    Deflate(#[source] std::io::Error),
    /// The payload ends in the middle of a field.
    #[error("token is truncated while reading {0}")]
    Truncated(&'static str),
    /// The payload has bytes after its last field.
    #[error("token has {0} unexpected trailing bytes")]
    TrailingBytes(usize),
    /// A text field is not UTF-8.
    #[error("{0} in token is not valid UTF-8")]
    InvalidUtf8(&'static str),
    /// A `007` service whose layout this parser does not know.
    #[error("token contains unsupported service type {0}")]
    UnsupportedService(u16),
    /// A `007` service type appears twice.
    #[error("token contains service type {0} twice")]
    DuplicateService(u16),
    /// A `007` token without an RTC service.
    #[error("token has no RTC service")]
    MissingRtcService,
    /// A `006` token was checked against another channel.
    #[error("token was issued for another channel")]
    ChannelMismatch,
    /// A `006` token was checked against another account.
    #[error("token was issued for another account")]
    AccountMismatch,
    /// The signature does not match (wrong certificate or altered token).
    #[error("token signature does not match")]
    SignatureMismatch,
    /// HMAC could not be keyed (cannot happen for HMAC-SHA256).
    #[error("internal HMAC error")]
    Hmac,
}

/// The account Agora signs for a numeric uid: its decimal form, or the empty
/// string for uid `0` ("any user", which the builders here refuse).
pub fn account_from_uid(uid: u32) -> String {
    if uid == 0 {
        String::new()
    } else {
        uid.to_string()
    }
}

/// Builds an AccessToken version `006`.
///
/// The token's own `ts` is `issue_ts + 24 h` (as in Agora's builders) and
/// every requested privilege expires at the absolute time `expire_ts`.
pub fn build_006(req: &TokenRequest) -> Result<String, TokenError> {
    let privileges = validate(req)?;
    let ts = req.issue_ts.saturating_add(TOKEN_006_LIFETIME_SECS);
    let map: BTreeMap<u16, u32> = privileges
        .into_iter()
        .map(|code| (code, req.expire_ts))
        .collect();
    encode_006(req, ts, &map)
}

/// Builds an AccessToken2 (version `007`) holding one RTC service.
///
/// AccessToken2 expresses expiry relative to the issue time: the token
/// expire and every privilege expire are written as
/// `expire_ts - issue_ts` seconds, with `issue_ts` itself in the token.
pub fn build_007(req: &TokenRequest) -> Result<String, TokenError> {
    let payload = payload_007(req)?;
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&payload).map_err(TokenError::Deflate)?;
    let compressed = encoder.finish().map_err(TokenError::Deflate)?;
    Ok(format!("{VERSION_007}{}", BASE64.encode(compressed)))
}

/// The fields of a version `006` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed006 {
    /// App ID (the 32 characters after the version).
    pub app_id: String,
    /// HMAC-SHA256 signature (32 bytes in a well-formed token).
    pub signature: Vec<u8>,
    /// CRC-32 of the channel name.
    pub crc_channel: u32,
    /// CRC-32 of the account (uid string).
    pub crc_uid: u32,
    /// Salt.
    pub salt: u32,
    /// Expiry of the token itself (absolute unix seconds).
    pub ts: u32,
    /// Privilege code -> absolute expiry (unix seconds).
    pub privileges: BTreeMap<u16, u32>,
    /// The signed message bytes, kept for [`Parsed006::verify`].
    message: Vec<u8>,
}

impl Parsed006 {
    /// Whether the token carries `privilege`.
    pub fn has_privilege(&self, privilege: Privilege) -> bool {
        self.privileges.contains_key(&privilege.code())
    }

    /// Checks that the token was issued for `channel` and `account` and signed
    /// with `app_certificate`. Expiry is not checked (no clock here).
    pub fn verify(
        &self,
        app_certificate: &str,
        channel: &str,
        account: &str,
    ) -> Result<(), TokenError> {
        if crc32fast::hash(channel.as_bytes()) != self.crc_channel {
            return Err(TokenError::ChannelMismatch);
        }
        if crc32fast::hash(account.as_bytes()) != self.crc_uid {
            return Err(TokenError::AccountMismatch);
        }
        let mac = mac_006(
            app_certificate,
            &self.app_id,
            channel,
            account,
            &self.message,
        )?;
        mac.verify_slice(&self.signature)
            .map_err(|_| TokenError::SignatureMismatch)
    }
}

/// The fields of a version `007` token, with its RTC service flattened in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed007 {
    /// App ID.
    pub app_id: String,
    /// HMAC-SHA256 signature (32 bytes in a well-formed token).
    pub signature: Vec<u8>,
    /// Issue time (unix seconds).
    pub issue_ts: u32,
    /// Token lifetime in seconds from `issue_ts`.
    pub expire: u32,
    /// Salt.
    pub salt: u32,
    /// Channel name of the RTC service.
    pub channel: String,
    /// Account (uid string) of the RTC service.
    pub account: String,
    /// RTC privilege code -> lifetime in seconds from `issue_ts`.
    pub privileges: BTreeMap<u16, u32>,
    /// Types of all services in the token, in token order.
    pub service_types: Vec<u16>,
    /// The signed bytes (everything after the signature), for `verify`.
    signing_info: Vec<u8>,
}

impl Parsed007 {
    /// Whether the RTC service carries `privilege`.
    pub fn has_privilege(&self, privilege: Privilege) -> bool {
        self.privileges.contains_key(&privilege.code())
    }

    /// Absolute expiry of the token (`issue_ts + expire`).
    pub fn expires_at(&self) -> u64 {
        u64::from(self.issue_ts) + u64::from(self.expire)
    }

    /// Checks that the token was signed with `app_certificate`. Expiry is not
    /// checked (no clock here).
    pub fn verify(&self, app_certificate: &str) -> Result<(), TokenError> {
        let key = signing_key_007(app_certificate, self.issue_ts, self.salt)?;
        let mut mac = new_mac(&key)?;
        mac.update(&self.signing_info);
        mac.verify_slice(&self.signature)
            .map_err(|_| TokenError::SignatureMismatch)
    }
}

/// Parses a version `006` token (does not verify it; see
/// [`Parsed006::verify`]).
pub fn parse_006(token: &str) -> Result<Parsed006, TokenError> {
    let body = strip_version(token, VERSION_006)?;
    let app_id = body
        .get(..APP_ID_LEN)
        .ok_or(TokenError::Truncated("app id"))?;
    let encoded = body
        .get(APP_ID_LEN..)
        .ok_or(TokenError::Truncated("app id"))?;
    let content = BASE64.decode(encoded)?;

    let mut reader = Reader::new(&content);
    let signature = reader.bytes("signature")?.to_vec();
    let crc_channel = reader.u32("channel crc")?;
    let crc_uid = reader.u32("uid crc")?;
    let message = reader.bytes("message")?.to_vec();
    reader.finish()?;

    let mut reader = Reader::new(&message);
    let salt = reader.u32("salt")?;
    let ts = reader.u32("ts")?;
    let privileges = reader.privilege_map()?;
    reader.finish()?;

    Ok(Parsed006 {
        app_id: app_id.to_owned(),
        signature,
        crc_channel,
        crc_uid,
        salt,
        ts,
        privileges,
        message,
    })
}

/// Parses a version `007` token (does not verify it; see
/// [`Parsed007::verify`]). The token must contain an RTC service; the other
/// service types Agora documents with a fixed layout (RTM, FPA, chat,
/// education) are skipped, any other type is an error.
pub fn parse_007(token: &str) -> Result<Parsed007, TokenError> {
    let body = strip_version(token, VERSION_007)?;
    let compressed = BASE64.decode(body)?;
    let payload = inflate_limited(&compressed)?;

    let mut reader = Reader::new(&payload);
    let signature = reader.bytes("signature")?.to_vec();
    let signing_info = reader.rest().to_vec();

    let app_id = reader.string("app id")?;
    let issue_ts = reader.u32("issue ts")?;
    let expire = reader.u32("expire")?;
    let salt = reader.u32("salt")?;
    let service_count = reader.u16("service count")?;

    let mut service_types = Vec::new();
    let mut rtc = None;
    for _ in 0..service_count {
        let service_type = reader.u16("service type")?;
        if service_types.contains(&service_type) {
            return Err(TokenError::DuplicateService(service_type));
        }
        service_types.push(service_type);
        let privileges = reader.privilege_map()?;
        match service_type {
            SERVICE_RTC => {
                let channel = reader.string("channel")?;
                let account = reader.string("account")?;
                rtc = Some((channel, account, privileges));
            }
            SERVICE_RTM | SERVICE_CHAT => {
                reader.bytes("user id")?;
            }
            SERVICE_FPA => {}
            SERVICE_EDUCATION => {
                reader.bytes("room uuid")?;
                reader.bytes("user uuid")?;
                reader.u16("role")?;
            }
            other => return Err(TokenError::UnsupportedService(other)),
        }
    }
    reader.finish()?;

    let (channel, account, privileges) = rtc.ok_or(TokenError::MissingRtcService)?;
    Ok(Parsed007 {
        app_id,
        signature,
        issue_ts,
        expire,
        salt,
        channel,
        account,
        privileges,
        service_types,
        signing_info,
    })
}

// ---------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------

/// Checks a request and returns its privilege codes, sorted and deduplicated.
fn validate(req: &TokenRequest) -> Result<Vec<u16>, TokenError> {
    if !is_hex32(req.app_id) {
        return Err(TokenError::InvalidAppId);
    }
    if !is_hex32(req.app_certificate) {
        return Err(TokenError::InvalidAppCertificate);
    }
    if req.channel.is_empty() {
        return Err(TokenError::EmptyChannel);
    }
    if req.account.is_empty() {
        return Err(TokenError::EmptyAccount);
    }
    // Both formats can only carry what fits a `u16` length prefix (`006`
    // does not carry the account at all, but a request must be valid for
    // both formats).
    for (field, value) in [("channel", req.channel), ("account", req.account)] {
        if value.len() > usize::from(u16::MAX) {
            return Err(TokenError::FieldTooLong {
                field,
                len: value.len(),
            });
        }
    }
    if req.privileges.is_empty() {
        return Err(TokenError::NoPrivileges);
    }
    if req.expire_ts <= req.issue_ts {
        return Err(TokenError::ExpiryNotAfterIssue {
            issue_ts: req.issue_ts,
            expire_ts: req.expire_ts,
        });
    }
    let mut codes: Vec<u16> = req.privileges.iter().map(|p| p.code()).collect();
    codes.sort_unstable();
    codes.dedup();
    Ok(codes)
}

/// Agora's `isUUID`: exactly 32 hexadecimal characters.
fn is_hex32(s: &str) -> bool {
    s.len() == APP_ID_LEN && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The `006` algorithm with `ts` and the privilege map explicit
/// (`req.issue_ts`, `req.expire_ts` and `req.privileges` are ignored). The
/// channel and account are not validated, so Agora's "uid 0" vectors can be
/// reproduced.
fn encode_006(
    req: &TokenRequest,
    ts: u32,
    privileges: &BTreeMap<u16, u32>,
) -> Result<String, TokenError> {
    check_credentials(req)?;
    let TokenRequest {
        app_id,
        app_certificate,
        channel,
        account,
        salt,
        ..
    } = *req;
    let mut message = Vec::new();
    put_u32(&mut message, salt);
    put_u32(&mut message, ts);
    put_privilege_map(&mut message, privileges)?;

    let signature = mac_006(app_certificate, app_id, channel, account, &message)?
        .finalize()
        .into_bytes();

    let mut content = Vec::new();
    put_bytes(&mut content, &signature, "signature")?;
    put_u32(&mut content, crc32fast::hash(channel.as_bytes()));
    put_u32(&mut content, crc32fast::hash(account.as_bytes()));
    put_bytes(&mut content, &message, "message")?;

    Ok(format!("{VERSION_006}{app_id}{}", BASE64.encode(content)))
}

/// Both token formats take a 32-hex app id and certificate.
fn check_credentials(req: &TokenRequest) -> Result<(), TokenError> {
    if !is_hex32(req.app_id) {
        return Err(TokenError::InvalidAppId);
    }
    if !is_hex32(req.app_certificate) {
        return Err(TokenError::InvalidAppCertificate);
    }
    Ok(())
}

/// HMAC-SHA256 keyed with the certificate over `app id | channel | account |
/// message`, not yet finalized.
fn mac_006(
    app_certificate: &str,
    app_id: &str,
    channel: &str,
    account: &str,
    message: &[u8],
) -> Result<HmacSha256, TokenError> {
    let mut mac = new_mac(app_certificate.as_bytes())?;
    mac.update(app_id.as_bytes());
    mac.update(channel.as_bytes());
    mac.update(account.as_bytes());
    mac.update(message);
    Ok(mac)
}

/// Validates `req` and returns the uncompressed `007` payload
/// (`string(signature) | signing_info`).
fn payload_007(req: &TokenRequest) -> Result<Vec<u8>, TokenError> {
    let codes = validate(req)?;
    // `validate` guarantees expire_ts > issue_ts, so this cannot underflow.
    let lifetime = req.expire_ts.saturating_sub(req.issue_ts);
    let privileges: BTreeMap<u16, u32> = codes.into_iter().map(|c| (c, lifetime)).collect();
    encode_payload_007(req, lifetime, &privileges)
}

/// The `007` algorithm (one RTC service) up to but excluding compression
/// and base64, with the token expire and the privilege map explicit
/// (`req.expire_ts` and `req.privileges` are ignored). The channel and
/// account are not validated, so Agora's "uid 0" vectors can be reproduced.
fn encode_payload_007(
    req: &TokenRequest,
    expire: u32,
    privileges: &BTreeMap<u16, u32>,
) -> Result<Vec<u8>, TokenError> {
    check_credentials(req)?;
    let TokenRequest {
        app_id,
        app_certificate,
        channel,
        account,
        salt,
        issue_ts,
        ..
    } = *req;
    let mut info = Vec::new();
    put_bytes(&mut info, app_id.as_bytes(), "app id")?;
    put_u32(&mut info, issue_ts);
    put_u32(&mut info, expire);
    put_u32(&mut info, salt);
    put_u16(&mut info, 1); // one service
    put_u16(&mut info, SERVICE_RTC);
    put_privilege_map(&mut info, privileges)?;
    put_bytes(&mut info, channel.as_bytes(), "channel")?;
    put_bytes(&mut info, account.as_bytes(), "account")?;

    let key = signing_key_007(app_certificate, issue_ts, salt)?;
    let mut mac = new_mac(&key)?;
    mac.update(&info);
    let signature = mac.finalize().into_bytes();

    let mut payload = Vec::with_capacity(2 + signature.len() + info.len());
    put_bytes(&mut payload, &signature, "signature")?;
    payload.extend_from_slice(&info);
    Ok(payload)
}

/// AccessToken2 signing key: `HMAC(u32 salt, HMAC(u32 issue_ts, certificate))`.
fn signing_key_007(app_certificate: &str, issue_ts: u32, salt: u32) -> Result<Vec<u8>, TokenError> {
    let mut mac = new_mac(&issue_ts.to_le_bytes())?;
    mac.update(app_certificate.as_bytes());
    let first = mac.finalize().into_bytes();
    let mut mac = new_mac(&salt.to_le_bytes())?;
    mac.update(&first);
    Ok(mac.finalize().into_bytes().to_vec())
}

fn new_mac(key: &[u8]) -> Result<HmacSha256, TokenError> {
    HmacSha256::new_from_slice(key).map_err(|_| TokenError::Hmac)
}

/// Returns what follows the 3-character `version` prefix of `token`.
fn strip_version<'t>(token: &'t str, version: &'static str) -> Result<&'t str, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLarge);
    }
    match (token.get(..VERSION_LEN), token.get(VERSION_LEN..)) {
        (Some(v), Some(rest)) if v == version => Ok(rest),
        _ => Err(TokenError::WrongVersion { expected: version }),
    }
}

/// Inflates a zlib stream, refusing output beyond [`MAX_INFLATED_LEN`].
fn inflate_limited(compressed: &[u8]) -> Result<Vec<u8>, TokenError> {
    let limit = u64::try_from(MAX_INFLATED_LEN).map_or(u64::MAX, |l| l.saturating_add(1));
    let mut out = Vec::new();
    ZlibDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(TokenError::Inflate)?;
    if out.len() > MAX_INFLATED_LEN {
        return Err(TokenError::TooLarge);
    }
    Ok(out)
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8], field: &'static str) -> Result<(), TokenError> {
    let len = u16::try_from(bytes.len()).map_err(|_| TokenError::FieldTooLong {
        field,
        len: bytes.len(),
    })?;
    put_u16(out, len);
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_privilege_map(out: &mut Vec<u8>, map: &BTreeMap<u16, u32>) -> Result<(), TokenError> {
    let count = u16::try_from(map.len()).map_err(|_| TokenError::FieldTooLong {
        field: "privileges",
        len: map.len(),
    })?;
    put_u16(out, count);
    // BTreeMap iterates in ascending key order, as Agora sorts privileges.
    for (&key, &value) in map {
        put_u16(out, key);
        put_u32(out, value);
    }
    Ok(())
}

/// Bounds-checked little-endian reader.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], TokenError> {
        if self.buf.len() < n {
            return Err(TokenError::Truncated(what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, TokenError> {
        let mut bytes = [0u8; 2];
        bytes.copy_from_slice(self.take(2, what)?);
        Ok(u16::from_le_bytes(bytes))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, TokenError> {
        let mut bytes = [0u8; 4];
        bytes.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_le_bytes(bytes))
    }

    fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], TokenError> {
        let len = self.u16(what)?;
        self.take(usize::from(len), what)
    }

    fn string(&mut self, what: &'static str) -> Result<String, TokenError> {
        let bytes = self.bytes(what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| TokenError::InvalidUtf8(what))
    }

    fn privilege_map(&mut self) -> Result<BTreeMap<u16, u32>, TokenError> {
        let count = self.u16("privilege count")?;
        let mut map = BTreeMap::new();
        for _ in 0..count {
            let key = self.u16("privilege")?;
            let value = self.u32("privilege expire")?;
            map.insert(key, value);
        }
        Ok(map)
    }

    fn rest(&self) -> &'a [u8] {
        self.buf
    }

    fn finish(&self) -> Result<(), TokenError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(TokenError::TrailingBytes(self.buf.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fixed inputs shared by Agora's published DynamicKey/AccessToken2 tests
    // (AgoraIO/Tools, DynamicKey/AgoraDynamicKey/*/test).
    const APP_ID: &str = "970CA35de60c44645bbae8a215061b33";
    const APP_CERT: &str = "5CFd2fd1755d40ecb72977518be15d3b";
    const CHANNEL: &str = "7d72365eb983485397e3e3f9d460bdda";
    const UID_STR: &str = "2882341273";
    const SALT: u32 = 1;
    const TS: u32 = 1_111_111;
    const PRIV_EXPIRE_006: u32 = 1_446_455_471;
    const EXPIRE_007: u32 = 600;

    /// python3/test/AccessTokenTest.py `test_token` (uid 2882341273).
    const GOLDEN_006: &str = "006970CA35de60c44645bbae8a215061b33IACV0fZUBw+72cVoL9eyGGh3Q6Poi8bgjwVLnyKSJyOXR7dIfRBXoFHlEAABAAAAR/QQAAEAAQCvKDdW";
    /// python3/test/AccessTokenTest.py `test_token_uid_0` (uid 0 -> "").
    const GOLDEN_006_UID0: &str = "006970CA35de60c44645bbae8a215061b33IACw1o7htY6ISdNRtku3p9tjTPi0jCKf9t49UHJhzCmL6bdIfRAAAAAAEAABAAAAR/QQAAEAAQCvKDdW";
    /// python3/test/AccessToken2Test.py `test_service_rtc_account`
    /// (same string as `test_service_rtc` with the numeric uid).
    const GOLDEN_007_PY: &str = "007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj";
    /// go/src/accesstoken2/accesstoken_test.go `Test_AssessToken_ServiceRtc`:
    /// same inputs, Go's zlib writer emits different compressed bytes.
    const GOLDEN_007_GO: &str = "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD//8JqJOM=";
    /// python3/test/AccessToken2Test.py `test_service_rtc_uid_0`.
    const GOLDEN_007_PY_UID0: &str = "007eJxTYLhzZP08Lxa1Pg57+TcXb/3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMADacImo=";
    /// go/src/accesstoken2/accesstoken_test.go
    /// `Test_AssessToken_Parse_TokenRtc_Rtm_MultiService_FromPython`:
    /// RTC (all four privileges, 600 s) + RTM ("test_user", login 600 s).
    const GOLDEN_007_RTC_RTM: &str = "007eJxTYOAQsrQ5s3TfH+1tvy8zZZ46EpCc0V43JXdGd2jS8porKo4KDJbmBs6OxqYpqWYGySYmZiamSUmJqRaJRoamBmaGScbG7l8EGCKYGBgYGRgYmIAkCxCD+ExgkhlMsoBJBQbzFHMjYzPT1CRLC2MTC1NjS/NU41TjNMsUEzODpJSURC4GIwsLI2MTQyNzY5BZEJM4GUpSi0viS4tTiwAipyp4";

    /// A huddle-style 32-hex user id used as the Agora account.
    const HUDDLE_ACCOUNT: &str = "0f8e3c2a9b7d4e61a5c0d2f3b4e5a697";
    const HUDDLE_CHANNEL: &str = "room-5b1f0c9e2d3a4b6c8e7f9a0b1c2d3e4f";

    fn request<'a>(privileges: &'a [Privilege]) -> TokenRequest<'a> {
        TokenRequest {
            app_id: APP_ID,
            app_certificate: APP_CERT,
            channel: HUDDLE_CHANNEL,
            account: HUDDLE_ACCOUNT,
            salt: 12_345_678,
            issue_ts: 1_700_000_000,
            expire_ts: 1_700_003_600,
            privileges,
        }
    }

    /// The inputs of Agora's published tests, for the given account. The
    /// raw encoders ignore `expire_ts` and `privileges`.
    fn published(account: &str) -> TokenRequest<'_> {
        TokenRequest {
            app_id: APP_ID,
            app_certificate: APP_CERT,
            channel: CHANNEL,
            account,
            salt: SALT,
            issue_ts: TS,
            expire_ts: TS + EXPIRE_007,
            privileges: &[Privilege::JoinChannel],
        }
    }

    fn inflate(token: &str) -> Vec<u8> {
        let compressed = BASE64.decode(&token[3..]).unwrap();
        inflate_limited(&compressed).unwrap()
    }

    fn join_only(expire: u32) -> BTreeMap<u16, u32> {
        BTreeMap::from([(Privilege::JoinChannel.code(), expire)])
    }

    /// The published 006 vector, byte for byte, through the raw algorithm
    /// with exactly the published inputs (salt 1, ts 1111111, join ->
    /// 1446455471).
    #[test]
    fn golden_006_published_vector() {
        let token = encode_006(&published(UID_STR), TS, &join_only(PRIV_EXPIRE_006)).unwrap();
        assert_eq!(token, GOLDEN_006);
    }

    /// Agora renders uid 0 as the empty string; the published uid-0 vector
    /// must come out of the raw algorithm with account "".
    #[test]
    fn golden_006_published_uid_0_vector() {
        assert_eq!(account_from_uid(0), "");
        assert_eq!(account_from_uid(2_882_341_273), UID_STR);
        let account = account_from_uid(0);
        let token = encode_006(&published(&account), TS, &join_only(PRIV_EXPIRE_006)).unwrap();
        assert_eq!(token, GOLDEN_006_UID0);
    }

    /// `build_006` sets ts = issue_ts + 24 h like Agora's builders, so the
    /// published vector is reproduced through the public API with
    /// issue_ts = 1111111 - 86400.
    #[test]
    fn build_006_reproduces_published_vector() {
        let req = TokenRequest {
            app_id: APP_ID,
            app_certificate: APP_CERT,
            channel: CHANNEL,
            account: UID_STR,
            salt: SALT,
            issue_ts: TS - TOKEN_006_LIFETIME_SECS,
            expire_ts: PRIV_EXPIRE_006,
            privileges: &[Privilege::JoinChannel],
        };
        assert_eq!(build_006(&req).unwrap(), GOLDEN_006);
    }

    /// Parsing the published 006 token yields the published inputs and
    /// verifies with the published certificate, channel and uid string.
    #[test]
    fn parse_006_published_vector() {
        let parsed = parse_006(GOLDEN_006).unwrap();
        assert_eq!(parsed.app_id, APP_ID);
        assert_eq!(parsed.signature.len(), 32);
        assert_eq!(parsed.crc_channel, crc32fast::hash(CHANNEL.as_bytes()));
        assert_eq!(parsed.crc_uid, crc32fast::hash(UID_STR.as_bytes()));
        assert_eq!(parsed.salt, SALT);
        assert_eq!(parsed.ts, TS);
        assert_eq!(parsed.privileges, join_only(PRIV_EXPIRE_006));
        parsed.verify(APP_CERT, CHANNEL, UID_STR).unwrap();

        let wrong_cert = "5CFd2fd1755d40ecb72977518be15d3c";
        assert!(matches!(
            parsed.verify(wrong_cert, CHANNEL, UID_STR),
            Err(TokenError::SignatureMismatch)
        ));
        assert!(matches!(
            parsed.verify(APP_CERT, "other", UID_STR),
            Err(TokenError::ChannelMismatch)
        ));
        assert!(matches!(
            parsed.verify(APP_CERT, CHANNEL, ""),
            Err(TokenError::AccountMismatch)
        ));
    }

    /// 007: the published tokens are compressed by Python's zlib and Go's
    /// compress/zlib, whose compressed bytes differ from each other (the Go
    /// one ends in a sync-flush block) and may differ from flate2's backend,
    /// which Cargo feature unification picks (with zlib-rs our token string
    /// equals Python's exactly; miniz_oxide emits a stored block instead).
    /// So we do NOT compare token strings. We compare the *inflated* payload
    /// -- signature string + signing info, i.e. everything Agora signs and
    /// checks -- byte for byte with the payload `build_007` compresses, for
    /// both published tokens, and check that our own token inflates to the
    /// same payload.
    #[test]
    fn golden_007_published_vectors_same_payload() {
        let req = TokenRequest {
            app_id: APP_ID,
            app_certificate: APP_CERT,
            channel: CHANNEL,
            account: UID_STR,
            salt: SALT,
            issue_ts: TS,
            expire_ts: TS + EXPIRE_007,
            privileges: &[Privilege::JoinChannel],
        };
        let ours = payload_007(&req).unwrap();
        assert_eq!(inflate(GOLDEN_007_PY), ours);
        assert_eq!(inflate(GOLDEN_007_GO), ours);
        assert_eq!(inflate(&build_007(&req).unwrap()), ours);
    }

    /// Published uid-0 AccessToken2 vector: same payload comparison with
    /// account "" (through the raw algorithm; the public builder refuses an
    /// empty account).
    #[test]
    fn golden_007_published_uid_0_vector() {
        let ours = encode_payload_007(&published(""), EXPIRE_007, &join_only(EXPIRE_007)).unwrap();
        assert_eq!(inflate(GOLDEN_007_PY_UID0), ours);
    }

    /// Parsing the published 007 tokens yields the published inputs and the
    /// signature verifies with the published certificate (this checks the
    /// signing-key chain independently of our builder).
    #[test]
    fn parse_007_published_vectors() {
        for token in [GOLDEN_007_PY, GOLDEN_007_GO] {
            let parsed = parse_007(token).unwrap();
            assert_eq!(parsed.app_id, APP_ID);
            assert_eq!(parsed.issue_ts, TS);
            assert_eq!(parsed.expire, EXPIRE_007);
            assert_eq!(parsed.salt, SALT);
            assert_eq!(parsed.channel, CHANNEL);
            assert_eq!(parsed.account, UID_STR);
            assert_eq!(parsed.privileges, join_only(EXPIRE_007));
            assert_eq!(parsed.service_types, vec![SERVICE_RTC]);
            assert_eq!(parsed.expires_at(), u64::from(TS + EXPIRE_007));
            parsed.verify(APP_CERT).unwrap();
            assert!(matches!(
                parsed.verify("5CFd2fd1755d40ecb72977518be15d3c"),
                Err(TokenError::SignatureMismatch)
            ));
        }
    }

    /// The published RTC + RTM token: the RTM service is skipped, the RTC
    /// service carries all four privileges, and the signature (over both
    /// services) verifies.
    #[test]
    fn parse_007_published_multi_service_vector() {
        let parsed = parse_007(GOLDEN_007_RTC_RTM).unwrap();
        assert_eq!(parsed.service_types, vec![SERVICE_RTC, SERVICE_RTM]);
        assert_eq!(parsed.channel, CHANNEL);
        assert_eq!(parsed.account, UID_STR);
        let all: BTreeMap<u16, u32> = (1..=4).map(|p| (p, EXPIRE_007)).collect();
        assert_eq!(parsed.privileges, all);
        parsed.verify(APP_CERT).unwrap();
    }

    /// 006 round trip with a string account: every field survives and the
    /// signature verifies for that channel/account.
    #[test]
    fn round_trip_006_string_account() {
        let req = request(&[Privilege::PublishAudio, Privilege::JoinChannel]);
        let token = build_006(&req).unwrap();
        assert!(token.starts_with("006970CA35de60c44645bbae8a215061b33"));
        let parsed = parse_006(&token).unwrap();
        assert_eq!(parsed.app_id, APP_ID);
        assert_eq!(parsed.salt, req.salt);
        assert_eq!(parsed.ts, req.issue_ts + 86_400);
        assert_eq!(
            parsed.privileges,
            BTreeMap::from([(1, req.expire_ts), (2, req.expire_ts)])
        );
        parsed
            .verify(APP_CERT, HUDDLE_CHANNEL, HUDDLE_ACCOUNT)
            .unwrap();
    }

    /// 007 round trip with a string account: relative expiry, all fields,
    /// signature verifies.
    #[test]
    fn round_trip_007_string_account() {
        let req = request(&[Privilege::PublishAudio, Privilege::JoinChannel]);
        let token = build_007(&req).unwrap();
        assert!(token.starts_with("007"));
        let parsed = parse_007(&token).unwrap();
        assert_eq!(parsed.app_id, APP_ID);
        assert_eq!(parsed.issue_ts, req.issue_ts);
        assert_eq!(parsed.expire, 3600);
        assert_eq!(parsed.expires_at(), u64::from(req.expire_ts));
        assert_eq!(parsed.salt, req.salt);
        assert_eq!(parsed.channel, HUDDLE_CHANNEL);
        assert_eq!(parsed.account, HUDDLE_ACCOUNT);
        assert_eq!(parsed.privileges, BTreeMap::from([(1, 3600), (2, 3600)]));
        assert_eq!(parsed.service_types, vec![SERVICE_RTC]);
        parsed.verify(APP_CERT).unwrap();
    }

    /// A listener gets only join; a speaker gets join + publish audio; in
    /// both formats; duplicates collapse.
    #[test]
    fn listener_and_speaker_privileges() {
        let listener = request(&[Privilege::JoinChannel]);
        let speaker = request(&[
            Privilege::JoinChannel,
            Privilege::PublishAudio,
            Privilege::PublishAudio,
        ]);

        let l6 = parse_006(&build_006(&listener).unwrap()).unwrap();
        let s6 = parse_006(&build_006(&speaker).unwrap()).unwrap();
        let l7 = parse_007(&build_007(&listener).unwrap()).unwrap();
        let s7 = parse_007(&build_007(&speaker).unwrap()).unwrap();

        assert!(l6.has_privilege(Privilege::JoinChannel));
        assert!(!l6.has_privilege(Privilege::PublishAudio));
        assert_eq!(l6.privileges.len(), 1);
        assert!(l7.has_privilege(Privilege::JoinChannel));
        assert!(!l7.has_privilege(Privilege::PublishAudio));
        assert_eq!(l7.privileges.len(), 1);

        for keys in [
            s6.privileges.keys().copied().collect::<Vec<_>>(),
            s7.privileges.keys().copied().collect::<Vec<_>>(),
        ] {
            assert_eq!(keys, vec![1, 2]);
        }
        assert!(s6.has_privilege(Privilege::PublishAudio));
        assert!(s7.has_privilege(Privilege::PublishAudio));
        assert!(!s7.has_privilege(Privilege::PublishVideo));
        assert_eq!(
            Privilege::from_code(2).map(Privilege::code),
            Some(Privilege::PublishAudio.code())
        );
        assert_eq!(Privilege::from_code(1000), None);
    }

    /// A token built with one certificate does not verify with another.
    #[test]
    fn wrong_certificate_fails_verification() {
        let req = request(&[Privilege::JoinChannel]);
        let other = "00000000000000000000000000000000";
        let p6 = parse_006(&build_006(&req).unwrap()).unwrap();
        let p7 = parse_007(&build_007(&req).unwrap()).unwrap();
        assert!(matches!(
            p6.verify(other, HUDDLE_CHANNEL, HUDDLE_ACCOUNT),
            Err(TokenError::SignatureMismatch)
        ));
        assert!(matches!(
            p7.verify(other),
            Err(TokenError::SignatureMismatch)
        ));
    }

    /// Upgrading a listener token to a speaker token by editing the signed
    /// bytes (keeping the signature) is detected by both verifiers.
    #[test]
    fn tampered_privileges_fail_verification() {
        let req = request(&[Privilege::JoinChannel]);

        let mut p6 = parse_006(&build_006(&req).unwrap()).unwrap();
        // Message = salt(4) ts(4) count(2) key(2) value(4): turn key 1 into 2.
        p6.message[10] = 2;
        assert!(matches!(
            p6.verify(APP_CERT, HUDDLE_CHANNEL, HUDDLE_ACCOUNT),
            Err(TokenError::SignatureMismatch)
        ));

        let mut p7 = parse_007(&build_007(&req).unwrap()).unwrap();
        let last = p7.signing_info.len() - 1;
        p7.signing_info[last] ^= 1; // alter the account
        assert!(matches!(
            p7.verify(APP_CERT),
            Err(TokenError::SignatureMismatch)
        ));
    }

    /// Invalid requests are errors, not panics.
    #[test]
    fn invalid_requests_are_rejected() {
        let join = [Privilege::JoinChannel];
        let base = request(&join);

        for bad in [
            "",
            "abc",
            "Z70CA35de60c44645bbae8a215061b33",
            "970CA35de60c44645bbae8a215061b3é",
        ] {
            let req = TokenRequest {
                app_id: bad,
                ..base
            };
            assert!(matches!(build_006(&req), Err(TokenError::InvalidAppId)));
            assert!(matches!(build_007(&req), Err(TokenError::InvalidAppId)));
            let req = TokenRequest {
                app_certificate: bad,
                ..base
            };
            assert!(matches!(
                build_006(&req),
                Err(TokenError::InvalidAppCertificate)
            ));
            assert!(matches!(
                build_007(&req),
                Err(TokenError::InvalidAppCertificate)
            ));
        }

        let req = TokenRequest {
            channel: "",
            ..base
        };
        assert!(matches!(build_006(&req), Err(TokenError::EmptyChannel)));
        let req = TokenRequest {
            account: "",
            ..base
        };
        assert!(matches!(build_007(&req), Err(TokenError::EmptyAccount)));
        let req = TokenRequest {
            privileges: &[],
            ..base
        };
        assert!(matches!(build_006(&req), Err(TokenError::NoPrivileges)));
        let req = TokenRequest {
            expire_ts: base.issue_ts,
            ..base
        };
        assert!(matches!(
            build_007(&req),
            Err(TokenError::ExpiryNotAfterIssue { .. })
        ));

        let long = "x".repeat(70_000);
        let req = TokenRequest {
            account: &long,
            ..base
        };
        assert!(matches!(
            build_006(&req),
            Err(TokenError::FieldTooLong { .. })
        ));
        assert!(matches!(
            build_007(&req),
            Err(TokenError::FieldTooLong { .. })
        ));

        // The certificate never appears in Debug output.
        assert!(!format!("{base:?}").contains(APP_CERT));
    }

    /// Truncated, garbage and mislabelled tokens are errors, never panics.
    #[test]
    fn garbage_and_truncated_tokens_are_errors() {
        let req = request(&[Privilege::JoinChannel, Privilege::PublishAudio]);
        let t6 = build_006(&req).unwrap();
        let t7 = build_007(&req).unwrap();

        for garbage in [
            "",
            "0",
            "00",
            "006",
            "007",
            "006é",
            "007é",
            "é006",
            "008abc",
            "006970CA35de60c44645bbae8a215061b3",
            "006970CA35de60c44645bbae8a215061b33",
            "006970CA35de60c44645bbae8a215061b33!!!!",
            "007!!!!",
            "007AAAA",
            "006970CA35de60c44645bbae8a215061b33AAAA",
            "0069é0CA35de60c44645bbae8a215061b33AAAA",
        ] {
            assert!(parse_006(garbage).is_err(), "{garbage}");
            assert!(parse_007(garbage).is_err(), "{garbage}");
        }
        assert!(matches!(
            parse_006(&t7),
            Err(TokenError::WrongVersion { .. })
        ));
        assert!(matches!(
            parse_007(&t6),
            Err(TokenError::WrongVersion { .. })
        ));

        // Every textual prefix of a valid token fails.
        for end in 0..t6.len() {
            assert!(parse_006(&t6[..end]).is_err(), "006 prefix {end}");
        }
        for end in 0..t7.len() {
            assert!(parse_007(&t7[..end]).is_err(), "007 prefix {end}");
        }

        // Every byte-level truncation of the decoded content fails, and so
        // does extra trailing data.
        let content = BASE64.decode(&t6[35..]).unwrap();
        for end in 0..content.len() {
            let token = format!("{}{}", &t6[..35], BASE64.encode(&content[..end]));
            assert!(parse_006(&token).is_err(), "006 content prefix {end}");
        }
        let mut longer = content.clone();
        longer.push(0);
        let token = format!("{}{}", &t6[..35], BASE64.encode(&longer));
        assert!(matches!(
            parse_006(&token),
            Err(TokenError::TrailingBytes(1))
        ));

        let payload = inflate(&t7);
        for end in 0..payload.len() {
            let token = token_007_from_payload(&payload[..end]);
            assert!(parse_007(&token).is_err(), "007 payload prefix {end}");
        }
        let mut longer = payload.clone();
        longer.push(0);
        assert!(matches!(
            parse_007(&token_007_from_payload(&longer)),
            Err(TokenError::TrailingBytes(1))
        ));

        // Raw bytes that are valid base64 but not zlib.
        let token = format!("007{}", BASE64.encode(b"definitely not zlib"));
        assert!(matches!(parse_007(&token), Err(TokenError::Inflate(_))));

        // A zlib bomb is refused.
        let bomb = token_007_from_payload(&vec![0u8; MAX_INFLATED_LEN + 10]);
        assert!(matches!(parse_007(&bomb), Err(TokenError::TooLarge)));
        // An over-long token string is refused before decoding.
        let huge = format!("006{}", "A".repeat(MAX_TOKEN_LEN));
        assert!(matches!(parse_006(&huge), Err(TokenError::TooLarge)));
    }

    /// Service layouts the parser does not know, duplicate services and
    /// tokens without an RTC service are errors.
    #[test]
    fn unsupported_service_layouts_are_errors() {
        let payload = inflate(&build_007(&request(&[Privilege::JoinChannel])).unwrap());
        // Offset of the service count: string(signature) = 2 + 32, then
        // string(app id) = 2 + 32, then issue ts, expire, salt.
        let count_at = 34 + 34 + 12;
        let type_at = count_at + 2;

        let mut unknown = payload.clone();
        unknown[type_at] = 99;
        assert!(matches!(
            parse_007(&token_007_from_payload(&unknown)),
            Err(TokenError::UnsupportedService(99))
        ));

        // Only an FPA service (type 4, empty privilege map).
        let mut fpa_only = payload[..count_at].to_vec();
        fpa_only.extend_from_slice(&[1, 0, 4, 0, 0, 0]);
        assert!(matches!(
            parse_007(&token_007_from_payload(&fpa_only)),
            Err(TokenError::MissingRtcService)
        ));

        // The RTC service twice.
        let mut twice = payload[..count_at].to_vec();
        twice.extend_from_slice(&[2, 0]);
        twice.extend_from_slice(&payload[type_at..]);
        twice.extend_from_slice(&payload[type_at..]);
        assert!(matches!(
            parse_007(&token_007_from_payload(&twice)),
            Err(TokenError::DuplicateService(1))
        ));
    }

    fn token_007_from_payload(payload: &[u8]) -> String {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(payload).unwrap();
        format!("007{}", BASE64.encode(encoder.finish().unwrap()))
    }
}
