#!/usr/bin/env bash
# Runs one of the Node.js client tests here (relay_test.mjs under clients/with_stack.sh,
# masked_test.mjs under clients/with_demo_stack.sh). Installs the locked npm packages
# first when node_modules is missing (scripts/install-deps.sh normally has); if that
# fails, e.g. without the npm registry, the test fails.
#
#   with_stack.sh bash tests/integration/node/run.sh relay_test.mjs
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ ! -d $here/node_modules ]]; then
  npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
fi
exec node --test-reporter=spec "$here/$1"
