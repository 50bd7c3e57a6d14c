//! Configuration: one typed [`Config`], loaded from defaults < an optional TOML
//! file (`--config`) < environment variables (`HUDDLE_*`).
//!
//! The `settings! { … }` table below is the only place a setting is written:
//! it makes the typed flat [`Settings`] struct, the [`SETTINGS`] list, their
//! parsing, the table in `huddle --help` and the README's table (a test
//! compares it). [`Config`], nested as the server uses it (providers with
//! their options, limits, services), is derived from [`Settings`] in
//! [`Config::from_settings`]. In the TOML file a setting's key is its name in
//! the table (`http_addr = "0.0.0.0:8080"`); its environment name is
//! `HUDDLE_` + the key in upper case (`HUDDLE_HTTP_ADDR`). How to add one: the
//! comment above the table, and the `settings!` macro in [`settings`].

use std::fmt;
use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
use std::path::Path;

use crate::auth::address::TrustedProxies;
use crate::http::cors::CorsOrigins;

mod services;
pub mod settings;
mod test_numbers;

pub use services::{
    HostPorts, JPushConfig, LinkPreviewConfig, OssConfig, PushProviderConfig, S3Config,
    ServicesConfig, StorageConfig, WechatConfig,
};
pub use settings::Setting;
use settings::{choice, BaseUrl, IfUsed, Raw, Verbatim};
pub use test_numbers::TestNumbers;

// Every setting, once: `key: Type = "default", "help";` ("" = unset).
//
// Adding a setting is one line here: it makes the TOML key `key`, the
// variable `HUDDLE_KEY`, the typed field `Settings::key`, its `--help` entry
// and README row (`HUDDLE_UPDATE_README=1 cargo test --lib readme` writes
// it). The type decides how the text is read and checked (`SettingValue`):
// `String`, `Option<T>` (empty = unset), `Secret` (never printed), numbers,
// `NonZeroU64` (refuses 0), `bool`, `BaseUrl`, a `choice!` enum, or
// `IfUsed<T>` for a provider's option that is checked only when the provider
// is chosen. Then the server reads it from `Config`: add the field there and
// its line in `Config::from_settings` (plain values move as they are; that is
// where providers, limits and services are assembled).
settings::settings! {
    http_addr: SocketAddr = "127.0.0.1:8080", "Address to listen on; port 0 picks a free port (the bound address is logged).";
    database_url: String = "sqlite://huddle.db", "sqlite://FILE (created if missing; WAL, foreign keys on) or postgres://USER@HOST:PORT/DB.";
    database_max_connections: u32 = "16", "Connection pool size.";
    redis_url: Option<Secret> = "", "Unset: in-process cache and bus (one node). redis://[:PASSWORD@]HOST:PORT[/DB]: several nodes share rooms, notifications, presence and the cache through it (docs/operations.md).";
    node_id: Option<String> = "", "This node's name in logs and in its Redis heartbeat key; unset: HOSTNAME-PID. Give each node its own.";
    listen_backlog: u32 = "4096", "Connections the kernel may queue before huddle accepts them (capped by net.core.somaxconn); bursts of connects beyond it wait for SYN retransmits.";
    workers: usize = "0", "HTTP worker threads; 0 = one per CPU core.";
    shutdown_timeout_secs: u64 = "30", "On SIGTERM/SIGINT, how long in-flight requests may take to finish.";
    max_body_bytes: usize = "102400", "Largest accepted request body (bytes); larger → 413.";
    rate_limits: RateLimits = "on", "on: the limits below apply. off: none of them (load tests from a few addresses).";
    rate_user_per_second: IfUsed<u32> = "20", "Signed API requests one logged-in user may make in one second (bursts); more → 429 with Retry-After. 0: no limit.";
    rate_user_per_minute: IfUsed<u32> = "100", "Signed API requests one logged-in user may make in one minute. 0: no limit.";
    rate_ip_per_second: IfUsed<u32> = "20", "Calls made before login (captcha, login, H5 sessions and reads, share pages) from one client address in one second; a logged-in user's calls count per user only, so users behind one NAT do not share this. Behind a proxy not in HUDDLE_TRUSTED_PROXIES every client shares its address: raise or turn off. 0: no limit.";
    rate_ip_per_minute: IfUsed<u32> = "100", "Calls made before login from one client address in one minute. 0: no limit.";
    trusted_proxies: TrustedProxies = "", "Reverse proxies (addresses and CIDR networks, comma-separated, e.g. 10.0.0.0/8,127.0.0.1) whose X-Forwarded-For names the client: per-address limits then count the right-most address that is not one of them. Empty: the TCP peer is the client.";
    cors_origins: CorsOrigins = "", "Origins (exact scheme://host[:port], comma-separated, e.g. https://h5.example.com) whose browser pages may call the H5 API (/h5/*) cross-origin: preflights answer 204 with the allowed methods and headers. Empty: same origin only.";
    rooms_per_hour: IfUsed<u32> = "30", "Rooms one user may open per hour. 0: no limit.";
    invites_per_hour: IfUsed<u32> = "100", "Room invitations one user may send per hour. 0: no limit.";
    captcha_per_ip_per_hour: IfUsed<u32> = "20", "Captcha SMS sends from one client address per hour (each number also waits 60 s between sends and gets 10 a day). 0: no limit.";
    ws_messages_per_second: IfUsed<u32> = "20", "Frames (messages, fragments, pings) one WebSocket may send per second, in bursts of as many; more get an error frame rate_limited and count as bad frames. 0: no limit.";
    ws_connections_per_user: IfUsed<u32> = "10", "WebSockets one user may hold open on one node; one more is refused with 429 before the upgrade. 0: no limit.";
    session_ttl_days: u32 = "30", "Lifetime of a login session (access token).";
    session_cache_ms: u64 = "1000", "How long a node trusts a checked session before reading it again. Logout and profile init on this node apply at once; a freeze by the CLI or a logout on another node within this time. 0: read on every call.";
    jwt_secret: Option<Secret> = "", "HS256 secret for access tokens. Unset: generated once and stored in the database, so restarts keep sessions valid.";
    sms_provider: SmsProvider = "log", "log: no SMS; captcha codes are written to the log at debug level on target huddle::clients::sms (development: HUDDLE_LOG=info,huddle::clients::sms=debug shows them). http: sent through the generic HTTP SMS gateway below.";
    sms_http_url: Option<String> = "", "http provider: gateway URL.";
    sms_http_method: String = "POST", "http provider: HTTP method.";
    sms_http_auth: Option<Secret> = "", "http provider: value of the Authorization header (secret; never logged).";
    sms_http_content_type: String = "application/json", "http provider: Content-Type of the request body.";
    sms_http_body: Verbatim = r#"{"countryCode":"{countryCode}","mobile":"{mobile}","code":"{code}"}"#, "http provider: body template; {countryCode}, {mobile} and {code} are replaced.";
    sms_http_timeout_ms: IfUsed<u64> = "5000", "http provider: request timeout.";
    sms_test_numbers: TestNumbers = "", "Fixed codes for test numbers, e.g. 8613800000000:123456,8613800000001:654321 (country code + mobile), or a prefix of 8+ digits for load tests: 86139000*:246810. No SMS is sent to them and their code always works.";
    agora_app_id: Option<String> = "", "Agora app id for voice tokens (32 hex). Unset: a development pair is generated once, stored in the database and logged as such; its tokens are not accepted by Agora.";
    agora_app_certificate: Option<Secret> = "", "Agora app certificate (secret; 32 hex). Set together with HUDDLE_AGORA_APP_ID.";
    agora_token_version: AgoraTokenVersion = "006", "Voice token format: 006 (AccessToken) or 007 (AccessToken2).";
    rtc_token_ttl_secs: u32 = "3600", "Lifetime of a voice token: its join and publish privileges expire then. Room membership itself follows the WebSocket (see HUDDLE_ROOM_GRACE_MS).";
    scheduler_tick_ms: u64 = "1000", "How often timers are checked: due event reminders, and members whose grace period is over.";
    room_grace_ms: u64 = "30000", "A room member with no WebSocket in the room (dropped, or took a token and never joined) leaves after this long.";
    room_history_events: usize = "256", "Events each room keeps for resume.";
    room_history_ms: u64 = "300000", "Oldest event a room keeps for resume (ms); older gaps answer recovered: false.";
    ws_ping_interval_ms: NonZeroU64 = "10000", "The server pings every WebSocket this often.";
    ws_idle_timeout_ms: NonZeroU64 = "30000", "A WebSocket that sends nothing (not even a pong) for this long is closed (4001).";
    ws_outbound_limit: NonZeroUsize = "1024", "Frames queued for one WebSocket before it counts as a slow consumer and is closed (4008).";
    ws_max_frame_bytes: NonZeroUsize = "65536", "Largest WebSocket message accepted (bytes, fragments included); larger closes with 1009.";
    socket_send_buffer_bytes: usize = "0", "Kernel send buffer of each client connection (SO_SNDBUF); 0 = the kernel's autotuning. A small value bounds the memory a slow client can hold in the kernel before its WebSocket queue counts as full.";
    ws_session_check_ms: NonZeroU64 = "60000", "Every this often a WebSocket checks its login session again; logged out, expired or frozen closes it (4003).";
    ws_max_bad_frames: u32 = "10", "Malformed frames, unknown ops and bad requests one WebSocket may send; one more closes it (1008).";
    public_url: Option<BaseUrl> = "", "Absolute base URL clients reach this server at (e.g. https://huddle.example.com): upload addresses, local image URLs and share links. Unset: taken from each request (Host header).";
    storage: Storage = "local", "Where uploaded images go: local (files under HUDDLE_STORAGE_DIR; this server accepts the presigned PUT and serves the image), s3 (AWS SigV4 presigned PUT) or oss (Aliyun OSS V1 presigned PUT).";
    storage_dir: String = "data/uploads", "local storage: directory for uploaded images (created if missing).";
    storage_upload_ttl_secs: NonZeroU32 = "900", "How long an upload address stays valid (seconds).";
    storage_max_image_bytes: NonZeroUsize = "5242880", "local storage: largest image accepted (bytes); larger → 413.";
    storage_public_url: Option<BaseUrl> = "", "s3/oss: base of imageURL (e.g. a CDN, https://cdn.example.com). Unset: the bucket's own address.";
    s3_endpoint: IfUsed<Option<BaseUrl>> = "", "s3: endpoint, e.g. https://s3.us-east-1.amazonaws.com or http://127.0.0.1:9000.";
    s3_region: String = "us-east-1", "s3: signing region.";
    s3_bucket: Option<String> = "", "s3: bucket name.";
    s3_path_style: IfUsed<bool> = "false", "s3: true = https://endpoint/bucket/key (MinIO and most compatibles); false = https://bucket.endpoint/key.";
    s3_access_key_id: Option<String> = "", "s3: access key id.";
    s3_secret_access_key: Option<Secret> = "", "s3: secret access key (secret).";
    oss_endpoint: IfUsed<Option<BaseUrl>> = "", "oss: region endpoint, e.g. https://oss-cn-shenzhen.aliyuncs.com (the bucket becomes a subdomain).";
    oss_bucket: Option<String> = "", "oss: bucket name.";
    oss_access_key_id: Option<String> = "", "oss: AccessKey id (of the RAM user that may assume HUDDLE_OSS_STS_ROLE_ARN).";
    oss_access_key_secret: Option<Secret> = "", "oss: AccessKey secret (secret).";
    oss_sts_role_arn: Option<String> = "", "oss: RAM role to assume through STS; upload addresses then carry a temporary key and its security-token, cached until shortly before expiry. Unset: the AccessKey signs directly.";
    oss_sts_endpoint: IfUsed<BaseUrl> = "https://sts.aliyuncs.com", "oss: STS endpoint (AssumeRole).";
    oss_sts_duration_secs: IfUsed<u32> = "3600", "oss: lifetime asked for STS credentials (900..=43200).";
    push_provider: PushProvider = "log", "How messages reach users with no live WebSocket: log (written to the log) or jpush (JPush REST API v3).";
    jpush_app_key: Option<String> = "", "jpush: AppKey.";
    jpush_master_secret: Option<Secret> = "", "jpush: Master Secret (secret).";
    jpush_base_url: IfUsed<BaseUrl> = "https://api.jpush.cn", "jpush: API base URL (POST {base}/v3/push).";
    jpush_apns_production: IfUsed<bool> = "false", "jpush: options.apns_production (true = APNs production, false = development).";
    push_timeout_ms: IfUsed<NonZeroU64> = "5000", "jpush: request timeout.";
    wechat_app_id: Option<String> = "", "WeChat official account AppID for H5 pages (OAuth login and JS-SDK config). Unset: H5 visitors get guest sessions and /h5/weixin/config answers 503.";
    wechat_app_secret: Option<Secret> = "", "WeChat AppSecret (secret). Set together with HUDDLE_WECHAT_APP_ID.";
    wechat_api_base: IfUsed<BaseUrl> = "https://api.weixin.qq.com", "WeChat API base URL (access_token, jsapi_ticket, sns/oauth2).";
    h5_session_ttl_secs: NonZeroU64 = "86400", "Lifetime of an H5 (WeChat or guest) session token.";
    h5_room_cache_ttl_secs: NonZeroU64 = "3600", "How long a share link's room lookup stays in the cache; a miss is rebuilt from the database.";
    link_preview_timeout_ms: NonZeroU64 = "3000", "Link previews: whole fetch deadline, redirects included.";
    link_preview_max_bytes: NonZeroUsize = "1048576", "Link previews: most bytes read of a page.";
    link_preview_allow: HostPorts = "", "TESTS ONLY: comma-separated host:port pairs link previews may fetch although the SSRF guard refuses them (e.g. 127.0.0.1:8099). Leave unset in production.";
    log: String = "info", "Log filter (tracing EnvFilter syntax), e.g. info or huddle=debug,info.";
    log_format: LogFormat = "pretty", "pretty (human) or json (one object per line).";
}

choice! {
    /// `HUDDLE_RATE_LIMITS`.
    pub enum RateLimits {
        /// The limits apply.
        On = "on",
        /// None of them.
        Off = "off",
    }
}

choice! {
    /// `HUDDLE_SMS_PROVIDER`.
    pub enum SmsProvider {
        /// [`SmsProviderConfig::Log`].
        Log = "log",
        /// [`SmsProviderConfig::Http`].
        Http = "http",
    }
}

choice! {
    /// `HUDDLE_STORAGE`.
    pub enum Storage {
        /// [`StorageConfig::Local`].
        Local = "local",
        /// [`StorageConfig::S3`].
        S3 = "s3",
        /// [`StorageConfig::Oss`].
        Oss = "oss",
    }
}

choice! {
    /// `HUDDLE_PUSH_PROVIDER`.
    pub enum PushProvider {
        /// [`PushProviderConfig::Log`].
        Log = "log",
        /// [`PushProviderConfig::JPush`].
        JPush = "jpush",
    }
}

choice! {
    /// Which Agora token format rooms hand out.
    pub enum AgoraTokenVersion {
        /// AccessToken "006".
        V006 = "006",
        /// AccessToken2 "007".
        V007 = "007",
    }
}

choice! {
    /// Log output format.
    pub enum LogFormat {
        /// Human-readable lines.
        Pretty = "pretty",
        /// One JSON object per line.
        Json = "json",
    }
}

/// A configuration problem, naming the setting.
#[derive(Debug, Clone, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where captcha SMS go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsProviderConfig {
    /// Written to the log (development default).
    Log,
    /// A generic HTTP SMS gateway.
    Http(HttpSmsConfig),
}

/// The generic HTTP SMS gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSmsConfig {
    /// Gateway URL.
    pub url: String,
    /// HTTP method (POST, PUT, GET).
    pub method: String,
    /// Authorization header value.
    pub auth: Option<Secret>,
    /// Content-Type of the body.
    pub content_type: String,
    /// Body template with `{countryCode}`, `{mobile}`, `{code}`.
    pub body_template: String,
    /// Request timeout (ms).
    pub timeout_ms: u64,
}

/// Everything huddle can be told.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address.
    pub http_addr: SocketAddr,
    /// Database URL (may hold a password: log it through `telemetry::redact_url`).
    pub database_url: String,
    /// Pool size.
    pub database_max_connections: u32,
    /// Redis URL for scale-out; `None` = in-process.
    pub redis_url: Option<Secret>,
    /// This node's name (logs, Redis heartbeat).
    pub node_id: String,
    /// HTTP workers (0 = per core).
    pub workers: usize,
    /// Graceful shutdown timeout (s).
    pub shutdown_timeout_secs: u64,
    /// Request body cap (bytes).
    pub max_body_bytes: usize,
    /// Session lifetime (days).
    pub session_ttl_days: u32,
    /// Listen backlog.
    pub listen_backlog: u32,
    /// Request and action rate limits.
    pub limits: crate::ratelimit::Limits,
    /// How long a checked session is trusted before its row is read again (ms).
    pub session_cache_ms: u64,
    /// JWT secret; `None` = generated and stored in the database.
    pub jwt_secret: Option<Secret>,
    /// Captcha SMS delivery.
    pub sms: SmsProviderConfig,
    /// Test numbers: `countryCode+mobile` → fixed code.
    pub sms_test_numbers: TestNumbers,
    /// Agora app id (`None` = generated development pair).
    pub agora_app_id: Option<String>,
    /// Agora app certificate.
    pub agora_app_certificate: Option<Secret>,
    /// Token format.
    pub agora_token_version: AgoraTokenVersion,
    /// Voice token lifetime (s).
    pub rtc_token_ttl_secs: u32,
    /// Scheduler tick (ms).
    pub scheduler_tick_ms: u64,
    /// Grace period of a member with no WebSocket (ms).
    pub room_grace_ms: u64,
    /// Events kept per room for resume.
    pub room_history_events: usize,
    /// Oldest event kept for resume (ms).
    pub room_history_ms: u64,
    /// Server ping interval (ms).
    pub ws_ping_interval_ms: u64,
    /// Silence before a WebSocket is closed (ms).
    pub ws_idle_timeout_ms: u64,
    /// Frames queued per WebSocket before it is cut off.
    pub ws_outbound_limit: usize,
    /// Largest WebSocket message (bytes).
    pub ws_max_frame_bytes: usize,
    /// Bad frames tolerated per WebSocket.
    pub ws_max_bad_frames: u32,
    /// How often a WebSocket re-checks its session (ms).
    pub ws_session_check_ms: u64,
    /// SO_SNDBUF of client connections (0 = kernel autotuning).
    pub socket_send_buffer_bytes: usize,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::auth::address::TrustedProxies,
    /// Origins whose pages may call the H5 API from a browser.
    pub cors_origins: CorsOrigins,
    /// Outside services: storage, push, WeChat, link previews, H5.
    pub services: ServicesConfig,
    /// Log filter.
    pub log: String,
    /// Log format.
    pub log_format: LogFormat,
}

/// `value`, or `HUDDLE_<KEY> is required when <when>`.
fn required<T>(value: Option<T>, key: &str, when: &str) -> Result<T, ConfigError> {
    value.ok_or_else(|| {
        ConfigError(format!(
            "{} is required when {when}",
            settings::env_name(key)
        ))
    })
}

impl Config {
    /// The defaults alone (what `cargo run` uses with no file and no env).
    pub fn defaults() -> Self {
        Self::load(None, |_| None).unwrap_or_else(|e| unreachable!("defaults must parse: {e}"))
    }

    /// Loads defaults < `file` < environment (read through `env`).
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut raw = Raw::defaults(SETTINGS);
        if let Some(path) = file {
            raw.merge_file(SETTINGS, path)?;
        }
        raw.merge_env(SETTINGS, env);
        Self::from_settings(Settings::from_raw(&raw)?)
    }

    /// Derives the nested configuration; decides what depends on several
    /// settings (a provider and its options).
    pub fn from_settings(s: Settings) -> Result<Self, ConfigError> {
        let sms = match s.sms_provider {
            SmsProvider::Log => SmsProviderConfig::Log,
            SmsProvider::Http => SmsProviderConfig::Http(HttpSmsConfig {
                url: required(
                    s.sms_http_url.clone(),
                    "sms_http_url",
                    "HUDDLE_SMS_PROVIDER=http",
                )?,
                method: s.sms_http_method.to_ascii_uppercase(),
                auth: s.sms_http_auth.clone(),
                content_type: s.sms_http_content_type.clone(),
                body_template: s.sms_http_body.0.clone(),
                timeout_ms: s.sms_http_timeout_ms.get()?,
            }),
        };
        let hex32 = |v: &str| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit());
        match (&s.agora_app_id, &s.agora_app_certificate) {
            (None, None) => {}
            (Some(id), Some(cert)) if hex32(id) && hex32(cert.expose()) => {}
            (Some(_), Some(_)) => {
                return Err(ConfigError(
                    "HUDDLE_AGORA_APP_ID and HUDDLE_AGORA_APP_CERTIFICATE must be 32 hex characters each".into(),
                ))
            }
            _ => {
                return Err(ConfigError(
                    "set both HUDDLE_AGORA_APP_ID and HUDDLE_AGORA_APP_CERTIFICATE, or neither".into(),
                ))
            }
        }
        let limits = match s.rate_limits {
            RateLimits::On => crate::ratelimit::Limits {
                user: crate::ratelimit::Rate {
                    per_second: s.rate_user_per_second.get()?,
                    per_minute: s.rate_user_per_minute.get()?,
                },
                ip: crate::ratelimit::Rate {
                    per_second: s.rate_ip_per_second.get()?,
                    per_minute: s.rate_ip_per_minute.get()?,
                },
                rooms_per_hour: s.rooms_per_hour.get()?,
                invites_per_hour: s.invites_per_hour.get()?,
                captchas_per_ip_per_hour: s.captcha_per_ip_per_hour.get()?,
                ws_messages_per_second: s.ws_messages_per_second.get()?,
                ws_connections_per_user: s.ws_connections_per_user.get()?,
            },
            RateLimits::Off => crate::ratelimit::Limits::off(),
        };
        let services = services::from_settings(&s)?;
        Ok(Self {
            agora_app_id: s.agora_app_id,
            agora_app_certificate: s.agora_app_certificate,
            agora_token_version: s.agora_token_version,
            rtc_token_ttl_secs: s.rtc_token_ttl_secs,
            scheduler_tick_ms: s.scheduler_tick_ms,
            room_grace_ms: s.room_grace_ms,
            room_history_events: s.room_history_events,
            room_history_ms: s.room_history_ms,
            ws_ping_interval_ms: s.ws_ping_interval_ms.get(),
            ws_idle_timeout_ms: s.ws_idle_timeout_ms.get(),
            ws_outbound_limit: s.ws_outbound_limit.get(),
            ws_max_frame_bytes: s.ws_max_frame_bytes.get(),
            ws_max_bad_frames: s.ws_max_bad_frames,
            ws_session_check_ms: s.ws_session_check_ms.get(),
            socket_send_buffer_bytes: s.socket_send_buffer_bytes,
            trusted_proxies: s.trusted_proxies,
            cors_origins: s.cors_origins,
            http_addr: s.http_addr,
            database_url: s.database_url,
            database_max_connections: s.database_max_connections,
            redis_url: s.redis_url,
            node_id: s.node_id.unwrap_or_else(default_node_id),
            workers: s.workers,
            shutdown_timeout_secs: s.shutdown_timeout_secs,
            max_body_bytes: s.max_body_bytes,
            session_ttl_days: s.session_ttl_days,
            listen_backlog: s.listen_backlog,
            limits,
            session_cache_ms: s.session_cache_ms,
            jwt_secret: s.jwt_secret,
            sms,
            sms_test_numbers: s.sms_test_numbers,
            services,
            log: s.log,
            log_format: s.log_format,
        })
    }
}

/// The settings table shown by `huddle --help`.
pub fn settings_help() -> String {
    settings::help(SETTINGS)
}

/// `HOSTNAME-PID` (or `node-PID` without a host name).
fn default_node_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults_are_the_embedded_ones() {
        let c = Config::defaults();
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://huddle.db");
        assert!(c.redis_url.is_none());
        assert_eq!(c.sms, SmsProviderConfig::Log);
        assert!(c.sms_test_numbers.is_empty());
        assert_eq!(c.log_format, LogFormat::Pretty);
    }

    #[test]
    fn env_beats_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("huddle.toml");
        std::fs::write(
            &file,
            "http_addr = \"0.0.0.0:9000\"\nworkers = 3\nlog = \"debug\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&file), env(&[("HUDDLE_WORKERS", "5")])).unwrap();
        assert_eq!(c.http_addr.to_string(), "0.0.0.0:9000");
        assert_eq!(c.workers, 5);
        assert_eq!(c.log, "debug");
        assert_eq!(c.session_ttl_days, 30);
    }

    #[test]
    fn unknown_file_keys_and_bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("huddle.toml");
        std::fs::write(&file, "htp_addr = \"x\"\n").unwrap();
        let e = Config::load(Some(&file), env(&[])).unwrap_err();
        assert!(
            e.to_string().contains("unknown setting \"htp_addr\""),
            "{e}"
        );
        let e = Config::load(None, env(&[("HUDDLE_HTTP_ADDR", "nope")])).unwrap_err();
        assert!(e.to_string().contains("HUDDLE_HTTP_ADDR"), "{e}");
        let e = Config::load(None, env(&[("HUDDLE_SMS_PROVIDER", "http")])).unwrap_err();
        assert!(e.to_string().contains("HUDDLE_SMS_HTTP_URL"), "{e}");
    }

    #[test]
    fn rate_limits_default_on_and_switch_off_whole() {
        let on = Config::defaults().limits;
        assert_eq!((on.user.per_second, on.user.per_minute), (20, 100));
        assert_eq!((on.ip.per_second, on.ip.per_minute), (20, 100));
        let c = Config::load(
            None,
            env(&[
                ("HUDDLE_RATE_LIMITS", "off"),
                ("HUDDLE_ROOMS_PER_HOUR", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(c.limits, crate::ratelimit::Limits::off());
        let e = Config::load(None, env(&[("HUDDLE_RATE_LIMITS", "maybe")])).unwrap_err();
        assert!(e.0.contains("HUDDLE_RATE_LIMITS"), "{}", e.0);
    }

    #[test]
    fn test_numbers_parse() {
        let c = Config::load(
            None,
            env(&[(
                "HUDDLE_SMS_TEST_NUMBERS",
                "8613800000000:123456, 8613800000001:6543",
            )]),
        )
        .unwrap();
        assert_eq!(c.sms_test_numbers.code_for("8613800000000"), Some("123456"));
        assert_eq!(c.sms_test_numbers.code_for("8613800000001"), Some("6543"));
        assert!(Config::load(None, env(&[("HUDDLE_SMS_TEST_NUMBERS", "86138:12")])).is_err());
        assert!(Config::load(None, env(&[("HUDDLE_SMS_TEST_NUMBERS", "86138")])).is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Config::load(
            None,
            env(&[
                ("HUDDLE_JWT_SECRET", "topsecret"),
                ("HUDDLE_SMS_PROVIDER", "http"),
                ("HUDDLE_SMS_HTTP_URL", "http://127.0.0.1:1/sms"),
                ("HUDDLE_SMS_HTTP_AUTH", "Bearer hunter2"),
                ("HUDDLE_REDIS_URL", "redis://:pw@127.0.0.1:6379"),
            ]),
        )
        .unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("topsecret"));
        let mut raw = Raw::defaults(SETTINGS);
        raw.merge_env(SETTINGS, env(&[("HUDDLE_JWT_SECRET", "topsecret")]));
        let settings = format!("{:?}", Settings::from_raw(&raw).unwrap());
        assert!(!settings.contains("topsecret"), "{settings}");
        assert!(!printed.contains("hunter2"));
        assert!(!printed.contains(":pw@"));
    }

    /// The README's table is `settings::readme_rows` of the table above;
    /// `HUDDLE_UPDATE_README=1 cargo test --lib readme` writes it.
    #[test]
    fn readme_lists_every_setting() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = readme.lines().collect();
        let row = |l: &str| l.starts_with("| `HUDDLE_");
        let start = lines
            .iter()
            .position(|l| row(l))
            .expect("README.md has the settings table");
        let end = start + lines[start..].iter().take_while(|l| row(l)).count();
        let expected = settings::readme_rows(SETTINGS);
        if lines[start..end] == expected {
            return;
        }
        if std::env::var("HUDDLE_UPDATE_README").as_deref() == Ok("1") {
            let mut out: Vec<String> = lines[..start].iter().map(|l| l.to_string()).collect();
            out.extend(expected);
            out.extend(lines[end..].iter().map(|l| l.to_string()));
            std::fs::write(path, out.join("\n") + "\n").unwrap();
            return;
        }
        panic!(
            "README.md's settings table is not the one SETTINGS makes; run \
             HUDDLE_UPDATE_README=1 cargo test --lib readme (expected:\n{})",
            expected.join("\n")
        );
    }

    #[test]
    fn settings_are_typed_once() {
        let s = Settings::from_raw(&Raw::defaults(SETTINGS)).unwrap();
        assert_eq!(s.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.ws_ping_interval_ms.get(), 10_000);
        assert_eq!(s.storage, Storage::Local);
        let keys: std::collections::HashSet<_> = SETTINGS.iter().map(|s| s.key).collect();
        assert_eq!(keys.len(), SETTINGS.len(), "every key once");
    }

    #[test]
    fn a_provider_option_is_checked_only_when_it_is_read() {
        let stale = env(&[("HUDDLE_S3_PATH_STYLE", "maybe")]);
        assert!(
            Config::load(None, stale).is_ok(),
            "local storage ignores it"
        );
        let e = Config::load(
            None,
            env(&[
                ("HUDDLE_STORAGE", "s3"),
                ("HUDDLE_S3_ENDPOINT", "http://127.0.0.1:9000"),
                ("HUDDLE_S3_BUCKET", "b"),
                ("HUDDLE_S3_ACCESS_KEY_ID", "k"),
                ("HUDDLE_S3_SECRET_ACCESS_KEY", "s"),
                ("HUDDLE_S3_PATH_STYLE", "maybe"),
            ]),
        )
        .unwrap_err();
        assert_eq!(
            e.0,
            "HUDDLE_S3_PATH_STYLE must be true or false, not \"maybe\""
        );
        let e = Config::load(None, env(&[("HUDDLE_STORAGE", "disk")])).unwrap_err();
        assert_eq!(e.0, "HUDDLE_STORAGE must be local, s3 or oss, not \"disk\"");
        let e = Config::load(None, env(&[("HUDDLE_STORAGE", "s3")])).unwrap_err();
        assert_eq!(e.0, "HUDDLE_S3_ENDPOINT is required when HUDDLE_STORAGE=s3");
        let e = Config::load(None, env(&[("HUDDLE_WS_OUTBOUND_LIMIT", "0")])).unwrap_err();
        assert_eq!(e.0, "HUDDLE_WS_OUTBOUND_LIMIT must be greater than 0");
    }
}
