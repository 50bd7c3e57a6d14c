//! Rate limits (OWASP API4): per user, per address, per action. Each test
//! crosses a limit and stays under it, on the server's manual clock, so the
//! windows are exact.

use huddle::ratelimit::{Limits, Rate};
use serde_json::Value;

use crate::helpers::*;

/// Moves the server's clock to `offset_ms` into the next minute.
fn to_minute_offset(app: &TestApp, offset_ms: i64) {
    let now = app.clock_now();
    app.clock
        .advance(60_000 - now.rem_euclid(60_000) + offset_ms);
}

/// A 429 envelope; answers its Retry-After (s).
fn too_many(res: &Resp) -> u64 {
    res.protocol(429, "Too Many Requests");
    res.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn unread(app: &TestApp, s: &Session) -> Resp {
    app.get("/user/message/unread_total").user(s).send().await
}

#[actix_web::test]
async fn a_user_past_the_burst_or_the_minute_gets_429_with_retry_after() {
    let app = spawn_app_with(|c| {
        c.limits = Limits {
            user: Rate {
                per_second: 5,
                per_minute: 12,
            },
            ..Limits::off()
        }
    })
    .await;
    let ann = app.user("13800700001", "Ann").await;
    let bob = app.user("13800700002", "Bob").await;
    to_minute_offset(&app, 10_000);

    // the burst: 5 in one second, the 6th waits for the next second
    for _ in 0..5 {
        unread(&app, &ann).await.ok();
    }
    assert_eq!(too_many(&unread(&app, &ann).await), 1);
    // nobody else is slowed down
    unread(&app, &bob).await.ok();
    // 5 of 12 this minute (a call the burst refused does not count in it)
    app.clock.advance(1_000);
    for _ in 0..5 {
        unread(&app, &ann).await.ok();
    }
    app.clock.advance(1_000);
    unread(&app, &ann).await.ok();
    unread(&app, &ann).await.ok();
    // 12 used at 12 s into the minute: 48 s to wait
    assert_eq!(too_many(&unread(&app, &ann).await), 48);
    app.clock.advance(48_000);
    unread(&app, &ann).await.ok();
}

#[actix_web::test]
async fn per_address_limits_count_calls_before_login_only() {
    let app = spawn_app_with(|c| {
        c.limits = Limits {
            ip: Rate {
                per_second: 0,
                per_minute: 10,
            },
            ..Limits::off()
        }
    })
    .await;
    let ann = app.user("13800700003", "Ann").await;
    let bob = app.user("13800700004", "Bob").await;
    to_minute_offset(&app, 30_000);
    // logged-in calls from one address do not touch its budget
    for s in [&ann, &bob].iter().cycle().take(30) {
        unread(&app, s).await.ok();
    }
    // calls before login do: 10 this minute, the 11th waits 30 s
    for n in 0..10 {
        app.login_with(&format!("138007001{n:02}"), "000000").await;
    }
    assert_eq!(too_many(&app.send_captcha("13800700005").await), 30);
    // and the users behind the address still get through
    unread(&app, &ann).await.ok();
    to_minute_offset(&app, 0);
    app.send_captcha("13800700005").await.ok();
}

/// 50 logged-in users behind one address (carrier-grade NAT, an office
/// gateway) each make 60 calls in a minute at the default limits: all
/// succeed. The address's own budget (100 a minute) is for calls before login.
#[actix_web::test]
async fn fifty_users_behind_one_address_are_not_locked_out() {
    const USERS: usize = 50;
    let defaults = huddle::config::Config::defaults().limits;
    assert_eq!(
        defaults.ip.per_minute, 100,
        "the default this test is about"
    );
    assert_eq!(defaults.user.per_minute, 100);
    let app = spawn_app_with(|c| {
        c.limits = defaults;
        c.trusted_proxies = huddle::auth::address::TrustedProxies::parse("127.0.0.0/8").unwrap();
        for n in 0..USERS {
            c.sms_test_numbers
                .insert(&format!("861380072{n:04}"), "135790");
        }
    })
    .await;
    const NAT: &str = "203.0.113.7";
    // Sign in from the NAT address too, paced under its per-address limits
    // (20 a second, 100 a minute).
    to_minute_offset(&app, 0);
    let mut users = Vec::new();
    for n in 0..USERS {
        if n % 10 == 9 {
            app.clock.advance(1_000);
        }
        let res = app
            .post("/account/login/captcha")
            .param("mobile", format!("1380072{n:04}"))
            .param("captcha", "135790")
            .header("X-Forwarded-For", NAT)
            .send()
            .await;
        let s = session_from(&res);
        app.init_profile(&s, &format!("user{n}")).await;
        users.push(s);
    }
    // 60 rounds within one minute: every user calls once a second.
    to_minute_offset(&app, 0);
    for round in 0..60 {
        for (n, s) in users.iter().enumerate() {
            let res = app
                .get("/user/message/unread_total")
                .user(s)
                .header("X-Forwarded-For", NAT)
                .send()
                .await;
            assert_eq!(res.status, 200, "user {n}, call {round}: {}", res.text);
        }
        app.clock.advance(990);
    }

    // One user's own budget still holds: the 101st call of a minute is refused.
    to_minute_offset(&app, 0);
    let one = &users[0];
    for call in 0..100 {
        if call % 20 == 19 {
            app.clock.advance(1_000);
        }
        let res = app
            .get("/user/message/unread_total")
            .user(one)
            .header("X-Forwarded-For", NAT)
            .send()
            .await;
        assert_eq!(res.status, 200, "call {call}: {}", res.text);
    }
    app.clock.advance(1_000);
    let refused = app
        .get("/user/message/unread_total")
        .user(one)
        .header("X-Forwarded-For", NAT)
        .send()
        .await;
    too_many(&refused);
    // while the others behind the same address go on
    app.get("/user/message/unread_total")
        .user(&users[1])
        .header("X-Forwarded-For", NAT)
        .send()
        .await
        .ok();
}

/// At the default 20 captcha sends per address per hour, the 21st is refused.
#[actix_web::test]
async fn the_twenty_first_captcha_from_one_address_in_an_hour_is_refused() {
    let app = spawn_app_with(|c| c.limits = huddle::config::Config::defaults().limits).await;
    let now = app.clock_now();
    app.clock.advance(3_600_000 - now.rem_euclid(3_600_000));
    for n in 0..20 {
        // 20 a second and 100 a minute per address: pace the sends
        if n % 10 == 9 {
            app.clock.advance(1_000);
        }
        app.send_captcha(&format!("138007003{n:02}")).await.ok();
    }
    app.clock.advance(1_000);
    let refused = app.send_captcha("13800700399").await;
    assert!(too_many(&refused) <= 3_600);
    assert!(
        app.sms.last_code("13800700399").is_none(),
        "no SMS went out"
    );
}

#[actix_web::test]
async fn rooms_and_invites_per_user_per_hour() {
    let app = spawn_huddle_with(|c| {
        c.limits = Limits {
            rooms_per_hour: 2,
            invites_per_hour: 2,
            ..Limits::off()
        }
    })
    .await;
    let host = app.user("13800700006", "Host").await;
    let club = app.create_club(&host, "Club").await;
    let club_id = club["clubId"].as_str().unwrap().to_owned();
    let now = app.clock_now();
    app.clock.advance(3_600_000 - now.rem_euclid(3_600_000));

    let rooms: Vec<String> = [
        app.create_room(&host, "one", &club_id).await,
        app.create_room(&host, "two", &club_id).await,
    ]
    .iter()
    .map(|r: &Value| r["roomId"].as_str().unwrap().to_owned())
    .collect();
    let third = app
        .post("/room")
        .user(&host)
        .param("name", "three")
        .param("clubId", &club_id)
        .send()
        .await;
    assert_eq!(too_many(&third), 3_600);
    // another user may still open rooms
    let other = app.user("13800700007", "Other").await;
    app.join_club(&other, &club_id).await;
    app.create_room(&other, "theirs", &club_id).await;

    let guests = [
        app.user("13800700008", "G1").await,
        app.user("13800700009", "G2").await,
        app.user("13800700010", "G3").await,
    ];
    for g in &guests {
        app.join_club(g, &club_id).await;
    }
    let invite = |g: &Session| {
        app.post(&format!("/room/{}/invite/{}", rooms[0], g.uid))
            .user(&host)
            .send()
    };
    invite(&guests[0]).await.ok();
    invite(&guests[1]).await.ok();
    assert!(too_many(&invite(&guests[2]).await) <= 3_600);
    // a refused invitation sent nothing
    assert_eq!(app.unread_total(&guests[2]).await, 0);

    app.clock.advance(3_600_000);
    app.create_room(&host, "next hour", &club_id).await;
    invite(&guests[2]).await.ok();
}

#[actix_web::test]
async fn captcha_sends_per_address_per_hour() {
    let app = spawn_app_with(|c| {
        c.limits = Limits {
            captchas_per_ip_per_hour: 3,
            ..Limits::off()
        }
    })
    .await;
    for mobile in ["13800700011", "13800700012", "13800700013"] {
        app.send_captcha(mobile).await.ok();
    }
    let refused = app.send_captcha("13800700014").await;
    assert!(too_many(&refused) <= 3_600);
    assert!(
        app.sms.last_code("13800700014").is_none(),
        "no SMS went out"
    );
}

async fn captcha_from(app: &TestApp, mobile: &str, forwarded: &str) -> Resp {
    app.post("/account/captcha")
        .param("mobile", mobile)
        .header("X-Forwarded-For", forwarded)
        .send()
        .await
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_count() {
    let limits = Limits {
        ip: Rate {
            per_second: 0,
            per_minute: 3,
        },
        ..Limits::off()
    };

    // the test client (127.0.0.1) is a trusted proxy
    let app = spawn_app_with(|c| {
        c.limits = limits;
        c.trusted_proxies = huddle::auth::address::TrustedProxies::parse("127.0.0.0/8").unwrap();
    })
    .await;
    to_minute_offset(&app, 0);
    for mobile in ["13800700021", "13800700022", "13800700023"] {
        captcha_from(&app, mobile, "198.51.100.1").await.ok();
    }
    too_many(&captcha_from(&app, "13800700024", "198.51.100.1").await);
    // a spoofed left part does not make a new client: the proxy appended the real one
    too_many(&captcha_from(&app, "13800700025", "6.6.6.6, 198.51.100.1").await);
    // another client behind the same proxy has its own count
    captcha_from(&app, "13800700026", "198.51.100.2").await.ok();

    // without trusted proxies the header is ignored: changing it does not help
    let app = spawn_app_with(|c| c.limits = limits).await;
    to_minute_offset(&app, 0);
    for (mobile, forwarded) in [
        ("13800700031", "198.51.100.1"),
        ("13800700032", "198.51.100.2"),
        ("13800700033", "198.51.100.3"),
    ] {
        captcha_from(&app, mobile, forwarded).await.ok();
    }
    too_many(&captcha_from(&app, "13800700034", "198.51.100.4").await);
}

#[actix_web::test]
async fn share_page_calls_and_live_streams_count_per_address() {
    let app = spawn_app_with(|c| {
        c.limits = Limits {
            ip: Rate {
                per_second: 0,
                per_minute: 3,
            },
            ..Limits::off()
        }
    })
    .await;
    to_minute_offset(&app, 0);
    // 1: the H5 session
    let token = app.h5_session().await;
    let share = |path: String| app.h5(&path, &token).send();
    // 2, 3: share-page reads (an unknown room: counted all the same)
    for _ in 0..2 {
        let res = share(format!("/h5/room/{}", "0".repeat(32))).await;
        assert_ne!(res.status, 429, "{}", res.text);
    }
    // 4: over the limit, for reads and for the live stream alike
    too_many(&share(format!("/h5/room/{}", "0".repeat(32))).await);
    let live = format!(
        "ws://{}/h5/room/{}/live?h5Token={token}",
        app.addr,
        "0".repeat(32)
    );
    let refused = crate::ws::WsClient::connect_first(&live, &[], "watching")
        .await
        .err()
        .expect("refused");
    assert_eq!(refused.status, 429);
    // the next minute the address may read again
    to_minute_offset(&app, 0);
    assert_ne!(
        share(format!("/h5/room/{}", "0".repeat(32))).await.status,
        429
    );
}
