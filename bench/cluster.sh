#!/usr/bin/env bash
# Throughput of one and of two instances behind HAProxy (docs/PERFORMANCE.md, "Several
# instances"): starts deploy/local-cluster.sh without credentials (CLUSTER_AUTH=off; the
# instances listen on loopback only), seeds SEED_PROCESSES processes through HAProxy
# (bench/seed.py), then runs each wrk scenario of bench/wrk with both instances in
# HAProxy's rotation and with one (the other set to maintenance through HAProxy's admin
# socket), and removes the cluster.
#
#   bash bench/cluster.sh
#
# Settings (environment): SEED_PROCESSES (2000), DURATION (20s), CONNECTIONS (16),
# THREADS (2), SCENARIOS ("get_by_id list tasks create"), BENCH_OUT (target/bench-cluster),
# and the port and directory settings of deploy/local-cluster.sh. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SEED_PROCESSES=${SEED_PROCESSES:-2000}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
SCENARIOS=${SCENARIOS:-get_by_id list tasks create}
OUT=${BENCH_OUT:-$ROOT/target/bench-cluster}
DIR=${CLUSTER_DIR:-/tmp/pas-local-cluster}
LB="http://127.0.0.1:${HAPROXY_PORT:-8180}"
export CLUSTER_DIR=$DIR

log() { printf '\n== %s\n' "$*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq wrk >/dev/null
fi

CLUSTER_AUTH=off bash deploy/local-cluster.sh >&2
trap 'bash deploy/local-cluster.sh --down >/dev/null 2>&1 || true' EXIT

# haproxy COMMAND: one command on HAProxy's admin socket.
haproxy_cmd() {
  python3 - "$DIR/haproxy.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.recv(4096).decode().strip())
PY
}

mkdir -p "$OUT"
log "seeding $SEED_PROCESSES processes through HAProxy"
python3 bench/seed.py --base "$LB" --count "$SEED_PROCESSES" --out "$OUT/seed" >&2

# run NAME INSTANCES: one wrk run (after a 5 s unrecorded warm-up); prints a table row.
run() {
  local name=$1 instances=$2 lua result
  lua=$(mktemp)
  cat bench/wrk/common.lua "bench/wrk/$name.lua" >"$lua"
  SEED_DIR="$OUT/seed" wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -s "$lua" "$LB" >/dev/null
  result=$(SEED_DIR="$OUT/seed" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s \
    -s "$lua" "$LB" | tee "$OUT/$name-$instances.txt" | grep '^RESULT')
  rm -f "$lua"
  # RESULT requests=… rps=… p50_ms=… p90_ms=… p99_ms=… max_ms=… non2xx=… socket_errors=…
  local rps p50 p99 non2xx
  rps=$(sed -E 's/.* rps=([0-9.]+).*/\1/' <<<"$result")
  p50=$(sed -E 's/.* p50_ms=([0-9.]+).*/\1/' <<<"$result")
  p99=$(sed -E 's/.* p99_ms=([0-9.]+).*/\1/' <<<"$result")
  non2xx=$(sed -E 's/.* non2xx=([0-9]+).*/\1/' <<<"$result")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$instances" "$rps" "$p50" "$p99" "$non2xx"
}

{
  echo "| scenario | instances | requests/s | p50 ms | p99 ms | non-2xx |"
  echo "|---|---|---|---|---|---|"
  for name in $SCENARIOS; do
    haproxy_cmd "set server instances/app2 state ready" >/dev/null
    sleep 2
    run "$name" 2
    haproxy_cmd "set server instances/app2 state maint" >/dev/null
    sleep 1
    run "$name" 1
  done
} | tee "$OUT/summary.md"
echo "machine: $(nproc) cores; HAProxy, PgBouncer, both PostgreSQL clusters, the instances and wrk share them" |
  tee -a "$OUT/summary.md"
