//! The server under test: in-process ([`spawn_app`]: a real huddle on
//! 127.0.0.1:0 in the test's own actix system, on a manual clock, with a
//! fake SMS gateway) and its database ([`TestDb`]: a fresh SQLite file, or a
//! fresh PostgreSQL database when `HUDDLE_TEST_DATABASE_URL` is set). The
//! real binary as a process is [`crate::cluster::Node`]; [`huddle_binary`]
//! finds it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use huddle::config::{Config, HttpSmsConfig, Secret, SmsProviderConfig};
use huddle::startup::{Application, Overrides, ShutdownHandle};
use huddle_actors::{Clock, ManualClock};
use serde_json::Value;
use sqlx::Connection;

use crate::client::{self, session_from, Api, Resp, Session, Target};
use crate::fakes::FakeSmsGateway;
use crate::ws::WsClient;

/// The `huddle` binary cargo built for the test that runs (`target/<profile>/huddle`
/// beside `deps/`, where the test binary is).
pub fn huddle_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    let bin = dir.join(format!("huddle{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: integration tests of the huddle package build it",
        bin.display()
    );
    bin
}

/// A `huddle` command with no `HUDDLE_*` variable inherited from the caller.
pub fn huddle_command() -> std::process::Command {
    let mut cmd = std::process::Command::new(huddle_binary());
    for (k, _) in std::env::vars() {
        if k.starts_with("HUDDLE_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Where a test's data lives; dropped with the test.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
        /// The database's URL (direct, not through a proxy).
        url: String,
    },
}

impl TestDb {
    /// A fresh database as the environment says: PostgreSQL under
    /// `HUDDLE_TEST_DATABASE_URL` when set, else a SQLite file. Returns its URL too.
    pub async fn create() -> (Self, String) {
        match std::env::var("HUDDLE_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let db = Self::postgres(&admin_url, "huddle_t_").await;
                let url = db.url();
                (db, url)
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("huddle.db").display());
                (Self::Sqlite(dir), url)
            }
        }
    }

    /// A fresh PostgreSQL database `<prefix><uuid>` on the server of `admin_url`.
    pub async fn postgres(admin_url: &str, prefix: &str) -> Self {
        let name = format!("{prefix}{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("HUDDLE_TEST_DATABASE_URL is set but PostgreSQL does not answer");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        conn.close().await.ok();
        let mut url = url::Url::parse(admin_url).expect("HUDDLE_TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Self::Postgres {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        }
    }

    /// The database's URL.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(dir) => format!("sqlite://{}", dir.path().join("huddle.db").display()),
            Self::Postgres { url, .. } => url.clone(),
        }
    }

    /// PostgreSQL's `host:port` as the admin URL names it.
    pub fn upstream(&self) -> String {
        let url = url::Url::parse(&self.url()).expect("db URL");
        format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port().unwrap_or(5432)
        )
    }

    /// The database's URL with `host:port` replaced by 127.0.0.1:`port` (to go through a proxy).
    pub fn url_via(&self, port: u16) -> String {
        let mut url = url::Url::parse(&self.url()).expect("db URL");
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(port)).expect("port");
        url.to_string()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres {
            admin_url, name, ..
        } = self
        {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // The test's runtime may be going away: drop from a thread of our own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
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

/// The Agora project the tests configure (32 hex chars each).
pub const AGORA_APP_ID: &str = "970ca35de60c44645bbae8a215061b33";
pub const AGORA_CERT: &str = "5cfd2fd1755d40ecb72977518be15d3b";

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

impl Target for TestApp {
    fn target_addr(&self) -> SocketAddr {
        self.addr
    }
    fn http(&self) -> &reqwest::Client {
        &self.client
    }
    fn next_ts(&self) -> i64 {
        self.fresh_ts()
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
        client::next_ts(&self.calls, self.clock.now_ms() - 250_000)
    }

    pub async fn send_captcha(&self, mobile: &str) -> Resp {
        self.post("/account/captcha")
            .param("mobile", mobile)
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

    /// Logs `mobile` in and initialises its profile.
    pub async fn user(&self, mobile: &str, nickname: &str) -> Session {
        let s = self.login(mobile).await;
        self.init_profile(&s, nickname).await;
        s
    }

    /// Logs `n` numbers in from `first` on (`first`, `first + 1`, …), with
    /// nicknames `{prefix}0`, `{prefix}1`, …
    pub async fn users(&self, first: u64, n: u64, prefix: &str) -> Vec<Session> {
        let mut out = Vec::new();
        for i in 0..n {
            out.push(
                self.user(&(first + i).to_string(), &format!("{prefix}{i}"))
                    .await,
            );
        }
        out
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

    /// `POST /room/{id}/token`; returns the token.
    pub async fn room_token(&self, s: &Session, room_id: &str) -> String {
        let res = self.post_as(s, &format!("/room/{room_id}/token")).await;
        res.ok()["token"].as_str().unwrap().to_owned()
    }

    /// Connects as `s` and reads `hello`.
    pub async fn ws(&self, s: &Session) -> WsClient {
        crate::ws::connect_as(self, s).await
    }

    /// Polls `s`'s messages (every 20 ms, up to 5 s) until `pred` holds;
    /// panics with the last list otherwise.
    pub async fn poll_messages(
        &self,
        s: &Session,
        what: &str,
        mut pred: impl FnMut(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let list = self.messages(s).await;
            if pred(&list) {
                return list;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}; messages: {list:#?}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs the `huddle` binary against this app's database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        huddle_command()
            .args(args)
            .env("HUDDLE_DATABASE_URL", &self.config.database_url)
            .env("HUDDLE_LOG", "warn")
            .output()
            .expect("huddle binary runs")
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

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.handle.stop(false)); // the stop command is sent now; nobody waits for it
    }
}
