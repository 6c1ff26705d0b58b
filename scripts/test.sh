#!/usr/bin/env bash
# Checks the formatting, builds Grove and runs every test: unit and end-to-end tests (real grove/groved processes and
# real proxies on loopback), the same unit tests under AddressSanitizer + UBSan, and a short
# run of every libFuzzer target. Installs missing Debian packages first.
# Usage: scripts/test.sh            (FUZZ_SECONDS=10 by default; SKIP_SANITIZE=1 / SKIP_FUZZ=1 to skip)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=$(nproc)
FUZZ_SECONDS=${FUZZ_SECONDS:-10}  # a smoke run per target in CI; fuzz longer by hand

START=$SECONDS
step() { printf '\n==> [%ds] %s\n' "$((SECONDS - START))" "$*"; }

step "installing missing packages"
scripts/deps.sh

step "formatting (clang-format, .clang-format)"
git ls-files '*.cpp' '*.hpp' '*.h' | xargs clang-format --dry-run -Werror

step "release build (warnings are errors)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DGROVE_WERROR=ON >/dev/null
cmake --build build/release -j"$JOBS"

step "unit and end-to-end tests"
ctest --test-dir build/release --output-on-failure -j"$JOBS" --timeout 600

if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  step "AddressSanitizer + UndefinedBehaviorSanitizer build of the unit tests"
  cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGROVE_WERROR=ON -DGROVE_SANITIZE=ON \
    -DGROVE_BENCH=OFF >/dev/null
  # The unit tests only: the sanitizer run does not need the programs and e2e binaries.
  cmake --build build/asan -j"$JOBS" --target grove_unit_tests
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build/asan --output-on-failure -j"$JOBS" -L unit --timeout 600
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  step "libFuzzer targets, ${FUZZ_SECONDS}s each"
  CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGROVE_FUZZ=ON -DGROVE_TESTS=OFF -DGROVE_BENCH=OFF >/dev/null
  cmake --build build/fuzz -j"$JOBS"
  for bin in build/fuzz/fuzz/fuzz_*; do
    name=$(basename "$bin"); name=${name#fuzz_}
    work=$(mktemp -d)
    cp -r "fuzz/corpus/$name/." "$work/" 2>/dev/null || true
    echo "fuzz $name"
    "$bin" "$work" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 >"$work.log" 2>&1 || { tail -50 "$work.log"; echo "fuzz $name FAILED"; exit 1; }
    grep -E "stat::number_of_executed_units" "$work.log" || true
    rm -rf "$work" "$work.log"
  done
fi

echo
echo "all tests passed in $((SECONDS - START)) s"
