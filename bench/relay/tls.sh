#!/usr/bin/env bash
# TLS relay benchmark: pgbench -S with TLS on both legs, directly to PostgreSQL, through
# PgBouncer (session mode, client_tls_* and server_tls_*; a second one with
# server_lifetime = 0 as a fresh-backend reference) and through pgveil (tls and
# upstream_tls), measured in one run with alternating repetitions; medians and ratios.
#
#   bench/relay/tls.sh [--quick] [--reps N] [--duration S] [--out FILE] ...
#   bench/relay/tls.sh --help
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bench/relay/tls.sh [options]

Makes a throwaway CA and server certificate (openssl), starts PostgreSQL with ssl=on,
PgBouncer (pool_mode=session, client_tls_sslmode=require, server_tls_sslmode=require),
the same PgBouncer with server_lifetime = 0 ("PgBouncer fresh": a new backend and a new
server TLS session per client, as through pgveil) and pgveil (tls + upstream_tls
require) with the same certificate, then runs pgbench -S (simple and prepared; 1 and 16
clients) with PGSSLMODE=require against each, alternating direct -> PgBouncer ->
PgBouncer fresh -> pgveil -> pgveil reuse in every repetition. Prints the medians, the
pgveil/PgBouncer ratios (target >= 1.0; pgveil/PgBouncer-fresh for information) and each
proxy's own CPU time per transaction (bench/relay/relay.py, as run.sh without the
fetches), and writes the same as markdown.

Options:
  --quick          1 repetition of 3 s (smoke test, not a result)
  --reps N         repetitions per cell, median reported (default 3)
  --duration S     seconds per pgbench run (default 10)
  --scale N        pgbench -i scale (default 10)
  --clients LIST   client counts (default 1,16; -j 2 above 1 client)
  --out FILE       markdown report (default: a temp file, path printed)
  --pgveil PATH    use this pgveil binary instead of building one (Release, build-bench)
  --build-dir DIR  build directory for the Release build (default: build-bench)
  --workers N      pgveil --workers (default: pgveil's own)
  --no-fresh-pgbouncer
                   leave out the second PgBouncer (server_lifetime = 0)
  --no-reuse-pgveil
                   leave out the second pgveil (upstream_reuse, warm backends)
  --no-deps        do not run scripts/install-deps.sh
  --keep           keep the temp dir
  --huge-pages     run PostgreSQL with huge_pages = on (root: reserves the huge
                   pages its shared memory needs, gives them back on exit); see
                   bench/README.md, "Huge pages"
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CMDLINE=$(printf '%q ' bench/relay/tls.sh "$@")

REPS=3 DURATION=10 SCALE=10 CLIENTS=1,16 OUT="" PGVEIL_BIN="" QUICK=0 DEPS=1
BUILD_DIR=$REPO/build-bench WITH_FRESH=1 WITH_REUSE=1
while (($#)); do
  if [[ $1 == --*=* ]]; then set -- "${1%%=*}" "${1#*=}" "${@:2}"; fi
  case $1 in
  --quick) QUICK=1 REPS=1 DURATION=3 ;;
  --reps) REPS=$2 && shift ;;
  --duration) DURATION=$2 && shift ;;
  --scale) SCALE=$2 && shift ;;
  --clients) CLIENTS=$2 && shift ;;
  --out) OUT=$2 && shift ;;
  --pgveil) PGVEIL_BIN=$(realpath "$2") && shift ;;
  --build-dir) BUILD_DIR=$2 && shift ;;
  --workers) BENCH_WORKERS=$2 && shift ;;
  --no-fresh-pgbouncer) WITH_FRESH=0 ;;
  --no-reuse-pgveil) WITH_REUSE=0 ;;
  --no-deps) DEPS=0 ;;
  --keep) BENCH_KEEP=1 ;;
  --huge-pages) BENCH_HUGE_PAGES=1 ;;
  -h | --help) usage && exit 0 ;;
  *) usage >&2 && bench_die "unknown option $1" ;;
  esac
  shift
done
[[ $REPS =~ ^[1-9][0-9]*$ && $DURATION =~ ^[1-9][0-9]*$ && $SCALE =~ ^[1-9][0-9]*$ &&
  $CLIENTS =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
  bench_die "--reps, --duration, --scale and --clients take positive integers"

((DEPS)) && bench_install_deps
bench_require psql pgbench pgbouncer openssl cmake
[[ -n $PGVEIL_BIN ]] || bench_build_pgveil "$BUILD_DIR"
bench_check_pgveil
[[ -n $OUT ]] || OUT=$(mktemp "${TMPDIR:-/tmp}/pgveil-tls-bench.XXXXXX.md")

bench_setup_tmp
CERTS=$BENCH_TMP/certs
mkdir -p "$CERTS"
bench_log "making a test CA and a server certificate"
(
  cd "$CERTS"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
    -out ca.crt -subj "/CN=pgveil bench CA" -days 30 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key \
    -out server.csr -subj /CN=localhost
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 30 \
    -extfile server.ext -out server.crt
) >"$BENCH_TMP/openssl.log" 2>&1 || { cat "$BENCH_TMP/openssl.log" >&2 && bench_die "openssl failed"; }
chmod 600 "$CERTS/server.key"
# PostgreSQL and PgBouncer run as postgres when we are root; pgveil reads as root.
if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$CERTS"; fi
chmod 755 "$CERTS"

bench_start_cluster
pgc_psql -d postgres -c "ALTER SYSTEM SET ssl = on" \
  -c "ALTER SYSTEM SET ssl_cert_file = '$CERTS/server.crt'" \
  -c "ALTER SYSTEM SET ssl_key_file = '$CERTS/server.key'" -c "SELECT pg_reload_conf()" >/dev/null
DB=bench
pgc_psql -d postgres -c "CREATE DATABASE $DB" >/dev/null
bench_log "pgbench -i -s $SCALE"
pgbench -i -q -s "$SCALE" -h 127.0.0.1 -p "$PGC_PORT" -U postgres "$DB" >"$BENCH_TMP/init.log" 2>&1 ||
  { cat "$BENCH_TMP/init.log" >&2 && bench_die "pgbench -i failed"; }
ssl=$(psql -X -At "host=127.0.0.1 port=$PGC_PORT user=postgres dbname=$DB sslmode=require" \
  -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
[[ $ssl == t ]] || bench_die "PostgreSQL did not accept TLS"

bench_log "starting PgBouncer with TLS on both legs"
PGB_TLS=("client_tls_sslmode = require" "client_tls_cert_file = $CERTS/server.crt"
  "client_tls_key_file = $CERTS/server.key" "server_tls_sslmode = require")
bench_start_pgbouncer "$DB" "${PGB_TLS[@]}"
TARGETS=(--target "direct=$PGC_PORT" --target "pgbouncer=$PGB_PORT:$PGB_PID")
if ((WITH_FRESH)); then
  bench_log "starting PgBouncer with TLS on both legs and server_lifetime = 0"
  bench_start_pgbouncer_fresh "$DB" "${PGB_TLS[@]}"
  TARGETS+=(--target "pgbouncer-fresh=$PGB_PORT:$PGB_PID")
fi

bench_log "starting pgveil with TLS on both legs ($PGVEIL_BIN)"
cat >"$BENCH_TMP/pgveil.json" <<JSON
{"tls": {"cert": "$CERTS/server.crt", "key": "$CERTS/server.key"}, "upstream_tls": "require"}
JSON
bench_start_pgveil "$DB" -c "$BENCH_TMP/pgveil.json"
TARGETS+=(--target "pgveil=$PGV_PORT:$PGV_PID")
if ((WITH_REUSE)); then
  bench_log "starting a second pgveil with TLS on both legs and upstream_reuse"
  bench_start_pgveil_reuse "$DB" -c "$BENCH_TMP/pgveil.json"
  TARGETS+=(--target "pgveil-reuse=$PGV_PORT:$PGV_PID")
fi

# Every target must really be TLS on the client leg and on the server leg.
for target in "${TARGETS[@]}"; do
  [[ $target == --target ]] && continue
  name=${target%%=*} port=${target#*=} port=${port%%:*}
  info="host=127.0.0.1 port=$port user=postgres dbname=$DB"
  out=$(psql -X -At "$info sslmode=require" -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
  [[ $out == t ]] || bench_die "$name: server leg is not TLS"
  if [[ $name != direct ]] && psql -X -At "$info sslmode=disable" -c "SELECT 1" >/dev/null 2>&1; then
    bench_die "$name: accepted a plaintext client"
  fi
done

export PGSSLMODE=require
NOTES="pgbench -i -s $SCALE; pgveil workers: ${BENCH_WORKERS:-default}; $BENCH_PAGES; PGSSLMODE=require, TLS on both legs of every proxy"
((QUICK)) && NOTES+="; QUICK MODE (1 repetition, 3 s runs): smoke test only, not a result"
bench_log "measuring"
bench_run python3 "$BENCH_DIR/relay.py" "${TARGETS[@]}" --db "$DB" --reps "$REPS" \
  --duration "$DURATION" --clients "$CLIENTS" --no-fetch --out "$OUT" --cmdline "$CMDLINE" \
  --repo "$REPO" --notes "$NOTES" --pgveil-bin "$PGVEIL_BIN" --title "pgveil TLS relay benchmark"
