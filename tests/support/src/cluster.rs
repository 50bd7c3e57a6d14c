//! Real `huddle` processes ([`Node`]) and what several of them share: one
//! fresh PostgreSQL database ([`TestDb::postgres`]), a redis-server of the
//! test's own ([`RedisServer`], driven with the `redis` crate), optionally
//! behind a TCP proxy that can cut PostgreSQL off ([`PgProxy`]); a
//! [`Cluster`] of two or three nodes.
//!
//! Gating ([`gate`]): `HUDDLE_TEST_DATABASE_URL` (an admin URL) and
//! `HUDDLE_TEST_REDIS_URL` must be set, and `redis-server` must be on PATH.
//! Without the two variables a test is skipped with a message, except under
//! `CI=true`, where it fails. Every child process is killed when its owner is
//! dropped, also when the test panics; a panicking test prints the tail of
//! each node's log.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore, SemaphorePermit};

use crate::app::{huddle_command, TestDb, AGORA_APP_ID, AGORA_CERT, TEST_CODE};
use crate::client::{fresh_ts, id, try_send, Api, Resp, Session, Target};
use crate::ws::{Frame, WsClient};

/// The fixed login code of every test number.
pub const CODE: &str = TEST_CODE;

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
    if let Err(e) = redis_ping(&redis) {
        panic!("{test}: HUDDLE_TEST_REDIS_URL={redis} is set but Redis does not answer: {e}");
    }
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

/// A connection to the Redis at `url`, within 2 s.
async fn redis_connection(url: &str) -> Result<redis::aio::MultiplexedConnection, String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    tokio::time::timeout(
        Duration::from_secs(2),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| "no connection within 2 s".to_owned())?
    .map_err(|e| e.to_string())
}

/// `PING` to the Redis at `url` (blocking, 2 s at most).
fn redis_ping(url: &str) -> Result<(), String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let mut conn = client
        .get_connection_with_timeout(Duration::from_secs(2))
        .map_err(|e| e.to_string())?;
    conn.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let answer: String = redis::cmd("PING")
        .query(&mut conn)
        .map_err(|e| e.to_string())?;
    if answer == "PONG" {
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
            if redis_ping(&url).is_ok() {
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

    /// Runs one command on a connection of its own; the reply as JSON
    /// (status and bulk strings as strings, nil as null, errors as
    /// `{"error": …}`).
    pub async fn command(&self, args: &[&str]) -> Value {
        let mut conn = redis_connection(&self.url())
            .await
            .expect("connect to the test's redis-server");
        let mut cmd = redis::cmd(args[0]);
        cmd.arg(&args[1..]);
        let reply = tokio::time::timeout(
            Duration::from_secs(5),
            cmd.query_async::<redis::Value>(&mut conn),
        )
        .await
        .expect("redis answers within 5 s");
        match reply {
            Ok(v) => redis_json(v),
            Err(e) => json!({ "error": e.to_string() }),
        }
    }

    /// How many connections subscribe to `channel` (`PUBSUB NUMSUB`).
    pub async fn subscribers(&self, channel: &str) -> i64 {
        let v = self.command(&["PUBSUB", "NUMSUB", channel]).await;
        v[1].as_i64()
            .unwrap_or_else(|| panic!("PUBSUB NUMSUB answered {v}"))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Redis reply as JSON.
fn redis_json(v: redis::Value) -> Value {
    match v {
        redis::Value::Nil => Value::Null,
        redis::Value::Int(i) => json!(i),
        redis::Value::BulkString(b) => json!(String::from_utf8_lossy(&b)),
        redis::Value::SimpleString(s) => json!(s),
        redis::Value::Okay => json!("OK"),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            Value::Array(items.into_iter().map(redis_json).collect())
        }
        other => json!(format!("{other:?}")),
    }
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

// ------------------------------------------------------------------ processes

/// A started `huddle` process: its child, the address of its `listening`
/// log line (JSON logs), and every line it printed so far.
pub struct Process {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<String>>>,
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

impl Process {
    /// Spawns `cmd` (the binary or a wrapper that execs it, logging JSON) and
    /// waits up to 60 s for its `listening` line.
    pub fn start(cmd: Command) -> Self {
        Self::start_within(cmd, "huddle", Duration::from_secs(60))
    }

    /// Like [`Process::start`], waiting up to `within`; panics with the
    /// output of `what` when it exits or does not listen in time.
    pub fn start_within(mut cmd: Command, what: &str, within: Duration) -> Self {
        cmd.stdin(Stdio::null())
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
        let deadline = Instant::now() + within;
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
                return Self { child, addr, log };
            }
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(200));
                let lines = log.lock().map(|l| l.join("\n")).unwrap_or_default();
                panic!(
                    "{what} did not start ({}); its output:\n{lines}",
                    exited.map_or(format!("no listening line within {within:?}"), |s| s
                        .to_string())
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The log so far.
    pub fn lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The log so far, one text.
    pub fn log_text(&self) -> String {
        self.lines().join("\n")
    }

    /// SIGKILL (std's `Child::kill` on unix), then reaps the process.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL delivered");
        let status = self.child.wait().expect("reaped");
        assert!(
            !status.success(),
            "a SIGKILLed server cannot exit 0: {status}"
        );
    }

    /// The process's resident memory and its peak so far, in KiB
    /// (`VmRSS`, `VmHWM` of `/proc/<pid>/status`).
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/<pid>/status of the server");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} in /proc/<pid>/status"))
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a node is started.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub id: String,
    pub env: Vec<(String, String)>,
}

/// A running `huddle` process in a cluster.
pub struct Node {
    pub id: String,
    /// `127.0.0.1:PORT` it listens on.
    pub addr: SocketAddr,
    config: NodeConfig,
    process: Option<Process>,
    dir: tempfile::TempDir,
    client: reqwest::Client,
}

impl Target for Node {
    fn target_addr(&self) -> SocketAddr {
        self.addr
    }
    fn http(&self) -> &reqwest::Client {
        &self.client
    }
    fn next_ts(&self) -> i64 {
        fresh_ts()
    }
    fn label(&self) -> String {
        format!("node {}", self.id)
    }
}

impl Node {
    /// Spawns the binary and waits for its `listening` line.
    pub async fn spawn(config: NodeConfig) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let process = Self::launch(&config, &dir);
        Self {
            id: config.id.clone(),
            addr: process.addr,
            config,
            process: Some(process),
            dir,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("reqwest client"),
        }
    }

    fn launch(config: &NodeConfig, dir: &tempfile::TempDir) -> Process {
        let mut cmd = huddle_command();
        cmd.current_dir(dir.path())
            .env("HUDDLE_HTTP_ADDR", "127.0.0.1:0")
            .env("HUDDLE_RATE_LIMITS", "off")
            .env("HUDDLE_LOG_FORMAT", "json")
            .env("HUDDLE_NODE_ID", &config.id)
            .envs(config.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Process::start_within(cmd, &format!("node {}", config.id), Duration::from_secs(30))
    }

    /// kill -9: no graceful shutdown, sockets are reset by the kernel.
    pub fn kill(&mut self) {
        if let Some(p) = self.process.as_mut() {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }

    /// Starts the process again (same settings, new port).
    pub async fn restart(&mut self) {
        self.kill();
        let process = Self::launch(&self.config, &self.dir);
        self.addr = process.addr;
        self.process = Some(process);
    }

    /// The log so far (JSON lines).
    pub fn log(&self) -> Vec<String> {
        self.process
            .as_ref()
            .map(Process::lines)
            .unwrap_or_default()
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
        crate::client::session_from(&self.login_with(&mobile(n), CODE).await)
    }

    /// Logs test number `n` in and initialises its profile.
    pub async fn user(&self, n: usize, nickname: &str) -> Session {
        let s = self.login(n).await;
        self.init_profile(&s, nickname).await;
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
        let res = self.post_as(s, &format!("/room/{room}/token")).await;
        assert!(res.ok()["token"].is_string(), "{}", res.text);
    }

    /// A WebSocket of `s` on this node (after `hello`).
    pub async fn ws(&self, s: &Session) -> WsClient<Frame> {
        crate::ws::connect_as(self, s).await
    }

    /// `s` takes a voice token here and joins the room on a new socket here.
    pub async fn member_socket(&self, s: &Session, room: &str) -> (WsClient<Frame>, i64) {
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

// ------------------------------------------------------------------ cluster

/// `(name, value)` settings as [`Spec::extra_env`] holds them.
pub fn env_vars<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Vec<(String, String)> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

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
        let db = TestDb::postgres(&env.admin_db_url, "huddle_c_").await;
        let redis = RedisServer::start().await;
        let proxy = if spec.pg_proxy {
            Some(PgProxy::start(db.upstream()).await)
        } else {
            None
        };
        let database_url = proxy
            .as_ref()
            .map_or_else(|| db.url(), |p| db.url_via(p.port));
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
            let env = env_vars([
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
                ("HUDDLE_AGORA_APP_ID", AGORA_APP_ID.to_owned()),
                ("HUDDLE_AGORA_APP_CERTIFICATE", AGORA_CERT.to_owned()),
            ])
            .into_iter()
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
