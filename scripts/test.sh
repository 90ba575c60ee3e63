#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs (Debian 12, root), checks the formatting
# (clang-format) and builds, then
#  1. clang-tidy over the libraries (.clang-tidy: bugprone, performance, override, naming; the
#     control plane's functions at most 80 lines),
#  2. the unit tests again under AddressSanitizer + UBSan (snapshot publishing under load among them),
#     and the threaded ones under ThreadSanitizer, then the daemons themselves under it through a
#     few integration tests (label integration-tsan),
#  3. the libFuzzer targets for a bounded time: the engine, and every parser of outside bytes
#     (config and map files, whole Ethernet frames, snapshots, zone files, MaxMind DBs, the
#     state file),
#  4. every ctest test of the main tree (layout boundaries, integration with real processes, knot,
#     dig, veth lab; the unit tests ran in 2.).
#
# Its trees are built with line-table debug info (-g1: file:line in backtraces and sanitizer
# reports, half the compile time of -g), and the main one for /usr, so that package_test packages
# it instead of compiling a Release tree of its own. The unit tests are built and run in the
# ASan + UBSan tree (the threaded ones under TSan too), not again in the main one. Each phase
# prints the time it started.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
PARSER_FUZZ_SECONDS=${PARSER_FUZZ_SECONDS:-20}
start=$SECONDS
phase() { echo "== $* (at $((SECONDS - start)) s)"; }
bash scripts/install-deps.sh
jobs=$(nproc)

phase "clang-format"
git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

phase "build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEXTANT_DEBUG_INFO=-g1 \
  -DCMAKE_INSTALL_PREFIX=/usr -DSEXTANT_UNIT_TESTS_BUILD=OFF >/dev/null
ninja -C build -j"$jobs"

phase "clang-tidy"
# The libraries' files changed since .ci/tidy-base, the last commit a whole run found clean, and
# those that include a changed header: a whole run is 109 files at ~17 s each, a quarter of CI.
# TIDY=all (or a base git does not have, as in a shallow clone) checks every file; after a clean
# whole run, .ci/tidy-base may move to HEAD.
tidy_files=$(bash scripts/tidy-files.sh "${TIDY:-changed}")
if [[ -z $tidy_files ]]; then
  echo "no library file changed since $(cat .ci/tidy-base)"
else
  echo "$(wc -w <<<"$tidy_files") files"
  # shellcheck disable=SC2086
  run-clang-tidy -p build -j "$jobs" -quiet $tidy_files >build/clang-tidy.log 2>&1 || {
    grep -E "(warning|error):" build/clang-tidy.log | sort -u
    echo "clang-tidy failed (full log: build/clang-tidy.log)"
    exit 1
  }
fi

phase "unit tests under ASan/UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
  -DSEXTANT_ASAN=ON >/dev/null
ninja -C build-asan -j"$jobs" unit_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-asan -L unit --output-on-failure -j"$jobs"

phase "threaded unit tests under ThreadSanitizer"
# Control's event loop with its checker, metrics and fleet threads, publishing under readers, the
# kernel listener and dnstap's rings (tests/CMakeLists.txt, label unit-threads). No suppressions.
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEXTANT_DEBUG_INFO=-g1 \
  -DSEXTANT_TSAN=ON -DSEXTANT_BUILD_PERF=OFF >/dev/null
ninja -C build-tsan -j"$jobs" threaded_tests
# Less policy_engine_test's single-threaded statistical loop (280,000 queries): nothing to race
# in it, and 169 of the phase's 174 s under TSan; the other two trees run it.
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build-tsan -L threads --output-on-failure -j"$jobs" \
  -E '^PolicyEngine\.SampleWriterAnswersUniformSamplesOfTheUpMembers$'

phase "the daemons under ThreadSanitizer (label integration-tsan)"
# sextant-control, both dataplane modes, sextantctl and the exporter built with TSan, driven by
# tests/CMakeLists.txt's integration-tsan tests. A daemon's report goes to a log file (a test may
# not notice a race it did not fail on): any report fails the run.
ninja -C build-tsan -j"$jobs" sextant-control sextant-dataplane sextantctl sextant-exporter
tsan_logs=$(pwd)/build-tsan/tsan-logs
rm -rf "$tsan_logs" && mkdir -p "$tsan_logs"
TSAN_OPTIONS="second_deadlock_stack=1 log_path=$tsan_logs/report" \
  ctest --test-dir build-tsan -L integration-tsan --output-on-failure
if compgen -G "$tsan_logs/report*" >/dev/null; then
  cat "$tsan_logs"/report*
  echo "ThreadSanitizer reported the races above in the daemons"
  exit 1
fi

phase "libFuzzer: engine for ${FUZZ_SECONDS}s"
JOBS="$jobs" bash tests/fuzz/run_fuzz.sh "$FUZZ_SECONDS"
for target in text_fuzz frame_fuzz snapshot_fuzz zone_fuzz mmdb_fuzz state_fuzz control_fuzz; do
  phase "libFuzzer: $target for ${PARSER_FUZZ_SECONDS}s"
  FUZZ_TARGET=$target JOBS="$jobs" bash tests/fuzz/run_fuzz.sh "$PARSER_FUZZ_SECONDS"
done

phase "all tests"
ctest --test-dir build --output-on-failure
phase "done"
