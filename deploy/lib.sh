# Shell functions shared by deploy/local-cluster.sh and the CI scripts under tests/scripts/:
# throw-away PostgreSQL clusters and PgBouncer on loopback. Source it; needs root
# (pg_createcluster) and PostgreSQL's Debian tools.

# The newest installed PostgreSQL major version (Debian's layout).
pg_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1; }

# wait_pg PORT: until a server answers on 127.0.0.1:PORT (at most 30 s); 1 if none does.
wait_pg() {
  local _
  for _ in $(seq 1 60); do
    pg_isready -h 127.0.0.1 -p "$1" -q 2>/dev/null && return 0
    sleep 0.5
  done
  echo "nothing answers on 127.0.0.1:$1" >&2
  return 1
}

# pg_cluster VERSION NAME PORT [SETTING...]: a new cluster NAME on 127.0.0.1:PORT, trusting
# loopback (replication too), with the extra postgresql.conf lines SETTING; started.
pg_cluster() {
  local version=$1 name=$2 port=$3
  shift 3
  pg_createcluster "$version" "$name" --port "$port" >/dev/null
  local conf=/etc/postgresql/$version/$name
  {
    echo "listen_addresses = '127.0.0.1'"
    printf '%s\n' "$@"
  } >>"$conf/postgresql.conf"
  cat >"$conf/pg_hba.conf" <<HBA
local   all         all                trust
host    all         all  127.0.0.1/32  trust
host    replication all  127.0.0.1/32  trust
HBA
  pg_ctlcluster "$version" "$name" start
  wait_pg "$port"
}

# pg_primary_and_replica VERSION PRIMARY PRIMARY_PORT REPLICA REPLICA_PORT [DATABASE]:
# a new cluster PRIMARY (pg_cluster), DATABASE created in it when given, and a streaming
# replica REPLICA of it (pg_basebackup -R); both started.
pg_primary_and_replica() {
  local version=$1 primary=$2 primary_port=$3 replica=$4 replica_port=$5 database=${6:-}
  pg_cluster "$version" "$primary" "$primary_port" "wal_level = replica" "max_wal_senders = 4"
  local conf=/etc/postgresql/$version/$primary
  if [ -n "$database" ]; then
    psql -h 127.0.0.1 -p "$primary_port" -U postgres -q -c "CREATE DATABASE $database" >/dev/null
  fi

  pg_createcluster "$version" "$replica" --port "$replica_port" >/dev/null
  local data=/var/lib/postgresql/$version/$replica
  find "$data" -mindepth 1 -delete
  # -c fast: a spread checkpoint would keep the backup waiting for minutes.
  su postgres -c "pg_basebackup -h 127.0.0.1 -p $primary_port -U postgres -D $data -R -X stream -c fast" >/dev/null
  local rconf=/etc/postgresql/$version/$replica
  cat >>"$rconf/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
hot_standby = on
CONF
  cp "$conf/pg_hba.conf" "$rconf/pg_hba.conf"
  pg_ctlcluster "$version" "$replica" start
  wait_pg "$replica_port"
}

# pgbouncer_start DIR PORT POOL_SIZE DATABASE_LINE...: PgBouncer in transaction mode on
# 127.0.0.1:PORT, trusting the postgres user, its configuration, log and pid file
# (DIR/pgbouncer.pid) in DIR, POOL_SIZE server connections per database, with the given
# lines of its [databases] section (`name = host=… port=… dbname=…`, or `* = …`).
pgbouncer_start() {
  local dir=$1 port=$2 pool_size=$3
  shift 3
  {
    echo "[databases]"
    printf '%s\n' "$@"
    cat <<INI

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/pgbouncer-users.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = $pool_size
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  } >"$dir/pgbouncer.ini"
  echo '"postgres" ""' >"$dir/pgbouncer-users.txt"
  if [ "$(id -u)" -eq 0 ]; then
    # PgBouncer refuses to run as root; it writes its log and pid file as postgres.
    touch "$dir/pgbouncer.log"
    chown postgres:postgres "$dir" "$dir/pgbouncer.ini" "$dir/pgbouncer-users.txt" "$dir/pgbouncer.log"
    pgbouncer -d -u postgres "$dir/pgbouncer.ini"
  else
    pgbouncer -d "$dir/pgbouncer.ini"
  fi
  wait_pg "$port"
}
