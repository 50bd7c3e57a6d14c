//! The real binary as a separate process ([`Server`], the kit's
//! `cluster::Process`) and a client that signs like the app for it
//! ([`Remote`], a `Target` of the kit's signing client): for tests that kill
//! the server, fill its disk, or read its memory alone (`faults.rs`,
//! `ws_memory.rs`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{fresh_ts, session_from, Api, Call, Resp, Session, Target};
use crate::ws::WsClient;
pub(crate) use huddle_test_support::cluster::Process as Server;

/// Test numbers: any mobile starting 139000 signs in with this code.
pub(crate) const TEST_NUMBERS: &str = "86139000*:246810";
pub(crate) const TEST_CODE: &str = "246810";

/// The `huddle` binary.
pub(crate) fn huddle_binary() -> PathBuf {
    huddle_test_support::app::huddle_binary()
}

/// Removes every `HUDDLE_*` variable inherited from the caller.
pub(crate) fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("HUDDLE_") {
            cmd.env_remove(k);
        }
    }
}

/// Signs like the app and talks to one running server.
pub(crate) struct Remote {
    addr: SocketAddr,
    http: reqwest::Client,
}

impl Target for Remote {
    fn target_addr(&self) -> SocketAddr {
        self.addr
    }
    fn http(&self) -> &reqwest::Client {
        &self.http
    }
    fn next_ts(&self) -> i64 {
        fresh_ts()
    }
}

impl Remote {
    pub(crate) fn new(server: &Server) -> Self {
        Self {
            addr: server.addr,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// A signed call; `Err` when no complete JSON answer came back (the server died).
    pub(crate) async fn try_call(
        &self,
        method: Method,
        path: &str,
        who: Option<&Session>,
        params: &[(&str, String)],
    ) -> Result<Resp, String> {
        let mut call = Call::new(self, method, path);
        for (k, v) in params {
            call = call.param(k, v);
        }
        if let Some(s) = who {
            call = call.user(s);
        }
        let res = call.try_send(Duration::from_secs(30)).await?;
        if res.body.is_null() {
            return Err(format!("not JSON (HTTP {}): {:?}", res.status, res.text));
        }
        Ok(res)
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
        let s = session_from(&self.login_with(mobile, TEST_CODE).await);
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
        Api::walk(self, who, path, 100, None).await
    }

    /// The signed `/ws` URL for `s`.
    pub(crate) fn ws_url(&self, s: &Session) -> String {
        Api::ws_url(self, s)
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
