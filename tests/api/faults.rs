//! Faults injected into the real binary (`CARGO_BIN_EXE_huddle`), seen from
//! outside as a user would see them:
//!
//! - SIGKILL while concurrent writers are in flight, three times at different
//!   moments, then a restart on the same database: the server starts, the
//!   SQLite file passes `PRAGMA integrity_check`, every acknowledged write is
//!   there, counters match the rows they count, open rooms are open, listed
//!   and joinable, and a room's `seq` never goes back.
//! - A full disk under the local image store (a 1 MiB tmpfs mounted in a
//!   user + mount namespace): the PUT that does not fit answers the 503
//!   envelope, leaves no partial file, earlier images stay intact, and
//!   uploads work again once space is freed.
//!
//! A database that cannot be reached is covered by
//! `tests/cluster/faults.rs::a_postgres_outage_fails_fast_keeps_sockets_and_recovers_without_a_restart`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Connection;

use crate::helpers::{Resp, Session, TestDb};
use crate::remote::{clean_env, huddle_binary, Remote, Server, TEST_NUMBERS};

fn id_of(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------
// 1. kill -9 during writes
// ---------------------------------------------------------------------------

/// What one writer did: the writes the server acknowledged (a complete success
/// answer) and the one in flight when the server died (its outcome unknown).
#[derive(Default)]
struct Ledger {
    /// room → (host, invite-only)
    rooms: BTreeMap<String, (usize, bool)>,
    /// the same rooms, in the order they were acknowledged
    created: Vec<String>,
    /// rooms whose close was acknowledged
    closed: BTreeSet<String>,
    /// rooms whose close was in flight
    close_unknown: BTreeSet<String>,
    /// (room, invitee)
    invites: BTreeSet<(String, usize)>,
    /// (holder, owner)
    cards: BTreeSet<(usize, usize)>,
    /// clubs created: (club, creator)
    clubs: Vec<(String, usize)>,
    acked: usize,
    /// non-success answers before the kill (there must be none)
    refusals: Vec<String>,
}

/// What the test knows about each user across kills.
struct UserState {
    session: Session,
    /// In the toggled club? `None` while a toggle's outcome is unknown.
    in_k2: Option<bool>,
    /// Nicknames the profile may show: the last acknowledged one, plus one
    /// whose update was in flight at the kill.
    nicknames: BTreeSet<String>,
    /// Private rooms this user hosts (for invitations), newest last.
    private_rooms: Vec<String>,
    /// Open rooms this user hosts, oldest first (closed by the writer in turn).
    open_rooms: Vec<String>,
}

struct World {
    users: Vec<UserState>,
    /// Everyone is a member: rooms are opened here and members may invite each other.
    k1: String,
    /// Users join and leave this one.
    k2: String,
    ledger: Ledger,
}

/// Counters the killer watches.
#[derive(Default)]
struct Pulse {
    acked: AtomicUsize,
    in_flight: AtomicUsize,
    dead: AtomicBool,
}

enum Outcome {
    Acked(Resp),
    Refused(String),
    Died,
}

async fn attempt(
    remote: &Remote,
    pulse: &Pulse,
    method: Method,
    path: &str,
    who: &Session,
    params: &[(&str, String)],
) -> Outcome {
    pulse.in_flight.fetch_add(1, Ordering::SeqCst);
    let res = remote
        .try_call(method.clone(), path, Some(who), params)
        .await;
    pulse.in_flight.fetch_sub(1, Ordering::SeqCst);
    match res {
        Ok(r) if r.status == 200 && r.body["status"] == 1 => {
            pulse.acked.fetch_add(1, Ordering::SeqCst);
            Outcome::Acked(r)
        }
        Ok(r) => Outcome::Refused(format!("{method} {path}: {}", r.text)),
        Err(_) => Outcome::Died,
    }
}

/// What every writer of one round shares.
#[derive(Clone, Copy)]
struct Writers<'a> {
    remote: &'a Remote,
    pulse: &'a Pulse,
    users: &'a [Session],
    k1: &'a str,
    k2: &'a str,
    round: usize,
}

/// One user's writes, in a loop, until the server dies. Returns what was
/// acknowledged and updates the user's state.
async fn writer(w: &Writers<'_>, me: usize, state: &mut UserState) -> Ledger {
    let Writers {
        remote,
        pulse,
        users,
        k1,
        k2,
        round,
    } = *w;
    let mut l = Ledger::default();
    let n = users.len();
    let s = users[me].clone();
    for i in 0usize.. {
        if pulse.dead.load(Ordering::SeqCst) {
            break;
        }
        let op = (i + me) % 9;
        let other = (me + 1 + (i + round) % (n - 1)) % n;
        macro_rules! go {
            ($method:expr, $path:expr, $params:expr) => {
                match attempt(remote, pulse, $method, &$path, &s, $params).await {
                    Outcome::Acked(r) => {
                        l.acked += 1;
                        Some(r)
                    }
                    Outcome::Refused(why) => {
                        l.refusals.push(why);
                        None
                    }
                    Outcome::Died => {
                        pulse.dead.store(true, Ordering::SeqCst);
                        break;
                    }
                }
            };
        }
        match op {
            // a room in the shared club
            0 => {
                let p = [
                    ("name", format!("r{round}-{me}-{i}")),
                    ("clubId", k1.to_owned()),
                ];
                if let Some(r) = go!(Method::POST, "/room", &p) {
                    let room = id_of(r.ok(), "roomId");
                    l.rooms.insert(room.clone(), (me, false));
                    l.created.push(room.clone());
                    state.open_rooms.push(room);
                }
            }
            // join or leave the toggled club (the creator stays)
            1 if me != 0 => {
                let joining = !state.in_k2.unwrap_or(false);
                let path = format!("/club/{k2}/{}", if joining { "join" } else { "leave" });
                let before = state.in_k2;
                state.in_k2 = None;
                if go!(Method::POST, path, &[]).is_some() {
                    state.in_k2 = Some(joining);
                } else {
                    state.in_k2 = before;
                }
            }
            // an invite-only room
            2 => {
                let p = [
                    ("name", format!("p{round}-{me}-{i}")),
                    ("inviteOnly", "1".into()),
                ];
                if let Some(r) = go!(Method::POST, "/room", &p) {
                    let room = id_of(r.ok(), "roomId");
                    l.rooms.insert(room.clone(), (me, true));
                    l.created.push(room.clone());
                    state.private_rooms.push(room.clone());
                    state.open_rooms.push(room);
                }
            }
            // an invitation (invite row + the invitee's inbox message)
            3 => {
                if let Some(room) = state
                    .private_rooms
                    .iter()
                    .rev()
                    .find(|r| state.open_rooms.contains(r))
                    .cloned()
                {
                    let path = format!("/room/{room}/invite/{}", users[other].uid);
                    if go!(Method::POST, path, &[]).is_some() {
                        l.invites.insert((room, other));
                    }
                }
            }
            // a card (card row + the holder's inbox message)
            4 => {
                let path = format!("/user/{}/card", users[other].uid);
                if go!(Method::POST, path, &[]).is_some() {
                    l.cards.insert((other, me));
                }
            }
            // a profile update
            5 => {
                let nick = format!("u{me}-{round}-{i}");
                let p = [
                    ("nickname", nick.clone()),
                    ("avatar", format!("https://cdn.example.com/{nick}.jpg")),
                    ("bio", format!("round {round}")),
                ];
                state.nicknames.insert(nick.clone());
                if go!(Method::PUT, "/user/profile", &p).is_some() {
                    state.nicknames = BTreeSet::from([nick]);
                }
            }
            // close the oldest of my open rooms (every other time)
            6 if state.open_rooms.len() > 2 && i % 2 == 0 => {
                let room = state.open_rooms.remove(0);
                l.close_unknown.insert(room.clone());
                if go!(Method::POST, format!("/room/{room}/close"), &[]).is_some() {
                    l.close_unknown.remove(&room);
                    l.closed.insert(room);
                }
            }
            // read the inbox (marks messages read)
            7 => {
                go!(Method::GET, "/user/message", &[("count", "20".to_owned())]);
            }
            // a club (club row with member_total 1 + the creator's membership)
            8 => {
                let p = [
                    ("name", format!("c{round}-{me}-{i}")),
                    ("cover", "https://cdn.example.com/c.jpg".to_owned()),
                ];
                if let Some(r) = go!(Method::POST, "/club", &p) {
                    l.clubs.push((id_of(r.ok(), "clubId"), me));
                }
            }
            _ => {}
        }
    }
    l
}

impl World {
    fn merge(&mut self, l: Ledger) {
        let g = &mut self.ledger;
        g.rooms.extend(l.rooms);
        g.created.extend(l.created);
        g.closed.extend(l.closed);
        g.close_unknown.extend(l.close_unknown);
        g.invites.extend(l.invites);
        g.cards.extend(l.cards);
        g.clubs.extend(l.clubs);
        g.acked += l.acked;
        g.refusals.extend(l.refusals);
    }

    fn open(&self, room: &str) -> bool {
        !self.ledger.closed.contains(room) && !self.ledger.close_unknown.contains(room)
    }
}

fn sqlite_path(database_url: &str) -> Option<PathBuf> {
    database_url
        .strip_prefix("sqlite://")
        .map(|p| PathBuf::from(p.split('?').next().unwrap_or(p)))
}

/// The SQLite file after the kill, before the restart: `integrity_check` ok,
/// no foreign key pointing nowhere.
async fn check_sqlite_file(path: &Path) {
    let url = format!("sqlite://{}", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("the database file opens after SIGKILL");
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(integrity, vec!["ok".to_owned()], "PRAGMA integrity_check");
    let dangling = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(
        dangling.is_empty(),
        "{} rows break a foreign key",
        dangling.len()
    );
    conn.close().await.unwrap();
}

/// One integer from the database (either backend).
async fn db_scalar(database_url: &str, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(database_url)
        .await
        .expect("database reachable");
    let v: i64 = sqlx::query_scalar(sql)
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
    v
}

fn serve_command(dir: &Path, database_url: &str) -> Command {
    let mut cmd = Command::new(huddle_binary());
    clean_env(&mut cmd);
    cmd.arg("serve")
        .current_dir(dir)
        .env("HUDDLE_HTTP_ADDR", "127.0.0.1:0")
        .env("HUDDLE_LOG_FORMAT", "json")
        .env("HUDDLE_LOG", "warn,huddle::startup=info")
        .env("HUDDLE_DATABASE_URL", database_url)
        .env("HUDDLE_DATABASE_MAX_CONNECTIONS", "8")
        .env("HUDDLE_WORKERS", "2")
        .env("HUDDLE_RATE_LIMITS", "off")
        .env("HUDDLE_SMS_TEST_NUMBERS", TEST_NUMBERS)
        .env("HUDDLE_STORAGE_DIR", dir.join("uploads"));
    cmd
}

/// Everything a user would check after the restart.
async fn check_after_restart(
    remote: &Remote,
    world: &mut World,
    database_url: &str,
    live_room: &str,
    seq_seen: i64,
) {
    let sessions: Vec<Session> = world.users.iter().map(|u| u.session.clone()).collect();
    remote.call(Method::GET, "/readyz", None, &[]).await.ok();

    // Counters equal the rows they count.
    assert_eq!(
        db_scalar(
            database_url,
            "SELECT COUNT(*) FROM clubs c WHERE c.member_total <> \
             (SELECT COUNT(*) FROM club_members m WHERE m.club_id = c.club_id)"
        )
        .await,
        0,
        "a club's member_total differs from its membership rows"
    );
    let mut clubs: Vec<(String, usize)> = vec![(world.k1.clone(), 0), (world.k2.clone(), 0)];
    clubs.extend(world.ledger.clubs.iter().cloned());
    for (club, creator) in &clubs {
        let s = &sessions[*creator];
        let shown = remote.get(&format!("/club/{club}"), s, &[]).await;
        let shown = shown.ok();
        assert_eq!(shown["joined"], 1, "the creator is a member of {club}");
        let members = remote.walk(s, &format!("/club/{club}/member")).await;
        assert_eq!(
            shown["memberTotal"].as_u64(),
            Some(members.len() as u64),
            "memberTotal of {club} vs its member list"
        );
    }
    for (club, creator) in &world.ledger.clubs {
        let mine = remote.walk(&sessions[*creator], "/club").await;
        assert!(
            mine.iter().any(|c| c["clubId"] == club.as_str()),
            "club {club} is missing from its creator's list"
        );
    }
    let k2_members = remote
        .walk(&sessions[0], &format!("/club/{}/member", world.k2))
        .await;
    for (i, u) in world.users.iter_mut().enumerate() {
        let joined = remote
            .get(&format!("/club/{}", world.k2), &u.session, &[])
            .await;
        let joined = joined.ok()["joined"] == 1;
        if let Some(expected) = u.in_k2 {
            assert_eq!(joined, expected, "user {i}'s acknowledged join/leave");
        }
        u.in_k2 = Some(joined);
        let listed = k2_members
            .iter()
            .any(|m| m["uid"] == u.session.uid.as_str());
        assert_eq!(listed, joined, "user {i} in the member list iff joined");
    }

    // Profiles: the last acknowledged nickname (or the one in flight).
    for (i, u) in world.users.iter_mut().enumerate() {
        let p = remote
            .get(
                &format!("/user/{}/profile", u.session.uid),
                &sessions[0],
                &[],
            )
            .await;
        let nick = p.ok()["nickname"].as_str().unwrap().to_owned();
        assert!(
            u.nicknames.contains(&nick),
            "user {i} shows {nick:?}, expected one of {:?}",
            u.nicknames
        );
        u.nicknames = BTreeSet::from([nick]);
    }

    // Inboxes: the unread total equals the unread messages; every
    // acknowledged invitation and card left its message.
    let mut inbox: Vec<Vec<Value>> = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        let total = remote.get("/user/message/unread_total", s, &[]).await;
        let total = total.ok().as_i64().unwrap();
        let messages = remote.walk(s, "/user/message").await;
        let unread = messages
            .iter()
            .filter(|m| m["userMessageResult"]["unread"] == 1)
            .count() as i64;
        assert_eq!(total, unread, "user {i}: unread total vs unread messages");
        inbox.push(messages);
    }
    let has = |holder: usize, kind: i64, url: &str| {
        inbox[holder].iter().any(|m| {
            m["userMessageResult"]["originPushType"] == kind
                && m["userMessageResult"]["messageBody"]["url"] == url
        })
    };
    for (holder, owner) in &world.ledger.cards {
        let cards = remote.walk(&sessions[*holder], "/user/card").await;
        assert!(
            cards
                .iter()
                .any(|c| c["uid"] == sessions[*owner].uid.as_str()),
            "acknowledged card {owner} → {holder} is missing"
        );
        assert!(
            has(
                *holder,
                1,
                &format!("chaoqer://profile/{}", sessions[*owner].uid)
            ),
            "acknowledged card {owner} → {holder} has no inbox message"
        );
    }
    // Not only acknowledged ones: a card is never stored without its message.
    assert_eq!(
        db_scalar(
            database_url,
            "SELECT COUNT(*) FROM cards c WHERE NOT EXISTS (SELECT 1 FROM messages m \
             WHERE m.uid = c.holder_uid AND m.origin_push_type = 1 AND m.origin_uid = c.owner_uid)"
        )
        .await,
        0,
        "a card row without its inbox message (the notice is lost for good: a retry \
         finds the card and sends nothing)"
    );
    // Nor an invitation without its message.
    assert_eq!(
        db_scalar(
            database_url,
            "SELECT COUNT(*) FROM room_invites i WHERE NOT EXISTS (SELECT 1 FROM messages m \
             WHERE m.uid = i.uid AND m.origin_uid = i.inviter_uid \
             AND m.url = 'chaoqer://room/' || i.room_id)"
        )
        .await,
        0,
        "an invitation row without its inbox message"
    );

    // Rooms: every acknowledged room that was open is open, readable and
    // listed; every acknowledged close stuck.
    let mut lists: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (i, s) in sessions.iter().enumerate() {
        let rooms = remote.walk(s, "/room").await;
        lists.insert(
            i,
            rooms
                .iter()
                .map(|r| crate::helpers::text(&r["roomId"]))
                .collect(),
        );
    }
    for (room, (host, private)) in &world.ledger.rooms {
        let res = remote
            .get(&format!("/room/{room}"), &sessions[*host], &[])
            .await;
        if world.ledger.closed.contains(room) {
            res.business(400000);
            assert!(!lists[host].contains(room), "closed room {room} is listed");
        } else if world.open(room) {
            let r = res.ok();
            assert_eq!(r["roomId"], room.as_str());
            assert!(lists[host].contains(room), "open room {room} is not listed");
            // every member of its club sees it too
            let member = (host + 1) % sessions.len();
            assert!(
                *private || lists[&member].contains(room),
                "club room {room} is missing from a club member's list"
            );
        }
    }
    for (room, invitee) in &world.ledger.invites {
        if !world.open(room) {
            continue;
        }
        remote
            .get(&format!("/room/{room}"), &sessions[*invitee], &[])
            .await
            .ok();
        assert!(
            lists[invitee].contains(room),
            "room {room} is missing from invitee {invitee}'s list"
        );
        assert!(
            has(*invitee, 2, &format!("chaoqer://room/{room}")),
            "acknowledged invitation to {room} has no inbox message"
        );
    }

    // Open rooms can be joined (token + WebSocket), and seq never goes back.
    let (mut ws, ack) = remote.join_room(&sessions[1], live_room).await;
    let seq = ack["seq"].as_i64().unwrap();
    assert!(
        seq > seq_seen,
        "room seq went back across the kill: {seq} after {seq_seen}"
    );
    // The latest rooms acknowledged before this kill: a club room (joined by
    // a club member) and an invite-only room (joined by its invitee).
    let newest_club_room = world.ledger.created.iter().rev().find(|r| {
        let (host, private) = world.ledger.rooms[*r];
        !private && host != 2 && world.open(r)
    });
    let newest_private = world.ledger.created.iter().rev().find_map(|r| {
        let invitee = world
            .ledger
            .invites
            .iter()
            .find(|(room, _)| room == r)
            .map(|(_, invitee)| *invitee)?;
        world.open(r).then(|| (r.clone(), invitee))
    });
    let mut joined = vec![];
    if let Some(room) = newest_club_room {
        joined.push((room.clone(), 2));
    }
    if let Some((room, invitee)) = newest_private {
        joined.push((room, invitee));
    }
    for (room, who) in joined {
        let (ws2, ack) = remote.join_room(&sessions[who], &room).await;
        assert_eq!(ack["roomId"], room.as_str());
        let shown = remote
            .get(&format!("/room/{room}"), &sessions[who], &[])
            .await;
        let shown = shown.ok();
        let members = shown["memberList"].as_array().unwrap();
        assert_eq!(shown["memberTotal"].as_u64(), Some(members.len() as u64));
        assert!(
            members
                .iter()
                .any(|m| m["uid"] == sessions[who].uid.as_str()),
            "{shown}"
        );
        ws2.close().await;
    }
    ws.ok("raise_hand", json!({ "roomId": live_room })).await;
    ws.close().await;
}

#[actix_web::test]
async fn sigkill_during_concurrent_writes_loses_no_acknowledged_write() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (_db, database_url) = TestDb::create().await;
    let sqlite_file = sqlite_path(&database_url);

    let mut server = Server::start(serve_command(dir.path(), &database_url));
    let mut remote = Remote::new(&server);
    let mut users = Vec::new();
    for i in 0..8 {
        let s = remote
            .sign_in(&format!("139000{:05}", 71_000 + i), &format!("u{i}"))
            .await;
        users.push(UserState {
            session: s,
            in_k2: Some(false),
            nicknames: BTreeSet::from([format!("u{i}")]),
            private_rooms: vec![],
            open_rooms: vec![],
        });
    }
    let club = |name: &'static str| {
        let (remote, s) = (&remote, users[0].session.clone());
        async move {
            let r = remote
                .post(
                    "/club",
                    &s,
                    &[
                        ("name", name.into()),
                        ("cover", "https://cdn.example.com/k.jpg".into()),
                    ],
                )
                .await;
            id_of(r.ok(), "clubId")
        }
    };
    let (k1, k2) = (club("K1").await, club("K2").await);
    for u in &users[1..] {
        remote
            .post(&format!("/club/{k1}/join"), &u.session, &[])
            .await
            .ok();
    }
    users[0].in_k2 = Some(true);
    let mut world = World {
        users,
        k1,
        k2,
        ledger: Ledger::default(),
    };
    // A room kept open throughout, with live members: its seq must never go back.
    let live_room = {
        let r = remote
            .post(
                "/room",
                &world.users[0].session,
                &[("name", "live".into()), ("clubId", world.k1.clone())],
            )
            .await;
        id_of(r.ok(), "roomId")
    };

    // Kill when this many writes were acknowledged (and writers are in flight).
    let kill_after = [25usize, 120, 300];
    let mut kills = 0;
    let mut in_flight_at_kills = Vec::new();
    for (round, &threshold) in kill_after.iter().enumerate() {
        // A member's hand in the live room: the highest seq a client saw.
        let (mut ws, _) = remote.join_room(&world.users[3].session, &live_room).await;
        ws.ok("raise_hand", json!({ "roomId": live_room })).await;
        let hand = ws
            .take(|f| f["type"] == "room.hand_raised" && f["roomId"] == live_room.as_str())
            .await;
        let seq_seen = hand["seq"].as_i64().unwrap();

        let pulse = Pulse::default();
        let sessions: Vec<Session> = world.users.iter().map(|u| u.session.clone()).collect();
        let (k1, k2) = (world.k1.clone(), world.k2.clone());
        let before = world.ledger.acked;
        let shared = Writers {
            remote: &remote,
            pulse: &pulse,
            users: &sessions,
            k1: &k1,
            k2: &k2,
            round,
        };
        let writers = world
            .users
            .iter_mut()
            .enumerate()
            .map(|(me, state)| writer(&shared, me, state));
        let killer = async {
            let deadline = Instant::now() + Duration::from_secs(120);
            while pulse.acked.load(Ordering::SeqCst) < threshold
                || pulse.in_flight.load(Ordering::SeqCst) < 4
            {
                assert!(Instant::now() < deadline, "the writers stalled");
                actix_web::rt::time::sleep(Duration::from_millis(1)).await;
            }
            let in_flight = pulse.in_flight.load(Ordering::SeqCst);
            server.kill9();
            in_flight
        };
        let (ledgers, in_flight) = tokio::join!(join_all(writers), killer);
        drop(ws);
        kills += 1;
        in_flight_at_kills.push(in_flight);
        for l in ledgers {
            world.merge(l);
        }
        assert!(
            world.ledger.refusals.is_empty(),
            "writes refused before the kill: {:#?}",
            world.ledger.refusals
        );
        println!(
            "kill {kills}: {} writes acknowledged before it, {in_flight} requests in flight",
            world.ledger.acked - before
        );

        if let Some(file) = &sqlite_file {
            check_sqlite_file(file).await;
        }
        server = Server::start(serve_command(dir.path(), &database_url));
        remote = Remote::new(&server);
        check_after_restart(&remote, &mut world, &database_url, &live_room, seq_seen).await;
        assert!(
            !server.log_text().contains("internal error"),
            "{}",
            server.log_text()
        );
    }
    println!(
        "{kills} SIGKILLs ({:?} requests in flight), {} writes acknowledged, {} rooms, \
         {} invitations, {} cards, {} clubs checked, in {:?}",
        in_flight_at_kills,
        world.ledger.acked,
        world.ledger.rooms.len(),
        world.ledger.invites.len(),
        world.ledger.cards.len(),
        world.ledger.clubs.len() + 2,
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------
// 3. A full disk under the local image store
// ---------------------------------------------------------------------------

/// The tmpfs size the store gets.
const TMPFS: &str = "1m";
/// Each image: three fit in 1 MiB, the fourth does not.
const IMAGE_BYTES: usize = 300 * 1024;

fn jpeg(len: usize, fill: u8) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.resize(len, fill);
    bytes
}

/// Mounts a tmpfs on `dir` in a throw-away user + mount namespace; panics with
/// a clear message when this machine does not allow that (the test must not
/// skip silently).
fn require_unshare(dir: &Path) {
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o size={TMPFS} huddle-test \"$0\" && grep -q \" $0 tmpfs \" /proc/self/mounts"
        ))
        .arg(dir)
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "this test mounts a {TMPFS} tmpfs in an unprivileged user + mount namespace \
             (`unshare -rm`), which this machine refuses ({}): {}. Allow unprivileged user \
             namespaces (sysctl kernel.unprivileged_userns_clone=1, \
             kernel.apparmor_restrict_unprivileged_userns=0) or run where they are allowed.",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("this test needs `unshare` (util-linux) on PATH: {e}"),
    }
}

/// Every file under `dir`, recursively (relative paths).
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

async fn put_image(http: &reqwest::Client, address: &str, body: Vec<u8>) -> Resp {
    crate::helpers::send(
        http.put(address)
            .header("Content-Type", "image/jpeg")
            .body(body),
    )
    .await
}

#[actix_web::test]
async fn a_full_image_disk_answers_503_and_leaves_no_partial_file() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let uploads = dir.path().join("uploads");
    std::fs::create_dir_all(&uploads).unwrap();
    require_unshare(&uploads);
    let (_db, database_url) = TestDb::create().await;

    // The server runs in its own mount namespace with a 1 MiB tmpfs on its
    // upload directory; we see that directory through /proc/PID/root.
    let mut cmd = Command::new("unshare");
    clean_env(&mut cmd);
    cmd.args(["-rm", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o size={TMPFS} huddle-test \"$1\" || exit 97; exec \"$0\" serve"
        ))
        .arg(huddle_binary())
        .arg(&uploads)
        .current_dir(dir.path())
        .env("HUDDLE_HTTP_ADDR", "127.0.0.1:0")
        .env("HUDDLE_LOG_FORMAT", "json")
        .env("HUDDLE_LOG", "warn,huddle::startup=info")
        .env("HUDDLE_DATABASE_URL", &database_url)
        .env("HUDDLE_RATE_LIMITS", "off")
        .env("HUDDLE_SMS_TEST_NUMBERS", TEST_NUMBERS)
        .env("HUDDLE_STORAGE", "local")
        .env("HUDDLE_STORAGE_DIR", &uploads)
        .env("HUDDLE_STORAGE_MAX_IMAGE_BYTES", (1024 * 1024).to_string());
    let server = Server::start(cmd);
    let store = PathBuf::from(format!("/proc/{}/root", server.child.id()))
        .join(uploads.strip_prefix("/").unwrap());
    let mounts = std::fs::read_to_string(format!("/proc/{}/mounts", server.child.id())).unwrap();
    assert!(
        mounts.contains(&format!(" {} tmpfs ", uploads.display())),
        "the upload directory is a tmpfs inside the server's namespace:\n{mounts}"
    );
    let remote = Remote::new(&server);
    let http = reqwest::Client::new();
    let s = remote.sign_in("13900072001", "uploader").await;
    let ticket = |dir: &'static str| {
        let (remote, s) = (&remote, s.clone());
        async move {
            let r = remote
                .post("/aliyun/image/upload", &s, &[("imageDir", dir.into())])
                .await;
            let t = r.ok();
            (id_of(t, "uploadAddress"), id_of(t, "imageURL"))
        }
    };

    // Fill the disk: images go in until one does not fit.
    let mut stored: Vec<(String, String, Vec<u8>)> = Vec::new();
    let (full_address, full_url, full_bytes) = loop {
        assert!(stored.len() < 8, "{TMPFS} never filled up");
        let (address, url) = ticket("cover").await;
        let bytes = jpeg(IMAGE_BYTES, stored.len() as u8 + 1);
        let res = put_image(&http, &address, bytes.clone()).await;
        if res.status == 200 {
            res.ok();
            stored.push((address, url, bytes));
        } else {
            break (address, url, bytes);
        }
    };
    assert_eq!(
        stored.len(),
        3,
        "three {IMAGE_BYTES}-byte images fit in {TMPFS}"
    );

    // The PUT that did not fit: the 503 envelope, saying why.
    let refused = put_image(&http, &full_address, full_bytes.clone()).await;
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert!(
        refused.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        refused.headers
    );
    assert_eq!(
        refused.body,
        json!({"result": 0, "status": 0, "message": "Service Unavailable: the image store is out of space"})
    );
    // Nothing of it is visible: no image, no partial file.
    let missing = crate::helpers::send(http.get(&full_url)).await;
    missing.protocol(404, "Not Found");
    let files = files_under(&store);
    assert!(
        files.iter().all(|f| !f.contains(".part-")),
        "partial files left behind: {files:?}"
    );
    assert_eq!(files.len(), 3, "{files:?}");
    // Earlier images are intact.
    for (_, url, bytes) in &stored {
        let got = http.get(url).send().await.unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(&got.bytes().await.unwrap().to_vec(), bytes, "{url}");
    }
    // The operator was told.
    let log = server.log_text();
    assert!(
        log.contains("the image store is out of space"),
        "no log line says the disk is full:\n{log}"
    );
    assert!(!log.contains("internal error"), "{log}");

    // A smaller image still fits in what is left.
    let (address, url) = ticket("avatar").await;
    let small = jpeg(16 * 1024, 0x77);
    put_image(&http, &address, small.clone()).await.ok();
    let got = http.get(&url).send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().to_vec(), small);

    // Free space (an operator removes an image): the refused upload now works
    // with the same address.
    let victim = files_under(&store)
        .into_iter()
        .find(|f| stored[0].1.ends_with(f.as_str()))
        .unwrap();
    std::fs::remove_file(store.join(&victim)).unwrap();
    put_image(&http, &full_address, full_bytes.clone())
        .await
        .ok();
    let got = http.get(&full_url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), full_bytes);
    let files = files_under(&store);
    assert!(files.iter().all(|f| !f.contains(".part-")), "{files:?}");
    assert_eq!(files.len(), 4, "{files:?}");
    println!(
        "disk full: 1 ENOSPC upload (plus 1 retry) on a {TMPFS} tmpfs, {:?}",
        started.elapsed()
    );
}
