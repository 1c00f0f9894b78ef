#!/usr/bin/env bash
# A read replica, end to end (PRODUCT.md section 13): makes a throw-away PostgreSQL primary
# and a streaming replica of it (pg_basebackup -R) on two spare ports, runs the replica test
# of pas-persistence against them, and removes both clusters whatever happens. The main
# cluster on 5432 is not touched. Needs root (pg_createcluster); run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=$(ls /etc/postgresql | sort -V | tail -n 1)
primary=pas_primary_$$
replica=pas_replica_$$
free_ports=()
for candidate in $(seq 5450 5499); do
  if ! ss -ltn | grep -q ":${candidate} "; then free_ports+=("$candidate"); fi
  [ "${#free_ports[@]}" -ge 2 ] && break
done
primary_port=${free_ports[0]}
replica_port=${free_ports[1]}
cleanup() {
  pg_dropcluster --stop "$version" "$replica" >/dev/null 2>&1 || true
  pg_dropcluster --stop "$version" "$primary" >/dev/null 2>&1 || true
}
trap cleanup EXIT

pg_createcluster "$version" "$primary" --port "$primary_port" >/dev/null
conf=/etc/postgresql/$version/$primary
cat >>"$conf/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 4
CONF
cat >"$conf/pg_hba.conf" <<HBA
local   all         all                trust
host    all         all  127.0.0.1/32  trust
host    replication all  127.0.0.1/32  trust
HBA
pg_ctlcluster "$version" "$primary" start

pg_createcluster "$version" "$replica" --port "$replica_port" >/dev/null
data=/var/lib/postgresql/$version/$replica
find "$data" -mindepth 1 -delete
su postgres -c "pg_basebackup -h 127.0.0.1 -p $primary_port -U postgres -D $data -R -X stream -c fast" >/dev/null
rconf=/etc/postgresql/$version/$replica
cat >>"$rconf/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
hot_standby = on
CONF
cp "$conf/pg_hba.conf" "$rconf/pg_hba.conf"
pg_ctlcluster "$version" "$replica" start
for port in "$primary_port" "$replica_port"; do
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p "$port" -q && break
    sleep 1
  done
done

echo "primary $primary on 127.0.0.1:$primary_port, replica $replica on 127.0.0.1:$replica_port"
TEST_PRIMARY_URL=postgres://postgres@127.0.0.1:$primary_port/postgres \
TEST_REPLICA_URL=postgres://postgres@127.0.0.1:$replica_port/postgres \
TEST_REPLICA_CLUSTER=$version/$replica \
  cargo test -p pas-persistence --test replica -- --nocapture
