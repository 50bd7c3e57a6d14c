//! `POST /aliyun/image/upload` on the three stores, the local store's PUT and
//! GET, and `POST /push/{jPushId}` with offline delivery through JPush.

use std::time::Duration;

use huddle::config::{JPushConfig, OssConfig, PushProviderConfig, S3Config, Secret, StorageConfig};
use serde_json::{json, Value};

use crate::fakes::{FakeService, Reply};
use crate::helpers::*;

/// The smallest JPEG header the store recognises, padded to `len` bytes.
fn jpeg(len: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.resize(len.max(4), 0x42);
    bytes
}

async fn upload_ticket(app: &TestApp, s: &Session, dir: &str) -> Value {
    app.post("/aliyun/image/upload")
        .user(s)
        .param("imageDir", dir)
        .send()
        .await
        .ok()
        .clone()
}

async fn put(app: &TestApp, address: &str, content_type: &str, body: Vec<u8>) -> Resp {
    send(
        app.client
            .put(address)
            .header("Content-Type", content_type)
            .body(body),
    )
    .await
}

#[actix_web::test]
async fn local_uploads_are_presigned_checked_stored_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_owned();
    let app = spawn_huddle_with(|c| {
        c.services.storage = StorageConfig::Local { dir: path };
        c.services.max_image_bytes = 64 * 1024;
    })
    .await;
    let a = app.user("13800500001", "Uploader").await;

    let t = upload_ticket(&app, &a, "cover").await;
    assert_keys(&t, &["uploadAddress", "imageId", "imageURL"]);
    assert!(hex32(&t["imageId"]));
    let image_id = t["imageId"].as_str().unwrap();
    let key = format!("image/{}/cover/{image_id}.jpg", a.uid);
    assert_eq!(t["imageURL"], app.url(&format!("/{key}")));
    let address = t["uploadAddress"].as_str().unwrap().to_owned();
    assert!(
        address.starts_with(&app.url(&format!("/upload/{key}?Expires="))),
        "{address}"
    );

    // Nothing is there yet.
    let missing = send(app.client.get(t["imageURL"].as_str().unwrap())).await;
    missing.protocol(404, "Not Found");

    // Wrong content type, not an image, too large: refused, nothing stored.
    put(&app, &address, "text/html", jpeg(100))
        .await
        .protocol(415, "Unsupported Media Type");
    put(
        &app,
        &address,
        "image/jpeg",
        b"<html>not an image</html>".to_vec(),
    )
    .await
    .protocol(415, "Unsupported Media Type");
    put(&app, &address, "image/jpeg", jpeg(64 * 1024 + 1))
        .await
        .protocol(413, "Payload Too Large");
    // A tampered signature, another key under the same signature.
    let tampered = address.replace("Signature=", "Signature=00");
    put(&app, &tampered, "image/jpeg", jpeg(100))
        .await
        .protocol(403, "Forbidden");
    let other_key = address.replace("/cover/", "/avatar/");
    put(&app, &other_key, "image/jpeg", jpeg(100))
        .await
        .protocol(403, "Forbidden");
    let missing = send(app.client.get(t["imageURL"].as_str().unwrap())).await;
    missing.protocol(404, "Not Found");

    // The real upload.
    let bytes = jpeg(2048);
    put(&app, &address, "image/jpeg", bytes.clone()).await.ok();
    let got = app
        .client
        .get(t["imageURL"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/jpeg");
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    assert!(std::path::Path::new(&format!("{}/{key}", dir.path().display())).exists());

    // The address expires.
    let late = upload_ticket(&app, &a, "avatar").await;
    app.clock.advance(16 * 60 * 1000);
    put(
        &app,
        late["uploadAddress"].as_str().unwrap(),
        "image/png",
        b"\x89PNG\r\n\x1a\n0000".to_vec(),
    )
    .await
    .protocol(403, "Forbidden");

    // imageDir must be one of the seed's.
    let bad = app
        .post("/aliyun/image/upload")
        .user(&a)
        .param("imageDir", "../etc")
        .send()
        .await;
    assert!(bad.protocol(400, "Params Not Valid").contains("imageDir"));
    let none = app.post("/aliyun/image/upload").user(&a).send().await;
    none.protocol(400, "Params Not Valid");
    // Keys outside the pattern are not even looked at.
    send(
        app.client
            .put(app.url("/upload/image/etc/passwd/x.jpg?Expires=1&Signature=00"))
            .header("Content-Type", "image/jpeg")
            .body(jpeg(10)),
    )
    .await
    .protocol(400, "Params Not Valid");
}

#[actix_web::test]
async fn s3_addresses_are_sigv4_presigned_for_the_object_key() {
    let app = spawn_huddle_with(|c| {
        c.services.storage = StorageConfig::S3(S3Config {
            endpoint: "https://s3.us-east-1.amazonaws.com".into(),
            region: "us-east-1".into(),
            bucket: "huddle-images".into(),
            path_style: false,
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        });
        c.services.storage_public_url = Some("https://cdn.example.com".into());
    })
    .await;
    let a = app.user("13800500002", "S3").await;
    let t = upload_ticket(&app, &a, "avatar").await;
    let key = format!(
        "image/{}/avatar/{}.jpg",
        a.uid,
        t["imageId"].as_str().unwrap()
    );
    assert_eq!(t["imageURL"], format!("https://cdn.example.com/{key}"));
    let address = url::Url::parse(t["uploadAddress"].as_str().unwrap()).unwrap();
    assert_eq!(
        address.host_str(),
        Some("huddle-images.s3.us-east-1.amazonaws.com")
    );
    assert_eq!(address.path(), format!("/{key}"));
    let q: std::collections::HashMap<_, _> = address.query_pairs().into_owned().collect();
    assert_eq!(q["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(q["X-Amz-Expires"], "900");
    assert_eq!(q["X-Amz-SignedHeaders"], "host");
    assert!(q["X-Amz-Credential"].starts_with("AKIAIOSFODNN7EXAMPLE/"));
    assert!(q["X-Amz-Credential"].ends_with("/us-east-1/s3/aws4_request"));
    assert_eq!(q["X-Amz-Signature"].len(), 64);
    // The server does not take uploads itself with an external store.
    send(
        app.client
            .put(app.url(&format!("/upload/{key}?Expires=1&Signature=00")))
            .header("Content-Type", "image/jpeg")
            .body(jpeg(10)),
    )
    .await
    .protocol(404, "Not Found");
}

#[actix_web::test]
async fn oss_addresses_carry_sts_credentials_fetched_once_and_cached() {
    let sts = FakeService::start().await;
    sts.on(
        "/",
        Reply::json(
            200,
            json!({
                "RequestId": "6894B13B-6D71-4EF5-88FA-F32781734A7F",
                "AssumedRoleUser": {"Arn": "acs:ram::123:role/uploader/huddle", "AssumedRoleId": "34458433936495126:huddle"},
                "Credentials": {
                    "AccessKeyId": "STS.L4aBSCSJVMuKg5U1vFDw",
                    "AccessKeySecret": "wyLTSmsyPGP1ohvvw8xYgB29dlGI8KMiH2pKCNZ9",
                    "SecurityToken": "CAESrAIIARKAAShQquMnLIlbvEcIxO6wCoqJufs8sWwieUxu45hS9AvKNEte8KRUWiJWJ6Y+YHAPgNwi7yfRecMFydL2uPOgBI7LDio0RkbYLmJfIxHM2nGBPdml7kYEOXmJp2aDhbvvwVYIyt/8iES/R6N208wQh0Pk2bu+/9dvalp6wOHF4gkFGhhTVFMuTDRhQlNDU0pWTXVLZzVVMXZGRHciBTQzMjc0KgVhbGljZTCpnJjwySk6BlJzYU1ENUJuCgExGmkKBUFsbG93Eh8KDEFjdGlvbkVxdWFscxIGQWN0aW9uGgcKBW9zczoqEj8KDlJlc291cmNlRXF1YWxzEghSZXNvdXJjZRojCiFhY3M6b3NzOio6NDMyNzQ6c2FtcGxlYm94L2FsaWNlLyo=",
                    "Expiration": "2099-01-01T00:00:00Z"
                }
            }),
        ),
    );
    let sts_url = sts.url();
    let app = spawn_huddle_with(move |c| {
        c.services.storage = StorageConfig::Oss(OssConfig {
            endpoint: "https://oss-cn-shenzhen.aliyuncs.com".into(),
            bucket: "chaoley".into(),
            access_key_id: "LTAI5tRAMUSER".into(),
            access_key_secret: Secret::new("ram-user-secret"),
            sts_role_arn: Some("acs:ram::123:role/uploader".into()),
            sts_endpoint: sts_url,
            sts_duration_secs: 3600,
        });
        c.services.storage_public_url = Some("https://cdn.chaoley.com".into());
    })
    .await;
    let a = app.user("13800500003", "OSS").await;
    let t = upload_ticket(&app, &a, "cover").await;
    let key = format!(
        "image/{}/cover/{}.jpg",
        a.uid,
        t["imageId"].as_str().unwrap()
    );
    assert_eq!(t["imageURL"], format!("https://cdn.chaoley.com/{key}"));
    let address = url::Url::parse(t["uploadAddress"].as_str().unwrap()).unwrap();
    assert_eq!(
        address.host_str(),
        Some("chaoley.oss-cn-shenzhen.aliyuncs.com")
    );
    assert_eq!(address.path(), format!("/{key}"));
    let q: std::collections::HashMap<_, _> = address.query_pairs().into_owned().collect();
    assert_eq!(q["OSSAccessKeyId"], "STS.L4aBSCSJVMuKg5U1vFDw");
    assert!(q["security-token"].starts_with("CAESrAIIARKAAShQ"));
    let expires: i64 = q["Expires"].parse().unwrap();
    assert_eq!(expires, app.clock_now() / 1000 + 900);
    // The signature is OSS V1 over the PUT with the image content type and the token.
    let expected = huddle::clients::storage::oss::hmac_sha1_base64(
        "wyLTSmsyPGP1ohvvw8xYgB29dlGI8KMiH2pKCNZ9",
        &format!(
            "PUT\n\nimage/jpeg\n{expires}\n/chaoley/{key}?security-token={}",
            q["security-token"]
        ),
    );
    assert_eq!(q["Signature"], expected);

    // The AssumeRole call was signed with the RAM user's key.
    let calls = sts.requests("/");
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.method, "GET");
    assert_eq!(call.query_param("Action").as_deref(), Some("AssumeRole"));
    assert_eq!(
        call.query_param("AccessKeyId").as_deref(),
        Some("LTAI5tRAMUSER")
    );
    assert_eq!(
        call.query_param("RoleArn").as_deref(),
        Some("acs:ram::123:role/uploader")
    );
    assert_eq!(call.query_param("DurationSeconds").as_deref(), Some("3600"));
    let mut params: std::collections::BTreeMap<&str, String> = std::collections::BTreeMap::new();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(call.query.as_bytes())
        .into_owned()
        .collect();
    for (k, v) in &pairs {
        if k != "Signature" {
            params.insert(k.as_str(), v.clone());
        }
    }
    assert_eq!(
        call.query_param("Signature").unwrap(),
        huddle::clients::storage::sts::rpc_signature("GET", &params, "ram-user-secret")
    );

    // A second address reuses the cached credentials.
    upload_ticket(&app, &a, "room").await;
    assert_eq!(sts.requests("/").len(), 1);
}

#[actix_web::test]
async fn sts_failures_answer_503_not_a_broken_address() {
    let sts = FakeService::start().await;
    sts.on(
        "/",
        Reply::json(
            403,
            json!({"Code": "NoPermission", "Message": "You are not authorized"}),
        ),
    );
    let sts_url = sts.url();
    let app = spawn_huddle_with(move |c| {
        c.services.storage = StorageConfig::Oss(OssConfig {
            endpoint: "https://oss-cn-shenzhen.aliyuncs.com".into(),
            bucket: "chaoley".into(),
            access_key_id: "id".into(),
            access_key_secret: Secret::new("secret"),
            sts_role_arn: Some("acs:ram::123:role/none".into()),
            sts_endpoint: sts_url,
            sts_duration_secs: 900,
        });
    })
    .await;
    let a = app.user("13800500004", "OSS").await;
    let res = app
        .post("/aliyun/image/upload")
        .user(&a)
        .param("imageDir", "avatar")
        .send()
        .await;
    res.protocol(503, "Service Unavailable");
}

fn jpush_config(base: String) -> PushProviderConfig {
    PushProviderConfig::JPush(JPushConfig {
        app_key: "7d431e42dfa6a6d693ac2d04".into(),
        master_secret: Secret::new("5e987ac6d2e04d95a9d8f0d1"),
        base_url: base,
        apns_production: false,
        timeout_ms: 2000,
    })
}

#[actix_web::test]
async fn offline_users_get_jpush_notifications_on_their_latest_devices() {
    let jpush = FakeService::start().await;
    jpush.on(
        "/v3/push",
        Reply::json(200, json!({"sendno": "0", "msg_id": "54043192223"})),
    );
    let base = jpush.url();
    let app = spawn_huddle_with(move |c| c.services.push = jpush_config(base)).await;
    let sender = app.user("13800500011", "Sender").await;
    let phone = app.user("13800500012", "Receiver").await;
    let other = app.user("13800500013", "Other").await;

    // Bind: iOS id then a newer iOS id (latest wins), and an Android id.
    for (id, client) in [
        ("1a0018970a5a1b2c3d4", "1"),
        ("1a0018970a5a9999999", "1"),
        ("160a3797c8e7f1a2b3c", "2"),
    ] {
        let r = app
            .post(&format!("/push/{id}"))
            .user(&phone)
            .header("Client-Type", client)
            .send()
            .await;
        assert_eq!(r.ok(), &json!({}));
    }
    // An id taken over by another user leaves the first one.
    app.post("/push/0a0000000000000000")
        .user(&phone)
        .header("Client-Type", "0")
        .send()
        .await
        .ok();
    app.post("/push/0a0000000000000000")
        .user(&other)
        .header("Client-Type", "0")
        .send()
        .await
        .ok();
    // Bad ids.
    let long = "x".repeat(129);
    for bad in [long.as_str(), "has%20space", "semi;colon"] {
        app.post_as(&phone, &format!("/push/{bad}"))
            .await
            .protocol(400, "Params Not Valid");
    }

    // The receiver has no socket: a card message is pushed.
    app.post_as(&sender, &format!("/user/{}/card", phone.uid))
        .await
        .ok();
    assert!(
        wait_for(|| async { !jpush.requests("/v3/push").is_empty() }).await,
        "JPush called"
    );
    let calls = jpush.requests("/v3/push");
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.method, "POST");
    assert_eq!(
        call.header("authorization"),
        Some("Basic N2Q0MzFlNDJkZmE2YTZkNjkzYWMyZDA0OjVlOTg3YWM2ZDJlMDRkOTVhOWQ4ZjBkMQ==")
    );
    assert!(call
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let body: Value = serde_json::from_str(&call.body).unwrap();
    assert_eq!(body["platform"], json!(["android", "ios"]));
    let mut ids: Vec<String> = body["audience"]["registration_id"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec!["160a3797c8e7f1a2b3c", "1a0018970a5a9999999"],
        "latest iOS id only; web id went to another user"
    );
    assert_eq!(body["options"]["apns_production"], false);
    let n = &body["notification"];
    assert_eq!(n["android"]["title"], n["ios"]["alert"]["title"]);
    assert!(!n["android"]["alert"].as_str().unwrap().is_empty());
    assert!(n["android"]["extras"]["url"]
        .as_str()
        .unwrap()
        .starts_with("chaoqer://"));
    assert_eq!(n["ios"]["badge"], 1);
    assert_eq!(n["ios"]["sound"], "default");

    // With a live socket, no push: the socket gets it.
    let mut ws = app.ws(&phone).await;
    app.post_as(&other, &format!("/user/{}/card", phone.uid))
        .await
        .ok();
    ws.next_of("message.new").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        jpush.requests("/v3/push").len(),
        1,
        "online users are not pushed"
    );
}
