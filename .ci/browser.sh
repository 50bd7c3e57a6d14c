#!/usr/bin/env bash
# Browser tests for the web pages (web/: share pages and /app/), in Debian
# Chromium driven by playwright-core (tests/browser/), against the real server
# binary. Installs what is missing, then runs tests/browser/run.mjs.
#
#   bash .ci/browser.sh
#
# HUDDLE_BIN: a server binary to test (default: cargo build --bin huddle, then
# target/debug/huddle). Screenshots and the server log land in target/browser/.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "browser: $*" >&2; exit 1; }

# 1. Chromium and a CJK font (Debian packages; we run as root in CI). Without
#    fonts-noto-cjk the zh share pages render their text as empty boxes, so
#    the Chinese screenshots would check nothing.
apt_install() {
  command -v apt-get >/dev/null || fail "$* missing and apt-get is not available to install it"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "$@"; then
    apt-get update
    apt-get install -y --no-install-recommends "$@" || fail "could not install $*"
  fi
}
[ -x /usr/bin/chromium ] || apt_install chromium chromium-driver
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is still missing after the install"
/usr/bin/chromium --version || fail "/usr/bin/chromium does not run"
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || apt_install fonts-noto-cjk
fc-list :lang=zh family | grep -qi 'noto.*cjk' || fail "no CJK font after installing fonts-noto-cjk (fc-list :lang=zh)"

# 2. Node and playwright-core (exact version from package-lock.json).
command -v node >/dev/null || fail "node (>= 20) is required"
command -v npm >/dev/null || fail "npm is required"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "node >= 20 is required, found $(node --version)"
lock=tests/browser/package-lock.json
installed=tests/browser/node_modules/.package-lock.json
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -f "$installed" ] || [ "$lock" -nt "$installed" ]; then
  (cd tests/browser && npm ci --no-audit --no-fund) || fail "npm ci in tests/browser failed"
fi
[ -f tests/browser/node_modules/playwright-core/package.json ] || fail "playwright-core is not installed in tests/browser/node_modules"

# 3. The server binary.
if [ -z "${HUDDLE_BIN:-}" ]; then
  cargo build --bin huddle || fail "cargo build --bin huddle failed"
  export HUDDLE_BIN=target/debug/huddle
fi
[ -x "$HUDDLE_BIN" ] || fail "HUDDLE_BIN=$HUDDLE_BIN is not an executable"

# 4. The tests (they start and stop the server themselves).
mkdir -p target/browser
node tests/browser/run.mjs
