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
PgBouncer fresh -> pgveil in every repetition. Prints the medians and the
pgveil/PgBouncer ratios (target >= 1.0; pgveil/PgBouncer-fresh for information) and
writes them as markdown.

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
TARGETS=("direct:$PGC_PORT" "pgbouncer:$PGB_PORT")
if ((WITH_FRESH)); then
  bench_log "starting PgBouncer with TLS on both legs and server_lifetime = 0"
  bench_start_pgbouncer_fresh "$DB" "${PGB_TLS[@]}"
  TARGETS+=("pgbouncer-fresh:$PGB_PORT")
fi

bench_log "starting pgveil with TLS on both legs ($PGVEIL_BIN)"
cat >"$BENCH_TMP/pgveil.json" <<JSON
{"tls": {"cert": "$CERTS/server.crt", "key": "$CERTS/server.key"}, "upstream_tls": "require"}
JSON
bench_start_pgveil "$DB" -c "$BENCH_TMP/pgveil.json"
TARGETS+=("pgveil:$PGV_PORT")
if ((WITH_REUSE)); then
  bench_log "starting a second pgveil with TLS on both legs and upstream_reuse"
  bench_start_pgveil_reuse "$DB" -c "$BENCH_TMP/pgveil.json"
  TARGETS+=("pgveil-reuse:$PGV_PORT")
fi

# Every target must really be TLS on the client leg and on the server leg.
for target in "${TARGETS[@]}"; do
  port=${target#*:}
  info="host=127.0.0.1 port=$port user=postgres dbname=$DB"
  out=$(psql -X -At "$info sslmode=require" -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
  [[ $out == t ]] || bench_die "${target%%:*}: server leg is not TLS"
  if [[ ${target%%:*} != direct ]] && psql -X -At "$info sslmode=disable" -c "SELECT 1" >/dev/null 2>&1; then
    bench_die "${target%%:*}: accepted a plaintext client"
  fi
done

export PGSSLMODE=require
tps() { # tps PORT MODE CLIENTS
  local jobs=1 out
  (($3 > 1)) && jobs=2
  out=$(pgbench -n -S -M "$2" -c "$3" -j "$jobs" -T "$DURATION" -h 127.0.0.1 -p "$1" -U postgres "$DB" 2>&1) ||
    { echo "$out" >&2 && bench_die "pgbench failed on port $1"; }
  sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

bench_log "warm-up"
tps "$PGC_PORT" simple 2 >/dev/null
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
ROWS=()
for mode in simple prepared; do
  for c in "${CLIENT_LIST[@]}"; do
    # One list of samples per target, as "name value" lines in run order.
    samples=()
    for ((r = 1; r <= REPS; r++)); do
      line=""
      for target in "${TARGETS[@]}"; do
        t=$(tps "${target#*:}" "$mode" "$c")
        samples+=("${target%%:*} $t")
        line+=" ${target%%:*} $t"
      done
      bench_log "-M $mode -c $c rep $r/$REPS:$line"
    done
    declare -A med=()
    for target in "${TARGETS[@]}"; do
      name=${target%%:*}
      mapfile -t vals < <(printf '%s\n' "${samples[@]}" | awk -v n="$name" '$1 == n {print $2}')
      med[$name]=$(median "${vals[@]}")
    done
    rpgb=$(ratio "${med[pgveil]}" "${med[pgbouncer]}")
    verdict=$(awk -v r="$rpgb" 'BEGIN {print (r >= 1.0) ? "pass" : "**miss**"}')
    row="| pgbench -S -M $mode, $c client$( ((c > 1)) && echo s) (tps) | $(printf '%.0f' "${med[direct]}") | $(printf '%.0f' "${med[pgbouncer]}")"
    ((WITH_FRESH)) && row+=" | $(printf '%.0f' "${med[pgbouncer-fresh]}")"
    row+=" | $(printf '%.0f' "${med[pgveil]}") | $rpgb"
    ((WITH_FRESH)) && row+=" | $(ratio "${med[pgveil]}" "${med[pgbouncer-fresh]}")"
    row+=" | $(ratio "${med[pgveil]}" "${med[direct]}") | $verdict"
    if ((WITH_REUSE)); then
      rreuse=$(ratio "${med[pgveil-reuse]}" "${med[pgbouncer]}")
      row+=" | $(printf '%.0f' "${med[pgveil-reuse]}") | $rreuse | $(awk -v r="$rreuse" 'BEGIN {print (r >= 1.0) ? "pass" : "**miss**"}')"
    fi
    row+=" |"
    ROWS+=("$row")
    unset med
  done
done

{
  echo "Command: \`$CMDLINE\`"
  echo
  echo "pgveil $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'), PgBouncer $(pgbouncer --version | head -1 | awk '{print $2}'), $(date -u +%Y-%m-%dT%H:%MZ), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); pgbench -i -s $SCALE; $BENCH_PAGES; $REPS alternating repetitions of $DURATION s, median; PGSSLMODE=require; TLS 1.3 on every leg"
  ((QUICK)) && echo && echo "QUICK MODE: smoke test only, not a result"
  echo
  header="| case | direct (TLS) | PgBouncer (TLS both legs)"
  align="|---|---:|---:"
  if ((WITH_FRESH)); then
    header+=" | PgBouncer fresh (TLS both legs)"
    align+="|---:"
  fi
  header+=" | pgveil (TLS both legs) | pgveil/PgBouncer"
  align+="|---:|---:"
  if ((WITH_FRESH)); then
    header+=" | pgveil/PgBouncer-fresh"
    align+="|---:"
  fi
  header+=" | pgveil/direct | target ≥ 1.0 vs PgBouncer"
  align+="|---:|---"
  if ((WITH_REUSE)); then
    header+=" | pgveil reuse (TLS both legs) | pgveil-reuse/PgBouncer | target (reuse)"
    align+="|---:|---:|---"
  fi
  echo "$header |"
  echo "$align|"
  printf '%s\n' "${ROWS[@]}"
  if ((WITH_FRESH)); then
    echo
    echo "PgBouncer keeps server connections after a client leaves and hands them to the next one: its clients get warm backends over already established server TLS connections. PgBouncer fresh is the same with server_lifetime = 0: a new backend and server TLS handshake per client, as pgveil (one upstream connection per client, no pooling). pgveil/PgBouncer-fresh compares the proxies on equal terms; informative, no verdict."
  fi
  if ((WITH_REUSE)); then
    echo
    echo "pgveil reuse is pgveil with upstream_reuse (opt-in): a cleanly ended session's upstream TLS connection and warm backend, reset with DISCARD ALL, go to the next client on the same worker once the server has authenticated that client on a fresh connection (docs/protocol.md)."
  fi
} >"$OUT"
cat "$OUT"
bench_log "report written to $OUT"
