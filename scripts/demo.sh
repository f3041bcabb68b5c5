#!/usr/bin/env bash
# The dating-CRM demo: one command shows what pgveil does.
#   installs what is missing, builds pgveil, starts a throwaway PostgreSQL (temp dir, free
#   ports), loads the demo CRM (demo/schema.sql, demo/generate.sql), starts pgveil with the
#   demo policy (masking-rules/crm.json), prints the CRM screens as the matching engine and
#   as a sales rep, then keeps running until Ctrl-C so that you can try more with psql.
# Options:
#   --once            print the screens, then stop and clean up (for CI)
#   --members N       members to generate (default 10000)
#   --build-dir DIR   use (and build) pgveil in DIR (default: build)
#   --no-deps         do not run scripts/install-deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

ONCE=0
MEMBERS=10000
BUILD_DIR=$ROOT/build
DEPS=1
while (($#)); do
  case $1 in
    --once) ONCE=1 ;;
    --members) MEMBERS=${2:?--members needs a number}; shift ;;
    --build-dir) BUILD_DIR=${2:?--build-dir needs a directory}; shift ;;
    --no-deps) DEPS=0 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $MEMBERS =~ ^[0-9]+$ ]] || { echo "demo.sh: --members needs a whole number" >&2; exit 2; }

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if ((DEPS)); then
  say "checking dependencies"
  bash scripts/install-deps.sh
fi

say "building pgveil"
umask 022
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" --target pgveil -j "$(nproc)" >/dev/null
PGVEIL=$BUILD_DIR/pgveil

source scripts/lib/pgcluster.sh
WORK=$(mktemp -d /tmp/pgveil-demo.XXXXXX)
chmod 755 "$WORK"
PGVEIL_PID=
cleanup() {
  if [[ -n $PGVEIL_PID ]]; then kill "$PGVEIL_PID" 2>/dev/null || true; wait "$PGVEIL_PID" 2>/dev/null || true; fi
  pgc_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting PostgreSQL"
pgc_start "$WORK/pg"
pgc_psql -d postgres -c "CREATE DATABASE crm" >/dev/null
say "loading the demo CRM ($MEMBERS members)"
pgc_psql -d crm -f demo/schema.sql >/dev/null
pgc_psql -d crm -v members="$MEMBERS" -v seed=42 -f demo/generate.sql >/dev/null
# Logins authenticate with their SCRAM passwords over TCP, as a CRM would.
HBA=$PGC_DIR/pg_hba.conf
{
  echo "local all all trust"
  echo "host all postgres 127.0.0.1/32 trust"
  echo "host all all 127.0.0.1/32 scram-sha-256"
} >"$HBA"
pgc_psql -d postgres -c "SELECT pg_reload_conf()" >/dev/null

install -m 600 demo/keys.json "$WORK/keys.json"
PORT=$(pgc_free_port)
say "starting pgveil on port $PORT"
"$PGVEIL" serve --config demo/pgveil.json --listen "127.0.0.1:$PORT" \
  --upstream "127.0.0.1:$PGC_PORT" --keys "$WORK/keys.json" \
  --catalog "host=127.0.0.1 port=$PGC_PORT dbname=crm user=pgveil_catalog password=veil-demo" \
  2>"$WORK/pgveil.log" &
PGVEIL_PID=$!
for _ in $(seq 100); do
  if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  if ! kill -0 "$PGVEIL_PID" 2>/dev/null; then cat "$WORK/pgveil.log" >&2; exit 1; fi
  sleep 0.1
done

MEMBER=$(pgc_psql -d crm -At -f demo/screens/pick_member.sql | tail -1 | sed 's/.*= *//')
# The id as the sales rep sees it: what the sales policy shows for the member's id.
SALES_MEMBER=$("$PGVEIL" pseudonym --rules masking-rules/crm.json --keys "$WORK/keys.json" \
  --policy sales --column crm.members.member_id "$MEMBER")
cat <<TXT

pgveil demo: the same CRM screens, as the matching engine (match_engine, unmasked)
and as a sales rep (sales_li, masked by the "sales" policy). Member shown: id $MEMBER
(the sales rep sees it only as the pseudonym $SALES_MEMBER).
TXT
python3 demo/show.py --port "$PORT" --dbname crm --member-id "$MEMBER" \
  --sales-member-id "$SALES_MEMBER"

cat <<TXT

Try more (password veil-demo):
  psql "host=127.0.0.1 port=$PORT dbname=crm user=sales_li"       # sales policy
  psql "host=127.0.0.1 port=$PORT dbname=crm user=lead_zhao"      # sales lead: more of the phone
  psql "host=127.0.0.1 port=$PORT dbname=crm user=intern_zhou"    # default policy: nothing personal
  psql "host=127.0.0.1 port=$PORT dbname=crm user=match_engine"   # unmasked
  psql "host=127.0.0.1 port=$PGC_PORT dbname=crm user=postgres"   # PostgreSQL itself, no pgveil
pgveil's log: $WORK/pgveil.log
TXT
if ((ONCE)); then exit 0; fi
echo "Running until Ctrl-C."
wait "$PGVEIL_PID"
