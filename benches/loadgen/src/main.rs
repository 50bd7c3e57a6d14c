//! loadgen: drives huddle (or a benchmark peer) with many WebSocket sessions
//! or HTTP connections and prints one JSON line of results. See README.md.

mod api;
mod conn;
mod rawhttp;
mod scenarios;
mod stats;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use stats::{ProcSample, Stats};

/// Most sessions (or users) one run may use.
pub const MAX_SESSIONS: usize = 50_000;
/// Longest drive phase (s).
pub const MAX_DURATION_S: f64 = 600.0;
/// Longest whole run (s), setup included.
pub const MAX_DEADLINE_S: f64 = 1800.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// 1 room, N listeners, E emitters making R events/s in total for D s.
    Fanout,
    /// S sessions in rooms of --room-size, R events/s per room, seq gaps counted.
    Rooms,
    /// S idle sessions joined to rooms: server RSS per session, connect rate.
    Capacity,
    /// U users take a token and join one room within D s; every member must
    /// see every later join once, in seq order.
    JoinStorm,
    /// C HTTP connections: signed GET /room/{id} (huddle) or GET --url (plain).
    Rest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// huddle: real sign-in, signed /ws, voice tokens, hand toggles.
    Huddle,
    /// The peers' plain WebSocket protocol (benches/peers).
    Ws,
    /// Socket.IO v4 over a raw WebSocket (benches/peers/socketio).
    Socketio,
    /// A plain HTTP GET of --url (rest scenario only).
    Plain,
}

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Load generator for huddle and the benchmark peers: prints one JSON line of results on stdout"
)]
pub struct Cli {
    /// What to run.
    #[arg(value_enum)]
    pub scenario: Scenario,
    /// What to run it against.
    #[arg(long, value_enum, default_value = "huddle")]
    pub target: Target,
    /// host:port of the server (huddle, ws, socketio).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub server: String,
    /// URL for --target plain (rest scenario).
    #[arg(long)]
    pub url: Option<String>,
    /// Sessions: fanout listeners (2000), rooms sessions (10000), capacity
    /// sessions (20000), join-storm users (5000), rest users (= --connections).
    #[arg(long, short = 'n')]
    pub sessions: Option<usize>,
    /// fanout: emitting sessions, besides the listeners (4).
    #[arg(long)]
    pub emitters: Option<usize>,
    /// fanout: room events per second in total (50); rooms: per room (1).
    #[arg(long)]
    pub rate: Option<f64>,
    /// rooms, capacity: sessions per room (20).
    #[arg(long)]
    pub room_size: Option<usize>,
    /// Seconds: fanout/rooms drive (30), capacity idle hold (30),
    /// join-storm window (10), rest (20).
    #[arg(long, short = 'd')]
    pub duration: Option<f64>,
    /// rest: HTTP connections (64).
    #[arg(long, short = 'c')]
    pub connections: Option<usize>,
    /// Source addresses, comma separated, used round robin for every socket;
    /// "none" to let the kernel choose. Default for a loopback server:
    /// 127.0.0.1 … 127.0.0.8.
    #[arg(long, value_delimiter = ',')]
    pub sources: Vec<String>,
    /// The server's pid: RSS and CPU are read from /proc/<pid>.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Shrink every default (a few hundred sessions, a few seconds) for CI.
    #[arg(long)]
    pub smoke: bool,
    /// Concurrent sign-ins (huddle).
    #[arg(long, default_value_t = 64)]
    pub signin_concurrency: usize,
    /// Concurrent WebSocket connects (TCP + upgrade + hello).
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
    /// Joins in flight at once (huddle: voice token + WebSocket join);
    /// default 64, join-storm 1024 (its starts are paced over the window).
    #[arg(long)]
    pub join_concurrency: Option<usize>,
    /// huddle: first user number: mobiles are --mobile-base + offset + i
    /// (the host is i = 0).
    #[arg(long, default_value_t = 0)]
    pub user_offset: u64,
    /// huddle: the first test mobile number.
    #[arg(long, default_value_t = 13_900_000_000)]
    pub mobile_base: u64,
    /// huddle: country code of the test numbers.
    #[arg(long, default_value = "86")]
    pub country_code: String,
    /// huddle: the fixed captcha code of the test numbers.
    #[arg(long, default_value = "246810")]
    pub code: String,
    /// Seconds to wait after driving for events still in flight.
    #[arg(long, default_value_t = 5.0)]
    pub settle: f64,
    /// Hard limit for the whole run (s), after which it stops, closes its
    /// sockets and prints what it has. Default: duration + 600 (smoke: + 120).
    #[arg(long)]
    pub deadline: Option<f64>,
    /// A free-form label copied into the JSON.
    #[arg(long)]
    pub label: Option<String>,
    /// Exit with status 1 when a check fails.
    #[arg(long)]
    pub fail_on_check: bool,
    /// No periodic progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// fanout: after the fixed-rate run, search for the highest rate the
    /// target sustains (every event delivered, p99 within --search-p99-ms):
    /// the rate doubles from --rate while steps pass, then bisects.
    #[arg(long)]
    pub search: bool,
    /// fanout --search: seconds per step.
    #[arg(long, default_value_t = 5.0)]
    pub search_step: f64,
    /// fanout --search: the p99 latency a step must stay within (ms).
    #[arg(long, default_value_t = 50.0)]
    pub search_p99_ms: f64,
    /// fanout --search: the highest rate tried (events/s).
    #[arg(long, default_value_t = 6400.0)]
    pub search_max_rate: f64,
    /// fanout --search: the most steps.
    #[arg(long, default_value_t = 12)]
    pub search_steps: usize,
}

/// The parameters of a run once defaults are applied.
#[derive(Debug, Clone)]
pub struct Params {
    pub scenario: Scenario,
    pub target: Target,
    pub server: String,
    pub server_addr: Option<SocketAddr>,
    pub url: Option<String>,
    pub sessions: usize,
    pub emitters: usize,
    pub rate: f64,
    pub room_size: usize,
    pub duration: f64,
    pub connections: usize,
    pub sources: Vec<IpAddr>,
    pub server_pid: Option<u32>,
    pub smoke: bool,
    pub signin_concurrency: usize,
    pub connect_concurrency: usize,
    pub join_concurrency: usize,
    pub user_offset: u64,
    pub mobile_base: u64,
    pub country_code: String,
    pub code: String,
    pub settle: f64,
    pub deadline: f64,
    pub label: Option<String>,
    pub quiet: bool,
    /// fanout: the rate search, when asked for.
    pub search: Option<Search>,
}

/// How `fanout --search` looks for the sustained rate.
#[derive(Debug, Clone)]
pub struct Search {
    pub step_s: f64,
    pub p99_ms: f64,
    pub max_rate: f64,
    pub steps: usize,
}

fn resolve(cli: Cli) -> anyhow::Result<Params> {
    use Scenario::*;
    let smoke = cli.smoke;
    let pick = |given: Option<f64>, full: f64, small: f64| {
        given.unwrap_or(if smoke { small } else { full })
    };
    let picku = |given: Option<usize>, full: usize, small: usize| {
        given.unwrap_or(if smoke { small } else { full })
    };
    let connections = picku(cli.connections, 64, 8);
    let sessions = match cli.scenario {
        Fanout => picku(cli.sessions, 2_000, 200),
        Rooms => picku(cli.sessions, 10_000, 300),
        Capacity => picku(cli.sessions, 20_000, 300),
        JoinStorm => picku(cli.sessions, 5_000, 200),
        Rest => cli.sessions.unwrap_or(connections),
    };
    let duration = match cli.scenario {
        Fanout | Rooms | Capacity => pick(cli.duration, 30.0, 3.0),
        JoinStorm => pick(cli.duration, 10.0, 3.0),
        Rest => pick(cli.duration, 20.0, 3.0),
    };
    let rate = match cli.scenario {
        Fanout => pick(cli.rate, 50.0, 20.0),
        _ => pick(cli.rate, 1.0, 2.0),
    };
    let emitters = picku(cli.emitters, 4, 2).max(1);
    let room_size = cli.room_size.unwrap_or(20).max(1);
    if sessions == 0 || sessions > MAX_SESSIONS {
        anyhow::bail!("--sessions must be 1..={MAX_SESSIONS}");
    }
    if connections == 0 || connections > 10_000 {
        anyhow::bail!("--connections must be 1..=10000");
    }
    if !(duration > 0.0 && duration <= MAX_DURATION_S) {
        anyhow::bail!("--duration must be in (0, {MAX_DURATION_S}] seconds");
    }
    if !(rate > 0.0 && rate <= 1_000_000.0) {
        anyhow::bail!("--rate must be in (0, 1e6]");
    }
    let search = if cli.search {
        if cli.scenario != Fanout {
            anyhow::bail!("--search is for the fanout scenario");
        }
        if !(cli.search_step > 0.0 && cli.search_step <= 60.0) {
            anyhow::bail!("--search-step must be in (0, 60] seconds");
        }
        if !(cli.search_max_rate >= rate && cli.search_max_rate <= 100_000.0) {
            anyhow::bail!("--search-max-rate must be in [--rate, 100000]");
        }
        if cli.search_p99_ms.is_nan()
            || cli.search_p99_ms <= 0.0
            || cli.search_steps == 0
            || cli.search_steps > 30
        {
            anyhow::bail!("--search-p99-ms must be > 0 and --search-steps in 1..=30");
        }
        Some(Search {
            step_s: cli.search_step,
            p99_ms: cli.search_p99_ms,
            max_rate: cli.search_max_rate,
            steps: cli.search_steps,
        })
    } else {
        None
    };
    match (cli.scenario, cli.target) {
        (Rest, Target::Ws | Target::Socketio) => {
            anyhow::bail!("the rest scenario runs against --target huddle or --target plain")
        }
        (Rest, Target::Plain) if cli.url.is_none() => {
            anyhow::bail!("--target plain needs --url")
        }
        (Fanout | Rooms | Capacity | JoinStorm, Target::Plain) => {
            anyhow::bail!("--target plain is for the rest scenario only")
        }
        _ => {}
    }
    let users_needed = match cli.scenario {
        Fanout => sessions + emitters,
        _ => sessions,
    } as u64
        + 1;
    if cli.target == Target::Huddle && cli.user_offset + users_needed > 100_000 {
        eprintln!(
            "loadgen: warning: users {}..{} go past the 100,000 numbers of an 8-digit test prefix",
            cli.user_offset,
            cli.user_offset + users_needed
        );
    }
    let server_addr = if cli.target == Target::Plain {
        None
    } else {
        Some(
            std::net::ToSocketAddrs::to_socket_addrs(&cli.server)?
                .next()
                .ok_or_else(|| anyhow::anyhow!("--server {} does not resolve", cli.server))?,
        )
    };
    let loopback = match (&server_addr, cli.target, &cli.url) {
        (Some(a), _, _) => a.ip().is_loopback() && a.is_ipv4(),
        (None, _, Some(u)) => u.contains("://127.") || u.contains("://localhost"),
        _ => false,
    };
    let sources: Vec<IpAddr> = if cli.sources.is_empty() {
        if loopback {
            (1..=8)
                .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i)))
                .collect()
        } else {
            Vec::new()
        }
    } else if cli.sources.len() == 1 && cli.sources[0] == "none" {
        Vec::new()
    } else {
        cli.sources
            .iter()
            .map(|s| s.trim().parse::<IpAddr>())
            .collect::<Result<_, _>>()?
    };
    let searching = search
        .as_ref()
        .map_or(0.0, |s| s.steps as f64 * (s.step_s + cli.settle));
    let deadline = cli
        .deadline
        .unwrap_or(duration + searching + if smoke { 120.0 } else { 600.0 })
        .clamp(1.0, MAX_DEADLINE_S);
    Ok(Params {
        scenario: cli.scenario,
        target: cli.target,
        server: cli.server,
        server_addr,
        url: cli.url,
        sessions,
        emitters,
        rate,
        room_size,
        duration,
        connections,
        sources,
        server_pid: cli.server_pid,
        smoke,
        signin_concurrency: cli.signin_concurrency.clamp(1, 4096),
        connect_concurrency: cli.connect_concurrency.clamp(1, 8192),
        join_concurrency: cli
            .join_concurrency
            .unwrap_or(if cli.scenario == JoinStorm { 1024 } else { 64 })
            .clamp(1, 8192),
        user_offset: cli.user_offset,
        mobile_base: cli.mobile_base,
        country_code: cli.country_code,
        code: cli.code,
        settle: cli.settle.clamp(0.0, 120.0),
        deadline,
        label: cli.label,
        quiet: cli.quiet,
        search,
    })
}

/// Samples of (the server, this process) at one moment.
type Mark = (Option<ProcSample>, Option<ProcSample>);

/// The run's shared state: parameters, counters, partial results, stop signal.
pub struct Ctx {
    pub p: Params,
    pub stats: Arc<Stats>,
    pub epoch: Instant,
    out: Mutex<Map<String, Value>>,
    checks: Mutex<Map<String, Value>>,
    marks: Mutex<HashMap<&'static str, Mark>>,
    pub stop_tx: watch::Sender<bool>,
    pub phase: Mutex<String>,
    pub nofile: u64,
}

impl Ctx {
    /// Sets a result field.
    pub fn set(&self, key: &str, v: impl Into<Value>) {
        if let Ok(mut o) = self.out.lock() {
            o.insert(key.to_owned(), v.into());
        }
    }

    /// Records a pass/fail check.
    pub fn check(&self, name: &str, pass: bool) {
        if let Ok(mut c) = self.checks.lock() {
            c.insert(name.to_owned(), Value::Bool(pass));
        }
    }

    /// Samples the server (and this process) under `name`
    /// (start, before, after, hold_end, end).
    pub fn mark(&self, name: &'static str) {
        let server = self
            .p
            .server_pid
            .and_then(|p| stats::sample(&p.to_string()));
        let me = stats::sample("self");
        if let Ok(mut m) = self.marks.lock() {
            m.insert(name, (server, me));
        }
    }

    pub fn phase(&self, name: &str) {
        if let Ok(mut p) = self.phase.lock() {
            *p = name.to_owned();
        }
        eprintln!(
            "loadgen: [{:>7.1}s] {name}",
            self.epoch.elapsed().as_secs_f64()
        );
    }

    pub fn stopped(&self) -> bool {
        *self.stop_tx.borrow()
    }

    fn proc_json(&self, which: usize) -> Value {
        let marks = self.marks.lock().map(|m| m.clone()).unwrap_or_default();
        let get = |n: &str| {
            marks
                .get(n)
                .and_then(|(s, me)| if which == 0 { *s } else { *me })
        };
        let mut o = Map::new();
        for n in ["start", "before", "after", "hold_end", "end"] {
            if let Some(s) = get(n) {
                o.insert(format!("rss_kb_{n}"), json!(s.rss_kb));
            }
        }
        if let Some(end) = get("end") {
            o.insert("rss_kb_peak".into(), json!(end.hwm_kb));
            o.insert("threads".into(), json!(end.threads));
        }
        if let (Some(a), Some(b)) = (get("before"), get("after")) {
            let (cpu, pct) = stats::cpu_between(&a, &b);
            o.insert("cpu_s".into(), json!(cpu));
            o.insert("cpu_pct".into(), json!(pct));
            o.insert(
                "measured_s".into(),
                json!(stats::round3(b.at.duration_since(a.at).as_secs_f64())),
            );
        }
        if let (Some(a), Some(b)) = (get("after"), get("hold_end")) {
            let (cpu, pct) = stats::cpu_between(&a, &b);
            o.insert("idle_cpu_s".into(), json!(cpu));
            o.insert("idle_cpu_pct".into(), json!(pct));
        }
        if let (Some(a), Some(b)) = (get("start"), get("end")) {
            let (cpu, pct) = stats::cpu_between(&a, &b);
            o.insert("cpu_s_total".into(), json!(cpu));
            o.insert("cpu_pct_total".into(), json!(pct));
        }
        Value::Object(o)
    }

    /// RSS growth per connected session between `before` and `after` (server).
    pub fn rss_per_session_kb(&self, sessions: u64) -> Option<f64> {
        let marks = self.marks.lock().ok()?;
        let a = marks.get("before")?.0?;
        let b = marks.get("after")?.0?;
        (sessions > 0).then(|| stats::round3((b.rss_kb as f64 - a.rss_kb as f64) / sessions as f64))
    }

    /// The final JSON line.
    fn finish(&self, deadline_hit: bool, fatal: Option<String>) -> (Value, bool) {
        self.mark("end");
        let p = &self.p;
        let mut o = Map::new();
        o.insert("scenario".into(), json!(scenario_name(p.scenario)));
        o.insert("target".into(), json!(target_name(p.target)));
        if let Some(l) = &p.label {
            o.insert("label".into(), json!(l));
        }
        o.insert("smoke".into(), json!(p.smoke));
        let partial = self.out.lock().map(|o| o.clone()).unwrap_or_default();
        for (k, v) in partial {
            o.insert(k, v);
        }
        if deadline_hit || fatal.is_some() {
            // Cut short: the live counters, whatever phase it was in.
            let s = &self.stats;
            let live = [
                ("events_sent", json!(Stats::get(&s.events_sent))),
                ("deliveries", json!(Stats::get(&s.deliveries))),
                ("latency_ms", s.latency.summary_ms()),
                ("seq_gaps", json!(Stats::get(&s.seq_gaps))),
                ("seq_missing", json!(Stats::get(&s.seq_missing))),
                ("seq_out_of_order", json!(Stats::get(&s.seq_out_of_order))),
            ];
            for (k, v) in live {
                o.entry(k).or_insert(v);
            }
            if let Ok(phase) = self.phase.lock() {
                o.insert("stopped_in_phase".into(), json!(phase.clone()));
            }
        }
        o.insert("errors".into(), self.stats.errors_json());
        let samples = self.stats.samples_json();
        if samples.as_array().is_some_and(|a| !a.is_empty()) {
            o.insert("error_samples".into(), samples);
        }
        let mut server = Map::new();
        server.insert("pid".into(), json!(p.server_pid));
        if let Value::Object(m) = self.proc_json(0) {
            server.extend(m);
        }
        if let Some(v) = partial_get(&o, "rss_per_session_kb") {
            server.insert("rss_per_session_kb".into(), v);
            o.remove("rss_per_session_kb");
        }
        o.insert("server".into(), Value::Object(server));
        let mut me = match self.proc_json(1) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        me.insert("nofile".into(), json!(self.nofile));
        o.insert("loadgen".into(), Value::Object(me));
        o.insert(
            "sources".into(),
            json!(p.sources.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        );
        o.insert(
            "wall_s".into(),
            json!(stats::round3(self.epoch.elapsed().as_secs_f64())),
        );
        o.insert("deadline_hit".into(), json!(deadline_hit));
        if let Some(f) = &fatal {
            o.insert("fatal".into(), json!(f));
        }
        let mut checks = self.checks.lock().map(|c| c.clone()).unwrap_or_default();
        if deadline_hit {
            checks.insert("finished_before_deadline".into(), json!(false));
        }
        if fatal.is_some() {
            checks.insert("no_fatal_error".into(), json!(false));
        }
        let ok = checks.values().all(|v| v == &Value::Bool(true));
        o.insert("checks".into(), Value::Object(checks));
        o.insert("ok".into(), json!(ok));
        (Value::Object(o), ok)
    }
}

fn partial_get(o: &Map<String, Value>, k: &str) -> Option<Value> {
    o.get(k).cloned()
}

pub fn scenario_name(s: Scenario) -> &'static str {
    match s {
        Scenario::Fanout => "fanout",
        Scenario::Rooms => "rooms",
        Scenario::Capacity => "capacity",
        Scenario::JoinStorm => "join-storm",
        Scenario::Rest => "rest",
    }
}

pub fn target_name(t: Target) -> &'static str {
    match t {
        Target::Huddle => "huddle",
        Target::Ws => "ws",
        Target::Socketio => "socketio",
        Target::Plain => "plain",
    }
}

fn main() {
    let cli = Cli::parse();
    let fail_on_check = cli.fail_on_check;
    let params = match resolve(cli) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    // Raise our own open-file limit to the hard limit.
    let nofile = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("loadgen: could not raise RLIMIT_NOFILE: {e}");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .map(|(soft, _)| soft)
                .unwrap_or(1024)
        }
    };
    let sockets = match params.scenario {
        Scenario::Rest => params.connections,
        Scenario::Fanout => params.sessions + params.emitters,
        _ => params.sessions,
    } as u64;
    if sockets + 200 > nofile {
        eprintln!(
            "loadgen: warning: {sockets} sockets need more than the open-file limit {nofile} allows; expect connect errors"
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loadgen: tokio runtime: {e}");
            std::process::exit(2);
        }
    };
    let ok = runtime.block_on(async move {
        let (stop_tx, _) = watch::channel(false);
        let ctx = Arc::new(Ctx {
            p: params,
            stats: Arc::new(Stats::new()),
            epoch: Instant::now(),
            out: Mutex::new(Map::new()),
            checks: Mutex::new(Map::new()),
            marks: Mutex::new(HashMap::new()),
            stop_tx,
            phase: Mutex::new("start".into()),
            nofile,
        });
        ctx.mark("start");
        if !ctx.p.quiet {
            tokio::spawn(scenarios::progress(ctx.clone()));
        }
        let deadline = Duration::from_secs_f64(ctx.p.deadline);
        let run = scenarios::run(ctx.clone());
        let (deadline_hit, fatal) = tokio::select! {
            r = run => (false, r.err().map(|e| format!("{e:#}"))),
            _ = tokio::time::sleep(deadline) => {
                eprintln!("loadgen: deadline of {:.0} s reached: stopping", ctx.p.deadline);
                let _ = ctx.stop_tx.send(true);
                // Let connections close their sockets.
                tokio::time::sleep(Duration::from_secs(3)).await;
                (true, None)
            }
        };
        if let Some(f) = &fatal {
            eprintln!("loadgen: fatal: {f}");
        }
        let _ = ctx.stop_tx.send(true);
        let (line, ok) = ctx.finish(deadline_hit, fatal.clone());
        println!("{line}");
        if fatal.is_some() {
            return Err(());
        }
        Ok(ok)
    });
    // Leftover tasks are not waited for.
    match ok {
        Ok(true) => std::process::exit(0),
        Ok(false) => std::process::exit(if fail_on_check { 1 } else { 0 }),
        Err(()) => std::process::exit(2),
    }
}
