//! The signing HTTP client: [`Call`] builds a request and signs it at
//! [`Call::send`] like the app signs (sorted parameters, `ts`, `sign`, Basic
//! credentials), to any [`Target`]: an in-process [`crate::app::TestApp`] or a
//! `huddle` process ([`crate::cluster::Node`]). Every response body it hands
//! back has passed the response-schema check ([`crate::schema`]).
//!
//! [`Api`] holds the few-line flows every suite repeats (profile init, clubs,
//! rooms, events, cursor pages), written once for every target.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use huddle::auth::signature::{self, DEFAULT_ACCESS_SECRET};
use reqwest::Method;
use serde_json::{json, Value};

use crate::shapes::{assert_keys, text};

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

/// The session of a login response.
#[track_caller]
pub fn session_from(res: &Resp) -> Session {
    let r = res.ok();
    Session {
        uid: id(r, "uid"),
        token: id(r, "accessToken"),
        secret: id(r, "accessSecret"),
    }
}

/// `v[key]` as an owned string.
#[track_caller]
pub fn id(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {v}"))
        .to_owned()
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(d.as_millis()).expect("ms fit i64")
}

/// A `ts` at least `floor` and above the last one `last` handed out: every
/// request gets its own `ts` (so its own `sign`), as a real app's does.
pub fn next_ts(last: &AtomicI64, floor: i64) -> i64 {
    let mut seen = last.load(Ordering::SeqCst);
    loop {
        let ts = floor.max(seen + 1);
        match last.compare_exchange(seen, ts, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return ts,
            Err(now) => seen = now,
        }
    }
}

/// A fresh `ts` on the wall clock, never the same twice in this process.
pub fn fresh_ts() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    next_ts(&LAST, now_ms())
}

/// The `/ws` URL on `addr` for `s`, credentials in the query, signed at `ts`.
pub fn signed_ws_url(addr: &str, s: &Session, ts: i64) -> String {
    let ts = ts.to_string();
    let params = [
        ("accessToken", s.token.as_str()),
        ("ts", ts.as_str()),
        ("uid", s.uid.as_str()),
    ];
    let sign = signature::sign(params.iter().copied(), &s.secret);
    format!(
        "ws://{addr}/ws?uid={}&accessToken={}&ts={ts}&sign={sign}",
        s.uid, s.token
    )
}

/// Polls `check` every `every` until it holds or `within` passes.
pub async fn poll<F, Fut>(within: Duration, every: Duration, mut check: F) -> bool
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
        tokio::time::sleep(every).await;
    }
}

/// Polls `check` every 20 ms for up to 5 s of real time; true once it holds.
pub async fn wait_for<F, Fut>(check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    poll(Duration::from_secs(5), Duration::from_millis(20), check).await
}

/// Polls `check` every 50 ms until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    poll(within, Duration::from_millis(50), check).await
}

/// How parameters travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Query,
    Form,
    Json,
}

/// A response: HTTP status, headers, the parsed JSON body (`Null` when the
/// body is not JSON) and its text.
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

    /// Whether this is a success envelope.
    pub fn is_ok(&self) -> bool {
        self.status == 200 && self.body["status"] == 1
    }

    /// Asserts a business failure with `code` and returns the message.
    #[track_caller]
    pub fn business(&self, code: i64) -> String {
        assert_eq!(self.status, 200, "{}", self.text);
        assert_eq!(self.body["status"], 0, "{}", self.text);
        assert_eq!(self.body["result"], code, "{}", self.text);
        self.body["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message: {}", self.text))
            .to_owned()
    }

    /// Asserts a protocol failure: `status`, result 0, status 0, and a message
    /// that starts with the seed's text `prefix`.
    #[track_caller]
    pub fn protocol(&self, status: u16, prefix: &str) -> String {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.body["status"], 0, "{}", self.text);
        assert_eq!(self.body["result"], 0, "{}", self.text);
        let message = self.body["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message: {}", self.text))
            .to_owned();
        assert!(
            message.starts_with(prefix),
            "message {message:?} should start with {prefix:?}"
        );
        message
    }

    /// Asserts the 403 envelope (`Forbidden: …`).
    #[track_caller]
    pub fn forbidden(&self) {
        self.protocol(403, "Forbidden");
    }

    /// Asserts the 503 envelope (`Service Unavailable: …`).
    #[track_caller]
    pub fn unavailable(&self) {
        self.protocol(503, "Service Unavailable");
    }
}

/// Sends and reads the whole answer; `Err` with the transport error (refused,
/// timed out). The body is checked against the OpenAPI document
/// ([`crate::schema::checker`]); a mismatch panics.
pub async fn try_send(req: reqwest::RequestBuilder) -> Result<Resp, String> {
    let (client, req) = req.build_split();
    let req = req.map_err(|e| format!("{e:?}"))?;
    let (method, path) = (req.method().clone(), req.url().path().to_owned());
    let res = client.execute(req).await.map_err(|e| format!("{e:?}"))?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.map_err(|e| format!("{e:?}"))?;
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if let Err(e) =
        crate::schema::checker().check(method.as_str(), &path, status, content_type, &text)
    {
        panic!(
            "{method} {path}: the response does not match /docs-json: {e}\nHTTP {status}: {text}"
        );
    }
    Ok(Resp {
        status,
        headers,
        body,
        text,
    })
}

/// Sends; panics when there is no answer or the answer is not JSON.
pub async fn send(req: reqwest::RequestBuilder) -> Resp {
    let res = try_send(req)
        .await
        .unwrap_or_else(|e| panic!("request reaches the server: {e}"));
    assert!(
        !res.body.is_null() || res.text == "null",
        "response is not JSON (HTTP {}): {:?}",
        res.status,
        res.text
    );
    res
}

/// A server the client talks to.
pub trait Target {
    /// `127.0.0.1:PORT` it listens on now.
    fn target_addr(&self) -> SocketAddr;
    fn http(&self) -> &reqwest::Client;
    /// The `ts` of the next request.
    fn next_ts(&self) -> i64;
    /// How panics name it.
    fn label(&self) -> String {
        self.target_addr().to_string()
    }
}

/// A request under construction; signed at `send` like the app signs.
pub struct Call<'a> {
    target: &'a dyn Target,
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
    pub fn new(target: &'a dyn Target, method: Method, path: &str) -> Self {
        Self {
            target,
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
    /// An HTTP header (e.g. `Client-Type`).
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
            self.ts.unwrap_or_else(|| self.target.next_ts()).to_string(),
        ));
        let mut sorted = params.clone();
        sorted.sort();
        let secret = self
            .session
            .as_ref()
            .map_or(DEFAULT_ACCESS_SECRET, |s| s.secret.as_str());
        let sign = self.sign.clone().unwrap_or_else(|| {
            signature::sign(sorted.iter().map(|(k, v)| (k.as_str(), v.as_str())), secret)
        });
        params.push(("sign".into(), sign));
        params
    }

    /// Signs now, once: the result can be sent as the very same request
    /// (same `ts`, same `sign`) to any target, any number of times.
    pub fn signed_once(self) -> SignedCall {
        SignedCall {
            params: self.signed_params(),
            json_extra: self.json_extra,
            method: self.method,
            path: self.path,
            session: self.session,
            transport: self.transport,
            headers: self.headers,
        }
    }

    /// Sends; panics when the server does not answer (20 s) or the answer is not JSON.
    pub async fn send(self) -> Resp {
        let target = self.target;
        let what = format!("{} {} on {}", self.method, self.path, target.label());
        let req = self.signed_once().request(target, Duration::from_secs(20));
        let res = try_send(req)
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
        assert!(
            !res.body.is_null(),
            "{what}: response is not JSON (HTTP {}): {:?}",
            res.status,
            res.text
        );
        res
    }

    /// Sends with a deadline; `Err` when there is no answer in time.
    pub async fn try_send(self, timeout: Duration) -> Result<Resp, String> {
        let target = self.target;
        try_send(self.signed_once().request(target, timeout)).await
    }
}

/// A request signed once ([`Call::signed_once`]), to send again as is.
#[derive(Debug, Clone)]
pub struct SignedCall {
    pub method: Method,
    pub path: String,
    /// Every parameter, `ts` and `sign` included.
    pub params: Vec<(String, String)>,
    json_extra: Vec<(String, Value)>,
    pub session: Option<Session>,
    transport: Option<Transport>,
    pub headers: Vec<(String, String)>,
}

impl SignedCall {
    fn request(&self, target: &dyn Target, timeout: Duration) -> reqwest::RequestBuilder {
        let url = format!("http://{}{}", target.target_addr(), self.path);
        let mut req = target
            .http()
            .request(self.method.clone(), url)
            .timeout(timeout);
        let transport = self.transport.unwrap_or(if self.method == Method::GET {
            Transport::Query
        } else {
            Transport::Form
        });
        req = match transport {
            Transport::Query => req.query(&self.params),
            Transport::Form => req.form(&self.params),
            Transport::Json => {
                let mut obj = serde_json::Map::new();
                for (k, v) in &self.params {
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
        req
    }

    /// Sends these exact parameters to `target`; panics when it does not answer.
    pub async fn send_to(&self, target: &dyn Target) -> Resp {
        try_send(self.request(target, Duration::from_secs(20)))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{} {} on {}: no answer: {e}",
                    self.method,
                    self.path,
                    target.label()
                )
            })
    }
}

/// The flows the suites repeat, for every [`Target`].
#[allow(async_fn_in_trait)] // the suites await them on their own runtime
pub trait Api: Target + Sized {
    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.target_addr(), path)
    }

    fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call::new(self, method, path)
    }

    fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }

    fn put(&self, path: &str) -> Call<'_> {
        self.call(Method::PUT, path)
    }

    fn delete(&self, path: &str) -> Call<'_> {
        self.call(Method::DELETE, path)
    }

    /// `GET path` as `s`, signed, no other parameter.
    async fn get_as(&self, s: &Session, path: &str) -> Resp {
        self.get(path).user(s).send().await
    }

    /// `POST path` as `s`, signed, no other parameter.
    async fn post_as(&self, s: &Session, path: &str) -> Resp {
        self.post(path).user(s).send().await
    }

    /// `PUT path` as `s`, signed, no other parameter.
    async fn put_as(&self, s: &Session, path: &str) -> Resp {
        self.put(path).user(s).send().await
    }

    /// `DELETE path` as `s`, signed, no other parameter.
    async fn delete_as(&self, s: &Session, path: &str) -> Resp {
        self.delete(path).user(s).send().await
    }

    /// `POST /h5/session` with no WeChat code: a guest's H5 token.
    async fn h5_session(&self) -> String {
        let res = self.post("/h5/session").send().await;
        let r = res.ok();
        assert_keys(r, &["h5Token", "guest", "expireTime"]);
        assert_eq!(r["guest"], 1, "{r}");
        id(r, "h5Token")
    }

    /// A signed H5 call (`POST path`) with the H5 token `token`.
    fn h5(&self, path: &str, token: &str) -> Call<'_> {
        self.post(path)
            .header("Authorization", &format!("Bearer {token}"))
    }

    /// `POST /room/{id}/cache` as `s`: the room's share token.
    async fn room_cache(&self, s: &Session, room_id: &str) -> String {
        let res = self.post_as(s, &format!("/room/{room_id}/cache")).await;
        res.ok()
            .as_str()
            .unwrap_or_else(|| panic!("no roomCacheId: {}", res.text))
            .to_owned()
    }

    /// `POST /account/login/captcha` with `mobile` and `code`.
    async fn login_with(&self, mobile: &str, code: &str) -> Resp {
        self.post("/account/login/captcha")
            .param("mobile", mobile)
            .param("captcha", code)
            .send()
            .await
    }

    /// `POST /user/profile/init` for `s`; returns the result.
    async fn init_profile(&self, s: &Session, nickname: &str) -> Value {
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

    /// `POST /club/{id}/join`; returns the club.
    async fn join_club(&self, s: &Session, club_id: &str) -> Value {
        self.post_as(s, &format!("/club/{club_id}/join"))
            .await
            .ok()
            .clone()
    }

    /// `GET /club/{id}` as `s`.
    async fn club(&self, s: &Session, club_id: &str) -> Value {
        self.get_as(s, &format!("/club/{club_id}"))
            .await
            .ok()
            .clone()
    }

    /// `POST /room` with `inviteOnly=1`; returns the room.
    async fn create_private_room(&self, s: &Session, name: &str) -> Value {
        self.post("/room")
            .user(s)
            .param("name", name)
            .param("inviteOnly", 1)
            .send()
            .await
            .ok()
            .clone()
    }

    /// `GET /room/{id}` as `s`; returns the room.
    async fn room(&self, s: &Session, room_id: &str) -> Value {
        self.get_as(s, &format!("/room/{room_id}"))
            .await
            .ok()
            .clone()
    }

    /// The uids of `GET /room/{id}` `memberList`.
    async fn room_members(&self, s: &Session, room_id: &str) -> Vec<String> {
        let r = self.room(s, room_id).await;
        r["memberList"]
            .as_array()
            .unwrap_or_else(|| panic!("no memberList: {r}"))
            .iter()
            .map(|m| id(m, "uid"))
            .collect()
    }

    /// `POST /event` (form; memberUidList as JSON text); returns the event.
    async fn create_event(
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
            .json_param("memberUidList", json!(members))
            .send()
            .await
            .ok()
            .clone()
    }

    /// One page of a cursor list as `s`; returns the result.
    async fn page(&self, s: &Session, path: &str, count: i64, last_id: Option<&str>) -> Value {
        let mut call = self.get(path).user(s).param("count", count);
        if let Some(last) = last_id {
            call = call.param("lastId", last);
        }
        let res = call.send().await;
        let r = res.ok().clone();
        assert_keys(&r, &["page", "list"]);
        assert_eq!(r["page"], json!({ "count": count }), "{r}");
        let len = r["list"].as_array().map_or(0, Vec::len);
        assert!(len as i64 <= count, "{len} items for count {count}: {r}");
        r
    }

    /// Follows a cursor list from `last_id` (None = first page) with pages of
    /// `count` until a short page; returns every item in order.
    async fn walk(
        &self,
        s: &Session,
        path: &str,
        count: i64,
        mut last_id: Option<String>,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        for _ in 0..1000 {
            let r = self.page(s, path, count, last_id.as_deref()).await;
            let list = r["list"].as_array().cloned().unwrap_or_default();
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
    async fn messages(&self, s: &Session) -> Vec<Value> {
        let r = self.page(s, "/user/message", 100, None).await;
        r["list"].as_array().cloned().unwrap_or_default()
    }

    /// `GET /user/message/unread_total`.
    async fn unread_total(&self, s: &Session) -> i64 {
        let res = self.get_as(s, "/user/message/unread_total").await;
        let r = res.ok();
        r.as_i64().unwrap_or_else(|| panic!("not an integer: {r}"))
    }

    /// The signed `/ws` URL for `s` (credentials in the query).
    fn ws_url(&self, s: &Session) -> String {
        signed_ws_url(&self.target_addr().to_string(), s, self.next_ts())
    }
}

impl<T: Target> Api for T {}
