#!/usr/bin/env bash
# The benchmark: `benches/run.sh SCENARIO [loadgen flags…]` (SCENARIO: fanout,
# rooms, capacity, join-storm, rest, or all) builds everything in release,
# runs the scenario against huddle (embedded defaults: SQLite, in-process) and
# against each peer of benches/peers/ in the same run, one server at a time,
# and writes target/bench/SCENARIO.json: every target's loadgen result plus the
# ratios the issue's targets are stated in. Extra flags go to every loadgen run
# (e.g. `benches/run.sh fanout -n 500 -d 10` for a quick look).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=target/bench
mkdir -p "$out"

scenario=${1:?usage: benches/run.sh fanout|rooms|capacity|join-storm|rest|all [loadgen flags]}
shift
if [ "$scenario" = all ]; then
  for s in fanout rooms capacity join-storm rest; do "$0" "$s" "$@"; done
  exit 0
fi

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "bench: building (release)" >&2
cargo build -q --release -p huddle -p loadgen
cargo build -q --release --manifest-path benches/peers/actix-broadcast/Cargo.toml
for peer in node-ws socketio; do
  [ -d "benches/peers/$peer/node_modules" ] || (cd "benches/peers/$peer" && npm ci --silent --no-audit --no-fund)
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pid=""
workdir=""
stop_server() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  pid=""
  if [ -n "$workdir" ]; then rm -rf "$workdir"; fi
  workdir=""
}
trap stop_server EXIT

# start_server TARGET PORT: starts it in the background, sets $pid, waits until it answers.
start_server() {
  local target=$1 port=$2
  case $target in
    huddle)
      workdir=$(mktemp -d)
      (cd "$workdir" && HUDDLE_HTTP_ADDR="127.0.0.1:$port" HUDDLE_RATE_LIMITS=off HUDDLE_SMS_TEST_NUMBERS='86139000*:246810' \
        HUDDLE_LOG=warn exec "$root/target/release/huddle") &
      ;;
    actix) PEER_ADDR="127.0.0.1:$port" benches/peers/actix-broadcast/target/release/peer-actix-broadcast >/dev/null & ;;
    socketio) PEER_ADDR="127.0.0.1:$port" node benches/peers/socketio/server.js >/dev/null & ;;
    node-ws) PEER_ADDR="127.0.0.1:$port" node benches/peers/node-ws/server.js >/dev/null & ;;
  esac
  pid=$!
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "bench: $target did not start on port $port" >&2
  return 1
}

# What each scenario runs against, as TARGET:LOADGEN-TARGET pairs.
case $scenario in
  rest) targets="huddle:huddle actix:plain" ;;
  *) targets="huddle:huddle actix:ws socketio:socketio node-ws:ws" ;;
esac

# given FLAG ARGS…: whether FLAG is among ARGS (the caller's loadgen flags win).
given() {
  local flag=$1; shift
  for a in "$@"; do [ "$a" = "$flag" ] && return 0; done
  return 1
}

results=()
for pair in $targets; do
  target=${pair%%:*}
  kind=${pair##*:}
  port=$(free_port)
  start_server "$target" "$port"
  extra=()
  [ "$kind" = plain ] && extra=(--url "http://127.0.0.1:$port/room/bench")
  # fanout: the fixed 50 events/s run, then the search for the sustained rate
  [ "$scenario" = fanout ] && ! given --search "$@" && extra=(--search)
  # capacity: 20,000 sessions need more descriptors than this machine's hard
  # limit of 20,000 leaves beside the server's; 18,000 fit
  if [ "$scenario" = capacity ] && [ "$(ulimit -Hn)" -le 20000 ] && ! given -n "$@" && ! given --sessions "$@"; then
    extra=(-n 18000)
  fi
  echo "bench: $scenario against $target" >&2
  file="$out/$scenario-$target.json"
  target/release/loadgen "$scenario" --target "$kind" --server "127.0.0.1:$port" \
    --server-pid "$pid" --label "$target" --quiet "${extra[@]}" "$@" >"$file" || true
  stop_server
  results+=("$target=$file")
done

python3 - "$scenario" "$out/$scenario.json" "${results[@]}" <<'PY'
import json, platform, os, sys, datetime
scenario, dest, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
results = {}
for pair in pairs:
    target, path = pair.split("=", 1)
    try:
        with open(path) as f:
            results[target] = json.loads(f.read().strip().splitlines()[-1])
    except Exception as e:  # a crashed run is recorded, not hidden
        results[target] = {"error": f"no result: {e}"}

def get(target, *path):
    v = results.get(target, {})
    for p in path:
        v = v.get(p) if isinstance(v, dict) else None
    return v

def ratio(a, b):
    return round(a / b, 3) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None

ratios = {}
if scenario == "fanout":
    for peer in ("socketio", "actix", "node-ws"):
        ratios[f"sustained_deliveries_per_s_huddle_over_{peer}"] = ratio(
            get("huddle", "search", "sustained_deliveries_per_s"), get(peer, "search", "sustained_deliveries_per_s"))
        ratios[f"p99_at_50_events_per_s_huddle_over_{peer}"] = ratio(get("huddle", "latency_ms", "p99"), get(peer, "latency_ms", "p99"))
elif scenario == "capacity":
    for peer in ("socketio", "actix", "node-ws"):
        ratios[f"connect_rate_huddle_over_{peer}"] = ratio(get("huddle", "connect_rate_per_s"), get(peer, "connect_rate_per_s"))
        ratios[f"rss_per_session_huddle_over_{peer}"] = ratio(get("huddle", "server", "rss_per_session_kb"), get(peer, "server", "rss_per_session_kb"))
elif scenario == "rest":
    ratios["requests_per_s_huddle_over_bare_actix_web"] = ratio(get("huddle", "requests_per_s"), get("actix", "requests_per_s"))
else:
    for peer in ("socketio", "actix", "node-ws"):
        ratios[f"p99_huddle_over_{peer}"] = ratio(get("huddle", "latency_ms", "p99"), get(peer, "latency_ms", "p99"))

summary = {
    "scenario": scenario,
    "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "machine": {"cpus": os.cpu_count(), "kernel": platform.release()},
    "ratios": ratios,
    "results": results,
}
with open(dest, "w") as f:
    json.dump(summary, f, indent=1)
print(json.dumps({"scenario": scenario, "ratios": ratios,
                  "ok": {t: r.get("ok") for t, r in results.items()}}))
PY
echo "bench: wrote $out/$scenario.json" >&2
