//! `/club/*`: create, get, join, leave, my clubs, members.

use serde_json::json;

use crate::helpers::*;

const NO_SUCH_CLUB: &str = "圈子不存在";
const UNKNOWN_CLUB: &str = "fedcba9876543210fedcba9876543210";

#[actix_web::test]
async fn create_club_answers_the_seed_shape() {
    let app = spawn_huddle().await;
    let a = app.user("13800200001", "Alice").await;
    let now = app.clock_now();
    let res = app
        .post("/club")
        .user(&a)
        .param("name", "产品交流圈")
        .param("cover", "https://cdn.example.com/cover/1.jpg")
        .send()
        .await;
    assert_eq!(res.body["message"], "Success");
    let r = res.ok();
    assert_keys(
        r,
        &[
            "cover",
            "uid",
            "createTime",
            "name",
            "clubId",
            "memberTotal",
        ],
    );
    assert_id(&r["clubId"]);
    assert_eq!(r["uid"], a.uid.as_str());
    assert_eq!(r["name"], "产品交流圈");
    assert_eq!(r["cover"], "https://cdn.example.com/cover/1.jpg");
    assert_eq!(r["createTime"], now);
    assert_eq!(r["memberTotal"], 1, "the creator joins");

    // a name of 100 characters fits
    let long = "圈".repeat(100);
    let r = app.create_club(&a, &long).await;
    assert_eq!(r["name"], long.as_str());
}

#[actix_web::test]
async fn create_club_validates_its_params() {
    let app = spawn_huddle().await;
    let a = app.user("13800200002", "Alice").await;
    for call in [
        app.post("/club").param("cover", "https://c/1.jpg"),
        app.post("/club").param("name", "No cover"),
        app.post("/club")
            .param("name", "x".repeat(101))
            .param("cover", "https://c/1.jpg"),
    ] {
        call.user(&a).send().await.protocol(400, "Params Not Valid");
    }
    assert_eq!(app.page(&a, "/club", 10, None).await["list"], json!([]));
}

#[actix_web::test]
async fn get_club_shows_joined_for_the_caller() {
    let app = spawn_huddle().await;
    let a = app.user("13800200003", "Alice").await;
    let b = app.user("13800200004", "Bob").await;
    let club = app.create_club(&a, "Bug交流圈").await;
    let k = club["clubId"].as_str().unwrap();
    let res = app.get(&format!("/club/{k}")).user(&a).send().await;
    let r = res.ok();
    assert_club(r);
    assert_eq!(r["clubId"], k);
    assert_eq!(r["joined"], 1);
    assert_eq!(r["memberTotal"], 1);
    assert_eq!(r["uid"], a.uid.as_str());
    assert_eq!(r["name"], "Bug交流圈");
    assert_eq!(r["createTime"], club["createTime"]);
    assert_eq!(r["cover"], club["cover"]);

    let res = app.get(&format!("/club/{k}")).user(&b).send().await;
    assert_eq!(res.ok()["joined"], 0);

    assert_eq!(
        app.get_as(&a, &format!("/club/{UNKNOWN_CLUB}"))
            .await
            .business(500000),
        NO_SUCH_CLUB
    );
    for bad in ["nothex", "FEDCBA9876543210FEDCBA9876543210", "abc123"] {
        app.get_as(&a, &format!("/club/{bad}"))
            .await
            .protocol(400, "Params Not Valid");
    }
}

#[actix_web::test]
async fn join_is_idempotent_and_counts_each_member_once() {
    let app = spawn_huddle().await;
    let a = app.user("13800200005", "Alice").await;
    let b = app.user("13800200006", "Bob").await;
    let club = app.create_club(&a, "Club").await;
    let k = club["clubId"].as_str().unwrap();
    for _ in 0..2 {
        let r = app.join_club(&b, k).await;
        assert_club(&r);
        assert_eq!(r["joined"], 1);
        assert_eq!(r["memberTotal"], 2);
        assert_eq!(r["uid"], a.uid.as_str(), "uid is the creator");
        assert_eq!(r["clubId"], k);
    }
    // the creator joining again changes nothing either
    assert_eq!(app.join_club(&a, k).await["memberTotal"], 2);
    let r = app.get(&format!("/club/{k}")).user(&a).send().await;
    assert_eq!(r.ok()["memberTotal"], 2);

    assert_eq!(
        app.post_as(&b, &format!("/club/{UNKNOWN_CLUB}/join"))
            .await
            .business(500000),
        NO_SUCH_CLUB
    );
}

#[actix_web::test]
async fn leave_is_idempotent_and_the_creator_may_leave() {
    let app = spawn_huddle().await;
    let a = app.user("13800200007", "Alice").await;
    let b = app.user("13800200008", "Bob").await;
    let club = app.create_club(&a, "Club").await;
    let k = club["clubId"].as_str().unwrap();
    app.join_club(&b, k).await;
    for _ in 0..2 {
        let res = app.post(&format!("/club/{k}/leave")).user(&b).send().await;
        assert_eq!(
            res.body,
            json!({"result": {}, "message": "Success", "status": 1})
        );
    }
    let r = app.get(&format!("/club/{k}")).user(&b).send().await;
    let r = r.ok();
    assert_eq!(r["joined"], 0);
    assert_eq!(r["memberTotal"], 1);
    assert_eq!(app.page(&b, "/club", 10, None).await["list"], json!([]));

    // the creator leaves: the club stays, its uid stays the creator
    app.post_as(&a, &format!("/club/{k}/leave")).await.ok();
    let r = app.get(&format!("/club/{k}")).user(&a).send().await;
    let r = r.ok();
    assert_eq!(r["joined"], 0);
    assert_eq!(r["memberTotal"], 0);
    assert_eq!(r["uid"], a.uid.as_str());
    // and may come back
    assert_eq!(app.join_club(&a, k).await["memberTotal"], 1);

    assert_eq!(
        app.post_as(&b, &format!("/club/{UNKNOWN_CLUB}/leave"))
            .await
            .business(500000),
        NO_SUCH_CLUB
    );
}

#[actix_web::test]
async fn club_list_pages_my_clubs_newest_joined_first() {
    let app = spawn_huddle().await;
    let me = app.user("13800200010", "Me").await;
    let other = app.user("13800200011", "Other").await;
    let mut clubs = Vec::new(); // (clubId, join time) in join order
    for i in 0..6 {
        app.clock.advance(9);
        let club = if i % 2 == 0 {
            app.create_club(&me, &format!("Mine {i}")).await
        } else {
            let c = app.create_club(&other, &format!("Theirs {i}")).await;
            app.clock.advance(4);
            app.join_club(&me, c["clubId"].as_str().unwrap()).await;
            c
        };
        clubs.push((club["clubId"].as_str().unwrap().to_owned(), app.clock_now()));
    }
    // a club I am not in is not listed
    app.create_club(&other, "Not mine").await;

    let first = app.page(&me, "/club", 2, None).await;
    let item = &first["list"][0];
    assert_keys(item, &["clubId", "clubResult", "createTime", "sequenceId"]);
    let (id5, joined5) = &clubs[5];
    assert_eq!(item["clubId"], id5.as_str());
    assert_eq!(item["createTime"], *joined5, "createTime is my join time");
    assert_eq!(item["sequenceId"], format!("{joined5}:{id5}").as_str());
    let c = &item["clubResult"];
    assert_club(c);
    assert_eq!(c["clubId"], id5.as_str());
    assert_eq!(c["joined"], 1);
    assert_eq!(c["memberTotal"], 2);
    assert_eq!(c["uid"], other.uid.as_str());
    assert_eq!(
        c["createTime"],
        *joined5 - 4,
        "clubResult.createTime is the club's"
    );

    let want: Vec<String> = clubs.iter().rev().map(|(id, _)| id.clone()).collect();
    for count in [2, 3, 5, 6, 100] {
        let all = app.walk(&me, "/club", count, None).await;
        assert_eq!(ids(&all, "clubId"), want, "count {count}");
    }
}

#[actix_web::test]
async fn club_list_under_concurrent_joins() {
    let app = spawn_huddle().await;
    let me = app.user("13800200012", "Me").await;
    let other = app.user("13800200013", "Other").await;
    let mut clubs = Vec::new();
    for i in 0..8 {
        clubs.push(
            app.create_club(&other, &format!("C{i}")).await["clubId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for k in &clubs[..5] {
        app.clock.advance(3);
        app.join_club(&me, k).await;
    }
    let first = app.page(&me, "/club", 2, None).await;
    let first_list = first["list"].as_array().unwrap().clone();
    assert_eq!(
        ids(&first_list, "clubId"),
        vec![clubs[4].clone(), clubs[3].clone()]
    );
    for k in &clubs[5..] {
        app.clock.advance(3);
        app.join_club(&me, k).await;
    }
    let last = text(&first_list[1]["sequenceId"]);
    let rest = app.walk(&me, "/club", 2, Some(last)).await;
    assert_eq!(
        ids(&rest, "clubId"),
        vec![clubs[2].clone(), clubs[1].clone(), clubs[0].clone()],
        "no repeats or skips; new clubs only on a fresh first page"
    );
    let fresh = app.page(&me, "/club", 3, None).await;
    assert_eq!(
        ids(fresh["list"].as_array().unwrap(), "clubId"),
        vec![clubs[7].clone(), clubs[6].clone(), clubs[5].clone()]
    );
}

#[actix_web::test]
async fn member_list_is_for_members_only() {
    let app = spawn_huddle().await;
    let a = app.user("13800200014", "Alice").await;
    let b = app.user("13800200015", "Bob").await;
    let stranger = app.user("13800200016", "Eve").await;
    let club = app.create_club(&a, "Club").await;
    let k = club["clubId"].as_str().unwrap();
    let path = format!("/club/{k}/member");
    app.get(&path)
        .user(&stranger)
        .param("count", 10)
        .send()
        .await
        .protocol(403, "Forbidden");
    app.clock.advance(21);
    let joined_at = app.clock_now();
    app.join_club(&b, k).await;
    // B sends A a card: A's sendCard / cardTotal show through the list
    app.post_as(&b, &format!("/user/{}/card", a.uid)).await.ok();

    let page = app.page(&b, &path, 10, None).await;
    let list = page["list"].as_array().unwrap();
    assert_eq!(ids(list, "uid"), vec![b.uid.clone(), a.uid.clone()]);
    let item = &list[0];
    assert_keys(
        item,
        &["createTime", "sequenceId", "uid", "userProfileResult"],
    );
    assert_eq!(item["createTime"], joined_at, "createTime is the join time");
    assert_eq!(
        item["sequenceId"],
        format!("{joined_at}:{}", b.uid).as_str()
    );
    assert_user_profile_result(&item["userProfileResult"]);
    assert_eq!(item["userProfileResult"]["nickname"], "Bob");
    let alice = &list[1];
    assert_eq!(alice["createTime"], club["createTime"]);
    let p = &alice["userProfileResult"];
    assert_user_profile_result(p);
    assert_eq!(p["sendCard"], 1, "B (viewer) sent A a card");
    assert_eq!(p["cardTotal"], 1);
    assert_eq!(p["blocked"], 0);

    // leaving closes the list again
    app.post_as(&b, &format!("/club/{k}/leave")).await.ok();
    app.get(&path)
        .user(&b)
        .param("count", 10)
        .send()
        .await
        .protocol(403, "Forbidden");
    assert_eq!(
        app.get(&format!("/club/{UNKNOWN_CLUB}/member"))
            .user(&a)
            .param("count", 10)
            .send()
            .await
            .business(500000),
        NO_SUCH_CLUB
    );
}

#[actix_web::test]
async fn member_list_pages_under_concurrent_joins() {
    let app = spawn_huddle().await;
    let owner = app.user("13800200020", "Owner").await;
    let club = app.create_club(&owner, "Club").await;
    let k = club["clubId"].as_str().unwrap();
    let path = format!("/club/{k}/member");
    let mut members = vec![owner.uid.clone()];
    let mut late = Vec::new();
    for i in 0..7 {
        let u = app
            .user(&format!("138002000{}", 21 + i), &format!("M{i}"))
            .await;
        if i < 5 {
            app.clock.advance(6);
            app.join_club(&u, k).await;
            members.push(u.uid.clone());
        } else {
            late.push(u);
        }
    }
    members.reverse(); // newest first
    let all = app.walk(&owner, &path, 2, None).await;
    assert_eq!(ids(&all, "uid"), members);

    let first = app.page(&owner, &path, 3, None).await;
    let last = text(&first["list"][2]["sequenceId"]);
    for u in &late {
        app.clock.advance(6);
        app.join_club(u, k).await;
    }
    let rest = app.walk(&owner, &path, 3, Some(last)).await;
    assert_eq!(ids(&rest, "uid"), members[3..].to_vec());
    let fresh = app.page(&owner, &path, 2, None).await;
    assert_eq!(
        ids(fresh["list"].as_array().unwrap(), "uid"),
        vec![late[1].uid.clone(), late[0].uid.clone()]
    );
}
