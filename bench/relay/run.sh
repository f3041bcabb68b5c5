#!/usr/bin/env bash
# Relay benchmark: a direct connection, PgBouncer (session mode; a second one with
# server_lifetime = 0 as a fresh-backend reference) and pgveil (default, and a second one
# with --upstream_reuse true), measured in one run with alternating repetitions. See
# bench/README.md for what the numbers mean.
#
#   bench/relay/run.sh [--quick] [--reps N] [--duration SECONDS] [--out FILE] ...
#   bench/relay/run.sh --help
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bench/relay/run.sh [options]

Starts a throwaway PostgreSQL, PgBouncer (pool_mode=session), a second PgBouncer that
is the same but with server_lifetime = 0 ("pgbouncer-fresh": every client gets a new
PostgreSQL backend, as through default pgveil), pgveil (default: a new backend per
client) and a second pgveil with --upstream_reuse true ("pgveil-reuse": warm backends
handed on, like the default PgBouncer), then measures pgbench -S (simple and prepared, 1
and 16 clients), a 1M-row SELECT * and COPY TO STDOUT through psql, and the proxies' peak
RSS during those fetches. Targets take turns: direct -> pgbouncer -> pgbouncer-fresh ->
pgveil -> pgveil-reuse. Prints a table with the ratios and PASS/FAIL per target, for
pgveil ("result") and pgveil-reuse ("result (reuse)") separately (pgveil/PgBouncer-fresh
is shown for information, without a verdict), and writes the same as markdown.

Options:
  --quick             smoke test: 1 repetition, 3-second pgbench runs (< 2 minutes)
  --reps N            repetitions per cell, median reported (default 3, at least 3
                      unless --quick)
  --duration S        seconds per pgbench run (default 20)
  --scale N           pgbench -i scale (default 10, ~150 MB: fits in RAM)
  --rows N            rows of the fetch table (default 1000000)
  --clients LIST      pgbench client counts (default 1,16; -j 2 above 1 client)
  --out FILE          markdown report (default: a new temp file, path printed)
  --pgveil PATH       use this pgveil binary instead of building one
  --build-dir DIR     build directory for the Release build (default: build-bench)
  --workers N         pgveil --workers (default: pgveil's own default)
  --without-pgveil    measure direct and the PgBouncers only (no pgveil at all)
  --no-reuse-pgveil   leave out the second pgveil (--upstream_reuse true)
  --no-fresh-pgbouncer
                      leave out the second PgBouncer (server_lifetime = 0)
  --no-deps           do not run scripts/install-deps.sh
  --keep              keep the temp dir (cluster, configs, logs) for inspection
  --huge-pages        run PostgreSQL with huge_pages = on (root: reserves the huge
                      pages its shared memory needs, gives them back on exit); see
                      bench/README.md, "Huge pages"
  --strict            exit 1 when any target FAILs (default: exit 0 after reporting)
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CMDLINE=$(printf '%q ' bench/relay/run.sh "$@")

REPS=3 DURATION=20 SCALE=10 ROWS=1000000 CLIENTS=1,16 OUT="" PGVEIL_BIN=""
BUILD_DIR=$REPO/build-bench WITH_PGVEIL=1 WITH_REUSE=1 WITH_FRESH=1 DEPS=1 STRICT=() QUICK=0
while (($#)); do
  if [[ $1 == --*=* ]]; then # --opt=value is --opt value
    set -- "${1%%=*}" "${1#*=}" "${@:2}"
  fi
  case $1 in
  --quick) QUICK=1 REPS=1 DURATION=3 ;;
  --reps) REPS=$2 && shift ;;
  --duration) DURATION=$2 && shift ;;
  --scale) SCALE=$2 && shift ;;
  --rows) ROWS=$2 && shift ;;
  --clients) CLIENTS=$2 && shift ;;
  --out) OUT=$2 && shift ;;
  --pgveil) PGVEIL_BIN=$(realpath "$2") && shift ;;
  --build-dir) BUILD_DIR=$2 && shift ;;
  --workers) BENCH_WORKERS=$2 && shift ;;
  --without-pgveil) WITH_PGVEIL=0 ;;
  --no-reuse-pgveil) WITH_REUSE=0 ;;
  --no-fresh-pgbouncer) WITH_FRESH=0 ;;
  --no-deps) DEPS=0 ;;
  --keep) BENCH_KEEP=1 ;;
  --huge-pages) BENCH_HUGE_PAGES=1 ;;
  --strict) STRICT=(--strict) ;;
  -h | --help) usage && exit 0 ;;
  *) usage >&2 && bench_die "unknown option $1" ;;
  esac
  shift
done
[[ $REPS =~ ^[1-9][0-9]*$ && $DURATION =~ ^[1-9][0-9]*$ && $SCALE =~ ^[1-9][0-9]*$ &&
  $ROWS =~ ^[1-9][0-9]*$ && $CLIENTS =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
  bench_die "--reps, --duration, --scale, --rows and --clients take positive integers"
if ((QUICK == 0 && REPS < 3)); then bench_die "--reps must be at least 3 (or use --quick)"; fi

((DEPS)) && bench_install_deps
bench_require psql pgbench pgbouncer python3 cmake
if ((WITH_PGVEIL)); then
  [[ -n $PGVEIL_BIN ]] || bench_build_pgveil "$BUILD_DIR"
  bench_check_pgveil
fi
[[ -n $OUT ]] || OUT=$(mktemp "${TMPDIR:-/tmp}/pgveil-relay-bench.XXXXXX.md")

START=$SECONDS
bench_setup_tmp
bench_start_cluster
DB=bench
pgc_psql -d postgres -c "CREATE DATABASE $DB" >/dev/null
bench_log "pgbench -i -s $SCALE"
pgbench -i -q -s "$SCALE" -h 127.0.0.1 -p "$PGC_PORT" -U postgres "$DB" >"$BENCH_TMP/pgbench-init.log" 2>&1 ||
  { cat "$BENCH_TMP/pgbench-init.log" >&2 && bench_die "pgbench -i failed"; }
bench_log "creating fetch_rows with $ROWS rows"
# About 100 bytes per row in text form: two ints, two texts, a timestamp.
pgc_psql -d "$DB" -v rows="$ROWS" <<'SQL' || bench_die "creating fetch_rows failed"
CREATE TABLE fetch_rows AS
SELECT i AS id,
       (i::bigint * 7919 % 100000)::int AS account,
       md5(i::text) AS token,
       'customer ' || (i % 5000) || ' ' || substr(md5((i * 3)::text), 1, 20) AS label,
       timestamp '2024-01-01' + i * interval '17 seconds' AS created_at
FROM generate_series(1, :rows) AS i;
VACUUM ANALYZE;
CHECKPOINT;
SQL

TARGETS=(--target "direct=$PGC_PORT")
bench_log "starting PgBouncer"
bench_start_pgbouncer "$DB"
TARGETS+=(--target "pgbouncer=$PGB_PORT:$PGB_PID")
if ((WITH_FRESH)); then
  bench_log "starting PgBouncer with server_lifetime = 0 (a new backend per client)"
  bench_start_pgbouncer_fresh "$DB"
  TARGETS+=(--target "pgbouncer-fresh=$PGB_PORT:$PGB_PID")
fi
PGVEIL_ARGS=()
if ((WITH_PGVEIL)); then
  bench_log "starting pgveil ($PGVEIL_BIN)"
  bench_start_pgveil "$DB"
  TARGETS+=(--target "pgveil=$PGV_PORT:$PGV_PID")
  PGVEIL_ARGS=(--pgveil-bin "$PGVEIL_BIN")
  if ((WITH_REUSE)); then
    bench_log "starting a second pgveil with --upstream_reuse true (warm backends)"
    bench_start_pgveil_reuse "$DB"
    TARGETS+=(--target "pgveil-reuse=$PGV_PORT:$PGV_PID")
  fi
fi
NOTES="pgbench -i -s $SCALE; pgveil workers: ${BENCH_WORKERS:-default}; $BENCH_PAGES"
((QUICK)) && NOTES+="; QUICK MODE (1 repetition, 3 s runs): smoke test only, not a result"

bench_log "setup took $((SECONDS - START)) s; measuring"
bench_run python3 "$BENCH_DIR/relay.py" "${TARGETS[@]}" --db "$DB" --reps "$REPS" \
  --duration "$DURATION" --clients "$CLIENTS" --table fetch_rows --rows "$ROWS" \
  --out "$OUT" --cmdline "$CMDLINE" --repo "$REPO" --notes "$NOTES" \
  "${PGVEIL_ARGS[@]}" "${STRICT[@]}"
bench_log "total $((SECONDS - START)) s (after build)"
