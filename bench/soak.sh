#!/usr/bin/env bash
# Soak test under faults (not in CI): 10 minutes of mixed load against the `app` binary
# with a fault injected every minute (the SMTP server stops for 20 s, or the app is killed
# with SIGKILL and restarted), printing errors, p99 latency, RSS, emails and pending outbox
# rows every 10 s; at the end it checks that every acknowledged change's emails arrived.
#
#   bash bench/soak.sh                         # 10 min, SQLite file
#   SOAK_MINUTES=2 SOAK_FAULT_EVERY=20 bash bench/soak.sh   # a shortened run
#   SOAK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/soak bash bench/soak.sh
#
# Settings: SOAK_MINUTES (10), SOAK_FAULT_EVERY (60 s), SOAK_REPORT_EVERY (10 s),
# SOAK_SMTP_DOWN (20 s), SOAK_CLIENTS (8), SOAK_CREATE_EVERY (4 s per client),
# SOAK_DATABASE_URL (a scratch SQLite file),
# SOAK_APP (a built binary; default: builds target/release/app).
# Results go to docs/PERFORMANCE.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
APP=${SOAK_APP:-}
if [[ -z $APP ]]; then
  cargo build --release -p pas-app --bin app
  APP="${CARGO_TARGET_DIR:-target}/release/app"
fi
exec python3 bench/soak.py --app "$APP" \
  --minutes "${SOAK_MINUTES:-10}" \
  --fault-every "${SOAK_FAULT_EVERY:-60}" \
  --report-every "${SOAK_REPORT_EVERY:-10}" \
  --smtp-down "${SOAK_SMTP_DOWN:-20}" \
  --clients "${SOAK_CLIENTS:-8}" \
  --create-every "${SOAK_CREATE_EVERY:-4}" \
  --database-url "${SOAK_DATABASE_URL:-}"
