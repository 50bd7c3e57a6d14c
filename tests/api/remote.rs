//! The real binary (`CARGO_BIN_EXE_huddle`) as a separate process, and a
//! client that signs like the app: for tests that kill the server, fill its
//! disk, or read its memory alone (`faults.rs`, `ws_memory.rs`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use huddle::auth::signature::{self, DEFAULT_ACCESS_SECRET};
use huddle_actors::{Clock, SystemClock};
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{Resp, Session};
use crate::ws::WsClient;

/// Test numbers: any mobile starting 139000 signs in with this code.
pub(crate) const TEST_NUMBERS: &str = "86139000*:246810";
pub(crate) const TEST_CODE: &str = "246810";

/// The `huddle` binary with no `HUDDLE_*` variable inherited from the caller.
pub(crate) fn huddle_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_huddle"))
}

pub(crate) fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("HUDDLE_") {
            cmd.env_remove(k);
        }
    }
}

/// A running `huddle` process and its log.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `cmd` (the binary or a wrapper that execs it) and waits for
    /// its `listening` line.
    pub(crate) fn start(mut cmd: Command) -> Self {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the huddle binary starts");
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (tx, rx) = mpsc::channel::<String>();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        for stream in [
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Box::new(stderr),
        ] {
            let (log, tx) = (log.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        drop(tx);
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    if let Ok(v) = serde_json::from_str::<Value>(&line) {
                        if v["message"] == "listening" {
                            break v["addr"].as_str().unwrap().to_owned();
                        }
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().ok();
                    panic!(
                        "huddle exited before listening ({status:?}); its output:\n{}",
                        log.lock().unwrap().join("\n")
                    );
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "huddle exited before listening ({status}); its output:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "huddle did not listen within 60 s; its output:\n{}",
                log.lock().unwrap().join("\n")
            );
        };
        Self { child, addr, log }
    }

    /// SIGKILL (std's `Child::kill` on unix), then reaps the process.
    pub(crate) fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL delivered");
        let status = self.child.wait().expect("reaped");
        assert!(
            !status.success(),
            "a SIGKILLed server cannot exit 0: {status}"
        );
    }

    pub(crate) fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every request gets its own `ts` (so its own `sign`), as a real app's does.
static LAST_TS: AtomicI64 = AtomicI64::new(0);

pub(crate) fn fresh_ts() -> i64 {
    let now = SystemClock.now_ms();
    let prev = LAST_TS
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last + 1))
        })
        .unwrap_or_default();
    now.max(prev + 1)
}

/// Signs like the app and talks to one running server.
pub(crate) struct Remote {
    base: String,
    addr: String,
    http: reqwest::Client,
}

impl Remote {
    pub(crate) fn new(server: &Server) -> Self {
        Self {
            base: format!("http://{}", server.addr),
            addr: server.addr.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// A signed call; `Err` when no complete answer came back (the server died).
    pub(crate) async fn try_call(
        &self,
        method: Method,
        path: &str,
        who: Option<&Session>,
        params: &[(&str, String)],
    ) -> Result<Resp, String> {
        let mut all: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        all.push(("ts".into(), fresh_ts().to_string()));
        all.sort();
        let secret = who.map_or(DEFAULT_ACCESS_SECRET, |s| s.secret.as_str());
        let sign = signature::sign(all.iter().map(|(k, v)| (k.as_str(), v.as_str())), secret);
        all.push(("sign".into(), sign));
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.clone(), url);
        req = if method == Method::GET {
            req.query(&all)
        } else {
            req.form(&all)
        };
        if let Some(s) = who {
            req = req.header("Authorization", s.authorization());
        }
        let res = req.send().await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.map_err(|e| e.to_string())?;
        let body = serde_json::from_str(&text)
            .map_err(|_| format!("not JSON (HTTP {status}): {text:?}"))?;
        Ok(Resp {
            status,
            headers,
            body,
            text,
        })
    }

    /// A signed call to a server that is up.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        who: Option<&Session>,
        params: &[(&str, String)],
    ) -> Resp {
        self.try_call(method.clone(), path, who, params)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub(crate) async fn get(&self, path: &str, who: &Session, params: &[(&str, String)]) -> Resp {
        self.call(Method::GET, path, Some(who), params).await
    }

    pub(crate) async fn post(&self, path: &str, who: &Session, params: &[(&str, String)]) -> Resp {
        self.call(Method::POST, path, Some(who), params).await
    }

    /// Signs in a test number and sets up its profile.
    pub(crate) async fn sign_in(&self, mobile: &str, nickname: &str) -> Session {
        let res = self
            .call(
                Method::POST,
                "/account/login/captcha",
                None,
                &[("mobile", mobile.into()), ("captcha", TEST_CODE.into())],
            )
            .await;
        let s = crate::helpers::session_from(&res);
        self.post(
            "/user/profile/init",
            &s,
            &[
                ("nickname", nickname.into()),
                ("avatar", format!("https://cdn.example.com/{nickname}.jpg")),
            ],
        )
        .await
        .ok();
        s
    }

    /// Every item of a cursor list (pages of 100).
    pub(crate) async fn walk(&self, who: &Session, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let mut params = vec![("count", "100".to_owned())];
            if let Some(l) = &last {
                params.push(("lastId", l.clone()));
            }
            let res = self.get(path, who, &params).await;
            let list = res.ok()["list"].as_array().unwrap().clone();
            let short = list.len() < 100;
            if let Some(item) = list.last() {
                last = Some(crate::helpers::text(&item["sequenceId"]));
            }
            out.extend(list);
            if short {
                return out;
            }
        }
    }

    /// The signed `/ws` URL for `s`.
    pub(crate) fn ws_url(&self, s: &Session) -> String {
        crate::ws::signed_ws_url(&self.addr, s, fresh_ts())
    }

    /// Voice token, WebSocket, `join`: the join ack.
    pub(crate) async fn join_room(&self, s: &Session, room: &str) -> (WsClient, Value) {
        self.post(&format!("/room/{room}/token"), s, &[]).await.ok();
        let mut ws = WsClient::connect(&self.ws_url(s), &[])
            .await
            .expect("websocket upgrade");
        let ack = ws.join(room).await;
        (ws, ack)
    }
}

impl Server {
    /// The process's resident memory and its peak so far, in KiB
    /// (`VmRSS`, `VmHWM` of `/proc/<pid>/status`).
    pub(crate) fn memory_kib(&self) -> (u64, u64) {
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
