#!/usr/bin/env bash
# A tiny run of every loadgen scenario against huddle (debug build, embedded
# defaults), so that the load generator keeps working. Not a benchmark: the
# numbers of a debug build on a shared CI machine mean nothing. `.ci/run`
# runs it; benches/run.sh (release builds, peers side by side) is the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p huddle -p loadgen
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$dir" && HUDDLE_HTTP_ADDR="127.0.0.1:$port" HUDDLE_RATE_LIMITS=off HUDDLE_SMS_TEST_NUMBERS='86139000*:246810' \
  HUDDLE_LOG=warn exec "$OLDPWD/target/debug/huddle") &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
mkdir -p target/bench
for scenario in fanout rooms capacity join-storm rest; do
  echo "smoke: $scenario" >&2
  extra=()
  # two short steps of the rate search (benches/run.sh fanout runs it in full)
  [ "$scenario" = fanout ] && extra=(--search --search-steps 2 --search-step 1 --settle 2)
  target/debug/loadgen "$scenario" --smoke --quiet --fail-on-check \
    --server "127.0.0.1:$port" --server-pid "$pid" --user-offset 0 "${extra[@]}" \
    | tee "target/bench/smoke-$scenario.json"
done
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["search"]; assert len(s["steps"]) == 2, s' \
  target/bench/smoke-fanout.json || { echo "smoke: the fanout rate search did not run its 2 steps" >&2; exit 1; }
echo "smoke: every scenario passed its checks" >&2
