# shellcheck shell=bash
# Shared by bench/relay/run.sh and bench/relay/masking.sh: the pgveil build, the
# PgBouncer and pgveil processes, and the cleanup that stops everything on exit.
#
#   source bench/relay/lib.sh
#   bench_setup_tmp            temp dir in BENCH_TMP, EXIT/INT/TERM traps installed
#   bench_build_pgveil DIR     Release build of the `pgveil` target; sets PGVEIL_BIN
#   bench_start_pgbouncer [OPTS] DB [INI...]
#                              session-mode PgBouncer in front of the cluster; PGB_PORT,
#                              PGB_PID (options: --name, --userlist, --ready-user; below)
#   bench_start_pgbouncer_fresh [OPTS] DB [INI...]
#                              the same with server_lifetime = 0: a new backend per client
#   bench_start_pgveil [--name NAME] DB ...
#                              pgveil in front of the cluster (extra args go to `serve`);
#                              PGV_PORT, PGV_PID
#   bench_start_pgveil_reuse DB ...
#                              the same with --upstream_reuse true (warm backends)
#   bench_run CMD...           runs CMD so that signals stop it and the script at once
#   bench_start_cluster        the throwaway PostgreSQL; with BENCH_HUGE_PAGES=1 it runs
#                              with huge_pages = on (pages reserved here, given back on exit)
# Every process started here is stopped (TERM, then KILL after 5 s) by the EXIT trap,
# then the PostgreSQL cluster, then the temp dir is removed (unless BENCH_KEEP=1).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib/pgcluster.sh
source "$REPO/scripts/lib/pgcluster.sh"

BENCH_PIDS=()
BENCH_TMP=""
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_WORKERS=${BENCH_WORKERS:-}
BENCH_HUGE_PAGES=${BENCH_HUGE_PAGES:-0}
BENCH_HUGE_RESTORE="" # vm.nr_hugepages to put back on exit, when we changed it

bench_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() {
  bench_log "error: $*"
  exit 2
}

bench_require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || bench_die "$tool not found (run scripts/install-deps.sh)"
  done
}

# True while PID runs (a zombie child counts as stopped).
bench_alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

bench_stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    bench_alive "$pid" || break
    sleep 0.1
  done
  if bench_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${BENCH_PIDS[@]}"; do bench_stop_pid "$pid"; done
  pgc_stop
  if [[ -n $BENCH_HUGE_RESTORE ]]; then
    echo "$BENCH_HUGE_RESTORE" >/proc/sys/vm/nr_hugepages 2>/dev/null ||
      bench_log "warning: could not set vm.nr_hugepages back to $BENCH_HUGE_RESTORE"
  fi
  if [[ -n $BENCH_TMP && -d $BENCH_TMP ]]; then
    if [[ $BENCH_KEEP == 1 ]]; then
      bench_log "kept $BENCH_TMP (logs, configs, cluster)"
    else
      rm -rf "$BENCH_TMP"
    fi
  fi
  exit "$rc"
}

# Runs a command in the background and waits for it: a signal to this script then
# reaches the traps at once instead of after the command, and the command is stopped
# by the cleanup like the servers. Returns the command's exit status.
bench_run() {
  "$@" &
  local pid=$! rc=0
  BENCH_PIDS=("$pid" "${BENCH_PIDS[@]}")
  wait "$pid" || rc=$?
  return "$rc"
}

bench_setup_tmp() {
  BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pgveil-bench.XXXXXX")
  chmod 755 "$BENCH_TMP" # the cluster and PgBouncer run as postgres when we are root
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

bench_install_deps() {
  bench_log "checking dependencies (scripts/install-deps.sh)"
  bash "$REPO/scripts/install-deps.sh" >&2 || bench_die "scripts/install-deps.sh failed"
}

# Release build of the pgveil executable in its own build directory. Warnings are not
# errors here: -O3 brings warnings of its own (e.g. maybe-uninitialized) and the
# benchmark must not stop on them; the test builds enforce -Werror.
bench_build_pgveil() {
  local dir=$1 log
  mkdir -p "$dir"
  log=$dir/bench-build.log
  bench_log "building pgveil (Release) in $dir, log: $log"
  {
    cmake -S "$REPO" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPGVEIL_WERROR=OFF \
      -DPGVEIL_TESTS=OFF -DPGVEIL_BENCH=OFF &&
      cmake --build "$dir" --target pgveil -j2
  } >"$log" 2>&1 || {
    tail -n 30 "$log" >&2
    bench_die "pgveil build failed (pass --pgveil PATH to use an existing binary)"
  }
  PGVEIL_BIN=$dir/pgveil
  [[ -x $PGVEIL_BIN ]] || bench_die "build finished but $PGVEIL_BIN is missing"
}

bench_check_pgveil() {
  [[ -x $PGVEIL_BIN ]] || bench_die "$PGVEIL_BIN is not an executable"
  "$PGVEIL_BIN" serve --help >/dev/null 2>&1 ||
    bench_die "$PGVEIL_BIN has no working 'serve' command yet"
}

# bench_wait_ready NAME PORT PID DB LOG [USER]: waits until `SELECT 1` works through
# PORT as USER (default postgres; a password comes from PGPASSWORD).
bench_wait_ready() {
  local name=$1 port=$2 pid=$3 db=$4 logfile=$5 user=${6:-postgres} i
  for ((i = 0; i < 150; i++)); do
    if ! bench_alive "$pid"; then
      tail -n 20 "$logfile" >&2 2>/dev/null
      bench_die "$name exited during startup (log: $logfile)"
    fi
    if psql -X -q -At -h 127.0.0.1 -p "$port" -U "$user" -d "$db" -c 'SELECT 1' \
      >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$logfile" >&2 2>/dev/null
  bench_die "$name did not accept connections on port $port within 15 s"
}

# Session-mode PgBouncer: one server connection per client, like pgveil. Arguments after
# the database are extra lines for the [pgbouncer] section (e.g. TLS settings,
# `server_lifetime = 0`); `auth_type = trust` is written unless one of them sets auth_type.
# Options before the database:
#   --name NAME        directory under BENCH_TMP and name in messages (default pgbouncer);
#                      every instance needs its own
#   --userlist FILE    auth_file content to copy (default: "postgres" with no password);
#                      installed with mode 600
#   --ready-user USER  login of the readiness check (default postgres)
# Sets PGB_PORT and PGB_PID; a caller that starts two copies saves them in between.
bench_start_pgbouncer() {
  local name=pgbouncer userlist="" ready_user=postgres
  while [[ ${1:-} == --* ]]; do
    case $1 in
    --name) name=$2 ;;
    --userlist) userlist=$2 ;;
    --ready-user) ready_user=$2 ;;
    *) bench_die "bench_start_pgbouncer: unknown option $1" ;;
    esac
    shift 2
  done
  local db=$1 dir=$BENCH_TMP/$name
  shift
  local extra auth="auth_type = trust"
  extra=$(printf '%s\n' "$@")
  [[ $extra =~ (^|$'\n')[[:space:]]*auth_type[[:space:]]*= ]] && auth=""
  mkdir -p "$dir"
  PGB_PORT=$(pgc_free_port)
  if [[ -n $userlist ]]; then
    install -m 600 "$userlist" "$dir/userlist.txt"
  else
    (umask 077 && printf '"postgres" ""\n' >"$dir/userlist.txt")
  fi
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$PGC_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
$auth
auth_file = $dir/userlist.txt
pool_mode = session
max_client_conn = 1000
default_pool_size = 200
max_db_connections = 0
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
log_connections = 0
log_disconnections = 0
$extra
INI
  local as_user=()
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres: "$dir"
    as_user=(-u postgres)
  fi
  pgbouncer "${as_user[@]}" "$dir/pgbouncer.ini" >"$dir/stdout.log" 2>&1 &
  PGB_PID=$!
  BENCH_PIDS+=("$PGB_PID")
  bench_wait_ready "$name" "$PGB_PORT" "$PGB_PID" "$db" "$dir/pgbouncer.log" "$ready_user"
}

# The fresh-backend reference: the same PgBouncer (same options) with
# `server_lifetime = 0`, which closes a server connection once its client has left
# ("used only once, then closed"), so that every client gets a new PostgreSQL backend,
# as through pgveil. Arguments as bench_start_pgbouncer's; the default name is
# pgbouncer-fresh. Sets PGB_PORT and PGB_PID.
bench_start_pgbouncer_fresh() {
  local opts=(--name pgbouncer-fresh)
  while [[ ${1:-} == --* ]]; do
    opts+=("$1" "$2")
    shift 2
  done
  bench_start_pgbouncer "${opts[@]}" "$@" "server_lifetime = 0"
}

# pgveil in front of the cluster; extra arguments are passed to `pgveil serve`.
# `--name NAME` before the database names the instance in messages and its log
# (BENCH_TMP/NAME.log; default pgveil); every instance needs its own. Sets PGV_PORT and
# PGV_PID; a caller that starts two saves them in between.
bench_start_pgveil() {
  local name=pgveil
  if [[ ${1:-} == --name ]]; then
    name=$2
    shift 2
  fi
  local db=$1 logfile=$BENCH_TMP/$name.log
  shift
  local workers=()
  [[ -n $BENCH_WORKERS ]] && workers=(--workers "$BENCH_WORKERS")
  PGV_PORT=$(pgc_free_port)
  "$PGVEIL_BIN" serve --listen "127.0.0.1:$PGV_PORT" --upstream "127.0.0.1:$PGC_PORT" \
    --log_level warn "${workers[@]}" "$@" >"$logfile" 2>&1 &
  PGV_PID=$!
  BENCH_PIDS+=("$PGV_PID")
  bench_wait_ready "$name" "$PGV_PORT" "$PGV_PID" "$db" "$logfile"
}

# pgveil with upstream reuse (docs/protocol.md, "Upstream reuse"): a cleanly ended
# session's backend is reset with DISCARD ALL and handed to the next client with the
# same startup packet, once the server has authenticated that client. Kept backends
# idle for 600 s are closed, as PgBouncer's server_idle_timeout does by default
# (pgveil's own default, 60 s, is shorter than one turn of the other targets in a
# full run). Arguments as bench_start_pgveil's (the default name is pgveil-reuse);
# sets PGV_PORT and PGV_PID.
bench_start_pgveil_reuse() {
  local name=pgveil-reuse
  if [[ ${1:-} == --name ]]; then
    name=$2
    shift 2
  fi
  bench_start_pgveil --name "$name" "$@" --upstream_reuse true --upstream_idle_seconds 600
}

# Throwaway cluster with settings that keep runs comparable.
bench_start_cluster() {
  bench_log "starting PostgreSQL ($PGC_BINDIR)"
  pgc_start "$BENCH_TMP/pg" || bench_die "PostgreSQL did not start"
  pgc_psql -d postgres -c "ALTER SYSTEM SET jit = off" \
    -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
  # BENCH_PAGES describes the shared memory's pages for the reports.
  if [[ $BENCH_HUGE_PAGES == 1 ]]; then
    bench_huge_pages
  else
    BENCH_PAGES="huge_pages = $(pgc_psql -d postgres -At -c "SHOW huge_pages")"
    BENCH_PAGES+=", $(awk '/^HugePages_Total:/ {print $2}' /proc/meminfo) huge pages reserved"
    BENCH_PAGES+=" on the machine (--huge-pages: see bench/README.md)"
  fi
}

# Restarts the cluster with huge_pages = on. Every backend forked by the postmaster
# maps the shared buffers anew; with 4 kB pages it fills its page tables one fault at
# a time during its first seconds of work, which costs a new backend (direct, PgBouncer
# fresh, pgveil) much more than a pooled one on a machine where page faults are dear.
# 2 MB pages make that a few hundred faults. PostgreSQL says how many pages its shared
# memory needs (shared_memory_size_in_huge_pages, PostgreSQL 15 and later); they are
# added to vm.nr_hugepages (root only) and given back on exit.
bench_huge_pages() {
  local need have old
  need=$(pgc_psql -d postgres -At -c "SHOW shared_memory_size_in_huge_pages" 2>/dev/null) ||
    bench_die "--huge-pages needs PostgreSQL 15 or later (shared_memory_size_in_huge_pages)"
  [[ $need =~ ^[0-9]+$ && $need -gt 0 ]] || bench_die "--huge-pages: PostgreSQL reports $need huge pages"
  [[ -w /proc/sys/vm/nr_hugepages ]] || bench_die "--huge-pages must reserve huge pages: run as root"
  pgc_stop
  old=$(</proc/sys/vm/nr_hugepages)
  have=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
  if ((have < need)); then
    BENCH_HUGE_RESTORE=$old
    echo $((old + need - have)) >/proc/sys/vm/nr_hugepages
    have=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
    ((have >= need)) || bench_die "--huge-pages: only $have of $need huge pages could be reserved"
  fi
  echo "huge_pages = on" >>"$PGC_DIR/postgresql.auto.conf"
  bench_log "huge_pages = on: $need pages of 2 MB for the shared memory"
  BENCH_PAGES="huge_pages = on ($need pages of 2 MB; --huge-pages)"
  pgc_start "$PGC_DIR" "$PGC_PORT" || bench_die "PostgreSQL did not start with huge_pages = on"
}
