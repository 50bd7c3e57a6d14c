//! Sending captcha codes by SMS. [`SmsSender`] is the seam: [`LogSms`] (the
//! development default) writes the code to the log; [`HttpSms`] calls a generic
//! HTTP SMS gateway with a configurable method, Authorization header and body
//! template.

use std::time::Duration;

use async_trait::async_trait;

use crate::config::{HttpSmsConfig, SmsProviderConfig};
use crate::phone::Phone;

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

/// Builds the configured sender.
pub fn from_config(config: &SmsProviderConfig) -> Result<std::sync::Arc<dyn SmsSender>, SmsError> {
    Ok(match config {
        SmsProviderConfig::Log => std::sync::Arc::new(LogSms),
        SmsProviderConfig::Http(http) => std::sync::Arc::new(HttpSms::new(http.clone())?),
    })
}

/// Development sender: the code goes to the log (target `huddle::sms`), the
/// number masked.
#[derive(Debug, Default)]
pub struct LogSms;

#[async_trait]
impl SmsSender for LogSms {
    async fn send_captcha(&self, phone: &Phone, code: &str) -> Result<(), SmsError> {
        tracing::info!(
            target: "huddle::sms",
            to = %phone.masked(),
            code,
            "captcha SMS (log provider, development only)"
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
            tracing::info!(target: "huddle::sms", to = %phone.masked(), "captcha SMS handed to the HTTP gateway");
            Ok(())
        } else {
            Err(SmsError(format!("gateway answered HTTP {status}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
