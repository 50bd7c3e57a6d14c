#!/usr/bin/env bash
# cargo-fuzz targets for huddle's parsers (fuzz/README.md).
#
#   bash fuzz/run.sh SECONDS [TARGET...]   run each target (default: all) for SECONDS, one after another
#   bash fuzz/run.sh --ci                  install cargo-fuzz if missing, run every target 20 s
#
# Each target runs as
#   cargo +nightly fuzz run <t> fuzz/corpus-work/<t> fuzz/corpus/<t> -- -max_total_time=SECONDS ...
# New inputs go to the scratch directory fuzz/corpus-work/<t> (git-ignored);
# fuzz/corpus/<t> holds the small committed seed corpus and is only read.
# Crashes, timeouts and OOMs are written to fuzz/artifacts/<t>/ (git-ignored).
# Prints, per target: executions, exec/s, final cov/ft, corpus entries and
# crashes. Exit status: 0 when no target crashed, 1 otherwise, 2 on usage errors.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
TOOLCHAIN=${FUZZ_TOOLCHAIN:-nightly}
ALL_TARGETS=(params_signature ws_decode link_preview_html)

usage() {
    echo "usage: bash fuzz/run.sh SECONDS [TARGET...] | --ci" >&2
    echo "targets: ${ALL_TARGETS[*]}" >&2
    exit 2
}

ci=false
case "${1:-}" in
--ci) ci=true; seconds=20; shift ;;
"" | *[!0-9]* | 0) usage ;;
*) seconds=$1; shift ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
    case " ${ALL_TARGETS[*]} " in
    *" $t "*) ;;
    *) echo "unknown target: $t" >&2; usage ;;
    esac
done

FUZZ=$(cd "$(dirname "$0")" && pwd)
cd "$FUZZ/.."

# --- tools --------------------------------------------------------------------
if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1; then
    if $ci; then
        echo "==> installing the $TOOLCHAIN toolchain"
        rustup toolchain install "$TOOLCHAIN" --profile minimal
    else
        echo "the $TOOLCHAIN toolchain is missing: rustup toolchain install $TOOLCHAIN --profile minimal" >&2
        exit 2
    fi
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    if $ci; then
        echo "==> installing cargo-fuzz $CARGO_FUZZ_VERSION"
        cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
    else
        echo "cargo-fuzz is missing: cargo install --locked cargo-fuzz --version $CARGO_FUZZ_VERSION" >&2
        exit 2
    fi
fi

# --- per-target settings ------------------------------------------------------
max_len() {
    case $1 in
    link_preview_html) echo 8192 ;;
    *) echo 4096 ;;
    esac
}

for t in "${targets[@]}"; do
    echo "==> building $t (cargo +$TOOLCHAIN fuzz build $t)"
    cargo "+$TOOLCHAIN" fuzz build "$t"
done

LOGS=$FUZZ/corpus-work/logs
mkdir -p "$LOGS"
failed=0
summary=()
for t in "${targets[@]}"; do
    work=$FUZZ/corpus-work/$t
    artifacts=$FUZZ/artifacts/$t
    log=$LOGS/$t.log
    mkdir -p "$work" "$artifacts"
    marker=$(mktemp)
    args=(-max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10
        -rss_limit_mb=2048 -print_final_stats=1)
    [ -f "$FUZZ/dict/$t.dict" ] && args+=(-dict="$FUZZ/dict/$t.dict")
    echo "==> $t: ${seconds}s (log: ${log#"$PWD"/})"
    echo "    cargo +$TOOLCHAIN fuzz run $t fuzz/corpus-work/$t fuzz/corpus/$t -- ${args[*]//$FUZZ/fuzz}"
    status=0
    cargo "+$TOOLCHAIN" fuzz run "$t" "$work" "$FUZZ/corpus/$t" -- "${args[@]}" >"$log" 2>&1 || status=$?

    stats=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$stats")
    ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$stats")
    corp=$(sed -nE 's/.*corp: ([0-9]+)\/.*/\1/p' <<<"$stats")
    execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    files=$(find "$work" -maxdepth 1 -type f | wc -l)
    found=$(find "$artifacts" -maxdepth 1 -type f -newer "$marker" \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \))
    rm -f "$marker"
    crashes=$(grep -c . <<<"$found" || true)
    if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        failed=1
        echo "    FAILED (exit $status); last lines of the log:"
        tail -n 30 "$log" | sed 's/^/    | /'
        [ -z "$found" ] || sed "s|^$PWD/|    artifact: |" <<<"$found"
    fi
    line=$(printf '%-18s execs=%-10s exec/s=%-7s cov=%-6s ft=%-7s corpus=%-6s (files in corpus-work: %s) crashes=%s' \
        "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$files" "$crashes")
    echo "    $line"
    summary+=("$line")
done

echo
echo "==> summary (${seconds}s per target)"
printf '    %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
    echo "==> a target crashed: see fuzz/artifacts/ and fuzz/README.md (turning a crash into a test)" >&2
    exit 1
fi
