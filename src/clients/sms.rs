//! Sending captcha codes by SMS. [`SmsSender`] is the seam: [`LogSms`] (the
//! development default) writes the code to the log at `debug` on target
//! `huddle::clients::sms` (so a log at `info` never holds one); [`HttpSms`] calls a
//! generic HTTP SMS gateway with a configurable method, Authorization header
//! and body template.

use std::time::Duration;

use async_trait::async_trait;

use crate::clients::phone::Phone;
use crate::config::{HttpSmsConfig, SmsProviderConfig};

/// The SMS could not be handed to the provider.
#[derive(Debug, thiserror::Error)]
#[error("SMS provider failed: {0}")]
pub struct SmsError(pub String);

/// Delivers a captcha code to a phone.
#[async_trait]
pub trait SmsSender: Send + Sync + 'static {
    /// Sends `code` to `phone`.
    async fn send_captcha(&self, phone: &Phone, code: &str) -> Result<(), SmsError>;
}

/// The log filter that shows the codes of the `log` provider.
pub const LOG_FILTER_FOR_CODES: &str = "info,huddle::clients::sms=debug";

/// Builds the configured sender. The `log` provider says once, at start, where
/// its codes go.
pub fn from_config(config: &SmsProviderConfig) -> Result<std::sync::Arc<dyn SmsSender>, SmsError> {
    Ok(match config {
        SmsProviderConfig::Log => {
            tracing::warn!(
                target: "huddle::clients::sms",
                "HUDDLE_SMS_PROVIDER=log (development only): no SMS is sent; captcha codes are \
                 logged at debug level on target huddle::clients::sms, so set \
                 HUDDLE_LOG={LOG_FILTER_FOR_CODES} to see them; test numbers \
                 (HUDDLE_SMS_TEST_NUMBERS) log in with their fixed code without any SMS"
            );
            std::sync::Arc::new(LogSms)
        }
        SmsProviderConfig::Http(http) => std::sync::Arc::new(HttpSms::new(http.clone())?),
    })
}

/// Development sender: the code goes to the log at `debug` on target
/// `huddle::clients::sms` (shown with `HUDDLE_LOG=info,huddle::clients::sms=debug`); at `info`
/// only that a code was "sent", never the code. The number is masked in both.
#[derive(Debug, Default)]
pub struct LogSms;

#[async_trait]
impl SmsSender for LogSms {
    async fn send_captcha(&self, phone: &Phone, code: &str) -> Result<(), SmsError> {
        tracing::debug!(
            target: "huddle::clients::sms",
            to = %phone.masked(),
            code,
            "captcha SMS (log provider, development only)"
        );
        tracing::info!(
            target: "huddle::clients::sms",
            to = %phone.masked(),
            "captcha SMS sent through the log provider (the code is logged at debug on huddle::clients::sms)"
        );
        Ok(())
    }
}

/// A generic HTTP SMS gateway.
pub struct HttpSms {
    client: reqwest::Client,
    config: HttpSmsConfig,
    method: reqwest::Method,
}

impl HttpSms {
    /// A sender for `config`.
    pub fn new(config: HttpSmsConfig) -> Result<Self, SmsError> {
        let method = reqwest::Method::from_bytes(config.method.as_bytes())
            .map_err(|_| SmsError(format!("bad HTTP method {:?}", config.method)))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .build()
            .map_err(|e| SmsError(e.to_string()))?;
        Ok(Self {
            client,
            config,
            method,
        })
    }
}

/// Fills `{countryCode}`, `{mobile}` and `{code}` in a body template. All three
/// are digits only (validated), so no escaping is needed in JSON or form bodies.
pub fn render_template(template: &str, phone: &Phone, code: &str) -> String {
    template
        .replace("{countryCode}", phone.country_code())
        .replace("{mobile}", phone.mobile())
        .replace("{code}", code)
}

#[async_trait]
impl SmsSender for HttpSms {
    async fn send_captcha(&self, phone: &Phone, code: &str) -> Result<(), SmsError> {
        let body = render_template(&self.config.body_template, phone, code);
        let mut request = self
            .client
            .request(self.method.clone(), &self.config.url)
            .header(reqwest::header::CONTENT_TYPE, &self.config.content_type)
            .body(body);
        if let Some(auth) = &self.config.auth {
            request = request.header(reqwest::header::AUTHORIZATION, auth.expose());
        }
        let response = request
            .send()
            .await
            .map_err(|e| SmsError(format!("gateway unreachable: {}", e.without_url())))?;
        let status = response.status();
        if status.is_success() {
            tracing::info!(target: "huddle::clients::sms", to = %phone.masked(), "captcha SMS handed to the HTTP gateway");
            Ok(())
        } else {
            Err(SmsError(format!("gateway answered HTTP {status}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Everything logged while `f` runs under `filter`, as JSON lines.
    async fn logged<F: std::future::Future<Output = ()>>(
        filter: &str,
        f: F,
    ) -> Vec<serde_json::Value> {
        #[derive(Clone)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf(Arc::default());
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .json()
            .flatten_event(true)
            .with_writer(move || writer.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        f.await;
        drop(guard);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[actix_web::test]
    async fn the_log_provider_keeps_the_code_out_of_info() {
        let phone = Phone::parse("86", "13812345678").unwrap();
        let send = || async {
            LogSms.send_captcha(&phone, "424242").await.unwrap();
        };

        let info = logged("info", send()).await;
        let text = serde_json::to_string(&info).unwrap();
        assert!(text.contains("captcha SMS sent"), "{text}");
        assert!(text.contains("+86 138****5678"), "{text}");
        assert!(
            !text.contains("424242"),
            "the code is logged at info: {text}"
        );
        assert!(
            !text.contains("13812345678"),
            "the number is not masked: {text}"
        );

        let debug = logged(LOG_FILTER_FOR_CODES, send()).await;
        let with_code: Vec<_> = debug.iter().filter(|l| l["code"] == "424242").collect();
        assert_eq!(with_code.len(), 1, "{debug:?}");
        assert_eq!(with_code[0]["level"], "DEBUG");
        assert_eq!(with_code[0]["target"], "huddle::clients::sms");
        assert_eq!(with_code[0]["to"], "+86 138****5678");
        let text = serde_json::to_string(&debug).unwrap();
        assert!(!text.contains("13812345678"), "{text}");
    }

    #[test]
    fn template_is_filled() {
        let p = Phone::parse("86", "13800000000").unwrap();
        assert_eq!(
            render_template(
                r#"{"to":"+{countryCode}{mobile}","text":"code {code}"}"#,
                &p,
                "123456"
            ),
            r#"{"to":"+8613800000000","text":"code 123456"}"#
        );
    }
}
