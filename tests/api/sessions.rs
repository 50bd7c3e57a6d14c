//! `Authorization: Basic base64(uid:accessToken)` on logged-in routes.

use base64::Engine;

use crate::helpers::*;

fn basic(raw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[actix_web::test]
async fn logged_in_routes_need_a_session() {
    let app = spawn_app().await;
    app.post("/account/logout")
        .send()
        .await
        .protocol(401, "Authorized Failed: Authorization header is required");
}

#[actix_web::test]
async fn malformed_authorization_is_401() {
    let app = spawn_app().await;
    let s = app.login(TEST_NUMBER).await;
    let cases = [
        format!("Bearer {}", s.token),
        "Basic !!!not-base64".to_owned(),
        basic("no-colon-here"),
        basic(&format!("NOT-A-UID:{}", s.token)),
        basic(&format!("{}:garbage.token.here", s.uid)),
    ];
    for header in cases {
        app.post("/account/logout")
            .user(&s)
            .header("Authorization", &header)
            .send()
            .await
            .protocol(401, "Authorized Failed");
    }
    // the real session still works
    app.post("/account/logout").user(&s).send().await.ok();
}

#[actix_web::test]
async fn a_token_used_with_another_uid_is_401() {
    let app = spawn_app().await;
    let a = app.login(TEST_NUMBER).await;
    let b = app.login("13800000020").await;
    let mut forged = b.clone();
    forged.token = a.token.clone();
    app.post_as(&forged, "/account/logout").await.protocol(
        401,
        "Authorized Failed: access token belongs to another uid",
    );
}

#[actix_web::test]
async fn a_token_signed_by_another_server_is_401() {
    let app =
        spawn_app_with(|c| c.jwt_secret = Some(huddle::config::Secret::new("first-secret"))).await;
    let other =
        spawn_app_with(|c| c.jwt_secret = Some(huddle::config::Secret::new("other-secret"))).await;
    let foreign = other.login(TEST_NUMBER).await;
    app.login(TEST_NUMBER).await;
    app.post_as(&foreign, "/account/logout")
        .await
        .protocol(401, "Authorized Failed: access token is not valid");
}

#[actix_web::test]
async fn sessions_expire_after_30_days() {
    let app = spawn_app().await;
    let s = app.login(TEST_NUMBER).await;
    app.clock.advance(30 * 24 * 3600 * 1000 - 1);
    // still valid one ms before expiry (request signed at the server's time)
    let keep = app.login(TEST_NUMBER).await;
    app.clock.advance(1);
    app.post_as(&s, "/account/logout")
        .await
        .protocol(401, "Authorized Failed: session expired");
    app.post("/account/logout").user(&keep).send().await.ok();
}

#[actix_web::test]
async fn sessions_survive_a_restart() {
    let app = spawn_app().await;
    let s = app.login(TEST_NUMBER).await;
    let _ = app.handle.stop(true).await;
    let config = app.config.clone();
    let restarted = huddle::startup::Application::build(
        config,
        huddle::startup::Overrides {
            clock: Some(app.clock.clone()),
            handle_signals: false,
        },
    )
    .await
    .unwrap();
    let url = format!("http://{}/account/logout", restarted.addr());
    actix_web::rt::spawn(restarted.run_until_stopped());
    // sign exactly like the app, against the restarted server
    let ts = app.clock_now().to_string();
    let sign = huddle::auth::signature::sign([("ts", ts.as_str())], &s.secret);
    let res = send(
        app.client
            .post(url)
            .header("Authorization", s.authorization())
            .form(&[("ts", ts.as_str()), ("sign", sign.as_str())]),
    )
    .await;
    res.ok();
}

/// A session in use is remembered by the node for `session_cache_ms`; a
/// freeze made by the CLI (another process) reaches it within that time.
#[actix_web::test]
async fn a_cli_freeze_reaches_a_session_in_use_within_the_session_cache_time() {
    for cache_ms in [0_u64, 1_000] {
        let app = spawn_app_with(|c| c.session_cache_ms = cache_ms).await;
        let s = app.login(TEST_NUMBER).await;
        app.init_profile(&s, "Ann").await;
        // the session is now checked (and remembered) by the server
        app.get_as(&s, "/user/message/unread_total").await.ok();
        let out = app.cli(&["account", "freeze", &s.uid]);
        assert!(out.status.success());
        let frozen_at = std::time::Instant::now();
        let refused = wait_for(|| async {
            app.get_as(&s, "/user/message/unread_total").await.body["result"] == 100002
        })
        .await;
        let took = frozen_at.elapsed();
        assert!(
            refused,
            "cache {cache_ms} ms: the frozen session still works"
        );
        assert!(
            took < std::time::Duration::from_millis(cache_ms + 300),
            "cache {cache_ms} ms: the freeze took {took:?} to apply"
        );
        if cache_ms == 0 {
            assert!(took < std::time::Duration::from_millis(150), "{took:?}");
        }
    }
}

/// Logout is immediate on the node that served it, cache or not.
#[actix_web::test]
async fn logout_ends_a_remembered_session_at_once() {
    let app = spawn_app_with(|c| c.session_cache_ms = 60_000).await;
    let s = app.login(TEST_NUMBER).await;
    app.init_profile(&s, "Ann").await;
    app.get_as(&s, "/user/message/unread_total").await.ok();
    app.post("/account/logout").user(&s).send().await.ok();
    app.get_as(&s, "/user/message/unread_total")
        .await
        .protocol(401, "Authorized Failed: session ended");
}
