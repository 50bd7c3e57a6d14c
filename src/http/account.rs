//! Seed section "Account": SMS captcha, login/registration, logout.

use actix_web::web;
use huddle_actors::repo::account::FindOrCreateAccount;

use super::inputs::{inputs, CaptchaCode, CountryCode, FromParams, Mobile};
use super::openapi::{envelope, of, Auth, Messages, Method, Reply, Res, RouteDoc, Tag, BASE};
use crate::auth::sessions::LoginTokens;
use crate::auth::{PublicCall, UserCall};
use crate::clients::captcha::messages;
use crate::clients::phone::Phone;
use crate::envelope::{ok_with, ApiError, ApiResult, BusinessCode, Empty};
use crate::state::AppState;

/// Login's message for an account that existed.
pub const LOGGED_IN: &str = "登录成功";
/// Login's message for an account it created.
pub const REGISTERED: &str = "注册成功";
/// Logout's message.
pub const LOGGED_OUT: &str = "退出成功";

inputs! {
    /// The phone number of `POST /account/captcha` and `/account/login/captcha`.
    pub struct PhoneInput {
        country_code: optional CountryCode = "countryCode", Body, "Country calling code (国家地区码), default 86; a leading `+` is dropped.";
        mobile: required Mobile = "mobile", Body, "Mobile number (手机号), national digits.";
    }
}

inputs! {
    /// The code of `POST /account/login/captcha`.
    pub struct CaptchaInput {
        captcha: required CaptchaCode = "captcha", Body, "The SMS code (短信验证码).";
    }
}

fn phone(call: &PublicCall) -> Result<Phone, ApiError> {
    let input = PhoneInput::from_params(&call.params)?;
    Phone::parse(
        input
            .country_code
            .as_ref()
            .map_or("86", CountryCode::as_str),
        input.mobile.as_str(),
    )
}

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Post,
        path: "/account/captcha",
        handler: Some(|r| r.to(send_captcha)),
        tags: &[Tag::Account],
        summary: "Send an SMS captcha (获取短信验证码)",
        description: "One code per number per 60 s and 10 per 24 h; a code is 6 digits, valid 5 minutes, single use. Send limits and SMS failures answer business code 0 with the reason in `message`.",
        auth: Auth::Signed,
        input: &[PhoneInput::PARAMS],
        reply: envelope(Res::Empty, messages::SENT),
        codes: &[BusinessCode::Default],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/account/login/captcha",
        handler: Some(|r| r.to(login_with_captcha)),
        tags: &[Tag::Account],
        summary: "Log in with an SMS captcha, registering on first use (短信验证码登录/注册账号)",
        description: "`message` tells a login from a registration (the first message below is a login). Every login is a new session. A wrong, expired or used code answers business code 0 with the reason.",
        auth: Auth::Signed,
        input: &[PhoneInput::PARAMS, CaptchaInput::PARAMS],
        reply: Reply::Envelope {
            result: Res::Schema(of::<LoginTokens>()),
            messages: Messages::Either(&[LOGGED_IN, REGISTERED]),
        },
        codes: &[BusinessCode::Default, BusinessCode::AccountFrozen],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/account/logout",
        handler: Some(|r| r.to(logout)),
        tags: &[Tag::Account],
        summary: "Log out (退出登录)",
        description: "The session's token stops working at once; other devices stay logged in.",
        auth: Auth::User,
        reply: envelope(Res::Empty, LOGGED_OUT),
        ..BASE
    },
];

/// `POST /account/captcha`: countryCode (default 86), mobile.
async fn send_captcha(state: web::Data<AppState>, call: PublicCall) -> ApiResult {
    let phone = phone(&call)?;
    if let Some(address) = call.address {
        state
            .limiter
            .action(crate::ratelimit::Action::SendCaptcha, &address.to_string())
            .await?;
    }
    state.captcha.send(&phone).await?;
    ok_with(Empty {}, messages::SENT)
}

/// `POST /account/login/captcha`: registers on first use.
async fn login_with_captcha(state: web::Data<AppState>, call: PublicCall) -> ApiResult {
    let phone = phone(&call)?;
    let code = CaptchaInput::from_params(&call.params)?.captcha;
    state.captcha.check(&phone, code.as_str()).await?;
    let (account, created) = state
        .repo
        .run(FindOrCreateAccount {
            country_code: phone.country_code().to_owned(),
            mobile: phone.mobile().to_owned(),
            now: state.clock.now_ms(),
        })
        .await?;
    if account.frozen {
        return Err(ApiError::business(BusinessCode::AccountFrozen));
    }
    let tokens = state
        .sessions
        .open(&account.uid, call.client.client_type.code())
        .await?;
    if created {
        tracing::info!(uid = %account.uid, "account registered");
    }
    ok_with(tokens, if created { REGISTERED } else { LOGGED_IN })
}

/// `POST /account/logout`: the session's token stops working at once.
async fn logout(state: web::Data<AppState>, call: UserCall) -> ApiResult {
    state.sessions.revoke(&call.session_id).await?;
    ok_with(Empty {}, LOGGED_OUT)
}
