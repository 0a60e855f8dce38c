#!/usr/bin/env bash
# The test command: every test of every crate, on SQLite and on PostgreSQL
# (PostgreSQL must be running at 127.0.0.1:5432 with trust auth; see README).
set -euo pipefail
cd "$(dirname "$0")"
exec cargo test --workspace --locked --no-fail-fast "$@"
