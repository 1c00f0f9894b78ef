#!/usr/bin/env bash
# A read replica, end to end (PRODUCT.md section 13): makes a throw-away PostgreSQL primary
# and a streaming replica of it (pg_basebackup -R) on two spare ports, runs the replica test
# of pas-persistence against them, and removes both clusters whatever happens. The main
# cluster on 5432 is not touched. Needs root (pg_createcluster); run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=deploy/lib.sh
. deploy/lib.sh

version=$(pg_version)
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

pg_primary_and_replica "$version" "$primary" "$primary_port" "$replica" "$replica_port"

echo "primary $primary on 127.0.0.1:$primary_port, replica $replica on 127.0.0.1:$replica_port"
TEST_PRIMARY_URL=postgres://postgres@127.0.0.1:$primary_port/postgres \
TEST_REPLICA_URL=postgres://postgres@127.0.0.1:$replica_port/postgres \
TEST_REPLICA_CLUSTER=$version/$replica \
  cargo test -p pas-persistence --test replica -- --nocapture
