#!/usr/bin/env bash
# The pgveil command line: help on every command, clear errors and exit codes on bad
# input. Usage: cli_test.sh PATH/TO/pgveil
set -uo pipefail
PGVEIL=${1:?usage: cli_test.sh PATH/TO/pgveil}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

# expect NAME RC PATTERN -- ARGS...: runs pgveil ARGS, checks the exit code and that the
# combined output matches PATTERN (an extended regex).
expect() {
  local name=$1 rc=$2 pattern=$3
  shift 4
  local out got
  out=$("$PGVEIL" "$@" 2>&1)
  got=$?
  if [[ $got -ne $rc ]] || ! grep -Eq -- "$pattern" <<<"$out"; then
    echo "FAIL $name: exit $got (want $rc), output:"
    sed 's/^/    /' <<<"$out"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

expect "help lists every command" 0 "serve.*" -- --help
for cmd in serve check keygen pseudonym scan diff; do
  expect "--help of $cmd" 0 "Usage: .* $cmd" -- "$cmd" --help
  "$PGVEIL" --help | grep -Eq "^ +$cmd " || {
    echo "FAIL help does not list $cmd"
    failures=$((failures + 1))
  }
done
expect "--version" 0 "^pgveil [0-9]+\.[0-9]+" -- --version
expect "no command" 2 "subcommand is required" --
expect "unknown command" 2 'unknown command "bogus"' -- bogus
expect "unknown option" 2 "--no-such-option" -- serve --no-such-option
expect "missing config file" 2 "does not exist" -- serve --config "$TMP/missing.json"
printf '{"listen": "127.0.0.1:0", "colour": "blue"}\n' >"$TMP/unknown.json"
expect "unknown config key" 2 "colour: unknown key" -- serve --config "$TMP/unknown.json"
printf '{"listen": "127.0.0.1:0",\n' >"$TMP/broken.json"
expect "malformed config" 2 "broken.json: not valid JSON" -- serve --config "$TMP/broken.json"
expect "bad upstream" 2 'upstream: invalid port in "nohost"' -- serve --upstream nohost

if ((failures)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
