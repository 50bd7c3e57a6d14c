//! `/ws`: real WebSocket clients against a real server. Two to five clients per
//! scenario: joins, leaves, invites, hands, speakers, removals, closing,
//! grace periods, resume, heartbeats, slow consumers, bad frames, pushes.

use huddle::clients::rtc::agora::{parse_006, Privilege};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Bytes, Message};

use crate::helpers::*;

fn id(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap().to_owned()
}

fn seq(v: &Value) -> i64 {
    v["seq"].as_i64().unwrap()
}

fn member_uids(room: &Value) -> Vec<String> {
    room["memberList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| id(m, "uid"))
        .collect()
}

/// A host with a club and an open room in it: (host, clubId, roomId).
async fn hosted_room(app: &TestApp, mobile: &str) -> (Session, String, String) {
    let host = app.user(mobile, "Host").await;
    let club = id(&app.create_club(&host, "Club").await, "clubId");
    let room = id(&app.create_room(&host, "Live", &club).await, "roomId");
    (host, club, room)
}

/// `s` joins the club, takes a token and joins the room on a new socket.
async fn listener(app: &TestApp, s: &Session, club: &str, room: &str) -> WsClient {
    app.join_club(s, club).await;
    app.room_token(s, room).await;
    let mut ws = app.ws(s).await;
    ws.join(room).await;
    ws
}

/// The host takes a token and joins on a new socket.
async fn host_socket(app: &TestApp, host: &Session, room: &str) -> WsClient {
    app.room_token(host, room).await;
    let mut ws = app.ws(host).await;
    ws.join(room).await;
    ws
}

// ---------------------------------------------------------------- upgrade

#[actix_web::test]
async fn the_upgrade_needs_signed_credentials_and_refuses_with_401() {
    let app = spawn_huddle().await;
    let a = app.user("13800500001", "Ann").await;
    let base = format!("ws://{}/ws", app.addr);

    let no_creds = WsClient::connect(&base, &[]).await.err().unwrap();
    assert_eq!(no_creds.status, 401);
    let message = no_creds.body["message"].as_str().unwrap();
    assert!(message.starts_with("Authorized Failed"), "{message}");

    // query credentials, correctly signed: accepted
    let url = app.ws_url(&a);
    let ws = WsClient::connect(&url, &[]).await.ok().unwrap();
    assert_eq!(ws.hello["uid"], a.uid.as_str());
    assert_eq!(ws.hello["pingIntervalMs"], 10_000);
    // the same URL again: its sign is spent
    let replay = WsClient::connect(&url, &[]).await.err().unwrap();
    assert_eq!(replay.status, 401, "{:?}", replay.body);

    // a malformed query: one plain 401 message, not a 400's text nested in it
    let twice = WsClient::connect(&format!("{base}?uid=a&uid=b"), &[])
        .await
        .err()
        .unwrap();
    assert_eq!(twice.status, 401);
    assert_eq!(
        twice.body["message"],
        "Authorized Failed: parameter uid given twice"
    );

    // tampered sign
    let ts = app.fresh_ts();
    let bad = format!(
        "{base}?uid={}&accessToken={}&ts={ts}&sign=00000000000000000000000000000000",
        a.uid, a.token
    );
    assert_eq!(
        WsClient::connect(&bad, &[]).await.err().unwrap().status,
        401
    );
    // a token of another user
    let b = app.user("13800500002", "Bob").await;
    let ts = app.fresh_ts().to_string();
    let params = [
        ("accessToken", b.token.as_str()),
        ("ts", &ts),
        ("uid", a.uid.as_str()),
    ];
    let sign = huddle::auth::signature::sign(params.iter().copied(), &a.secret);
    let mixed = format!(
        "{base}?uid={}&accessToken={}&ts={ts}&sign={sign}",
        a.uid, b.token
    );
    assert_eq!(
        WsClient::connect(&mixed, &[]).await.err().unwrap().status,
        401
    );

    // the REST Basic header, with ts and sign over the query
    let ts = app.fresh_ts().to_string();
    let sign = huddle::auth::signature::sign([("ts", ts.as_str())], &a.secret);
    let url = format!("{base}?ts={ts}&sign={sign}");
    let ws = WsClient::connect(&url, &[("Authorization", a.authorization())])
        .await
        .ok()
        .unwrap();
    assert_eq!(ws.hello["uid"], a.uid.as_str());

    // after logout the session is gone
    app.post("/account/logout").user(&a).send().await.ok();
    let after = WsClient::connect(&app.ws_url(&a), &[]).await.err().unwrap();
    assert_eq!(after.status, 401);

    // a plain GET with valid credentials is not an upgrade: 400 envelope
    let res = reqwest::get(app.ws_url(&b).replace("ws://", "http://"))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Params Not Valid"),
        "{body}"
    );
}

// ---------------------------------------------------------------- membership

#[actix_web::test]
async fn host_member_and_invitee_see_each_other_with_gap_free_seqs() {
    let app = spawn_huddle().await;
    let host = app.user("13800500011", "Host").await;
    let b = app.user("13800500012", "Bob").await;
    let c = app.user("13800500013", "Cat").await;
    let club = id(&app.create_club(&host, "Club").await, "clubId");
    for s in [&b, &c] {
        app.join_club(s, &club).await;
    }
    let room = id(&app.create_private_room(&host, "Private").await, "roomId");
    let mut ws_c = app.ws(&c).await;

    let mut ws_a = host_socket(&app, &host, &room).await;
    app.post_as(&host, &format!("/room/{room}/invite/{}", b.uid))
        .await
        .ok();
    app.room_token(&b, &room).await;
    let mut ws_b = app.ws(&b).await;
    let joined = ws_b.join(&room).await;
    assert_eq!(joined["op"], "join");
    assert_eq!(joined["roomId"], room.as_str());
    assert_eq!(joined["room"]["uid"], host.uid.as_str());
    assert_eq!(joined["room"]["inviteOnly"], 1);
    let members: Vec<&str> = joined["room"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["uid"].as_str().unwrap())
        .collect();
    assert_eq!(members, [host.uid.as_str(), b.uid.as_str()]);
    let b_seq = seq(&joined);

    // C is invited: every connection of C hears it, with the inviter
    app.post_as(&b, &format!("/room/{room}/invite/{}", c.uid))
        .await
        .ok();
    let invited = ws_c.next_of("room.invited").await;
    assert_eq!(invited["roomId"], room.as_str());
    assert_eq!(invited["roomName"], "Private");
    assert_eq!(invited["inviter"]["uid"], b.uid.as_str());
    assert_eq!(invited["inviter"]["nickname"], "Bob");
    let _ = ws_c.next_of("message.new").await;

    // C enters: A and B see it once, with the member card
    app.room_token(&c, &room).await;
    ws_c.join(&room).await;
    let mut c_joined = Vec::new();
    for ws in [&mut ws_a, &mut ws_b] {
        let e = ws
            .take(|f| f["type"] == "room.member_joined" && f["member"]["uid"] == c.uid.as_str())
            .await;
        assert_eq!(e["member"]["nickname"], "Cat");
        assert_eq!(e["member"]["allowLive"], 0);
        assert!(e["ts"].as_i64().unwrap() > 0);
        c_joined.push(e);
    }
    assert_eq!(c_joined[0], c_joined[1], "one event, the same for everyone");
    // B's view of the stream: everything after its join, gap-free
    ws_b.ok("raise_hand", json!({ "roomId": room })).await;
    let seen = vec![
        joined.clone(),
        c_joined[1].clone(),
        ws_b.room_event("room.hand_raised", &room).await,
    ];
    assert_eq!(seq(&seen[1]), b_seq + 1);
    assert_gap_free(&seen);
    // the host's stream has the same numbers for the same events
    let a_hand = ws_a.room_event("room.hand_raised", &room).await;
    assert_eq!(a_hand, seen[2]);
}

#[actix_web::test]
async fn join_needs_a_token_and_refusals_carry_codes() {
    let app = spawn_huddle().await;
    let (host, club, room) = hosted_room(&app, "13800500021").await;
    let b = app.user("13800500022", "Bob").await;
    app.join_club(&b, &club).await;
    let mut ws = app.ws(&b).await;
    ws.refused("join", json!({ "roomId": room }), "not_member")
        .await;
    ws.refused("raise_hand", json!({ "roomId": room }), "not_member")
        .await;
    ws.refused(
        "join",
        json!({ "roomId": "00112233445566778899aabbccddeeff" }),
        "not_found",
    )
    .await;
    ws.refused(
        "speaker_add",
        json!({ "roomId": room, "uid": host.uid }),
        "forbidden",
    )
    .await;
    ws.refused(
        "subscribe",
        json!({ "clubId": "00112233445566778899aabbccddeeff" }),
        "not_found",
    )
    .await;
    let pong = ws.request("ping", json!({})).await;
    assert_eq!(pong["type"], "pong");
    assert!(pong["ts"].as_i64().unwrap() > 0);
    // after a token the join works
    app.room_token(&b, &room).await;
    ws.join(&room).await;
}

#[actix_web::test]
async fn leave_takes_the_member_out_at_once_on_every_device() {
    let app = spawn_huddle().await;
    let (host, club, room) = hosted_room(&app, "13800500031").await;
    let b = app.user("13800500032", "Bob").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let mut phone = listener(&app, &b, &club, &room).await;
    let mut tablet = app.ws(&b).await;
    tablet.join(&room).await;
    let _ = ws_a.room_event("room.member_joined", &room).await;

    let ack = phone.ok("leave", json!({ "roomId": room })).await;
    assert_eq!(ack["roomId"], room.as_str());
    for ws in [&mut ws_a, &mut tablet] {
        let left = ws.room_event("room.member_left", &room).await;
        assert_eq!(left["uid"], b.uid.as_str());
        assert_eq!(left["reason"], "left");
    }
    assert!(!member_uids(&app.room(&host, &room).await).contains(&b.uid));
    // the tablet was detached too: its hand cannot go up without a new token
    tablet
        .refused("raise_hand", json!({ "roomId": room }), "not_member")
        .await;
    phone
        .refused("leave", json!({ "roomId": room }), "not_member")
        .await;
}

#[actix_web::test]
async fn a_dropped_connection_leaves_after_the_grace_period() {
    let app = spawn_huddle_with(|c| c.room_grace_ms = 30_000).await;
    let (host, club, room) = hosted_room(&app, "13800500041").await;
    let b = app.user("13800500042", "Bob").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let ws_b = listener(&app, &b, &club, &room).await;
    let _ = ws_a.room_event("room.member_joined", &room).await;
    ws_b.close().await;

    // inside the grace period B is still listed (a reconnect would keep the seat)
    app.clock.advance(29_000);
    assert!(member_uids(&app.room(&host, &room).await).contains(&b.uid));
    ws_a.quiet_for(100).await;
    app.clock.advance(2_000);
    // the room's timer notices without any request
    let left = ws_a.room_event("room.member_left", &room).await;
    assert_eq!(left["uid"], b.uid.as_str());
    assert_eq!(left["reason"], "timeout");
    assert!(!member_uids(&app.room(&host, &room).await).contains(&b.uid));
}

#[actix_web::test]
async fn one_of_two_devices_dropping_keeps_the_member_in() {
    let app = spawn_huddle_with(|c| c.room_grace_ms = 5_000).await;
    let (host, club, room) = hosted_room(&app, "13800500051").await;
    let b = app.user("13800500052", "Bob").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let phone = listener(&app, &b, &club, &room).await;
    let mut tablet = app.ws(&b).await;
    tablet.join(&room).await;
    phone.close().await;
    app.clock.advance(60_000);
    // a request runs the room's timers: B is still attached through the tablet
    assert!(member_uids(&app.room(&host, &room).await).contains(&b.uid));
    tablet.ok("raise_hand", json!({ "roomId": room })).await;
    let hand = ws_a.room_event("room.hand_raised", &room).await;
    assert_eq!(hand["uid"], b.uid.as_str());
}

// ---------------------------------------------------------------- host controls

#[actix_web::test]
async fn hands_go_up_and_down_once() {
    let app = spawn_huddle().await;
    let (host, club, room) = hosted_room(&app, "13800500061").await;
    let b = app.user("13800500062", "Bob").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let mut ws_b = listener(&app, &b, &club, &room).await;
    let up = ws_b.ok("raise_hand", json!({ "roomId": room })).await;
    assert_eq!(up["changed"], true);
    let again = ws_b.ok("raise_hand", json!({ "roomId": room })).await;
    assert_eq!(again["changed"], false);
    let raised = ws_a.room_event("room.hand_raised", &room).await;
    assert_eq!(raised["uid"], b.uid.as_str());
    ws_b.ok("lower_hand", json!({ "roomId": room })).await;
    let lowered = ws_a.room_event("room.hand_lowered", &room).await;
    assert_eq!(
        seq(&lowered),
        seq(&raised) + 1,
        "the repeated raise made no event"
    );
}

#[actix_web::test]
async fn speaker_promotion_changes_the_token_and_the_room_view() {
    let app = spawn_huddle().await;
    let (host, club, room) = hosted_room(&app, "13800500071").await;
    let b = app.user("13800500072", "Bob").await;
    let c = app.user("13800500073", "Cat").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let mut ws_b = listener(&app, &b, &club, &room).await;
    app.join_club(&c, &club).await;

    let listener_token = parse_006(&app.room_token(&b, &room).await).unwrap();
    assert!(listener_token.has_privilege(Privilege::JoinChannel));
    assert!(!listener_token.has_privilege(Privilege::PublishAudio));

    // only the host: REST 403, WS forbidden
    app.post_as(&c, &format!("/room/{room}/speaker/{}", b.uid))
        .await
        .protocol(403, "Forbidden");
    let mut ws_c = app.ws(&c).await;
    ws_c.refused(
        "speaker_add",
        json!({ "roomId": room, "uid": b.uid }),
        "forbidden",
    )
    .await;
    // not a member yet: 400
    app.post_as(&host, &format!("/room/{room}/speaker/{}", c.uid))
        .await
        .protocol(400, "Params Not Valid");

    // the host promotes B over REST, with B's hand up
    ws_b.ok("raise_hand", json!({ "roomId": room })).await;
    app.post_as(&host, &format!("/room/{room}/speaker/{}", b.uid))
        .await
        .ok();
    for ws in [&mut ws_a, &mut ws_b] {
        let e = ws.room_event("room.speaker_added", &room).await;
        assert_eq!(e["uid"], b.uid.as_str());
    }
    let view = app.room(&c, &room).await;
    let me = view["memberList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["uid"] == b.uid.as_str())
        .unwrap();
    assert_eq!(me["allowLive"], 1);
    let speaker_token = parse_006(&app.room_token(&b, &room).await).unwrap();
    assert!(speaker_token.has_privilege(Privilege::PublishAudio));
    // a new join shows B as a speaker with the hand down
    app.room_token(&c, &room).await;
    let joined = ws_c.join(&room).await;
    let b_card = joined["room"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["uid"] == b.uid.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (b_card["allowLive"].clone(), b_card["handRaised"].clone()),
        (json!(1), json!(0))
    );

    // the host revokes over WS
    ws_a.ok("speaker_remove", json!({ "roomId": room, "uid": b.uid }))
        .await;
    let e = ws_b.room_event("room.speaker_removed", &room).await;
    assert_eq!(e["uid"], b.uid.as_str());
    let back = parse_006(&app.room_token(&b, &room).await).unwrap();
    assert!(!back.has_privilege(Privilege::PublishAudio));
    app.delete_as(&host, &format!("/room/{room}/speaker/{}", host.uid))
        .await
        .protocol(400, "Params Not Valid");
}

#[actix_web::test]
async fn a_removed_member_is_told_and_refused_a_token_and_a_join() {
    let app = spawn_huddle().await;
    let (host, club, room) = hosted_room(&app, "13800500081").await;
    let b = app.user("13800500082", "Bob").await;
    let c = app.user("13800500083", "Cat").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let mut ws_b = listener(&app, &b, &club, &room).await;
    let mut ws_c = listener(&app, &c, &club, &room).await;

    // C is not the host
    ws_c.refused(
        "member_remove",
        json!({ "roomId": room, "uid": b.uid }),
        "forbidden",
    )
    .await;
    app.post_as(&c, &format!("/room/{room}/remove/{}", b.uid))
        .await
        .protocol(403, "Forbidden");

    ws_a.ok("member_remove", json!({ "roomId": room, "uid": b.uid }))
        .await;
    for ws in [&mut ws_a, &mut ws_b, &mut ws_c] {
        let e = ws.room_event("room.member_removed", &room).await;
        assert_eq!(e["uid"], b.uid.as_str());
        assert_eq!(e["by"], host.uid.as_str());
    }
    assert!(!member_uids(&app.room(&host, &room).await).contains(&b.uid));
    app.post_as(&b, &format!("/room/{room}/token"))
        .await
        .protocol(403, "Forbidden");
    ws_b.refused("join", json!({ "roomId": room }), "forbidden")
        .await;

    // the REST door does the same, and survives a restart (deny list is stored)
    app.post_as(&host, &format!("/room/{room}/remove/{}", c.uid))
        .await
        .ok();
    let e = ws_a.room_event("room.member_removed", &room).await;
    assert_eq!(e["uid"], c.uid.as_str());
    app.post_as(&host, &format!("/room/{room}/remove/{}", host.uid))
        .await
        .protocol(400, "Params Not Valid");
}

#[actix_web::test]
async fn removals_and_speakers_survive_a_restart() {
    let mut app = spawn_huddle().await;
    let (host, club, room) = hosted_room(&app, "13800500091").await;
    let b = app.user("13800500092", "Bob").await;
    let c = app.user("13800500093", "Cat").await;
    for s in [&b, &c] {
        app.join_club(s, &club).await;
        app.room_token(s, &room).await;
    }
    app.post_as(&host, &format!("/room/{room}/speaker/{}", b.uid))
        .await
        .ok();
    app.post_as(&host, &format!("/room/{room}/remove/{}", c.uid))
        .await
        .ok();
    let mut ws_a = host_socket(&app, &host, &room).await;
    let before = seq(&ws_a.join(&room).await);
    drop(ws_a);
    app.restart().await;

    let token = parse_006(&app.room_token(&b, &room).await).unwrap();
    assert!(
        token.has_privilege(Privilege::PublishAudio),
        "B is still a speaker"
    );
    app.post_as(&c, &format!("/room/{room}/token"))
        .await
        .protocol(403, "Forbidden");
    // seqs continue above the old ones: a client never sees them go back
    let mut ws_a = host_socket(&app, &host, &room).await;
    assert!(seq(&ws_a.join(&room).await) > before);
}

#[actix_web::test]
async fn closing_tells_every_socket_in_order_and_detaches_them() {
    let app = spawn_huddle().await;
    let (host, club, room) = hosted_room(&app, "13800500101").await;
    let b = app.user("13800500102", "Bob").await;
    let c = app.user("13800500103", "Cat").await;
    let d = app.user("13800500104", "Dan").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let mut ws_b = listener(&app, &b, &club, &room).await;
    let mut ws_c = listener(&app, &c, &club, &room).await;
    let mut ws_d = listener(&app, &d, &club, &room).await;
    ws_d.ok("raise_hand", json!({ "roomId": room })).await;

    app.post_as(&host, &format!("/room/{room}/close"))
        .await
        .ok();
    let mut closed_seqs = Vec::new();
    for ws in [&mut ws_a, &mut ws_b, &mut ws_c, &mut ws_d] {
        let hand = ws.room_event("room.hand_raised", &room).await;
        let closed = ws.room_event("room.closed", &room).await;
        assert_eq!(closed["by"], host.uid.as_str());
        assert_eq!(
            seq(&closed),
            seq(&hand) + 1,
            "closed comes right after the last event"
        );
        closed_seqs.push(seq(&closed));
    }
    assert!(closed_seqs.windows(2).all(|w| w[0] == w[1]));
    // the sockets stay open but are out of the room
    ws_b.refused("raise_hand", json!({ "roomId": room }), "not_found")
        .await;
    ws_b.refused("join", json!({ "roomId": room }), "not_found")
        .await;
    app.post_as(&b, &format!("/room/{room}/token"))
        .await
        .business(400000);
    let pong = ws_c.request("ping", json!({})).await;
    assert_eq!(pong["type"], "pong");
}

// ---------------------------------------------------------------- recovery

#[actix_web::test]
async fn resume_after_missing_ten_events_replays_exactly_those_ten() {
    let app = spawn_huddle().await;
    let (host, club, room) = hosted_room(&app, "13800500111").await;
    let b = app.user("13800500112", "Bob").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let mut ws_b = listener(&app, &b, &club, &room).await;
    ws_b.ok("raise_hand", json!({ "roomId": room })).await;
    let last = ws_b.room_event("room.hand_raised", &room).await;
    ws_b.close().await;

    // ten events B misses
    let mut missed = Vec::new();
    for i in 0..10 {
        let op = if i % 2 == 0 {
            "raise_hand"
        } else {
            "lower_hand"
        };
        ws_a.ok(op, json!({ "roomId": room })).await;
        let kind = if i % 2 == 0 {
            "room.hand_raised"
        } else {
            "room.hand_lowered"
        };
        missed.push(
            ws_a.take(|f| f["type"] == kind && f["uid"] == host.uid.as_str())
                .await,
        );
    }

    let mut again = app.ws(&b).await;
    let ack = again
        .ok("resume", json!({ "roomId": room, "lastSeq": seq(&last) }))
        .await;
    assert_eq!(ack["recovered"], true, "{ack}");
    assert_eq!(ack["replayed"], 10);
    assert_eq!(seq(&ack), seq(&missed[9]));
    let mut replayed = Vec::new();
    for _ in 0..10 {
        replayed.push(again.next().await);
    }
    assert_eq!(replayed, missed, "the same frames, in order");
    // and live events continue after them
    ws_a.ok("raise_hand", json!({ "roomId": room })).await;
    let live = again.room_event("room.hand_raised", &room).await;
    assert_eq!(seq(&live), seq(&missed[9]) + 1);
    // resuming at the head replays nothing
    let ack = again
        .ok("resume", json!({ "roomId": room, "lastSeq": seq(&live) }))
        .await;
    assert_eq!(
        (ack["recovered"].clone(), ack["replayed"].clone()),
        (json!(true), json!(0))
    );
}

#[actix_web::test]
async fn resume_past_the_history_answers_a_fresh_snapshot() {
    let app = spawn_huddle_with(|c| c.room_history_events = 5).await;
    let (host, club, room) = hosted_room(&app, "13800500121").await;
    let b = app.user("13800500122", "Bob").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let mut ws_b = listener(&app, &b, &club, &room).await;
    let joined_seq = {
        ws_b.ok("raise_hand", json!({ "roomId": room })).await;
        seq(&ws_b.room_event("room.hand_raised", &room).await)
    };
    ws_b.close().await;
    for i in 0..10 {
        let op = if i % 2 == 0 {
            "raise_hand"
        } else {
            "lower_hand"
        };
        ws_a.ok(op, json!({ "roomId": room })).await;
    }
    let mut again = app.ws(&b).await;
    let ack = again
        .ok("resume", json!({ "roomId": room, "lastSeq": joined_seq }))
        .await;
    assert_eq!(ack["recovered"], false, "{ack}");
    assert_eq!(seq(&ack), joined_seq + 10);
    let members: Vec<&str> = ack["room"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["uid"].as_str().unwrap())
        .collect();
    assert!(members.contains(&b.uid.as_str()));
    // a seq from the future is not recoverable either
    let ack = again
        .ok(
            "resume",
            json!({ "roomId": room, "lastSeq": joined_seq + 1000 }),
        )
        .await;
    assert_eq!(ack["recovered"], false);
}

#[actix_web::test]
async fn resume_past_the_time_window_answers_a_fresh_snapshot() {
    let app = spawn_huddle_with(|c| c.room_history_ms = 60_000).await;
    let (host, club, room) = hosted_room(&app, "13800500131").await;
    let b = app.user("13800500132", "Bob").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let mut ws_b = listener(&app, &b, &club, &room).await;
    ws_b.ok("raise_hand", json!({ "roomId": room })).await;
    let last = seq(&ws_b.room_event("room.hand_raised", &room).await);
    ws_a.ok("raise_hand", json!({ "roomId": room })).await;
    let _ = ws_b.room_event("room.hand_raised", &room).await;
    app.clock.advance(61_000);
    let ack = ws_b
        .ok("resume", json!({ "roomId": room, "lastSeq": last }))
        .await;
    assert_eq!(ack["recovered"], false, "{ack}");
}

// ---------------------------------------------------------------- heartbeat, shutdown

/// Moves the clock past the grace period until `uid` is out of the room: the
/// grace period starts when the room learns of the detach, which may come
/// after the client saw its close frame.
async fn advance_until_gone(app: &TestApp, host: &Session, room: &str, uid: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        app.clock.advance(10_001);
        if !member_uids(&app.room(host, room).await)
            .iter()
            .any(|u| u == uid)
        {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{uid} never left");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_silent_connection_is_closed_and_leaves_its_rooms() {
    let app = spawn_huddle_with(|c| {
        c.ws_ping_interval_ms = 50;
        c.ws_idle_timeout_ms = 300;
        c.room_grace_ms = 10_000;
    })
    .await;
    let (host, club, room) = hosted_room(&app, "13800500141").await;
    let b = app.user("13800500142", "Bob").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    // B never reads again, so it never answers the server's pings
    let mut silent = listener(&app, &b, &club, &room).await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        // A stays alive: reading answers the pings
        assert_eq!(ws_a.request("ping", json!({})).await["type"], "pong");
        // the grace period starts only once the heartbeat detached B
        app.clock.advance(10_001);
        if !member_uids(&app.room(&host, &room).await).contains(&b.uid) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "B was never dropped");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let left = ws_a.room_event("room.member_left", &room).await;
    assert_eq!(
        (left["uid"].clone(), left["reason"].clone()),
        (json!(b.uid), json!("timeout"))
    );
    // B's last frame is the 4001 close (or a reset, if its late pong raced the close)
    let ((code, _), _) = silent.until_closed().await;
    assert!(code == 4001 || code == 1006, "{code}");
}

#[actix_web::test]
async fn shutdown_closes_every_socket_with_going_away() {
    let app = spawn_huddle().await;
    let (host, club, room) = hosted_room(&app, "13800500151").await;
    let b = app.user("13800500152", "Bob").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let mut ws_b = listener(&app, &b, &club, &room).await;
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(5), app.stop_server()).await;
    assert!(
        stopped.is_ok(),
        "open websockets must not hold the shutdown"
    );
    for ws in [&mut ws_a, &mut ws_b] {
        let ((code, _), _) = ws.until_closed().await;
        assert_eq!(code, u16::from(CloseCode::Away));
    }
}

// ---------------------------------------------------------------- limits and bad input

#[actix_web::test]
async fn bad_frames_get_errors_and_too_many_close_the_socket() {
    let app = spawn_huddle_with(|c| {
        c.ws_max_bad_frames = 4;
        c.room_grace_ms = 10_000;
    })
    .await;
    let (host, club, room) = hosted_room(&app, "13800500160").await;
    let a = app.user("13800500161", "Ann").await;
    let mut ws_host = host_socket(&app, &host, &room).await;
    let mut ws = listener(&app, &a, &club, &room).await;
    ws.send_text("not json").await;
    assert_eq!(ws.next_of("error").await["code"], "bad_frame");
    ws.send_text(r#"{"op":"dance","id":7}"#).await;
    let e = ws.next_of("error").await;
    assert_eq!(
        (e["code"].clone(), e["id"].clone()),
        (json!("unknown_op"), json!(7))
    );
    ws.send_raw(Message::Binary(Bytes::from_static(b"\x00\x01")))
        .await;
    assert_eq!(ws.next_of("error").await["code"], "bad_frame");
    ws.send_text(r#"{"op":"join","roomId":"nope","id":"j"}"#)
        .await;
    let e = ws.next_of("error").await;
    assert_eq!(
        (e["code"].clone(), e["op"].clone()),
        (json!("bad_request"), json!("join"))
    );
    // still usable
    assert_eq!(ws.request("ping", json!({})).await["type"], "pong");
    // one more bad frame than allowed closes with 1008
    ws.send_text("[]").await;
    let ((code, _), frames) = ws.until_closed().await;
    assert_eq!(code, 1008);
    assert_eq!(frames.last().unwrap()["code"], "bad_frame");
    // that exit path detached the socket from its room too
    advance_until_gone(&app, &host, &room, &a.uid).await;
    let left = ws_host
        .take(|f| f["type"] == "room.member_left" && f["uid"] == a.uid.as_str())
        .await;
    assert_eq!(left["reason"], "timeout");
}

#[actix_web::test]
async fn oversized_and_fragmented_messages() {
    let app = spawn_huddle_with(|c| c.ws_max_frame_bytes = 1024).await;
    let a = app.user("13800500171", "Ann").await;
    // a fragmented message within the cap is reassembled and answered
    let mut ws = app.ws(&a).await;
    ws.send_raw(Message::Frame(
        tokio_tungstenite::tungstenite::protocol::frame::Frame::message(
            Bytes::from_static(br#"{"op":"pi"#),
            tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode::Data(
                tokio_tungstenite::tungstenite::protocol::frame::coding::Data::Text,
            ),
            false,
        ),
    ))
    .await;
    ws.send_raw(Message::Frame(
        tokio_tungstenite::tungstenite::protocol::frame::Frame::message(
            Bytes::from_static(br#"ng","id":"f"}"#),
            tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode::Data(
                tokio_tungstenite::tungstenite::protocol::frame::coding::Data::Continue,
            ),
            true,
        ),
    ))
    .await;
    let pong = ws.next_of("pong").await;
    assert_eq!(pong["id"], "f");
    // one frame over the cap: 1009
    let big = format!(r#"{{"op":"ping","pad":"{}"}}"#, "x".repeat(2000));
    ws.send_text(&big).await;
    let ((code, _), _) = ws.until_closed().await;
    assert_eq!(code, 1009);

    // invalid UTF-8 in a text frame: 1007
    let mut ws = app.ws(&a).await;
    ws.send_raw(Message::Frame(
        tokio_tungstenite::tungstenite::protocol::frame::Frame::message(
            Bytes::from_static(b"\xff\xfe"),
            tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode::Data(
                tokio_tungstenite::tungstenite::protocol::frame::coding::Data::Text,
            ),
            true,
        ),
    ))
    .await;
    let ((code, _), _) = ws.until_closed().await;
    assert_eq!(code, 1007, "invalid UTF-8 closes with 1007");

    // a client close is answered and the server lets go
    let mut ws = app.ws(&a).await;
    ws.send_raw(Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    })))
    .await;
    let ((code, _), _) = ws.until_closed().await;
    assert_eq!(code, 1000);
}

#[actix_web::test]
async fn a_slow_consumer_is_cut_off_while_others_keep_receiving() {
    let app = spawn_huddle_with(|c| {
        c.ws_outbound_limit = 256;
        c.socket_send_buffer_bytes = 8192;
        c.room_grace_ms = 10_000;
    })
    .await;
    let (host, club, room) = hosted_room(&app, "13800500181").await;
    let b = app.user("13800500182", "Bob").await;
    let c = app.user("13800500183", "Cat").await;
    let mut ws_a = host_socket(&app, &host, &room).await;
    let mut ws_b = listener(&app, &b, &club, &room).await;
    app.join_club(&c, &club).await;
    app.room_token(&c, &room).await;
    let mut slow = WsClient::connect_slow(&app.ws_url(&c)).await;
    slow.join(&room).await;

    // A toggles its hand in batches (reading its acks); B reads all along; C never reads
    const EVENTS: usize = 6_000;
    const BATCH: usize = 100;
    let flood = async {
        for batch in 0..EVENTS / BATCH {
            let mut ids = Vec::with_capacity(BATCH);
            for i in 0..BATCH {
                let op = if (batch * BATCH + i) % 2 == 0 {
                    "raise_hand"
                } else {
                    "lower_hand"
                };
                ids.push(ws_a.send_op(op, json!({ "roomId": room })).await);
            }
            for id in ids {
                let ack = ws_a.take(|f| f["id"] == id).await;
                assert_eq!(ack["type"], "ack", "{ack}");
            }
            ws_a.drop_pending();
        }
    };
    let collect = async {
        let mut events = Vec::with_capacity(EVENTS);
        while events.len() < EVENTS {
            let f = ws_b.next().await;
            if f["type"] == "room.hand_raised" || f["type"] == "room.hand_lowered" {
                events.push(f);
            }
        }
        events
    };
    let ((), events) = tokio::join!(flood, collect);
    assert_gap_free(&events);
    // C, reading at last, finds far fewer events than were sent, then 4008
    let ((code, reason), frames) = slow.until_closed().await;
    assert_eq!(code, 4008, "{reason}");
    let got = frames
        .iter()
        .filter(|f| {
            f["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("room.hand"))
        })
        .count();
    assert!(
        got < EVENTS,
        "the slow consumer was cut off, not buffered: {got}"
    );
    // its seat is released like any dropped connection's
    advance_until_gone(&app, &host, &room, &c.uid).await;
    let left = ws_a
        .take(|f| f["type"] == "room.member_left" && f["uid"] == c.uid.as_str())
        .await;
    assert_eq!(left["reason"], "timeout");
    // and the room still works for everyone else
    ws_b.ok("raise_hand", json!({ "roomId": room })).await;
    let e = ws_a
        .take(|f| f["type"] == "room.hand_raised" && f["uid"] == b.uid.as_str())
        .await;
    assert_eq!(e["roomId"], room.as_str());
}

// ---------------------------------------------------------------- pushes

#[actix_web::test]
async fn new_messages_reach_every_connection_with_the_unread_total() {
    let app = spawn_huddle().await;
    let a = app.user("13800500191", "Ann").await;
    let b = app.user("13800500192", "Bob").await;
    let mut phone = app.ws(&b).await;
    let mut tablet = app.ws(&b).await;
    let mut other = app.ws(&a).await;
    app.post_as(&a, &format!("/user/{}/card", b.uid)).await.ok();
    for ws in [&mut phone, &mut tablet] {
        let m = ws.next_of("message.new").await;
        assert_eq!(m["unreadTotal"], 1);
        let msg = &m["message"];
        assert_eq!(msg["uid"], b.uid.as_str());
        assert_eq!(msg["originUid"], a.uid.as_str());
        assert_eq!(msg["unread"], 1);
        assert!(msg["messageId"].as_i64().unwrap() > 0);
        assert!(msg["messageBody"]["title"].as_str().is_some());
    }
    other.quiet_for(200).await;
    // the message is kept for users with no connection, and counts
    drop(phone);
    drop(tablet);
    let list = app.messages(&b).await;
    assert_eq!(list.len(), 1);
}

#[actix_web::test]
async fn event_reminders_and_starts_reach_sockets() {
    let app = spawn_huddle().await;
    let host = app.user("13800500201", "Host").await;
    let sub = app.user("13800500202", "Sub").await;
    let watcher = app.user("13800500203", "Watch").await;
    let t0 = app.clock_now();
    let e = id(
        &app.create_event(&host, "Standup", t0 + 60_000, &[&host.uid])
            .await,
        "eventId",
    );
    app.post_as(&sub, &format!("/event/{e}/notify")).await.ok();
    let mut ws_sub = app.ws(&sub).await;
    let mut ws_watch = app.ws(&watcher).await;
    let ack = ws_watch.ok("subscribe", json!({ "eventId": e })).await;
    assert_eq!(ack["eventId"], e.as_str());

    app.clock.advance(60_000);
    for ws in [&mut ws_sub, &mut ws_watch] {
        let r = ws.next_of("event.reminder").await;
        assert_eq!(r["eventId"], e.as_str());
        assert_eq!(r["name"], "Standup");
        assert_eq!(r["eventTime"], t0 + 60_000);
    }
    // the subscriber also has the inbox message; the watcher has none
    let m = ws_sub.next_of("message.new").await;
    assert_eq!(m["message"]["uid"], sub.uid.as_str());

    let started = app.post_as(&host, &format!("/event/{e}/start")).await;
    let room = started.ok()["roomId"].as_str().unwrap().to_owned();
    for ws in [&mut ws_sub, &mut ws_watch] {
        let s = ws.next_of("event.started").await;
        assert_eq!(s["eventId"], e.as_str());
        assert_eq!(s["roomId"], room.as_str());
    }
    // unsubscribed sockets hear nothing more
    ws_watch.ok("unsubscribe", json!({ "eventId": e })).await;
}

#[actix_web::test]
async fn club_subscribers_see_members_come_and_go() {
    let app = spawn_huddle().await;
    let owner = app.user("13800500211", "Owner").await;
    let c = app.user("13800500212", "Cat").await;
    let club = id(&app.create_club(&owner, "Club").await, "clubId");
    let mut ws = app.ws(&owner).await;
    ws.ok("subscribe", json!({ "clubId": club })).await;
    app.join_club(&c, &club).await;
    let j = ws.next_of("club.member_joined").await;
    assert_eq!(
        (
            j["clubId"].clone(),
            j["uid"].clone(),
            j["memberTotal"].clone()
        ),
        (json!(club), json!(c.uid), json!(2))
    );
    app.post_as(&c, &format!("/club/{club}/leave")).await.ok();
    let l = ws.next_of("club.member_left").await;
    assert_eq!(
        (l["uid"].clone(), l["memberTotal"].clone()),
        (json!(c.uid), json!(1))
    );
    ws.ok("unsubscribe", json!({ "clubId": club })).await;
    app.join_club(&c, &club).await;
    ws.quiet_for(200).await;
}
