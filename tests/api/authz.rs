//! The authorization matrix: every route of the signed mobile API (and the
//! account/session routes) × every kind of caller, each cell asserting the exact
//! outcome `API-CONTRACT.md` prescribes (HTTP status + envelope, business code,
//! or success). Plus mass assignment: extra fields in bodies are never written.
//!
//! Callers:
//! - relational, one column per row: the owner/host of the resource, another
//!   member (of the club/room/event), a stranger (logged in, unrelated), and a
//!   user the owner has blocked;
//! - universal, the same outcome for every route of a kind, checked in a loop:
//!   a frozen account (`huddle account freeze`), no `Authorization`, an expired
//!   session (the manual clock moved past `session_ttl_days`), a revoked
//!   session (`POST /account/logout`), a tampered sign, a parameter changed
//!   after signing, and the same signed request replayed.
//!
//! Every row gets a fresh world (users, club, rooms, event) so that the cells of
//! one row cannot disturb another. Within a row the universal cells run first
//! (they are refused before any handler runs), then the relational ones with the
//! owner last (a host's close/delete/remove is destructive), then the owner's
//! exact request is replayed.
//!
//! Privacy, in every cell: no response holds the phone number (in any format,
//! `privacy::phone_forms`) of anyone but the caller, among every user the
//! suite has created so far.
//!
//! Not here: `GET /ws` (a WebSocket upgrade; its authentication is covered by
//! `ws.rs`/`realtime.rs`), the H5 routes (`/h5/*`, authenticated by an H5
//! WeChat/guest bearer token, not by app sessions; see `h5.rs`), and the
//! unauthenticated infrastructure (`/healthz`, `/docs`, presigned `/upload`,
//! `/image`, share pages). The route list is checked against `/docs-json`.

use std::collections::{BTreeSet, HashMap, HashSet};

use md5::{Digest, Md5};
use reqwest::Method;
use serde_json::{json, Value};

use crate::fakes::{FakeService, Reply};
use crate::helpers::*;

/// What a cell must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// HTTP 200, `status` 1.
    Ok,
    /// HTTP 200, `status` 0, `result` = the business code.
    Biz(i64),
    /// A protocol failure: this HTTP status, `result` 0, `status` 0, the seed's message.
    Http(u16),
    /// This caller kind does not apply to the route (said why in the row's comment).
    Na,
}
use Want::{Biz, Http, Na};

const OK: Want = Want::Ok;
const E400: Want = Http(400);
const E401: Want = Http(401);
const E403: Want = Http(403);
/// 100002 account frozen.
const FROZEN: Want = Biz(100002);
/// -1: a repeated call, ignored.
const REPEATED: Want = Biz(-1);
/// 400001: a host has blocked you.
const HOST_BLOCKED: Want = Biz(400001);
/// 200001: profile already initialised.
const PROFILE_DONE: Want = Biz(200001);

/// How a route authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// "鉴权: 用户登录": `Authorization` + signed with the session's accessSecret.
    User,
    /// "鉴权: 无": signed with the default secret; the caller is the `mobile`
    /// parameter. `frozen`: the outcome for a frozen account's mobile.
    Public { frozen: Want },
    /// "鉴权: 否, 参数校验: 否": no session, no sign (an `Authorization` is ignored).
    Open,
}

/// One route with one set of fixtures.
///
/// Placeholders (in the path and in parameter values): `{H}` owner/host,
/// `{M}` other member, `{I}` a club member to invite, `{K}` the owner's club,
/// `{R}` the owner's public room in `{K}` (with `{M}` live in it), `{P}` the
/// owner's invite-only room (nobody invited), `{E}` the owner's event (with
/// `{M}` as its guest), `{T}` a future event time, `{JPUSH}` a push
/// registration id, `{LINK}`/`{LINKMD5}` a previewable page, and the caller's
/// own `{MOBILE}`/`{CODE}`.
struct Row {
    method: &'static str,
    path: &'static str,
    params: &'static [(&'static str, &'static str)],
    auth: Auth,
    /// [owner/host, other member, stranger, blocked by the owner].
    by: [Want; 4],
    /// The owner's request sent again verbatim.
    replay: Want,
}

const fn user(
    method: &'static str,
    path: &'static str,
    params: &'static [(&'static str, &'static str)],
    by: [Want; 4],
) -> Row {
    Row {
        method,
        path,
        params,
        auth: Auth::User,
        by,
        replay: REPEATED,
    }
}

const ALL_OK: [Want; 4] = [OK, OK, OK, OK];
/// Only the owner/host; everyone else 403 (the contract's "host only (else 403)",
/// "only the creator edits, deletes or starts").
const OWNER_ONLY: [Want; 4] = [OK, E403, E403, E403];
const PAGE: &[(&str, &str)] = &[("count", "10")];
const PROFILE: &[(&str, &str)] = &[
    ("nickname", "Renamed"),
    ("avatar", "https://cdn.example.com/a.jpg"),
    ("bio", "bio"),
];
const EVENT: &[(&str, &str)] = &[
    ("name", "Talk"),
    ("desc", "about it"),
    ("eventTime", "{T}"),
    ("memberUidList", "[\"{M}\"]"),
];

/// The matrix. Columns of `by`: [owner/host, other member, stranger, blocked].
#[rustfmt::skip]
const MATRIX: &[Row] = &[
    // ---- account / session ------------------------------------------------
    // Public routes: the caller is the mobile; "no session" is their normal
    // case (the owner cell), so the session columns do not apply.
    Row { method: "POST", path: "/account/captcha", params: &[("mobile", "{MOBILE}")],
          auth: Auth::Public { frozen: OK }, by: [OK, Na, Na, Na], replay: REPEATED },
    Row { method: "POST", path: "/account/login/captcha",
          params: &[("mobile", "{MOBILE}"), ("captcha", "{CODE}")],
          auth: Auth::Public { frozen: FROZEN }, by: [OK, Na, Na, Na], replay: REPEATED },
    // Every caller ends their own session. The replay arrives after the
    // logout: the session is gone, so authentication refuses it first (401).
    Row { replay: E401, ..user("POST", "/account/logout", &[], ALL_OK) },
    // ---- user ---------------------------------------------------------------
    user("POST", "/user/profile/init", PROFILE, [PROFILE_DONE; 4]),
    user("PUT", "/user/profile", PROFILE, ALL_OK),
    user("GET", "/user/{H}/profile", &[], ALL_OK),
    user("GET", "/user/block", PAGE, ALL_OK),
    // blocking or unblocking yourself is a bad parameter
    user("POST", "/user/{H}/block", &[], [E400, OK, OK, OK]),
    user("DELETE", "/user/{H}/block", &[], [E400, OK, OK, OK]),
    user("GET", "/user/message", PAGE, ALL_OK),
    user("GET", "/user/message/unread_total", &[], ALL_OK),
    // a card to (or dropped from) yourself is a bad parameter; to someone who
    // blocked you: code 0
    user("POST", "/user/{H}/card", &[], [E400, OK, OK, Biz(0)]),
    user("DELETE", "/user/{H}/card", &[], [E400, OK, OK, OK]),
    user("GET", "/user/card", PAGE, ALL_OK),
    // ---- club ---------------------------------------------------------------
    user("POST", "/club", &[("name", "New club"), ("cover", "https://cdn.example.com/c.jpg")], ALL_OK),
    user("GET", "/club", PAGE, ALL_OK),
    user("GET", "/club/{K}", &[], ALL_OK),
    // only members see the member list (the blocked user joined the club)
    user("GET", "/club/{K}/member", PAGE, [OK, OK, E403, OK]),
    user("POST", "/club/{K}/join", &[], ALL_OK),
    user("POST", "/club/{K}/leave", &[], ALL_OK),
    // ---- room ---------------------------------------------------------------
    // a public room belongs to a club the creator has joined
    user("POST", "/room", &[("name", "New room"), ("clubId", "{K}")], [OK, OK, E403, OK]),
    user("GET", "/room", PAGE, ALL_OK),
    user("GET", "/room/{R}", &[], [OK, OK, OK, HOST_BLOCKED]),
    user("POST", "/room/{R}/token", &[], [OK, OK, OK, HOST_BLOCKED]),
    user("POST", "/room/{R}/close", &[], OWNER_ONLY),
    user("POST", "/room/{R}/cache", &[], [OK, OK, OK, HOST_BLOCKED]),
    // by the host or a live member, who must share a club with (or hold the
    // card of) the invitee; the stranger does neither
    user("POST", "/room/{R}/invite/{I}", &[], [OK, OK, E403, HOST_BLOCKED]),
    user("POST", "/room/{R}/speaker/{M}", &[], OWNER_ONLY),
    user("DELETE", "/room/{R}/speaker/{M}", &[], OWNER_ONLY),
    user("POST", "/room/{R}/remove/{M}", &[], OWNER_ONLY),
    // the invite-only room: only the host (and invitees) get in
    user("GET", "/room/{P}", &[], [OK, E403, E403, HOST_BLOCKED]),
    user("POST", "/room/{P}/token", &[], [OK, E403, E403, HOST_BLOCKED]),
    // a share token for an invite-only room the caller may not see (found by
    // this matrix: the server used to hand one out, and /h5/room/{roomCacheId}
    // then showed the room to anyone)
    user("POST", "/room/{P}/cache", &[], [OK, E403, E403, HOST_BLOCKED]),
    // the member is not live in the private room; the stranger shares nothing
    user("POST", "/room/{P}/invite/{I}", &[], [OK, E403, E403, HOST_BLOCKED]),
    // ---- event --------------------------------------------------------------
    user("POST", "/event", EVENT, ALL_OK),
    user("GET", "/event", PAGE, ALL_OK),
    user("GET", "/event/{E}", &[], ALL_OK),
    user("PUT", "/event/{E}", EVENT, OWNER_ONLY),
    user("DELETE", "/event/{E}", &[], OWNER_ONLY),
    user("POST", "/event/{E}/notify", &[], ALL_OK),
    user("POST", "/event/{E}/start", &[], OWNER_ONLY),
    // ---- uploads, push, app ---------------------------------------------------
    user("POST", "/aliyun/image/upload", &[("imageDir", "avatar")], ALL_OK),
    user("POST", "/push/{JPUSH}", &[], ALL_OK),
    // "鉴权: 否, 参数校验: 否": anyone, with or without a session, unsigned
    Row { method: "GET", path: "/app/version/upgrade", params: &[], auth: Auth::Open,
          by: ALL_OK, replay: Na },
    user("POST", "/app/feedback",
         &[("originFeedbackType", "0"), ("originId", "app"), ("feedbackType", "0"),
           ("feedbackContent", "it works")],
         ALL_OK),
    // reporting yourself is a bad parameter
    user("POST", "/app/report",
         &[("originReportType", "1"), ("originId", "{H}"), ("reportReasonType", "1"),
           ("reason", "spam")],
         [E400, OK, OK, OK]),
    user("POST", "/app/link/preview/{LINKMD5}", &[("link", "{LINK}")], ALL_OK),
];

/// The code of every test number of this suite (prefix `86137770*`).
const CODE: &str = "135790";

/// The OpenAPI path of a row (placeholders back to the parameter names).
fn docs_path(template: &str) -> String {
    let mut p = template.to_owned();
    for (from, to) in [
        ("{H}", "{uid}"),
        ("{M}", "{uid}"),
        ("{I}", "{uid}"),
        ("{K}", "{clubId}"),
        ("{R}", "{roomId}"),
        ("{P}", "{roomId}"),
        ("{E}", "{eventId}"),
        ("{JPUSH}", "{jPushId}"),
        ("{LINKMD5}", "{linkMD5}"),
    ] {
        p = p.replace(from, to);
    }
    p
}

fn fill(template: &str, vars: &HashMap<&'static str, String>) -> String {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    assert!(!out.contains('{'), "unfilled placeholder: {out}");
    out
}

/// A logged-in user with a profile and the mobile they logged in with.
#[derive(Clone)]
struct Person {
    session: Session,
    mobile: String,
}

struct Suite<'a> {
    app: &'a TestApp,
    next_mobile: u32,
    /// Every number a person of the suite logged in with.
    mobiles: Vec<String>,
}

impl Suite<'_> {
    /// A fresh test number (fixed code [`CODE`]).
    fn mobile(&mut self) -> String {
        self.next_mobile += 1;
        format!("137770{:05}", self.next_mobile)
    }

    async fn person(&mut self, nickname: &str) -> Person {
        let mobile = self.mobile();
        let session = session_from(&self.app.login_with(&mobile, CODE).await);
        self.app.init_profile(&session, nickname).await;
        self.mobiles.push(mobile.clone());
        Person { session, mobile }
    }
}

/// Per-row fixtures: owner H, member M, stranger S, blocked B, invitee I.
struct World {
    people: [Person; 4],
    vars: HashMap<&'static str, String>,
}

async fn world(suite: &mut Suite<'_>, shared: &HashMap<&'static str, String>) -> World {
    let h = suite.person("Host").await;
    let m = suite.person("Member").await;
    let s = suite.person("Stranger").await;
    let b = suite.person("Blocked").await;
    let i = suite.person("Invitee").await;
    let app = suite.app;
    let club = app.create_club(&h.session, "Club").await;
    let k = club["clubId"].as_str().unwrap().to_owned();
    for p in [&m, &b, &i] {
        app.join_club(&p.session, &k).await;
    }
    app.post_as(&h.session, &format!("/user/{}/block", b.session.uid))
        .await
        .ok();
    let room = app.create_room(&h.session, "Room", &k).await;
    let r = room["roomId"].as_str().unwrap().to_owned();
    app.room_token(&m.session, &r).await;
    let private = app.create_private_room(&h.session, "Private").await;
    let p = private["roomId"].as_str().unwrap().to_owned();
    let event_time = app.clock_now() + 86_400_000;
    let event = app
        .create_event(&h.session, "Event", event_time, &[&m.session.uid])
        .await;
    let mut vars = shared.clone();
    vars.insert("H", h.session.uid.clone());
    vars.insert("M", m.session.uid.clone());
    vars.insert("I", i.session.uid.clone());
    vars.insert("K", k);
    vars.insert("R", r);
    vars.insert("P", p);
    vars.insert("E", event["eventId"].as_str().unwrap().to_owned());
    vars.insert("T", (event_time + 3_600_000).to_string());
    World {
        people: [h, m, s, b],
        vars,
    }
}

/// How a cell's request is altered after signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alter {
    None,
    /// The sign's last hex digit changed.
    Sign,
    /// `ts` moved by 1 ms after signing (a parameter no longer matching the sign).
    Param,
}

fn method(row: &Row) -> Method {
    Method::from_bytes(row.method.as_bytes()).unwrap()
}

/// The row's request as `caller` sends it (signed, unless the route is open).
fn request(
    app: &TestApp,
    row: &Row,
    vars: &HashMap<&'static str, String>,
    session: Option<&Session>,
    alter: Alter,
) -> (String, Vec<(String, String)>) {
    let path = fill(row.path, vars);
    let mut call = app.call(method(row), &path);
    for (k, v) in row.params {
        call = call.param(k, fill(v, vars));
    }
    if let Some(s) = session {
        call = call.user(s);
    }
    if row.auth == Auth::Open {
        call = call.unsigned();
    }
    let mut params = call.signed_params();
    for (k, v) in &mut params {
        match (alter, k.as_str()) {
            (Alter::Sign, "sign") => {
                let last = if v.ends_with('0') { "1" } else { "0" };
                v.replace_range(v.len() - 1.., last);
            }
            (Alter::Param, "ts") => *v = (v.parse::<i64>().unwrap() + 1).to_string(),
            _ => {}
        }
    }
    (path, params)
}

async fn fire(
    app: &TestApp,
    row: &Row,
    path: &str,
    params: &[(String, String)],
    session: Option<&Session>,
) -> Resp {
    let mut req = app.client.request(method(row), app.url(path));
    req = if row.method == "GET" {
        req.query(params)
    } else {
        req.form(params)
    };
    if let Some(s) = session {
        req = req.header("Authorization", s.authorization());
    }
    send(req).await
}

/// Whether `res` is what `want` says; the reason otherwise.
fn verdict(res: &Resp, want: Want) -> Result<(), String> {
    let b = &res.body;
    let fine = match want {
        Want::Ok => res.status == 200 && b["status"] == 1,
        Biz(-1) => {
            res.status == 200
                && *b
                    == json!({"result": -1, "message": "短时间内重复调用(直接忽略请求)", "status": 0})
        }
        Biz(code) => {
            res.status == 200
                && b["status"] == 0
                && b["result"] == code
                && b["message"].as_str().is_some_and(|m| !m.is_empty())
        }
        Http(status) => {
            let prefix = match status {
                400 => "Params Not Valid",
                401 => "Authorized Failed",
                403 => "Forbidden",
                other => unreachable!("no protocol status {other} in the matrix"),
            };
            res.status == status
                && b["status"] == 0
                && b["result"] == 0
                && b["message"].as_str().is_some_and(|m| m.starts_with(prefix))
        }
        Na => unreachable!("Na cells are not sent"),
    };
    if fine {
        Ok(())
    } else {
        Err(format!(
            "want {want:?}, got HTTP {} {}",
            res.status, res.text
        ))
    }
}

#[derive(Default)]
struct Tally {
    cells: usize,
    failures: Vec<String>,
    /// The numbers of every person so far (see [`Suite::mobiles`]).
    mobiles: Vec<String>,
}

impl Tally {
    /// Checks the outcome, and that the response holds no number but the
    /// caller's (`own`; `None` for no caller).
    fn check(&mut self, row: &Row, caller: &str, res: &Resp, want: Want, own: Option<&str>) {
        self.cells += 1;
        if let Err(why) = verdict(res, want) {
            self.failures
                .push(format!("{} {} as {caller}: {why}", row.method, row.path));
        }
        if let Some(form) = crate::privacy::other_number_in(&res.text, own, &self.mobiles) {
            self.failures.push(format!(
                "{} {} as {caller}: another user's number {form} in {}",
                row.method, row.path, res.text
            ));
        }
    }
}

const RELATIONAL: [&str; 4] = ["owner", "member", "stranger", "blocked"];
/// Non-owners first: the host's own (destructive) call comes last.
const ORDER: [usize; 4] = [2, 3, 1, 0];

#[actix_web::test]
async fn authorization_matrix() {
    let site = FakeService::start().await;
    site.on(
        "/page",
        Reply::html("<html><head><title>A page</title></head><body>hi</body></html>"),
    );
    let allowed = format!("127.0.0.1:{}", site.addr.port());
    let app = spawn_huddle_with(move |c| {
        c.sms_test_numbers =
            huddle::config::TestNumbers::parse(&format!("86137770*:{CODE}")).unwrap();
        c.services.link_preview.allow = HashSet::from([allowed]);
    })
    .await;
    let mut suite = Suite {
        app: &app,
        next_mobile: 0,
        mobiles: Vec::new(),
    };

    // The route list is the server's own: every operation of /docs-json that
    // authenticates with an app session or a request sign (H5 and the
    // WebSocket aside), plus the open version check.
    let docs = send(app.client.get(app.url("/docs-json"))).await.body;
    let mut served = BTreeSet::new();
    for (path, ops) in docs["paths"].as_object().unwrap() {
        for (m, op) in ops.as_object().unwrap() {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let mobile = !path.starts_with("/h5/") && path != "/ws";
            if mobile && (secured || path == "/app/version/upgrade") {
                served.insert(format!("{} {path}", m.to_uppercase()));
            }
        }
    }
    let tabled: BTreeSet<String> = MATRIX
        .iter()
        .map(|r| format!("{} {}", r.method, docs_path(r.path)))
        .collect();
    assert_eq!(
        served, tabled,
        "the matrix must hold exactly the mobile API's routes"
    );

    // Universal callers. The expired session first: its clock runs out before
    // anyone else logs in.
    let expired = suite.person("Expired").await;
    app.clock
        .advance(i64::from(app.config.session_ttl_days) * 24 * 3600 * 1000);
    let revoked = suite.person("Revoked").await;
    app.post_as(&revoked.session, "/account/logout").await.ok();
    let frozen = suite.person("Frozen").await;
    let out = app.cli(&["account", "freeze", &frozen.session.uid]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let link = format!("{}/page", site.url());
    let mut shared: HashMap<&'static str, String> = HashMap::new();
    shared.insert("LINKMD5", hex::encode(Md5::digest(link.as_bytes())));
    shared.insert("LINK", link);
    shared.insert("JPUSH", "reg-authz-1".into());
    shared.insert("CODE", CODE.into());

    let mut tally = Tally::default();
    for row in MATRIX {
        let w = world(&mut suite, &shared).await;
        tally.mobiles.clone_from(&suite.mobiles);
        let as_person = |p: &Person| {
            let mut v = w.vars.clone();
            v.insert("MOBILE", p.mobile.clone());
            v
        };
        let owner = &w.people[0];
        let public = matches!(row.auth, Auth::Public { .. });
        // The session a caller sends (public routes: none; the mobile is the caller).
        let session_of = |p: &Person| (!public).then(|| p.session.clone());

        // -- universal cells --------------------------------------------------
        let frozen_want = match row.auth {
            Auth::User => FROZEN,
            Auth::Public { frozen } => frozen,
            Auth::Open => OK,
        };
        let vars = as_person(&frozen);
        let s = session_of(&frozen);
        let (path, params) = request(&app, row, &vars, s.as_ref(), Alter::None);
        let res = fire(&app, row, &path, &params, s.as_ref()).await;
        tally.check(
            row,
            "frozen account",
            &res,
            frozen_want,
            Some(&frozen.mobile),
        );

        if !public {
            let dead = match row.auth {
                Auth::Open => OK,
                _ => E401,
            };
            let vars = as_person(owner);
            let (path, params) = request(&app, row, &vars, None, Alter::None);
            let res = fire(&app, row, &path, &params, None).await;
            tally.check(row, "no session", &res, dead, None);
            for (who, p) in [("expired session", &expired), ("revoked session", &revoked)] {
                let (path, params) =
                    request(&app, row, &as_person(p), Some(&p.session), Alter::None);
                let res = fire(&app, row, &path, &params, Some(&p.session)).await;
                tally.check(row, who, &res, dead, Some(&p.mobile));
            }
        }
        if row.auth != Auth::Open {
            for (who, alter) in [
                ("tampered sign", Alter::Sign),
                ("tampered param", Alter::Param),
            ] {
                let s = session_of(owner);
                let (path, params) = request(&app, row, &as_person(owner), s.as_ref(), alter);
                let res = fire(&app, row, &path, &params, s.as_ref()).await;
                tally.check(row, who, &res, E401, Some(&owner.mobile));
            }
        }

        // -- relational cells, the owner last ----------------------------------
        let mut owner_request = None;
        for i in ORDER {
            let want = row.by[i];
            if want == Na {
                continue;
            }
            let p = &w.people[i];
            let s = session_of(p);
            let (path, params) = request(&app, row, &as_person(p), s.as_ref(), Alter::None);
            let res = fire(&app, row, &path, &params, s.as_ref()).await;
            tally.check(row, RELATIONAL[i], &res, want, Some(&p.mobile));
            if i == 0 {
                owner_request = Some((path, params, s));
            }
        }

        // -- the owner's request again -------------------------------------------
        if row.replay != Na {
            let (path, params, s) = owner_request.unwrap();
            let res = fire(&app, row, &path, &params, s.as_ref()).await;
            tally.check(row, "replayed sign", &res, row.replay, Some(&owner.mobile));
        }
    }

    eprintln!(
        "authz matrix: {} cells over {} rows",
        tally.cells,
        MATRIX.len()
    );
    assert!(
        tally.failures.is_empty(),
        "{} of {} cells differ from the contract:\n{}",
        tally.failures.len(),
        tally.cells,
        tally.failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Mass assignment: fields the API does not take are ignored (or refused), and
// never written.
// ---------------------------------------------------------------------------

/// The result of a call that may ignore extra fields (success) or refuse them
/// (400); `None` when refused.
#[track_caller]
fn accepted(res: &Resp) -> Option<Value> {
    if res.status == 400 {
        res.protocol(400, "Params Not Valid");
        None
    } else {
        Some(res.ok().clone())
    }
}

/// Extra fields a client could try to smuggle in, aimed at `victim`.
fn extras<'a>(call: Call<'a>, victim: &str, fake_id: &str) -> Call<'a> {
    call.param("uid", victim)
        .param("id", fake_id)
        .param("status", 0)
        .param("mobile", "13999999999")
        .param("countryCode", "1")
        .param("memberTotal", 999)
        .param("createTime", 1)
        .param("frozen", 0)
}

const FAKE_ID: &str = "00112233445566778899aabbccddeeff";

#[actix_web::test]
async fn mass_assignment_is_never_written() {
    let app = spawn_huddle().await;
    let a = app.user("13800880001", "Alice").await;
    let b = app.user("13800880002", "Bob").await;
    let now = app.clock_now();

    // -- profile init: the caller's own profile only --------------------------
    let c = app.login("13800880003").await;
    let init = app
        .post("/user/profile/init")
        .user(&c)
        .param("nickname", "Carol")
        .param("avatar", "https://cdn.example.com/c.jpg");
    let init = extras(init, &b.uid, FAKE_ID).send().await;
    if let Some(r) = accepted(&init) {
        assert_eq!(r["uid"], c.uid.as_str(), "{r}");
    }
    let bob = app.get_as(&a, &format!("/user/{}/profile", b.uid)).await;
    assert_eq!(
        bob.ok()["nickname"],
        "Bob",
        "another user's profile is untouched"
    );

    // -- profile update (form and JSON) ---------------------------------------
    for (i, t) in [Transport::Form, Transport::Json].into_iter().enumerate() {
        let nickname = format!("Alice{i}");
        let call = app
            .put("/user/profile")
            .user(&a)
            .via(t)
            .param("nickname", &nickname)
            .param("avatar", "https://cdn.example.com/a.jpg")
            .param("bio", "new bio")
            .json_param("cardTotal", json!(42))
            .json_param("blocked", json!(1));
        let res = extras(call, &b.uid, FAKE_ID).send().await;
        if let Some(r) = accepted(&res) {
            assert_eq!(r["uid"], a.uid.as_str(), "{r}");
            assert_eq!(r["nickname"], nickname.as_str(), "{r}");
            assert_eq!(r["blocked"], 0, "{r}");
        }
        let me = app.get_as(&b, &format!("/user/{}/profile", a.uid)).await;
        let me = me.ok();
        assert_eq!(me["uid"], a.uid.as_str());
        assert_eq!(me["blocked"], 0, "{me}");
        let cards = app
            .db_scalar(&format!(
                "SELECT COUNT(*) FROM cards WHERE owner_uid = '{}'",
                a.uid
            ))
            .await;
        assert_eq!(cards, 0, "cardTotal is counted, never written");
        let bob = app.get_as(&b, &format!("/user/{}/profile", b.uid)).await;
        assert_eq!(bob.ok()["nickname"], "Bob");
    }
    let stored = app
        .db_scalar(&format!(
            "SELECT COUNT(*) FROM accounts WHERE uid = '{}' AND mobile = '13800880001' \
             AND country_code = '86' AND frozen = 0",
            a.uid
        ))
        .await;
    assert_eq!(
        stored, 1,
        "mobile, country code and frozen stay as they were"
    );
    // the session still works: the account was not frozen through `frozen`/`status`
    app.get_as(&a, "/user/message/unread_total").await.ok();

    // -- club create ----------------------------------------------------------
    let call = app
        .post("/club")
        .user(&a)
        .param("name", "Mine")
        .param("cover", "https://cdn.example.com/k.jpg")
        .param("clubId", FAKE_ID)
        .param("joined", 0);
    let res = extras(call, &b.uid, FAKE_ID).send().await;
    let club_id = match accepted(&res) {
        Some(r) => r["clubId"].as_str().unwrap().to_owned(),
        None => app.create_club(&a, "Mine").await["clubId"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    assert_ne!(club_id, FAKE_ID);
    let club = app.get(&format!("/club/{club_id}")).user(&a).send().await;
    let club = club.ok();
    assert_eq!(club["uid"], a.uid.as_str(), "{club}");
    assert_eq!(club["memberTotal"], 1, "{club}");
    assert_eq!(club["createTime"], now, "{club}");
    assert_eq!(club["joined"], 1, "{club}");
    app.get_as(&a, &format!("/club/{FAKE_ID}"))
        .await
        .business(500000);
    // Bob was not made a member (nor the owner) of it
    let bobs = app.get("/club").user(&b).param("count", 10).send().await;
    assert_eq!(bobs.ok()["list"], json!([]), "{}", bobs.text);

    // -- club update: the API has none --------------------------------------
    for m in [Method::PUT, Method::PATCH] {
        let res = app
            .call(m, &format!("/club/{club_id}"))
            .user(&a)
            .param("name", "Renamed")
            .param("uid", &b.uid)
            .send()
            .await;
        res.protocol(405, "Method Not Allowed");
    }
    let club = app.get(&format!("/club/{club_id}")).user(&a).send().await;
    assert_eq!(club.ok()["name"], "Mine");

    // -- room create ----------------------------------------------------------
    let call = app
        .post("/room")
        .user(&a)
        .param("name", "Live")
        .param("clubId", &club_id)
        .param("roomId", FAKE_ID)
        .param("closed", 1)
        .param("memberList", json!([b.uid]).to_string());
    let res = extras(call, &b.uid, FAKE_ID).send().await;
    let room_id = match accepted(&res) {
        Some(r) => {
            assert_eq!(r["uid"], a.uid.as_str(), "{r}");
            assert_eq!(r["createTime"], now, "{r}");
            r["roomId"].as_str().unwrap().to_owned()
        }
        None => app.create_room(&a, "Live", &club_id).await["roomId"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    assert_ne!(room_id, FAKE_ID);
    let room = app.room(&a, &room_id).await;
    assert_eq!(room["uid"], a.uid.as_str(), "{room}");
    assert_eq!(room["createTime"], now, "{room}");
    assert_eq!(room["memberTotal"], 0, "{room}");
    assert_eq!(room["memberList"], json!([]), "{room}");
    assert_eq!(room["clubId"], club_id.as_str(), "{room}");
    // not closed: the host can still take a token
    app.room_token(&a, &room_id).await;
    app.get_as(&a, &format!("/room/{FAKE_ID}"))
        .await
        .business(400000);
    // Bob is not its host
    app.post_as(&b, &format!("/room/{room_id}/close"))
        .await
        .protocol(403, "Forbidden");

    // -- event create and update ---------------------------------------------
    let event_time = now + 86_400_000;
    // An event's fields by A, plus fields a client must not be able to set.
    fn event_call<'a>(call: Call<'a>, a: &Session, b: &Session, name: &str, at: i64) -> Call<'a> {
        let call = call
            .user(a)
            .param("name", name)
            .param("desc", "about")
            .param("eventTime", at)
            .param("memberUidList", json!([a.uid]).to_string())
            .param("eventId", FAKE_ID)
            .param("eventTimeStatus", 1)
            .param("roomId", FAKE_ID)
            .param("notify", 1);
        extras(call, &b.uid, FAKE_ID)
    }
    let res = event_call(app.post("/event"), &a, &b, "Talk", event_time)
        .send()
        .await;
    let event_id = match accepted(&res) {
        Some(r) => {
            assert_event(&r, false);
            r["eventId"].as_str().unwrap().to_owned()
        }
        None => app.create_event(&a, "Talk", event_time, &[&a.uid]).await["eventId"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    assert_ne!(event_id, FAKE_ID);
    let check_event = |e: &Value| {
        assert_event(e, false);
        assert_eq!(e["uid"], a.uid.as_str(), "{e}");
        assert_eq!(e["createTime"], now, "{e}");
        assert_eq!(e["notify"], 0, "{e}");
        assert_eq!(e["memberUidList"], json!([a.uid]), "{e}");
    };
    let e = app.get(&format!("/event/{event_id}")).user(&a).send().await;
    check_event(e.ok());
    app.get_as(&a, &format!("/event/{FAKE_ID}"))
        .await
        .business(600000);

    app.clock.advance(1_000);
    let put = app.put(&format!("/event/{event_id}"));
    let res = event_call(put, &a, &b, "Talk 2", event_time).send().await;
    if let Some(r) = accepted(&res) {
        check_event(&r);
        assert_eq!(r["name"], "Talk 2");
    }
    let e = app.get(&format!("/event/{event_id}")).user(&a).send().await;
    check_event(e.ok());
    // ownership did not move to Bob
    app.delete_as(&b, &format!("/event/{event_id}"))
        .await
        .protocol(403, "Forbidden");
}
