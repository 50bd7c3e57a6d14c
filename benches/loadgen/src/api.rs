//! huddle's REST API as the app uses it: signed parameters, Basic
//! authorization, the `{"result","message","status"}` envelope.

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use md5::{Digest, Md5};
use reqwest::Method;
use serde_json::Value;

/// The secret for calls without a session (`src/auth/signature.rs`).
pub const DEFAULT_ACCESS_SECRET: &str = "Hx!0k!K}5E.]EoP";

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `md5_hex(join("$$$", sorted "k=v") + "$$$accessSecret=" + secret)`.
pub fn sign(params: &[(String, String)], secret: &str) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "sign").collect();
    sorted.sort();
    let mut s = String::with_capacity(128);
    for (k, v) in sorted {
        if !s.is_empty() {
            s.push_str("$$$");
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    if !s.is_empty() {
        s.push_str("$$$");
    }
    s.push_str("accessSecret=");
    s.push_str(secret);
    hex::encode(Md5::digest(s.as_bytes()))
}

/// A strictly increasing `ts` per user, never behind the wall clock: the
/// server refuses a repeated (user, sign) within its replay window.
#[derive(Debug)]
pub struct TsCounter(AtomicI64);

impl TsCounter {
    pub fn new() -> Self {
        Self(AtomicI64::new(0))
    }

    pub fn next(&self) -> i64 {
        let now = now_ms();
        let prev = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now.max(last + 1))
            })
            .unwrap_or(now);
        now.max(prev + 1)
    }
}

/// A signed-in user.
#[derive(Debug)]
pub struct User {
    pub uid: String,
    pub token: String,
    pub secret: String,
    pub ts: TsCounter,
}

impl User {
    pub fn authorization(&self) -> String {
        let raw = format!("{}:{}", self.uid, self.token);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// The signed `/ws` URL (credentials in the query), fresh `ts` each time.
    pub fn ws_url(&self, server: &str) -> String {
        let ts = self.ts.next().to_string();
        let params = [
            ("accessToken".to_owned(), self.token.clone()),
            ("ts".to_owned(), ts.clone()),
            ("uid".to_owned(), self.uid.clone()),
        ];
        let sign = sign(&params, &self.secret);
        format!(
            "ws://{server}/ws?uid={}&accessToken={}&ts={ts}&sign={sign}",
            self.uid, self.token
        )
    }

    /// Signed query/form parameters for a call by this user.
    pub fn signed(&self, mut params: Vec<(String, String)>) -> Vec<(String, String)> {
        params.push(("ts".into(), self.ts.next().to_string()));
        let s = sign(&params, &self.secret);
        params.push(("sign".into(), s));
        params
    }
}

/// Why a call failed: a short kind for counting and a message.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: String,
    pub message: String,
}

impl ApiError {
    fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
        }
    }

    /// The business code of a `status: 0` answer, if that is what this was.
    pub fn business_code(&self) -> Option<i64> {
        self.kind.strip_prefix("business_")?.parse().ok()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

/// A REST client: one reqwest client per source address, used round robin.
pub struct Api {
    base: String,
    clients: Vec<reqwest::Client>,
    next: AtomicUsize,
    pub country_code: String,
    pub mobile_base: u64,
    pub code: String,
}

pub fn http_client(source: Option<IpAddr>, pool: usize) -> anyhow::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(pool)
        // Below actix-web's 5 s keep-alive: a pooled connection the server is
        // closing must not be picked for the next request.
        .pool_idle_timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60));
    if let Some(ip) = source {
        b = b.local_address(ip);
    }
    Ok(b.build()?)
}

impl Api {
    pub fn new(
        server: &str,
        sources: &[IpAddr],
        country_code: String,
        mobile_base: u64,
        code: String,
    ) -> anyhow::Result<Self> {
        let mut clients = Vec::new();
        if sources.is_empty() {
            clients.push(http_client(None, 256)?);
        }
        for ip in sources {
            clients.push(http_client(Some(*ip), 256)?);
        }
        Ok(Self {
            base: format!("http://{server}"),
            clients,
            next: AtomicUsize::new(0),
            country_code,
            mobile_base,
            code,
        })
    }

    fn client(&self) -> &reqwest::Client {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len();
        &self.clients[i]
    }

    /// Sends an already signed call; answers `result` of a success envelope.
    async fn send(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
        authorization: Option<String>,
    ) -> Result<Value, ApiError> {
        let url = format!("{}{}", self.base, path);
        let mut req = self.client().request(method.clone(), url);
        req = if method == Method::GET {
            req.query(&params)
        } else {
            req.form(&params)
        };
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let res = req
            .send()
            .await
            .map_err(|e| ApiError::new("transport", format!("{path}: {}", chain(&e))))?;
        let status = res.status().as_u16();
        let text = res
            .text()
            .await
            .map_err(|e| ApiError::new("transport", format!("{path}: {}", chain(&e))))?;
        if status != 200 {
            return Err(ApiError::new(
                format!("http_{status}"),
                format!("{path}: {}", text.chars().take(200).collect::<String>()),
            ));
        }
        let body: Value = serde_json::from_str(&text)
            .map_err(|e| ApiError::new("bad_json", format!("{path}: {e}")))?;
        if body["status"] == 1 {
            Ok(body["result"].clone())
        } else {
            let code = body["result"].as_i64().unwrap_or(0);
            Err(ApiError::new(
                format!("business_{code}"),
                format!("{path}: {}", body["message"]),
            ))
        }
    }

    /// A call by `user` (Basic authorization, signed with their secret).
    pub async fn user_call(
        &self,
        user: &User,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
    ) -> Result<Value, ApiError> {
        let params = user.signed(params);
        self.send(method, path, params, Some(user.authorization()))
            .await
    }

    /// Logs the test number `mobile_base + index` in and initialises its
    /// profile (an already initialised profile is fine).
    pub async fn sign_in(&self, index: u64) -> Result<User, ApiError> {
        let mobile = (self.mobile_base + index).to_string();
        let ts = TsCounter::new();
        let mut params = vec![
            ("countryCode".to_owned(), self.country_code.clone()),
            ("mobile".to_owned(), mobile),
            ("captcha".to_owned(), self.code.clone()),
            ("ts".to_owned(), ts.next().to_string()),
        ];
        let s = sign(&params, DEFAULT_ACCESS_SECRET);
        params.push(("sign".into(), s));
        let r = self
            .send(Method::POST, "/account/login/captcha", params, None)
            .await?;
        let text = |k: &str| {
            r[k].as_str()
                .map(str::to_owned)
                .ok_or_else(|| ApiError::new("bad_login", format!("login answer without {k}: {r}")))
        };
        let user = User {
            uid: text("uid")?,
            token: text("accessToken")?,
            secret: text("accessSecret")?,
            ts,
        };
        let init = self
            .user_call(
                &user,
                Method::POST,
                "/user/profile/init",
                vec![
                    ("nickname".into(), format!("bench{index}")),
                    (
                        "avatar".into(),
                        format!("https://cdn.example.com/avatar/bench{index}.jpg"),
                    ),
                    ("bio".into(), "loadgen".into()),
                ],
            )
            .await;
        match init {
            Ok(_) => Ok(user),
            Err(e) if e.business_code() == Some(200_001) => Ok(user),
            Err(e) => Err(e),
        }
    }

    /// `POST /club`: answers the club id.
    pub async fn create_club(&self, host: &User, name: &str) -> Result<String, ApiError> {
        let r = self
            .user_call(
                host,
                Method::POST,
                "/club",
                vec![
                    ("name".into(), name.to_owned()),
                    (
                        "cover".into(),
                        "https://cdn.example.com/cover/bench.jpg".into(),
                    ),
                ],
            )
            .await?;
        id_of(&r, "clubId")
    }

    /// `POST /room` in `club_id`: answers the room id.
    pub async fn create_room(
        &self,
        host: &User,
        name: &str,
        club_id: &str,
    ) -> Result<String, ApiError> {
        let r = self
            .user_call(
                host,
                Method::POST,
                "/room",
                vec![
                    ("name".into(), name.to_owned()),
                    ("clubId".into(), club_id.to_owned()),
                ],
            )
            .await?;
        id_of(&r, "roomId")
    }

    /// `POST /room/{id}/token`: makes `user` a member (voice token).
    pub async fn room_token(&self, user: &User, room_id: &str) -> Result<(), ApiError> {
        let r = self
            .user_call(
                user,
                Method::POST,
                &format!("/room/{room_id}/token"),
                vec![],
            )
            .await?;
        if r["token"].is_string() {
            Ok(())
        } else {
            Err(ApiError::new("bad_token", format!("token answer: {r}")))
        }
    }
}

/// An error with its causes ("a: b: c").
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

fn id_of(r: &Value, key: &str) -> Result<String, ApiError> {
    r[key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ApiError::new("bad_answer", format!("no {key} in {r}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    // The vectors of src/auth/signature.rs.
    #[test]
    fn signs_like_the_server() {
        let m = p(&[
            ("mobile", "13800000000"),
            ("ts", "1608207590160"),
            ("countryCode", "86"),
        ]);
        assert_eq!(
            sign(&m, DEFAULT_ACCESS_SECRET),
            "49d80eb45ea4d89c692dbc48ed8de534"
        );
        assert_eq!(
            sign(
                &p(&[("ts", "1700000000000")]),
                "e31bc25bcc6641a1a998eacb6ca9d244"
            ),
            "b63d355725296ec4b4893c4237b9dba4"
        );
    }

    #[test]
    fn ts_counter_is_strictly_increasing() {
        let c = TsCounter::new();
        let a = c.next();
        let b = c.next();
        assert!(b > a);
        assert!(a >= now_ms() - 1000);
    }
}
