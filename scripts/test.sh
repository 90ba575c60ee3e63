#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs (Debian 12, root), checks the formatting
# (clang-format) and builds, then
#  1. clang-tidy over the libraries (.clang-tidy: bugprone, performance, override, naming; the
#     control plane's functions at most 80 lines),
#  2. the unit tests again under AddressSanitizer + UBSan (snapshot publishing under load among them),
#  3. the libFuzzer targets (engine; config and map-file parsers) for a bounded time,
#  4. every ctest test (unit, layout boundaries, integration with real processes, knot, dig,
#     veth lab).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
TEXT_FUZZ_SECONDS=${TEXT_FUZZ_SECONDS:-30}
bash scripts/install-deps.sh
jobs=$(nproc)

echo "== clang-format"
git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j"$jobs"

echo "== clang-tidy"
run-clang-tidy -p build -j "$jobs" -quiet "^$(pwd)/(maps|control|dataplane)/.*\.cc\$" >build/clang-tidy.log 2>&1 || {
  grep -E "(warning|error):" build/clang-tidy.log | sort -u
  echo "clang-tidy failed (full log: build/clang-tidy.log)"
  exit 1
}

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
