//! Object storage for uploaded images: presigned PUT addresses the app uploads
//! to directly, on one of three backends chosen by `HUDDLE_STORAGE`.
//!
//! - [`local`]: the embedded default, files under a directory; this server
//!   accepts the presigned PUT and serves the image.
//! - [`sigv4`]: AWS Signature Version 4 query presigning (S3 and compatibles).
//! - [`oss`] + [`sts`]: Aliyun OSS V1 presigning, with temporary STS credentials.
//! - [`key`]: the object key `image/{uid}/{imageDir}/{imageId}.jpg`.
//! - [`time`]: UTC calendar formatting for signatures (no time-zone crate needed).
//!
//! The signing is written here on the RustCrypto `hmac`/`sha1`/`sha2`
//! primitives rather than taken from a signing crate: each scheme is a few
//! dozen lines, pinned by the providers' published test vectors, and the
//! crates that cover S3 and OSS bring credential loaders and HTTP stacks
//! huddle does not need.

pub mod key;
pub mod local;
pub mod oss;
pub mod sigv4;
pub mod sts;
pub mod time;

use crate::config::{ServicesConfig, StorageConfig};
use key::ObjectKey;
use local::LocalStore;
use oss::OssCredentials;
use sts::StsClient;

/// What can go wrong with storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An upload to the local store was refused (bad signature, expired).
    #[error("{0}")]
    Refused(String),
    /// The provider (STS) could not be reached or refused.
    #[error("storage provider unavailable: {0}")]
    Provider(String),
    /// Reading or writing a file failed.
    #[error("storage I/O: {0}")]
    Io(String),
    /// The local store's disk (or the user's quota) is full: nothing was
    /// stored, and uploads work again once space is freed.
    #[error("storage full: {0}")]
    Full(String),
}

/// A presigned upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadTicket {
    /// Where to PUT the image.
    pub upload_address: String,
    /// Where it can be read afterwards.
    pub image_url: String,
}

enum OssAuth {
    Static(OssCredentials),
    Sts(StsClient),
}

enum Backend {
    Local(LocalStore),
    S3 {
        target: sigv4::S3Target,
        image_base: String,
    },
    Oss {
        scheme: String,
        host: String,
        bucket: String,
        auth: OssAuth,
        image_base: String,
    },
}

/// The configured image store.
pub struct Uploads {
    backend: Backend,
    ttl_secs: u32,
}

/// Content type OSS upload addresses are signed for (the key ends in `.jpg`).
pub const OSS_CONTENT_TYPE: &str = "image/jpeg";

fn split_endpoint(endpoint: &str) -> (String, String) {
    match endpoint.split_once("://") {
        Some((scheme, host)) => (scheme.to_owned(), host.trim_end_matches('/').to_owned()),
        None => ("https".to_owned(), endpoint.to_owned()),
    }
}

impl Uploads {
    /// The store `config` describes; `signing_key` signs local upload addresses.
    pub fn new(config: &ServicesConfig, signing_key: Vec<u8>, http: reqwest::Client) -> Self {
        let backend = match &config.storage {
            StorageConfig::Local { dir } => Backend::Local(LocalStore::new(dir, signing_key)),
            StorageConfig::S3(s3) => {
                let (scheme, endpoint_host) = split_endpoint(&s3.endpoint);
                let (host, path_style_bucket, bucket_url) = if s3.path_style {
                    let url = format!("{scheme}://{endpoint_host}/{}", s3.bucket);
                    (endpoint_host, Some(s3.bucket.clone()), url)
                } else {
                    let host = format!("{}.{endpoint_host}", s3.bucket);
                    let url = format!("{scheme}://{host}");
                    (host, None, url)
                };
                Backend::S3 {
                    target: sigv4::S3Target {
                        access_key: s3.access_key_id.clone(),
                        secret_key: s3.secret_access_key.expose().to_owned(),
                        region: s3.region.clone(),
                        host,
                        scheme,
                        path_style_bucket,
                    },
                    image_base: config.storage_public_url.clone().unwrap_or(bucket_url),
                }
            }
            StorageConfig::Oss(o) => {
                let (scheme, host) = split_endpoint(&o.endpoint);
                let auth = match &o.sts_role_arn {
                    Some(role) => OssAuth::Sts(StsClient::new(
                        http,
                        &o.sts_endpoint,
                        &o.access_key_id,
                        o.access_key_secret.expose(),
                        role,
                        o.sts_duration_secs,
                    )),
                    None => OssAuth::Static(OssCredentials {
                        access_key_id: o.access_key_id.clone(),
                        access_key_secret: o.access_key_secret.expose().to_owned(),
                        security_token: None,
                    }),
                };
                let bucket_url = format!("{scheme}://{}.{host}", o.bucket);
                Backend::Oss {
                    scheme,
                    host,
                    bucket: o.bucket.clone(),
                    auth,
                    image_base: config.storage_public_url.clone().unwrap_or(bucket_url),
                }
            }
        };
        Self {
            backend,
            ttl_secs: config.upload_ttl_secs,
        }
    }

    /// The local store, when images live on this server.
    pub fn local(&self) -> Option<&LocalStore> {
        match &self.backend {
            Backend::Local(store) => Some(store),
            _ => None,
        }
    }

    /// A presigned PUT address for `key`, valid from `now_secs` for the
    /// configured time. `server_base` is this server's public URL (local store).
    pub async fn presign(
        &self,
        key: &ObjectKey,
        server_base: &str,
        now_secs: i64,
    ) -> Result<UploadTicket, StorageError> {
        let key_text = key.to_string();
        let expires = now_secs + i64::from(self.ttl_secs);
        Ok(match &self.backend {
            Backend::Local(store) => UploadTicket {
                upload_address: store.upload_address(server_base, key, expires),
                image_url: format!("{server_base}/{key_text}"),
            },
            Backend::S3 { target, image_base } => UploadTicket {
                upload_address: sigv4::presign(
                    target,
                    &sigv4::PresignRequest {
                        method: "PUT",
                        key: &key_text,
                        now_secs,
                        expires_secs: self.ttl_secs,
                    },
                )
                .url,
                image_url: format!("{image_base}/{key_text}"),
            },
            Backend::Oss {
                scheme,
                host,
                bucket,
                auth,
                image_base,
            } => {
                let credentials = match auth {
                    OssAuth::Static(c) => c.clone(),
                    OssAuth::Sts(client) => client.credentials(now_secs).await?,
                };
                UploadTicket {
                    upload_address: oss::presign_put(
                        scheme,
                        host,
                        bucket,
                        &key_text,
                        OSS_CONTENT_TYPE,
                        expires,
                        &credentials,
                    ),
                    image_url: format!("{image_base}/{key_text}"),
                }
            }
        })
    }
}
