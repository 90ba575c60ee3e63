#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs (Debian 12, root), builds, then
#  1. the unit tests again under AddressSanitizer + UBSan (snapshot publishing under load among them),
#  2. the libFuzzer targets (engine; config and map-file parsers) for a bounded time,
#  3. every ctest test (unit + integration with real processes, knot, dig, veth lab).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
TEXT_FUZZ_SECONDS=${TEXT_FUZZ_SECONDS:-30}
bash scripts/install-deps.sh
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j"$jobs"

echo "== unit tests under ASan/UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSEXTANT_ASAN=ON >/dev/null
ninja -C build-asan -j"$jobs" unit_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-asan -L unit --output-on-failure -j"$jobs"

if [ -x tests/fuzz/run_fuzz.sh ]; then
  echo "== libFuzzer: engine for ${FUZZ_SECONDS}s"
  JOBS="$jobs" bash tests/fuzz/run_fuzz.sh "$FUZZ_SECONDS"
  echo "== libFuzzer: config, nets, latency, prefix and duration parsers for ${TEXT_FUZZ_SECONDS}s"
  FUZZ_TARGET=text_fuzz JOBS="$jobs" bash tests/fuzz/run_fuzz.sh "$TEXT_FUZZ_SECONDS"
fi

echo "== all tests"
ctest --test-dir build --output-on-failure
