#!/usr/bin/env bash
# Installs everything pgveil needs to build, test, benchmark and run its demo,
# from Debian's packages (and the npm registry for the Node.js test clients).
# Idempotent: when every package is already present it returns in about a second.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libasio-dev libssl-dev libpqxx-dev libpq-dev libre2-dev libcrypto++-dev
  nlohmann-json3-dev rapidjson-dev libpg-query-dev libcli11-dev libspdlog-dev libfmt-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  postgresql postgresql-contrib pgbouncer python3 python3-psycopg
  clang libclang-rt-14-dev llvm openssl procps iproute2 util-linux
  sqlsmith nodejs
  # Driver tests (client_asyncpg_test, client_jdbc_test, masking_drivers_test): asyncpg,
  # and pgjdbc's jar, which the tests compile against at test time with javac and run with
  # java, both from openjdk-17-jdk-headless (the jar's package pulls in no Java itself).
  python3-asyncpg libpostgresql-jdbc-java openjdk-17-jdk-headless
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# npm may come with a Node.js that is not Debian's; only ask apt for it when absent.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Node.js clients used by the tests (versions pinned by the committed lock files).
ROOT=$(cd "$(dirname "$0")/.." && pwd)
for dir in "$ROOT"/tests/*/node; do
  if [[ -f $dir/package-lock.json && ! -d $dir/node_modules ]]; then
    echo "install-deps: npm ci in ${dir#"$ROOT"/}" >&2
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done

# Debian starts a cluster and a pgbouncer when their packages are installed; the
# tests and the demo run their own throwaway instances, so stop the system ones.
if command -v service >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
  service postgresql stop >/dev/null 2>&1 || true
  service pgbouncer stop >/dev/null 2>&1 || true
fi
