#!/usr/bin/env bash
# Runs the browser suite against a fresh Redress on a temporary SQLite store.
# Needs: Debian's chromium (/usr/bin/chromium) and `npm ci` in tests/browser.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
cargo build --quiet --locked --bin redress
bin="$root/target/debug/redress"
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$data"' EXIT
admin_password="browser-admin-$(date +%s%N)"
agent_password="browser-agent-$(date +%s%N)"
"$bin" user add admin --role admin --password-stdin --data-dir "$data" <<< "$admin_password" > /dev/null
"$bin" user add sam --role senior_agent --display-name "Sam Senior" --password-stdin --data-dir "$data" <<< "$agent_password" > /dev/null
token="$("$bin" token create admin --data-dir "$data")"
sam_token="$("$bin" token create sam --data-dir "$data")"
REDRESS_LOG=warn REDRESS_OFFICE_PHONE="1-800-342-3377" "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" > /dev/null && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/api/v1/units" -H "Authorization: Bearer $token" > /dev/null
curl -fs -X POST "http://127.0.0.1:$port/api/v1/units" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"code":"CALL","name":"Call Center"}' > /dev/null
# Mail as an MTA pipes it in: one message quarantined (no sender), one that opens a case.
printf 'Subject: a scan\r\n\r\nno sender here\r\n' | "$bin" mail receive --data-dir "$data" > /dev/null
"$bin" mail receive --data-dir "$data" < "$root/tests/mail/corpus/multipart_alternative_es.eml" > /dev/null
# Two decisions mailed through the print queue (consumers without email, one Spanish), and
# today's batch of them.
api() { curl -fs "http://127.0.0.1:$port/api/v1$1" -H "Authorization: Bearer $sam_token" -H 'Content-Type: application/json' "${@:2}"; }
for who in '"name":"Rosa Díaz","preferred_language":"es","address":{"line1":"12 Main St","line2":"Apt 4","city":"Albany","state":"NY","zip":"12207"}' \
           '"name":"Sam Carter","address":{"line1":"400 Broadway","city":"Troy","state":"NY","zip":"12180"}'; do
  ref="$(api /cases -X POST -d "{\"kind\":\"complaint\",\"channel\":\"mail\",\"lifecycle\":\"utility_complaint\",\"description\":\"Billed twice\",\"consumer\":{$who}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reference"])')"
  api "/cases/$ref/transitions" -X POST -d '{"transition":"open_investigation","fields":{"reason":"Disputed charge"}}' > /dev/null
  api "/cases/$ref/transitions" -X POST -d '{"transition":"issue_initial_decision","fields":{"decision":"The company will refund the second charge."}}' > /dev/null
done
api /letter-batches -X POST > /dev/null
mkdir -p "${SCREENSHOT_DIR:-$root/target/screenshots}"
BASE_URL="http://127.0.0.1:$port" ADMIN_TOKEN="$token" AGENT_USER=sam AGENT_PASSWORD="$agent_password" \
  ADMIN_USER=admin ADMIN_PASSWORD="$admin_password" \
  SCREENSHOT_DIR="${SCREENSHOT_DIR:-$root/target/screenshots}" node "$here/run.js"
