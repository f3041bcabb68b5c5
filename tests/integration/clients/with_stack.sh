#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL with pgveil in front of it:
#
#   with_stack.sh COMMAND [ARGS...]
#
# The cluster has the same logins as the C++ harness (it_trust: trust, it_md5: md5,
# it_scram: scram-sha-256, postgres: trust superuser) and the database pgveil_it owned
# by it_trust. The command sees:
#   IT_PG_PORT      PostgreSQL's port (direct connections)
#   IT_PROXY_PORT   pgveil's port (PGVEIL_IT_DIRECT=1: PostgreSQL's port again)
#   IT_TMP          a scratch directory, deleted afterwards (PGVEIL_IT_KEEP=1 keeps it)
#   IT_MD5_PASSWORD, IT_SCRAM_PASSWORD
# Everything is stopped on exit, also when the command fails or the script is killed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
# shellcheck source=../../../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"

PGVEIL_BIN=${PGVEIL_BIN:-$ROOT/build/pgveil}
IT_TMP=$(mktemp -d /tmp/pgveil-it-sh-XXXXXX)
chmod 755 "$IT_TMP"  # the server user must reach its data directory inside
export IT_TMP
export IT_MD5_PASSWORD='md5-Passw0rd!'
export IT_SCRAM_PASSWORD='scram-Passw0rd!'
PROXY_PID=

cleanup() {
  local rc=$?
  if [[ -n $PROXY_PID ]] && kill -0 "$PROXY_PID" 2>/dev/null; then
    kill -TERM "$PROXY_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PROXY_PID" 2>/dev/null || true
  fi
  pgc_stop
  if ((rc != 0)); then
    echo "---- pgveil log (tail) ----" >&2
    tail -c 3000 "$IT_TMP/pgveil.log" 2>/dev/null >&2 || true
    echo "---- PostgreSQL log (tail) ----" >&2
    tail -c 3000 "$IT_TMP/data/server.log" 2>/dev/null >&2 || true
  fi
  if [[ -z ${PGVEIL_IT_KEEP:-} ]]; then rm -rf "$IT_TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for_port() {  # PORT PID SECONDS
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# initdb here (not in pgc_start) to skip its fsync, which dominates on a busy machine.
DATA=$IT_TMP/data
mkdir -p "$DATA"
if [[ $(id -u) -eq 0 ]]; then chown postgres: "$DATA"; chmod 700 "$DATA"; fi
pgc_as_owner "$PGC_BINDIR/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 \
  --locale=C.UTF-8 --no-sync >"$IT_TMP/initdb.log" 2>&1 || { cat "$IT_TMP/initdb.log" >&2; exit 1; }
cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DATA'
max_connections = 100
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
CONF
cat >"$DATA/pg_hba.conf" <<HBA
local all all trust
host all it_trust 127.0.0.1/32 trust
host all it_md5 127.0.0.1/32 md5
host all it_scram 127.0.0.1/32 scram-sha-256
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
HBA
pgc_start "$DATA"
pgc_psql -d postgres <<SQL
CREATE ROLE it_trust LOGIN;
SET password_encryption = 'md5';
CREATE ROLE it_md5 LOGIN PASSWORD '$IT_MD5_PASSWORD';
SET password_encryption = 'scram-sha-256';
CREATE ROLE it_scram LOGIN PASSWORD '$IT_SCRAM_PASSWORD';
CREATE DATABASE pgveil_it OWNER it_trust;
\c pgveil_it
GRANT ALL ON SCHEMA public TO it_md5, it_scram;
SQL
export IT_PG_PORT=$PGC_PORT

if [[ ${PGVEIL_IT_DIRECT:-} == 1 ]]; then
  echo "with_stack: PGVEIL_IT_DIRECT=1: clients connect straight to PostgreSQL" >&2
  export IT_PROXY_PORT=$PGC_PORT
else
  [[ -x $PGVEIL_BIN ]] || { echo "with_stack: no pgveil executable at $PGVEIL_BIN" >&2; exit 1; }
  for attempt in 1 2 3; do
    IT_PROXY_PORT=$(pgc_free_port)
    "$PGVEIL_BIN" serve --listen "127.0.0.1:$IT_PROXY_PORT" --upstream "127.0.0.1:$PGC_PORT" \
      --workers 2 --log_level info 2>>"$IT_TMP/pgveil.log" &
    PROXY_PID=$!
    if wait_for_port "$IT_PROXY_PORT" "$PROXY_PID" 30; then break; fi
    kill -KILL "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=
    ((attempt < 3)) || { echo "with_stack: pgveil did not start" >&2; exit 1; }
  done
  export IT_PROXY_PORT
fi

set +e
"$@"
rc=$?
set -e
if [[ -n $PROXY_PID ]] && ! kill -0 "$PROXY_PID" 2>/dev/null; then
  echo "with_stack: pgveil exited during the test" >&2
  rc=1
fi
exit "$rc"
