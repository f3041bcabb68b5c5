#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL loaded with the dating-CRM demo
# (demo/schema.sql, demo/generate.sql with 2,000 members) and pgveil in front of it with
# the demo policy (demo/pgveil.json, masking-rules/crm.json):
#
#   with_demo_stack.sh COMMAND [ARGS...]
#
# The command sees IT_PG_PORT (PostgreSQL), IT_PROXY_PORT (pgveil), IT_DATABASE (crm),
# IT_MASKED_USER (sales_li), IT_UNMASKED_USER (match_engine), IT_PASSWORD (their SCRAM
# password; postgres has trust) and IT_TMP (deleted afterwards unless PGVEIL_IT_KEEP=1).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
# shellcheck source=../../../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"

STACK_NAME=with_demo_stack
# shellcheck source=stack_lib.sh
source "$HERE/stack_lib.sh"

pgc_start "$IT_TMP/data"
pgc_psql -d postgres -c "CREATE DATABASE crm" >/dev/null
pgc_psql -d crm -f "$ROOT/demo/schema.sql" >/dev/null
pgc_psql -d crm -v members=2000 -v seed=42 -f "$ROOT/demo/generate.sql" >/dev/null
{
  echo "local all all trust"
  echo "host all postgres 127.0.0.1/32 trust"
  echo "host all all 127.0.0.1/32 scram-sha-256"
} >"$PGC_DIR/pg_hba.conf"
pgc_psql -d postgres -c "SELECT pg_reload_conf()" >/dev/null
install -m 600 "$ROOT/demo/keys.json" "$IT_TMP/keys.json"

export IT_PG_PORT=$PGC_PORT IT_DATABASE=crm IT_MASKED_USER=sales_li
export IT_UNMASKED_USER=match_engine IT_PASSWORD=veil-demo
stack_start_pgveil --config "$ROOT/demo/pgveil.json" --upstream "127.0.0.1:$PGC_PORT" \
  --keys "$IT_TMP/keys.json" \
  --catalog "host=127.0.0.1 port=$PGC_PORT dbname=crm user=pgveil_catalog password=veil-demo"

stack_run "$@"
