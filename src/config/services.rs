//! Settings of the outside services: object storage, push, WeChat, link
//! previews and H5 sessions. Each service has a local default that works with
//! no credentials; credentials switch to the real provider.

use std::collections::HashSet;

use super::{parse, positive, ConfigError, Secret};

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

fn base_url(key: &str, value: &str) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(value).map_err(|e| {
        ConfigError(format!(
            "HUDDLE_{} = {value:?} is not a URL: {e}",
            key.to_ascii_uppercase()
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError(format!(
            "HUDDLE_{} must be an http(s) URL with a host, not {value:?}",
            key.to_ascii_uppercase()
        )));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(ConfigError(format!(
            "HUDDLE_{} must be true or false, not {other:?}",
            key.to_ascii_uppercase()
        ))),
    }
}

/// Parses the services' settings; `get` answers a setting's trimmed text.
pub(super) fn from_settings(get: &dyn Fn(&str) -> String) -> Result<ServicesConfig, ConfigError> {
    let opt = |key: &str| Some(get(key)).filter(|v| !v.is_empty());
    let required = |key: &str, when: &str| {
        opt(key).ok_or_else(|| {
            ConfigError(format!(
                "HUDDLE_{} is required when {when}",
                key.to_ascii_uppercase()
            ))
        })
    };
    let storage = match get("storage").as_str() {
        "local" => StorageConfig::Local {
            dir: get("storage_dir"),
        },
        "s3" => {
            let when = "HUDDLE_STORAGE=s3";
            StorageConfig::S3(S3Config {
                endpoint: base_url("s3_endpoint", &required("s3_endpoint", when)?)?,
                region: get("s3_region"),
                bucket: required("s3_bucket", when)?,
                path_style: boolean("s3_path_style", &get("s3_path_style"))?,
                access_key_id: required("s3_access_key_id", when)?,
                secret_access_key: Secret::new(required("s3_secret_access_key", when)?),
            })
        }
        "oss" => {
            let when = "HUDDLE_STORAGE=oss";
            let sts_duration_secs: u32 =
                parse("oss_sts_duration_secs", &get("oss_sts_duration_secs"))?;
            if !(900..=43_200).contains(&sts_duration_secs) {
                return Err(ConfigError(
                    "HUDDLE_OSS_STS_DURATION_SECS must be between 900 and 43200".into(),
                ));
            }
            StorageConfig::Oss(OssConfig {
                endpoint: base_url("oss_endpoint", &required("oss_endpoint", when)?)?,
                bucket: required("oss_bucket", when)?,
                access_key_id: required("oss_access_key_id", when)?,
                access_key_secret: Secret::new(required("oss_access_key_secret", when)?),
                sts_role_arn: opt("oss_sts_role_arn"),
                sts_endpoint: base_url("oss_sts_endpoint", &get("oss_sts_endpoint"))?,
                sts_duration_secs,
            })
        }
        other => {
            return Err(ConfigError(format!(
                "HUDDLE_STORAGE must be local, s3 or oss, not {other:?}"
            )))
        }
    };
    let upload_ttl_secs: u32 =
        positive("storage_upload_ttl_secs", &get("storage_upload_ttl_secs"))?;
    if upload_ttl_secs > 604_800 {
        return Err(ConfigError(
            "HUDDLE_STORAGE_UPLOAD_TTL_SECS must be at most 604800 (7 days)".into(),
        ));
    }
    let push = match get("push_provider").as_str() {
        "log" => PushProviderConfig::Log,
        "jpush" => {
            let when = "HUDDLE_PUSH_PROVIDER=jpush";
            PushProviderConfig::JPush(JPushConfig {
                app_key: required("jpush_app_key", when)?,
                master_secret: Secret::new(required("jpush_master_secret", when)?),
                base_url: base_url("jpush_base_url", &get("jpush_base_url"))?,
                apns_production: boolean("jpush_apns_production", &get("jpush_apns_production"))?,
                timeout_ms: positive("push_timeout_ms", &get("push_timeout_ms"))?,
            })
        }
        other => {
            return Err(ConfigError(format!(
                "HUDDLE_PUSH_PROVIDER must be log or jpush, not {other:?}"
            )))
        }
    };
    let wechat = match (opt("wechat_app_id"), opt("wechat_app_secret")) {
        (None, None) => None,
        (Some(app_id), Some(secret)) => Some(WechatConfig {
            app_id,
            app_secret: Secret::new(secret),
            api_base: base_url("wechat_api_base", &get("wechat_api_base"))?,
        }),
        _ => {
            return Err(ConfigError(
                "set both HUDDLE_WECHAT_APP_ID and HUDDLE_WECHAT_APP_SECRET, or neither".into(),
            ))
        }
    };
    let public_url = opt("public_url")
        .map(|v| base_url("public_url", &v))
        .transpose()?;
    let storage_public_url = opt("storage_public_url")
        .map(|v| base_url("storage_public_url", &v))
        .transpose()?;
    let allow = get("link_preview_allow")
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            if e.rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            {
                Ok(e.to_ascii_lowercase())
            } else {
                Err(ConfigError(format!(
                    "HUDDLE_LINK_PREVIEW_ALLOW entry {e:?} is not host:port"
                )))
            }
        })
        .collect::<Result<HashSet<_>, _>>()?;
    Ok(ServicesConfig {
        public_url,
        storage,
        upload_ttl_secs,
        max_image_bytes: positive("storage_max_image_bytes", &get("storage_max_image_bytes"))?,
        storage_public_url,
        push,
        wechat,
        h5_session_ttl_secs: positive("h5_session_ttl_secs", &get("h5_session_ttl_secs"))?,
        h5_room_cache_ttl_secs: positive("h5_room_cache_ttl_secs", &get("h5_room_cache_ttl_secs"))?,
        link_preview: LinkPreviewConfig {
            timeout_ms: positive("link_preview_timeout_ms", &get("link_preview_timeout_ms"))?,
            max_bytes: positive("link_preview_max_bytes", &get("link_preview_max_bytes"))?,
            allow,
        },
    })
}
