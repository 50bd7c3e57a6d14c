//! Configuration: one typed [`Config`], loaded from defaults < an optional TOML
//! file (`--config`) < environment variables (`HUDDLE_*`).
//!
//! [`SETTINGS`] is the single list of settings: it drives parsing, the table in
//! `huddle --help`, and a test that keeps the README's table complete. In the
//! TOML file a setting's key is its environment name without `HUDDLE_`, in lower
//! case (`http_addr = "0.0.0.0:8080"`).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

mod services;
mod test_numbers;

pub use services::{
    JPushConfig, LinkPreviewConfig, OssConfig, PushProviderConfig, S3Config, ServicesConfig,
    StorageConfig, WechatConfig,
};
pub use test_numbers::TestNumbers;

/// One configurable value.
#[derive(Debug)]
pub struct Setting {
    /// Key in the TOML file; the environment name is `HUDDLE_` + upper case.
    pub key: &'static str,
    /// Default value ("" = unset).
    pub default: &'static str,
    /// What it does.
    pub help: &'static str,
}

impl Setting {
    /// `HUDDLE_<KEY>`.
    pub fn env_name(&self) -> String {
        format!("HUDDLE_{}", self.key.to_ascii_uppercase())
    }
}

/// Every setting huddle reads.
pub const SETTINGS: &[Setting] = &[
    Setting { key: "http_addr", default: "127.0.0.1:8080", help: "Address to listen on; port 0 picks a free port (the bound address is logged)." },
    Setting { key: "database_url", default: "sqlite://huddle.db", help: "sqlite://FILE (created if missing; WAL, foreign keys on) or postgres://USER@HOST:PORT/DB." },
    Setting { key: "database_max_connections", default: "16", help: "Connection pool size." },
    Setting { key: "redis_url", default: "", help: "Unset: in-process cache and bus (one node). redis://[:PASSWORD@]HOST:PORT[/DB]: several nodes share rooms, notifications, presence and the cache through it (docs/operations.md)." },
    Setting { key: "node_id", default: "", help: "This node's name in logs and in its Redis heartbeat key; unset: HOSTNAME-PID. Give each node its own." },
    Setting { key: "listen_backlog", default: "4096", help: "Connections the kernel may queue before huddle accepts them (capped by net.core.somaxconn); bursts of connects beyond it wait for SYN retransmits." },
    Setting { key: "workers", default: "0", help: "HTTP worker threads; 0 = one per CPU core." },
    Setting { key: "shutdown_timeout_secs", default: "30", help: "On SIGTERM/SIGINT, how long in-flight requests may take to finish." },
    Setting { key: "max_body_bytes", default: "102400", help: "Largest accepted request body (bytes); larger → 413." },
    Setting { key: "rate_limits", default: "on", help: "on: the limits below apply. off: none of them (load tests from a few addresses)." },
    Setting { key: "rate_user_per_second", default: "20", help: "Signed API requests one logged-in user may make in one second (bursts); more → 429 with Retry-After. 0: no limit." },
    Setting { key: "rate_user_per_minute", default: "100", help: "Signed API requests one logged-in user may make in one minute. 0: no limit." },
    Setting { key: "rate_ip_per_second", default: "20", help: "Signed API requests from one client address in one second. Behind a proxy not in HUDDLE_TRUSTED_PROXIES every client shares its address: raise or turn off. 0: no limit." },
    Setting { key: "rate_ip_per_minute", default: "100", help: "Signed API requests from one client address in one minute. 0: no limit." },
    Setting { key: "trusted_proxies", default: "", help: "Reverse proxies (addresses and CIDR networks, comma-separated, e.g. 10.0.0.0/8,127.0.0.1) whose X-Forwarded-For names the client: per-address limits then count the right-most address that is not one of them. Empty: the TCP peer is the client." },
    Setting { key: "cors_origins", default: "", help: "Origins (exact scheme://host[:port], comma-separated, e.g. https://h5.example.com) whose browser pages may call the H5 API (/h5/*) cross-origin: preflights answer 204 with the allowed methods and headers. Empty: same origin only." },
    Setting { key: "rooms_per_hour", default: "30", help: "Rooms one user may open per hour. 0: no limit." },
    Setting { key: "invites_per_hour", default: "100", help: "Room invitations one user may send per hour. 0: no limit." },
    Setting { key: "captcha_per_ip_per_hour", default: "20", help: "Captcha SMS sends from one client address per hour (each number also waits 60 s between sends and gets 10 a day). 0: no limit." },
    Setting { key: "ws_messages_per_second", default: "20", help: "Frames (messages, fragments, pings) one WebSocket may send per second, in bursts of as many; more get an error frame rate_limited and count as bad frames. 0: no limit." },
    Setting { key: "ws_connections_per_user", default: "10", help: "WebSockets one user may hold open on one node; one more is refused with 429 before the upgrade. 0: no limit." },
    Setting { key: "session_ttl_days", default: "30", help: "Lifetime of a login session (access token)." },
    Setting { key: "session_cache_ms", default: "1000", help: "How long a node trusts a checked session before reading it again. Logout and profile init on this node apply at once; a freeze by the CLI or a logout on another node within this time. 0: read on every call." },
    Setting { key: "jwt_secret", default: "", help: "HS256 secret for access tokens. Unset: generated once and stored in the database, so restarts keep sessions valid." },
    Setting { key: "sms_provider", default: "log", help: "log: no SMS; captcha codes are written to the log at debug level on target huddle::clients::sms (development: HUDDLE_LOG=info,huddle::clients::sms=debug shows them). http: sent through the generic HTTP SMS gateway below." },
    Setting { key: "sms_http_url", default: "", help: "http provider: gateway URL." },
    Setting { key: "sms_http_method", default: "POST", help: "http provider: HTTP method." },
    Setting { key: "sms_http_auth", default: "", help: "http provider: value of the Authorization header (secret; never logged)." },
    Setting { key: "sms_http_content_type", default: "application/json", help: "http provider: Content-Type of the request body." },
    Setting { key: "sms_http_body", default: r#"{"countryCode":"{countryCode}","mobile":"{mobile}","code":"{code}"}"#, help: "http provider: body template; {countryCode}, {mobile} and {code} are replaced." },
    Setting { key: "sms_http_timeout_ms", default: "5000", help: "http provider: request timeout." },
    Setting { key: "sms_test_numbers", default: "", help: "Fixed codes for test numbers, e.g. 8613800000000:123456,8613800000001:654321 (country code + mobile), or a prefix of 8+ digits for load tests: 86139000*:246810. No SMS is sent to them and their code always works." },
    Setting { key: "agora_app_id", default: "", help: "Agora app id for voice tokens (32 hex). Unset: a development pair is generated once, stored in the database and logged as such; its tokens are not accepted by Agora." },
    Setting { key: "agora_app_certificate", default: "", help: "Agora app certificate (secret; 32 hex). Set together with HUDDLE_AGORA_APP_ID." },
    Setting { key: "agora_token_version", default: "006", help: "Voice token format: 006 (AccessToken) or 007 (AccessToken2)." },
    Setting { key: "rtc_token_ttl_secs", default: "3600", help: "Lifetime of a voice token: its join and publish privileges expire then. Room membership itself follows the WebSocket (see HUDDLE_ROOM_GRACE_MS)." },
    Setting { key: "scheduler_tick_ms", default: "1000", help: "How often timers are checked: due event reminders, and members whose grace period is over." },
    Setting { key: "room_grace_ms", default: "30000", help: "A room member with no WebSocket in the room (dropped, or took a token and never joined) leaves after this long." },
    Setting { key: "room_history_events", default: "256", help: "Events each room keeps for resume." },
    Setting { key: "room_history_ms", default: "300000", help: "Oldest event a room keeps for resume (ms); older gaps answer recovered: false." },
    Setting { key: "ws_ping_interval_ms", default: "10000", help: "The server pings every WebSocket this often." },
    Setting { key: "ws_idle_timeout_ms", default: "30000", help: "A WebSocket that sends nothing (not even a pong) for this long is closed (4001)." },
    Setting { key: "ws_outbound_limit", default: "1024", help: "Frames queued for one WebSocket before it counts as a slow consumer and is closed (4008)." },
    Setting { key: "ws_max_frame_bytes", default: "65536", help: "Largest WebSocket message accepted (bytes, fragments included); larger closes with 1009." },
    Setting { key: "socket_send_buffer_bytes", default: "0", help: "Kernel send buffer of each client connection (SO_SNDBUF); 0 = the kernel's autotuning. A small value bounds the memory a slow client can hold in the kernel before its WebSocket queue counts as full." },
    Setting { key: "ws_session_check_ms", default: "60000", help: "Every this often a WebSocket checks its login session again; logged out, expired or frozen closes it (4003)." },
    Setting { key: "ws_max_bad_frames", default: "10", help: "Malformed frames, unknown ops and bad requests one WebSocket may send; one more closes it (1008)." },
    Setting { key: "public_url", default: "", help: "Absolute base URL clients reach this server at (e.g. https://huddle.example.com): upload addresses, local image URLs and share links. Unset: taken from each request (Host header)." },
    Setting { key: "storage", default: "local", help: "Where uploaded images go: local (files under HUDDLE_STORAGE_DIR; this server accepts the presigned PUT and serves the image), s3 (AWS SigV4 presigned PUT) or oss (Aliyun OSS V1 presigned PUT)." },
    Setting { key: "storage_dir", default: "data/uploads", help: "local storage: directory for uploaded images (created if missing)." },
    Setting { key: "storage_upload_ttl_secs", default: "900", help: "How long an upload address stays valid (seconds)." },
    Setting { key: "storage_max_image_bytes", default: "5242880", help: "local storage: largest image accepted (bytes); larger → 413." },
    Setting { key: "storage_public_url", default: "", help: "s3/oss: base of imageURL (e.g. a CDN, https://cdn.example.com). Unset: the bucket's own address." },
    Setting { key: "s3_endpoint", default: "", help: "s3: endpoint, e.g. https://s3.us-east-1.amazonaws.com or http://127.0.0.1:9000." },
    Setting { key: "s3_region", default: "us-east-1", help: "s3: signing region." },
    Setting { key: "s3_bucket", default: "", help: "s3: bucket name." },
    Setting { key: "s3_path_style", default: "false", help: "s3: true = https://endpoint/bucket/key (MinIO and most compatibles); false = https://bucket.endpoint/key." },
    Setting { key: "s3_access_key_id", default: "", help: "s3: access key id." },
    Setting { key: "s3_secret_access_key", default: "", help: "s3: secret access key (secret)." },
    Setting { key: "oss_endpoint", default: "", help: "oss: region endpoint, e.g. https://oss-cn-shenzhen.aliyuncs.com (the bucket becomes a subdomain)." },
    Setting { key: "oss_bucket", default: "", help: "oss: bucket name." },
    Setting { key: "oss_access_key_id", default: "", help: "oss: AccessKey id (of the RAM user that may assume HUDDLE_OSS_STS_ROLE_ARN)." },
    Setting { key: "oss_access_key_secret", default: "", help: "oss: AccessKey secret (secret)." },
    Setting { key: "oss_sts_role_arn", default: "", help: "oss: RAM role to assume through STS; upload addresses then carry a temporary key and its security-token, cached until shortly before expiry. Unset: the AccessKey signs directly." },
    Setting { key: "oss_sts_endpoint", default: "https://sts.aliyuncs.com", help: "oss: STS endpoint (AssumeRole)." },
    Setting { key: "oss_sts_duration_secs", default: "3600", help: "oss: lifetime asked for STS credentials (900..=43200)." },
    Setting { key: "push_provider", default: "log", help: "How messages reach users with no live WebSocket: log (written to the log) or jpush (JPush REST API v3)." },
    Setting { key: "jpush_app_key", default: "", help: "jpush: AppKey." },
    Setting { key: "jpush_master_secret", default: "", help: "jpush: Master Secret (secret)." },
    Setting { key: "jpush_base_url", default: "https://api.jpush.cn", help: "jpush: API base URL (POST {base}/v3/push)." },
    Setting { key: "jpush_apns_production", default: "false", help: "jpush: options.apns_production (true = APNs production, false = development)." },
    Setting { key: "push_timeout_ms", default: "5000", help: "jpush: request timeout." },
    Setting { key: "wechat_app_id", default: "", help: "WeChat official account AppID for H5 pages (OAuth login and JS-SDK config). Unset: H5 visitors get guest sessions and /h5/weixin/config answers 503." },
    Setting { key: "wechat_app_secret", default: "", help: "WeChat AppSecret (secret). Set together with HUDDLE_WECHAT_APP_ID." },
    Setting { key: "wechat_api_base", default: "https://api.weixin.qq.com", help: "WeChat API base URL (access_token, jsapi_ticket, sns/oauth2)." },
    Setting { key: "h5_session_ttl_secs", default: "86400", help: "Lifetime of an H5 (WeChat or guest) session token." },
    Setting { key: "h5_room_cache_ttl_secs", default: "3600", help: "How long a share link's room lookup stays in the cache; a miss is rebuilt from the database." },
    Setting { key: "link_preview_timeout_ms", default: "3000", help: "Link previews: whole fetch deadline, redirects included." },
    Setting { key: "link_preview_max_bytes", default: "1048576", help: "Link previews: most bytes read of a page." },
    Setting { key: "link_preview_allow", default: "", help: "TESTS ONLY: comma-separated host:port pairs link previews may fetch although the SSRF guard refuses them (e.g. 127.0.0.1:8099). Leave unset in production." },
    Setting { key: "log", default: "info", help: "Log filter (tracing EnvFilter syntax), e.g. info or huddle=debug,info." },
    Setting { key: "log_format", default: "pretty", help: "pretty (human) or json (one object per line)." },
];

/// A configuration problem, naming the setting.
#[derive(Debug, thiserror::Error)]
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

/// Which Agora token format rooms hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgoraTokenVersion {
    /// AccessToken "006".
    V006,
    /// AccessToken2 "007".
    V007,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
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
    pub cors_origins: crate::http::cors::CorsOrigins,
    /// Outside services: storage, push, WeChat, link previews, H5.
    pub services: ServicesConfig,
    /// Log filter.
    pub log: String,
    /// Log format.
    pub log_format: LogFormat,
}

impl Config {
    /// The defaults alone (what `cargo run` uses with no file and no env).
    pub fn defaults() -> Self {
        Self::from_raw(&raw_defaults()).unwrap_or_else(|e| unreachable!("defaults must parse: {e}"))
    }

    /// Loads defaults < `file` < environment (read through `env`).
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut raw = raw_defaults();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
            merge_toml(&mut raw, &text)
                .map_err(|e| ConfigError(format!("{}: {}", path.display(), e.0)))?;
        }
        for s in SETTINGS {
            if let Some(v) = env(&s.env_name()) {
                raw.insert(s.key, v);
            }
        }
        Self::from_raw(&raw)
    }

    fn from_raw(raw: &BTreeMap<&'static str, String>) -> Result<Self, ConfigError> {
        let get = |key: &str| {
            raw.get(key)
                .map(String::as_str)
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        let opt = |key: &str| Some(get(key)).filter(|v| !v.is_empty());
        let sms = match get("sms_provider").as_str() {
            "log" => SmsProviderConfig::Log,
            "http" => SmsProviderConfig::Http(HttpSmsConfig {
                url: opt("sms_http_url").ok_or_else(|| {
                    ConfigError(
                        "HUDDLE_SMS_HTTP_URL is required when HUDDLE_SMS_PROVIDER=http".into(),
                    )
                })?,
                method: get("sms_http_method").to_ascii_uppercase(),
                auth: opt("sms_http_auth").map(Secret::new),
                content_type: get("sms_http_content_type"),
                body_template: raw.get("sms_http_body").cloned().unwrap_or_default(),
                timeout_ms: parse("sms_http_timeout_ms", &get("sms_http_timeout_ms"))?,
            }),
            other => {
                return Err(ConfigError(format!(
                    "HUDDLE_SMS_PROVIDER must be log or http, not {other:?}"
                )))
            }
        };
        let log_format = match get("log_format").as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError(format!(
                    "HUDDLE_LOG_FORMAT must be pretty or json, not {other:?}"
                )))
            }
        };
        let agora_app_id = opt("agora_app_id");
        let agora_app_certificate = opt("agora_app_certificate").map(Secret::new);
        let hex32 = |v: &str| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit());
        match (&agora_app_id, &agora_app_certificate) {
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
        let agora_token_version = match get("agora_token_version").as_str() {
            "006" => AgoraTokenVersion::V006,
            "007" => AgoraTokenVersion::V007,
            other => {
                return Err(ConfigError(format!(
                    "HUDDLE_AGORA_TOKEN_VERSION must be 006 or 007, not {other:?}"
                )))
            }
        };
        let limits = match get("rate_limits").as_str() {
            "on" => crate::ratelimit::Limits {
                user: crate::ratelimit::Rate {
                    per_second: parse("rate_user_per_second", &get("rate_user_per_second"))?,
                    per_minute: parse("rate_user_per_minute", &get("rate_user_per_minute"))?,
                },
                ip: crate::ratelimit::Rate {
                    per_second: parse("rate_ip_per_second", &get("rate_ip_per_second"))?,
                    per_minute: parse("rate_ip_per_minute", &get("rate_ip_per_minute"))?,
                },
                rooms_per_hour: parse("rooms_per_hour", &get("rooms_per_hour"))?,
                invites_per_hour: parse("invites_per_hour", &get("invites_per_hour"))?,
                captchas_per_ip_per_hour: parse(
                    "captcha_per_ip_per_hour",
                    &get("captcha_per_ip_per_hour"),
                )?,
                ws_messages_per_second: parse(
                    "ws_messages_per_second",
                    &get("ws_messages_per_second"),
                )?,
                ws_connections_per_user: parse(
                    "ws_connections_per_user",
                    &get("ws_connections_per_user"),
                )?,
            },
            "off" => crate::ratelimit::Limits::off(),
            other => {
                return Err(ConfigError(format!(
                    "HUDDLE_RATE_LIMITS must be on or off, not {other:?}"
                )))
            }
        };
        Ok(Self {
            agora_app_id,
            agora_app_certificate,
            agora_token_version,
            rtc_token_ttl_secs: parse("rtc_token_ttl_secs", &get("rtc_token_ttl_secs"))?,
            scheduler_tick_ms: parse("scheduler_tick_ms", &get("scheduler_tick_ms"))?,
            room_grace_ms: parse("room_grace_ms", &get("room_grace_ms"))?,
            room_history_events: parse("room_history_events", &get("room_history_events"))?,
            room_history_ms: parse("room_history_ms", &get("room_history_ms"))?,
            ws_ping_interval_ms: positive("ws_ping_interval_ms", &get("ws_ping_interval_ms"))?,
            ws_idle_timeout_ms: positive("ws_idle_timeout_ms", &get("ws_idle_timeout_ms"))?,
            ws_outbound_limit: positive("ws_outbound_limit", &get("ws_outbound_limit"))?,
            ws_max_frame_bytes: positive("ws_max_frame_bytes", &get("ws_max_frame_bytes"))?,
            ws_max_bad_frames: parse("ws_max_bad_frames", &get("ws_max_bad_frames"))?,
            ws_session_check_ms: positive("ws_session_check_ms", &get("ws_session_check_ms"))?,
            socket_send_buffer_bytes: parse(
                "socket_send_buffer_bytes",
                &get("socket_send_buffer_bytes"),
            )?,
            trusted_proxies: crate::auth::address::TrustedProxies::parse(&get("trusted_proxies"))
                .map_err(|e| ConfigError(format!("HUDDLE_TRUSTED_PROXIES: {e}")))?,
            cors_origins: crate::http::cors::CorsOrigins::parse(&get("cors_origins"))
                .map_err(|e| ConfigError(format!("HUDDLE_CORS_ORIGINS: {e}")))?,
            http_addr: parse("http_addr", &get("http_addr"))?,
            database_url: get("database_url"),
            database_max_connections: parse(
                "database_max_connections",
                &get("database_max_connections"),
            )?,
            redis_url: opt("redis_url").map(Secret::new),
            node_id: opt("node_id").unwrap_or_else(default_node_id),
            workers: parse("workers", &get("workers"))?,
            shutdown_timeout_secs: parse("shutdown_timeout_secs", &get("shutdown_timeout_secs"))?,
            max_body_bytes: parse("max_body_bytes", &get("max_body_bytes"))?,
            session_ttl_days: parse("session_ttl_days", &get("session_ttl_days"))?,
            listen_backlog: parse("listen_backlog", &get("listen_backlog"))?,
            limits,
            session_cache_ms: parse("session_cache_ms", &get("session_cache_ms"))?,
            jwt_secret: opt("jwt_secret").map(Secret::new),
            sms,
            sms_test_numbers: TestNumbers::parse(&get("sms_test_numbers"))?,
            services: services::from_settings(&get)?,
            log: get("log"),
            log_format,
        })
    }
}

fn raw_defaults() -> BTreeMap<&'static str, String> {
    SETTINGS
        .iter()
        .map(|s| (s.key, s.default.to_owned()))
        .collect()
}

fn merge_toml(raw: &mut BTreeMap<&'static str, String>, text: &str) -> Result<(), ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e| ConfigError(format!("not valid TOML: {e}")))?;
    for (key, value) in table {
        let setting = SETTINGS
            .iter()
            .find(|s| s.key == key)
            .ok_or_else(|| ConfigError(format!("unknown setting {key:?}")))?;
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => {
                return Err(ConfigError(format!(
                    "{key} must be a string or a number, not {}",
                    other.type_str()
                )))
            }
        };
        raw.insert(setting.key, text);
    }
    Ok(())
}

/// Like [`parse`], refusing 0.
fn positive<T>(key: &str, value: &str) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialEq + From<u8>,
    T::Err: fmt::Display,
{
    let v: T = parse(key, value)?;
    if v == T::from(0) {
        return Err(ConfigError(format!(
            "HUDDLE_{} must be greater than 0",
            key.to_ascii_uppercase()
        )));
    }
    Ok(v)
}

fn parse<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    value.parse().map_err(|e| {
        ConfigError(format!(
            "HUDDLE_{} = {value:?} is not valid: {e}",
            key.to_ascii_uppercase()
        ))
    })
}

/// The settings table shown by `huddle --help`.
pub fn settings_help() -> String {
    let mut out = String::from("Configuration (environment variable, default; also settable in --config FILE as lower-case key without HUDDLE_):\n");
    for s in SETTINGS {
        let default = if s.default.is_empty() {
            "unset"
        } else {
            s.default
        };
        out.push_str(&format!(
            "  {}  [default: {}]\n      {}\n",
            s.env_name(),
            default,
            s.help
        ));
    }
    out
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
        assert!(!printed.contains("hunter2"));
        assert!(!printed.contains(":pw@"));
    }

    #[test]
    fn readme_lists_every_setting() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        for s in SETTINGS {
            assert!(
                readme.contains(&s.env_name()),
                "README.md does not document {}",
                s.env_name()
            );
        }
    }
}
