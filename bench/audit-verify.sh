#!/usr/bin/env bash
# Benchmark of `app audit verify` (PRODUCT.md section 11); numbers in docs/PERFORMANCE.md
# ("Audit verification").
#
#   bash bench/audit-verify.sh                          # a scratch SQLite file
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bash bench/audit-verify.sh
#                                                       # a scratch database on that server
#
# What it does:
#   1. builds `app` and the seeding example (crates/persistence/examples/seed_audit.rs) in
#      release;
#   2. creates a scratch database: a SQLite file in a temporary directory, or, when
#      DATABASE_URL is a postgres:// URL, a database created on that server with psql and
#      dropped afterwards (the database the URL names is not touched);
#   3. seeds SEED_PROCESSES (10000) processes of SEED_EVENTS_PER_PROCESS (10) audit events
#      each, chained by the domain's code under a known AUDIT_KEY;
#   4. runs `app audit verify` VERIFY_RUNS (2) times under /usr/bin/time -v and prints, per
#      run, the wall time, events/s and peak RSS, and app's own summary line.
#
# Knobs: SEED_PROCESSES, SEED_EVENTS_PER_PROCESS, SEED_CONCURRENCY (8), VERIFY_RUNS, KEEP=1
# (keep the scratch database and print where it is).
set -euo pipefail

cd "$(dirname "$0")/.."
SEED_PROCESSES=${SEED_PROCESSES:-10000}
SEED_EVENTS_PER_PROCESS=${SEED_EVENTS_PER_PROCESS:-10}
VERIFY_RUNS=${VERIFY_RUNS:-2}
# A fixed 32-byte key: the seeded chains are chained under it, and verify is given it.
AUDIT_KEY=$(printf 'bench-audit-verify-key-0123456789' | head -c 32 | base64)
export AUDIT_KEY SEED_PROCESSES SEED_EVENTS_PER_PROCESS

TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p pas-app --bin app
cargo build --release -q -p pas-persistence --example seed_audit
APP="$TARGET/release/app"
SEED="$TARGET/release/examples/seed_audit"

SCRATCH=$(mktemp -d)
PG_DB=""
PG_URL=""
cleanup() {
  if [[ -n $PG_DB && ${KEEP:-0} != 1 ]]; then
    psql "$PG_URL" -X -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [[ ${KEEP:-0} != 1 ]]; then
    rm -rf "$SCRATCH"
  fi
}
trap cleanup EXIT

case ${DATABASE_URL:-} in
  postgres://* | postgresql://*)
    PG_URL=$DATABASE_URL
    PG_DB="pas_bench_verify_$$"
    psql "$PG_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null
    # The same server URL with the scratch database's name (any ?query kept).
    base=${PG_URL%%\?*}
    query=${PG_URL#"$base"}
    if [[ $base =~ ^postgres(ql)?://[^/]+$ ]]; then
      db_url="$base/$PG_DB$query"
    else
      db_url="${base%/*}/$PG_DB$query"
    fi
    backend=postgres
    ;;
  "" | sqlite://*)
    db_url="sqlite://$SCRATCH/audit.db"
    backend=sqlite
    ;;
  *)
    echo "DATABASE_URL must be unset (SQLite) or postgres://…" >&2
    exit 1
    ;;
esac
export DATABASE_URL=$db_url
# `app` refuses AUTH_MODE=off only off loopback; verify needs no authentication anyway.
export AUTH_MODE=off APP_BIND=127.0.0.1:0 RUST_LOG=warn

events=$((SEED_PROCESSES * SEED_EVENTS_PER_PROCESS))
echo "backend: $backend, $SEED_PROCESSES processes x $SEED_EVENTS_PER_PROCESS events = $events events"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
"$SEED"

for run in $(seq 1 "$VERIFY_RUNS"); do
  log="$SCRATCH/verify-$run.log"
  /usr/bin/time -v "$APP" audit verify >"$SCRATCH/verify-$run.out" 2>"$log"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  seconds=$(awk -v t="$wall" 'BEGIN {
    n = split(t, p, ":"); s = 0
    for (i = 1; i <= n; i++) s = s * 60 + p[i]
    print s
  }')
  rate=$(awk -v e="$events" -v s="$seconds" 'BEGIN { printf "%.0f", (s > 0 ? e / s : 0) }')
  summary=$(tail -n 1 "$SCRATCH/verify-$run.out")
  printf 'run %d: wall %s s, %s events/s, peak RSS %.1f MB | %s\n' \
    "$run" "$seconds" "$rate" "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')" "$summary"
done
if [[ ${KEEP:-0} == 1 ]]; then
  echo "kept: DATABASE_URL=$DATABASE_URL AUDIT_KEY=$AUDIT_KEY"
fi
