#!/usr/bin/env bash
# pgbench through pgveil: initialisation (COPY, DDL), select-only runs in every query
# mode, and a short read-write run whose effects are checked on the server directly.
# Run under with_stack.sh.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }

direct_sql() {
  psql -X -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$IT_PG_PORT" -U it_trust -d pgveil_it -c "$1"
}

bench() {  # USER ARGS...: pgbench through pgveil; prints its output
  local user=$1
  shift
  local pw=
  [[ $user == it_md5 ]] && pw=$IT_MD5_PASSWORD
  [[ $user == it_scram ]] && pw=$IT_SCRAM_PASSWORD
  PGPASSWORD=$pw pgbench -h 127.0.0.1 -p "$IT_PROXY_PORT" -U "$user" "$@" pgveil_it
}

# Initialise through pgveil (client-side COPY of 100,000 accounts, then vacuum and keys).
bench it_trust -i -s 1 -q >"$IT_TMP/init.log" 2>&1 || { cat "$IT_TMP/init.log" >&2; fail "pgbench -i"; }
[[ $(direct_sql 'SELECT count(*) FROM pgbench_accounts') == 100000 ]] || fail "accounts not loaded"
[[ $(direct_sql 'SELECT count(*) FROM pgbench_branches') == 1 ]] || fail "branches not loaded"
direct_sql 'GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC' >/dev/null
echo "ok: pgbench -i through pgveil"

check_run() {  # NAME LOGFILE
  local processed failed
  processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$2")
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$2")
  [[ -n $processed && $processed -gt 0 ]] || { cat "$2" >&2; fail "$1: no transactions"; }
  [[ ${failed:-0} == 0 ]] || { cat "$2" >&2; fail "$1: $failed failed transactions"; }
  grep -q 'error\|ERROR' "$2" && { cat "$2" >&2; fail "$1: errors reported"; }
  echo "ok: $1: $processed transactions, $(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$2" | head -1) tps"
}

users=(it_trust it_md5 it_scram)
i=0
for mode in simple extended prepared; do
  user=${users[$i]}
  i=$((i + 1))
  log=$IT_TMP/select-$mode.log
  bench "$user" -S -M "$mode" -c 4 -j 2 -T 3 >"$log" 2>&1 || { cat "$log" >&2; fail "pgbench -S -M $mode"; }
  check_run "pgbench -S -M $mode ($user)" "$log"
done

# Read-write: every transaction adds one history row; balances must add up.
log=$IT_TMP/rw.log
bench it_scram -N -M prepared -c 4 -j 2 -t 200 >"$log" 2>&1 || { cat "$log" >&2; fail "pgbench -N"; }
check_run "pgbench -N -M prepared -t 200" "$log"
[[ $(direct_sql 'SELECT count(*) FROM pgbench_history') == 800 ]] || fail "history rows != 800"
[[ $(direct_sql 'SELECT (SELECT sum(abalance) FROM pgbench_accounts) = (SELECT sum(delta) FROM pgbench_history)') == t ]] ||
  fail "account balances do not match the history"
echo "ok: 800 read-write transactions applied exactly once"
