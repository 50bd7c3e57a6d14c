//! The multi-node harness: real `huddle` processes ([`Node`]) on one fresh
//! PostgreSQL database ([`TestDb`]) and a redis-server of the test's own
//! ([`RedisServer`]), optionally behind a TCP proxy that can cut PostgreSQL off
//! ([`PgProxy`]); a signed HTTP client ([`Call`]) and a WebSocket client
//! ([`WsClient`]) that keeps every frame's raw text and arrival time.
//!
//! Gating: `HUDDLE_TEST_DATABASE_URL` (an admin URL) and
//! `HUDDLE_TEST_REDIS_URL` must be set, and `redis-server` must be on PATH.
//! Without the two variables a test is skipped with a message, except under
//! `CI=true`, where it fails. Every child process is killed when its owner is
//! dropped, also when the test panics; a panicking test prints the tail of
//! each node's log.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream as StdTcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use huddle::auth::signature::{self, DEFAULT_ACCESS_SECRET};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore, SemaphorePermit};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long an expected frame or condition may take by default.
pub const WAIT: Duration = Duration::from_secs(10);
/// The fixed login code of every test number.
pub const CODE: &str = "246810";

// ------------------------------------------------------------------ gating

/// What the environment provides.
#[derive(Debug, Clone)]
pub struct Env {
    /// `HUDDLE_TEST_DATABASE_URL`: an admin URL; each test creates its own database.
    pub admin_db_url: String,
}

/// At most this many clusters run at once (processes are heavy and the
/// timing assertions should not starve); `HUDDLE_CLUSTER_PARALLEL` overrides.
static SLOTS: Semaphore = Semaphore::const_new(0);
static SLOTS_INIT: std::sync::Once = std::sync::Once::new();

/// The environment, or `None` (after a message) when the test must be skipped.
/// Panics under `CI=true` when the services are not configured, and whenever
/// `redis-server` is missing or the configured Redis does not answer.
pub fn gate(test: &str) -> Option<Env> {
    let db = std::env::var("HUDDLE_TEST_DATABASE_URL").unwrap_or_default();
    let redis = std::env::var("HUDDLE_TEST_REDIS_URL").unwrap_or_default();
    if db.is_empty() || redis.is_empty() {
        let why = "the cluster tests need PostgreSQL and Redis; set HUDDLE_TEST_DATABASE_URL \
                   and HUDDLE_TEST_REDIS_URL (e.g. postgres://postgres@127.0.0.1:5432/test \
                   and redis://127.0.0.1:6379)";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{test}: {why} (CI=true: never skipped)");
        }
        eprintln!("skipped: {test}: {why}");
        return None;
    }
    match Command::new("redis-server").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => panic!(
            "{test}: `redis-server` is not on PATH; the cluster tests start their own \
             redis-server for every test (install Redis, e.g. apt-get install redis-server)"
        ),
    }
    redis_ping_sync(&redis).unwrap_or_else(|e| {
        panic!("{test}: HUDDLE_TEST_REDIS_URL={redis} is set but Redis does not answer: {e}")
    });
    Some(Env { admin_db_url: db })
}

/// One cluster slot (see [`SLOTS`]); held by the [`Cluster`].
async fn slot() -> SemaphorePermit<'static> {
    SLOTS_INIT.call_once(|| {
        let n = std::env::var("HUDDLE_CLUSTER_PARALLEL")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2usize)
            .max(1);
        SLOTS.add_permits(n);
    });
    SLOTS
        .acquire()
        .await
        .expect("the slot semaphore is never closed")
}

/// `PING` over a plain TCP connection to a `redis://host:port` URL.
fn redis_ping_sync(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = parsed.port().unwrap_or(6379);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let mut s =
        StdTcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"PING\r\n").map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).map_err(|e| e.to_string())?;
    let answer = String::from_utf8_lossy(&buf[..n]);
    if answer.starts_with("+PONG") {
        Ok(())
    } else {
        Err(format!("answered {answer:?}"))
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(d.as_millis()).expect("ms fit i64")
}

/// A fresh `ts`: the wall clock, but never the same value twice in this
/// process (so two identical calls are never one replayed request).
pub fn fresh_ts() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = now_ms();
    let mut last = LAST.load(Ordering::SeqCst);
    loop {
        let ts = now.max(last + 1);
        match LAST.compare_exchange(last, ts, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return ts,
            Err(seen) => last = seen,
        }
    }
}

// ------------------------------------------------------------------ database

/// A fresh PostgreSQL database `huddle_c_<uuid>`, dropped `WITH (FORCE)` on drop.
pub struct TestDb {
    admin_url: String,
    name: String,
    /// The database's URL (direct, not through a proxy).
    pub url: String,
}

impl TestDb {
    pub async fn create(admin_url: &str) -> Self {
        let name = format!("huddle_c_{}", uuid::Uuid::new_v4().simple());
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
        Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        }
    }

    /// PostgreSQL's `host:port` as the admin URL names it.
    pub fn upstream(&self) -> String {
        let url = url::Url::parse(&self.admin_url).expect("admin URL");
        format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port().unwrap_or(5432)
        )
    }

    /// The database's URL with `host:port` replaced (to go through a proxy).
    pub fn url_via(&self, port: u16) -> String {
        let mut url = url::Url::parse(&self.url).expect("db URL");
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(port)).expect("port");
        url.to_string()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
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
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut conn)
                            .await;
                }
            });
        })
        .join();
    }
}

// ------------------------------------------------------------------ redis

/// A redis-server of this test's own on a free port; can be killed and
/// started again on the same port.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl RedisServer {
    pub async fn start() -> Self {
        for _ in 0..5 {
            let mut server = Self {
                port: free_port(),
                child: None,
                dir: tempfile::tempdir().expect("tempdir"),
            };
            if server.spawn().await {
                return server;
            }
        }
        panic!("redis-server did not start on any of 5 free ports");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts redis-server on `self.port`; true once it answers PING.
    async fn spawn(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        let url = self.url();
        while Instant::now() < deadline {
            if redis_ping_sync(&url).is_ok() {
                return true;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(_)) = child.try_wait() {
                    self.child = None;
                    return false; // port taken meanwhile
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.kill();
        false
    }

    /// SIGKILL, waiting until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (empty: nothing was saved).
    pub async fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.spawn().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not restart on port {}", self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

impl RedisServer {
    /// Runs one command on a connection of its own; the reply as JSON
    /// (status and bulk strings as strings, nil as null, errors as
    /// `{"error": …}`).
    pub async fn command(&self, args: &[&str]) -> Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to the test's redis-server");
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        tokio::io::AsyncWriteExt::write_all(&mut stream, out.as_bytes())
            .await
            .expect("write to redis");
        let mut reader = tokio::io::BufReader::new(stream);
        tokio::time::timeout(Duration::from_secs(5), resp_value(&mut reader))
            .await
            .expect("redis answers within 5 s")
    }

    /// How many connections subscribe to `channel` (`PUBSUB NUMSUB`).
    pub async fn subscribers(&self, channel: &str) -> i64 {
        let v = self.command(&["PUBSUB", "NUMSUB", channel]).await;
        v[1].as_i64()
            .unwrap_or_else(|| panic!("PUBSUB NUMSUB answered {v}"))
    }
}

/// One RESP2 value.
fn resp_value<'a>(
    r: &'a mut tokio::io::BufReader<TcpStream>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Value> + Send + 'a>> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    Box::pin(async move {
        let mut line = String::new();
        r.read_line(&mut line).await.expect("read a redis reply");
        let line = line.trim_end_matches("\r\n");
        let (kind, rest) = line.split_at(1.min(line.len()));
        match kind {
            "+" => json!(rest),
            "-" => json!({ "error": rest }),
            ":" => json!(rest.parse::<i64>().expect("integer reply")),
            "$" => {
                let n: i64 = rest.parse().expect("bulk length");
                if n < 0 {
                    return Value::Null;
                }
                let mut buf = vec![0u8; usize::try_from(n).expect("length") + 2];
                r.read_exact(&mut buf).await.expect("bulk body");
                buf.truncate(buf.len() - 2);
                json!(String::from_utf8_lossy(&buf))
            }
            "*" => {
                let n: i64 = rest.parse().expect("array length");
                let mut items = Vec::new();
                for _ in 0..n.max(0) {
                    items.push(resp_value(r).await);
                }
                Value::Array(items)
            }
            _ => panic!("unexpected redis reply {line:?}"),
        }
    })
}

// ------------------------------------------------------------------ fake http

/// A request a [`FakeHttp`] received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A local HTTP/1.1 server standing in for an outside service (JPush, an
/// SMS gateway): it records every request and answers 200 with `reply`
/// (`Connection: close`, one request per connection).
pub struct FakeHttp {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeHttp {
    pub async fn start(reply: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind fake");
        let addr = listener.local_addr().expect("fake addr");
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (log, reply) = (seen.clone(), reply.to_owned());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (log, reply) = (log.clone(), reply.clone());
                tokio::spawn(async move {
                    let _ = serve_one(stream, &log, &reply).await;
                });
            }
        });
        Self { addr, seen, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests so far whose path (before `?`) is `path`.
    pub fn requests(&self, path: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .map(|s| {
                s.iter()
                    .filter(|r| r.target.split('?').next() == Some(path))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_one(stream: TcpStream, log: &Mutex<Vec<Seen>>, reply: &str) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let mut r = tokio::io::BufReader::new(stream);
    let mut request_line = String::new();
    r.read_line(&mut request_line).await?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    r.read_exact(&mut body).await?;
    if let Ok(mut log) = log.lock() {
        log.push(Seen {
            method,
            target,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Instant::now(),
        });
    }
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    );
    let mut stream = r.into_inner();
    stream.write_all(answer.as_bytes()).await?;
    stream.shutdown().await
}

// ------------------------------------------------------------------ pg proxy

/// A TCP proxy in front of PostgreSQL: `cut` drops every proxied connection
/// and closes new ones at once; `restore` forwards again.
pub struct PgProxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    epoch: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl PgProxy {
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy addr").port();
        let cut = Arc::new(AtomicBool::new(false));
        let (epoch, _) = watch::channel(0u64);
        let (flag, tx) = (cut.clone(), epoch.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut down, _)) = listener.accept().await else {
                    continue;
                };
                let mut rx = tx.subscribe();
                if flag.load(Ordering::SeqCst) {
                    drop(down); // refused: closed at once
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut up) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut down, &mut up) => {}
                        _ = rx.changed() => {} // cut: both ends are dropped (closed)
                    }
                });
            }
        });
        Self {
            port,
            cut,
            epoch,
            task,
        }
    }

    /// Cuts PostgreSQL off: open connections are closed, new ones too.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.epoch.send_modify(|e| *e += 1);
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.epoch.send_modify(|e| *e += 1);
    }
}

// ------------------------------------------------------------------ nodes

/// How a node is started.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub id: String,
    pub env: Vec<(String, String)>,
}

/// A running `huddle` process.
pub struct Node {
    pub id: String,
    /// `127.0.0.1:PORT` it listens on.
    pub addr: SocketAddr,
    config: NodeConfig,
    child: Option<Child>,
    log: Arc<Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
    client: reqwest::Client,
}

fn read_lines(stream: impl Read + Send + 'static, log: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Ok(mut log) = log.lock() {
                log.push(line);
            }
        }
    });
}

impl Node {
    /// Spawns the binary and waits for its `listening` line.
    pub async fn spawn(config: NodeConfig) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (child, addr, log) = Self::launch(&config, &dir).await;
        Self {
            id: config.id.clone(),
            addr,
            config,
            child: Some(child),
            log,
            dir,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("reqwest client"),
        }
    }

    async fn launch(
        config: &NodeConfig,
        dir: &tempfile::TempDir,
    ) -> (Child, SocketAddr, Arc<Mutex<Vec<String>>>) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_huddle"));
        for (k, _) in std::env::vars() {
            if k.starts_with("HUDDLE_") {
                cmd.env_remove(k);
            }
        }
        cmd.current_dir(dir.path())
            .env("HUDDLE_HTTP_ADDR", "127.0.0.1:0")
            .env("HUDDLE_RATE_LIMITS", "off")
            .env("HUDDLE_LOG_FORMAT", "json")
            .env("HUDDLE_NODE_ID", &config.id)
            .envs(config.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn the huddle binary");
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        if let Some(out) = child.stdout.take() {
            read_lines(out, log.clone());
        }
        if let Some(err) = child.stderr.take() {
            read_lines(err, log.clone());
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = log.lock().ok().and_then(|lines| {
                lines.iter().find_map(|l| {
                    let v: Value = serde_json::from_str(l).ok()?;
                    (v["message"] == "listening")
                        .then(|| v["addr"].as_str()?.parse::<SocketAddr>().ok())
                        .flatten()
                })
            });
            if let Some(addr) = found {
                return (child, addr, log);
            }
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                tokio::time::sleep(Duration::from_millis(50)).await;
                let lines = log.lock().map(|l| l.join("\n")).unwrap_or_default();
                panic!(
                    "node {} did not start ({}); its output:\n{lines}",
                    config.id,
                    exited.map_or("no listening line within 30 s".to_owned(), |s| s
                        .to_string())
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// kill -9: no graceful shutdown, sockets are reset by the kernel.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again (same settings, new port).
    pub async fn restart(&mut self) {
        self.kill();
        let (child, addr, log) = Self::launch(&self.config, &self.dir).await;
        self.child = Some(child);
        self.addr = addr;
        self.log = log;
    }

    /// The log so far (JSON lines).
    pub fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            node: self,
            method,
            path: path.to_owned(),
            params: Vec::new(),
            session: None,
            headers: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }

    /// `GET /readyz` (unsigned); `Err` when the node does not answer.
    pub async fn readyz(&self) -> Result<Resp, String> {
        try_send(
            self.client
                .get(self.url("/readyz"))
                .timeout(Duration::from_secs(5)),
        )
        .await
    }

    /// Logs test number `n` in on this node (registering it the first time).
    pub async fn login(&self, n: usize) -> Session {
        let res = self
            .post("/account/login/captcha")
            .param("mobile", mobile(n))
            .param("captcha", CODE)
            .send()
            .await;
        let r = res.ok();
        Session {
            uid: r["uid"].as_str().expect("uid").to_owned(),
            token: r["accessToken"].as_str().expect("accessToken").to_owned(),
            secret: r["accessSecret"].as_str().expect("accessSecret").to_owned(),
        }
    }

    /// Logs test number `n` in and initialises its profile.
    pub async fn user(&self, n: usize, nickname: &str) -> Session {
        let s = self.login(n).await;
        self.post("/user/profile/init")
            .user(&s)
            .param("nickname", nickname)
            .param(
                "avatar",
                format!("https://cdn.example.com/avatar/{}.jpg", s.uid),
            )
            .param("bio", format!("hi, I am {nickname}"))
            .send()
            .await
            .ok();
        s
    }

    /// `POST /club`; returns the clubId.
    pub async fn create_club(&self, s: &Session, name: &str) -> String {
        let res = self
            .post("/club")
            .user(s)
            .param("name", name)
            .param("cover", "https://cdn.example.com/cover/c.jpg")
            .send()
            .await;
        id(res.ok(), "clubId")
    }

    /// `POST /club/{id}/join`; returns the club.
    pub async fn join_club(&self, s: &Session, club: &str) -> Value {
        self.post(&format!("/club/{club}/join"))
            .user(s)
            .send()
            .await
            .ok()
            .clone()
    }

    /// `GET /club/{id}`.
    pub async fn club(&self, s: &Session, club: &str) -> Value {
        self.get(&format!("/club/{club}"))
            .user(s)
            .send()
            .await
            .ok()
            .clone()
    }

    /// `POST /room` in `club`; returns the roomId.
    pub async fn create_room(&self, s: &Session, name: &str, club: &str) -> String {
        let res = self
            .post("/room")
            .user(s)
            .param("name", name)
            .param("clubId", club)
            .send()
            .await;
        id(res.ok(), "roomId")
    }

    /// `POST /room/{id}/token`: the caller becomes a member.
    pub async fn room_token(&self, s: &Session, room: &str) {
        let res = self
            .post(&format!("/room/{room}/token"))
            .user(s)
            .send()
            .await;
        assert!(res.ok()["token"].is_string(), "{}", res.text);
    }

    /// `GET /room/{id}` as `s`.
    pub async fn room(&self, s: &Session, room: &str) -> Value {
        self.get(&format!("/room/{room}"))
            .user(s)
            .send()
            .await
            .ok()
            .clone()
    }

    /// The uids of `GET /room/{id}` `memberList`.
    pub async fn room_members(&self, s: &Session, room: &str) -> Vec<String> {
        let r = self.room(s, room).await;
        r["memberList"]
            .as_array()
            .expect("memberList")
            .iter()
            .map(|m| id(m, "uid"))
            .collect()
    }

    /// The signed `/ws` URL for `s`.
    pub fn ws_url(&self, s: &Session) -> String {
        let ts = fresh_ts().to_string();
        let params = [
            ("accessToken", s.token.as_str()),
            ("ts", ts.as_str()),
            ("uid", s.uid.as_str()),
        ];
        let sign = signature::sign(params.iter().copied(), &s.secret);
        format!(
            "ws://{}/ws?uid={}&accessToken={}&ts={ts}&sign={sign}",
            self.addr, s.uid, s.token
        )
    }

    /// A WebSocket of `s` on this node (after `hello`).
    pub async fn ws(&self, s: &Session) -> WsClient {
        WsClient::connect(&self.ws_url(s), &self.id).await
    }

    /// `s` takes a voice token here and joins the room on a new socket here.
    pub async fn member_socket(&self, s: &Session, room: &str) -> (WsClient, i64) {
        self.room_token(s, room).await;
        let mut ws = self.ws(s).await;
        let ack = ws.join(room).await;
        let seq = ack["seq"].as_i64().expect("join ack seq");
        (ws, seq)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = self.log();
            let tail = &log[log.len().saturating_sub(40)..];
            eprintln!(
                "---- node {} ({}): last {} log lines ----\n{}",
                self.id,
                self.addr,
                tail.len(),
                tail.join("\n")
            );
        }
    }
}

/// Test number `n`'s mobile (country code 86).
pub fn mobile(n: usize) -> String {
    format!("139{n:08}")
}

/// `HUDDLE_SMS_TEST_NUMBERS` for test numbers `0..count`.
pub fn test_numbers(count: usize) -> String {
    (0..count)
        .map(|n| format!("86{}:{CODE}", mobile(n)))
        .collect::<Vec<_>>()
        .join(",")
}

/// `v[key]` as an owned string.
#[track_caller]
pub fn id(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {v}"))
        .to_owned()
}

// ------------------------------------------------------------------ cluster

/// What a test's cluster looks like.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Nodes, named a, b, c, …
    pub nodes: usize,
    /// Test numbers `0..users` log in with [`CODE`].
    pub users: usize,
    /// `HUDDLE_ROOM_GRACE_MS`.
    pub grace_ms: u64,
    /// `HUDDLE_SCHEDULER_TICK_MS`.
    pub tick_ms: u64,
    /// Nodes reach PostgreSQL through a [`PgProxy`].
    pub pg_proxy: bool,
    /// Nodes get `HUDDLE_REDIS_URL` (false: embedded, one node on its own).
    pub redis: bool,
    /// More `HUDDLE_*` settings for every node (after, so over, the defaults).
    pub extra_env: Vec<(String, String)>,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            nodes: 2,
            users: 20,
            grace_ms: 2_000,
            tick_ms: 200,
            pg_proxy: false,
            redis: true,
            extra_env: Vec::new(),
        }
    }
}

/// Several nodes on one database and one redis-server of the test's own.
/// Dropped in field order: nodes first, then the proxy, Redis, the database.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub proxy: Option<PgProxy>,
    pub redis: RedisServer,
    pub db: TestDb,
    _slot: SemaphorePermit<'static>,
}

impl Cluster {
    pub async fn start(env: &Env, spec: Spec) -> Self {
        let slot = slot().await;
        let db = TestDb::create(&env.admin_db_url).await;
        let redis = RedisServer::start().await;
        let proxy = if spec.pg_proxy {
            Some(PgProxy::start(db.upstream()).await)
        } else {
            None
        };
        let database_url = proxy
            .as_ref()
            .map_or_else(|| db.url.clone(), |p| db.url_via(p.port));
        let numbers = test_numbers(spec.users);
        let mut nodes = Vec::new();
        // One after another: the first node migrates the fresh database and
        // stores the shared secrets; the others find them.
        for i in 0..spec.nodes {
            let id = char::from(b'a' + u8::try_from(i).expect("few nodes")).to_string();
            let redis_url = if spec.redis {
                redis.url()
            } else {
                String::new()
            };
            let env = vec![
                ("HUDDLE_DATABASE_URL", database_url.clone()),
                ("HUDDLE_DATABASE_MAX_CONNECTIONS", "8".to_owned()),
                ("HUDDLE_REDIS_URL", redis_url),
                ("HUDDLE_WORKERS", "2".to_owned()),
                ("HUDDLE_SHUTDOWN_TIMEOUT_SECS", "1".to_owned()),
                ("HUDDLE_SMS_TEST_NUMBERS", numbers.clone()),
                ("HUDDLE_ROOM_GRACE_MS", spec.grace_ms.to_string()),
                ("HUDDLE_SCHEDULER_TICK_MS", spec.tick_ms.to_string()),
                ("HUDDLE_WS_PING_INTERVAL_MS", "5000".to_owned()),
                ("HUDDLE_WS_IDLE_TIMEOUT_MS", "60000".to_owned()),
                (
                    "HUDDLE_AGORA_APP_ID",
                    "970ca35de60c44645bbae8a215061b33".to_owned(),
                ),
                (
                    "HUDDLE_AGORA_APP_CERTIFICATE",
                    "5cfd2fd1755d40ecb72977518be15d3b".to_owned(),
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .chain(spec.extra_env.iter().cloned())
            .collect();
            nodes.push(Node::spawn(NodeConfig { id, env }).await);
        }
        Self {
            nodes,
            proxy,
            redis,
            db,
            _slot: slot,
        }
    }

    pub fn a(&self) -> &Node {
        &self.nodes[0]
    }

    pub fn b(&self) -> &Node {
        &self.nodes[1]
    }

    pub fn c(&self) -> &Node {
        &self.nodes[2]
    }

    /// Logs test numbers `range` in with initialised profiles, `parallel` at
    /// a time, user `n` through node `n % nodes`.
    pub async fn users(&self, range: std::ops::Range<usize>, parallel: usize) -> Vec<Session> {
        let nodes = &self.nodes;
        futures_util::stream::iter(range)
            .map(|n| async move { nodes[n % nodes.len()].user(n, &format!("user{n}")).await })
            .buffered(parallel)
            .collect()
            .await
    }

    /// A host with a club and a room in it, made on node `on`:
    /// (host session, clubId, roomId).
    pub async fn hosted_room(&self, on: usize, n: usize) -> (Session, String, String) {
        let node = &self.nodes[on];
        let host = node.user(n, "Host").await;
        let club = node.create_club(&host, "Club").await;
        let room = node.create_room(&host, "Live", &club).await;
        (host, club, room)
    }
}

// ------------------------------------------------------------------ http

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

/// A response: HTTP status and the parsed JSON body (`Null` when not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
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

    /// Asserts a business failure (HTTP 200, status 0) with `code`.
    #[track_caller]
    pub fn business(&self, code: i64) {
        assert_eq!(self.status, 200, "{}", self.text);
        assert_eq!(self.body["status"], 0, "{}", self.text);
        assert_eq!(self.body["result"], code, "{}", self.text);
    }

    /// Asserts the 403 envelope (`Forbidden: …`).
    #[track_caller]
    pub fn forbidden(&self) {
        assert_eq!(self.status, 403, "{}", self.text);
        assert_eq!(self.body["status"], 0, "{}", self.text);
        let message = self.body["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("Forbidden"), "{}", self.text);
    }

    /// Whether this is a success envelope.
    pub fn is_ok(&self) -> bool {
        self.status == 200 && self.body["status"] == 1
    }

    /// Asserts the 503 envelope (`Service Unavailable: …`).
    #[track_caller]
    pub fn unavailable(&self) {
        assert_eq!(self.status, 503, "{}", self.text);
        assert_eq!(self.body["status"], 0, "{}", self.text);
        assert_eq!(self.body["result"], 0, "{}", self.text);
        let message = self.body["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("Service Unavailable"),
            "503 envelope message: {}",
            self.text
        );
    }
}

/// Sends; `Err` with the transport error (refused, timed out).
pub async fn try_send(req: reqwest::RequestBuilder) -> Result<Resp, String> {
    let res = req.send().await.map_err(|e| format!("{e:?}"))?;
    let status = res.status().as_u16();
    let text = res.text().await.map_err(|e| format!("{e:?}"))?;
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Resp { status, body, text })
}

/// A request under construction; signed at `send` like the app signs.
pub struct Call<'a> {
    node: &'a Node,
    method: Method,
    path: String,
    params: Vec<(String, String)>,
    session: Option<Session>,
    headers: Vec<(String, String)>,
}

impl Call<'_> {
    pub fn param(mut self, k: &str, v: impl ToString) -> Self {
        self.params.push((k.to_owned(), v.to_string()));
        self
    }

    pub fn user(mut self, s: &Session) -> Self {
        self.session = Some(s.clone());
        self
    }

    /// An HTTP header (e.g. `Client-Type`).
    pub fn header(mut self, k: &str, v: impl ToString) -> Self {
        self.headers.push((k.to_owned(), v.to_string()));
        self
    }

    /// Signs now, once: the result can be sent as the very same request
    /// (same `ts`, same `sign`) to any node, any number of times.
    pub fn signed_once(self) -> SignedCall {
        SignedCall {
            method: self.method.clone(),
            path: self.path.clone(),
            params: self.signed_params(),
            session: self.session.clone(),
            headers: self.headers.clone(),
        }
    }

    fn signed_params(&self) -> Vec<(String, String)> {
        let mut params = self.params.clone();
        params.push(("ts".into(), fresh_ts().to_string()));
        params.sort();
        let secret = self
            .session
            .as_ref()
            .map_or(DEFAULT_ACCESS_SECRET, |s| s.secret.as_str());
        let sign = signature::sign(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), secret);
        params.push(("sign".into(), sign));
        params
    }

    fn request(&self, timeout: Duration) -> reqwest::RequestBuilder {
        let params = self.signed_params();
        let url = self.node.url(&self.path);
        let mut req = self
            .node
            .client
            .request(self.method.clone(), url)
            .timeout(timeout);
        req = if self.method == Method::GET {
            req.query(&params)
        } else {
            req.form(&params)
        };
        if let Some(s) = &self.session {
            req = req.header("Authorization", s.authorization());
        }
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        req
    }

    /// Sends; panics when the node does not answer.
    pub async fn send(self) -> Resp {
        let what = format!("{} {} on node {}", self.method, self.path, self.node.id);
        try_send(self.request(Duration::from_secs(20)))
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"))
    }

    /// Sends with a deadline; `Err` when there is no answer in time.
    pub async fn try_send(self, timeout: Duration) -> Result<Resp, String> {
        try_send(self.request(timeout)).await
    }
}

/// A request signed once ([`Call::signed_once`]), to send again as is.
#[derive(Debug, Clone)]
pub struct SignedCall {
    pub method: Method,
    pub path: String,
    /// Every parameter, `ts` and `sign` included.
    pub params: Vec<(String, String)>,
    pub session: Option<Session>,
    pub headers: Vec<(String, String)>,
}

impl SignedCall {
    /// Sends these exact parameters to `node`; panics when it does not answer.
    pub async fn send_to(&self, node: &Node) -> Resp {
        let mut req = node
            .client
            .request(self.method.clone(), node.url(&self.path))
            .timeout(Duration::from_secs(20));
        req = if self.method == Method::GET {
            req.query(&self.params)
        } else {
            req.form(&self.params)
        };
        if let Some(s) = &self.session {
            req = req.header("Authorization", s.authorization());
        }
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        try_send(req).await.unwrap_or_else(|e| {
            panic!(
                "{} {} on node {}: no answer: {e}",
                self.method, self.path, node.id
            )
        })
    }
}

/// Polls `check` every 50 ms until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ------------------------------------------------------------------ websocket

type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A server frame: parsed, its exact text, and when it was read.
#[derive(Debug, Clone)]
pub struct Frame {
    pub v: Value,
    pub text: String,
    pub at: Instant,
}

impl std::ops::Deref for Frame {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.v
    }
}

/// A connected client on one node.
pub struct WsClient {
    /// The node it is connected to (for messages).
    pub node: String,
    stream: Stream,
    /// Frames read but not consumed yet, in arrival order.
    pending: VecDeque<Frame>,
    next_id: u64,
    /// Set once the connection ended: (code, reason).
    pub closed: Option<(u16, String)>,
    pub hello: Value,
}

impl WsClient {
    /// Connects and reads `hello`.
    pub async fn connect(url: &str, node: &str) -> Self {
        match Self::try_connect(url, node).await {
            Ok(client) => client,
            Err((status, body)) => {
                panic!("websocket upgrade on node {node}: refused with HTTP {status}: {body}")
            }
        }
    }

    /// Connects and reads `hello`; `Err((status, envelope))` when the
    /// upgrade is refused with an HTTP response.
    pub async fn try_connect(url: &str, node: &str) -> Result<Self, (u16, Value)> {
        let stream = match tokio_tungstenite::connect_async(url).await {
            Ok((stream, _)) => stream,
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
                let body = res
                    .body()
                    .as_ref()
                    .map(|b| serde_json::from_slice(b).unwrap_or(Value::Null))
                    .unwrap_or(Value::Null);
                return Err((res.status().as_u16(), body));
            }
            Err(e) => panic!("websocket upgrade on node {node}: {e}"),
        };
        let mut client = Self {
            node: node.to_owned(),
            stream,
            pending: VecDeque::new(),
            next_id: 0,
            closed: None,
            hello: Value::Null,
        };
        client.hello = client.next_of("hello").await.v;
        Ok(client)
    }

    /// Sends `op` with `fields` and an id, without waiting; returns the id.
    pub async fn send_op(&mut self, op: &str, fields: Value) -> Value {
        self.next_id += 1;
        let id = json!(format!("r{}", self.next_id));
        let mut frame = fields;
        frame["op"] = json!(op);
        frame["id"] = id.clone();
        self.stream
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap_or_else(|e| panic!("send {op} on node {}: {e}", self.node));
        id
    }

    /// Sends `op` and returns its answer (`ack`, `error` or `pong` with the same id).
    pub async fn request(&mut self, op: &str, fields: Value) -> Frame {
        let id = self.send_op(op, fields).await;
        self.take(|f| {
            f["id"] == id && ["ack", "error", "pong"].contains(&f["type"].as_str().unwrap_or(""))
        })
        .await
    }

    /// Like [`WsClient::request`], asserting an ack.
    pub async fn ok(&mut self, op: &str, fields: Value) -> Frame {
        let answer = self.request(op, fields).await;
        assert_eq!(
            answer["type"], "ack",
            "{op} on node {} failed: {}",
            self.node, answer.text
        );
        answer
    }

    /// Joins a room (after a token) and returns the ack.
    pub async fn join(&mut self, room: &str) -> Frame {
        self.ok("join", json!({ "roomId": room })).await
    }

    /// An application-level ping; true when the pong came within `within`.
    pub async fn pings(&mut self, within: Duration) -> bool {
        if self.closed.is_some() {
            return false;
        }
        let id = self.send_op("ping", json!({})).await;
        self.take_within(within, |f| f["type"] == "pong" && f["id"] == id)
            .await
            .is_some()
    }

    /// The first frame (buffered or new) matching `pred` within [`WAIT`];
    /// others stay buffered. Panics otherwise.
    pub async fn take(&mut self, pred: impl Fn(&Frame) -> bool) -> Frame {
        match self.take_within(WAIT, pred).await {
            Some(f) => f,
            None => panic!(
                "node {}: no matching frame within {WAIT:?} (closed: {:?}); buffered: {:#?}",
                self.node,
                self.closed,
                self.pending.iter().map(|f| &f.text).collect::<Vec<_>>()
            ),
        }
    }

    /// Like [`WsClient::take`] with its own deadline; `None` when nothing matched.
    pub async fn take_within(
        &mut self,
        within: Duration,
        pred: impl Fn(&Frame) -> bool,
    ) -> Option<Frame> {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i);
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let f = self.read(deadline).await?;
            if pred(&f) {
                return Some(f);
            }
            self.pending.push_back(f);
        }
    }

    /// The first frame of type `kind`.
    pub async fn next_of(&mut self, kind: &str) -> Frame {
        self.take(|f| f["type"] == kind).await
    }

    /// Closes the connection like an app going away (a close frame, 1000),
    /// waiting up to 2 s for the server's answer.
    pub async fn close(&mut self) {
        if self.closed.is_some() {
            return;
        }
        let _ = self.stream.close(None).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while self.read(deadline).await.is_some() {}
        self.closed.get_or_insert((1000, String::new()));
    }

    /// Forgets buffered frames.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Reads for `ms` and returns (and consumes) every frame buffered and read.
    pub async fn drain_for(&mut self, ms: u64) -> Vec<Frame> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        while let Some(f) = self.read(deadline).await {
            self.pending.push_back(f);
        }
        self.pending.drain(..).collect()
    }

    /// Takes the room events of `room` (frames with a seq) until one
    /// satisfies `last` (included); panics after [`WAIT`] without it.
    pub async fn room_events_until(
        &mut self,
        room: &str,
        last: impl Fn(&Frame) -> bool,
    ) -> Vec<Frame> {
        let mut out = Vec::new();
        loop {
            let f = self
                .take(|f| f["roomId"] == room && f["seq"].is_i64())
                .await;
            let done = last(&f);
            out.push(f);
            if done {
                return out;
            }
        }
    }

    /// One frame from the socket before `deadline`; `None` at the deadline or once closed.
    async fn read(&mut self, deadline: tokio::time::Instant) -> Option<Frame> {
        if self.closed.is_some() {
            return None;
        }
        loop {
            let msg = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            match msg {
                Some(Ok(Message::Text(t))) => {
                    let text = t.to_string();
                    let v = serde_json::from_str(&text).unwrap_or_else(|_| {
                        panic!("node {}: frame is not JSON: {text}", self.node)
                    });
                    return Some(Frame {
                        v,
                        text,
                        at: Instant::now(),
                    });
                }
                Some(Ok(Message::Close(frame))) => {
                    self.closed = Some(
                        frame
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                            .unwrap_or((1005, String::new())),
                    );
                    return None;
                }
                Some(Ok(_)) => continue, // ping/pong: not protocol frames
                Some(Err(_)) | None => {
                    self.closed.get_or_insert((1006, String::new()));
                    return None;
                }
            }
        }
    }
}

/// The seqs of room events.
pub fn seqs(events: &[Frame]) -> Vec<i64> {
    events
        .iter()
        .map(|f| f["seq"].as_i64().expect("room events have a seq"))
        .collect()
}

/// Asserts that seqs go up by exactly 1, starting right after `after`.
#[track_caller]
pub fn assert_gap_free(what: &str, after: i64, events: &[Frame]) {
    for (expected, f) in (after + 1..).zip(events) {
        assert_eq!(
            f["seq"].as_i64(),
            Some(expected),
            "{what}: seq gap or repeat at {} (expected seq {expected}); seqs: {:?}",
            f.text,
            seqs(events)
        );
    }
}

/// Median and p99 of durations, in ms.
pub fn median_p99(samples: &mut [Duration]) -> (f64, f64) {
    assert!(!samples.is_empty(), "no samples");
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.99))
}
