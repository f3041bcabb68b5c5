# shellcheck shell=bash
# Throwaway PostgreSQL clusters for the tests, the benchmarks and the demo.
#
#   source scripts/lib/pgcluster.sh
#   pgc_start DIR [PORT]     initdb in DIR (if empty) and start on PORT (default: a free one);
#                            sets PGC_PORT, PGC_DIR, PGC_BINDIR. Superuser: postgres, trust
#                            on the unix socket and on 127.0.0.1 unless pg_hba.conf is changed.
#   pgc_psql ARGS...         psql as postgres against the running cluster
#   pgc_stop                 stop it (also on EXIT when pgc_cleanup_on_exit was called)
#   pgc_free_port            prints a free TCP port on 127.0.0.1
#
# As root, the server runs as the postgres user through runuser.

PGC_BINDIR=${PGC_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

pgc_free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

pgc_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pgc_start() {
  PGC_DIR=$1
  PGC_PORT=${2:-$(pgc_free_port)}
  mkdir -p "$PGC_DIR"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$PGC_DIR"; chmod 700 "$PGC_DIR"; fi
  if [[ ! -f $PGC_DIR/PG_VERSION ]]; then
    pgc_as_owner "$PGC_BINDIR/initdb" -D "$PGC_DIR" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >"$PGC_DIR.initdb.log" 2>&1 ||
      { cat "$PGC_DIR.initdb.log" >&2; return 1; }
    cat >>"$PGC_DIR/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGC_DIR'
max_connections = 400
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
CONF
  fi
  pgc_as_owner "$PGC_BINDIR/pg_ctl" -D "$PGC_DIR" -o "-p $PGC_PORT" -l "$PGC_DIR/server.log" \
    -w -t 60 start >/dev/null || { cat "$PGC_DIR/server.log" >&2; return 1; }
  export PGC_DIR PGC_PORT
}

pgc_psql() {
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGC_PORT" -U postgres "$@"
}

pgc_stop() {
  if [[ -n ${PGC_DIR:-} && -f $PGC_DIR/postmaster.pid ]]; then
    pgc_as_owner "$PGC_BINDIR/pg_ctl" -D "$PGC_DIR" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
