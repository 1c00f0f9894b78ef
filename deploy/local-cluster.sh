#!/usr/bin/env bash
# Several instances on one PostgreSQL, on this one machine (PRODUCT.md section 13;
# docs/OPERATIONS.md "A local cluster"):
#
#   bash deploy/local-cluster.sh          # start it all, run the smoke scenario, print where
#   bash deploy/local-cluster.sh --down   # stop and remove it all
#
# Starts, from Debian's packages (installed when missing):
#   - a PostgreSQL primary and a streaming replica of it (a second cluster made with
#     pg_createcluster + pg_basebackup -R), the machine's own cluster on 5432 untouched;
#   - PgBouncer in transaction mode in front of both (`signing` is the primary,
#     `signing_ro` the replica);
#   - two `app` instances (the release binary; built when missing) connecting through
#     PgBouncer with DATABASE_STATEMENT_CACHE=false, reads for lists and portal lookups on
#     the replica, one audit key and one PII key shared by both, static bearer tokens;
#   - HAProxy in front of the instances, checking each one's /ready;
# then runs a smoke scenario through HAProxy (create, portal lookup, sign, audit trail,
# /metrics, both instances answering) and prints the endpoints and the tokens.
#
# Settings (environment): CLUSTER_DIR (/tmp/pas-local-cluster: configuration, keys, logs,
# pids), CLUSTER_AUTH (tokens; `off` for load tests without credentials), APP_BIN
# (target/release/app), ports PRIMARY_PORT (5460), REPLICA_PORT (5461), BOUNCER_PORT (6460),
# APP1_PORT (8181), APP2_PORT (8182), HAPROXY_PORT (8180). Needs root (pg_createcluster,
# apt-get); every listener is on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DIR=${CLUSTER_DIR:-/tmp/pas-local-cluster}
AUTH=${CLUSTER_AUTH:-tokens}
APP_BIN=${APP_BIN:-$ROOT/target/release/app}
PRIMARY_PORT=${PRIMARY_PORT:-5460}
REPLICA_PORT=${REPLICA_PORT:-5461}
BOUNCER_PORT=${BOUNCER_PORT:-6460}
APP1_PORT=${APP1_PORT:-8181}
APP2_PORT=${APP2_PORT:-8182}
HAPROXY_PORT=${HAPROXY_PORT:-8180}
PRIMARY=pas_cluster_primary
REPLICA=pas_cluster_replica
LB="http://127.0.0.1:$HAPROXY_PORT"
# shellcheck source=deploy/lib.sh
. "$ROOT/deploy/lib.sh"

log() { printf '== %s\n' "$*"; }
fail() {
  printf 'local-cluster: %s\n' "$*" >&2
  exit 1
}

stop_pidfile() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid
  pid=$(cat "$file")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
  fi
  rm -f "$file"
}

down() {
  for name in app1 app2 haproxy pgbouncer; do
    stop_pidfile "$DIR/$name.pid"
  done
  local version
  version=$(pg_version)
  if [ -n "$version" ]; then
    pg_dropcluster --stop "$version" "$REPLICA" >/dev/null 2>&1 || true
    pg_dropcluster --stop "$version" "$PRIMARY" >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
  log "local cluster removed"
}

if [ "${1:-}" = "--down" ]; then
  down
  exit 0
elif [ -n "${1:-}" ]; then
  fail "unknown argument $1 (only --down)"
fi

[ "$(id -u)" -eq 0 ] || fail "run as root (pg_createcluster and apt-get need it)"
[ -e "$DIR" ] && fail "$DIR exists: is a cluster already up? Remove it with --down first"
case $AUTH in tokens | off) ;; *) fail "CLUSTER_AUTH must be tokens or off" ;; esac

# --- packages --------------------------------------------------------------------------
need=()
command -v pg_createcluster >/dev/null 2>&1 || need+=(postgresql)
command -v pgbouncer >/dev/null 2>&1 || need+=(pgbouncer)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v jq >/dev/null 2>&1 || need+=(jq)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian starts the packages' own services; this cluster runs its own processes.
for service in pgbouncer haproxy; do
  if pidof "$service" >/dev/null 2>&1 && command -v service >/dev/null 2>&1; then
    service "$service" stop >/dev/null 2>&1 || true
  fi
done
for port in "$PRIMARY_PORT" "$REPLICA_PORT" "$BOUNCER_PORT" "$APP1_PORT" "$APP2_PORT" "$HAPROXY_PORT"; do
  if ss -ltn | grep -q "127.0.0.1:$port \|\*:$port \|0.0.0.0:$port "; then
    fail "port $port is taken (set the *_PORT variables)"
  fi
done

if [ ! -x "$APP_BIN" ] || [ "$APP_BIN" = "$ROOT/target/release/app" ]; then
  log "building the release binary"
  cargo build --release -p pas-app --bin app
fi

mkdir -p "$DIR"
chmod 755 "$DIR"
# A failure half-way leaves nothing running behind.
trap 'status=$?; if [ $status -ne 0 ]; then echo "local-cluster: failed; logs in $DIR are removed, run again with the output above" >&2; tail -n 20 "$DIR"/*.log 2>/dev/null >&2 || true; down >/dev/null; fi' EXIT

version=$(pg_version)

# --- PostgreSQL primary and streaming replica, PgBouncer ------------------------------------
log "PostgreSQL $version primary on $PRIMARY_PORT, streaming replica on $REPLICA_PORT"
pg_primary_and_replica "$version" "$PRIMARY" "$PRIMARY_PORT" "$REPLICA" "$REPLICA_PORT" signing

log "PgBouncer (transaction mode) on $BOUNCER_PORT"
pgbouncer_start "$DIR" "$BOUNCER_PORT" 10 \
  "signing = host=127.0.0.1 port=$PRIMARY_PORT dbname=signing" \
  "signing_ro = host=127.0.0.1 port=$REPLICA_PORT dbname=signing"

# --- keys, tokens, the two instances --------------------------------------------------------
umask 077
openssl rand -base64 32 >"$DIR/audit.key"
openssl rand -base64 32 >"$DIR/pii.key"
ADMIN_TOKEN=$(openssl rand -hex 24)
PORTAL_TOKEN=$(openssl rand -hex 24)
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
cat >"$DIR/tokens.toml" <<TOML
[[token]]
name = "cluster-admin"
sha256 = "$(sha "$ADMIN_TOKEN")"
roles = ["pas-admin"]

[[token]]
name = "cluster-portal"
sha256 = "$(sha "$PORTAL_TOKEN")"
roles = ["pas-portal"]
TOML
printf 'ADMIN_TOKEN=%s\nPORTAL_TOKEN=%s\n' "$ADMIN_TOKEN" "$PORTAL_TOKEN" >"$DIR/tokens.env"
umask 022

auth_env=(AUTH_MODE="$AUTH")
[ "$AUTH" = tokens ] && auth_env+=(AUTH_TOKENS_FILE="$DIR/tokens.toml")
start_instance() {
  local name=$1 port=$2
  mkdir -p "$DIR/$name"
  (
    cd "$DIR/$name"
    env -i PATH="$PATH" HOME="$DIR/$name" \
      APP_BIND="127.0.0.1:$port" \
      DATABASE_URL="postgres://postgres@127.0.0.1:$BOUNCER_PORT/signing" \
      DATABASE_READ_URL="postgres://postgres@127.0.0.1:$BOUNCER_PORT/signing_ro" \
      DATABASE_STATEMENT_CACHE=false \
      DATABASE_POOL_SIZE=8 \
      "${auth_env[@]}" \
      AUDIT_KEY_FILE="$DIR/audit.key" \
      PII_KEY_FILE="$DIR/pii.key" \
      MAIL_DIR="$DIR/mail" \
      LOG_FORMAT=json \
      nohup "$APP_BIN" >"$DIR/$name.log" 2>&1 &
    echo $! >"$DIR/$name.pid"
  )
}
log "app instances on $APP1_PORT and $APP2_PORT"
start_instance app1 "$APP1_PORT"
start_instance app2 "$APP2_PORT"
for port in "$APP1_PORT" "$APP2_PORT"; do
  for i in $(seq 1 60); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready")" = 200 ] && break
    [ "$i" -eq 60 ] && fail "the instance on $port is not ready within 30 s"
    sleep 0.5
  done
done

# --- HAProxy --------------------------------------------------------------------------------
log "HAProxy on $HAPROXY_PORT"
cat >"$DIR/haproxy.cfg" <<CFG
global
    daemon
    pidfile $DIR/haproxy.pid
    maxconn 4000
    stats socket $DIR/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    option http-keep-alive

frontend api
    bind 127.0.0.1:$HAPROXY_PORT
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    http-response set-header X-Served-By %[srv_name]
    server app1 127.0.0.1:$APP1_PORT check inter 1s
    server app2 127.0.0.1:$APP2_PORT check inter 1s
CFG
haproxy -c -q -f "$DIR/haproxy.cfg"
haproxy -f "$DIR/haproxy.cfg"
for i in $(seq 1 40); do
  served=$(for _ in 1 2 3 4; do
    curl -s -D - -o /dev/null "$LB/ready" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-served-by" { print $2 }'
  done | sort -u | tr '\n' ' ')
  [ "$served" = "app1 app2 " ] && break
  [ "$i" -eq 40 ] && fail "HAProxy does not reach both instances (answered by: ${served:-none})"
  sleep 0.5
done

# --- smoke scenario through HAProxy ---------------------------------------------------------
API="$LB/api/v1"
if [ "$AUTH" = tokens ]; then
  admin=(-H "Authorization: Bearer $ADMIN_TOKEN")
  portal=(-H "Authorization: Bearer $PORTAL_TOKEN")
else
  admin=(-H "X-User: cluster-admin")
  portal=(-H "X-User: cluster-portal")
fi
# call EXPECTED_STATUS CURL_ARGS...: the body on stdout; a different status fails the run.
call() {
  local expected=$1
  shift
  local out status
  out=$(curl -s -w '\n%{http_code}' "$@")
  status=${out##*$'\n'}
  if [ "$status" != "$expected" ]; then
    fail "$* answered $status, not $expected: ${out%$'\n'*}"
  fi
  printf '%s' "${out%$'\n'*}"
}

log "smoke scenario through HAProxy"
code=161175-19997
created=$(call 201 "${admin[@]}" -H 'Content-Type: application/json' -X POST "$API/processes" -d @- <<JSON
{"documentId": "cluster-smoke", "documentName": "Lease", "ownerGroup": "sales",
 "processInitiatorEmail": "office@example.lv", "status": "STARTED",
 "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
   {"signerRole": "SIGNER", "signerEmail": "client@example.lv", "signerCountry": "LV",
    "signerPersonalCode": "$code", "signerName": "Client", "signerLanguage": "lv"}]}]}
JSON
)
id=$(jq -r .id <<<"$created")
entry=$(jq -r '.signingProcessSteps[0].processStepSigners[0].id' <<<"$created")
echo "created process $id (STARTED)"
# The portal lookup reads the replica, which may lag the primary by a moment.
for i in $(seq 1 20); do
  tasks=$(call 200 "${portal[@]}" "$API/signer-tasks?personalCode=$code&country=LV")
  [ "$(jq .totalElements <<<"$tasks")" = 1 ] && break
  [ "$i" -eq 20 ] && fail "the portal does not list the new task within 10 s: $tasks"
  sleep 0.5
done
echo "portal lists the signer's task"
call 200 "${portal[@]}" -H 'Content-Type: application/json' -X POST \
  "$API/process-step-signers/$entry/sign" -d "{\"personalCode\": \"$code\", \"country\": \"LV\"}" >/dev/null
status=$(call 200 "${admin[@]}" "$API/processes/$id" | jq -r .status)
[ "$status" = COMPLETED ] || fail "the process is $status after its only signature, not COMPLETED"
echo "signed; process COMPLETED"
trail=$(call 200 "${admin[@]}" "$API/processes/$id/audit-trail")
[ "$(jq -r .valid <<<"$trail")" = true ] || fail "the audit trail does not verify: $trail"
echo "audit trail valid"
served=$(for _ in 1 2 3 4; do
  curl -s -D - -o /dev/null "${admin[@]}" "$API/processes/$id" | tr -d '\r' |
    awk -F': ' 'tolower($1) == "x-served-by" { print $2 }'
done | sort -u | tr '\n' ' ')
[ "$served" = "app1 app2 " ] || fail "reads were not spread over both instances (${served:-none})"
echo "reads answered by: $served"
metrics=$(call 200 "$LB/metrics")
grep -q '^http_requests_total{' <<<"$metrics" || fail "/metrics has no http_requests_total"
echo "/metrics: $(grep -c '^[a-z]' <<<"$metrics") samples"

trap - EXIT
cat <<EOF

Local cluster up (state, logs and keys in $DIR):
  HAProxy          $LB              (API $LB/api/v1, /metrics, /ready)
  app instances    http://127.0.0.1:$APP1_PORT  http://127.0.0.1:$APP2_PORT  (logs $DIR/app1.log, app2.log)
  PgBouncer        127.0.0.1:$BOUNCER_PORT  databases signing (primary), signing_ro (replica)
  PostgreSQL       primary 127.0.0.1:$PRIMARY_PORT, streaming replica 127.0.0.1:$REPLICA_PORT
EOF
if [ "$AUTH" = tokens ]; then
  cat <<EOF
  tokens           source $DIR/tokens.env  (ADMIN_TOKEN: pas-admin, PORTAL_TOKEN: pas-portal)
  try              source $DIR/tokens.env; curl -H "Authorization: Bearer \$ADMIN_TOKEN" "$LB/api/v1/processes?isAdmin=true"
EOF
fi
echo "Remove it all: bash deploy/local-cluster.sh --down"
