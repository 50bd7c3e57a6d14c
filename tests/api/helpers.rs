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
use huddle::startup::{Application, Overrides};
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
    pub handle: ServerHandle,
    pub db: TestDb,
    /// Makes every request's ts distinct, as a real app's clock would.
    pub calls: std::sync::atomic::AtomicI64,
}

pub const TEST_NUMBER: &str = "13900000000";
pub const TEST_CODE: &str = "246810";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Config)) -> TestApp {
    let (db, database_url) = TestDb::create().await;
    let sms = FakeSmsGateway::start().await;
    let mut config = Config::defaults();
    config.http_addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = database_url;
    config.database_max_connections = 4;
    config.workers = 1;
    config.shutdown_timeout_secs = 1;
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
        .insert(format!("86{TEST_NUMBER}"), TEST_CODE.into());
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
        let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.clock.now_ms() - n % 100_000
    }
}
