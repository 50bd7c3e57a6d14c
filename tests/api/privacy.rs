//! Secrets and privacy (hardening issue 8).
//!
//! - **Logs**: the real binary, JSON logs at the default `info` level, every
//!   secret-bearing setting set to a recognisable value and its outside
//!   services faked (an SMS gateway, JPush, Aliyun STS; WeChat unreachable so
//!   its failure is logged), drives a flow through every secret: captcha and
//!   login for real (non-test) numbers, profiles, a club, a room and its voice
//!   token, a WebSocket with `uid`/`accessToken` in the query, refused
//!   requests (bad sign, wrong and spent captchas, replays, refused upgrades),
//!   an upload ticket with STS credentials, a push, H5 sessions, share views
//!   and pages, logout. Nothing the run wrote (stdout and stderr) may hold a
//!   captcha code, an access token or secret, an `Authorization` value, a
//!   `sign` that was sent, a voice/H5/STS token, a phone number, or a
//!   configured secret. Twice: with the HTTP SMS gateway, and with the `log`
//!   provider, whose codes go to `debug` on `huddle::clients::sms` (the run enables
//!   that to read them; only those debug lines may hold a code).
//! - **Phone numbers**: in a multi-user world (host, member, stranger, card
//!   holders, invitee, event guest and subscriber, blocked user, H5 visitor),
//!   no response body, share page or WebSocket frame anyone receives holds
//!   another user's number in any format. (`authz.rs` applies the same check
//!   to every cell of the authorization matrix.)

use base64::Engine;
use huddle::auth::signature::{self, DEFAULT_ACCESS_SECRET};
use huddle_actors::{Clock, SystemClock};
use reqwest::Method;
use serde_json::{json, Value};

use crate::fakes::{FakeService, Reply};
use crate::helpers::*;
use crate::process::{huddle, Running};
use crate::ws::WsClient;

// ---------------------------------------------------------------------------
// Looking for values in text
// ---------------------------------------------------------------------------

/// The ways a national `mobile` (country code 86) may be written.
pub(crate) fn phone_forms(mobile: &str) -> Vec<String> {
    let mut forms = vec![mobile.to_owned()]; // also inside 86…, +86…, 0086…
    if mobile.len() == 11 {
        let (a, b, c) = (&mobile[..3], &mobile[3..7], &mobile[7..]);
        forms.push(format!("{a} {b} {c}"));
        forms.push(format!("{a}-{b}-{c}"));
    }
    forms
}

/// The first form of a number in `mobiles` other than `own` that `text`
/// holds.
pub(crate) fn other_number_in(text: &str, own: Option<&str>, mobiles: &[String]) -> Option<String> {
    mobiles
        .iter()
        .filter(|m| Some(m.as_str()) != own)
        .flat_map(|m| phone_forms(m))
        .find(|form| text.contains(form.as_str()))
}

/// What must not appear, and how to look for it.
struct Needle {
    what: String,
    value: String,
    /// A short number (a captcha code): counts only where no digit touches it.
    code: bool,
}

fn needle(what: impl Into<String>, value: impl Into<String>) -> Needle {
    Needle {
        what: what.into(),
        value: value.into(),
        code: false,
    }
}

impl Needle {
    fn found_in(&self, text: &str) -> bool {
        if !self.code {
            return text.contains(&self.value);
        }
        text.match_indices(&self.value).any(|(i, _)| {
            let before = text[..i].bytes().next_back();
            let after = text[i + self.value.len()..].bytes().next();
            !before.is_some_and(|b| b.is_ascii_digit())
                && !after.is_some_and(|b| b.is_ascii_digit())
        })
    }
}

/// A log line without the fields where a 6-digit run is chance (the
/// microseconds of the time stamp, the latency's decimals).
fn scrubbed(line: &str) -> String {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(mut m)) => {
            m.remove("timestamp");
            m.remove("latency_ms");
            Value::Object(m).to_string()
        }
        _ => line.to_owned(),
    }
}

#[test]
fn the_needles_find_what_they_look_for() {
    let code = Needle {
        code: true,
        ..needle("code", "123456")
    };
    assert!(code.found_in(r#"{"code":"123456"}"#));
    assert!(code.found_in("code=123456 to=+86"));
    assert!(!code.found_in("1712345678901"));
    assert!(!code.found_in("a0.1234567"));
    let mobiles = vec!["13812345678".to_owned(), "15900001111".to_owned()];
    for text in [
        "+8613812345678",
        "8613812345678",
        r#"{"mobile":"13812345678"}"#,
        "138 1234 5678",
        "138-1234-5678",
    ] {
        assert!(
            other_number_in(text, Some("15900001111"), &mobiles).is_some(),
            "{text}"
        );
        assert_eq!(other_number_in(text, Some("13812345678"), &mobiles), None);
    }
    assert_eq!(
        other_number_in("+86 138****5678", None, &mobiles),
        None,
        "masked is fine"
    );
}

// ---------------------------------------------------------------------------
// Logs: the real binary
// ---------------------------------------------------------------------------

/// Real numbers (not test numbers): each gets an SMS with a random code.
const ALICE: &str = "13812345678";
const BOB: &str = "15987654321";

/// The configured secrets, each recognisable.
const JWT_SECRET: &str = "jwt-secret-4c1d6e0f-never-logged";
const SMS_AUTH_KEY: &str = "sms-auth-key-9a8b7c6d";
const SMS_URL_KEY: &str = "sms-url-key-1f2e3d4c";
const AGORA_APP_ID: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const AGORA_CERTIFICATE: &str = "f1e2d3c4b5a697887766554433221100";
const OSS_KEY_ID: &str = "LTAI5tPrivacyKeyId";
const OSS_KEY_SECRET: &str = "oss-key-secret-77aa88bb99cc";
const S3_SECRET: &str = "s3-secret-access-key-5d5d5d";
const JPUSH_APP_KEY: &str = "7d431e42dfa6a6d693ac2d04";
const JPUSH_MASTER_SECRET: &str = "jpush-master-secret-3e3e3e";
const WECHAT_APP_SECRET: &str = "wechat-app-secret-6b6b6b";
/// What the fake STS hands out (temporary credentials: secrets too).
const STS_KEY_SECRET: &str = "sts-temp-secret-0c0c0c0c";
const STS_SECURITY_TOKEN: &str = "CAISsts-security-token-a1b2c3d4e5f6";
const WECHAT_OAUTH_CODE: &str = "oauth-code-0123abcd";
const JPUSH_ID: &str = "1a0018970a5a0b1c2d3";

/// Where the run's captcha codes come from.
enum Sms {
    /// The HTTP gateway (this fake); `HUDDLE_LOG` left at its default.
    Gateway(FakeSmsGateway),
    /// The `log` provider: read from its debug lines.
    Log,
}

/// A client of the running binary that signs like the app and remembers
/// every sign it sent.
struct Binary {
    base: String,
    client: reqwest::Client,
    signs: Vec<String>,
    last_ts: i64,
}

impl Binary {
    /// `params` with a fresh `ts` (never repeated) and `sign` under `secret`.
    fn signed(&mut self, params: &[(&str, &str)], secret: &str) -> Vec<(String, String)> {
        let ts = SystemClock.now_ms().max(self.last_ts + 1);
        self.last_ts = ts;
        let mut all: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.push(("ts".into(), ts.to_string()));
        all.sort();
        let sign = signature::sign(all.iter().map(|(k, v)| (k.as_str(), v.as_str())), secret);
        self.signs.push(sign.clone());
        all.push(("sign".into(), sign));
        all
    }

    /// Sends already signed parameters (query for GET, form otherwise).
    async fn send(
        &self,
        method: Method,
        path: &str,
        params: &[(String, String)],
        headers: &[(&str, String)],
    ) -> Resp {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        req = if method == Method::GET {
            req.query(params)
        } else {
            req.form(params)
        };
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        send(req).await
    }

    /// A call signed with the default secret (public and H5 routes).
    async fn public(
        &mut self,
        path: &str,
        params: &[(&str, &str)],
        headers: &[(&str, String)],
    ) -> Resp {
        let form = self.signed(params, DEFAULT_ACCESS_SECRET);
        self.send(Method::POST, path, &form, headers).await
    }

    /// A logged-in call of `s`.
    async fn user(
        &mut self,
        s: &Session,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
    ) -> Resp {
        let form = self.signed(params, &s.secret);
        self.send(method, path, &form, &[("Authorization", s.authorization())])
            .await
    }

    /// The signed `/ws` URL of `s` (credentials in the query).
    fn ws_url(&mut self, s: &Session) -> String {
        let form = self.signed(&[("accessToken", &s.token), ("uid", &s.uid)], &s.secret);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        format!("{}/ws?{query}", self.base.replacen("http://", "ws://", 1))
    }
}

/// Runs the flow against a fresh binary and checks everything it wrote.
async fn no_secret_in_the_log(sms: Sms) {
    let dir = tempfile::tempdir().unwrap();
    let sts = FakeService::start().await;
    sts.on(
        "/",
        Reply::json(
            200,
            json!({
                "RequestId": "6894B13B-6D71-4EF5-88FA-F32781734A7F",
                "Credentials": {
                    "AccessKeyId": "STS.PrivacyTempKeyId",
                    "AccessKeySecret": STS_KEY_SECRET,
                    "SecurityToken": STS_SECURITY_TOKEN,
                    "Expiration": "2099-01-01T00:00:00Z"
                }
            }),
        ),
    );
    let jpush = FakeService::start().await;
    // A refusal: its answer is logged (`push failed`), the credentials must not be.
    jpush.on(
        "/v3/push",
        Reply::json(
            400,
            json!({"error": {"code": 1011, "message": "cannot find user by this audience"}}),
        ),
    );

    let mut cmd = huddle();
    cmd.current_dir(dir.path())
        .env("HUDDLE_HTTP_ADDR", "127.0.0.1:0")
        .env("HUDDLE_LOG_FORMAT", "json")
        .env("HUDDLE_RATE_LIMITS", "off")
        .env("HUDDLE_JWT_SECRET", JWT_SECRET)
        .env("HUDDLE_AGORA_APP_ID", AGORA_APP_ID)
        .env("HUDDLE_AGORA_APP_CERTIFICATE", AGORA_CERTIFICATE)
        .env("HUDDLE_STORAGE", "oss")
        .env(
            "HUDDLE_OSS_ENDPOINT",
            "https://oss-cn-shenzhen.aliyuncs.com",
        )
        .env("HUDDLE_OSS_BUCKET", "huddle-privacy")
        .env("HUDDLE_OSS_ACCESS_KEY_ID", OSS_KEY_ID)
        .env("HUDDLE_OSS_ACCESS_KEY_SECRET", OSS_KEY_SECRET)
        .env("HUDDLE_OSS_STS_ROLE_ARN", "acs:ram::1:role/uploader")
        .env("HUDDLE_OSS_STS_ENDPOINT", sts.url())
        // not in use with oss, but configured: still never printed
        .env("HUDDLE_S3_ACCESS_KEY_ID", "AKIAPRIVACYKEYID")
        .env("HUDDLE_S3_SECRET_ACCESS_KEY", S3_SECRET)
        .env("HUDDLE_PUSH_PROVIDER", "jpush")
        .env("HUDDLE_JPUSH_APP_KEY", JPUSH_APP_KEY)
        .env("HUDDLE_JPUSH_MASTER_SECRET", JPUSH_MASTER_SECRET)
        .env("HUDDLE_JPUSH_BASE_URL", jpush.url())
        .env("HUDDLE_WECHAT_APP_ID", "wx0123456789abcdef")
        .env("HUDDLE_WECHAT_APP_SECRET", WECHAT_APP_SECRET)
        // nothing listens there: every WeChat call fails, and is logged
        .env("HUDDLE_WECHAT_API_BASE", "http://127.0.0.1:1")
        .env("HUDDLE_SMS_TEST_NUMBERS", "8613900000000:246810");
    match &sms {
        Sms::Gateway(gateway) => {
            cmd.env("HUDDLE_SMS_PROVIDER", "http")
                .env(
                    "HUDDLE_SMS_HTTP_URL",
                    format!("{}?apikey={SMS_URL_KEY}", gateway.url),
                )
                .env("HUDDLE_SMS_HTTP_AUTH", format!("Bearer {SMS_AUTH_KEY}"));
        }
        Sms::Log => {
            cmd.env("HUDDLE_SMS_PROVIDER", "log")
                .env("HUDDLE_LOG", huddle::clients::sms::LOG_FILTER_FOR_CODES);
        }
    }
    let mut run = Running::spawn(cmd, true);
    let addr: String = run.wait_for(|v| {
        (v["message"] == "listening").then(|| v["addr"].as_str().unwrap().to_owned())
    });
    let mut b = Binary {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        signs: Vec::new(),
        last_ts: 0,
    };
    let mut needles = vec![
        needle("JWT secret", JWT_SECRET),
        needle("SMS gateway Authorization", SMS_AUTH_KEY),
        needle("SMS gateway URL key", SMS_URL_KEY),
        needle("Agora certificate", AGORA_CERTIFICATE),
        needle("OSS AccessKey secret", OSS_KEY_SECRET),
        needle("S3 secret key", S3_SECRET),
        needle("JPush master secret", JPUSH_MASTER_SECRET),
        needle(
            "JPush Authorization",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{JPUSH_APP_KEY}:{JPUSH_MASTER_SECRET}")),
        ),
        needle("WeChat AppSecret", WECHAT_APP_SECRET),
        needle("WeChat OAuth code", WECHAT_OAUTH_CODE),
        needle("STS temporary secret", STS_KEY_SECRET),
        needle("STS security token", STS_SECURITY_TOKEN),
    ];
    for (who, mobile) in [("Alice", ALICE), ("Bob", BOB)] {
        for form in phone_forms(mobile) {
            needles.push(needle(format!("{who}'s number"), form));
        }
    }

    // -- captcha and login, real numbers ---------------------------------------
    let mut sessions = Vec::new();
    for mobile in [ALICE, BOB] {
        let res = b
            .public("/account/captcha", &[("mobile", mobile)], &[])
            .await;
        res.ok();
        let code = match &sms {
            Sms::Gateway(gateway) => gateway.last_code(mobile).expect("an SMS was sent"),
            Sms::Log => {
                let masked = huddle::clients::phone::Phone::parse("86", mobile)
                    .unwrap()
                    .masked();
                run.wait_for(|v| {
                    (v["target"] == "huddle::clients::sms" && v["to"] == masked.as_str())
                        .then(|| v["code"].as_str().map(str::to_owned))
                        .flatten()
                })
            }
        };
        needles.push(Needle {
            code: true,
            ..needle(format!("captcha code of {mobile}"), code.clone())
        });
        // a wrong code is refused
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        let res = b
            .public(
                "/account/login/captcha",
                &[("mobile", mobile), ("captcha", &wrong)],
                &[],
            )
            .await;
        assert_eq!(res.body["status"], 0, "{}", res.text);
        let res = b
            .public(
                "/account/login/captcha",
                &[("mobile", mobile), ("captcha", &code)],
                &[],
            )
            .await;
        let s = session_from(&res);
        // the code is spent
        let res = b
            .public(
                "/account/login/captcha",
                &[("mobile", mobile), ("captcha", &code)],
                &[],
            )
            .await;
        assert_eq!(res.body["status"], 0, "{}", res.text);
        needles.push(needle("access token", s.token.clone()));
        needles.push(needle("access secret", s.secret.clone()));
        needles.push(needle("Authorization", s.authorization()));
        sessions.push(s);
    }
    let (alice, bob) = (sessions[0].clone(), sessions[1].clone());

    // -- profiles -----------------------------------------------------------------
    for (s, name) in [(&alice, "Alice"), (&bob, "Bob")] {
        let avatar = format!("https://cdn.example.com/{name}.jpg");
        b.user(
            s,
            Method::POST,
            "/user/profile/init",
            &[("nickname", name), ("avatar", &avatar), ("bio", "hi")],
        )
        .await
        .ok();
    }
    b.user(
        &alice,
        Method::PUT,
        "/user/profile",
        &[
            ("nickname", "Alice B."),
            ("avatar", "https://cdn.example.com/a2.jpg"),
            ("bio", "new"),
        ],
    )
    .await
    .ok();

    // -- a push to Bob, who has no socket (JPush refuses it) ------------------------
    let form = b.signed(&[], &bob.secret);
    b.send(
        Method::POST,
        &format!("/push/{JPUSH_ID}"),
        &form,
        &[
            ("Authorization", bob.authorization()),
            ("Client-Type", "1".into()),
        ],
    )
    .await
    .ok();
    b.user(
        &alice,
        Method::POST,
        &format!("/user/{}/card", bob.uid),
        &[],
    )
    .await
    .ok();
    assert!(
        wait_for(|| async { !jpush.requests("/v3/push").is_empty() }).await,
        "JPush was called"
    );

    // -- a club, a room, a voice token, a WebSocket -------------------------------
    let club = b
        .user(
            &alice,
            Method::POST,
            "/club",
            &[
                ("name", "Privacy club"),
                ("cover", "https://cdn.example.com/c.jpg"),
            ],
        )
        .await;
    let club_id = club.ok()["clubId"].as_str().unwrap().to_owned();
    b.user(&bob, Method::POST, &format!("/club/{club_id}/join"), &[])
        .await
        .ok();
    let room = b
        .user(
            &alice,
            Method::POST,
            "/room",
            &[("name", "Privacy room"), ("clubId", &club_id)],
        )
        .await;
    let room_id = room.ok()["roomId"].as_str().unwrap().to_owned();
    let token = b
        .user(&alice, Method::POST, &format!("/room/{room_id}/token"), &[])
        .await;
    needles.push(needle("voice token", token.ok()["token"].as_str().unwrap()));
    let url = b.ws_url(&alice);
    let mut ws = WsClient::connect(&url, &[]).await.expect("upgrade");
    ws.join(&room_id).await;
    // refused upgrades: the same sign again, a wrong token, a tampered sign
    let again = WsClient::connect(&url, &[])
        .await
        .err()
        .expect("replay refused");
    assert_eq!(again.body["status"], 0);
    let wrong_token = Session {
        token: format!("{}x", bob.token),
        ..bob.clone()
    };
    let refused = WsClient::connect(&b.ws_url(&wrong_token), &[])
        .await
        .err()
        .expect("refused");
    assert_eq!(refused.status, 401);
    let tampered = b.ws_url(&bob).replace("sign=", "sign=0");
    let refused = WsClient::connect(&tampered, &[])
        .await
        .err()
        .expect("refused");
    assert_eq!(refused.status, 401);

    // -- refused REST calls: a bad sign, a replay -----------------------------------
    let mut form = b.signed(&[], &bob.secret);
    if let Some((_, sign)) = form.iter_mut().find(|(k, _)| k == "sign") {
        sign.replace_range(..1, if sign.starts_with('0') { "1" } else { "0" });
        b.signs.push(sign.clone());
    }
    let res = b
        .send(
            Method::GET,
            "/user/message/unread_total",
            &form,
            &[("Authorization", bob.authorization())],
        )
        .await;
    assert_eq!(res.status, 401, "{}", res.text);
    let form = b.signed(&[("count", "10")], &bob.secret);
    b.send(
        Method::GET,
        "/room",
        &form,
        &[("Authorization", bob.authorization())],
    )
    .await
    .ok();
    let replay = b
        .send(
            Method::GET,
            "/room",
            &form,
            &[("Authorization", bob.authorization())],
        )
        .await;
    assert_eq!(replay.body["result"], -1, "{}", replay.text);

    // -- an upload ticket with STS credentials ---------------------------------------
    let ticket = b
        .user(
            &alice,
            Method::POST,
            "/aliyun/image/upload",
            &[("imageDir", "avatar")],
        )
        .await;
    let address = url::Url::parse(ticket.ok()["uploadAddress"].as_str().unwrap()).unwrap();
    for (k, v) in address.query_pairs() {
        if k == "Signature" || k == "security-token" {
            needles.push(needle(format!("upload address {k}"), v.into_owned()));
        }
    }

    // -- sharing: a share token, H5 sessions and views, the share page ---------------
    let cache = b
        .user(&alice, Method::POST, &format!("/room/{room_id}/cache"), &[])
        .await;
    let cache_id = cache.ok().as_str().unwrap().to_owned();
    let h5 = b.public("/h5/session", &[], &[]).await;
    let h5_token = h5.ok()["h5Token"].as_str().unwrap().to_owned();
    needles.push(needle("H5 token", h5_token.clone()));
    let bearer = [("Authorization", format!("Bearer {h5_token}"))];
    b.public(&format!("/h5/room/{cache_id}"), &[], &bearer)
        .await
        .ok();
    b.public(&format!("/h5/profile/{}", alice.uid), &[], &bearer)
        .await
        .ok();
    // WeChat is unreachable: 503, and the failure is logged
    let res = b
        .public(
            "/h5/weixin/config",
            &[("url", "https://h5.example.com/s/room/x")],
            &bearer,
        )
        .await;
    assert_eq!(res.status, 503, "{}", res.text);
    let res = b
        .public("/h5/session", &[("code", WECHAT_OAUTH_CODE)], &[])
        .await;
    assert_eq!(res.status, 503, "{}", res.text);
    let live = format!(
        "{}/h5/room/{cache_id}/live?h5Token={h5_token}",
        b.base.replacen("http://", "ws://", 1)
    );
    let watcher = WsClient::connect_first(&live, &[], "watching")
        .await
        .expect("upgrade");
    let page = b
        .client
        .get(format!("{}/s/room/{cache_id}", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    // -- the end: sockets closed, both log out ---------------------------------------
    ws.close().await;
    watcher.close().await;
    for s in [&alice, &bob] {
        b.user(s, Method::POST, "/account/logout", &[]).await.ok();
    }
    run.stop();

    for sign in &b.signs {
        needles.push(needle("a request's sign", sign.clone()));
    }
    let lines = &run.seen;
    let all = lines.join("\n");
    // The flow was logged where it matters (so the checks below saw something).
    for expected in [
        "\"listening\"",
        "\"request\"",
        "WeChat call failed",
        "push failed",
        "account registered",
    ] {
        assert!(all.contains(expected), "no {expected} in the log:\n{all}");
    }
    let mut leaks = Vec::new();
    for line in lines {
        let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        if v["level"] == "DEBUG" || v["level"] == "TRACE" {
            // only the log provider's codes, and only with the filter asking for them
            assert!(
                matches!(sms, Sms::Log),
                "debug line at the default level: {line}"
            );
            assert_eq!(v["target"], "huddle::clients::sms", "{line}");
            continue;
        }
        let text = scrubbed(line);
        for n in &needles {
            if n.found_in(&text) {
                leaks.push(format!("{} in: {line}", n.what));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} secrets in {} lines of output:\n{}",
        leaks.len(),
        lines.len(),
        leaks.join("\n")
    );
    if let Sms::Log = sms {
        assert!(
            all.contains("HUDDLE_LOG=info,huddle::clients::sms=debug"),
            "the start says where the codes go"
        );
    }
}

#[actix_web::test]
async fn logs_at_info_hold_no_secret_with_the_http_sms_gateway() {
    no_secret_in_the_log(Sms::Gateway(FakeSmsGateway::start().await)).await;
}

#[actix_web::test]
async fn logs_at_info_hold_no_secret_with_the_log_sms_provider() {
    no_secret_in_the_log(Sms::Log).await;
}

/// A start that fails (the database does not answer) or links to a Redis
/// that does not answer prints the URLs without their passwords.
#[test]
fn database_and_redis_passwords_stay_out_of_start_messages() {
    let dir = tempfile::tempdir().unwrap();
    let out = huddle()
        .current_dir(dir.path())
        .env("HUDDLE_LOG_FORMAT", "json")
        // a password in the user part, and one in the query (sqlx reads both)
        .env(
            "HUDDLE_DATABASE_URL",
            "postgres://huddle:pg-password-8d8d@127.0.0.1:1/huddle?password=pg-password-7c7c",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("cannot open database"), "{text}");
    assert!(!text.contains("pg-password-8d8d"), "{text}");
    assert!(!text.contains("pg-password-7c7c"), "{text}");

    let mut cmd = huddle();
    cmd.current_dir(dir.path())
        .env("HUDDLE_HTTP_ADDR", "127.0.0.1:0")
        .env("HUDDLE_LOG_FORMAT", "json")
        .env(
            "HUDDLE_REDIS_URL",
            "redis://:redis-password-9e9e@127.0.0.1:1/0",
        );
    let mut run = Running::spawn(cmd, true);
    run.wait_for(|v| (v["message"] == "listening").then_some(()));
    // SIGTERM is handled once the server runs, a moment after `listening`
    std::thread::sleep(std::time::Duration::from_millis(500));
    run.stop();
    let text = run.seen.join("\n");
    assert!(text.contains("redis does not answer yet"), "{text}");
    assert!(!text.contains("redis-password-9e9e"), "{text}");
}

// ---------------------------------------------------------------------------
// Phone numbers in what users receive
// ---------------------------------------------------------------------------

/// Every body and frame a user received, checked against everyone else's number.
struct Inbox {
    mobiles: Vec<String>,
    /// uid → mobile.
    owners: Vec<(String, String)>,
    checked: usize,
    leaks: Vec<String>,
}

impl Inbox {
    /// Checks `text`, received by `viewer` (None: someone without an account).
    fn check(&mut self, viewer: Option<&Session>, what: &str, text: &str) {
        self.checked += 1;
        let own = viewer.and_then(|v| {
            self.owners
                .iter()
                .find(|(uid, _)| *uid == v.uid)
                .map(|(_, m)| m.as_str())
        });
        if let Some(form) = other_number_in(text, own, &self.mobiles) {
            self.leaks.push(format!("{what}: {form} in {text}"));
        }
    }

    fn resp(&mut self, viewer: Option<&Session>, what: &str, res: &Resp) {
        self.check(viewer, what, &res.text);
    }

    /// Reads every frame `ws` has until a pong to a fresh ping (everything the
    /// server sent before it), checking each.
    async fn drain(&mut self, viewer: &Session, ws: &mut WsClient) -> Vec<Value> {
        let id = ws.send_op("ping", json!({})).await;
        let mut frames = Vec::new();
        loop {
            let f = ws.next().await;
            self.check(Some(viewer), "websocket frame", &f.to_string());
            if f["id"] == id {
                return frames;
            }
            frames.push(f);
        }
    }
}

#[actix_web::test]
async fn no_response_or_frame_carries_another_users_number() {
    let app = spawn_huddle().await;
    let people = [
        ("13811110001", "Host"),
        ("13811110002", "Member"),
        ("13811110003", "Stranger"),
        ("13811110004", "Holder"),
        ("13811110005", "Invitee"),
        ("13811110006", "Guest"),
        ("13811110007", "Blocked"),
    ];
    let mut inbox = Inbox {
        mobiles: people.iter().map(|(m, _)| (*m).to_owned()).collect(),
        owners: Vec::new(),
        checked: 0,
        leaks: Vec::new(),
    };
    let mut users = Vec::new();
    for (mobile, nickname) in people {
        app.send_captcha(mobile).await.ok();
        let code = app.sms.last_code(mobile).unwrap();
        let login = app.login_with(mobile, &code).await;
        let s = session_from(&login);
        inbox.owners.push((s.uid.clone(), mobile.to_owned()));
        inbox.resp(Some(&s), "login", &login);
        let init = app
            .post("/user/profile/init")
            .user(&s)
            .param("nickname", nickname)
            .param("avatar", format!("https://cdn.example.com/{nickname}.jpg"))
            .param("bio", format!("I am {nickname}"))
            .send()
            .await;
        inbox.resp(Some(&s), "profile init", &init);
        users.push(s);
    }
    let [host, member, stranger, holder, invitee, guest, blocked] =
        <[Session; 7]>::try_from(users.clone()).unwrap();
    let mut sockets = Vec::new();
    for s in &users {
        let ws = app.ws(s).await;
        inbox.check(Some(s), "hello", &ws.hello.to_string());
        sockets.push(ws);
    }

    // A club with members; a subscriber of it.
    let club = app.create_club(&host, "Club").await;
    let club_id = club["clubId"].as_str().unwrap().to_owned();
    sockets[2]
        .request("subscribe", json!({ "clubId": club_id }))
        .await;
    sockets[0]
        .ok("subscribe", json!({ "clubId": club_id }))
        .await;
    for s in [&member, &invitee, &guest, &blocked] {
        let res = app.post_as(s, &format!("/club/{club_id}/join")).await;
        inbox.resp(Some(s), "club join", &res);
    }
    // Cards both ways between the host and the holder; a block.
    for (from, to) in [(&holder, &host), (&host, &holder)] {
        let res = app.post_as(from, &format!("/user/{}/card", to.uid)).await;
        inbox.resp(Some(from), "card", &res);
    }
    app.post_as(&host, &format!("/user/{}/block", blocked.uid))
        .await
        .ok();

    // A live room: host and member in it, hands, a speaker; an invitation.
    let room = app.create_room(&host, "Room", &club_id).await;
    let room_id = room["roomId"].as_str().unwrap().to_owned();
    for (i, s) in [(0, &host), (1, &member)] {
        let res = app.post_as(s, &format!("/room/{room_id}/token")).await;
        inbox.resp(Some(s), "room token", &res);
        let ack = sockets[i].join(&room_id).await;
        inbox.check(Some(s), "join ack", &ack.to_string());
    }
    let ack = sockets[1]
        .ok("raise_hand", json!({ "roomId": room_id }))
        .await;
    inbox.check(Some(&member), "hand ack", &ack.to_string());
    let res = app
        .post_as(&host, &format!("/room/{room_id}/speaker/{}", member.uid))
        .await;
    inbox.resp(Some(&host), "speaker", &res);
    let res = app
        .post_as(&host, &format!("/room/{room_id}/invite/{}", invitee.uid))
        .await;
    inbox.resp(Some(&host), "invite", &res);
    let private = app.create_private_room(&host, "Private").await;
    let private_id = private["roomId"].as_str().unwrap().to_owned();
    let res = app
        .post_as(&host, &format!("/room/{private_id}/invite/{}", holder.uid))
        .await;
    inbox.resp(Some(&host), "private invite", &res);

    // An event with a guest and a subscriber, its reminder, its start.
    let event_time = app.clock_now() + 3_600_000;
    let event = app
        .create_event(&host, "Event", event_time, &[&guest.uid])
        .await;
    let event_id = event["eventId"].as_str().unwrap().to_owned();
    let res = app
        .post_as(&stranger, &format!("/event/{event_id}/notify"))
        .await;
    inbox.resp(Some(&stranger), "event notify", &res);
    sockets[2]
        .request("subscribe", json!({ "eventId": event_id }))
        .await;
    app.clock.advance(3_600_000 + 1_000);
    app.poll_messages(&guest, "the reminder", |list| !list.is_empty())
        .await;
    let res = app
        .post_as(&host, &format!("/event/{event_id}/start"))
        .await;
    inbox.resp(Some(&host), "event start", &res);

    // What everyone reads, about everyone.
    let share = app.post_as(&host, &format!("/room/{room_id}/cache")).await;
    inbox.resp(Some(&host), "room cache", &share);
    let cache_id = share.ok().as_str().unwrap().to_owned();
    for s in &users {
        let mut paths = vec![
            "/user/card".to_owned(),
            "/user/block".to_owned(),
            "/user/message".to_owned(),
            "/user/message/unread_total".to_owned(),
            "/club".to_owned(),
            format!("/club/{club_id}"),
            format!("/club/{club_id}/member"),
            "/room".to_owned(),
            format!("/room/{room_id}"),
            format!("/room/{private_id}"),
            "/event".to_owned(),
            format!("/event/{event_id}"),
        ];
        for u in &users {
            paths.push(format!("/user/{}/profile", u.uid));
        }
        for path in paths {
            let res = app.get(&path).user(s).param("count", 100).send().await;
            inbox.resp(Some(s), &format!("GET {path}"), &res);
        }
    }

    // Someone without an account: H5 views, share pages, the live stream.
    let h5 = app.post("/h5/session").send().await;
    inbox.resp(None, "h5 session", &h5);
    let h5_token = h5.ok()["h5Token"].as_str().unwrap().to_owned();
    let mut h5_paths = vec![
        format!("/h5/room/{cache_id}"),
        format!("/h5/club/{club_id}"),
        format!("/h5/event/{event_id}"),
    ];
    for u in &users {
        h5_paths.push(format!("/h5/profile/{}", u.uid));
    }
    for path in &h5_paths {
        let res = app.h5(path, &h5_token).send().await;
        inbox.resp(None, path, &res);
    }
    let mut pages = vec![
        format!("/s/room/{cache_id}"),
        format!("/s/club/{club_id}"),
        format!("/s/event/{event_id}"),
    ];
    for u in &users {
        pages.push(format!("/s/profile/{}", u.uid));
    }
    for path in &pages {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let text = res.text().await.unwrap();
        inbox.check(None, path, &text);
    }
    let live = format!(
        "ws://{}/h5/room/{cache_id}/live?h5Token={h5_token}",
        app.addr
    );
    let mut watcher = WsClient::connect_first(&live, &[], "watching")
        .await
        .expect("upgrade");
    inbox.check(None, "watching", &watcher.hello.to_string());
    // A member leaves and comes back while the page watches; then the room closes.
    sockets[1].ok("leave", json!({ "roomId": room_id })).await;
    app.room_token(&member, &room_id).await;
    app.post_as(&host, &format!("/room/{room_id}/close"))
        .await
        .ok();
    let (_, frames) = watcher.until_closed().await;
    for f in &frames {
        inbox.check(None, "live frame", &f.to_string());
    }

    // Every frame every user got.
    let mut kinds = std::collections::BTreeSet::new();
    for (i, s) in users.iter().enumerate() {
        for f in inbox.drain(s, &mut sockets[i]).await {
            kinds.insert(f["type"].as_str().unwrap_or("").to_owned());
        }
    }
    for kind in [
        "message.new",
        "room.invited",
        "room.member_joined",
        "room.hand_raised",
        "room.speaker_added",
        "club.member_joined",
        "event.reminder",
        "event.started",
        "room.closed",
    ] {
        assert!(
            kinds.contains(kind),
            "no {kind} frame was checked: {kinds:?}"
        );
    }
    assert!(
        frames.iter().any(|f| f["type"] == "room.member_joined"),
        "{frames:?}"
    );
    eprintln!("phone numbers: {} bodies and frames checked", inbox.checked);
    assert!(
        inbox.leaks.is_empty(),
        "another user's number in {} of {} bodies/frames:\n{}",
        inbox.leaks.len(),
        inbox.checked,
        inbox.leaks.join("\n")
    );
}
