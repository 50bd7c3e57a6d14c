//! SMS captcha codes: issue, limit, check.
//!
//! A code is 6 digits, single use, valid for 5 minutes. A number gets at most
//! one code per 60 s and 10 per 24 h; 5 wrong tries burn the code. Test
//! numbers (`HUDDLE_SMS_TEST_NUMBERS`) never receive an SMS and their fixed
//! code always works. State lives in the [`Cache`] (in-process or Redis).

use crate::config::TestNumbers;
use std::sync::Arc;
use std::time::Duration;

use huddle_actors::cache::Cache;
use rand::Rng;
use subtle::ConstantTimeEq;

use crate::clients::phone::Phone;
use crate::clients::sms::SmsSender;
use crate::envelope::{ApiError, BusinessCode};

/// How long a code is valid.
pub const CODE_TTL: Duration = Duration::from_secs(5 * 60);
/// Minimum time between two sends to one number.
pub const RESEND_COOLDOWN: Duration = Duration::from_secs(60);
/// Sends per number per day.
pub const DAILY_LIMIT: i64 = 10;
/// Wrong tries that burn a code.
pub const MAX_WRONG_TRIES: i64 = 5;
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Messages the app shows (status 0, result 0).
pub mod messages {
    /// Sent.
    pub const SENT: &str = "验证码已发送，请注意查收";
    /// Cooldown.
    pub const TOO_SOON: &str = "验证码发送过于频繁，请60秒后再试";
    /// Daily limit.
    pub const DAILY_LIMIT: &str = "今日验证码发送次数已达上限，请明天再试";
    /// Provider failure.
    pub const SEND_FAILED: &str = "短信发送失败，请稍后再试";
    /// Wrong code.
    pub const WRONG: &str = "验证码错误";
    /// Too many wrong codes.
    pub const BURNT: &str = "验证码错误次数过多，请重新获取";
    /// Expired, used or never sent.
    pub const EXPIRED: &str = "验证码已失效，请重新获取";
}

/// Issues and checks captcha codes.
pub struct Captcha {
    cache: Arc<dyn Cache>,
    sms: Arc<dyn SmsSender>,
    test_numbers: TestNumbers,
}

fn fail(message: &'static str) -> ApiError {
    ApiError::business_msg(BusinessCode::Default, message)
}

impl Captcha {
    /// A captcha service over `cache`, sending through `sms`.
    pub fn new(cache: Arc<dyn Cache>, sms: Arc<dyn SmsSender>, test_numbers: TestNumbers) -> Self {
        Self {
            cache,
            sms,
            test_numbers,
        }
    }

    fn key(kind: &str, phone: &Phone) -> String {
        format!("captcha:{kind}:{}:{}", phone.country_code(), phone.mobile())
    }

    /// Sends a fresh code to `phone`, within the limits.
    pub async fn send(&self, phone: &Phone) -> Result<(), ApiError> {
        if self.test_numbers.code_for(&phone.full()).is_some() {
            tracing::info!(to = %phone.masked(), "captcha for a test number: no SMS sent");
            return Ok(());
        }
        let cooldown = Self::key("cooldown", phone);
        if !self
            .cache
            .set_if_absent(&cooldown, "1", RESEND_COOLDOWN)
            .await?
        {
            return Err(fail(messages::TOO_SOON));
        }
        if self.cache.incr(&Self::key("daily", phone), DAY).await? > DAILY_LIMIT {
            return Err(fail(messages::DAILY_LIMIT));
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let code_key = Self::key("code", phone);
        self.cache.set(&code_key, &code, CODE_TTL).await?;
        self.cache.delete(&Self::key("fails", phone)).await?;
        if let Err(e) = self.sms.send_captcha(phone, &code).await {
            tracing::warn!(to = %phone.masked(), error = %e, "captcha SMS not sent");
            self.cache.delete(&code_key).await?;
            self.cache.delete(&cooldown).await?;
            return Err(fail(messages::SEND_FAILED));
        }
        Ok(())
    }

    /// Checks `code` for `phone` and consumes it on success.
    pub async fn check(&self, phone: &Phone, code: &str) -> Result<(), ApiError> {
        if let Some(fixed) = self.test_numbers.code_for(&phone.full()) {
            return if bool::from(fixed.as_bytes().ct_eq(code.as_bytes())) {
                Ok(())
            } else {
                Err(fail(messages::WRONG))
            };
        }
        let code_key = Self::key("code", phone);
        let fails_key = Self::key("fails", phone);
        let Some(expected) = self.cache.get(&code_key).await? else {
            return Err(fail(messages::EXPIRED));
        };
        if !bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            if self.cache.incr(&fails_key, CODE_TTL).await? >= MAX_WRONG_TRIES {
                self.cache.delete(&code_key).await?;
                self.cache.delete(&fails_key).await?;
                return Err(fail(messages::BURNT));
            }
            return Err(fail(messages::WRONG));
        }
        // Single use: of two concurrent logins with the same code, one wins.
        if !self.cache.delete(&code_key).await? {
            return Err(fail(messages::EXPIRED));
        }
        self.cache.delete(&fails_key).await?;
        Ok(())
    }
}

/// True when `code` has the seed's captcha shape `^\d{4,6}$`.
pub fn is_code_shaped(code: &str) -> bool {
    (4..=6).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}
