#!/usr/bin/env bash
# Masking benchmark: a 200,000-row SELECT from crm.members with at least six masked
# columns, run alternately direct, through PgBouncer with server_lifetime = 0 (a new
# backend per client, the reference for any proxy), through pgveil as the matcher
# (unmasked) and as sales (masked), and the same two through a second pgveil with
# --upstream_reuse true (warm backends). See bench/README.md.
#
#   bench/relay/masking.sh [--quick] [--reps N] [--rows N] [--out FILE] ...
#   bench/relay/masking.sh --help
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bench/relay/masking.sh [options]

Loads the CRM demo (demo/schema.sql, then demo/generate.sql with -v members=ROWS) into a
throwaway PostgreSQL, starts PgBouncer (session mode, server_lifetime = 0: a new backend
per client, like default pgveil), pgveil with masking-rules/crm.json and demo/keys.json
(default: a new backend per client) and a second pgveil with the same arguments plus
--upstream_reuse true (warm backends handed on, opt-in), checks that the matcher's and
PgBouncer's results are byte-identical to a direct one, that the reuse sales result is
the same as the default sales one and that sales gets at least six masked columns, then
times the SELECT in alternation direct -> PgBouncer (as the matcher) -> pgveil matcher ->
pgveil sales -> matcher (reuse) -> sales (reuse), twice:
  per connection  one psql per query, wall time (the verdicts, against direct)
  steady state    one psql session per target, the query 3 times under \timing;
                  the median of the 2nd and 3rd times (no connection set-up, no first
                  query of a new backend)

Options:
  --quick             smoke test: 1 repetition
  --reps N            repetitions per cell, median reported (default 9, at least 3
                      unless --quick)
  --rows N            members to generate and select (default 200000)
  --db NAME           database for the demo (default crm)
  --matcher LOGIN     unmasked login (default match_engine)
  --sales LOGIN       masked login (default sales_li)
  --password PW       password of both logins (default veil-demo)
  --query SQL         the timed statement (default: 12 columns of crm.members, 9 of
                      them masked for sales)
  --rules PATH        rules for pgveil (default masking-rules/crm.json)
  --keys PATH         key file for pgveil (default demo/keys.json)
  --serve-arg ARG     one argument for `pgveil serve`, repeatable; when given, these
                      replace the default masking arguments (--rules RULES --keys KEYS
                      --catalog "host=127.0.0.1 port={PGPORT} user=pgveil_catalog
                      dbname={DB}"); {PGPORT} and {DB} are substituted
  --out FILE          markdown report (default: a new temp file, path printed)
  --pgveil PATH       use this pgveil binary instead of building one
  --build-dir DIR     build directory for the Release build (default: build-bench)
  --workers N         pgveil --workers
  --no-fresh-pgbouncer
                      leave out the PgBouncer reference
  --no-reuse-pgveil   leave out the second pgveil (--upstream_reuse true)
  --pgbouncer-auth M  PgBouncer's auth_type for its clients: auto (default: the
                      server's, scram-sha-256 when PostgreSQL asks the matcher for a
                      password, else trust), scram-sha-256 or trust
  --no-deps           do not run scripts/install-deps.sh
  --keep              keep the temp dir (cluster, configs, logs) for inspection
  --huge-pages        run PostgreSQL with huge_pages = on (root: reserves the huge
                      pages its shared memory needs, gives them back on exit); see
                      bench/README.md, "Huge pages"
  --strict            exit 1 when any target FAILs
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CMDLINE=$(printf '%q ' bench/relay/masking.sh "$@")

REPS=9 ROWS=200000 DB=crm MATCHER=match_engine SALES=sales_li PASSWORD=veil-demo
RULES=$REPO/masking-rules/crm.json KEYS=$REPO/demo/keys.json SERVE_ARGS=()
OUT="" PGVEIL_BIN="" BUILD_DIR=$REPO/build-bench DEPS=1 STRICT=() QUICK=0
WITH_FRESH=1 WITH_REUSE=1 PGB_AUTH=auto
QUERY="SELECT member_id, nickname, real_name, gender, birth_date, phone, email, city,
  height_cm, monthly_income, registered_at, about_me FROM crm.members"
while (($#)); do
  if [[ $1 == --*=* ]]; then # --opt=value is --opt value
    set -- "${1%%=*}" "${1#*=}" "${@:2}"
  fi
  case $1 in
  --quick) QUICK=1 REPS=1 ;;
  --reps) REPS=$2 && shift ;;
  --rows) ROWS=$2 && shift ;;
  --db) DB=$2 && shift ;;
  --matcher) MATCHER=$2 && shift ;;
  --sales) SALES=$2 && shift ;;
  --password) PASSWORD=$2 && shift ;;
  --query) QUERY=$2 && shift ;;
  --rules) RULES=$(realpath "$2") && shift ;;
  --keys) KEYS=$(realpath "$2") && shift ;;
  --serve-arg) SERVE_ARGS+=("$2") && shift ;;
  --out) OUT=$2 && shift ;;
  --pgveil) PGVEIL_BIN=$(realpath "$2") && shift ;;
  --build-dir) BUILD_DIR=$2 && shift ;;
  --workers) BENCH_WORKERS=$2 && shift ;;
  --no-fresh-pgbouncer) WITH_FRESH=0 ;;
  --no-reuse-pgveil) WITH_REUSE=0 ;;
  --pgbouncer-auth) PGB_AUTH=$2 && shift ;;
  --no-deps) DEPS=0 ;;
  --keep) BENCH_KEEP=1 ;;
  --huge-pages) BENCH_HUGE_PAGES=1 ;;
  --strict) STRICT=(--strict) ;;
  -h | --help) usage && exit 0 ;;
  *) usage >&2 && bench_die "unknown option $1" ;;
  esac
  shift
done
[[ $REPS =~ ^[1-9][0-9]*$ && $ROWS =~ ^[1-9][0-9]*$ ]] ||
  bench_die "--reps and --rows take positive integers"
[[ $DB =~ ^[a-z_][a-z0-9_]*$ ]] || bench_die "--db must be a plain lower-case identifier"
if ((QUICK == 0 && REPS < 3)); then bench_die "--reps must be at least 3 (or use --quick)"; fi
[[ $PGB_AUTH =~ ^(auto|trust|scram-sha-256)$ ]] ||
  bench_die "--pgbouncer-auth takes auto, trust or scram-sha-256"

# The demo and the rules come from other parts of the project; say clearly what is missing.
missing=()
for f in "$REPO/demo/schema.sql" "$REPO/demo/generate.sql"; do
  [[ -f $f ]] || missing+=("${f#"$REPO"/}")
done
if ((${#SERVE_ARGS[@]} == 0)); then
  for f in "$RULES" "$KEYS"; do [[ -f $f ]] || missing+=("${f#"$REPO"/}"); done
fi
((${#missing[@]} == 0)) || bench_die "missing ${missing[*]}: the masking benchmark needs the CRM demo and its rules"

((DEPS)) && bench_install_deps
bench_require psql python3 cmake
((WITH_FRESH)) && bench_require pgbouncer
[[ -n $PGVEIL_BIN ]] || bench_build_pgveil "$BUILD_DIR"
bench_check_pgveil
[[ -n $OUT ]] || OUT=$(mktemp "${TMPDIR:-/tmp}/pgveil-masking-bench.XXXXXX.md")

START=$SECONDS
bench_setup_tmp
bench_start_cluster
pgc_psql -d postgres -c "CREATE DATABASE $DB" >/dev/null
bench_log "loading demo/schema.sql and demo/generate.sql (members=$ROWS)"
(cd "$REPO" && pgc_psql -d "$DB" -f demo/schema.sql >"$BENCH_TMP/schema.log" 2>&1) ||
  { tail -n 20 "$BENCH_TMP/schema.log" >&2 && bench_die "demo/schema.sql failed"; }
(cd "$REPO" && pgc_psql -d "$DB" -v members="$ROWS" -f demo/generate.sql \
  >"$BENCH_TMP/generate.log" 2>&1) ||
  { tail -n 20 "$BENCH_TMP/generate.log" >&2 && bench_die "demo/generate.sql failed"; }
pgc_psql -d "$DB" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
for login in "$MATCHER" "$SALES"; do
  found=$(pgc_psql -d "$DB" -At -c "SELECT count(*) FROM pg_roles WHERE rolname = '$login' AND rolcanlogin")
  [[ $found == 1 ]] || bench_die "login $login does not exist after loading the demo"
done

if ((${#SERVE_ARGS[@]})); then
  MASK_ARGS=()
  for arg in "${SERVE_ARGS[@]}"; do
    arg=${arg//\{PGPORT\}/$PGC_PORT}
    MASK_ARGS+=("${arg//\{DB\}/$DB}")
  done
else
  # pgveil refuses key files that others can read, and git does not keep mode 0600.
  install -m 600 "$KEYS" "$BENCH_TMP/keys.json"
  # demo/schema.sql creates pgveil_catalog for the side connection; the throwaway
  # cluster trusts 127.0.0.1, so no password is needed here.
  MASK_ARGS=(--rules "$RULES" --keys "$BENCH_TMP/keys.json"
    --catalog "host=127.0.0.1 port=$PGC_PORT user=pgveil_catalog dbname=$DB")
fi
export PGPASSWORD=$PASSWORD
PGB_ARGS=()
if ((WITH_FRESH)); then
  if [[ $PGB_AUTH == auto ]]; then
    # Whatever the direct clients do: when the server lets the matcher in with a wrong
    # password it asks for none (the throwaway cluster trusts 127.0.0.1 by default).
    if PGPASSWORD="wrong-$PASSWORD" psql -X -q -At -h 127.0.0.1 -p "$PGC_PORT" \
      -U "$MATCHER" -d "$DB" -c 'SELECT 1' >/dev/null 2>&1; then
      PGB_AUTH=trust
    else
      PGB_AUTH=scram-sha-256
    fi
  fi
  # The demo logins with their passwords in plain text (a throwaway benchmark): PgBouncer
  # checks its clients with them and logs in to the server with them when asked.
  (
    umask 077
    pw=${PASSWORD//\"/\"\"}
    printf '"%s" "%s"\n' "$MATCHER" "$pw" "$SALES" "$pw" >"$BENCH_TMP/pgb-users.txt"
  )
  bench_log "starting PgBouncer with server_lifetime = 0 (a new backend per client), auth_type = $PGB_AUTH"
  bench_start_pgbouncer_fresh --userlist "$BENCH_TMP/pgb-users.txt" --ready-user "$MATCHER" \
    "$DB" "auth_type = $PGB_AUTH"
  rm -f "$BENCH_TMP/pgb-users.txt"
  PGB_ARGS=(--pgbouncer "$PGB_PORT:$PGB_PID" --pgbouncer-auth "$PGB_AUTH")
fi

bench_log "starting pgveil ($PGVEIL_BIN) with ${MASK_ARGS[*]}"
bench_start_pgveil "$DB" "${MASK_ARGS[@]}"
PROXY=$PGV_PORT:$PGV_PID
REUSE_ARGS=()
if ((WITH_REUSE)); then
  bench_log "starting a second pgveil with the same arguments and --upstream_reuse true"
  bench_start_pgveil_reuse "$DB" "${MASK_ARGS[@]}"
  REUSE_ARGS=(--proxy-reuse "$PGV_PORT:$PGV_PID")
fi

bench_log "setup took $((SECONDS - START)) s; measuring"
NOTES="pgveil workers: ${BENCH_WORKERS:-default}; $BENCH_PAGES"
((QUICK)) && NOTES+="; QUICK MODE (1 repetition): smoke test only, not a result"
bench_run python3 "$BENCH_DIR/masking.py" --direct "$PGC_PORT" \
  --proxy "$PROXY" "${REUSE_ARGS[@]}" "${PGB_ARGS[@]}" --db "$DB" --matcher "$MATCHER" \
  --sales "$SALES" --reps "$REPS" --rows "$ROWS" --query "$QUERY" --out "$OUT" \
  --cmdline "$CMDLINE" --repo "$REPO" --pgveil-bin "$PGVEIL_BIN" --notes "$NOTES" "${STRICT[@]}"
bench_log "total $((SECONDS - START)) s (after build)"
