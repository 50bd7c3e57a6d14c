//! H5: sessions (guest and WeChat OAuth), the seed's H5 views as a stranger
//! sees them, the JS-SDK config, the read-only live stream of a shared room,
//! and the share pages' server-rendered OpenGraph tags.

use huddle::config::{Secret, WechatConfig};
use serde_json::{json, Value};

use crate::fakes::{FakeService, Reply};
use crate::helpers::*;
use crate::ws::WsClient;

fn id(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap().to_owned()
}

async fn shared_room(app: &TestApp, name: &str) -> (Session, String, String, String) {
    let host = app.user("13800700001", "Toby").await;
    let club = app.create_club(&host, "超圈爸爸群").await;
    let room = app.create_room(&host, name, &id(&club, "clubId")).await;
    let room_id = id(&room, "roomId");
    let cache = app.room_cache(&host, &room_id).await;
    (host, room_id, cache, id(&club, "clubId"))
}

#[actix_web::test]
async fn a_stranger_sees_the_shared_room_live_and_nothing_private() {
    let mut app = spawn_huddle().await;
    let (host, room_id, cache_id, club_id) = shared_room(&app, "周五夜聊").await;
    let guest = app.user("13800700002", "Guest").await;
    app.join_club(&guest, &club_id).await;
    // The host and the guest are live members (token + socket).
    let mut host_ws = app.ws(&host).await;
    app.room_token(&host, &room_id).await;
    host_ws.join(&room_id).await;
    let mut guest_ws = app.ws(&guest).await;
    app.room_token(&guest, &room_id).await;
    guest_ws.join(&room_id).await;

    let token = app.h5_session().await;
    let res = app.h5(&format!("/h5/room/{cache_id}"), &token).send().await;
    let r = res.ok();
    assert_keys(
        r,
        &[
            "closed",
            "clubId",
            "clubResult",
            "createTime",
            "fromMember",
            "memberList",
            "memberTotal",
            "name",
            "inviteOnly",
            "roomCacheId",
            "roomId",
            "uid",
        ],
    );
    assert_eq!(r["closed"], 0);
    assert_eq!(r["name"], "周五夜聊");
    assert_eq!(r["roomId"], room_id);
    assert_eq!(r["roomCacheId"], cache_id);
    assert_eq!(r["uid"], host.uid);
    assert_eq!(r["clubResult"]["joined"], 0);
    assert_eq!(r["clubResult"]["name"], "超圈爸爸群");
    assert_keys(&r["fromMember"], &["avatar", "bio", "nickname", "uid"]);
    assert_eq!(r["fromMember"]["nickname"], "Toby");
    assert_eq!(r["memberTotal"], 2);
    let members: Vec<String> = r["memberList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| id(m, "uid"))
        .collect();
    assert_eq!(members, vec![host.uid.clone(), guest.uid.clone()]);
    for m in r["memberList"].as_array().unwrap() {
        assert_keys(m, &["avatar", "bio", "nickname", "uid", "blocked"]);
        assert_eq!(m["blocked"], 0);
    }
    assert!(
        !res.text.contains("13800700001") && !res.text.contains("13800700002"),
        "no phone numbers"
    );

    // Club, profile and event views.
    let club = app.h5(&format!("/h5/club/{club_id}"), &token).send().await;
    assert_keys(club.ok(), CLUB_KEYS);
    assert_eq!(club.ok()["joined"], 0);
    let profile = app
        .h5(&format!("/h5/profile/{}", host.uid), &token)
        .send()
        .await;
    assert_keys(
        profile.ok(),
        &["avatar", "bio", "nickname", "uid", "blocked"],
    );
    assert!(!profile.text.contains("13800700001"));
    let event = app
        .create_event(
            &host,
            "日程",
            app.clock_now() + 3_600_000,
            &[&host.uid, &guest.uid],
        )
        .await;
    let ev = app
        .h5(&format!("/h5/event/{}", id(&event, "eventId")), &token)
        .send()
        .await;
    let e = ev.ok();
    assert_eq!(e["name"], "日程");
    assert_eq!(e["notify"], 0);
    assert_eq!(e["memberList"].as_array().unwrap().len(), 2);
    for m in e["memberList"].as_array().unwrap() {
        assert_eq!(m["blocked"], 0);
        assert_eq!(m["sendCard"], 0);
    }

    // Unknown things answer the seed's business codes.
    let unknown = "00112233445566778899aabbccddeeff";
    app.h5(&format!("/h5/room/{unknown}"), &token)
        .send()
        .await
        .business(400000);
    app.h5(&format!("/h5/club/{unknown}"), &token)
        .send()
        .await
        .business(500000);
    app.h5(&format!("/h5/profile/{unknown}"), &token)
        .send()
        .await
        .business(200002);
    app.h5(&format!("/h5/event/{unknown}"), &token)
        .send()
        .await
        .business(600000);
    app.h5("/h5/room/not-an-id", &token)
        .send()
        .await
        .protocol(400, "Params Not Valid");

    // Without a valid H5 token: 401. An app token is not an H5 token.
    app.post(&format!("/h5/room/{cache_id}"))
        .send()
        .await
        .protocol(401, "Authorized Failed");
    app.h5(&format!("/h5/room/{cache_id}"), &host.token)
        .send()
        .await
        .protocol(401, "Authorized Failed");
    app.h5(&format!("/h5/room/{cache_id}"), &token)
        .sign("0".repeat(32).as_str())
        .send()
        .await
        .protocol(401, "Authorized Failed");
    // The session expires.
    app.clock.advance(24 * 3600 * 1000 + 1);
    app.h5(&format!("/h5/room/{cache_id}"), &token)
        .send()
        .await
        .protocol(401, "Authorized Failed");
    let fresh = app.h5_session().await;

    // The share link survives a restart (rebuilt from the database) and shows
    // the room as it is: nobody reconnected, so nobody is live.
    drop(host_ws);
    drop(guest_ws);
    app.restart().await;
    let after = app.h5(&format!("/h5/room/{cache_id}"), &fresh).send().await;
    assert_eq!(after.ok()["roomId"], room_id);
    assert_eq!(after.ok()["closed"], 0);

    // Closed rooms are shown closed, with nobody in them.
    app.post_as(&host, &format!("/room/{room_id}/close"))
        .await
        .ok();
    let closed = app.h5(&format!("/h5/room/{cache_id}"), &fresh).send().await;
    assert_eq!(closed.ok()["closed"], 1);
    assert_eq!(closed.ok()["memberList"], json!([]));
    assert_eq!(closed.ok()["memberTotal"], 0);
}

fn live_url(app: &TestApp, cache_id: &str, token: &str) -> String {
    format!("ws://{}/h5/room/{cache_id}/live?h5Token={token}", app.addr)
}

#[actix_web::test]
async fn the_live_stream_follows_joins_and_ends_with_the_room() {
    let app = spawn_huddle().await;
    let (host, room_id, cache_id, club_id) = shared_room(&app, "Live").await;
    let mut host_ws = app.ws(&host).await;
    app.room_token(&host, &room_id).await;
    host_ws.join(&room_id).await;
    let token = app.h5_session().await;

    let mut watcher = WsClient::connect_first(&live_url(&app, &cache_id, &token), &[], "watching")
        .await
        .expect("upgrade");
    assert_eq!(watcher.hello["roomId"], room_id);
    let start = watcher.hello["seq"].as_i64().unwrap();

    let b = app.user("13800700003", "Bob").await;
    app.join_club(&b, &club_id).await;
    let mut b_ws = app.ws(&b).await;
    app.room_token(&b, &room_id).await;
    b_ws.join(&room_id).await;
    let joined = watcher.next_of("room.member_joined").await;
    assert_eq!(joined["member"]["uid"], b.uid, "{joined}");
    assert!(joined["seq"].as_i64().unwrap() > start);
    b_ws.ok("raise_hand", json!({ "roomId": room_id })).await;
    assert_eq!(watcher.next_of("room.hand_raised").await["uid"], b.uid);

    app.post_as(&host, &format!("/room/{room_id}/close"))
        .await
        .ok();
    let ((code, _), frames) = watcher.until_closed().await;
    assert_eq!(code, 1000);
    assert!(
        frames.iter().any(|f| f["type"] == "room.closed"),
        "{frames:?}"
    );

    // Closed or unknown rooms and bad tokens are refused before the upgrade.
    let closed = WsClient::connect_first(&live_url(&app, &cache_id, &token), &[], "watching")
        .await
        .err()
        .expect("refused");
    assert_eq!(closed.status, 404);
    let bad = WsClient::connect_first(&live_url(&app, &cache_id, "nope"), &[], "watching")
        .await
        .err()
        .expect("refused");
    assert_eq!(bad.status, 401);
    assert_eq!(bad.body["status"], 0);
    let unknown = WsClient::connect_first(
        &live_url(&app, "00112233445566778899aabbccddeeff", &token),
        &[],
        "watching",
    )
    .await
    .err()
    .expect("refused");
    assert_eq!(unknown.status, 404);
}

#[actix_web::test]
async fn wechat_sessions_and_jssdk_config_use_the_configured_account() {
    let wx = FakeService::start().await;
    wx.on(
        "/cgi-bin/token",
        Reply::json(
            200,
            json!({"access_token": "ACCESS_TOKEN", "expires_in": 7200}),
        ),
    );
    wx.on("/cgi-bin/ticket/getticket", Reply::json(200, json!({"errcode": 0, "errmsg": "ok", "ticket": "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg", "expires_in": 7200})));
    wx.on("/sns/oauth2/access_token", Reply::json(200, json!({"access_token": "A", "expires_in": 7200, "refresh_token": "R", "openid": "oLVPpjqs9BhvzwPj5A-vTYAX3GLc", "scope": "snsapi_base"})));
    let base = wx.url();
    let app = spawn_huddle_with(move |c| {
        c.services.wechat = Some(WechatConfig {
            app_id: "wxdf43cbdae5004909".into(),
            app_secret: Secret::new("wx-secret"),
            api_base: base,
        });
    })
    .await;

    // OAuth: the code is exchanged for an openid.
    let res = app.post("/h5/session").param("code", "061Abc").send().await;
    assert_eq!(res.ok()["guest"], 0);
    let token = id(res.ok(), "h5Token");
    let exchange = &wx.requests("/sns/oauth2/access_token")[0];
    assert_eq!(
        exchange.query_param("appid").as_deref(),
        Some("wxdf43cbdae5004909")
    );
    assert_eq!(exchange.query_param("secret").as_deref(), Some("wx-secret"));
    assert_eq!(exchange.query_param("code").as_deref(), Some("061Abc"));
    assert_eq!(
        exchange.query_param("grant_type").as_deref(),
        Some("authorization_code")
    );
    // Without a code: a guest; a refused code: 401.
    assert_eq!(app.post("/h5/session").send().await.ok()["guest"], 1);
    wx.on(
        "/sns/oauth2/access_token",
        Reply::json(200, json!({"errcode": 40029, "errmsg": "invalid code"})),
    );
    app.post("/h5/session")
        .param("code", "used")
        .send()
        .await
        .protocol(401, "Authorized Failed");

    // JS-SDK config: signed with the ticket by the documented scheme.
    let page = "https://h5.example.com/s/room/f6fa3eef2e7344abad2035e13b19b79d?from=share#top";
    let cfg = app
        .h5("/h5/weixin/config", &token)
        .param("url", page)
        .send()
        .await;
    let c = cfg.ok();
    assert_keys(
        c,
        &[
            "signature",
            "appId",
            "jsapi_ticket",
            "nonceStr",
            "url",
            "timestamp",
        ],
    );
    assert_eq!(c["appId"], "wxdf43cbdae5004909");
    assert_eq!(
        c["url"],
        "https://h5.example.com/s/room/f6fa3eef2e7344abad2035e13b19b79d?from=share"
    );
    assert_eq!(c["timestamp"], (app.clock_now() / 1000).to_string());
    let expected = huddle::clients::wechat::jssdk_signature(
        c["jsapi_ticket"].as_str().unwrap(),
        c["nonceStr"].as_str().unwrap(),
        c["timestamp"].as_str().unwrap(),
        c["url"].as_str().unwrap(),
    );
    assert_eq!(c["signature"], expected);
    let getticket = &wx.requests("/cgi-bin/ticket/getticket")[0];
    assert_eq!(
        getticket.query_param("access_token").as_deref(),
        Some("ACCESS_TOKEN")
    );
    assert_eq!(getticket.query_param("type").as_deref(), Some("jsapi"));
    let token_call = &wx.requests("/cgi-bin/token")[0];
    assert_eq!(
        token_call.query_param("grant_type").as_deref(),
        Some("client_credential")
    );
    // The ticket is cached until it expires.
    app.h5("/h5/weixin/config", &token)
        .param("url", page)
        .send()
        .await
        .ok();
    assert_eq!(wx.requests("/cgi-bin/ticket/getticket").len(), 1);
    assert_eq!(wx.requests("/cgi-bin/token").len(), 1);
    app.h5("/h5/weixin/config", &token)
        .param("url", "javascript:alert(1)")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    app.h5("/h5/weixin/config", &token)
        .send()
        .await
        .protocol(400, "Params Not Valid");
}

#[actix_web::test]
async fn without_wechat_visitors_are_guests_and_the_jssdk_config_is_unavailable() {
    let app = spawn_app().await;
    let token = app.h5_session().await;
    app.post("/h5/session")
        .param("code", "061Abc")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    app.h5("/h5/weixin/config", &token)
        .param("url", "https://h5.example.com/")
        .send()
        .await
        .protocol(503, "Service Unavailable");
}

async fn page(app: &TestApp, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.text().await.unwrap(), headers)
}

fn meta(html: &str, property: &str) -> String {
    let needle = format!("property=\"{property}\" content=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("{property} in {html}"))
        + needle.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[actix_web::test]
async fn share_pages_carry_opengraph_tags_and_escape_what_users_wrote() {
    let app = spawn_huddle().await;
    let (host, room_id, cache_id, club_id) = shared_room(&app, "<b>Fri & \"jam\"</b>").await;
    let (status, html, headers) = page(&app, &format!("/s/room/{cache_id}")).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(headers.contains_key("content-security-policy"));
    assert_eq!(
        meta(&html, "og:title"),
        "&lt;b&gt;Fri &amp; &quot;jam&quot;&lt;/b&gt;"
    );
    assert!(!html.contains("<b>Fri"), "user text is escaped");
    assert!(meta(&html, "og:description").contains("Toby"));
    assert_eq!(
        meta(&html, "og:url"),
        app.url(&format!("/s/room/{cache_id}"))
    );
    assert!(html.contains(&format!("chaoqer://room/{room_id}")));
    assert!(html.contains("/web/share.js"));

    let (status, html, _) = page(&app, &format!("/s/club/{club_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(meta(&html, "og:title"), "超圈爸爸群");
    assert_eq!(
        meta(&html, "og:image"),
        "https://cdn.example.com/cover/超圈爸爸群.jpg"
    );
    let (status, html, _) = page(&app, &format!("/s/profile/{}", host.uid)).await;
    assert_eq!(status, 200);
    assert_eq!(meta(&html, "og:title"), "Toby");
    assert!(!html.contains("13800700001"));
    let event = app
        .create_event(&host, "Standup", app.clock_now() + 60_000, &[&host.uid])
        .await;
    let (status, html, _) = page(&app, &format!("/s/event/{}", id(&event, "eventId"))).await;
    assert_eq!(status, 200);
    assert_eq!(meta(&html, "og:title"), "Standup");

    for missing in [
        "/s/room/00112233445566778899aabbccddeeff",
        "/s/club/nope",
        "/s/profile/00112233445566778899aabbccddeeff",
    ] {
        let (status, html, _) = page(&app, missing).await;
        assert_eq!(status, 404, "{missing}");
        assert!(html.contains("<html"), "{missing} is still a page");
    }
    let (status, body, _) = page(&app, "/s/nothing/x").await;
    assert_eq!(status, 404);
    assert!(
        body.contains("\"status\":0"),
        "unknown kinds are the API's 404 envelope"
    );

    // The client and the assets.
    let (status, html, _) = page(&app, "/app/").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html"));
    let (status, js, headers) = page(&app, "/web/share.js").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(!js.is_empty());
    let (status, _, _) = page(&app, "/web/no-such-file.js").await;
    assert_eq!(status, 404);
    let res = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.url().path(), "/app/", "/ leads to the client");
}
