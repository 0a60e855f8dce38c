#!/usr/bin/env bash
# The test command: every Rust test of every crate, on SQLite and on PostgreSQL (PostgreSQL must be
# running at 127.0.0.1:5432 with trust auth; see README), then the browser and accessibility suite
# (Debian's chromium driven by playwright-core, axe-core on every page).
#
# The browser suite needs /usr/bin/chromium and `npm ci` in tests/browser. When they are missing it
# is skipped with a message, unless REDRESS_BROWSER_TESTS=1 (as CI sets), which makes it required.
set -euo pipefail
cd "$(dirname "$0")"
cargo test --workspace --locked --no-fail-fast "$@"

if [ -x /usr/bin/chromium ] && [ -d tests/browser/node_modules/playwright-core ]; then
  SCREENSHOT_DIR="${SCREENSHOT_DIR:-$PWD/target/screenshots}" tests/browser/run.sh
elif [ "${REDRESS_BROWSER_TESTS:-0}" = "1" ]; then
  echo "REDRESS_BROWSER_TESTS=1 but chromium or tests/browser/node_modules is missing" >&2
  echo "install: apt-get install -y chromium && (cd tests/browser && npm ci)" >&2
  exit 1
else
  echo "browser suite skipped: install chromium and run 'npm ci' in tests/browser (CI runs it)"
fi
