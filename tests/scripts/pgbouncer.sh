#!/usr/bin/env bash
# The end-to-end suite once through PgBouncer in transaction mode (PRODUCT.md section 13):
# starts a throw-away PgBouncer on a spare loopback port in front of the PostgreSQL of
# TEST_DATABASE_URL, runs the PostgreSQL halves of the e2e suite with the service connecting
# through it (DATABASE_STATEMENT_CACHE=false; the tests' own SQL goes straight to the
# server), checks from PgBouncer's own counters that the traffic went through it, and stops
# it whatever happens. Installs Debian's PgBouncer when missing. Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=deploy/lib.sh
. deploy/lib.sh

: "${TEST_DATABASE_URL:=postgres://postgres@127.0.0.1:5432/postgres}"
export TEST_DATABASE_URL

if ! command -v pgbouncer >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq pgbouncer >/dev/null
fi

port=${PGBOUNCER_PORT:-}
if [ -z "$port" ]; then
  for candidate in $(seq 6440 6499); do
    if ! ss -ltn | grep -q ":${candidate} "; then port=$candidate; break; fi
  done
fi
dir=$(mktemp -d)
cleanup() {
  if [ -f "$dir/pgbouncer.pid" ]; then
    kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    sleep 1
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

# Fewer server connections per database (4) than the service's pool (8): transactions of
# different clients really do share server connections, as behind a pooler in production.
chmod 755 "$dir"
pgbouncer_start "$dir" "$port" 4 "* = host=127.0.0.1 port=5432"
echo "$(pgbouncer --version | head -n 1) in transaction mode on 127.0.0.1:$port"

status=0
TEST_DATABASE_POOLER_URL="postgres://postgres@127.0.0.1:$port/postgres" \
  cargo test -p pas-e2e --no-fail-fast || status=$?

# The service's transactions went through PgBouncer (its scratch databases are pas_test_*).
xacts=$(psql -h 127.0.0.1 -p "$port" -U postgres -At pgbouncer -c 'SHOW STATS' |
  awk -F'|' '$1 ~ /^pas_test_/ { n += $2 } END { print n + 0 }')
echo "transactions of the test databases through PgBouncer: $xacts"
if [ "$status" -ne 0 ]; then
  tail -n 40 "$dir/pgbouncer.log" >&2 || true
  exit "$status"
fi
if [ "$xacts" -lt 1000 ]; then
  echo "the suite's transactions did not go through PgBouncer" >&2
  exit 1
fi
