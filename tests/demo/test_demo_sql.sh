#!/usr/bin/env bash
# Integration test of the demo SQL (demo/schema.sql, demo/generate.sql, demo/screens/):
# starts a throwaway PostgreSQL cluster, loads a small demo and checks counts, determinism,
# the validity of the generated data and its ground truth, roles, grants and SCRAM logins,
# and that every screen runs. Exits non-zero if any check fails.
#
#   tests/demo/test_demo_sql.sh            (DEMO_TEST_MEMBERS=3000 by default)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../../scripts/lib/pgcluster.sh
source "$root/scripts/lib/pgcluster.sh"

members=${DEMO_TEST_MEMBERS:-3000}
password=veil-demo
logins=(sales_li sales_wang lead_zhao match_engine intern_zhou pgveil_catalog)

tmp=$(mktemp -d)
cleanup() {
  pgc_stop
  rm -rf "$tmp"
}
trap cleanup EXIT
# The server runs as postgres when this runs as root: it must reach its directory.
if [[ $(id -u) -eq 0 ]]; then chmod 755 "$tmp"; fi
pgc_start "$tmp/pg"

failures=0
pass() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
# q SQL: one value (or rows, | separated) as postgres on the demo database.
q() { pgc_psql -d demo -tA -c "$1"; }
# expect NAME SQL: SQL must return true.
expect() {
  local got
  got=$(q "$2" 2>&1) || true
  if [[ $got == t ]]; then pass "$1"; else fail "$1 (got: $got)"; fi
}
# as LOGIN psql-args...: psql over TCP with the demo password (SCRAM, see pg_hba below).
as() {
  local login=$1
  shift
  PGPASSWORD=$password PGPASSFILE=/dev/null psql -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$PGC_PORT" -U "$login" -d demo "$@"
}
# refused NAME LOGIN SQL: the statement must fail with a permission error.
refused() {
  local out
  if out=$(as "$2" -tA -c "$3" 2>&1); then
    fail "$1 (succeeded: $out)"
  elif [[ $out == *"permission denied"* ]]; then
    pass "$1"
  else
    fail "$1 (unexpected error: $out)"
  fi
}
generate() { pgc_psql -d demo -v members="$members" -v seed="$1" -f "$root/demo/generate.sql"; }
# One md5 per crm and crm_truth table, over its rows in a fixed order.
fingerprints() {
  q "SELECT string_agg(format('SELECT %L, md5(coalesce(string_agg(t::text, E''\\n''
                                ORDER BY t::text), '''')) FROM %s t', c.oid::regclass,
                              c.oid::regclass), ' UNION ALL ' ORDER BY c.oid::regclass::text)
     FROM pg_class c
     WHERE c.relnamespace IN ('crm'::regnamespace, 'crm_truth'::regnamespace)
       AND c.relkind = 'r'" >"$tmp/fp.sql"
  pgc_psql -d demo -tA -F' ' -f "$tmp/fp.sql"
}

# Every constraint and index of the demo schemas, as DDL.
ddl() {
  q "SELECT string_agg(d, E'\n' ORDER BY d) FROM (
       SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS d
       FROM pg_constraint WHERE connamespace IN ('crm'::regnamespace, 'crm_truth'::regnamespace)
       UNION ALL
       SELECT indexdef FROM pg_indexes WHERE schemaname IN ('crm', 'crm_truth')) x"
}

# --- Load -----------------------------------------------------------------------------
pgc_psql -c "CREATE DATABASE demo"
pgc_psql -d demo -f "$root/demo/schema.sql"
ddl >"$tmp/ddl"
start=$(date +%s%N)
generate 42
echo "info: generated $members members in $((($(date +%s%N) - start) / 1000000)) ms"

# --- Row counts -----------------------------------------------------------------------
expect "members: exactly $members" "SELECT count(*) = $members FROM crm.members"
expect "stores: 12" "SELECT count(*) = 12 FROM crm.stores"
expect "staff: 8 per store, demo logins at store 3" \
  "SELECT count(*) = 96 AND count(*) FILTER (WHERE login IN ('sales_li', 'sales_wang',
          'lead_zhao') AND store_id = 3) = 3 FROM crm.staff"
expect "chat messages: 3 to 6 per member" \
  "SELECT count(*) BETWEEN 3 * $members AND 6 * $members FROM crm.chat_messages"
expect "every member started a conversation" \
  "SELECT count(DISTINCT sender_id) = $members FROM crm.chat_messages"
expect "profile views: 6 per member" "SELECT count(*) = 6 * $members FROM crm.profile_views"
expect "resource claims: 40-80% of members, at most one each" \
  "SELECT count(*) BETWEEN 0.4 * $members AND 0.8 * $members
          AND count(*) = count(DISTINCT member_id) FROM crm.resource_claims"
expect "contact log: several contacts per worked claim" \
  "SELECT count(*) > 0.2 * $members FROM crm.contact_log"
expect "contact_log serial continues after the generated ids" \
  "SELECT nextval('crm.contact_log_contact_id_seq') > max(contact_id) FROM crm.contact_log"
if [[ $(ddl) == "$(cat "$tmp/ddl")" ]]; then
  pass "keys, foreign keys and indexes rebuilt exactly as schema.sql defines them"
else fail "constraints or indexes differ from schema.sql after generate.sql"; fi
expect "constraints validated" \
  "SELECT bool_and(convalidated) AND count(*) FILTER (WHERE contype = 'f') = 9
   FROM pg_constraint WHERE connamespace = 'crm'::regnamespace"

# --- Pools and statuses -----------------------------------------------------------------
expect "every pool present" \
  "SELECT array_agg(DISTINCT pool ORDER BY pool) = '{assigned,city,store}' FROM crm.resource_claims"
expect "every status present" \
  "SELECT array_agg(DISTINCT status ORDER BY status)
          = '{contacted,no_service_needed,open,signed,visited}' FROM crm.resource_claims"
expect "members who refused contact sit in both public pools" \
  "SELECT count(DISTINCT pool) = 2 FROM crm.resource_claims
   WHERE status = 'no_service_needed' AND pool IN ('store', 'city')"
expect "do_not_contact members are no_service_needed" \
  "SELECT bool_and(rc.status = 'no_service_needed') FROM crm.resource_claims rc
   JOIN crm.members m USING (member_id) WHERE m.do_not_contact"
expect "every channel present" \
  "SELECT count(DISTINCT channel) = 3 FROM crm.contact_log"

# --- Data validity and ground truth (independent implementation) --------------------------
if PGHOST=127.0.0.1 PGPORT=$PGC_PORT PGUSER=postgres PGDATABASE=demo \
  python3 "$here/check_demo_data.py"; then
  pass "data checks"
else
  fail "data checks"
fi

# --- Determinism ------------------------------------------------------------------------
fingerprints >"$tmp/fp42a"
generate 42
fingerprints >"$tmp/fp42b"
if cmp -s "$tmp/fp42a" "$tmp/fp42b"; then pass "same seed, same data"; else
  fail "same seed, different data: $(diff "$tmp/fp42a" "$tmp/fp42b" | tr '\n' ' ')"
fi
pgc_psql -d demo -f "$root/demo/schema.sql"
generate 42
fingerprints >"$tmp/fp42c"
if cmp -s "$tmp/fp42a" "$tmp/fp42c"; then pass "schema re-run, same data"; else
  fail "schema re-run changed the data: $(diff "$tmp/fp42a" "$tmp/fp42c" | tr '\n' ' ')"
fi
generate 7
fingerprints >"$tmp/fp7"
for table in crm.members crm.chat_messages crm.profile_views crm.resource_claims \
  crm.contact_log crm.staff crm_truth.chat_pii; do
  a=$(grep "^$table " "$tmp/fp42a" | cut -d' ' -f2)
  b=$(grep "^$table " "$tmp/fp7" | cut -d' ' -f2)
  if [[ -n $a && $a != "$b" ]]; then pass "another seed changes $table"; else
    fail "another seed left $table unchanged"
  fi
done
generate 42
if pgc_psql -d demo -v members=99 -f "$root/demo/generate.sql" >/dev/null 2>&1; then
  fail "generate.sql accepted members=99"
else pass "generate.sql refuses members below 100"; fi
expect "a refused run leaves the data alone" "SELECT count(*) = $members FROM crm.members"

# --- Roles, grants and logins -------------------------------------------------------------
expect "groups cannot log in and have no password" \
  "SELECT bool_and(NOT rolcanlogin AND rolpassword IS NULL) AND count(*) = 3 FROM pg_authid
   WHERE rolname IN ('sales', 'sales_lead', 'matcher')"
expect "logins have SCRAM verifiers and no special powers" \
  "SELECT bool_and(rolcanlogin AND rolpassword LIKE 'SCRAM-SHA-256\$%' AND NOT rolsuper
                   AND NOT rolcreaterole AND NOT rolcreatedb AND NOT rolbypassrls)
          AND count(*) = 6 FROM pg_authid
   WHERE rolname IN ('sales_li', 'sales_wang', 'lead_zhao', 'match_engine', 'intern_zhou',
                     'pgveil_catalog')"
expect "memberships exactly as documented" \
  "SELECT array_agg(g.rolname || '>' || u.rolname ORDER BY g.rolname, u.rolname)
          = '{matcher>match_engine,sales>sales_li,sales>sales_wang,sales_lead>lead_zhao}'
   FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid
   JOIN pg_roles u ON u.oid = am.member
   WHERE u.rolname IN ('sales_li', 'sales_wang', 'lead_zhao', 'match_engine', 'intern_zhou',
                       'pgveil_catalog')"
expect "tables owned by postgres" \
  "SELECT bool_and(tableowner = 'postgres') FROM pg_tables
   WHERE schemaname IN ('crm', 'crm_truth')"

# Everyone but postgres must authenticate with SCRAM over TCP from now on.
cat >"$PGC_DIR/pg_hba.conf" <<HBA
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
HBA
if [[ $(id -u) -eq 0 ]]; then chown postgres: "$PGC_DIR/pg_hba.conf"; fi
q "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
for login in "${logins[@]}"; do
  if [[ $(as "$login" -tA -c "SELECT current_user" 2>&1) == "$login" ]]; then
    pass "$login logs in with its password (SCRAM over TCP)"
  else
    fail "$login cannot log in"
  fi
  if PGPASSWORD=wrong-password PGPASSFILE=/dev/null psql -X -h 127.0.0.1 -p "$PGC_PORT" \
    -U "$login" -d demo -c "SELECT 1" >/dev/null 2>&1; then
    fail "$login logs in with a wrong password"
  else
    pass "$login refused with a wrong password"
  fi
done
if PGPASSWORD=$password PGPASSFILE=/dev/null psql -X -h 127.0.0.1 -p "$PGC_PORT" -U sales \
  -d demo -c "SELECT 1" >/dev/null 2>&1; then fail "group sales can log in"; else
  pass "group sales cannot log in"
fi

for login in sales_li lead_zhao match_engine intern_zhou; do
  if [[ $(as "$login" -tA -c "SELECT count(*) > 0 FROM crm.members" 2>&1) == t ]]; then
    pass "$login reads crm"
  else fail "$login cannot read crm"; fi
  refused "$login cannot read crm_truth" "$login" "SELECT count(*) FROM crm_truth.chat_pii"
  refused "$login cannot change members" "$login" "UPDATE crm.members SET grade = 'A'"
done
refused "pgveil_catalog cannot read crm.members" pgveil_catalog "SELECT count(*) FROM crm.members"
refused "pgveil_catalog cannot read crm.chat_messages" pgveil_catalog \
  "SELECT body FROM crm.chat_messages LIMIT 1"
refused "pgveil_catalog cannot read crm_truth" pgveil_catalog \
  "SELECT count(*) FROM crm_truth.chat_pii"
refused "pgveil_catalog cannot copy crm data" pgveil_catalog \
  "COPY crm.members TO STDOUT"
refused "match_engine cannot log calls" match_engine \
  "INSERT INTO crm.contact_log (staff_id, member_id, channel) VALUES (3002, 1, 'call')"
refused "intern_zhou cannot log calls" intern_zhou \
  "INSERT INTO crm.contact_log (staff_id, member_id, channel) VALUES (3002, 1, 'call')"
if [[ $(as sales_wang -tA -c "UPDATE crm.resource_claims SET status = status
         WHERE member_id = (SELECT min(member_id) FROM crm.resource_claims) RETURNING 1") == 1 ]]
then pass "sales can update resource claims"; else fail "sales cannot update resource claims"; fi
catalog_sql="SELECT (SELECT count(*) FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.member
                     WHERE r.rolname IN ('sales_li', 'lead_zhao', 'match_engine')) = 3
               AND (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'crm' AND c.relkind = 'r') = 7
               AND (SELECT count(*) FROM pg_attribute
                    WHERE attrelid = 'crm.members'::regclass AND attnum > 0) = 26
               AND (SELECT count(*) FROM pg_type WHERE typname = 'timestamptz') = 1
               AND (SELECT count(*) >= 0 FROM pg_views WHERE schemaname = 'crm')
               AND (SELECT count(*) > 0 FROM pg_rewrite)
               AND current_setting('default_transaction_read_only') = 'on'"
if [[ $(as pgveil_catalog -tA -c "$catalog_sql" 2>&1) == t ]]; then
  pass "pgveil_catalog reads the catalog it needs (read-only session)"
else fail "pgveil_catalog cannot read its catalog: $(as pgveil_catalog -tA -c "$catalog_sql" 2>&1)"; fi

# --- Screens ------------------------------------------------------------------------------
pgc_psql -d demo -tA -f "$root/demo/screens/pick_member.sql" >"$tmp/pick" || true
member=$(sed -n 's/^member_id = //p' "$tmp/pick")
if [[ $member =~ ^[0-9]+$ ]]; then pass "a demo member was picked ($member)"; else
  fail "no demo member picked"; member=1
fi
# rows LOGIN SCREEN: number of rows the screen prints (unaligned, tuples only).
rows() {
  as "$1" -tA -v member_id="$member" -f "$root/demo/screens/$2" 2>"$tmp/err" | grep -c . ||
    true
}
for login in match_engine sales_li lead_zhao intern_zhou; do
  for screen in 1_profile_card.sql 2_who_viewed_me.sql 3_chat_messages.sql 4_pool_listing.sql; do
    n=$(rows "$login" "$screen")
    max=20
    if [[ $screen == 1_* ]]; then max=1; fi
    if [[ -s $tmp/err ]]; then fail "$screen as $login: $(cat "$tmp/err")"
    elif [[ $n -lt 1 || $n -gt $max ]]; then fail "$screen as $login returned $n rows"
    else pass "$screen as $login ($n rows)"; fi
  done
done
before=$(q "SELECT count(*) FROM crm.contact_log")
out=$(as sales_li -tA -F'|' -v member_id="$member" -f "$root/demo/screens/5_log_call.sql" 2>&1) ||
  true
after=$(q "SELECT count(*) FROM crm.contact_log")
if [[ $after -eq $((before + 1)) && $out == *"|3002|$member|call|"* ]]; then
  pass "screen 5 as sales_li logs one call and returns it"
else fail "screen 5 as sales_li: $out"; fi
expect "the logged call belongs to sales_li and the member" \
  "SELECT staff_id = 3002 AND member_id = $member AND channel = 'call'
   FROM crm.contact_log ORDER BY contact_id DESC LIMIT 1"
if as match_engine -tA -v member_id="$member" -f "$root/demo/screens/5_log_call.sql" \
  >/dev/null 2>&1; then fail "screen 5 as match_engine succeeded"; else
  pass "screen 5 refused to match_engine"
fi

echo
if [[ $failures -gt 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all demo SQL checks passed"
