#!/usr/bin/env bash
# The demo screens through pgveil, as a sales rep and as the matching engine.
# Starts a throwaway cluster, loads a small demo, starts pgveil with the shipped rules and
# the demo keys, then runs every screen (demo/screens/1-4) for several members and a
# 1,000-row sample of every crm table:
#   * as sales_li: no phone, ID number, WeChat ID, QQ number, email or full real name of
#     any member appears in the output, and no recorded chat contact detail
#     (crm_truth.chat_pii) does either (exact incomes, heights and birth dates are checked
#     cell by cell by tests/masking);
#   * as match_engine: the output is identical to a direct connection.
# Usage: test_demo_screens.sh PGVEIL_BINARY
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
pgveil=${1:?usage: test_demo_screens.sh PGVEIL_BINARY}
# shellcheck source=../../scripts/lib/pgcluster.sh
source "$root/scripts/lib/pgcluster.sh"

tmp=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  pgc_stop
  rm -rf "$tmp"
}
trap cleanup EXIT
if [[ $(id -u) -eq 0 ]]; then chmod 755 "$tmp"; fi
pgc_start "$tmp/pg"
pgc_psql -d postgres -c "CREATE DATABASE demo" >/dev/null
pgc_psql -d demo -f "$root/demo/schema.sql" >/dev/null
pgc_psql -d demo -v members=1500 -v seed=42 -f "$root/demo/generate.sql" >/dev/null
{
  echo "local all all trust"
  echo "host all postgres 127.0.0.1/32 trust"
  echo "host all all 127.0.0.1/32 scram-sha-256"
} >"$PGC_DIR/pg_hba.conf"
pgc_psql -d postgres -c "SELECT pg_reload_conf()" >/dev/null

install -m 600 "$root/demo/keys.json" "$tmp/keys.json"
port=$(pgc_free_port)
"$pgveil" serve --listen "127.0.0.1:$port" --upstream "127.0.0.1:$PGC_PORT" \
  --rules "$root/masking-rules/crm.json" --keys "$tmp/keys.json" --log_level warn \
  --catalog "host=127.0.0.1 port=$PGC_PORT dbname=demo user=pgveil_catalog password=veil-demo" \
  2>"$tmp/pgveil.log" &
pid=$!
for _ in $(seq 100); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/pgveil.log" >&2; exit 1; }
  sleep 0.1
done

# run USER PORT OUTFILE: every screen for five members, and a sample of every table.
run() {
  local user=$1 p=$2 out=$3
  : >"$out"
  for m in 1 2 3 17 42; do
    for s in 1_profile_card 2_who_viewed_me 3_chat_messages; do
      PGPASSWORD=veil-demo psql -X -q --csv -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$p" -U "$user" \
        -d demo -v member_id="$m" -f "$root/demo/screens/$s.sql" >>"$out"
    done
  done
  PGPASSWORD=veil-demo psql -X -q --csv -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$p" -U "$user" \
    -d demo -f "$root/demo/screens/4_pool_listing.sql" >>"$out"
  for t in stores staff members chat_messages profile_views resource_claims contact_log; do
    PGPASSWORD=veil-demo psql -X -q --csv -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$p" -U "$user" \
      -d demo -c "SELECT * FROM crm.$t LIMIT 1000" >>"$out"
  done
}

run sales_li "$port" "$tmp/sales.csv"
run match_engine "$port" "$tmp/matcher.csv"
# The matcher's direct results, for comparison (same login, straight to the server).
run match_engine "$PGC_PORT" "$tmp/direct.csv"

failures=0
if cmp -s "$tmp/matcher.csv" "$tmp/direct.csv"; then
  echo "ok: match_engine through pgveil is identical to direct"
else
  echo "FAIL: match_engine through pgveil differs from direct" >&2
  failures=$((failures + 1))
fi

# Every protected raw value of every member, one per line (matched as whole words, so a
# short QQ number never matches inside a 19-digit pseudonym), and the contact details
# recorded in the chat ground truth (matched anywhere).
pgc_psql -d demo -At -c "
  SELECT v FROM crm.members m, LATERAL (VALUES (phone), (id_card_no), (wechat_id), (qq),
         (email), (real_name)) x(v)
  WHERE v IS NOT NULL AND length(v) >= 2
    -- staff names are shown to sales on purpose; a member may share one by chance
    AND v NOT IN (SELECT display_name FROM crm.staff)" >"$tmp/raw-words.txt"
pgc_psql -d demo -At -c "
  SELECT raw_fragment FROM crm_truth.chat_pii WHERE length(raw_fragment) >= 6" \
  >"$tmp/raw-fragments.txt"
scan() {  # scan FILE: prints the number of distinct raw values found in FILE
  { LC_ALL=C.UTF-8 grep -F -w -o -f "$tmp/raw-words.txt" "$1" || true
    grep -F -o -f "$tmp/raw-fragments.txt" "$1" || true; } | sort -u | wc -l
}
found=$(scan "$tmp/sales.csv")
if ((found > 0)); then
  # Only how many, never the values themselves.
  echo "FAIL: $found distinct raw protected values reached sales_li" >&2
  failures=$((failures + 1))
else
  echo "ok: no raw protected value in $(wc -c <"$tmp/sales.csv") bytes sent to sales_li"
fi
# The scan must be able to fail: the matcher's output holds the raw values.
if (($(scan "$tmp/matcher.csv") > 100)); then
  echo "ok: the same scan finds raw values in the matcher's output"
else
  echo "FAIL: the scan found nothing in the matcher's output either" >&2
  failures=$((failures + 1))
fi
# Chat text keeps its innocent parts: prices and the like survive redaction.
if grep -q -E '[0-9]+元|¥[0-9]+' "$tmp/sales.csv"; then
  echo "ok: innocent numbers survive in sales_li's chat text"
else
  echo "FAIL: no innocent number left in sales_li's chat text" >&2
  failures=$((failures + 1))
fi
exit $((failures > 0))
