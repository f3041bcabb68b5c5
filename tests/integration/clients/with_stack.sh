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

STACK_NAME=with_stack
# shellcheck source=stack_lib.sh
source "$HERE/stack_lib.sh"
export IT_MD5_PASSWORD='md5-Passw0rd!'
export IT_SCRAM_PASSWORD='scram-Passw0rd!'

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
  stack_start_pgveil --upstream "127.0.0.1:$PGC_PORT" --workers 2 --log_level info
fi

stack_run "$@"
