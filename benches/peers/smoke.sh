#!/usr/bin/env bash
# Smoke test of the benchmark peers: starts each one in turn on a free port
# (PEER_ADDR=127.0.0.1:0; the peer prints the port it got), runs its check
# client against it, stops it with SIGTERM and expects a clean exit.
#   node-ws, actix-broadcast: node benches/peers/check.js ws://ADDR
#   socketio:                 node benches/peers/socketio/check.js ws://ADDR
# Installs the npm packages (npm ci) and builds the Rust peer when missing.
# Exits non-zero on the first failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

for dir in node-ws socketio; do
  if [[ ! -d "$here/$dir/node_modules" ]]; then
    (cd "$here/$dir" && npm ci --no-audit --no-fund)
  fi
done
actix_bin="$here/actix-broadcast/target/release/peer-actix-broadcast"
cargo build --release --quiet --manifest-path "$here/actix-broadcast/Cargo.toml"

# run_peer NAME CHECK_SCRIPT [ENV=VALUE...] -- COMMAND...
run_peer() {
  local name="$1" check="$2"; shift 2
  local envs=()
  while [[ "$1" != "--" ]]; do envs+=("$1"); shift; done
  shift
  echo "== $name"
  env PEER_ADDR=127.0.0.1:0 "${envs[@]}" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid=$!
  local addr=""
  for _ in $(seq 100); do
    addr="$(awk '/^listening /{print $2; exit}' "$tmp/$name.out")"
    [[ -n "$addr" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$addr" ]]; then
    echo "FAIL $name: did not print 'listening <addr>'"; cat "$tmp/$name.err"; exit 1
  fi
  echo "listening $addr"
  if ! env "${envs[@]}" node "$check" "ws://$addr"; then
    echo "FAIL $name: check failed; server stderr:"; cat "$tmp/$name.err"; exit 1
  fi
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  pid=""
  if [[ "$rc" -ne 0 ]]; then echo "FAIL $name: exit status $rc after SIGTERM"; exit 1; fi
  echo "$name: clean exit after SIGTERM"
}

run_peer node-ws "$here/check.js" -- node "$here/node-ws/server.js"
run_peer actix-broadcast "$here/check.js" -- "$actix_bin"
# A short Engine.IO heartbeat so the check also sees a ping "2" and answers "3".
run_peer socketio "$here/socketio/check.js" SIO_PING_INTERVAL_MS=300 SIO_CHECK_PING_MS=300 -- node "$here/socketio/server.js"
echo "smoke: all peers passed"
