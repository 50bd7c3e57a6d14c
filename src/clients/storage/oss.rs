//! Aliyun OSS signature version 1 (HMAC-SHA1) and its presigned URLs
//! (`Expires`, `OSSAccessKeyId`, `Signature`, and `security-token` for STS
//! credentials). Reference: the OSS API documentation "在URL中包含签名" /
//! "Include signatures in URLs"; the tests reproduce vectors from Aliyun's
//! published SDK tests (alibabacloud-oss-python-sdk-v2, `tests/unit/signer/test_v1.py`).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Credentials an address is signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssCredentials {
    /// AccessKey id (`STS.…` for temporary credentials).
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: String,
    /// STS security token, for temporary credentials.
    pub security_token: Option<String>,
}

/// `base64(HMAC-SHA1(key, data))`, the primitive of OSS V1 and of Aliyun's RPC APIs.
pub fn hmac_sha1_base64(key: &str, data: &str) -> String {
    let mut mac = match Hmac::<Sha1>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA1 takes keys of any length"),
    };
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// What an OSS V1 signature covers.
#[derive(Debug, Clone)]
pub struct StringToSign<'a> {
    /// `PUT`, `GET`, ...
    pub method: &'a str,
    /// `Content-MD5` header ("" when absent).
    pub content_md5: &'a str,
    /// `Content-Type` header ("" when absent).
    pub content_type: &'a str,
    /// `Date` header, or the `Expires` value for a presigned URL.
    pub date: &'a str,
    /// `x-oss-*` headers, lower-case names.
    pub oss_headers: &'a [(&'a str, &'a str)],
    /// `/bucket/key`.
    pub resource: &'a str,
    /// Signed sub-resources and query parameters (`security-token`, `versionId`, `acl`...).
    pub subresources: &'a [(&'a str, Option<&'a str>)],
}

impl StringToSign<'_> {
    /// The text that is signed.
    pub fn text(&self) -> String {
        let mut headers: Vec<_> = self.oss_headers.to_vec();
        headers.sort();
        let mut out = format!(
            "{}\n{}\n{}\n{}\n",
            self.method, self.content_md5, self.content_type, self.date
        );
        for (name, value) in headers {
            out.push_str(&format!("{name}:{value}\n"));
        }
        out.push_str(self.resource);
        let mut subs: Vec<_> = self.subresources.to_vec();
        subs.sort();
        for (i, (name, value)) in subs.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(name);
            if let Some(v) = value {
                out.push('=');
                out.push_str(v);
            }
        }
        out
    }
}

/// Percent-encoding for query values (RFC 3986 unreserved characters stay).
pub fn query_encode(value: &str) -> String {
    super::sigv4::uri_encode(value, false)
}

/// A presigned PUT address for `key` in `bucket` at `host`, valid until
/// `expires` (Unix seconds). The client must send `Content-Type: content_type`.
pub fn presign_put(
    scheme: &str,
    host: &str,
    bucket: &str,
    key: &str,
    content_type: &str,
    expires: i64,
    credentials: &OssCredentials,
) -> String {
    let expires_text = expires.to_string();
    let resource = format!("/{bucket}/{key}");
    let token = credentials.security_token.as_deref();
    let subresources: Vec<(&str, Option<&str>)> = token
        .map(|t| ("security-token", Some(t)))
        .into_iter()
        .collect();
    let signature = hmac_sha1_base64(
        &credentials.access_key_secret,
        &StringToSign {
            method: "PUT",
            content_md5: "",
            content_type,
            date: &expires_text,
            oss_headers: &[],
            resource: &resource,
            subresources: &subresources,
        }
        .text(),
    );
    let mut url = format!(
        "{scheme}://{bucket}.{host}/{}?Expires={expires_text}&OSSAccessKeyId={}&Signature={}",
        super::sigv4::uri_encode(key, true),
        query_encode(&credentials.access_key_id),
        query_encode(&signature)
    );
    if let Some(t) = token {
        url.push_str(&format!("&security-token={}", query_encode(t)));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `test_auth_header_1`: a header-signed PUT with x-oss headers.
    #[test]
    fn sdk_vector_header_signature() {
        let sts = StringToSign {
            method: "PUT",
            content_md5: "eB5eJF1ptWaXm4bijSPyxw==",
            content_type: "text/html",
            date: "Wed, 28 Dec 2022 10:27:41 GMT",
            oss_headers: &[
                ("x-oss-meta-magic", "abracadabra"),
                ("x-oss-date", "Wed, 28 Dec 2022 10:27:41 GMT"),
                ("x-oss-meta-author", "alice"),
            ],
            resource: "/examplebucket/nelson",
            subresources: &[],
        };
        assert_eq!(
            sts.text(),
            "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson"
        );
        assert_eq!(
            hmac_sha1_base64("sk", &sts.text()),
            "kSHKmLxlyEAKtZPkJhG9bZb5k7M="
        );
    }

    /// `test_auth_query` and `test_auth_query_with_token`: presigned URLs, the
    /// second with an STS security token (signed as a sub-resource).
    #[test]
    fn sdk_vectors_query_signature_with_and_without_security_token() {
        let plain = StringToSign {
            method: "GET",
            content_md5: "",
            content_type: "",
            date: "1699807420",
            oss_headers: &[],
            resource: "/bucket/key",
            subresources: &[("versionId", Some("versionId"))],
        };
        assert_eq!(
            query_encode(&hmac_sha1_base64("sk", &plain.text())),
            "dcLTea%2BYh9ApirQ8o8dOPqtvJXQ%3D"
        );
        let with_token = StringToSign {
            method: "GET",
            content_md5: "",
            content_type: "",
            date: "1699808204",
            oss_headers: &[],
            resource: "/bucket/key+123",
            subresources: &[
                ("versionId", Some("versionId")),
                ("security-token", Some("token")),
            ],
        };
        assert_eq!(
            with_token.text(),
            "GET\n\n\n1699808204\n/bucket/key+123?security-token=token&versionId=versionId"
        );
        assert_eq!(
            query_encode(&hmac_sha1_base64("sk", &with_token.text())),
            "jzKYRrM5y6Br0dRFPaTGOsbrDhY%3D"
        );
    }

    #[test]
    fn presigned_put_carries_every_parameter_and_verifies() {
        let creds = OssCredentials {
            access_key_id: "STS.NUWSLyUZTESoazaY4hX5ZheQW".into(),
            access_key_secret: "secret".into(),
            security_token: Some("CAIS+/x=".into()),
        };
        let key =
            "image/861da0739b7542e69b81fe4baebfd816/cover/56da4708cf5348708c775f0cb09d7520.jpg";
        let url = presign_put(
            "https",
            "oss-cn-shenzhen.aliyuncs.com",
            "chaoley",
            key,
            "image/jpeg",
            1_608_622_430,
            &creds,
        );
        assert!(url.starts_with(&format!("https://chaoley.oss-cn-shenzhen.aliyuncs.com/{key}?Expires=1608622430&OSSAccessKeyId=STS.NUWSLyUZTESoazaY4hX5ZheQW&Signature=")));
        assert!(url.ends_with("&security-token=CAIS%2B%2Fx%3D"), "{url}");
        let expected = hmac_sha1_base64(
            "secret",
            &format!("PUT\n\nimage/jpeg\n1608622430\n/chaoley/{key}?security-token=CAIS+/x="),
        );
        assert!(url.contains(&format!("Signature={}", query_encode(&expected))));
    }
}
