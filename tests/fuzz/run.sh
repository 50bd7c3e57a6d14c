#!/usr/bin/env bash
# Schema-driven fuzzing of huddle with Schemathesis against GET /docs-json.
#
#   tests/fuzz/run.sh [MAX_EXAMPLES]   full run (default 100 examples per operation and phase)
#   tests/fuzz/run.sh --ci             short run for CI: examples, fuzzing and stateful
#                                      phases, 5 examples per operation (a few hundred requests)
#
# Builds the debug binary, starts it on a free port in a temporary directory
# (its own SQLite file), runs every phase (examples, coverage, fuzzing,
# stateful) with the checks not_a_server_error, status_code_conformance,
# content_type_conformance and response_schema_conformance, prints the number
# of requests sent, and stops the server. Exit status: Schemathesis's (0 when
# nothing failed). Reports go to target/fuzz/ (JUnit, NDJSON, server log).
#
# Environment: FUZZ_SEED (Hypothesis seed), FUZZ_WORKERS (default 2),
# FUZZ_MAX_TIME (seconds, optional), PYTHON (default python3).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
FUZZ_DIR=$ROOT/tests/fuzz
OUT=$ROOT/target/fuzz
VENV=$ROOT/target/fuzz-venv
PYTHON=${PYTHON:-python3}

phases=examples,coverage,fuzzing,stateful
max_examples=100
case "${1:-}" in
--ci) phases=examples,fuzzing,stateful; max_examples=5 ;;
"") ;;
*[!0-9]* | 0) echo "usage: $0 [MAX_EXAMPLES | --ci]" >&2; exit 2 ;;
*) max_examples=$1 ;;
esac

# --- Schemathesis in a virtualenv under target/ ------------------------------
stamp=$VENV/.requirements.sha256
want=$(sha256sum "$FUZZ_DIR/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/schemathesis" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> installing Schemathesis into $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$FUZZ_DIR/requirements.txt"
    echo "$want" >"$stamp"
fi

# --- huddle -------------------------------------------------------------------
echo "==> building huddle (debug)"
cargo build --quiet --bin huddle
BIN=$ROOT/target/debug/huddle

mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/huddle-fuzz.XXXXXX")
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
SERVER_LOG=$OUT/server.log

server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

echo "==> starting huddle on $URL (in $WORK)"
(
    cd "$WORK"
    exec env HUDDLE_HTTP_ADDR="127.0.0.1:$PORT" HUDDLE_RATE_LIMITS=off \
        HUDDLE_SMS_TEST_NUMBERS='86139000*:246810' \
        HUDDLE_STORAGE_DIR="$WORK/uploads" \
        HUDDLE_LOG="${HUDDLE_LOG:-warn}" \
        "$BIN"
) >"$SERVER_LOG" 2>&1 &
server_pid=$!
for _ in $(seq 150); do
    if curl -fsS "$URL/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "huddle exited; its log:" >&2
        cat "$SERVER_LOG" >&2
        exit 1
    fi
    sleep 0.2
done
curl -fsS "$URL/healthz" >/dev/null

# --- Schemathesis -------------------------------------------------------------
args=(
    run "$URL/docs-json"
    --phases "$phases"
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
    --max-examples "$max_examples"
    --workers "${FUZZ_WORKERS:-2}"
    --request-timeout 30
    --generation-database none
    --report junit,ndjson
    --report-dir "$OUT"
    --no-color
)
[ -n "${FUZZ_SEED:-}" ] && args+=(--seed "$FUZZ_SEED")
[ -n "${FUZZ_MAX_TIME:-}" ] && args+=(--max-time "$FUZZ_MAX_TIME")

STATS=$OUT/requests.json
REFUSALS=$OUT/refusals.ndjson
rm -f "$STATS" "$REFUSALS"
echo "==> schemathesis ${args[*]:1}"
started=$(date +%s)
set +e
(
    cd "$WORK"
    env PYTHONPATH="$FUZZ_DIR" SCHEMATHESIS_HOOKS=hooks \
        HUDDLE_FUZZ_URL="$URL" HUDDLE_FUZZ_STATS="$STATS" HUDDLE_FUZZ_REFUSALS="$REFUSALS" \
        "$VENV/bin/schemathesis" "${args[@]}"
)
status=$?
set -e
elapsed=$(($(date +%s) - started))

if [ -f "$STATS" ]; then
    "$PYTHON" - "$STATS" "$elapsed" <<'EOF'
import json, sys
stats = json.load(open(sys.argv[1]))
by = ", ".join(f"{k}: {v}" for k, v in sorted(stats["by_status"].items()))
print(f"==> requests sent to huddle: {stats['requests']} ({stats['signed']} signed) in {sys.argv[2]} s; by HTTP status: {by}")
EOF
fi
if grep -q "panicked" "$SERVER_LOG"; then
    echo "==> the server log has a panic:" >&2
    grep -n -A5 "panicked" "$SERVER_LOG" >&2
    status=1
fi
echo "==> reports in $OUT (server log: $SERVER_LOG)"
exit "$status"
