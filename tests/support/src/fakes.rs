//! Fake outside services (the SMS gateway, JPush, WeChat, Aliyun STS, web
//! pages for link previews), each a `wiremock` [`MockServer`] on 127.0.0.1.
//!
//! wiremock serves, matches and answers; the answer comes from a [`Respond`]
//! of ours that also keeps every request in a plain `Mutex<Vec<_>>`, so the
//! suites read what a fake received without `.await` (wiremock's own
//! `received_requests` is async) and can change a fake's answer from
//! synchronous code ([`FakeService::on`], [`FakeSmsGateway::failing`]), which
//! wiremock's mount-once mocks cannot.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A request a fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: String,
    pub at: Instant,
}

impl Seen {
    fn of(req: &Request) -> Self {
        Self {
            method: req.method.to_string(),
            path: req.url.path().to_owned(),
            query: req.url.query().unwrap_or_default().to_owned(),
            headers: req
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: String::from_utf8_lossy(&req.body).into_owned(),
            at: Instant::now(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// A query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// What a fake answers on a path.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self::json_text(status, &body.to_string())
    }

    /// A JSON answer given as text (exactly these bytes).
    pub fn json_text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_owned(),
        }
    }

    pub fn html(body: &str) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.to_owned(),
        }
    }

    pub fn redirect(to: &str) -> Self {
        Self {
            status: 302,
            headers: vec![("location".into(), to.to_owned())],
            body: String::new(),
        }
    }

    fn template(&self) -> ResponseTemplate {
        let mut t = ResponseTemplate::new(self.status);
        let mut content_type = "text/plain".to_owned();
        for (k, v) in &self.headers {
            if k.eq_ignore_ascii_case("content-type") {
                content_type.clone_from(v);
            } else {
                t = t.insert_header(k.as_str(), v.as_str());
            }
        }
        t.set_body_raw(self.body.clone().into_bytes(), &content_type)
    }
}

/// The answering half of a [`FakeService`]: records, then answers from the table.
struct Table {
    seen: Arc<Mutex<Vec<Seen>>>,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    otherwise: Option<Reply>,
}

impl Respond for Table {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.seen.lock().unwrap().push(Seen::of(req));
        let reply = self.replies.lock().unwrap().get(req.url.path()).cloned();
        match reply.or_else(|| self.otherwise.clone()) {
            Some(reply) => reply.template(),
            None => ResponseTemplate::new(404).set_body_string("no reply set"),
        }
    }
}

/// A programmable fake: records every request and answers what the test
/// told it to, per path ([`FakeService::on`]); 404 elsewhere.
pub struct FakeService {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    _server: MockServer,
}

impl FakeService {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A fake that answers `reply` on every path nobody set.
    pub async fn answering(reply: Reply) -> Self {
        Self::start_with(Some(reply)).await
    }

    async fn start_with(otherwise: Option<Reply>) -> Self {
        let server = MockServer::start().await;
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let replies: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        Mock::given(any())
            .respond_with(Table {
                seen: seen.clone(),
                replies: replies.clone(),
                otherwise,
            })
            .mount(&server)
            .await;
        Self {
            addr: *server.address(),
            seen,
            replies,
            _server: server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers `reply` on `path` from now on.
    pub fn on(&self, path: &str, reply: Reply) {
        self.replies.lock().unwrap().insert(path.to_owned(), reply);
    }

    /// Requests received on `path`.
    pub fn requests(&self, path: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }
}

/// A request the fake SMS gateway received.
#[derive(Debug, Clone)]
pub struct SmsRequest {
    pub method: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

/// Records, then answers 200 `{"ok":true}` or, while `failing`, 500.
struct Gateway {
    received: Arc<Mutex<Vec<SmsRequest>>>,
    failing: Arc<Mutex<bool>>,
}

impl Respond for Gateway {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let seen = Seen::of(req);
        self.received.lock().unwrap().push(SmsRequest {
            authorization: seen.header("authorization").map(str::to_owned),
            content_type: seen.header("content-type").map(str::to_owned),
            method: seen.method,
            body: seen.body,
        });
        if *self.failing.lock().unwrap() {
            ResponseTemplate::new(500)
        } else {
            ResponseTemplate::new(200).set_body_raw(&b"{\"ok\":true}"[..], "application/json")
        }
    }
}

/// A fake generic HTTP SMS gateway at `/sms/send`.
#[derive(Clone)]
pub struct FakeSmsGateway {
    pub url: String,
    pub received: Arc<Mutex<Vec<SmsRequest>>>,
    /// When set, the gateway answers HTTP 500.
    pub failing: Arc<Mutex<bool>>,
    _server: Arc<MockServer>,
}

impl FakeSmsGateway {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let received: Arc<Mutex<Vec<SmsRequest>>> = Arc::default();
        let failing: Arc<Mutex<bool>> = Arc::default();
        Mock::given(any())
            .respond_with(Gateway {
                received: received.clone(),
                failing: failing.clone(),
            })
            .mount(&server)
            .await;
        Self {
            url: format!("{}/sms/send", server.uri()),
            received,
            failing,
            _server: Arc::new(server),
        }
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The code of the newest SMS sent to `mobile`.
    pub fn last_code(&self, mobile: &str) -> Option<String> {
        self.received.lock().unwrap().iter().rev().find_map(|r| {
            let v: Value = serde_json::from_str(&r.body).ok()?;
            (v["mobile"] == mobile).then(|| v["code"].as_str().unwrap_or_default().to_owned())
        })
    }
}
