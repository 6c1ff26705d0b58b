#!/usr/bin/env bash
# Runs groved's end-to-end tests against a ThreadSanitizer build of groved and grove: for
# changes to groved's event loops (src/relay: connections on several loops, the relay's state
# on the main one). Not part of scripts/test.sh, to keep CI's time down; takes about 15 minutes
# on 2 cores. Reports go to build/tsan/reports/; the script fails when there is one.
# Usage: scripts/tsan.sh [GTEST_FILTER]     (default: every test of the relay's e2e programs)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
scripts/deps.sh
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGROVE_BENCH=OFF \
  -DCMAKE_CXX_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
programs=(relay fanout receive_paths resume tls henc device_import)
targets=()
for p in "${programs[@]}"; do targets+=("e2e_${p}_test"); done
cmake --build build/tsan -j"$JOBS" --target groved grove "${targets[@]}" | tail -n 1
reports=build/tsan/reports
rm -rf "$reports" && mkdir -p "$reports"
failed=0
for p in "${programs[@]}"; do
  echo "== e2e_$p"
  # Timeouts of the heaviest tests under TSan's slowdown are not races; reports are.
  TSAN_OPTIONS="halt_on_error=0 log_path=$PWD/$reports/tsan" \
    "build/tsan/tests/e2e/e2e_${p}_test" --gtest_filter="${1:-*}" 2>&1 |
    grep -E '^\[  (PASSED|FAILED) ' || true
done
if compgen -G "$reports/tsan*" >/dev/null; then
  echo "ThreadSanitizer reports:"; ls "$reports"; head -n 40 "$reports"/tsan* ; failed=1
else
  echo "no ThreadSanitizer report"
fi
exit "$failed"
