# Shared by with_stack.sh and with_demo_stack.sh: a scratch directory, cleanup on exit,
# pgveil started on a free port, and the command run. Source it after pgcluster.sh, with
# ROOT set; STACK_NAME names the script in messages.

PGVEIL_BIN=${PGVEIL_BIN:-$ROOT/build/pgveil}
IT_TMP=$(mktemp -d "/tmp/pgveil-$STACK_NAME-XXXXXX")
chmod 755 "$IT_TMP"  # the server user must reach its data directory inside
export IT_TMP
PROXY_PID=

stack_cleanup() {
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
    echo "---- PostgreSQL log (tail) ----" >&2
    tail -c 3000 "$IT_TMP/data/server.log" 2>/dev/null >&2 || true
  fi
  if [[ -z ${PGVEIL_IT_KEEP:-} ]]; then rm -rf "$IT_TMP"; fi
  exit "$rc"
}
trap stack_cleanup EXIT
trap 'exit 130' INT TERM

wait_for_port() {  # PORT PID SECONDS
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# stack_start_pgveil ARGS...: pgveil serve ARGS on a free port (exported as
# IT_PROXY_PORT), up to three attempts; its log goes to $IT_TMP/pgveil.log.
stack_start_pgveil() {
  [[ -x $PGVEIL_BIN ]] || { echo "$STACK_NAME: no pgveil executable at $PGVEIL_BIN" >&2; exit 1; }
  for attempt in 1 2 3; do
    IT_PROXY_PORT=$(pgc_free_port)
    "$PGVEIL_BIN" serve --listen "127.0.0.1:$IT_PROXY_PORT" "$@" 2>>"$IT_TMP/pgveil.log" &
    PROXY_PID=$!
    if wait_for_port "$IT_PROXY_PORT" "$PROXY_PID" 30; then break; fi
    kill -KILL "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=
    ((attempt < 3)) || { echo "$STACK_NAME: pgveil did not start" >&2; exit 1; }
  done
  export IT_PROXY_PORT
}

# stack_run COMMAND...: runs it and exits with its status (1 if pgveil died meanwhile).
stack_run() {
  local rc
  set +e
  "$@"
  rc=$?
  set -e
  if [[ -n $PROXY_PID ]] && ! kill -0 "$PROXY_PID" 2>/dev/null; then
    echo "$STACK_NAME: pgveil exited during the test" >&2
    rc=1
  fi
  exit "$rc"
}
