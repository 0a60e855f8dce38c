#!/usr/bin/env bash
# Schemathesis against the served OpenAPI document (/api/openapi.json), on SQLite and on
# PostgreSQL: every operation, every check (`--checks all`), a bounded number of examples per
# operation so that both stores take a few minutes. Exits non-zero on any failure.
#
#   tests/schemathesis/run.sh [sqlite|postgres ...]     (default: both)
#
# Needs python3 (schemathesis is installed, pinned, into target/schemathesis-venv) and, for
# PostgreSQL, a server at 127.0.0.1:5432 with trust auth (REDRESS_TEST_PG_URL overrides the
# admin URL). Each store is fresh: a temporary SQLite file, or a temporary database dropped at
# the end. The caller is an admin (every permission) made by `redress user add`, with a token made
# by `redress token create` and then, through the API, the token the run uses.
#
# What the schema cannot say is in schemathesis.toml beside this script: for operations whose
# refusals depend on data (an unknown id, a lookup, a lifecycle's fields) or on rules across
# fields, `positive_data_acceptance` also accepts 422 (a problem naming the field). Every other
# check runs as is.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
EXAMPLES="${SCHEMATHESIS_EXAMPLES:-12}"
SEED="${SCHEMATHESIS_SEED:-20260309}"
VENV=target/schemathesis-venv
PG_ADMIN="${REDRESS_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
cargo build --quiet --locked -p redress
BIN=target/debug/redress

stores=("$@")
[ ${#stores[@]} -eq 0 ] && stores=(sqlite postgres)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

SERVER_PID=""
WORK=""
PG_DB=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=""
  if [ -n "$PG_DB" ]; then psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
  PG_DB=""
  if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
  WORK=""
}
trap cleanup EXIT

run_store() {
  local store="$1"
  WORK=$(mktemp -d /tmp/redress-schemathesis.XXXXXX)
  local flags=(--data-dir "$WORK/data")
  if [ "$store" = postgres ]; then
    PG_DB="redress_st_$$"
    psql -q "$PG_ADMIN" -c "CREATE DATABASE $PG_DB" >/dev/null
    flags=(--database-url "${PG_ADMIN%/*}/$PG_DB")
  fi
  export REDRESS_ATTACHMENTS_DIR="$WORK/files"
  echo "correct horse battery staple" | "$BIN" user add st.admin --role admin --password-stdin "${flags[@]}" >/dev/null
  # The run's own token is made last, after 199 others, so that its id (200) is one that
  # DELETE /tokens/{id} is most unlikely to be generated with: revoking it would turn the rest of
  # the run into (documented) 401s and hide what it was testing.
  local first
  first=$("$BIN" token create st.admin --name first "${flags[@]}")
  local port
  port=$(free_port)
  "$BIN" serve --listen "127.0.0.1:$port" "${flags[@]}" >"$WORK/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$WORK/serve.log"; return 1; }
  local token=""
  for _ in $(seq 2 200); do
    token=$(curl -fs -H "Authorization: Bearer $first" -H 'content-type: application/json' \
      -d '{"name":"schemathesis"}' "http://127.0.0.1:$port/api/v1/tokens" |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  done

  echo "== schemathesis on $store (http://127.0.0.1:$port, $EXAMPLES examples per operation)"
  local status=0
  "$VENV/bin/schemathesis" --config-file tests/schemathesis/schemathesis.toml run \
    "http://127.0.0.1:$port/api/openapi.json" \
    --url "http://127.0.0.1:$port" \
    -H "Authorization: Bearer $token" \
    --checks all \
    --max-examples "$EXAMPLES" \
    --seed "$SEED" \
    --workers 1 \
    --no-shrink \
    --request-timeout 20 || status=$?
  if grep -q "panicked" "$WORK/serve.log"; then
    echo "the server panicked:"; grep -A5 panicked "$WORK/serve.log"; status=1
  fi
  cleanup
  return $status
}

failed=0
for s in "${stores[@]}"; do
  run_store "$s" || failed=1
done
exit $failed
