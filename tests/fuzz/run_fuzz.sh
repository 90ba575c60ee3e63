#!/bin/bash
# Builds a libFuzzer target (clang, libFuzzer + ASan + UBSan) in build-fuzz-clang and runs it
# for SECONDS on a scratch copy of its seed corpus, so the checked-in corpus stays small.
# Targets and their seeds (every parser that takes bytes from outside):
#   engine_fuzz    queries against the answer engine                 corpus/
#   text_fuzz      config, nets, latency, prefix and duration text   text_corpus/
#   frame_fuzz     whole Ethernet frames through the packet path     frame_corpus/
#   snapshot_fuzz  snapshot files through the reader and an engine   snapshot_corpus/
#   zone_fuzz      zone files, $INCLUDE included                     zone_corpus/
#   mmdb_fuzz      MaxMind DB bytes through the geo compiler         tests/data/maxmind/MaxMind-DB-*
#                  (the small test databases: a City database takes half a second per input)
#   state_fuzz     control's state file                              state_corpus/
#   control_fuzz   the control socket's request lines                control_corpus/
# FUZZ_TARGET=all runs each in turn for SECONDS and fails if any does.
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
targets=(engine_fuzz text_fuzz frame_fuzz snapshot_fuzz zone_fuzz mmdb_fuzz state_fuzz control_fuzz)
if [[ $target == all ]]; then
  failed=0
  for t in "${targets[@]}"; do
    FUZZ_TARGET=$t WORK_DIR= "$0" "$seconds" "$@" || failed=1
  done
  exit $failed
fi
seeds=$here/${target%_fuzz}_corpus
case $target in
  engine_fuzz) seeds=$here/corpus flags=(-max_len=4096 -dict="$here/engine_fuzz.dict") ;;
  text_fuzz | zone_fuzz | state_fuzz) flags=(-max_len=8192) ;;
  control_fuzz) flags=(-max_len=4096) ;;  # the socket reads requests of up to 4 KiB
  frame_fuzz) flags=(-max_len=4096) ;;
  # Snapshots and databases are tens to hundreds of kilobytes: the seeds set the size.
  snapshot_fuzz) flags=(-max_len=1048576) ;;
  mmdb_fuzz) seeds=$repo/tests/data/maxmind flags=(-max_len=65536) ;;
  *) echo "unknown FUZZ_TARGET $target (${targets[*]} or all)" >&2; exit 2 ;;
esac

if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S "$repo" -B "$build" -G Ninja -DSEXTANT_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEXTANT_DEBUG_INFO=-g1 >/dev/null || exit 2
fi
ninja -C "$build" -j"$jobs" "$target" || exit 2

work=${WORK_DIR:-$(mktemp -d "/tmp/$target.XXXXXX")}
mkdir -p "$work/corpus"
if [[ $target == mmdb_fuzz ]]; then
  cp -n "$seeds"/MaxMind-DB-*.mmdb "$work/corpus/"
else
  cp -n "$seeds"/* "$work/corpus/" 2>/dev/null || true
fi
echo "$target: ${seconds}s, corpus and artifacts in $work" >&2

cd "$work"
# -max_len: the TCP listener takes queries up to 4096 bytes. -timeout: an input taking seconds
# is a bug (the engine needs microseconds per query, even under ASan).
set +e
# libFuzzer's progress lines go to a log; the summary (and, on failure, the tail) is shown.
# lsan.supp names a leak inside libmaxminddb; matching it needs the full stack at each malloc.
unwind=
[[ $target == mmdb_fuzz ]] && unwind=fast_unwind_on_malloc=0
ASAN_OPTIONS=$unwind LSAN_OPTIONS=suppressions=$here/lsan.supp "$build/bin/$target" -max_total_time="$seconds" -timeout=5 "${flags[@]}" \
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
