//! `/app/*`: the newest version (and the `huddle app-version` CLI), feedback,
//! reports and link previews behind the SSRF guard.

use std::collections::HashSet;
use std::time::Duration;

use md5::{Digest, Md5};
use serde_json::{json, Value};

use crate::fakes::{FakeService, Reply};
use crate::helpers::*;

async fn upgrade(app: &TestApp, client_type: &str) -> Resp {
    send(
        app.client
            .get(app.url("/app/version/upgrade"))
            .header("Client-Type", client_type),
    )
    .await
}

#[actix_web::test]
async fn the_newest_version_per_client_type_is_managed_by_the_cli() {
    let app = spawn_app().await;
    // Nothing published yet: the caller's own version, so the app reads "up
    // to date" (never an empty object).
    let own = send(
        app.client
            .get(app.url("/app/version/upgrade"))
            .header("Client-Type", "1")
            .header("Version-Name", "0.1.5")
            .header("Version-Code", "17"),
    )
    .await;
    assert_eq!(
        own.ok(),
        &json!({
            "clientType": 1,
            "createTime": 0,
            "downloadUrl": "",
            "forcedUpgrade": 0,
            "versionCode": 17,
            "versionDesc": "",
            "versionId": "",
            "versionName": "0.1.5",
        })
    );
    // Without version headers: code 0, no name; still every field.
    let bare = upgrade(&app, "2").await;
    assert_eq!(bare.ok()["versionCode"], 0);
    assert_eq!(bare.ok()["versionName"], "");
    assert_eq!(bare.ok()["clientType"], 2);

    let add = |client: &str, code: &str, name: &str, extra: &[&str]| {
        let mut args = vec![
            "app-version",
            "add",
            "--client-type",
            client,
            "--code",
            code,
            "--name",
            name,
            "--url",
            "https://apps.apple.com/cn/app/id1556448380",
            "--desc",
            "1. 增加了名片夹功能",
        ];
        args.extend_from_slice(extra);
        app.cli(&args)
    };
    for out in [
        add("ios", "18", "0.1.6", &[]),
        add("ios", "19", "0.1.7", &["--forced"]),
        add("android", "7", "0.0.7", &[]),
    ] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let dup = add("1", "19", "again", &[]);
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already published"));
    let bad = add("tv", "1", "x", &[]);
    assert!(!bad.status.success());

    let ios = upgrade(&app, "1").await;
    let v = ios.ok();
    assert_keys(
        v,
        &[
            "clientType",
            "createTime",
            "downloadUrl",
            "forcedUpgrade",
            "versionCode",
            "versionDesc",
            "versionId",
            "versionName",
        ],
    );
    assert_eq!(v["clientType"], 1);
    assert_eq!(v["versionCode"], 19);
    assert_eq!(v["versionName"], "0.1.7");
    assert_eq!(v["forcedUpgrade"], 1);
    assert_eq!(v["versionDesc"], "1. 增加了名片夹功能");
    assert!(hex32(&v["versionId"]));
    assert_ms(&v["createTime"]);
    assert_eq!(upgrade(&app, "2").await.ok()["versionCode"], 7);
    // Web has nothing published: its own version (0 without headers).
    assert_eq!(upgrade(&app, "0").await.ok()["versionCode"], 0);
    assert_eq!(upgrade(&app, "0").await.ok()["clientType"], 0);
    upgrade(&app, "9").await.protocol(400, "Params Not Valid");

    let list = app.cli(&["app-version", "list", "--client-type", "ios"]);
    let listed = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(
        listed.contains("0.1.7") && listed.contains("0.1.6") && !listed.contains("0.0.7"),
        "{listed}"
    );
    let id = v["versionId"].as_str().unwrap();
    assert!(app.cli(&["app-version", "remove", id]).status.success());
    assert_eq!(upgrade(&app, "1").await.ok()["versionCode"], 18);
    assert!(
        !app.cli(&["app-version", "remove", id]).status.success(),
        "twice"
    );
}

#[actix_web::test]
async fn feedback_is_validated_and_stored_with_the_callers_images() {
    let app = spawn_huddle().await;
    let a = app.user("13800600001", "Feedback").await;
    let b = app.user("13800600002", "Other").await;
    let mine = app
        .post("/aliyun/image/upload")
        .user(&a)
        .param("imageDir", "feedback")
        .send()
        .await
        .ok()
        .clone();
    let theirs = app
        .post("/aliyun/image/upload")
        .user(&b)
        .param("imageDir", "feedback")
        .send()
        .await
        .ok()
        .clone();

    let res = app
        .post("/app/feedback")
        .user(&a)
        .param("originFeedbackType", 0)
        .param("originId", "app")
        .param("feedbackType", 0)
        .param("feedbackContent", "x".repeat(500))
        .json_param(
            "feedbackImageList",
            json!([mine["imageId"], mine["imageURL"]]),
        )
        .send()
        .await;
    assert_eq!(res.ok(), &json!({}));
    assert_eq!(res.body["message"], "反馈成功");
    // Form transport: the list as JSON text.
    app.post("/app/feedback")
        .user(&a)
        .via(Transport::Form)
        .param("originFeedbackType", 0)
        .param("originId", "app")
        .param("feedbackType", 3)
        .param("feedbackContent", "no images")
        .send()
        .await
        .ok();
    assert_eq!(
        app.db_scalar(&format!(
            "SELECT COUNT(*) FROM feedback WHERE uid = '{}'",
            a.uid
        ))
        .await,
        2
    );

    let base = || {
        app.post("/app/feedback")
            .user(&a)
            .param("originFeedbackType", 0)
            .param("originId", "app")
            .param("feedbackType", 0)
    };
    let too_long = base()
        .param("feedbackContent", "字".repeat(501))
        .send()
        .await;
    assert!(too_long.protocol(400, "Params Not Valid").contains("500"));
    base()
        .param("feedbackContent", "  ")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    let foreign = base()
        .param("feedbackContent", "hi")
        .json_param("feedbackImageList", json!([theirs["imageId"]]))
        .send()
        .await;
    assert!(foreign
        .protocol(400, "Params Not Valid")
        .contains("not an image you uploaded"));
    let ten: Vec<Value> = (0..10).map(|_| mine["imageId"].clone()).collect();
    base()
        .param("feedbackContent", "hi")
        .json_param("feedbackImageList", json!(ten))
        .send()
        .await
        .protocol(400, "Params Not Valid");
    app.post("/app/feedback")
        .user(&a)
        .param("originFeedbackType", 2)
        .param("originId", "x")
        .param("feedbackType", 0)
        .param("feedbackContent", "hi")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    // From a room: the room must exist.
    app.post("/app/feedback")
        .user(&a)
        .param("originFeedbackType", 1)
        .param("originId", "00112233445566778899aabbccddeeff")
        .param("feedbackType", 0)
        .param("feedbackContent", "hi")
        .send()
        .await
        .business(400000);
    assert_eq!(
        app.db_scalar(&format!(
            "SELECT COUNT(*) FROM feedback WHERE uid = '{}'",
            a.uid
        ))
        .await,
        2,
        "refusals store nothing"
    );
}

#[actix_web::test]
async fn reports_name_an_existing_user_or_room() {
    let app = spawn_huddle().await;
    let a = app.user("13800600011", "Reporter").await;
    let b = app.user("13800600012", "Reported").await;
    let club = app.create_club(&b, "Club").await;
    let room = app
        .create_room(&b, "Room", club["clubId"].as_str().unwrap())
        .await;
    let report = |kind: i64, id: &str, reason: i64, text: &str| {
        app.post("/app/report")
            .user(&a)
            .param("originReportType", kind)
            .param("originId", id)
            .param("reportReasonType", reason)
            .param("reason", text)
    };
    let res = report(1, &b.uid, 4, "spam").send().await;
    assert_eq!(res.ok(), &json!({}));
    assert_eq!(res.body["message"], "投诉成功");
    report(2, room["roomId"].as_str().unwrap(), 5, "other")
        .send()
        .await
        .ok();
    assert_eq!(
        app.db_scalar(&format!(
            "SELECT COUNT(*) FROM reports WHERE uid = '{}'",
            a.uid
        ))
        .await,
        2
    );

    report(1, "00112233445566778899aabbccddeeff", 1, "x")
        .send()
        .await
        .business(200002);
    report(2, "00112233445566778899aabbccddeeff", 1, "x")
        .send()
        .await
        .business(400000);
    report(3, &b.uid, 1, "x")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    report(1, &b.uid, 6, "x")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    report(1, &b.uid, 0, "x")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    report(1, &a.uid, 1, "me")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    report(1, &b.uid, 1, "")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    report(1, &b.uid, 1, &"r".repeat(501))
        .send()
        .await
        .protocol(400, "Params Not Valid");
    assert_eq!(
        app.db_scalar(&format!(
            "SELECT COUNT(*) FROM reports WHERE uid = '{}'",
            a.uid
        ))
        .await,
        2
    );
}

fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

async fn preview(app: &TestApp, s: &Session, link: &str) -> Resp {
    let link_md5 = md5_hex(&huddle::clients::linkpreview::normalise_link(link));
    app.post(&format!("/app/link/preview/{link_md5}"))
        .user(s)
        .param("link", link)
        .send()
        .await
}

const PAGE: &str = r#"<!doctype html><html><head><meta charset="utf-8">
<title>创业路上之职业技能篇 - 技术 - Tboy的技术角落</title>
<meta name="description" content="plain description">
<meta property="og:description" content="创业吧，趁年轻！">
<meta property="og:image" content="/upload/2019/9/WechatIMG15.jpeg">
</head><body>hello</body></html>"#;

#[actix_web::test]
async fn link_previews_read_the_page_once_and_are_cached_by_md5() {
    let site = FakeService::start().await;
    site.on("/archives/a", Reply::html(PAGE));
    site.on("/moved", Reply::redirect("/archives/a"));
    site.on("/loop", Reply::redirect("/loop"));
    site.on(
        "/404",
        Reply {
            status: 404,
            headers: vec![],
            body: "gone".into(),
        },
    );
    let allowed = format!("127.0.0.1:{}", site.addr.port());
    let app = spawn_huddle_with(move |c| {
        c.services.link_preview.allow = HashSet::from([allowed]);
    })
    .await;
    let a = app.user("13800600021", "Reader").await;
    let base = site.url();

    let res = preview(&app, &a, &format!("{base}/archives/a")).await;
    let p = res.ok();
    assert_keys(p, &["image", "description", "title", "url"]);
    assert_eq!(p["title"], "创业路上之职业技能篇 - 技术 - Tboy的技术角落");
    assert_eq!(p["description"], "创业吧，趁年轻！");
    assert_eq!(p["image"], format!("{base}/upload/2019/9/WechatIMG15.jpeg"));
    assert_eq!(p["url"], format!("{base}/archives/a"));
    assert_eq!(site.requests("/archives/a").len(), 1);

    // Cached by md5: the page changing does not matter, and it is not fetched again.
    site.on("/archives/a", Reply::html("<title>changed</title>"));
    let again = preview(&app, &a, &format!("{base}/archives/a")).await;
    assert_eq!(
        again.ok()["title"],
        "创业路上之职业技能篇 - 技术 - Tboy的技术角落"
    );
    assert_eq!(site.requests("/archives/a").len(), 1);

    // No scheme: http:// is prepended for the md5 and the fetch; redirects are followed.
    let moved = preview(&app, &a, &format!("127.0.0.1:{}/moved", site.addr.port())).await;
    assert_eq!(moved.ok()["title"], "changed");
    assert_eq!(moved.ok()["url"], format!("{base}/archives/a"));

    // md5 must match the link.
    let wrong = app
        .post(&format!("/app/link/preview/{}", md5_hex("http://other")))
        .user(&a)
        .param("link", format!("{base}/archives/a"))
        .send()
        .await;
    assert!(wrong.protocol(400, "Params Not Valid").contains("md5"));
    app.post("/app/link/preview/NOTHEX")
        .user(&a)
        .param("link", "x")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    app.post_as(&a, &format!("/app/link/preview/{}", md5_hex("http://x")))
        .await
        .protocol(400, "Params Not Valid");

    // Pages that cannot be previewed: a clear failure, nothing cached.
    let loops = preview(&app, &a, &format!("{base}/loop")).await;
    assert!(loops.business(0).contains("redirects"), "{}", loops.text);
    assert_eq!(
        site.requests("/loop").len(),
        4,
        "the first request and 3 redirects"
    );
    assert!(preview(&app, &a, &format!("{base}/404"))
        .await
        .business(0)
        .contains("404"));
    let n = app.db_scalar("SELECT COUNT(*) FROM link_previews").await;
    assert_eq!(n, 2, "only the two successful links are cached");
}

#[actix_web::test]
async fn the_ssrf_guard_refuses_private_addresses_and_redirects_to_them() {
    let site = FakeService::start().await;
    site.on("/to-loopback", Reply::redirect("http://127.0.0.1/admin"));
    site.on(
        "/to-metadata",
        Reply::redirect("http://169.254.169.254/latest/meta-data/"),
    );
    site.on("/to-private", Reply::redirect("http://10.0.0.1/"));
    site.on("/to-v6", Reply::redirect("http://[::1]/"));
    let allowed = format!("127.0.0.1:{}", site.addr.port());
    let app = spawn_huddle_with(move |c| {
        c.services.link_preview.allow = HashSet::from([allowed]);
    })
    .await;
    let a = app.user("13800600031", "Attacker").await;
    for (link, why) in [
        ("http://127.0.0.1/", "non-public"),
        ("http://10.0.0.1/", "non-public"),
        ("http://169.254.169.254/latest/meta-data/", "non-public"),
        ("http://[::1]/", "non-public"),
        ("http://[::ffff:127.0.0.1]/", "non-public"),
        ("http://localhost/", "non-public"),
        ("http://100.64.0.1/", "non-public"),
        ("http://224.0.0.1/", "non-public"),
        ("http://127.0.0.1:6379/", "ports 80 and 443"),
        ("ftp://example.com/file", "http and https"),
        ("gopher://127.0.0.1:70/", "http and https"),
    ] {
        let res = preview(&app, &a, link).await;
        let msg = res.protocol(400, "Params Not Valid");
        assert!(msg.contains(why), "{link}: {msg}");
    }
    for hop in ["/to-loopback", "/to-metadata", "/to-private", "/to-v6"] {
        let res = preview(&app, &a, &format!("{}{hop}", site.url())).await;
        let msg = res.protocol(400, "Params Not Valid");
        assert!(msg.contains("non-public"), "{hop}: {msg}");
        assert_eq!(
            site.requests(hop).len(),
            1,
            "the first hop was fetched, the redirect was not"
        );
    }
    assert_eq!(app.db_scalar("SELECT COUNT(*) FROM link_previews").await, 0);
}

#[actix_web::test]
async fn slow_and_huge_pages_are_cut_off() {
    // A server that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = silent.accept().await {
            held.push(conn);
        }
    });
    let site = FakeService::start().await;
    let padding = "<!-- padding -->".repeat(200);
    site.on(
        "/huge",
        Reply::html(&format!(
            "<html><head>{padding}<title>after the cap</title></head></html>"
        )),
    );
    let allow = HashSet::from([
        format!("127.0.0.1:{}", silent_addr.port()),
        format!("127.0.0.1:{}", site.addr.port()),
    ]);
    let app = spawn_huddle_with(move |c| {
        c.services.link_preview.allow = allow;
        c.services.link_preview.timeout_ms = 300;
        c.services.link_preview.max_bytes = 1000;
    })
    .await;
    let a = app.user("13800600041", "Patient").await;
    let started = std::time::Instant::now();
    let res = preview(&app, &a, &format!("http://{silent_addr}/")).await;
    res.protocol(504, "Gateway Timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the deadline holds"
    );
    // The title lies beyond the byte cap: the host stands in for it.
    let res = preview(&app, &a, &format!("{}/huge", site.url())).await;
    assert_eq!(res.ok()["title"], "127.0.0.1");
}
