#!/usr/bin/env bash
# The service against what PostgreSQL itself can do for the same calls (issue 15's method,
# after ../shared/bench-limit/), on this machine, in one run:
#
#   bash bench/vs-limit.sh                 # N=20000 processes
#   N=200000 bash bench/vs-limit.sh        # the record
#
# 1. makes a throw-away PostgreSQL cluster on a spare port with pg_stat_statements (the
#    machine's own cluster is not touched) and builds the release binary;
# 2. starts the service on it (AUTH_MODE=off, dispatcher idle) and seeds N processes through
#    the API in the limit's shape (bench/seed.py --shape limit: 50 groups; step 1 two signers,
#    step 2 an approver, everyone a person of their own);
# 3. builds bench_targets from the service's tables (bench/limit/targets.sql), so both sides
#    run on the same rows; the limit scripts (bench/limit/*.sql) are the minimal SQL of each
#    call for this schema, each with one extra primary-key read that picks its row;
# 4. per scenario, back to back, each after a warm-up: the service under
#    `wrk -t2 -c8` and the limit under `pgbench -n -M prepared -c8 -j2`; statements per call
#    from pg_stat_statements (reset before each measured run), WAL per sign from
#    pg_current_wal_lsn() and pg_stat_wal;
#      sign         POST …/process-step-signers/{id}/sign  vs sign.sql (each service request
#                   signs another process's first signer, 10 % of them in the warm-up; the
#                   limit, run after it, flips any of them again)
#      get_audited  GET /processes/{id} (AUDIT_READS=single) vs get-audited.sql
#      get          GET /processes/{id} (AUDIT_READS=none)   vs get.sql
#      list         GET /processes?ownerGroup=…              vs list.sql
#      tasks        GET /signer-tasks?personalCode=…         vs tasks.sql
# 5. prints a Markdown table (also in $OUT/summary.md): requests/s of both, the ratio, p99 of
#    both, statements per call of both, and for sign the WAL bytes and full-page images per
#    call; and the storage per process.
#
# Settings: N (20000), DURATION (30s; sign's run is shortened when fewer unsigned entries are
# left than it would use: it says so), WARMUP (5s), OUT (target/bench-vs-limit), PORT (first
# free from 5470). Needs root (pg_createcluster); installs wrk and PostgreSQL's contrib when
# missing. Everything listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=deploy/lib.sh
. "$ROOT/deploy/lib.sh"

N=${N:-20000}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-5s}
OUT=${OUT:-$ROOT/target/bench-vs-limit}
APP_PORT=${APP_PORT:-18090}
BASE="http://127.0.0.1:$APP_PORT"
CLUSTER=pas_vs_limit_$$

log() { printf '\n== %s\n' "$*" >&2; }

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v pgbench >/dev/null 2>&1 || need+=(postgresql-contrib)
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
PORT=${PORT:-}
if [ -z "$PORT" ]; then
  for candidate in $(seq 5470 5499); do
    if ! ss -ltn | grep -q ":${candidate} "; then PORT=$candidate; break; fi
  done
fi
DB="postgres://postgres@127.0.0.1:$PORT/pas"
version=$(pg_version)

log "cargo build --release -p pas-app --bin app"
cargo build --release -q -p pas-app --bin app
APP_BIN=$ROOT/target/release/app

rm -rf "$OUT"
mkdir -p "$OUT/seed"
SCRATCH=$(mktemp -d)
APP_PID=""
stop_app() {
  if [ -n "$APP_PID" ] && kill -0 "$APP_PID" 2>/dev/null; then
    kill "$APP_PID"
    wait "$APP_PID" 2>/dev/null || true
  fi
  APP_PID=""
}
cleanup() {
  stop_app
  pg_dropcluster --stop "$version" "$CLUSTER" >/dev/null 2>&1 || true
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

log "PostgreSQL $version cluster $CLUSTER on $PORT (pg_stat_statements)"
pg_cluster "$version" "$CLUSTER" "$PORT" \
  "shared_preload_libraries = 'pg_stat_statements'" "max_connections = 100"
psql -h 127.0.0.1 -p "$PORT" -U postgres -q -c "CREATE DATABASE pas" >/dev/null
psql "$DB" -q -c "CREATE EXTENSION pg_stat_statements" >/dev/null
sql() { psql "$DB" -X -At -q -c "$1"; }

# start_app [VAR=value ...]: the service on the cluster, ready.
start_app() {
  env APP_BIND="127.0.0.1:$APP_PORT" DATABASE_URL="$DB" AUTH_MODE=off \
    AUDIT_KEY="$(head -c 32 /dev/zero | tr '\0' 'k' | base64)" \
    PII_KEY="$(head -c 32 /dev/zero | tr '\0' 'p' | base64)" \
    MAIL_DIR="$SCRATCH/mail" MAIL_POLL_MS=3600000 RUST_LOG=warn "$@" \
    "$APP_BIN" >>"$OUT/app.log" 2>&1 &
  APP_PID=$!
  for _ in $(seq 1 150); do
    curl -fsS "$BASE/ready" >/dev/null 2>&1 && return 0
    kill -0 "$APP_PID" 2>/dev/null || { tail -n 20 "$OUT/app.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "the service is not ready on $BASE" >&2
  exit 1
}

start_app
log "seeding $N processes through the API"
python3 bench/seed.py --base "$BASE" --count "$N" --shape limit --out "$OUT/seed" >&2
psql "$DB" -X -q -f bench/limit/targets.sql >/dev/null
targets=$(sql "SELECT count(*) FROM bench_targets")
groups=$(sql "SELECT count(*) FROM bench_groups")
sql "SELECT process_id FROM bench_targets ORDER BY n" >"$OUT/seed/ids.txt"
sql "SELECT owner_group FROM bench_groups ORDER BY n" >"$OUT/seed/groups.txt"
sql "SELECT e.personal_code FROM bench_targets t JOIN entries e ON e.id = t.entry_id ORDER BY t.n" \
  >"$OUT/seed/persons.txt"
sql "SELECT e.id || ' ' || e.personal_code FROM bench_targets t JOIN entries e ON e.id = t.entry_id
     ORDER BY t.n" >"$SCRATCH/signers-all.txt"
sql "VACUUM ANALYZE" >/dev/null
bytes=$(sql "SELECT pg_database_size('pas') - pg_total_relation_size('bench_targets')
                    - pg_total_relation_size('bench_groups')")

# The statements pg_stat_statements recorded since its last reset, but for the script's own
# and transaction control (pgbench sends BEGIN/COMMIT prepared, which are not recorded; the
# service sends them as simple queries, which are: leaving both out keeps the count fair).
MEASURED="dbid = (SELECT oid FROM pg_database WHERE datname = 'pas')
  AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_current_wal_lsn%'
  AND query NOT LIKE '%pg_stat_wal%' AND query !~* '^\\s*(begin|commit|rollback|start)'"
# statements FILE: their total, and each with its calls into FILE.
statements() {
  sql "SELECT calls, query FROM pg_stat_statements WHERE $MEASURED ORDER BY calls DESC" >"$1"
  sql "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE $MEASURED"
}
reset_stats() { sql "SELECT pg_stat_statements_reset()" >/dev/null; }
wal_lsn() { sql "SELECT pg_current_wal_lsn()"; }
wal_fpi() { sql "SELECT wal_fpi FROM pg_stat_wal"; }
wal_bytes_since() { sql "SELECT pg_current_wal_lsn() - '$1'::pg_lsn"; }

# field NAME LINE: the value of NAME=… in a RESULT line.
field() { sed -E "s/.* $1=([0-9.]+).*/\\1/" <<<"$2"; }

# service NAME LUA: wrk's RESULT line for a measured run (after a warm-up), with statements
# per request and, as WAL_BYTES/WAL_FPI, the WAL written during it.
service() {
  local name=$1 lua=$2 script
  script=$(mktemp)
  cat bench/wrk/common.lua "bench/wrk/$lua" >"$script"
  if [ "$name" = sign ]; then
    local total warm
    total=$(wc -l <"$SCRATCH/signers-all.txt")
    warm=$((total / 10))
    head -n "$warm" "$SCRATCH/signers-all.txt" >"$OUT/seed/signers.txt"
  fi
  local warmed seconds=${DURATION%s}
  warmed=$(SEED_DIR="$OUT/seed" WRK_THREADS=2 wrk -t2 -c8 -d"$WARMUP" -s "$script" "$BASE" | grep '^RESULT')
  if [ "$name" = sign ]; then
    tail -n +"$((warm + 1))" "$SCRATCH/signers-all.txt" >"$OUT/seed/signers.txt"
    # Each entry signs once: the measured run lasts at most as long as three quarters of
    # the entries left would last at the warm-up's rate (over-estimated if the warm-up ran
    # out, since its 409s are cheap; the margin covers a warm service being faster), so it
    # never counts 409s. The limit's sign runs as long (file sign-seconds).
    seconds=$(awk -v left="$((total - warm))" -v rps="$(field rps "$warmed")" -v most="$seconds" \
      'BEGIN { if (rps <= 0) { print "the sign warm-up answered nothing" > "/dev/stderr"; exit 1 }
               s = int(0.75 * left / rps); if (s > most) s = most; if (s < 1) s = 1; print s }')
    echo "$seconds" >"$OUT/sign-seconds"
    [ "$seconds" = "${DURATION%s}" ] || echo "sign measured for ${seconds} s: $((total - warm)) entries left" >&2
  fi
  local lsn fpi result
  lsn=$(wal_lsn)
  fpi=$(wal_fpi)
  reset_stats
  result=$(SEED_DIR="$OUT/seed" WRK_THREADS=2 wrk -t2 -c8 -d"${seconds}s" --timeout 10s -s "$script" "$BASE" |
    tee "$OUT/service-$name.txt" | grep '^RESULT')
  local calls requests
  calls=$(statements "$OUT/statements-service-$name.txt")
  requests=$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$result")
  if [ "$name" = sign ] && [ "$(sed -E 's/.* non2xx=([0-9]+).*/\1/' <<<"$result")" != 0 ]; then
    echo "sign ran out of unsigned entries: its rate counts cheap 409s; raise N or lower DURATION" >&2
  fi
  echo "$result statements=$(awk -v c="$calls" -v r="$requests" 'BEGIN { printf "%.1f", c / r }')" \
    "wal_bytes=$(( $(wal_bytes_since "$lsn") / requests ))" \
    "wal_fpi=$(awk -v f="$(( $(wal_fpi) - fpi ))" -v r="$requests" 'BEGIN { printf "%.2f", f / r }')"
  rm -f "$script"
}

# limit NAME SQL: the same for pgbench running bench/limit/SQL.
limit() {
  local name=$1 file=$2 lo=1 hi=$targets seconds=${DURATION%s}
  local args=(-n -M prepared -c8 -j2 -D lo="$lo" -D hi="$hi" -D groups="$groups" -f "$ROOT/bench/limit/$file")
  if [ "$name" = sign ]; then seconds=$(cat "$OUT/sign-seconds"); fi
  pgbench "${args[@]}" -T "${WARMUP%s}" "$DB" >/dev/null 2>&1
  local lsn fpi logdir
  lsn=$(wal_lsn)
  fpi=$(wal_fpi)
  reset_stats
  logdir=$(mktemp -d)
  (cd "$logdir" && pgbench "${args[@]}" -T "$seconds" -l "$DB" \
    >"$OUT/limit-$name.txt" 2>&1)
  local calls tx tps p99
  calls=$(statements "$OUT/statements-limit-$name.txt")
  tx=$(awk '/number of transactions actually processed/ { print $NF }' "$OUT/limit-$name.txt")
  tps=$(awk '/^tps = / { printf "%.1f", $3 }' "$OUT/limit-$name.txt")
  # Per-transaction log: the third column is the latency in microseconds.
  p99=$(cat "$logdir"/pgbench_log.* | awk '{ print $3 }' | sort -n |
    awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", v[i] / 1000 }')
  rm -rf "$logdir"
  echo "RESULT requests=$tx rps=$tps p99_ms=$p99 statements=$(awk -v c="$calls" -v t="$tx" 'BEGIN { printf "%.1f", c / t }')" \
    "wal_bytes=$(( $(wal_bytes_since "$lsn") / tx ))" \
    "wal_fpi=$(awk -v f="$(( $(wal_fpi) - fpi ))" -v t="$tx" 'BEGIN { printf "%.2f", f / t }')"
}

rows=()
run_pair() {
  local name=$1 lua=$2 file=$3 s l
  log "$name: service, then limit"
  s=$(service "$name" "$lua")
  l=$(limit "$name" "$file")
  echo "service $s" >&2
  echo "limit   $l" >&2
  local ratio wal=""
  ratio=$(awk -v a="$(field rps "$s")" -v b="$(field rps "$l")" 'BEGIN { printf "%.2f", a / b }')
  if [ "$name" = sign ]; then
    wal="$(field wal_bytes "$s") / $(field wal_bytes "$l") B, FPI $(field wal_fpi "$s") / $(field wal_fpi "$l")"
  fi
  rows+=("| $name | $(field rps "$s") | $(field rps "$l") | **$ratio** | $(field p99_ms "$s") / $(field p99_ms "$l") | $(field statements "$s") / $(field statements "$l") | $(field non2xx "$s") | $wal |")
}

run_pair sign sign.lua sign.sql
run_pair get_audited get_by_id.lua get-audited.sql
stop_app
start_app AUDIT_READS=none
run_pair get get_by_id.lua get.sql
run_pair list list_group.lua list.sql
run_pair tasks tasks.lua tasks.sql
stop_app

{
  echo "N = $N processes ($(awk -v b="$bytes" -v n="$N" 'BEGIN { printf "%.1f", b / n / 1024 }') KiB per process in the database after seeding), $(nproc) cores, wrk -t2 -c8 vs pgbench -M prepared -c8 -j2, $DURATION each after $WARMUP (sign: $(cat "$OUT/sign-seconds") s)"
  echo
  echo "| call | service req/s | limit tx/s | ratio | p99 ms service / limit | statements per call service / limit (no BEGIN/COMMIT) | service non-2xx | WAL per sign service / limit |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$OUT/summary.md"
