#!/usr/bin/env bash
# Load test of the `app` binary over HTTP; its numbers go to docs/PERFORMANCE.md.
#
#   bash bench/load.sh                                   # SQLite only
#   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bash bench/load.sh
#                                                        # SQLite, then PostgreSQL
#   (`just bench` runs `cargo bench -p pas-domain` first, then this script)
#
# What it does, per backend:
#   1. builds `app` in release (cargo build --release -p pas-app --bin app);
#   2. starts it on a scratch database: a SQLite file in a temporary directory, and, when
#      BENCH_DATABASE_URL or TEST_DATABASE_URL is set, a PostgreSQL database it creates on
#      that server (CREATE DATABASE through psql) and drops afterwards;
#   3. seeds SEED_PROCESSES STARTED processes through POST /api/v1/processes with
#      bench/seed.py (Python threads, keep-alive connections; see its docstring for the
#      data's shape: 10 owner groups, 5 document-name words, 200 Latvian signers);
#   4. runs wrk for DURATION per scenario (after a short unrecorded warm-up):
#        get_by_id    GET  /api/v1/processes/{id}              random seeded id
#        list         GET  /api/v1/processes?ownerGroup=…&nameSearch=…
#        tasks        GET  /api/v1/signer-tasks?personalCode=…&country=LV
#        create       POST /api/v1/processes                   STARTED, 2 steps, 3 entries
#      then restarts the app with AUDIT_READS=none and runs get_by_id once more
#      (get_by_id_noaudit), to show what the default read audit (one audit row per GET) costs;
#   5. reports per scenario requests/s, latency p50/p90/p99, non-2xx answers, the app's CPU
#      time per request (from /proc/<pid>/stat) and, for PostgreSQL, the server's; and the
#      app's peak RSS (VmHWM in /proc/<pid>/status) over seed + scenarios;
#   6. prints the query plans of the measured reads (bench/explain.py).
#
# Results: a Markdown table on stdout and in $BENCH_OUT/summary.md, wrk's raw output and the
# plans beside it (default target/bench-load/).
#
# Settings (environment): SEED_PROCESSES (2000), DURATION (20s), CONNECTIONS (16),
# THREADS (1: wrk's threads; the load generator shares the machine's cores with the app and
# the database), BENCH_PORT (18080), BENCH_OUT (target/bench-load),
# BENCH_DATABASE_URL / TEST_DATABASE_URL (a PostgreSQL server URL whose role may create
# databases), BENCH_BACKENDS ("sqlite postgres": restrict with e.g. "postgres").
#
# The outbox dispatcher is kept idle while measuring (MAIL_POLL_MS=3600000): email sending
# is not part of these numbers; emails would go to .eml files in the scratch directory.
# Installs what it needs (wrk, python3, curl) with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SEED_PROCESSES=${SEED_PROCESSES:-2000}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-1}
PORT=${BENCH_PORT:-18080}
OUT=${BENCH_OUT:-$ROOT/target/bench-load}
PG_URL=${BENCH_DATABASE_URL:-${TEST_DATABASE_URL:-}}
if [[ -z ${BENCH_BACKENDS:-} ]]; then
  BENCH_BACKENDS=sqlite
  [[ -n $PG_URL ]] && BENCH_BACKENDS="sqlite postgres"
fi
BASE="http://127.0.0.1:$PORT"
CLK_TCK=$(getconf CLK_TCK)

log() { printf '\n== %s\n' "$*" >&2; }

# --- tools ------------------------------------------------------------------------------
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [[ $BENCH_BACKENDS == *postgres* ]] && ! command -v psql >/dev/null 2>&1; then
  need+=(postgresql-client)
fi
if ((${#need[@]})); then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- build ------------------------------------------------------------------------------
log "cargo build --release -p pas-app --bin app"
cargo build --release -p pas-app --bin app
APP_BIN=$ROOT/target/release/app

mkdir -p "$OUT"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/pas-bench.XXXXXX")
APP_PID=""
PG_DB=""
RESULTS=$OUT/results.tsv
: >"$RESULTS"

stop_app() {
  if [[ -n $APP_PID ]] && kill -0 "$APP_PID" 2>/dev/null; then
    kill "$APP_PID"
    wait "$APP_PID" 2>/dev/null || true
  fi
  APP_PID=""
}

cleanup() {
  stop_app
  if [[ -n $PG_DB ]]; then
    psql "$PG_URL" -X -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

# start_app DATABASE_URL [VAR=value ...]: starts the app in the background and waits until
# /ready answers.
start_app() {
  local url=$1
  shift
  env APP_BIND="127.0.0.1:$PORT" DATABASE_URL="$url" MAIL_DIR="$SCRATCH/mail" \
    MAIL_POLL_MS=3600000 RUST_LOG="${RUST_LOG:-info}" "$@" \
    "$APP_BIN" >>"$SCRATCH/app.log" 2>&1 &
  APP_PID=$!
  for _ in $(seq 1 100); do
    if curl -fsS "$BASE/ready" >/dev/null 2>&1; then
      return
    fi
    if ! kill -0 "$APP_PID" 2>/dev/null; then
      echo "app exited during start; its log:" >&2
      tail -n 20 "$SCRATCH/app.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "app did not become ready on $BASE" >&2
  exit 1
}

# CPU time (user + system) in clock ticks of the given pids.
cpu_ticks() {
  local total=0 pid stat
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    # After the command name: field 3 is state, so utime and stime (fields 14, 15) are
    # the 12th and 13th words here.
    read -r -a f <<<"$stat"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

# PostgreSQL server processes (backends, WAL writer, …), if this machine runs the server.
pg_pids() {
  local p
  for p in /proc/[0-9]*; do
    [[ $(cat "$p/comm" 2>/dev/null) == postgres ]] && echo "${p#/proc/}"
  done
  return 0
}

peak_rss_kb() {
  awk '/^VmHWM:/ {print $2}' "/proc/$APP_PID/status"
}

# scenario BACKEND NAME SCRIPT [SECONDS]: runs wrk with the shared Lua helpers + the scenario.
scenario() {
  local backend=$1 name=$2 script=$3 duration=${4:-$DURATION}
  local lua="$SCRATCH/$name.lua" raw="$OUT/$backend-$name.txt"
  cat "$ROOT/bench/wrk/common.lua" "$ROOT/bench/wrk/$script" >"$lua"
  local app0 pg0 app1 pg1
  app0=$(cpu_ticks "$APP_PID")
  pg0=0
  local pgs=()
  [[ $backend == postgres ]] && mapfile -t pgs < <(pg_pids)
  ((${#pgs[@]})) && pg0=$(cpu_ticks "${pgs[@]}")
  SEED_DIR="$SCRATCH/seed" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --timeout 10s \
    -s "$lua" "$BASE" >"$raw"
  app1=$(cpu_ticks "$APP_PID")
  pg1=0
  ((${#pgs[@]})) && pg1=$(cpu_ticks "${pgs[@]}")
  local line
  line=$(grep '^RESULT' "$raw") || {
    cat "$raw" >&2
    return 1
  }
  # RESULT requests=… rps=… p50_ms=… p90_ms=… p99_ms=… max_ms=… non2xx=… socket_errors=…
  local requests rps p50 p90 p99 non2xx sockerr
  requests=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")
  rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$line")
  p50=$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$line")
  p90=$(sed -E 's/.*p90_ms=([0-9.]+).*/\1/' <<<"$line")
  p99=$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$line")
  non2xx=$(sed -E 's/.*non2xx=([0-9]+).*/\1/' <<<"$line")
  sockerr=$(sed -E 's/.*socket_errors=([0-9]+).*/\1/' <<<"$line")
  if [[ $name == warmup ]]; then
    return
  fi
  local app_ms pg_ms
  app_ms=$(awk -v t=$((app1 - app0)) -v n="$requests" -v hz="$CLK_TCK" \
    'BEGIN {printf "%.2f", n ? t * 1000 / hz / n : 0}')
  pg_ms=$(awk -v t=$((pg1 - pg0)) -v n="$requests" -v hz="$CLK_TCK" \
    'BEGIN {printf "%.2f", n ? t * 1000 / hz / n : 0}')
  [[ $backend == postgres ]] || pg_ms="-"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$name" "$rps" "$p50" "$p90" \
    "$p99" "$((non2xx + sockerr))" "$app_ms" "$pg_ms" "$requests" >>"$RESULTS"
  printf '   %-18s %9s req/s  p50 %7s ms  p90 %7s ms  p99 %7s ms  errors %s  app CPU %s ms/req  pg CPU %s ms/req\n' \
    "$name" "$rps" "$p50" "$p90" "$p99" "$((non2xx + sockerr))" "$app_ms" "$pg_ms" >&2
}

# run_backend NAME DATABASE_URL
run_backend() {
  local backend=$1 url=$2
  rm -rf "$SCRATCH/seed" "$SCRATCH/mail"
  log "$backend: starting app on $url"
  start_app "$url"
  log "$backend: seeding $SEED_PROCESSES processes"
  python3 "$ROOT/bench/seed.py" --base "$BASE" --count "$SEED_PROCESSES" --out "$SCRATCH/seed" \
    | tee "$OUT/$backend-seed.txt" >&2
  local rss_seed
  rss_seed=$(peak_rss_kb)
  log "$backend: wrk -t$THREADS -c$CONNECTIONS -d$DURATION per scenario"
  scenario "$backend" warmup get_by_id.lua 3s
  scenario "$backend" get_by_id get_by_id.lua
  scenario "$backend" list list.lua
  scenario "$backend" tasks tasks.lua
  scenario "$backend" create create.lua
  local rss_peak
  rss_peak=$(peak_rss_kb)
  printf '%s\t%s\t%s\n' "$backend" "$rss_seed" "$rss_peak" >>"$OUT/rss.tsv"
  echo "   peak RSS (VmHWM): ${rss_peak} kB (after seeding: ${rss_seed} kB)" >&2
  stop_app

  log "$backend: restart with AUDIT_READS=none"
  start_app "$url" AUDIT_READS=none
  scenario "$backend" warmup get_by_id.lua 3s
  scenario "$backend" get_by_id_noaudit get_by_id.lua
  stop_app

  log "$backend: query plans"
  if [[ $backend == postgres ]]; then
    python3 "$ROOT/bench/explain.py" --pg "$url" --seed "$SCRATCH/seed" >"$OUT/$backend-plans.txt"
  else
    python3 "$ROOT/bench/explain.py" --sqlite "${url#sqlite://}" --seed "$SCRATCH/seed" \
      >"$OUT/$backend-plans.txt"
  fi
  echo "   $OUT/$backend-plans.txt" >&2
}

: >"$OUT/rss.tsv"
for backend in $BENCH_BACKENDS; do
  case $backend in
    sqlite)
      run_backend sqlite "sqlite://$SCRATCH/bench.db"
      ;;
    postgres)
      if [[ -z $PG_URL ]]; then
        echo "postgres: set BENCH_DATABASE_URL or TEST_DATABASE_URL" >&2
        exit 1
      fi
      PG_DB="pas_bench_$$"
      psql "$PG_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null
      # The same server URL with the scratch database's name (any ?query kept).
      base=${PG_URL%%\?*}
      query=${PG_URL#"$base"}
      if [[ $base =~ ^postgres(ql)?://[^/]+$ ]]; then
        db_url="$base/$PG_DB$query"
      else
        db_url="${base%/*}/$PG_DB$query"
      fi
      run_backend postgres "$db_url"
      psql "$PG_URL" -X -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
      PG_DB=""
      ;;
    *)
      echo "unknown backend $backend (sqlite, postgres)" >&2
      exit 1
      ;;
  esac
done

# --- summary ----------------------------------------------------------------------------
{
  echo "Seed: $SEED_PROCESSES processes; wrk -t$THREADS -c$CONNECTIONS -d$DURATION; $(nproc) cores."
  echo
  echo "| backend | scenario | req/s | p50 ms | p90 ms | p99 ms | errors | app CPU ms/req | PostgreSQL CPU ms/req |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}' "$RESULTS"
  echo
  echo "| backend | peak RSS after seeding | peak RSS (VmHWM) after all scenarios |"
  echo "|---|---:|---:|"
  awk -F'\t' '{printf "| %s | %.1f MiB | %.1f MiB |\n", $1, $2 / 1024, $3 / 1024}' "$OUT/rss.tsv"
} | tee "$OUT/summary.md"

# Any non-2xx answer or socket error makes the run fail: the numbers would not mean much.
if awk -F'\t' '$7 > 0 {bad = 1} END {exit !bad}' "$RESULTS"; then
  echo "some requests failed: see $OUT/*.txt" >&2
  exit 1
fi
