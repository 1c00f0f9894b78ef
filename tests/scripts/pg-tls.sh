#!/usr/bin/env bash
# TLS to PostgreSQL, end to end (PRODUCT.md section 13): makes a throw-away PostgreSQL
# cluster on a spare port that accepts TLS connections only (`hostssl`), with a server
# certificate for `localhost` signed by a throw-away CA, runs the TLS tests of
# pas-persistence against it, and removes the cluster and the keys whatever happens.
# Needs root (pg_createcluster) and PostgreSQL's Debian tools; run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=$(ls /etc/postgresql | sort -V | tail -n 1)
name=pas_tls_$$
port=${PG_TLS_PORT:-}
if [ -z "$port" ]; then
  for candidate in $(seq 5440 5499); do
    if ! ss -ltn | grep -q ":${candidate} "; then port=$candidate; break; fi
  done
fi
dir=$(mktemp -d)
cleanup() {
  pg_dropcluster --stop "$version" "$name" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

# A CA, and a server certificate for localhost (not for 127.0.0.1: verify-full must tell).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=pas test CA" \
  -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
  -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$dir/ext.cnf"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 2 -extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
# Another CA that signed nothing here: verification against it must fail.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
  -keyout "$dir/other.key" -out "$dir/other.pem" 2>/dev/null
chown postgres:postgres "$dir/server.key" "$dir/server.pem"
chmod 600 "$dir/server.key"
chmod 755 "$dir"

pg_createcluster "$version" "$name" --port "$port" >/dev/null
conf=/etc/postgresql/$version/$name
cat >>"$conf/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
ssl = on
ssl_cert_file = '$dir/server.pem'
ssl_key_file = '$dir/server.key'
CONF
cat >"$conf/pg_hba.conf" <<HBA
local   all all                trust
hostssl all all 127.0.0.1/32   trust
HBA
pg_ctlcluster "$version" "$name" start
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p "$port" -q && break
  sleep 1
done

echo "TLS cluster $name on 127.0.0.1:$port"
TEST_TLS_PORT=$port TEST_TLS_CA=$dir/ca.pem TEST_TLS_OTHER_CA=$dir/other.pem \
  cargo test -p pas-persistence --test tls -- --nocapture
