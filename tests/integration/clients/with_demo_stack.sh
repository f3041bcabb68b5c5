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

PGVEIL_BIN=${PGVEIL_BIN:-$ROOT/build/pgveil}
IT_TMP=$(mktemp -d /tmp/pgveil-it-demo-XXXXXX)
chmod 755 "$IT_TMP"
export IT_TMP
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
  fi
  if [[ -z ${PGVEIL_IT_KEEP:-} ]]; then rm -rf "$IT_TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ -x $PGVEIL_BIN ]] || { echo "with_demo_stack: no pgveil executable at $PGVEIL_BIN" >&2; exit 1; }
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
for attempt in 1 2 3; do
  IT_PROXY_PORT=$(pgc_free_port)
  "$PGVEIL_BIN" serve --config "$ROOT/demo/pgveil.json" --listen "127.0.0.1:$IT_PROXY_PORT" \
    --upstream "127.0.0.1:$PGC_PORT" --keys "$IT_TMP/keys.json" \
    --catalog "host=127.0.0.1 port=$PGC_PORT dbname=crm user=pgveil_catalog password=veil-demo" \
    2>>"$IT_TMP/pgveil.log" &
  PROXY_PID=$!
  for _ in $(seq 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$IT_PROXY_PORT") 2>/dev/null; then break 2; fi
    kill -0 "$PROXY_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$PROXY_PID" 2>/dev/null || true
  PROXY_PID=
  ((attempt < 3)) || { echo "with_demo_stack: pgveil did not start" >&2; exit 1; }
done
export IT_PROXY_PORT

set +e
"$@"
rc=$?
set -e
if [[ -n $PROXY_PID ]] && ! kill -0 "$PROXY_PID" 2>/dev/null; then
  echo "with_demo_stack: pgveil exited during the test" >&2
  rc=1
fi
exit "$rc"
