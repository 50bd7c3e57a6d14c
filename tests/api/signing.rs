//! Request signing: ts window, sign, replay, transports.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn all_three_transports_are_accepted() {
    let app = spawn_app().await;
    for (i, t) in [Transport::Query, Transport::Form, Transport::Json]
        .into_iter()
        .enumerate()
    {
        let mobile = format!("1380000010{i}");
        app.post("/account/captcha")
            .param("mobile", &mobile)
            .via(t)
            .send()
            .await
            .ok();
        assert!(app.sms.last_code(&mobile).is_some(), "{t:?}");
    }
}

#[actix_web::test]
async fn json_numbers_are_signed_as_their_text() {
    let app = spawn_app().await;
    // countryCode as a JSON number 86: signed as "86"
    app.post("/account/captcha")
        .param("mobile", "13800000110")
        .json_param("countryCode", json!(86))
        .via(Transport::Json)
        .send()
        .await
        .ok();
}

#[actix_web::test]
async fn missing_or_bad_ts_is_401() {
    let app = spawn_app().await;
    let captcha = || app.post("/account/captcha").param("mobile", "13800000120");
    captcha()
        .unsigned()
        .send()
        .await
        .protocol(401, "Authorized Failed: ts is required");
    let now = app.clock_now();
    for outside in [now - 300_001, now + 300_001] {
        captcha()
            .ts(outside)
            .send()
            .await
            .protocol(401, "Authorized Failed: ts is");
    }
    assert_eq!(app.sms.count(), 0);
    // the edge of the window is still inside
    captcha().ts(now - 300_000).send().await.ok();
}

#[actix_web::test]
async fn missing_or_wrong_sign_is_401() {
    let app = spawn_app().await;
    let url = app.url("/account/captcha");
    let ts = app.clock_now().to_string();
    send(
        app.client
            .post(&url)
            .form(&[("mobile", "13800000130"), ("ts", ts.as_str())]),
    )
    .await
    .protocol(401, "Authorized Failed: sign is required");
    app.post("/account/captcha")
        .param("mobile", "13800000130")
        .sign("0123456789abcdef0123456789abcdef")
        .send()
        .await
        .protocol(401, "Authorized Failed: sign does not match");
    assert_eq!(app.sms.count(), 0);
}

#[actix_web::test]
async fn tampering_with_a_signed_parameter_is_401() {
    let app = spawn_app().await;
    let call = app.post("/account/captcha").param("mobile", "13800000140");
    let mut params = call.signed_params();
    params[0].1 = "13800000141".into();
    send(app.client.post(app.url("/account/captcha")).form(&params))
        .await
        .protocol(401, "Authorized Failed: sign does not match");
}

#[actix_web::test]
async fn logged_in_calls_must_sign_with_the_access_secret() {
    let app = spawn_app().await;
    let s = app.login(TEST_NUMBER).await;
    let mut wrong = s.clone();
    wrong.secret = huddle::auth::signature::DEFAULT_ACCESS_SECRET.into();
    app.post_as(&wrong, "/account/logout")
        .await
        .protocol(401, "Authorized Failed: sign does not match");
    app.post("/account/logout").user(&s).send().await.ok();
}

#[actix_web::test]
async fn a_replayed_request_is_ignored_with_minus_one() {
    let app = spawn_app().await;
    let params = app
        .post("/account/captcha")
        .param("mobile", "13800000150")
        .signed_params();
    let url = app.url("/account/captcha");
    send(app.client.post(&url).form(&params)).await.ok();
    let replay = send(app.client.post(&url).form(&params)).await;
    assert_eq!(
        replay.body,
        json!({"result": -1, "message": "短时间内重复调用(直接忽略请求)", "status": 0})
    );
    assert_eq!(app.sms.count(), 1, "the replay was not executed");
}

#[actix_web::test]
async fn replayed_logout_is_not_executed_twice() {
    let app = spawn_app().await;
    let s = app.login(TEST_NUMBER).await;
    let call = app.post("/account/logout").user(&s);
    let params = call.signed_params();
    let url = app.url("/account/logout");
    send(
        app.client
            .post(&url)
            .header("Authorization", s.authorization())
            .form(&params),
    )
    .await
    .ok();
    // after logout the replay is refused as unauthenticated before anything else
    send(
        app.client
            .post(&url)
            .header("Authorization", s.authorization())
            .form(&params),
    )
    .await
    .protocol(401, "Authorized Failed");
}
