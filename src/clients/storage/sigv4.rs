//! AWS Signature Version 4, query-string presigning (`X-Amz-*` parameters),
//! as S3 and S3-compatible stores accept it for presigned `PUT`/`GET` URLs.
//! Reference: AWS S3 API, "Authenticating Requests: Using Query Parameters
//! (AWS Signature Version 4)"; the test reproduces that page's example.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::time::UtcTime;

/// Credentials and where the bucket lives.
#[derive(Debug, Clone)]
pub struct S3Target {
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// Host the request goes to, e.g. `examplebucket.s3.amazonaws.com`
    /// (virtual-hosted style) or `minio.local:9000` (path style).
    pub host: String,
    /// `https` or `http`.
    pub scheme: String,
    /// `Some(bucket)` for path-style addressing (`/bucket/key`); `None` when
    /// the bucket is part of `host`.
    pub path_style_bucket: Option<String>,
}

/// What to presign.
#[derive(Debug, Clone)]
pub struct PresignRequest<'a> {
    /// HTTP method (`PUT`, `GET`).
    pub method: &'a str,
    /// Object key, e.g. `image/<uid>/avatar/<id>.jpg`.
    pub key: &'a str,
    /// Signing time (Unix seconds).
    pub now_secs: i64,
    /// Validity (seconds, 1..=604800).
    pub expires_secs: u32,
}

/// A presigned URL and its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    /// The full URL to send the request to.
    pub url: String,
    /// The hex signature (also in the URL).
    pub signature: String,
}

/// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay,
/// everything else is `%XX` (upper case); `/` stays only when `keep_slash`.
pub fn uri_encode(input: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for b in input.bytes() {
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        if unreserved || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Presigns `req` for `target`.
pub fn presign(target: &S3Target, req: &PresignRequest<'_>) -> Presigned {
    let time = UtcTime::from_unix(req.now_secs);
    let (date, amz_date) = (time.date_stamp(), time.amz_date());
    let scope = format!("{date}/{}/s3/aws4_request", target.region);
    let path = match &target.path_style_bucket {
        Some(bucket) => format!(
            "/{}/{}",
            uri_encode(bucket, false),
            uri_encode(req.key, true)
        ),
        None => format!("/{}", uri_encode(req.key, true)),
    };
    let credential = format!("{}/{scope}", target.access_key);
    // Already in code-point order, as the canonical query string requires.
    let query = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_owned()),
        ("X-Amz-Credential", credential),
        ("X-Amz-Date", amz_date.clone()),
        ("X-Amz-Expires", req.expires_secs.to_string()),
        ("X-Amz-SignedHeaders", "host".to_owned()),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", uri_encode(v, false)))
    .collect::<Vec<_>>()
    .join("&");
    let canonical_request = format!(
        "{}\n{path}\n{query}\nhost:{}\n\nhost\nUNSIGNED-PAYLOAD",
        req.method, target.host
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{}", target.secret_key).as_bytes(), &date);
    let k_region = hmac(&k_date, &target.region);
    let k_service = hmac(&k_region, "s3");
    let k_signing = hmac(&k_service, "aws4_request");
    let signature = hex::encode(hmac(&k_signing, &string_to_sign));
    Presigned {
        url: format!(
            "{}://{}{path}?{query}&X-Amz-Signature={signature}",
            target.scheme, target.host
        ),
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws_example() -> S3Target {
        S3Target {
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
            host: "examplebucket.s3.amazonaws.com".into(),
            scheme: "https".into(),
            path_style_bucket: None,
        }
    }

    /// The example of the AWS documentation page on query-parameter signing:
    /// GET test.txt, 20130524T000000Z, 86400 s.
    #[test]
    fn reproduces_the_aws_documentation_example() {
        let signed = presign(
            &aws_example(),
            &PresignRequest {
                method: "GET",
                key: "test.txt",
                now_secs: 1_369_353_600,
                expires_secs: 86_400,
            },
        );
        assert_eq!(
            signed.signature,
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
        assert_eq!(
            signed.url,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn the_method_key_and_path_style_change_the_signature() {
        let base = PresignRequest {
            method: "GET",
            key: "test.txt",
            now_secs: 1_369_353_600,
            expires_secs: 86_400,
        };
        let get = presign(&aws_example(), &base).signature;
        let put = presign(
            &aws_example(),
            &PresignRequest {
                method: "PUT",
                ..base.clone()
            },
        );
        assert_ne!(put.signature, get);
        let path_style = S3Target {
            host: "s3.us-east-1.amazonaws.com".into(),
            path_style_bucket: Some("examplebucket".into()),
            ..aws_example()
        };
        let signed = presign(
            &path_style,
            &PresignRequest {
                key: "image/a b/x.jpg",
                ..base
            },
        );
        assert!(
            signed
                .url
                .starts_with("https://s3.us-east-1.amazonaws.com/examplebucket/image/a%20b/x.jpg?"),
            "{}",
            signed.url
        );
    }

    #[test]
    fn encodes_like_sigv4() {
        assert_eq!(uri_encode("a b/c~d_e.f-g", true), "a%20b/c~d_e.f-g");
        assert_eq!(uri_encode("a/b+c=d", false), "a%2Fb%2Bc%3Dd");
        assert_eq!(uri_encode("é", false), "%C3%A9");
    }
}
