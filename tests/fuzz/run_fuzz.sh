#!/bin/bash
# Builds a libFuzzer target (clang, libFuzzer + ASan + UBSan) in build-fuzz-clang and runs it
# for SECONDS on a scratch copy of its seed corpus, so the checked-in corpus stays small.
# Targets: engine_fuzz (queries against the answer engine; seeds in corpus/) and text_fuzz (the
# config, nets, latency, prefix and duration parsers; seeds in text_corpus/).
#
#   tests/fuzz/run_fuzz.sh SECONDS [extra libFuzzer flags...]
#   tests/fuzz/run_fuzz.sh 600 -fork=1 -ignore_crashes=1   # keep going past a known crash
#
# Environment: FUZZ_TARGET (default engine_fuzz), BUILD_DIR (default <repo>/build-fuzz-clang),
# JOBS (ninja -j, default 1),
# WORK_DIR (default: a fresh mktemp dir; the grown corpus and any crash-* files land there).
# Exit status: 0 when the time ran out without a finding; non-zero on a crash, leak, timeout or
# invariant violation (libFuzzer's exit code, or 1 when a forked run left crash/timeout files);
# 2 on a build or usage error.
set -euo pipefail

if [[ $# -lt 1 || ! "$1" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 SECONDS [libFuzzer flags...]" >&2
  exit 2
fi
seconds=$1
shift

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$repo/build-fuzz-clang}
jobs=${JOBS:-1}
target=${FUZZ_TARGET:-engine_fuzz}
case $target in
  engine_fuzz) seeds=$here/corpus flags=(-max_len=4096 -dict="$here/engine_fuzz.dict") ;;
  text_fuzz) seeds=$here/text_corpus flags=(-max_len=8192) ;;
  *) echo "unknown FUZZ_TARGET $target" >&2; exit 2 ;;
esac

if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S "$repo" -B "$build" -G Ninja -DSEXTANT_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 2
fi
ninja -C "$build" -j"$jobs" "$target" || exit 2

work=${WORK_DIR:-$(mktemp -d "/tmp/$target.XXXXXX")}
mkdir -p "$work/corpus"
cp -n "$seeds"/* "$work/corpus/" 2>/dev/null || true
echo "$target: ${seconds}s, corpus and artifacts in $work" >&2

cd "$work"
# -max_len: the TCP listener takes queries up to 4096 bytes. -timeout: an input taking seconds
# is a bug (the engine needs microseconds per query, even under ASan).
set +e
# libFuzzer's progress lines go to a log; the summary (and, on failure, the tail) is shown.
"$build/bin/$target" -max_total_time="$seconds" -timeout=5 "${flags[@]}" \
  -artifact_prefix="$work/" -print_final_stats=1 "$@" "$work/corpus" >"$work/fuzz.log" 2>&1
rc=$?
grep -E "^Done|stat::number_of_executed_units|stat::average_exec_per_sec" "$work/fuzz.log" >&2 || true
[[ $rc -ne 0 ]] && tail -n 40 "$work/fuzz.log" >&2
set -e
# With -fork=N -ignore_crashes=1 libFuzzer keeps going past a crash and exits 0: the artifacts
# tell.
if [[ $rc -eq 0 ]] && compgen -G "$work/crash-*" >/dev/null; then rc=1; fi
if [[ $rc -eq 0 ]] && compgen -G "$work/timeout-*" >/dev/null; then rc=1; fi
if [[ $rc -ne 0 ]]; then
  echo "$target: FAILED (exit $rc); reproducer(s):" >&2
  ls -1 "$work"/crash-* "$work"/timeout-* "$work"/leak-* "$work"/oom-* >&2 2>/dev/null || true
  echo "replay with: $build/bin/$target <file>" >&2
fi
exit $rc
