//! Every route that takes an id in its path answers the business code of the
//! missing thing for a well-formed id that names nothing, on every method the
//! path serves (a DELETE does not answer success for a user who is not there).

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

/// A well-formed id that names nothing.
const NOBODY: &str = "0123456789abcdef0123456789abcdef";

const USER_NOT_FOUND: i64 = 200_002;
const ROOM_NOT_FOUND: i64 = 400_000;
const CLUB_NOT_FOUND: i64 = 500_000;
const EVENT_NOT_FOUND: i64 = 600_000;

type Params<'a> = &'a [(&'a str, String)];

fn id(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn unknown_ids_answer_the_business_code_of_the_missing_thing() {
    let app = spawn_huddle().await;
    let me = app.user("13800710001", "Me").await;
    let other = app.user("13800710002", "Other").await;
    let club = app.create_club(&me, "Mine").await;
    let room = app.create_room(&me, "Mine", &id(&club, "clubId")).await;
    let room_id = id(&room, "roomId");
    let event_time = app.clock_now() + 3_600_000;

    let event_params: Params = &[
        ("name", "Later".into()),
        ("desc", "soon".into()),
        ("eventTime", event_time.to_string()),
        ("memberUidList", format!("[\"{}\"]", me.uid)),
    ];
    let none: Params = &[];
    let page: Params = &[("count", "10".into())];
    let cases: Vec<(Method, String, Params, i64)> = vec![
        (
            Method::GET,
            format!("/user/{NOBODY}/profile"),
            none,
            USER_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/user/{NOBODY}/block"),
            none,
            USER_NOT_FOUND,
        ),
        (
            Method::DELETE,
            format!("/user/{NOBODY}/block"),
            none,
            USER_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/user/{NOBODY}/card"),
            none,
            USER_NOT_FOUND,
        ),
        (
            Method::DELETE,
            format!("/user/{NOBODY}/card"),
            none,
            USER_NOT_FOUND,
        ),
        (Method::GET, format!("/club/{NOBODY}"), none, CLUB_NOT_FOUND),
        (
            Method::GET,
            format!("/club/{NOBODY}/member"),
            page,
            CLUB_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/club/{NOBODY}/join"),
            none,
            CLUB_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/club/{NOBODY}/leave"),
            none,
            CLUB_NOT_FOUND,
        ),
        (Method::GET, format!("/room/{NOBODY}"), none, ROOM_NOT_FOUND),
        (
            Method::POST,
            format!("/room/{NOBODY}/token"),
            none,
            ROOM_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/room/{NOBODY}/close"),
            none,
            ROOM_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/room/{NOBODY}/cache"),
            none,
            ROOM_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/room/{NOBODY}/invite/{}", other.uid),
            none,
            ROOM_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/room/{room_id}/invite/{NOBODY}"),
            none,
            USER_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/room/{NOBODY}/speaker/{}", other.uid),
            none,
            ROOM_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/room/{room_id}/speaker/{NOBODY}"),
            none,
            USER_NOT_FOUND,
        ),
        (
            Method::DELETE,
            format!("/room/{NOBODY}/speaker/{}", other.uid),
            none,
            ROOM_NOT_FOUND,
        ),
        (
            Method::DELETE,
            format!("/room/{room_id}/speaker/{NOBODY}"),
            none,
            USER_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/room/{NOBODY}/remove/{}", other.uid),
            none,
            ROOM_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/room/{room_id}/remove/{NOBODY}"),
            none,
            USER_NOT_FOUND,
        ),
        (
            Method::GET,
            format!("/event/{NOBODY}"),
            none,
            EVENT_NOT_FOUND,
        ),
        (
            Method::PUT,
            format!("/event/{NOBODY}"),
            event_params,
            EVENT_NOT_FOUND,
        ),
        (
            Method::DELETE,
            format!("/event/{NOBODY}"),
            none,
            EVENT_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/event/{NOBODY}/notify"),
            none,
            EVENT_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/event/{NOBODY}/start"),
            none,
            EVENT_NOT_FOUND,
        ),
    ];
    for (method, path, params, code) in cases {
        let mut call = app.call(method.clone(), &path).user(&me);
        for (k, v) in params {
            call = call.param(k, v);
        }
        let res = call.send().await;
        assert_eq!(
            (res.body["status"].clone(), res.body["result"].clone()),
            (Value::from(0), Value::from(code)),
            "{method} {path}: {}",
            res.text
        );
    }

    // The share API answers the same codes to a stranger.
    let token = app.post("/h5/session").send().await.ok()["h5Token"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, code) in [
        (format!("/h5/club/{NOBODY}"), CLUB_NOT_FOUND),
        (format!("/h5/profile/{NOBODY}"), USER_NOT_FOUND),
        (format!("/h5/event/{NOBODY}"), EVENT_NOT_FOUND),
    ] {
        let res = app
            .post(&path)
            .header("Authorization", &format!("Bearer {token}"))
            .send()
            .await;
        res.business(code);
    }
}

#[actix_web::test]
async fn unblocking_and_dropping_the_card_of_a_real_user_still_succeed() {
    let app = spawn_huddle().await;
    let me = app.user("13800710003", "Me").await;
    let other = app.user("13800710004", "Other").await;
    let block = format!("/user/{}/block", other.uid);
    app.post(&block).user(&me).send().await.ok();
    let res = app.delete(&block).user(&me).send().await;
    res.ok();
    assert_eq!(res.body["message"], "取消拉黑成功");
    // Unblocking someone who was never blocked is still a success (idempotent).
    app.delete(&block).user(&me).send().await.ok();

    let card = format!("/user/{}/card", other.uid);
    app.post(&card).user(&me).send().await.ok();
    let res = app.delete(&card).user(&me).send().await;
    res.ok();
    assert_eq!(res.body["message"], "删除成功");

    // Yourself is refused as on the POST.
    let res = app
        .delete(&format!("/user/{}/block", me.uid))
        .user(&me)
        .send()
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
}
