//! The five scenarios: set-up (sign-in, rooms, connects, joins), the drive,
//! the settle, and the numbers and checks they report.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::api::{self, Api, User};
use crate::conn::{self, Cmd, ConnReport, ConnSpec, Proto, World};
use crate::stats::{round1, round3, Stats};
use crate::{Ctx, Scenario, Target};

/// Prints counters to stderr every 5 s.
pub async fn progress(ctx: Arc<Ctx>) {
    let s = &ctx.stats;
    let mut last = (0u64, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let d = Stats::get(&s.deliveries);
        let dt = last.1.elapsed().as_secs_f64();
        let rate = if dt > 0.0 {
            (d - last.0) as f64 / dt
        } else {
            0.0
        };
        last = (d, Instant::now());
        let phase = ctx.phase.lock().map(|p| p.clone()).unwrap_or_default();
        eprintln!(
            "loadgen: [{:>7.1}s] {phase}: sent {}, deliveries {d} ({rate:.0}/s), seq gaps {}, errors {}",
            ctx.epoch.elapsed().as_secs_f64(),
            Stats::get(&s.events_sent),
            Stats::get(&s.seq_gaps),
            s.errors_total()
        );
    }
}

pub async fn run(ctx: Arc<Ctx>) -> anyhow::Result<()> {
    match ctx.p.scenario {
        Scenario::Rest => rest(ctx).await,
        _ => ws_scenario(ctx).await,
    }
}

fn secs(d: Duration) -> f64 {
    round3(d.as_secs_f64())
}

fn per_s(n: u64, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    if s > 0.0 {
        round1(n as f64 / s)
    } else {
        0.0
    }
}

/// The huddle API client for this run's server, sources and test numbers.
fn huddle_api(ctx: &Ctx) -> anyhow::Result<Arc<Api>> {
    let p = &ctx.p;
    Ok(Arc::new(Api::new(
        &p.server,
        &p.sources,
        p.country_code.clone(),
        p.mobile_base,
        p.code.clone(),
    )?))
}

/// Signs in the host (user 0) and `count` users; failures are counted and
/// leave a `None`.
async fn sign_in_all(
    ctx: &Arc<Ctx>,
    api: &Arc<Api>,
    count: usize,
) -> anyhow::Result<(Arc<User>, Vec<Option<Arc<User>>>)> {
    let p = &ctx.p;
    ctx.phase(&format!(
        "signing in {} users (concurrency {})",
        count + 1,
        p.signin_concurrency
    ));
    let start = Instant::now();
    let host = api
        .sign_in(p.user_offset)
        .await
        .map_err(|e| anyhow!("the host could not sign in: {e}"))?;
    let sem = Arc::new(Semaphore::new(p.signin_concurrency));
    let mut set = JoinSet::new();
    for i in 0..count {
        let (api, sem) = (api.clone(), sem.clone());
        let index = p.user_offset + 1 + i as u64;
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            (i, api.sign_in(index).await)
        });
    }
    let mut users: Vec<Option<Arc<User>>> = vec![None; count];
    let mut done = 0usize;
    while let Some(r) = set.join_next().await {
        if let Ok((i, r)) = r {
            match r {
                Ok(u) => users[i] = Some(Arc::new(u)),
                Err(e) => ctx
                    .stats
                    .error_with(&format!("signin_{}", e.kind), e.message),
            }
        }
        done += 1;
        if done % 5000 == 0 {
            eprintln!("loadgen: signed in {done}/{count}");
        }
    }
    let took = start.elapsed();
    let ok = users.iter().filter(|u| u.is_some()).count() as u64 + 1;
    ctx.set(
        "signin",
        json!({"users": count + 1, "ok": ok, "seconds": secs(took), "rate_per_s": per_s(ok, took)}),
    );
    ctx.set("signin_rate_per_s", per_s(ok, took));
    if ok < 2 && count > 0 {
        bail!("no user could sign in");
    }
    Ok((Arc::new(host), users))
}

/// The host opens a club and `n` rooms in it.
async fn create_rooms(
    ctx: &Arc<Ctx>,
    api: &Arc<Api>,
    host: &Arc<User>,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    ctx.phase(&format!("creating a club and {n} rooms"));
    let start = Instant::now();
    let club = api
        .create_club(host, &format!("bench {}", api::now_ms() % 1_000_000_000))
        .await
        .map_err(|e| anyhow!("create club: {e}"))?;
    let sem = Arc::new(Semaphore::new(8));
    let mut set = JoinSet::new();
    for r in 0..n {
        let (api, host, club, sem) = (api.clone(), host.clone(), club.clone(), sem.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            (
                r,
                api.create_room(&host, &format!("bench room {r}"), &club)
                    .await,
            )
        });
    }
    let mut rooms = vec![String::new(); n];
    while let Some(res) = set.join_next().await {
        let (r, res) = res?;
        rooms[r] = res.map_err(|e| anyhow!("create room: {e}"))?;
    }
    ctx.set("rooms_create_s", secs(start.elapsed()));
    Ok(rooms)
}

/// Running connections.
struct Conns {
    senders: Vec<Option<mpsc::Sender<Cmd>>>,
    handles: Vec<JoinHandle<ConnReport>>,
    connected: Vec<bool>,
}

impl Conns {
    fn sender(&self, i: usize) -> Option<mpsc::Sender<Cmd>> {
        self.senders.get(i).cloned().flatten()
    }
}

/// Spawns a task per spec (None: no identity, not started) and waits until
/// each connected or failed.
async fn connect_all(ctx: &Arc<Ctx>, world: &Arc<World>, specs: Vec<Option<ConnSpec>>) -> Conns {
    let n = specs.len();
    ctx.phase(&format!(
        "connecting {n} sessions (concurrency {})",
        ctx.p.connect_concurrency
    ));
    let sem = Arc::new(Semaphore::new(ctx.p.connect_concurrency));
    let start = Instant::now();
    let mut senders = Vec::with_capacity(n);
    let mut handles = Vec::with_capacity(n);
    let mut readies = Vec::with_capacity(n);
    for spec in specs {
        match spec {
            Some(spec) => {
                let (tx, rx) = mpsc::channel(1024);
                let (rtx, rrx) = oneshot::channel();
                handles.push(tokio::spawn(conn::run(
                    world.clone(),
                    spec,
                    sem.clone(),
                    rtx,
                    rx,
                )));
                senders.push(Some(tx));
                readies.push(Some(rrx));
            }
            None => {
                senders.push(None);
                readies.push(None);
            }
        }
    }
    let mut connected = vec![false; n];
    let mut ok = 0u64;
    for (i, r) in readies.into_iter().enumerate() {
        let Some(r) = r else { continue };
        match r.await {
            Ok(Ok(())) => {
                connected[i] = true;
                ok += 1;
            }
            Ok(Err((kind, msg))) => {
                if kind != "stopped" {
                    ctx.stats.error("connect");
                    ctx.stats.error_with(kind, msg);
                }
            }
            Err(_) => ctx.stats.error("connect"),
        }
        if (i + 1) % 5000 == 0 {
            eprintln!("loadgen: connected {ok}/{}", i + 1);
        }
    }
    let took = start.elapsed();
    for (i, c) in connected.iter().enumerate() {
        if !c {
            senders[i] = None;
        }
    }
    ctx.set("connected", ok);
    ctx.set("connect_s", secs(took));
    ctx.set("connect_rate_per_s", per_s(ok, took));
    Conns {
        senders,
        handles,
        connected,
    }
}

/// One join: the voice token (huddle) then the WebSocket join.
async fn join_one(
    api: Option<&Api>,
    user: Option<&User>,
    room_id: &str,
    sender: &mpsc::Sender<Cmd>,
    room: usize,
    stats: &Stats,
) -> bool {
    if let (Some(api), Some(user)) = (api, user) {
        if let Err(e) = api.room_token(user, room_id).await {
            stats.error("join");
            stats.error_with(&format!("token_{}", e.kind), e.message);
            return false;
        }
    }
    let (tx, rx) = oneshot::channel();
    if sender.send(Cmd::Join { room, reply: tx }).await.is_err() {
        stats.error("join");
        return false;
    }
    match tokio::time::timeout(Duration::from_secs(60), rx).await {
        Ok(Ok(Ok(_seq))) => true,
        Ok(Ok(Err(e))) => {
            stats.error("join");
            stats.error_with("join_refused", e);
            false
        }
        Ok(Err(_)) => {
            stats.error("join");
            false
        }
        Err(_) => {
            stats.error("join");
            stats.error_with("join_timeout", "no join answer within 60 s");
            false
        }
    }
}

/// Joins every (connection, room) with bounded concurrency; answers which joined.
async fn join_all(
    ctx: &Arc<Ctx>,
    world: &Arc<World>,
    conns: &Conns,
    api: Option<Arc<Api>>,
    users: &[Option<Arc<User>>],
    assign: &[(usize, usize)],
) -> Vec<bool> {
    ctx.phase(&format!(
        "joining {} sessions to {} rooms (concurrency {})",
        assign.len(),
        world.rooms.len(),
        ctx.p.join_concurrency
    ));
    let sem = Arc::new(Semaphore::new(ctx.p.join_concurrency));
    let start = Instant::now();
    let mut set = JoinSet::new();
    for &(i, room) in assign {
        let Some(sender) = conns.sender(i) else {
            continue;
        };
        let user = users.get(i).cloned().flatten();
        let (api, sem, world) = (api.clone(), sem.clone(), world.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let t0 = Instant::now();
            let ok = join_one(
                api.as_deref(),
                user.as_deref(),
                &world.rooms[room],
                &sender,
                room,
                &world.stats,
            )
            .await;
            if ok {
                world
                    .stats
                    .op_latency
                    .record(i, t0.elapsed().as_micros() as u64);
            }
            (i, ok)
        });
    }
    let mut joined = vec![false; conns.connected.len()];
    let mut ok = 0u64;
    while let Some(r) = set.join_next().await {
        if let Ok((i, true)) = r {
            joined[i] = true;
            ok += 1;
            if ok % 5000 == 0 {
                eprintln!("loadgen: joined {ok}/{}", assign.len());
            }
        }
    }
    let took = start.elapsed();
    ctx.set("joined", ok);
    ctx.set("join_s", secs(took));
    ctx.set("join_rate_per_s", per_s(ok, took));
    joined
}

struct Emitter {
    conn: usize,
    room: usize,
    slot: usize,
}

/// Sends `rate` events/s in total, round robin over the emitters, for
/// `duration`; answers how long it drove and how many events it queued.
async fn drive(
    ctx: &Arc<Ctx>,
    conns: &Conns,
    emitters: &[Emitter],
    counts: &mut [u32],
    rate: f64,
    duration: f64,
) -> (Duration, u64) {
    ctx.phase(&format!(
        "driving {rate} events/s over {} emitters for {duration} s",
        emitters.len()
    ));
    let start = Instant::now();
    if emitters.is_empty() {
        return (Duration::ZERO, 0);
    }
    let dur = Duration::from_secs_f64(duration);
    let senders: Vec<Option<mpsc::Sender<Cmd>>> =
        emitters.iter().map(|e| conns.sender(e.conn)).collect();
    let mut sent = 0u64;
    let mut queued = 0u64;
    let mut rr = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if ctx.stopped() {
            break;
        }
        let el = start.elapsed();
        let due = (el.min(dur).as_secs_f64() * rate).floor() as u64;
        while sent < due {
            let e = &emitters[rr];
            let cmd = Cmd::Emit {
                room: e.room,
                slot: e.slot,
                n: counts[rr],
            };
            match senders[rr].as_ref().map(|s| s.try_send(cmd)) {
                Some(Ok(())) => {
                    counts[rr] += 1;
                    queued += 1;
                }
                _ => ctx.stats.error("emit_not_sent"),
            }
            rr = (rr + 1) % emitters.len();
            sent += 1;
        }
        if el >= dur {
            break;
        }
    }
    (start.elapsed(), queued)
}

/// Σ over rooms of events × joined connections.
fn expected_deliveries(world: &World) -> u64 {
    world
        .room_events
        .iter()
        .zip(&world.room_members)
        .map(|(e, m)| e.load(Ordering::Relaxed) * m.load(Ordering::Relaxed))
        .sum()
}

/// Waits up to `secs` until the `queued` events are sent (and, on huddle,
/// answered) and every expected delivery arrived.
async fn settle_deliveries(ctx: &Arc<Ctx>, world: &World, queued: u64, secs: f64) {
    ctx.phase("settling");
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let s = &world.stats;
    while Instant::now() < end && !ctx.stopped() {
        let sent = Stats::get(&s.events_sent) >= queued;
        let acked = world.proto != Proto::Huddle
            || Stats::get(&s.events_acked) + s.error_count("hand_unchanged") >= queued;
        if sent && acked && Stats::get(&s.deliveries) >= expected_deliveries(world) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Stops every connection and collects what they saw.
async fn stop_all(ctx: &Arc<Ctx>, conns: Conns) -> Vec<ConnReport> {
    ctx.phase("closing");
    let _ = ctx.stop_tx.send(true);
    drop(conns.senders);
    let mut reports = Vec::with_capacity(conns.handles.len());
    let deadline = Instant::now() + Duration::from_secs(20);
    for h in conns.handles {
        let left = deadline.saturating_duration_since(Instant::now());
        if let Ok(Ok(r)) = tokio::time::timeout(left, h).await {
            reports.push(r);
        }
    }
    reports
}

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(0)
}

async fn ws_scenario(ctx: Arc<Ctx>) -> anyhow::Result<()> {
    let p = ctx.p.clone();
    let proto = match p.target {
        Target::Huddle => Proto::Huddle,
        Target::Ws => Proto::Ws,
        Target::Socketio => Proto::SocketIo,
        Target::Plain => bail!("--target plain is for the rest scenario"),
    };
    let server_addr = p
        .server_addr
        .ok_or_else(|| anyhow!("--server is required"))?;
    // Layout: connections, rooms, emitters.
    let (n_conns, n_rooms) = match p.scenario {
        Scenario::Fanout => (p.sessions + p.emitters, 1),
        Scenario::Rooms | Scenario::Capacity => (p.sessions, p.sessions.div_ceil(p.room_size)),
        Scenario::JoinStorm => (p.sessions, 1),
        Scenario::Rest => bail!("not a WebSocket scenario"),
    };
    let room_of = |i: usize| match p.scenario {
        Scenario::Rooms | Scenario::Capacity => i / p.room_size,
        _ => 0,
    };
    ctx.set("sessions", n_conns as u64);
    ctx.set("rooms", n_rooms as u64);
    match p.scenario {
        Scenario::Fanout => {
            ctx.set("listeners", p.sessions as u64);
            ctx.set("emitters", p.emitters as u64);
            ctx.set("rate_per_s", p.rate);
        }
        Scenario::Rooms => {
            ctx.set("room_size", p.room_size as u64);
            ctx.set("rate_per_room_per_s", p.rate);
        }
        Scenario::Capacity => ctx.set("room_size", p.room_size as u64),
        _ => {}
    }

    // Identities and rooms.
    let (api, users, room_ids) = if proto == Proto::Huddle {
        let api = huddle_api(&ctx)?;
        let (host, users) = sign_in_all(&ctx, &api, n_conns).await?;
        let rooms = create_rooms(&ctx, &api, &host, n_rooms).await?;
        (Some(api), users, rooms)
    } else {
        let run_id = api::now_ms() % 1_000_000_000;
        let rooms = (0..n_rooms)
            .map(|r| format!("bench-{run_id}-{r}"))
            .collect();
        (None, vec![None; n_conns], rooms)
    };
    let wire_uid = |i: usize| -> Option<String> {
        match proto {
            Proto::Huddle => users[i].as_ref().map(|u| u.uid.clone()),
            _ => Some(format!("u{}", p.user_offset + 1 + i as u64)),
        }
    };

    // Emitters (fanout: the first E connections; rooms: the first member of each room).
    let emitter_conns: Vec<usize> = match p.scenario {
        Scenario::Fanout => (0..p.emitters).collect(),
        Scenario::Rooms => (0..n_rooms).map(|r| r * p.room_size).collect(),
        _ => Vec::new(),
    };
    let total_rate = match p.scenario {
        Scenario::Rooms => p.rate * n_rooms as f64,
        _ => p.rate,
    };
    let searched = p
        .search
        .as_ref()
        .map_or(0.0, |s| s.max_rate * s.step_s * s.steps as f64);
    let per_slot = if emitter_conns.is_empty() {
        0
    } else {
        ((total_rate * p.duration + searched) / emitter_conns.len() as f64).ceil() as usize + 16
    };
    let mut emitter_slots = HashMap::new();
    for (slot, &c) in emitter_conns.iter().enumerate() {
        if let Some(uid) = wire_uid(c) {
            emitter_slots.insert(uid, slot);
        }
    }
    let sends = if proto == Proto::Huddle {
        emitter_conns
            .iter()
            .map(|_| {
                (0..per_slot)
                    .map(|_| AtomicU64::new(0))
                    .collect::<Box<[AtomicU64]>>()
            })
            .collect()
    } else {
        Vec::new()
    };
    let storm = (p.scenario == Scenario::JoinStorm).then(|| {
        (0..n_conns)
            .filter_map(|i| wire_uid(i).map(|u| (u, i as u32)))
            .collect::<HashMap<String, u32>>()
    });
    let mut room_index = HashMap::new();
    for (r, id) in room_ids.iter().enumerate() {
        room_index.insert(id.clone(), r);
    }
    let atomics = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect::<Vec<_>>();
    let world = Arc::new(World {
        proto,
        server: p.server.clone(),
        server_addr,
        stats: ctx.stats.clone(),
        epoch: Instant::now(),
        rooms: room_ids,
        room_index,
        room_events: atomics(n_rooms),
        room_members: atomics(n_rooms),
        room_max_seq: atomics(n_rooms),
        emitter_slots,
        sends,
        storm,
        storm_users: n_conns,
        join_sent: if p.scenario == Scenario::JoinStorm {
            atomics(n_conns)
        } else {
            Vec::new()
        },
        conn_last_seq: atomics(n_conns),
        stop: ctx.stop_tx.subscribe(),
        ws_config: ws_config(),
    });
    let specs: Vec<Option<ConnSpec>> = (0..n_conns)
        .map(|i| {
            let uid = wire_uid(i)?;
            Some(ConnSpec {
                idx: i,
                uid,
                user: users[i].clone(),
                source: (!p.sources.is_empty()).then(|| p.sources[i % p.sources.len()]),
            })
        })
        .collect();

    if p.scenario == Scenario::Capacity {
        ctx.mark("before");
    }
    let conns = connect_all(&ctx, &world, specs).await;
    let connected = conns.connected.iter().filter(|c| **c).count();
    ctx.check("all_connected", connected == n_conns);

    if p.scenario == Scenario::JoinStorm {
        return join_storm(&ctx, &world, conns, api, &users).await;
    }

    let assign: Vec<(usize, usize)> = (0..n_conns).map(|i| (i, room_of(i))).collect();
    let joined = join_all(&ctx, &world, &conns, api.clone(), &users, &assign).await;
    let n_joined = joined.iter().filter(|j| **j).count();
    ctx.check("all_joined", n_joined == n_conns);
    ctx.set("join_latency_ms", ctx.stats.op_latency.summary_ms());

    if p.scenario == Scenario::Capacity {
        ctx.mark("after");
        ctx.set(
            "rss_per_session_kb",
            json!(ctx.rss_per_session_kb(n_joined as u64)),
        );
        let closed_before = ctx.stats.error_count("ws_closed");
        ctx.phase(&format!(
            "holding {n_joined} idle sessions for {} s",
            p.duration
        ));
        let hold = Instant::now();
        let until = hold + Duration::from_secs_f64(p.duration);
        while Instant::now() < until && !ctx.stopped() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        ctx.mark("hold_end");
        let dropped = ctx.stats.error_count("ws_closed") - closed_before;
        ctx.set("hold_s", secs(hold.elapsed()));
        ctx.set("dropped_during_hold", dropped);
        ctx.check("no_drops", dropped == 0);
        ctx.check("no_errors", ctx.stats.errors_total() == 0);
        stop_all(&ctx, conns).await;
        return Ok(());
    }

    // fanout, rooms: drive and settle.
    let emitters: Vec<Emitter> = emitter_conns
        .iter()
        .enumerate()
        .filter(|(_, &c)| joined[c])
        .map(|(slot, &c)| Emitter {
            conn: c,
            room: room_of(c),
            slot,
        })
        .collect();
    if emitters.len() < emitter_conns.len() {
        eprintln!(
            "loadgen: warning: {} of {} emitters did not join; their share of the rate is not sent",
            emitter_conns.len() - emitters.len(),
            emitter_conns.len()
        );
    }
    let rate = total_rate * emitters.len() as f64 / emitter_conns.len().max(1) as f64;
    ctx.mark("before");
    let drive_start_us = world.now_us();
    let mut counts = vec![0u32; emitters.len()];
    let (drove, queued) = drive(&ctx, &conns, &emitters, &mut counts, rate, p.duration).await;
    settle_deliveries(&ctx, &world, queued, p.settle).await;
    ctx.mark("after");
    let s = &ctx.stats;
    let deliveries = Stats::get(&s.deliveries);
    let expected = expected_deliveries(&world);
    let last = Stats::get(&s.last_delivery_us).saturating_sub(drive_start_us);
    let span = Duration::from_micros(last).max(drove);
    let events: u64 = world
        .room_events
        .iter()
        .map(|e| e.load(Ordering::Relaxed))
        .sum();
    ctx.set("duration_s", secs(drove));
    ctx.set("events_sent", Stats::get(&s.events_sent));
    if proto == Proto::Huddle {
        ctx.set("events_acked", Stats::get(&s.events_acked));
    }
    ctx.set("events", events);
    ctx.set("events_per_s", per_s(events, drove));
    ctx.set("deliveries", deliveries);
    ctx.set("expected_deliveries", expected);
    ctx.set(
        "delivery_ratio",
        if expected > 0 {
            (deliveries as f64 / expected as f64 * 10_000.0).round() / 10_000.0
        } else {
            0.0
        },
    );
    ctx.set("deliveries_per_s", per_s(deliveries, span));
    ctx.set("latency_ms", s.latency.summary_ms());
    ctx.set("seq_gaps", Stats::get(&s.seq_gaps));
    ctx.set("seq_missing", Stats::get(&s.seq_missing));
    ctx.set("seq_out_of_order", Stats::get(&s.seq_out_of_order));
    if proto == Proto::Huddle {
        ctx.set("latency_unmatched", Stats::get(&s.latency_unmatched));
    }
    ctx.check(
        "no_seq_gaps",
        Stats::get(&s.seq_gaps) == 0 && Stats::get(&s.seq_out_of_order) == 0,
    );
    ctx.check("events_sent", events > 0);
    ctx.check("all_delivered", expected > 0 && deliveries == expected);
    ctx.check("no_errors", s.errors_total() == 0);
    if let Some(search) = &p.search {
        let mut driver = Driver {
            conns: &conns,
            emitters: &emitters,
            counts,
            queued,
        };
        let found = rate_search(&ctx, &world, &mut driver, search).await;
        ctx.set("search", found);
    }
    stop_all(&ctx, conns).await;
    Ok(())
}

/// What keeps emitting across the steps of a rate search.
struct Driver<'a> {
    conns: &'a Conns,
    emitters: &'a [Emitter],
    /// Events sent so far per emitter (they index the send-time slots).
    counts: Vec<u32>,
    /// Events queued since the start.
    queued: u64,
}

/// One step of the search: `rate` events/s for the step's seconds, then
/// settling. Passes when every event reached every listener, nothing failed,
/// and the step's p99 stayed within the target.
async fn search_step(
    ctx: &Arc<Ctx>,
    world: &World,
    d: &mut Driver<'_>,
    search: &crate::Search,
    rate: f64,
) -> (bool, Value) {
    let s = &world.stats;
    let (deliveries0, expected0, errors0) = (
        Stats::get(&s.deliveries),
        expected_deliveries(world),
        s.errors_total(),
    );
    let latency0 = s.latency.merged();
    let (drove, queued) = drive(ctx, d.conns, d.emitters, &mut d.counts, rate, search.step_s).await;
    d.queued += queued;
    settle_deliveries(ctx, world, d.queued, ctx.p.settle).await;
    let deliveries = Stats::get(&s.deliveries) - deliveries0;
    let expected = expected_deliveries(world) - expected0;
    let errors = s.errors_total() - errors0;
    let mut latency = s.latency.merged();
    let _ = latency.subtract(&latency0);
    let p99_ms = latency.value_at_quantile(0.99) as f64 / 1000.0;
    let ok = errors == 0 && expected > 0 && deliveries == expected && p99_ms <= search.p99_ms;
    let step = json!({
        "rate_per_s": rate,
        "deliveries": deliveries,
        "expected_deliveries": expected,
        "deliveries_per_s": per_s(deliveries, drove),
        "latency_ms": crate::stats::summary_ms(&latency),
        "errors": errors,
        "ok": ok,
    });
    (ok, step)
}

/// fanout --search: doubles the rate from --rate while steps pass, then
/// bisects between the best pass and the first failure until they are within
/// 15% of each other. Reports every step and the best passing one.
async fn rate_search(
    ctx: &Arc<Ctx>,
    world: &World,
    d: &mut Driver<'_>,
    search: &crate::Search,
) -> Value {
    let mut steps = Vec::new();
    let mut best: Option<(f64, Value)> = None;
    let mut failed: Option<f64> = None;
    let mut rate = ctx.p.rate;
    for _ in 0..search.steps {
        if ctx.stopped() {
            break;
        }
        ctx.phase(&format!("search: {rate:.0} events/s"));
        let (ok, step) = search_step(ctx, world, d, search, rate).await;
        if ok {
            best = Some((rate, step["deliveries_per_s"].clone()));
        } else {
            failed = Some(failed.map_or(rate, |f: f64| f.min(rate)));
        }
        steps.push(step);
        let good = best.as_ref().map(|(r, _)| *r);
        rate = match (good, failed) {
            (Some(g), None) if g * 2.0 <= search.max_rate => g * 2.0,
            (Some(_), None) => break,
            (Some(g), Some(f)) if f > g * 1.15 => (g + f) / 2.0,
            (None, Some(f)) if f / 2.0 >= 1.0 => f / 2.0,
            _ => break,
        }
        .round();
    }
    let (rate, deliveries_per_s) = match best {
        Some((r, d)) => (json!(r), d),
        None => (Value::Null, Value::Null),
    };
    json!({
        "p99_target_ms": search.p99_ms,
        "step_s": search.step_s,
        "sustained_rate_per_s": rate,
        "sustained_deliveries_per_s": deliveries_per_s,
        "steps": steps,
    })
}

/// join-storm: every connected user takes a token (huddle) and joins one room,
/// starts spread evenly over the window; then checks what every member saw.
/// For the peers (no membership events) each joiner announces itself with an
/// emit right after its join; the announcements play the member_joined role.
async fn join_storm(
    ctx: &Arc<Ctx>,
    world: &Arc<World>,
    conns: Conns,
    api: Option<Arc<Api>>,
    users: &[Option<Arc<User>>],
) -> anyhow::Result<()> {
    let p = &ctx.p;
    let n = conns.connected.len();
    let candidates: Vec<usize> = (0..n).filter(|&i| conns.connected[i]).collect();
    ctx.set("users", n as u64);
    ctx.set("window_s", p.duration);
    ctx.phase(&format!(
        "join storm: {} users over {} s (at most {} in flight)",
        candidates.len(),
        p.duration,
        p.join_concurrency
    ));
    let members: Arc<Vec<AtomicBool>> = Arc::new((0..n).map(|_| AtomicBool::new(false)).collect());
    let joined: Arc<Vec<AtomicBool>> = Arc::new((0..n).map(|_| AtomicBool::new(false)).collect());
    let sem = Arc::new(Semaphore::new(p.join_concurrency));
    ctx.mark("before");
    let start = Instant::now();
    let start_us = world.now_us();
    let last_done = Arc::new(AtomicU64::new(0));
    let window = Duration::from_secs_f64(p.duration);
    let count = candidates.len().max(1);
    let mut set = JoinSet::new();
    for (k, &i) in candidates.iter().enumerate() {
        let Some(sender) = conns.sender(i) else {
            continue;
        };
        let at = tokio::time::Instant::from_std(start) + window.mul_f64(k as f64 / count as f64);
        let user = users.get(i).cloned().flatten();
        let (api, sem, world) = (api.clone(), sem.clone(), world.clone());
        let (members, joined, last_done) = (members.clone(), joined.clone(), last_done.clone());
        set.spawn(async move {
            tokio::time::sleep_until(at).await;
            let _permit = sem.acquire_owned().await;
            let t0 = Instant::now();
            if let (Some(api), Some(user)) = (api.as_deref(), user.as_deref()) {
                world.join_sent[i].store(world.now_us() + 1, Ordering::Release);
                if let Err(e) = api.room_token(user, &world.rooms[0]).await {
                    world.stats.error("join");
                    world
                        .stats
                        .error_with(&format!("token_{}", e.kind), e.message);
                    return;
                }
                members[i].store(true, Ordering::Relaxed);
            }
            if !join_one(None, None, &world.rooms[0], &sender, 0, &world.stats).await {
                return;
            }
            joined[i].store(true, Ordering::Relaxed);
            world
                .stats
                .op_latency
                .record(i, t0.elapsed().as_micros() as u64);
            if world.proto != Proto::Huddle {
                let announce = Cmd::Emit {
                    room: 0,
                    slot: usize::MAX,
                    n: 0,
                };
                if sender.send(announce).await.is_ok() {
                    members[i].store(true, Ordering::Relaxed);
                } else {
                    world.stats.error("emit_not_sent");
                }
            }
            last_done.fetch_max(world.now_us(), Ordering::Relaxed);
        });
    }
    while set.join_next().await.is_some() {}
    let storm = Duration::from_micros(last_done.load(Ordering::Relaxed).saturating_sub(start_us));
    let n_joined = joined.iter().filter(|j| j.load(Ordering::Relaxed)).count();
    let n_members = members.iter().filter(|m| m.load(Ordering::Relaxed)).count();
    ctx.set("joined", n_joined as u64);
    ctx.set("members", n_members as u64);
    ctx.set("storm_s", secs(storm));
    ctx.set("join_rate_per_s", per_s(n_joined as u64, storm));
    ctx.set("join_latency_ms", ctx.stats.op_latency.summary_ms());

    // Settle: every joined connection reaches the room's last seq (stable for 0.5 s).
    ctx.phase("settling");
    let end = Instant::now() + Duration::from_secs_f64(p.settle.max(1.0));
    let mut stable_since: Option<(u64, Instant)> = None;
    while Instant::now() < end && !ctx.stopped() {
        let max = world.room_max_seq[0].load(Ordering::Relaxed);
        let all = (0..n)
            .filter(|&i| joined[i].load(Ordering::Relaxed))
            .all(|i| world.conn_last_seq[i].load(Ordering::Relaxed) == max + 1);
        // Peers: a new room starts at seq 0 and each announcement adds one.
        let announced =
            world.proto == Proto::Huddle || world.room_events[0].load(Ordering::Relaxed) == max;
        if all && announced {
            match stable_since {
                Some((m, t)) if m == max && t.elapsed() >= Duration::from_millis(500) => break,
                Some((m, _)) if m == max => {}
                _ => stable_since = Some((max, Instant::now())),
            }
        } else {
            stable_since = None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ctx.mark("after");
    let final_seq = world.room_max_seq[0].load(Ordering::Relaxed);
    let reports = stop_all(ctx, conns).await;

    // The checks.
    let mut duplicates = 0u64;
    let mut missing = 0u64;
    let mut behind = 0u64;
    for r in &reports {
        let Some(room) = r.rooms.iter().find(|x| x.room == 0 && x.join_seq.is_some()) else {
            continue;
        };
        duplicates += r.dups;
        let last = room.last_seq.unwrap_or(0);
        if last < final_seq {
            behind += 1;
        }
        if world.proto == Proto::Huddle {
            // Everyone who took a token is in the join snapshot or came after it.
            if let Some(view) = &r.view {
                missing += (0..n)
                    .filter(|&i| members[i].load(Ordering::Relaxed))
                    .filter(|&i| view[i / 64] & (1u64 << (i % 64)) == 0)
                    .count() as u64;
            }
        } else {
            // Every announcement after this join, up to the room's last seq.
            missing += final_seq.saturating_sub(last);
        }
    }
    let s = &ctx.stats;
    let gaps = Stats::get(&s.seq_gaps);
    let out_of_order = Stats::get(&s.seq_out_of_order);
    let total = gaps + out_of_order + duplicates + missing;
    ctx.set("final_seq", final_seq);
    ctx.set("deliveries", Stats::get(&s.deliveries));
    // huddle: token request sent → room.member_joined received, per member;
    // peers: announcement emitted → received.
    ctx.set("latency_ms", s.latency.summary_ms());
    ctx.set(
        "violations",
        json!({
            "seq_gaps": gaps,
            "seq_missing": Stats::get(&s.seq_missing),
            "out_of_order": out_of_order,
            "duplicates": duplicates,
            "missing": missing,
            "members_behind": behind,
            "total": total,
        }),
    );
    ctx.set("seq_gaps", gaps);
    ctx.check("all_joined", n_joined == n);
    ctx.check("no_violations", total == 0 && n_joined > 0);
    ctx.check(
        "storm_within_window",
        storm.as_secs_f64() <= p.duration + 1.0,
    );
    ctx.check("no_errors", s.errors_total() == 0);
    Ok(())
}

/// rest: C connections, each a keep-alive loop of GET requests for D s.
async fn rest(ctx: Arc<Ctx>) -> anyhow::Result<()> {
    let p = ctx.p.clone();
    // (address, Host header, path, users)
    let (addr, host, path, users): (std::net::SocketAddr, String, String, Vec<Arc<User>>) =
        match p.target {
            Target::Plain => {
                let raw = p.url.clone().ok_or_else(|| anyhow!("--url is required"))?;
                let url = url::Url::parse(&raw)?;
                if url.scheme() != "http" {
                    bail!("--url must be http://");
                }
                let h = url.host_str().ok_or_else(|| anyhow!("--url has no host"))?;
                let port = url.port_or_known_default().unwrap_or(80);
                let addr = std::net::ToSocketAddrs::to_socket_addrs(&(h, port))?
                    .next()
                    .ok_or_else(|| anyhow!("{h} does not resolve"))?;
                let mut path = url.path().to_owned();
                if let Some(q) = url.query() {
                    path.push('?');
                    path.push_str(q);
                }
                (addr, format!("{h}:{port}"), path, Vec::new())
            }
            Target::Huddle => {
                let api = huddle_api(&ctx)?;
                let (host, users) = sign_in_all(&ctx, &api, p.sessions).await?;
                let rooms = create_rooms(&ctx, &api, &host, 1).await?;
                let users: Vec<Arc<User>> = users.into_iter().flatten().collect();
                if users.is_empty() {
                    bail!("no user signed in");
                }
                let addr = p
                    .server_addr
                    .ok_or_else(|| anyhow!("--server is required"))?;
                (addr, p.server.clone(), format!("/room/{}", rooms[0]), users)
            }
            _ => bail!("the rest scenario runs against huddle or plain"),
        };
    ctx.set("connections", p.connections as u64);
    if !users.is_empty() {
        ctx.set("users", users.len() as u64);
    }
    ctx.set("url", format!("http://{host}{path}"));
    ctx.phase(&format!(
        "rest: {} connections for {} s",
        p.connections, p.duration
    ));
    let users = Arc::new(users);
    let path = Arc::new(path);
    let requests = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let reconnects = Arc::new(AtomicU64::new(0));
    ctx.mark("before");
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(p.duration);
    let mut set = JoinSet::new();
    for c in 0..p.connections {
        let source = (!p.sources.is_empty()).then(|| p.sources[c % p.sources.len()]);
        let mut client = crate::rawhttp::RawHttp::new(addr, source, host.clone());
        let (users, path, requests, ok, reconnects, stats) = (
            users.clone(),
            path.clone(),
            requests.clone(),
            ok.clone(),
            reconnects.clone(),
            ctx.stats.clone(),
        );
        let mut stop: watch::Receiver<bool> = ctx.stop_tx.subscribe();
        set.spawn(async move {
            let user = (!users.is_empty()).then(|| users[c % users.len()].clone());
            let authorization = user.as_ref().map(|u| u.authorization());
            let mut target = String::with_capacity(path.len() + 80);
            while Instant::now() < end && !*stop.borrow_and_update() {
                target.clear();
                target.push_str(&path);
                let mut headers: Vec<(&str, &str)> = Vec::new();
                if let (Some(u), Some(a)) = (&user, &authorization) {
                    let signed = u.signed(Vec::new());
                    target.push('?');
                    for (i, (k, v)) in signed.iter().enumerate() {
                        if i > 0 {
                            target.push('&');
                        }
                        target.push_str(k);
                        target.push('=');
                        target.push_str(v);
                    }
                    headers.push(("Authorization", a.as_str()));
                }
                let t0 = Instant::now();
                let outcome = match client.get(&target, &headers).await {
                    Ok(res) if !(200..300).contains(&res.status) => Err((
                        format!("http_{}", res.status),
                        String::from_utf8_lossy(&res.body)
                            .chars()
                            .take(200)
                            .collect::<String>(),
                    )),
                    Ok(res)
                        if user.is_some()
                            && !res.body.windows(10).any(|w| w == b"\"status\":1") =>
                    {
                        Err((
                            "business".to_owned(),
                            String::from_utf8_lossy(&res.body)
                                .chars()
                                .take(200)
                                .collect(),
                        ))
                    }
                    Ok(_) => Ok(()),
                    Err(e) => Err(("transport".to_owned(), e)),
                };
                let us = t0.elapsed().as_micros() as u64;
                requests.fetch_add(1, Ordering::Relaxed);
                match outcome {
                    Ok(()) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        stats.op_latency.record(c, us);
                    }
                    Err((kind, msg)) => {
                        stats.error_with(&kind, msg);
                        if kind == "transport" {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
            }
            reconnects.fetch_add(client.connects.saturating_sub(1), Ordering::Relaxed);
        });
    }
    while set.join_next().await.is_some() {}
    let took = start.elapsed();
    ctx.mark("after");
    let n = requests.load(Ordering::Relaxed);
    let good = ok.load(Ordering::Relaxed);
    ctx.set("duration_s", secs(took));
    ctx.set("requests", n);
    ctx.set("requests_ok", good);
    ctx.set("requests_per_s", per_s(good, took));
    ctx.set("latency_ms", ctx.stats.op_latency.summary_ms());
    ctx.set("reconnects", reconnects.load(Ordering::Relaxed));
    ctx.check("requests_ok", good > 0);
    ctx.check("no_errors", ctx.stats.errors_total() == 0);
    Ok(())
}
