//! Aliyun STS `AssumeRole`: temporary OSS credentials with a security token,
//! fetched with an RPC-style signed GET and cached until shortly before they
//! expire. Reference: Alibaba Cloud "RPC API signature" (signature version
//! 1.0); the test reproduces the documentation's example signature.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use tokio::sync::Mutex;

use super::oss::{hmac_sha1_base64, query_encode, OssCredentials};
use super::time::UtcTime;
use super::StorageError;

/// Credentials are renewed this long before they expire.
const RENEW_BEFORE_SECS: i64 = 300;

/// The canonicalised query of an RPC call: sorted, RFC 3986 encoded.
fn canonical_query(params: &BTreeMap<&str, String>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", query_encode(k), query_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The RPC signature of `params` for `method` with `secret`.
pub fn rpc_signature(method: &str, params: &BTreeMap<&str, String>, secret: &str) -> String {
    let string_to_sign = format!(
        "{method}&{}&{}",
        query_encode("/"),
        query_encode(&canonical_query(params))
    );
    hmac_sha1_base64(&format!("{secret}&"), &string_to_sign)
}

/// An `AssumeRole` client.
#[derive(Clone)]
pub struct StsClient {
    http: reqwest::Client,
    endpoint: String,
    access_key_id: String,
    access_key_secret: String,
    role_arn: String,
    duration_secs: u32,
    cached: Arc<Mutex<Option<(OssCredentials, i64)>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleResponse {
    credentials: Option<StsCredentials>,
    code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsCredentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: String,
    expiration: String,
}

impl StsClient {
    /// A client for `role_arn`, authenticating with the RAM user's AccessKey.
    pub fn new(
        http: reqwest::Client,
        endpoint: &str,
        access_key_id: &str,
        access_key_secret: &str,
        role_arn: &str,
        duration_secs: u32,
    ) -> Self {
        Self {
            http,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            access_key_id: access_key_id.to_owned(),
            access_key_secret: access_key_secret.to_owned(),
            role_arn: role_arn.to_owned(),
            duration_secs,
            cached: Arc::default(),
        }
    }

    /// Valid temporary credentials, from the cache or a new `AssumeRole` call.
    pub async fn credentials(&self, now_secs: i64) -> Result<OssCredentials, StorageError> {
        let mut cached = self.cached.lock().await;
        if let Some((creds, expires)) = cached.as_ref() {
            if now_secs < expires - RENEW_BEFORE_SECS {
                return Ok(creds.clone());
            }
        }
        let (creds, expires) = self.assume_role(now_secs).await?;
        *cached = Some((creds.clone(), expires));
        Ok(creds)
    }

    async fn assume_role(&self, now_secs: i64) -> Result<(OssCredentials, i64), StorageError> {
        let mut params: BTreeMap<&str, String> = BTreeMap::new();
        params.insert("Action", "AssumeRole".into());
        params.insert("Format", "JSON".into());
        params.insert("Version", "2015-04-01".into());
        params.insert("AccessKeyId", self.access_key_id.clone());
        params.insert("SignatureMethod", "HMAC-SHA1".into());
        params.insert("SignatureVersion", "1.0".into());
        params.insert("SignatureNonce", uuid::Uuid::new_v4().to_string());
        params.insert("Timestamp", UtcTime::from_unix(now_secs).iso8601());
        params.insert("RoleArn", self.role_arn.clone());
        params.insert("RoleSessionName", "huddle".into());
        params.insert("DurationSeconds", self.duration_secs.to_string());
        let signature = rpc_signature("GET", &params, &self.access_key_secret);
        let url = format!(
            "{}/?{}&Signature={}",
            self.endpoint,
            canonical_query(&params),
            query_encode(&signature)
        );
        let unavailable = |what: String| StorageError::Provider(format!("STS AssumeRole: {what}"));
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| unavailable(e.without_url().to_string()))?; // the URL is signed
        let status = response.status();
        let body: AssumeRoleResponse = response.json().await.map_err(|e| {
            unavailable(format!(
                "HTTP {status}, unreadable answer: {}",
                e.without_url()
            ))
        })?;
        let creds = body.credentials.ok_or_else(|| {
            unavailable(format!(
                "HTTP {status}: {} {}",
                body.code.unwrap_or_default(),
                body.message.unwrap_or_default()
            ))
        })?;
        let expires = UtcTime::parse_iso8601(&creds.expiration)
            .ok_or_else(|| unavailable(format!("bad Expiration {:?}", creds.expiration)))?;
        Ok((
            OssCredentials {
                access_key_id: creds.access_key_id,
                access_key_secret: creds.access_key_secret,
                security_token: Some(creds.security_token),
            },
            expires,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Alibaba Cloud's RPC signature documentation
    /// (DescribeRegions, AccessKey `testid` / `testsecret`).
    #[test]
    fn documentation_example_signature() {
        let mut params: BTreeMap<&str, String> = BTreeMap::new();
        params.insert("AccessKeyId", "testid".into());
        params.insert("Action", "DescribeRegions".into());
        params.insert("Format", "XML".into());
        params.insert("SignatureMethod", "HMAC-SHA1".into());
        params.insert(
            "SignatureNonce",
            "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf".into(),
        );
        params.insert("SignatureVersion", "1.0".into());
        params.insert("Timestamp", "2016-02-23T12:46:24Z".into());
        params.insert("Version", "2014-05-26".into());
        assert_eq!(
            rpc_signature("GET", &params, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }
}
