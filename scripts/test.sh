#!/usr/bin/env bash
# Sets up everything and runs every test of pgveil:
#   1. installs the dependencies (scripts/install-deps.sh),
#   2. builds with warnings as errors and runs the whole ctest suite (unit tests, and
#      integration tests against throwaway PostgreSQL clusters and real clients),
#   3. builds the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer and runs them,
#   4. runs the frame-decoder fuzzer for a bounded time,
#   5. runs the demo once (scripts/demo.sh --once).
# Options: --quick (skip 3 and 4), --no-demo, --fuzz-seconds N, -j N.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

QUICK=0
DEMO=1
FUZZ_SECONDS=${PGVEIL_FUZZ_SECONDS:-60}
JOBS=${JOBS:-$(nproc)}
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --no-demo) DEMO=0 ;;
    --fuzz-seconds) FUZZ_SECONDS=$2; shift ;;
    -j) JOBS=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n==> %s\n' "$*"; }

step "installing dependencies"
bash scripts/install-deps.sh

# Integration tests create clusters owned by the postgres user when run as root: the
# build tree must be readable by it.
umask 022

step "building (warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGVEIL_WERROR=ON >/dev/null
cmake --build build -j "$JOBS"

if command -v clang-format >/dev/null 2>&1; then
  step "checking formatting"
  mapfile -t files < <(git ls-files '*.h' '*.cc' | grep -v '^tests/data/')
  if ((${#files[@]})); then clang-format --dry-run --Werror "${files[@]}"; fi
fi

step "running the test suite"
(cd build && ctest --output-on-failure -j "$JOBS" --timeout 600)

if ((QUICK == 0)); then
  step "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  # Only what the unit tests need: the integration suites run against the main build.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPGVEIL_WERROR=ON \
    -DPGVEIL_SANITIZE=ON -DPGVEIL_BENCH=OFF \
    "-DPGVEIL_SKIP=tests/integration;tests/masking;tests/demo;tests/catalog" >/dev/null
  cmake --build build-asan -j "$JOBS"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure -j "$JOBS" -L unit)

  step "fuzzing the frame decoder for ${FUZZ_SECONDS}s"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPGVEIL_FUZZ=ON -DPGVEIL_TESTS=ON -DPGVEIL_BENCH=OFF >/dev/null
  cmake --build build-fuzz --target frame_fuzz -j "$JOBS"
  mkdir -p build-fuzz/corpus
  ./build-fuzz/tests/fuzz/frame_fuzz -max_total_time="$FUZZ_SECONDS" -seed=1 \
    -print_final_stats=1 build-fuzz/corpus tests/fuzz/seeds 2>&1 | tail -15
fi

if ((DEMO)) && [[ -x scripts/demo.sh ]]; then
  step "running the demo once"
  bash scripts/demo.sh --once --no-deps --build-dir "$ROOT/build"
fi

step "all tests passed"
