//! Counters, latency histograms and /proc sampling.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Instant;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// Highest latency the histograms hold (µs); larger values are clamped.
const MAX_US: u64 = 600_000_000;
/// Histogram shards, so that recording from many tasks rarely contends.
const SHARDS: usize = 16;
/// Error messages kept verbatim for the report.
const MAX_SAMPLES: usize = 12;

/// A latency histogram in microseconds, sharded by caller.
pub struct Latency {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl Latency {
    pub fn new() -> Self {
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(
                    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds"),
                )
            })
            .collect();
        Self { shards }
    }

    /// Records `us` microseconds; `shard` is any number stable per caller.
    pub fn record(&self, shard: usize, us: u64) {
        let v = us.clamp(1, MAX_US);
        if let Ok(mut h) = self.shards[shard % SHARDS].lock() {
            let _ = h.record(v);
        }
    }

    /// Everything recorded so far, as one histogram (for differences).
    pub fn merged(&self) -> Histogram<u64> {
        let mut all = Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds");
        for s in &self.shards {
            if let Ok(h) = s.lock() {
                let _ = all.add(&*h);
            }
        }
        all
    }

    /// `{"count","mean","p50","p90","p99","p999","max"}` in milliseconds.
    pub fn summary_ms(&self) -> Value {
        summary_ms(&self.merged())
    }
}

/// The summary of one histogram (see [`Latency::summary_ms`]).
pub fn summary_ms(h: &Histogram<u64>) -> Value {
    let ms = |us: u64| (us as f64 / 1000.0 * 1000.0).round() / 1000.0;
    if h.is_empty() {
        return json!({"count": 0, "mean": null, "p50": null, "p90": null, "p99": null, "p999": null, "max": null});
    }
    json!({
        "count": h.len(),
        "mean": ((h.mean() / 1000.0) * 1000.0).round() / 1000.0,
        "p50": ms(h.value_at_quantile(0.50)),
        "p90": ms(h.value_at_quantile(0.90)),
        "p99": ms(h.value_at_quantile(0.99)),
        "p999": ms(h.value_at_quantile(0.999)),
        "max": ms(h.max()),
    })
}

/// Everything counted during a run.
pub struct Stats {
    /// Scenario events received by a connection (one per event per receiver).
    pub deliveries: AtomicU64,
    /// Scenario events sent (emits, hand toggles).
    pub events_sent: AtomicU64,
    /// Hand toggles the server acknowledged as a change (huddle only).
    pub events_acked: AtomicU64,
    /// Room events whose seq jumped by more than one (per connection, per room).
    pub seq_gaps: AtomicU64,
    /// Sum of the seqs skipped over by those jumps.
    pub seq_missing: AtomicU64,
    /// Room events whose seq was not above the previous one.
    pub seq_out_of_order: AtomicU64,
    /// huddle hand events whose send time could not be matched.
    pub latency_unmatched: AtomicU64,
    /// µs since the run's epoch of the last delivery.
    pub last_delivery_us: AtomicU64,
    /// Send → receive latency of room events.
    pub latency: Latency,
    /// Second histogram for the phase-specific latency (join in join-storm,
    /// request in rest).
    pub op_latency: Latency,
    errors: Mutex<BTreeMap<String, u64>>,
    samples: Mutex<Vec<String>>,
}

impl Stats {
    pub fn new() -> Self {
        Self {
            deliveries: AtomicU64::new(0),
            events_sent: AtomicU64::new(0),
            events_acked: AtomicU64::new(0),
            seq_gaps: AtomicU64::new(0),
            seq_missing: AtomicU64::new(0),
            seq_out_of_order: AtomicU64::new(0),
            latency_unmatched: AtomicU64::new(0),
            last_delivery_us: AtomicU64::new(0),
            latency: Latency::new(),
            op_latency: Latency::new(),
            errors: Mutex::new(BTreeMap::new()),
            samples: Mutex::new(Vec::new()),
        }
    }

    /// Counts one error of `kind`.
    pub fn error(&self, kind: &str) {
        self.error_n(kind, 1);
    }

    pub fn error_n(&self, kind: &str, n: u64) {
        if let Ok(mut e) = self.errors.lock() {
            *e.entry(kind.to_owned()).or_default() += n;
        }
    }

    /// Counts an error and keeps its message (the first few of them).
    pub fn error_with(&self, kind: &str, message: impl Into<String>) {
        self.error(kind);
        if let Ok(mut s) = self.samples.lock() {
            if s.len() < MAX_SAMPLES {
                let m: String = message.into();
                let m: String = m.chars().take(300).collect();
                eprintln!("loadgen: {kind}: {m}");
                s.push(format!("{kind}: {m}"));
            }
        }
    }

    pub fn errors_json(&self) -> Value {
        let e = self.errors.lock().map(|e| e.clone()).unwrap_or_default();
        json!(e)
    }

    pub fn errors_total(&self) -> u64 {
        self.errors
            .lock()
            .map(|e| e.values().sum())
            .unwrap_or_default()
    }

    pub fn error_count(&self, kind: &str) -> u64 {
        self.errors
            .lock()
            .map(|e| e.get(kind).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    pub fn samples_json(&self) -> Value {
        json!(self.samples.lock().map(|s| s.clone()).unwrap_or_default())
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Relaxed)
    }
}

/// One reading of a process from /proc.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    pub at: Instant,
    pub rss_kb: u64,
    pub hwm_kb: u64,
    /// utime + stime in clock ticks.
    pub cpu_ticks: u64,
    pub threads: u64,
}

/// USER_HZ: what /proc/<pid>/stat counts in (100 on every mainstream Linux).
pub const CLK_TCK: f64 = 100.0;

/// Reads /proc/<pid>/status and /proc/<pid>/stat; `pid` may be "self".
pub fn sample(pid: &str) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces and parentheses).
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state): utime is field 14, stime 15, num_threads 20.
    let num = |i: usize| -> u64 { f.get(i).and_then(|v| v.parse().ok()).unwrap_or(0) };
    Some(ProcSample {
        at: Instant::now(),
        rss_kb: field("VmRSS:"),
        hwm_kb: field("VmHWM:"),
        cpu_ticks: num(11) + num(12),
        threads: num(17),
    })
}

/// CPU seconds and percent of one core between two samples.
pub fn cpu_between(a: &ProcSample, b: &ProcSample) -> (f64, f64) {
    let cpu_s = b.cpu_ticks.saturating_sub(a.cpu_ticks) as f64 / CLK_TCK;
    let wall = b.at.duration_since(a.at).as_secs_f64();
    let pct = if wall > 0.0 {
        cpu_s / wall * 100.0
    } else {
        0.0
    };
    (round3(cpu_s), round1(pct))
}

pub fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
