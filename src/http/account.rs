//! Seed section "Account": SMS captcha, login/registration, logout.

use actix_web::web;
use huddle_actors::repo::account::FindOrCreateAccount;

use crate::auth::{PublicCall, UserCall};
use crate::clients::captcha::{self, messages};
use crate::clients::phone::Phone;
use crate::envelope::{ok_with, ApiError, ApiResult, BusinessCode, Empty};
use crate::state::AppState;

/// `/account/*`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/account/captcha").post(send_captcha))
        .service(web::resource("/account/login/captcha").post(login_with_captcha))
        .service(web::resource("/account/logout").post(logout));
}

fn phone(call: &PublicCall) -> Result<Phone, ApiError> {
    Phone::parse(
        call.params.optional("countryCode").unwrap_or("86"),
        call.params.required("mobile")?,
    )
}

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
    let code = call.params.required("captcha")?;
    if !captcha::is_code_shaped(code) {
        return Err(ApiError::BadRequest("captcha must be 4-6 digits".into()));
    }
    state.captcha.check(&phone, code).await?;
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
    ok_with(
        tokens,
        if created {
            "注册成功"
        } else {
            "登录成功"
        },
    )
}

/// `POST /account/logout`: the session's token stops working at once.
async fn logout(state: web::Data<AppState>, call: UserCall) -> ApiResult {
    state.sessions.revoke(&call.session_id).await?;
    ok_with(Empty {}, "退出成功")
}
