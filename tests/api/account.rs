//! `/account/*`: SMS captcha, login/registration, logout.

use huddle::clients::captcha::messages;
use serde_json::Value;

use crate::helpers::*;

fn is_hex32(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

#[actix_web::test]
async fn captcha_then_login_registers_then_logs_in() {
    let app = spawn_app().await;
    let res = app.send_captcha("13800000001").await;
    assert_eq!(
        res.body,
        serde_json::json!({"result": {}, "message": "验证码已发送，请注意查收", "status": 1})
    );
    let code = app.sms.last_code("13800000001").unwrap();
    assert_eq!(code.len(), 6);

    let res = app.login_with("13800000001", &code).await;
    let r = res.ok();
    assert_eq!(res.body["message"], "注册成功");
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 4, "{r}");
    assert!(is_hex32(&r["uid"]) && is_hex32(&r["accessSecret"]), "{r}");
    assert!(
        r["accessToken"].as_str().unwrap().split('.').count() == 3,
        "JWT expected"
    );
    let thirty_days = 30 * 24 * 3600 * 1000;
    assert_eq!(
        r["expireTime"].as_i64().unwrap(),
        app.clock_now() + thirty_days
    );
    let uid = r["uid"].clone();

    app.clock.advance(61_000);
    app.send_captcha("13800000001").await.ok();
    let code = app.sms.last_code("13800000001").unwrap();
    let res = app.login_with("13800000001", &code).await;
    assert_eq!(res.body["message"], "登录成功");
    assert_eq!(res.ok()["uid"], uid, "the same number is the same account");
}

#[actix_web::test]
async fn captcha_defaults_to_country_code_86_and_accepts_others() {
    let app = spawn_app().await;
    app.send_captcha("13800000002").await.ok();
    app.post("/account/captcha")
        .param("countryCode", "1")
        .param("mobile", "4155550100")
        .send()
        .await
        .ok();
    let received = app.sms.received.lock().unwrap().clone();
    let bodies: Vec<Value> = received
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(bodies[0]["countryCode"], "86");
    assert_eq!(bodies[1]["countryCode"], "1");
    assert_eq!(bodies[1]["mobile"], "4155550100");
}

#[actix_web::test]
async fn sms_gateway_gets_the_configured_request() {
    let app = spawn_app().await;
    app.send_captcha("13800000003").await.ok();
    let r = app.sms.received.lock().unwrap()[0].clone();
    assert_eq!(r.method, "POST");
    assert_eq!(r.authorization.as_deref(), Some("Bearer sms-test-key"));
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["mobile"], "13800000003");
    assert!(body["code"]
        .as_str()
        .unwrap()
        .bytes()
        .all(|b| b.is_ascii_digit()));
}

#[actix_web::test]
async fn bad_mobile_numbers_are_400() {
    let app = spawn_app().await;
    for mobile in ["138-0000-0000", "abc", "123", "1234567890123456"] {
        app.send_captcha(mobile)
            .await
            .protocol(400, "Params Not Valid");
    }
    app.post("/account/captcha")
        .send()
        .await
        .protocol(400, "Params Not Valid: mobile is required");
    app.post("/account/captcha")
        .param("countryCode", "x1")
        .param("mobile", "13800000000")
        .send()
        .await
        .protocol(400, "Params Not Valid: countryCode");
    assert_eq!(app.sms.count(), 0, "nothing sent for bad input");
}

#[actix_web::test]
async fn one_send_per_60_seconds() {
    let app = spawn_app().await;
    app.send_captcha("13800000004").await.ok();
    let msg = app.send_captcha("13800000004").await.business(0);
    assert_eq!(msg, messages::TOO_SOON);
    app.clock.advance(59_000);
    app.send_captcha("13800000004").await.business(0);
    app.clock.advance(1_000);
    app.send_captcha("13800000004").await.ok();
    assert_eq!(app.sms.count(), 2);
    // another number is not limited by the first
    app.send_captcha("13800000005").await.ok();
}

#[actix_web::test]
async fn ten_sends_per_day() {
    let app = spawn_app().await;
    for _ in 0..10 {
        app.send_captcha("13800000006").await.ok();
        app.clock.advance(60_000);
    }
    let msg = app.send_captcha("13800000006").await.business(0);
    assert_eq!(msg, messages::DAILY_LIMIT);
    assert_eq!(app.sms.count(), 10);
    app.clock.advance(24 * 3600 * 1000);
    app.send_captcha("13800000006").await.ok();
}

#[actix_web::test]
async fn wrong_codes_are_refused_and_five_burn_the_code() {
    let app = spawn_app().await;
    app.send_captcha("13800000007").await.ok();
    let code = app.sms.last_code("13800000007").unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        assert_eq!(
            app.login_with("13800000007", wrong).await.business(0),
            messages::WRONG
        );
    }
    assert_eq!(
        app.login_with("13800000007", wrong).await.business(0),
        messages::BURNT
    );
    assert_eq!(
        app.login_with("13800000007", &code).await.business(0),
        messages::EXPIRED
    );
}

#[actix_web::test]
async fn codes_are_single_use() {
    let app = spawn_app().await;
    app.send_captcha("13800000008").await.ok();
    let code = app.sms.last_code("13800000008").unwrap();
    app.login_with("13800000008", &code).await.ok();
    assert_eq!(
        app.login_with("13800000008", &code).await.business(0),
        messages::EXPIRED
    );
}

#[actix_web::test]
async fn codes_expire_after_five_minutes() {
    let app = spawn_app().await;
    app.send_captcha("13800000009").await.ok();
    let code = app.sms.last_code("13800000009").unwrap();
    app.clock.advance(5 * 60 * 1000);
    assert_eq!(
        app.login_with("13800000009", &code).await.business(0),
        messages::EXPIRED
    );
}

#[actix_web::test]
async fn login_without_a_sent_code_is_refused() {
    let app = spawn_app().await;
    assert_eq!(
        app.login_with("13800000010", "123456").await.business(0),
        messages::EXPIRED
    );
}

#[actix_web::test]
async fn captcha_must_be_4_to_6_digits() {
    let app = spawn_app().await;
    for bad in ["123", "1234567", "12a456"] {
        app.login_with("13800000011", bad)
            .await
            .protocol(400, "Params Not Valid: captcha");
    }
    app.post("/account/login/captcha")
        .param("mobile", "13800000011")
        .send()
        .await
        .protocol(400, "Params Not Valid: captcha is required");
}

#[actix_web::test]
async fn test_numbers_log_in_with_their_fixed_code_and_get_no_sms() {
    let app = spawn_app().await;
    app.send_captcha(TEST_NUMBER).await.ok();
    app.send_captcha(TEST_NUMBER).await.ok(); // no cooldown either
    assert_eq!(app.sms.count(), 0);
    let first = session_from(&app.login_with(TEST_NUMBER, TEST_CODE).await);
    let second = session_from(&app.login_with(TEST_NUMBER, TEST_CODE).await);
    assert_eq!(first.uid, second.uid);
    assert_ne!(first.secret, second.secret, "each login is its own session");
    assert_eq!(
        app.login_with(TEST_NUMBER, "135790").await.business(0),
        messages::WRONG
    );
}

#[actix_web::test]
async fn a_failing_gateway_is_a_clear_error_and_retry_is_allowed() {
    let app = spawn_app().await;
    *app.sms.failing.lock().unwrap() = true;
    assert_eq!(
        app.send_captcha("13800000012").await.business(0),
        messages::SEND_FAILED
    );
    *app.sms.failing.lock().unwrap() = false;
    app.send_captcha("13800000012").await.ok();
}

#[actix_web::test]
async fn an_unreachable_gateway_is_a_clear_error() {
    let app = spawn_app_with(|c| {
        if let huddle::config::SmsProviderConfig::Http(h) = &mut c.sms {
            h.url = "http://127.0.0.1:9/unreachable".into();
        }
    })
    .await;
    assert_eq!(
        app.send_captcha("13800000013").await.business(0),
        messages::SEND_FAILED
    );
}

#[actix_web::test]
async fn logout_ends_the_session_at_once() {
    let app = spawn_app().await;
    let phone = app.login(TEST_NUMBER).await;
    let tablet = app.login(TEST_NUMBER).await;
    let res = app.post("/account/logout").user(&phone).send().await;
    assert_eq!(
        res.body,
        serde_json::json!({"result": {}, "message": "退出成功", "status": 1})
    );
    app.post_as(&phone, "/account/logout")
        .await
        .protocol(401, "Authorized Failed: session ended");
    // the other device's session is untouched
    app.post("/account/logout").user(&tablet).send().await.ok();
}

#[actix_web::test]
async fn frozen_accounts_get_100002_until_unfrozen() {
    let app = spawn_app().await;
    let s = app.login(TEST_NUMBER).await;

    let out = app.cli(&["account", "freeze", &s.uid]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        app.post_as(&s, "/account/logout").await.business(100002),
        "账号已被冻结"
    );
    assert_eq!(
        app.login_with(TEST_NUMBER, TEST_CODE)
            .await
            .business(100002),
        "账号已被冻结"
    );

    let out = app.cli(&["account", "unfreeze", &s.uid]);
    assert!(out.status.success());
    app.login_with(TEST_NUMBER, TEST_CODE).await.ok();
    app.post("/account/logout").user(&s).send().await.ok();
}

#[actix_web::test]
async fn freezing_an_unknown_account_fails_loudly() {
    let app = spawn_app().await;
    let out = app.cli(&["account", "freeze", "0123456789abcdef0123456789abcdef"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account"));
    let out = app.cli(&["account", "freeze", "not-a-uid"]);
    assert!(!out.status.success());
}
