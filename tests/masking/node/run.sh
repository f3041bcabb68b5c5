#!/usr/bin/env bash
# Runs drivers.mjs (node-postgres and postgres.js against pgveil). Installs the locked
# npm packages first when node_modules is missing; if that fails (e.g. the registry is
# unreachable) the test fails.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ ! -d $here/node_modules ]]; then
  npm ci --prefix "$here" --no-audit --no-fund
fi
exec node "$here/drivers.mjs"
