//! The test harness: a real huddle server on 127.0.0.1:0 with its own database
//! (a fresh SQLite file, or a fresh PostgreSQL database when
//! `HUDDLE_TEST_DATABASE_URL` is set), a manual clock, a fake SMS gateway that
//! records what huddle sends, and a client that signs requests like the app.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use huddle::auth::signature::{self, DEFAULT_ACCESS_SECRET};
use huddle::config::{Config, HttpSmsConfig, Secret, SmsProviderConfig};
use huddle::startup::{Application, Overrides, ShutdownHandle};
use huddle_actors::{Clock, ManualClock};
use reqwest::Method;
use serde_json::Value;
use sqlx::Connection;

/// A request the fake SMS gateway received.
#[derive(Debug, Clone)]
pub struct SmsRequest {
    pub method: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

/// A local HTTP server standing in for an SMS gateway.
#[derive(Clone)]
pub struct FakeSmsGateway {
    pub url: String,
    pub received: Arc<Mutex<Vec<SmsRequest>>>,
    /// When set, the gateway answers HTTP 500.
    pub failing: Arc<Mutex<bool>>,
    handle: ServerHandle,
}

impl FakeSmsGateway {
    pub async fn start() -> Self {
        let received: Arc<Mutex<Vec<SmsRequest>>> = Arc::default();
        let failing: Arc<Mutex<bool>> = Arc::default();
        let (r, f) = (received.clone(), failing.clone());
        let server = HttpServer::new(move || {
            let (r, f) = (r.clone(), f.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: String| {
                let (r, f) = (r.clone(), f.clone());
                async move {
                    let header = |n: &str| {
                        req.headers()
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned)
                    };
                    r.lock().unwrap().push(SmsRequest {
                        method: req.method().to_string(),
                        authorization: header("authorization"),
                        content_type: header("content-type"),
                        body,
                    });
                    if *f.lock().unwrap() {
                        HttpResponse::InternalServerError().finish()
                    } else {
                        HttpResponse::Ok().body("{\"ok\":true}")
                    }
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            url: format!("http://{addr}/sms/send"),
            received,
            failing,
            handle,
        }
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The code of the newest SMS sent to `mobile`.
    pub fn last_code(&self, mobile: &str) -> Option<String> {
        self.received.lock().unwrap().iter().rev().find_map(|r| {
            let v: Value = serde_json::from_str(&r.body).ok()?;
            (v["mobile"] == mobile).then(|| v["code"].as_str().unwrap().to_owned())
        })
    }
}

/// Where a test's data lives; dropped with the test.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn create() -> (Self, String) {
        match std::env::var("HUDDLE_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("huddle_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("HUDDLE_TEST_DATABASE_URL is set but PostgreSQL does not answer");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&name);
                (Self::Postgres { admin_url, name }, url.to_string())
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("huddle.db").display());
                (Self::Sqlite(dir), url)
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // The test's runtime is going away: drop the database from a thread of our own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut conn)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A logged-in user as the app holds it.
#[derive(Debug, Clone)]
pub struct Session {
    pub uid: String,
    pub token: String,
    pub secret: String,
}

impl Session {
    pub fn authorization(&self) -> String {
        let raw = format!("{}:{}", self.uid, self.token);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// A running server and everything a test needs to talk to it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub sms: FakeSmsGateway,
    pub config: Config,
    pub handle: ShutdownHandle,
    pub db: TestDb,
    /// The last ts handed out: every request's ts is distinct, as a real app's would be.
    pub calls: std::sync::atomic::AtomicI64,
}

pub const TEST_NUMBER: &str = "13900000000";
pub const TEST_CODE: &str = "246810";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Config)) -> TestApp {
    // `HUDDLE_TEST_LOG=huddle=debug,warn cargo test …` shows the servers' logs.
    if let Ok(filter) = std::env::var("HUDDLE_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
    let (db, database_url) = TestDb::create().await;
    let sms = FakeSmsGateway::start().await;
    let mut config = Config::defaults();
    config.http_addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = database_url;
    config.database_max_connections = 4;
    config.workers = 1;
    config.shutdown_timeout_secs = 1;
    // Suites make hundreds of calls from 127.0.0.1 in a second; the limits
    // have their own tests (tests/api/limits.rs).
    config.limits = huddle::ratelimit::Limits::off();
    config.sms = SmsProviderConfig::Http(HttpSmsConfig {
        url: sms.url.clone(),
        method: "POST".into(),
        auth: Some(Secret::new("Bearer sms-test-key")),
        content_type: "application/json".into(),
        body_template: r#"{"countryCode":"{countryCode}","mobile":"{mobile}","code":"{code}"}"#
            .into(),
        timeout_ms: 2_000,
    });
    config
        .sms_test_numbers
        .insert(&format!("86{TEST_NUMBER}"), TEST_CODE);
    customize(&mut config);
    let clock = Arc::new(ManualClock::starting_now());
    let app = Application::build(
        config.clone(),
        Overrides {
            clock: Some(clock.clone()),
            handle_signals: false,
        },
    )
    .await
    .expect("server starts");
    let addr = app.addr();
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        addr,
        client: reqwest::Client::new(),
        clock,
        sms,
        config,
        handle,
        db,
        calls: Default::default(),
    }
}

/// How parameters travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Query,
    Form,
    Json,
}

/// A response: HTTP status, headers and the parsed JSON body.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// Asserts a success envelope and returns `result`.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.text);
        assert_eq!(self.body["status"], 1, "{}", self.text);
        &self.body["result"]
    }

    /// Asserts a business failure with `code` and returns the message.
    #[track_caller]
    pub fn business(&self, code: i64) -> String {
        assert_eq!(self.status, 200, "{}", self.text);
        assert_eq!(self.body["status"], 0, "{}", self.text);
        assert_eq!(self.body["result"], code, "{}", self.text);
        self.body["message"].as_str().unwrap().to_owned()
    }

    /// Asserts a protocol failure: `status`, result 0, status 0, and a message
    /// that starts with the seed's text `prefix`.
    #[track_caller]
    pub fn protocol(&self, status: u16, prefix: &str) -> String {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.body["status"], 0, "{}", self.text);
        assert_eq!(self.body["result"], 0, "{}", self.text);
        let message = self.body["message"].as_str().unwrap().to_owned();
        assert!(
            message.starts_with(prefix),
            "message {message:?} should start with {prefix:?}"
        );
        message
    }
}

/// A request under construction; signed at `send` like the app signs.
pub struct Call<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    params: Vec<(String, String)>,
    json_extra: Vec<(String, Value)>,
    session: Option<Session>,
    transport: Option<Transport>,
    ts: Option<i64>,
    sign: Option<String>,
    unsigned: bool,
    headers: Vec<(String, String)>,
}

impl<'a> Call<'a> {
    pub fn param(mut self, k: &str, v: impl ToString) -> Self {
        self.params.push((k.to_owned(), v.to_string()));
        self
    }
    /// A JSON-typed parameter (array, number) for JSON bodies.
    pub fn json_param(mut self, k: &str, v: Value) -> Self {
        self.json_extra.push((k.to_owned(), v));
        self
    }
    pub fn user(mut self, s: &Session) -> Self {
        self.session = Some(s.clone());
        self
    }
    pub fn via(mut self, t: Transport) -> Self {
        self.transport = Some(t);
        self
    }
    pub fn ts(mut self, ts: i64) -> Self {
        self.ts = Some(ts);
        self
    }
    pub fn sign(mut self, sign: &str) -> Self {
        self.sign = Some(sign.to_owned());
        self
    }
    /// Sends no ts and no sign.
    pub fn unsigned(mut self) -> Self {
        self.unsigned = true;
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }

    /// The parameters as they will be sent, with ts and sign.
    pub fn signed_params(&self) -> Vec<(String, String)> {
        let mut params = self.params.clone();
        for (k, v) in &self.json_extra {
            params.push((
                k.clone(),
                match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            ));
        }
        if self.unsigned {
            return params;
        }
        params.push((
            "ts".into(),
            self.ts.unwrap_or_else(|| self.app.fresh_ts()).to_string(),
        ));
        let mut sorted = params.clone();
        sorted.sort();
        let secret = self
            .session
            .as_ref()
            .map(|s| s.secret.clone())
            .unwrap_or_else(|| DEFAULT_ACCESS_SECRET.to_owned());
        let sign = self.sign.clone().unwrap_or_else(|| {
            signature::sign(
                sorted.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                &secret,
            )
        });
        params.push(("sign".into(), sign));
        params
    }

    pub async fn send(self) -> Resp {
        let params = self.signed_params();
        let transport = self.transport.unwrap_or(if self.method == Method::GET {
            Transport::Query
        } else {
            Transport::Form
        });
        let url = format!("http://{}{}", self.app.addr, self.path);
        let mut req = self.app.client.request(self.method.clone(), url);
        req = match transport {
            Transport::Query => req.query(&params),
            Transport::Form => req.form(&params),
            Transport::Json => {
                let mut obj = serde_json::Map::new();
                for (k, v) in &params {
                    obj.insert(k.clone(), Value::String(v.clone()));
                }
                for (k, v) in &self.json_extra {
                    obj.insert(k.clone(), v.clone());
                }
                if let Some(ts) = obj
                    .get("ts")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse::<i64>().ok())
                {
                    obj.insert("ts".into(), Value::from(ts));
                }
                req.json(&Value::Object(obj))
            }
        };
        let overridden = self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
        if let (Some(s), false) = (&self.session, overridden) {
            req = req.header("Authorization", s.authorization());
        }
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        send(req).await
    }
}

pub async fn send(req: reqwest::RequestBuilder) -> Resp {
    let res = req.send().await.expect("request reaches the server");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("response is not JSON (HTTP {status}): {text:?}"));
    Resp {
        status,
        headers,
        body,
        text,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            method,
            path: path.to_owned(),
            params: Vec::new(),
            json_extra: Vec::new(),
            session: None,
            transport: None,
            ts: None,
            sign: None,
            unsigned: false,
            headers: Vec::new(),
        }
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    pub async fn send_captcha(&self, mobile: &str) -> Resp {
        self.post("/account/captcha")
            .param("mobile", mobile)
            .send()
            .await
    }

    pub async fn login_with(&self, mobile: &str, code: &str) -> Resp {
        self.post("/account/login/captcha")
            .param("mobile", mobile)
            .param("captcha", code)
            .send()
            .await
    }

    /// Full SMS login of `mobile` (country code 86), returning the session.
    pub async fn login(&self, mobile: &str) -> Session {
        let code = if mobile == TEST_NUMBER {
            TEST_CODE.to_owned()
        } else {
            self.send_captcha(mobile).await.ok();
            self.sms.last_code(mobile).expect("an SMS was sent")
        };
        let res = self.login_with(mobile, &code).await;
        session_from(&res)
    }

    /// Runs the `huddle` binary against this app's database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_huddle"))
            .args(args)
            .env("HUDDLE_DATABASE_URL", &self.config.database_url)
            .env("HUDDLE_LOG", "warn")
            .output()
            .expect("huddle binary runs")
    }
}

pub fn session_from(res: &Resp) -> Session {
    let r = res.ok();
    Session {
        uid: r["uid"].as_str().unwrap().to_owned(),
        token: r["accessToken"].as_str().unwrap().to_owned(),
        secret: r["accessSecret"].as_str().unwrap().to_owned(),
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.handle.stop(false)); // the stop command is sent now; nobody waits for it
        drop(self.sms.handle.stop(false));
    }
}

impl TestApp {
    pub fn clock_now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The server's now, minus a per-call offset (under 100 s) so that two
    /// identical calls are not identical requests.
    pub fn fresh_ts(&self) -> i64 {
        // Strictly increasing and never repeated, starting 250 s behind the
        // server's clock so it stays inside the ±300 s window as time moves.
        let floor = self.clock.now_ms() - 250_000;
        let mut last = self.calls.load(std::sync::atomic::Ordering::SeqCst);
        loop {
            let ts = floor.max(last + 1);
            match self.calls.compare_exchange(
                last,
                ts,
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
            ) {
                Ok(_) => return ts,
                Err(seen) => last = seen,
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Issue 3 (user, club, room, event): profiles, pages, messages, restarts.
// ---------------------------------------------------------------------------

/// The Agora project the tests configure (32 hex chars each).
pub const AGORA_APP_ID: &str = "970ca35de60c44645bbae8a215061b33";
pub const AGORA_CERT: &str = "5cfd2fd1755d40ecb72977518be15d3b";

/// Test defaults for the room/event suites: a known Agora project and a fast
/// scheduler (it reads the manual clock every 20 ms of real time).
pub fn huddle_defaults(config: &mut Config) {
    config.agora_app_id = Some(AGORA_APP_ID.to_owned());
    config.agora_app_certificate = Some(Secret::new(AGORA_CERT));
    config.scheduler_tick_ms = 20;
}

/// [`spawn_app`] with [`huddle_defaults`].
pub async fn spawn_huddle() -> TestApp {
    spawn_app_with(huddle_defaults).await
}

/// [`spawn_app_with`] with [`huddle_defaults`] applied first.
pub async fn spawn_huddle_with(customize: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(|c| {
        huddle_defaults(c);
        customize(c);
    })
    .await
}

/// Whether `v` is a 32-char lowercase hex string.
pub fn hex32(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The sorted keys of a JSON object.
#[track_caller]
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

/// Asserts that the object `v` has exactly the keys `expected`.
#[track_caller]
pub fn assert_keys(v: &Value, expected: &[&str]) {
    let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(keys(v), want, "{v}");
}

/// Asserts that `v` is a 0/1 integer flag.
#[track_caller]
pub fn assert_flag(v: &Value) {
    assert!(matches!(v.as_i64(), Some(0 | 1)), "not a 0/1 flag: {v}");
}

/// Asserts that `v` is an integer (milliseconds since the epoch).
#[track_caller]
pub fn assert_ms(v: &Value) {
    assert!(
        v.is_i64() && v.as_i64().unwrap() > 1_500_000_000_000,
        "not a ms integer: {v}"
    );
}

/// Asserts that `v` is a 32-char lowercase hex id.
#[track_caller]
pub fn assert_id(v: &Value) {
    assert!(hex32(v), "not a 32-hex id: {v}");
}

/// The text of a string or number value (ids that may be either).
#[track_caller]
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not an id: {other}"),
    }
}

/// `item[key]` of every item of a list, as text.
#[track_caller]
pub fn ids(list: &[Value], key: &str) -> Vec<String> {
    list.iter().map(|i| text(&i[key])).collect()
}

/// The keys of the user profile (`PUT /user/profile`, `GET /user/{uid}/profile`).
pub const PROFILE_KEYS: &[&str] = &["uid", "nickname", "avatar", "bio", "blocked"];
/// `userProfileResult` in lists.
pub const USER_PROFILE_RESULT_KEYS: &[&str] = &[
    "avatar",
    "bio",
    "sendCard",
    "cardTotal",
    "blocked",
    "nickname",
    "uid",
];
/// The club object (`GET /club/{clubId}`).
pub const CLUB_KEYS: &[&str] = &[
    "clubId",
    "cover",
    "createTime",
    "memberTotal",
    "joined",
    "name",
    "uid",
];
/// A `memberList` entry of a room.
pub const ROOM_MEMBER_KEYS: &[&str] = &[
    "allowLive",
    "avatar",
    "bio",
    "blocked",
    "cardTotal",
    "nickname",
    "sendCard",
    "uid",
];
/// The event object before it starts.
pub const EVENT_KEYS: &[&str] = &[
    "createTime",
    "desc",
    "eventId",
    "eventTime",
    "eventTimeStatus",
    "memberUidList",
    "name",
    "notify",
    "uid",
];

/// A user profile result as `GET /user/{uid}/profile` and lists show it.
#[track_caller]
pub fn assert_user_profile_result(v: &Value) {
    assert_keys(v, USER_PROFILE_RESULT_KEYS);
    assert_id(&v["uid"]);
    assert!(v["nickname"].is_string() && v["avatar"].is_string() && v["bio"].is_string());
    assert_flag(&v["sendCard"]);
    assert_flag(&v["blocked"]);
    assert!(v["cardTotal"].is_i64(), "{v}");
}

/// A club object (`joined` included).
#[track_caller]
pub fn assert_club(v: &Value) {
    assert_keys(v, CLUB_KEYS);
    assert_id(&v["clubId"]);
    assert_id(&v["uid"]);
    assert_ms(&v["createTime"]);
    assert_flag(&v["joined"]);
    assert!(v["memberTotal"].is_i64() && v["name"].is_string() && v["cover"].is_string());
}

/// A room object as `GET /room/{roomId}` answers it.
#[track_caller]
pub fn assert_room(v: &Value) {
    let has_club = v["clubId"].as_str().is_some_and(|s| !s.is_empty());
    let mut expected = vec![
        "clubId",
        "createTime",
        "inviteOnly",
        "memberList",
        "memberTotal",
        "name",
        "roomId",
        "uid",
    ];
    if has_club {
        expected.push("clubResult");
        // the club object, plus `inviteOnly: 0` as the seed's room examples show it
        let club = &v["clubResult"];
        let mut club_keys = CLUB_KEYS.to_vec();
        club_keys.push("inviteOnly");
        assert_keys(club, &club_keys);
        assert_eq!(club["inviteOnly"], 0, "{v}");
        let mut plain = club.clone();
        plain.as_object_mut().unwrap().remove("inviteOnly");
        assert_club(&plain);
        assert_eq!(v["clubResult"]["clubId"], v["clubId"], "{v}");
        assert_id(&v["clubId"]);
    } else {
        assert_eq!(v["clubId"], "", "{v}");
    }
    assert_keys(v, &expected);
    assert_id(&v["roomId"]);
    assert_id(&v["uid"]);
    assert_ms(&v["createTime"]);
    assert_flag(&v["inviteOnly"]);
    assert!(v["memberTotal"].is_i64() && v["name"].is_string(), "{v}");
    for m in v["memberList"].as_array().unwrap() {
        assert_keys(m, ROOM_MEMBER_KEYS);
        assert_flag(&m["allowLive"]);
        assert_flag(&m["blocked"]);
        assert_flag(&m["sendCard"]);
        assert!(m["cardTotal"].is_i64());
        assert_id(&m["uid"]);
    }
}

/// An event object; `started` adds `roomId` and `roomResult`.
#[track_caller]
pub fn assert_event(v: &Value, started: bool) {
    let mut expected = EVENT_KEYS.to_vec();
    if started {
        expected.extend(["roomId", "roomResult"]);
        assert_id(&v["roomId"]);
        assert_room(&v["roomResult"]);
        assert_eq!(v["roomResult"]["roomId"], v["roomId"]);
        assert_eq!(v["eventTimeStatus"], 1, "{v}");
    } else {
        assert_eq!(v["eventTimeStatus"], 0, "{v}");
    }
    assert_keys(v, &expected);
    assert_id(&v["eventId"]);
    assert_id(&v["uid"]);
    assert_ms(&v["createTime"]);
    assert_ms(&v["eventTime"]);
    assert_flag(&v["notify"]);
    assert!(v["name"].is_string() && v["desc"].is_string(), "{v}");
    for uid in v["memberUidList"].as_array().unwrap() {
        assert_id(uid);
    }
}

/// A message item of `GET /user/message`.
#[track_caller]
pub fn assert_message_item(item: &Value, recipient: &str) {
    assert_keys(item, &["messageId", "sequenceId", "userMessageResult"]);
    assert!(item["messageId"].is_i64(), "{item}");
    assert_eq!(
        item["sequenceId"].as_str().unwrap(),
        item["messageId"].to_string()
    );
    let m = &item["userMessageResult"];
    assert_keys(
        m,
        &[
            "createTime",
            "messageBody",
            "messageId",
            "messageType",
            "originPushType",
            "originUid",
            "uid",
            "unread",
        ],
    );
    assert_keys(&m["messageBody"], &["title", "content", "url"]);
    for k in ["title", "content", "url"] {
        assert!(m["messageBody"][k].is_string(), "{m}");
    }
    assert_ms(&m["createTime"]);
    assert_eq!(m["messageId"], item["messageId"]);
    assert_eq!(m["messageType"], 0);
    assert!(m["originPushType"].is_i64());
    assert!(m["originUid"].is_string());
    assert_eq!(m["uid"], recipient);
    assert_flag(&m["unread"]);
}

/// Messages (`userMessageResult`s) of a list with `originPushType` `kind` and `url`.
pub fn messages_where<'v>(items: &'v [Value], kind: i64, url: &str) -> Vec<&'v Value> {
    items
        .iter()
        .map(|i| &i["userMessageResult"])
        .filter(|m| m["originPushType"] == kind && m["messageBody"]["url"] == url)
        .collect()
}

/// Polls `check` every 20 ms for up to 5 s of real time; true once it holds.
pub async fn wait_for<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if check().await {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

impl TestApp {
    pub fn put(&self, path: &str) -> Call<'_> {
        self.call(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call(Method::DELETE, path)
    }

    /// `POST /user/profile/init` for `s`; returns the result.
    pub async fn init_profile(&self, s: &Session, nickname: &str) -> Value {
        self.post("/user/profile/init")
            .user(s)
            .param("nickname", nickname)
            .param(
                "avatar",
                format!("https://cdn.example.com/avatar/{}.jpg", s.uid),
            )
            .param("bio", format!("hi, I am {nickname}"))
            .send()
            .await
            .ok()
            .clone()
    }

    /// Logs `mobile` in and initialises its profile.
    pub async fn user(&self, mobile: &str, nickname: &str) -> Session {
        let s = self.login(mobile).await;
        self.init_profile(&s, nickname).await;
        s
    }

    /// `POST /club`; returns the club.
    pub async fn create_club(&self, s: &Session, name: &str) -> Value {
        self.post("/club")
            .user(s)
            .param("name", name)
            .param("cover", format!("https://cdn.example.com/cover/{name}.jpg"))
            .send()
            .await
            .ok()
            .clone()
    }

    /// `POST /club/{id}/join`; returns the club.
    pub async fn join_club(&self, s: &Session, club_id: &str) -> Value {
        self.post(&format!("/club/{club_id}/join"))
            .user(s)
            .send()
            .await
            .ok()
            .clone()
    }

    /// `POST /room` in `club_id`; returns the room.
    pub async fn create_room(&self, s: &Session, name: &str, club_id: &str) -> Value {
        self.post("/room")
            .user(s)
            .param("name", name)
            .param("clubId", club_id)
            .send()
            .await
            .ok()
            .clone()
    }

    /// `POST /room` with `inviteOnly=1`; returns the room.
    pub async fn create_private_room(&self, s: &Session, name: &str) -> Value {
        self.post("/room")
            .user(s)
            .param("name", name)
            .param("inviteOnly", 1)
            .send()
            .await
            .ok()
            .clone()
    }

    /// `POST /room/{id}/token`; returns the token.
    pub async fn room_token(&self, s: &Session, room_id: &str) -> String {
        let res = self
            .post(&format!("/room/{room_id}/token"))
            .user(s)
            .send()
            .await;
        res.ok()["token"].as_str().unwrap().to_owned()
    }

    /// `GET /room/{id}` as `s`; returns the room.
    pub async fn room(&self, s: &Session, room_id: &str) -> Value {
        self.get(&format!("/room/{room_id}"))
            .user(s)
            .send()
            .await
            .ok()
            .clone()
    }

    /// `POST /event` (form; memberUidList as JSON text); returns the event.
    pub async fn create_event(
        &self,
        s: &Session,
        name: &str,
        event_time: i64,
        members: &[&str],
    ) -> Value {
        self.post("/event")
            .user(s)
            .param("name", name)
            .param("desc", format!("about {name}"))
            .param("eventTime", event_time)
            .json_param("memberUidList", serde_json::json!(members))
            .send()
            .await
            .ok()
            .clone()
    }

    /// One page of a cursor list as `s`; returns the result.
    pub async fn page(&self, s: &Session, path: &str, count: i64, last_id: Option<&str>) -> Value {
        let mut call = self.get(path).user(s).param("count", count);
        if let Some(last) = last_id {
            call = call.param("lastId", last);
        }
        let res = call.send().await;
        let r = res.ok().clone();
        assert_keys(&r, &["page", "list"]);
        assert_eq!(r["page"], serde_json::json!({ "count": count }), "{r}");
        let len = r["list"].as_array().unwrap().len();
        assert!(len as i64 <= count, "{len} items for count {count}: {r}");
        r
    }

    /// Follows a cursor list from `last_id` (None = first page) with pages of
    /// `count` until a short page; returns every item in order.
    pub async fn walk(
        &self,
        s: &Session,
        path: &str,
        count: i64,
        mut last_id: Option<String>,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        for _ in 0..1000 {
            let r = self.page(s, path, count, last_id.as_deref()).await;
            let list = r["list"].as_array().unwrap().clone();
            let short = (list.len() as i64) < count;
            if let Some(last) = list.last() {
                last_id = Some(text(&last["sequenceId"]));
            }
            out.extend(list);
            if short || count == 0 {
                return out;
            }
        }
        panic!("{path}: pages never end");
    }

    /// Every message of `s` (first page of 100; marks them read).
    pub async fn messages(&self, s: &Session) -> Vec<Value> {
        let r = self.page(s, "/user/message", 100, None).await;
        r["list"].as_array().unwrap().clone()
    }

    /// `GET /user/message/unread_total`.
    pub async fn unread_total(&self, s: &Session) -> i64 {
        let res = self.get("/user/message/unread_total").user(s).send().await;
        let r = res.ok();
        assert!(r.is_i64(), "{r}");
        r.as_i64().unwrap()
    }

    /// Polls `s`'s messages (every 20 ms, up to 5 s) until `pred` holds;
    /// panics with the last list otherwise.
    pub async fn poll_messages(
        &self,
        s: &Session,
        what: &str,
        mut pred: impl FnMut(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let list = self.messages(s).await;
            if pred(&list) {
                return list;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}; messages: {list:#?}"
            );
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Stops the server (waiting for it) and starts a new one on the same
    /// database, config and clock.
    pub async fn restart(&mut self) {
        self.stop_server().await;
        self.start_server().await;
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop_server(&self) {
        self.handle.stop(true).await;
    }

    /// Starts a new server on the same database, config and clock (after
    /// [`TestApp::stop_server`]); requests then go to it.
    pub async fn start_server(&mut self) {
        let app = Application::build(
            self.config.clone(),
            Overrides {
                clock: Some(self.clock.clone()),
                handle_signals: false,
            },
        )
        .await
        .expect("server restarts");
        self.addr = app.addr();
        self.handle = app.handle();
        actix_web::rt::spawn(app.run_until_stopped());
    }
}

impl TestApp {
    /// One integer from the server's database (to prove what was stored).
    pub async fn db_scalar(&self, sql: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let mut conn =
            <sqlx::AnyConnection as sqlx::Connection>::connect(&self.config.database_url)
                .await
                .expect("database reachable");
        let v: i64 = sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect("query runs");
        let _ = sqlx::Connection::close(conn).await;
        v
    }
}
