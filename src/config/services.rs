//! Settings of the outside services: object storage, push, WeChat, link
//! previews and H5 sessions. Each service has a local default that works with
//! no credentials; credentials switch to the real provider. Derived from the
//! flat [`Settings`] (their declarations are the table in `config/mod.rs`).

use std::collections::HashSet;

use super::settings::{env_name, SettingValue};
use super::{required, ConfigError, PushProvider, Secret, Settings, Storage};

/// Where uploaded images go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// Files under a directory; this server accepts the presigned PUT.
    Local {
        /// The directory.
        dir: String,
    },
    /// S3 or a compatible store (SigV4).
    S3(S3Config),
    /// Aliyun OSS (V1 signatures, optionally with STS).
    Oss(OssConfig),
}

/// An S3 bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    /// `scheme://host[:port]`.
    pub endpoint: String,
    /// Signing region.
    pub region: String,
    /// Bucket.
    pub bucket: String,
    /// Path-style addressing.
    pub path_style: bool,
    /// Access key id.
    pub access_key_id: String,
    /// Secret key.
    pub secret_access_key: Secret,
}

/// An OSS bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssConfig {
    /// `scheme://oss-<region>.aliyuncs.com`.
    pub endpoint: String,
    /// Bucket.
    pub bucket: String,
    /// AccessKey id.
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: Secret,
    /// Role to assume through STS (temporary credentials + security-token).
    pub sts_role_arn: Option<String>,
    /// STS endpoint.
    pub sts_endpoint: String,
    /// Lifetime asked for STS credentials (s).
    pub sts_duration_secs: u32,
}

/// JPush REST API v3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JPushConfig {
    /// AppKey.
    pub app_key: String,
    /// Master Secret.
    pub master_secret: Secret,
    /// API base URL.
    pub base_url: String,
    /// `options.apns_production`.
    pub apns_production: bool,
    /// Request timeout (ms).
    pub timeout_ms: u64,
}

/// How offline users are reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushProviderConfig {
    /// Written to the log.
    Log,
    /// JPush.
    JPush(JPushConfig),
}

/// A WeChat official account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatConfig {
    /// AppID.
    pub app_id: String,
    /// AppSecret.
    pub app_secret: Secret,
    /// API base URL.
    pub api_base: String,
}

/// Link preview fetching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPreviewConfig {
    /// Whole fetch deadline (ms).
    pub timeout_ms: u64,
    /// Most bytes read.
    pub max_bytes: usize,
    /// `host:port` pairs exempt from the SSRF guard (tests only).
    pub allow: HashSet<String>,
}

/// Every outside service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicesConfig {
    /// Public base URL (no trailing slash); `None` = from the request.
    pub public_url: Option<String>,
    /// Image storage.
    pub storage: StorageConfig,
    /// Validity of an upload address (s).
    pub upload_ttl_secs: u32,
    /// Largest image the local store accepts (bytes).
    pub max_image_bytes: usize,
    /// Base of imageURL for s3/oss.
    pub storage_public_url: Option<String>,
    /// Push provider.
    pub push: PushProviderConfig,
    /// WeChat, when configured.
    pub wechat: Option<WechatConfig>,
    /// H5 session lifetime (s).
    pub h5_session_ttl_secs: u64,
    /// Share-link cache lifetime (s).
    pub h5_room_cache_ttl_secs: u64,
    /// Link previews.
    pub link_preview: LinkPreviewConfig,
}

/// `host:port` pairs, comma-separated (`HUDDLE_LINK_PREVIEW_ALLOW`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPorts(pub HashSet<String>);

impl SettingValue for HostPorts {
    fn parse_setting(key: &str, text: &str) -> Result<Self, ConfigError> {
        text.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                if e.rsplit_once(':')
                    .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
                {
                    Ok(e.to_ascii_lowercase())
                } else {
                    Err(ConfigError(format!(
                        "{} entry {e:?} is not host:port",
                        env_name(key)
                    )))
                }
            })
            .collect::<Result<HashSet<_>, _>>()
            .map(Self)
    }
}

/// Derives the services from their settings.
pub(super) fn from_settings(s: &Settings) -> Result<ServicesConfig, ConfigError> {
    let storage = match s.storage {
        Storage::Local => StorageConfig::Local {
            dir: s.storage_dir.clone(),
        },
        Storage::S3 => {
            let when = "HUDDLE_STORAGE=s3";
            StorageConfig::S3(S3Config {
                endpoint: required(s.s3_endpoint.get()?, "s3_endpoint", when)?.0,
                region: s.s3_region.clone(),
                bucket: required(s.s3_bucket.clone(), "s3_bucket", when)?,
                path_style: s.s3_path_style.get()?,
                access_key_id: required(s.s3_access_key_id.clone(), "s3_access_key_id", when)?,
                secret_access_key: required(
                    s.s3_secret_access_key.clone(),
                    "s3_secret_access_key",
                    when,
                )?,
            })
        }
        Storage::Oss => {
            let when = "HUDDLE_STORAGE=oss";
            let sts_duration_secs = s.oss_sts_duration_secs.get()?;
            if !(900..=43_200).contains(&sts_duration_secs) {
                return Err(ConfigError(
                    "HUDDLE_OSS_STS_DURATION_SECS must be between 900 and 43200".into(),
                ));
            }
            StorageConfig::Oss(OssConfig {
                endpoint: required(s.oss_endpoint.get()?, "oss_endpoint", when)?.0,
                bucket: required(s.oss_bucket.clone(), "oss_bucket", when)?,
                access_key_id: required(s.oss_access_key_id.clone(), "oss_access_key_id", when)?,
                access_key_secret: required(
                    s.oss_access_key_secret.clone(),
                    "oss_access_key_secret",
                    when,
                )?,
                sts_role_arn: s.oss_sts_role_arn.clone(),
                sts_endpoint: s.oss_sts_endpoint.get()?.0,
                sts_duration_secs,
            })
        }
    };
    let upload_ttl_secs = s.storage_upload_ttl_secs.get();
    if upload_ttl_secs > 604_800 {
        return Err(ConfigError(
            "HUDDLE_STORAGE_UPLOAD_TTL_SECS must be at most 604800 (7 days)".into(),
        ));
    }
    let push = match s.push_provider {
        PushProvider::Log => PushProviderConfig::Log,
        PushProvider::JPush => {
            let when = "HUDDLE_PUSH_PROVIDER=jpush";
            PushProviderConfig::JPush(JPushConfig {
                app_key: required(s.jpush_app_key.clone(), "jpush_app_key", when)?,
                master_secret: required(
                    s.jpush_master_secret.clone(),
                    "jpush_master_secret",
                    when,
                )?,
                base_url: s.jpush_base_url.get()?.0,
                apns_production: s.jpush_apns_production.get()?,
                timeout_ms: s.push_timeout_ms.get()?.get(),
            })
        }
    };
    let wechat = match (&s.wechat_app_id, &s.wechat_app_secret) {
        (None, None) => None,
        (Some(app_id), Some(secret)) => Some(WechatConfig {
            app_id: app_id.clone(),
            app_secret: secret.clone(),
            api_base: s.wechat_api_base.get()?.0,
        }),
        _ => {
            return Err(ConfigError(
                "set both HUDDLE_WECHAT_APP_ID and HUDDLE_WECHAT_APP_SECRET, or neither".into(),
            ))
        }
    };
    Ok(ServicesConfig {
        public_url: s.public_url.clone().map(|u| u.0),
        storage,
        upload_ttl_secs,
        max_image_bytes: s.storage_max_image_bytes.get(),
        storage_public_url: s.storage_public_url.clone().map(|u| u.0),
        push,
        wechat,
        h5_session_ttl_secs: s.h5_session_ttl_secs.get(),
        h5_room_cache_ttl_secs: s.h5_room_cache_ttl_secs.get(),
        link_preview: LinkPreviewConfig {
            timeout_ms: s.link_preview_timeout_ms.get(),
            max_bytes: s.link_preview_max_bytes.get(),
            allow: s.link_preview_allow.0.clone(),
        },
    })
}
