//! The real binary, as an operator runs it: `huddle` on the embedded defaults in
//! an empty directory, a captcha → login → logout round trip with the code read
//! from the log (the `log` SMS provider writes it at debug on target
//! `huddle::clients::sms`, so the run sets `HUDDLE_LOG=info,huddle::clients::sms=debug`), and a
//! graceful stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use huddle::auth::signature::{self, DEFAULT_ACCESS_SECRET};
use huddle_actors::{Clock, SystemClock};
use serde_json::Value;

use crate::helpers::{send, session_from, Resp};

/// The `huddle` binary with no `HUDDLE_*` variable of the test's environment.
pub(crate) fn huddle() -> Command {
    huddle_test_support::app::huddle_command()
}

/// A running `huddle` and the lines it wrote (stdout, and stderr when piped).
pub(crate) struct Running {
    pub(crate) child: Child,
    lines: mpsc::Receiver<String>,
    pub(crate) seen: Vec<String>,
}

impl Running {
    /// Spawns `cmd` with its stdout (and its stderr, when `stderr` is true)
    /// read line by line.
    pub(crate) fn spawn(mut cmd: Command, stderr: bool) -> Self {
        cmd.stdout(Stdio::piped());
        cmd.stderr(if stderr {
            Stdio::piped()
        } else {
            Stdio::inherit()
        });
        let mut child = cmd.spawn().unwrap();
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let tx_out = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx_out.send(line).is_err() {
                    break;
                }
            }
        });
        if let Some(err) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Self {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Sends SIGTERM, waits for `stopped` and the exit (asserting success),
    /// and collects every remaining line.
    pub(crate) fn stop(&mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        self.wait_for(|v| (v["message"] == "stopped").then_some(()));
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit status {status:?}");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(line);
        }
    }

    /// The next JSON log line for which `pick` answers something.
    pub(crate) fn wait_for<T>(&mut self, mut pick: impl FnMut(&Value) -> Option<T>) -> T {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| {
                    panic!(
                        "expected log line never came; seen:\n{}",
                        self.seen.join("\n")
                    )
                });
            self.seen.push(line.clone());
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if let Some(t) = pick(&v) {
                    return t;
                }
            }
        }
    }
}

/// `params` with `ts` (now) and their `sign` under `secret`.
pub(crate) fn signed_form(params: &[(&str, &str)], secret: &str) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all.push(("ts".into(), SystemClock.now_ms().to_string()));
    all.sort();
    let sign = signature::sign(all.iter().map(|(k, v)| (k.as_str(), v.as_str())), secret);
    all.push(("sign".into(), sign));
    all
}

#[actix_web::test]
async fn fresh_directory_run_login_logout_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = huddle();
    cmd.current_dir(dir.path())
        .env("HUDDLE_HTTP_ADDR", "127.0.0.1:0")
        .env("HUDDLE_LOG_FORMAT", "json")
        // the log SMS provider writes codes at debug on huddle::clients::sms only
        .env("HUDDLE_LOG", huddle::clients::sms::LOG_FILTER_FOR_CODES);
    let mut run = Running::spawn(cmd, false);

    let addr: String = run.wait_for(|v| {
        (v["message"] == "listening").then(|| v["addr"].as_str().unwrap().to_owned())
    });
    assert!(
        dir.path().join("huddle.db").exists(),
        "huddle.db is created in the working directory"
    );
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    send(client.get(format!("{base}/healthz"))).await.ok();
    send(client.get(format!("{base}/readyz"))).await.ok();

    let mobile = "13812345678";
    send(
        client
            .post(format!("{base}/account/captcha"))
            .form(&signed_form(&[("mobile", mobile)], DEFAULT_ACCESS_SECRET)),
    )
    .await
    .ok();
    let (code, to, level) = run.wait_for(|v| {
        (v["target"] == "huddle::clients::sms" && v["code"].is_string()).then(|| {
            (
                v["code"].as_str().unwrap().to_owned(),
                v["to"].as_str().unwrap().to_owned(),
                v["level"].as_str().unwrap().to_owned(),
            )
        })
    });
    assert_eq!(to, "+86 138****5678", "the number is masked in logs");
    assert_eq!(level, "DEBUG", "the code is logged at debug only");

    let res: Resp = send(
        client
            .post(format!("{base}/account/login/captcha"))
            .form(&signed_form(
                &[("mobile", mobile), ("captcha", &code)],
                DEFAULT_ACCESS_SECRET,
            )),
    )
    .await;
    assert_eq!(res.body["message"], "注册成功");
    let session = session_from(&res);
    let res = send(
        client
            .post(format!("{base}/account/logout"))
            .header("Authorization", session.authorization())
            .form(&signed_form(&[], &session.secret)),
    )
    .await;
    assert_eq!(res.body["message"], "退出成功");

    run.stop();

    let log = run.seen.join("\n");
    assert!(
        log.contains("HUDDLE_LOG=info,huddle::clients::sms=debug"),
        "the start says where the log provider's codes go"
    );
    for line in &run.seen {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["level"] != "DEBUG" {
            assert!(!line.contains(&code), "the code above debug: {line}");
        }
    }
    assert!(
        log.contains("\"request_id\""),
        "request logs carry the request id"
    );
    assert!(log.contains("\"latency_ms\""));
    for secret in [session.token.as_str(), session.secret.as_str(), mobile] {
        assert!(!log.contains(secret), "{secret} leaked into the log");
    }
}

#[test]
fn help_lists_every_setting() {
    let out = huddle().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for s in huddle::config::SETTINGS {
        assert!(
            help.contains(&s.env_name()),
            "--help does not explain {}",
            s.env_name()
        );
    }
    for sub in ["serve", "migrate", "account", "sign"] {
        assert!(help.contains(sub), "--help does not list {sub}");
    }
}

#[test]
fn bad_configuration_exits_with_a_clear_message() {
    let out = huddle()
        .env("HUDDLE_HTTP_ADDR", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HUDDLE_HTTP_ADDR"));
}

#[test]
fn an_unusable_redis_url_stops_the_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = huddle()
        .current_dir(dir.path())
        .env("HUDDLE_HTTP_ADDR", "127.0.0.1:0")
        .env("HUDDLE_REDIS_URL", "mysql://127.0.0.1:6379")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HUDDLE_REDIS_URL"), "{stderr}");
}

#[test]
fn a_test_number_prefix_that_is_too_short_is_refused() {
    let out = huddle()
        .env("HUDDLE_SMS_TEST_NUMBERS", "8613*:246810")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 8 digits"), "{stderr}");
}

#[test]
fn sign_prints_the_documented_vector() {
    let out = huddle()
        .args([
            "sign",
            "--ts",
            "1608207590160",
            "countryCode=86",
            "mobile=13800000000",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "countryCode=86$$$mobile=13800000000$$$ts=1608207590160$$$accessSecret=Hx!0k!K}5E.]EoP"
        ),
        "{text}"
    );
    assert!(
        text.contains("sign:      49d80eb45ea4d89c692dbc48ed8de534"),
        "{text}"
    );
}

#[test]
fn migrate_creates_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = huddle()
        .current_dir(dir.path())
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("huddle.db").exists());
    // twice is fine
    assert!(huddle()
        .current_dir(dir.path())
        .arg("migrate")
        .status()
        .unwrap()
        .success());
}
