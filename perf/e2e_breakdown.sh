#!/usr/bin/env bash
# Where a worker's time per packet goes, end to end, measured in one run: dpdk-testpmd in io mode
# on the vdevs perf/e2e_pcap.sh uses (the PMD pair with no work), sextant-dataplane with
# --perf-reflect (its burst loop with ProcessFrame taken out: every frame sent back unanswered),
# and the dataplane answering, ROUNDS times in turn. Each is counted per CPU-second of its one
# worker thread; the last lines give the mean of each and ns per packet (1000 / rate).
#
# Usage: perf/e2e_breakdown.sh   (BUILD_DIR, BUILD, MIX, FRAMES, SECONDS_MEASURED, WARMUP as for
#                                 perf/e2e_pcap.sh; ROUNDS, default 2)
set -euo pipefail

# perf/e2e_pcap.sh's defaults, exported: its runs and testpmd's see the same values.
export SECONDS_MEASURED=${SECONDS_MEASURED:-5} WARMUP=${WARMUP:-2} FRAMES=${FRAMES:-4096} \
  MIX=${MIX:-70/20/10}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/sxperf_breakdown.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$repo/perf/make_query_pcap.py" --count "$FRAMES" --mix "$MIX" \
  --out "$work/queries.pcap" --zone "$work/perf.test.zone" 2>/dev/null

# The first worker's Mq/cpu-s of a perf/e2e_pcap.sh run (control_block_counters.py's row).
worker_rate() {
  awk '/^ +[1-9][0-9]* +[0-9.]+ +[0-9.]+ +[0-9.]+ / && r == "" { r = $6 } END { print r }' "$1"
}

for ((round = 1; round <= ${ROUNDS:-2}; round++)); do
  python3 "$repo/perf/testpmd_reference.py" --pcap "$work/queries.pcap" --frames "$FRAMES" \
    --seconds "$SECONDS_MEASURED" --warmup "$WARMUP" >"$work/ref.txt"
  sed -n 's/.* \([0-9.]*\) Mp\/cpu-s.*/\1/p' "$work/ref.txt" | head -1 >>"$work/testpmd"
  for mode in reflect answer; do
    REFLECT=$([[ $mode == reflect ]] && echo 1 || echo 0) bash "$repo/perf/e2e_pcap.sh" \
      >"$work/e2e.txt"
    BUILD=0
    export BUILD
    worker_rate "$work/e2e.txt" >>"$work/$mode"
  done
  echo "round $round: testpmd $(tail -1 "$work/testpmd"), reflect $(tail -1 "$work/reflect")," \
    "answer $(tail -1 "$work/answer") M/cpu-s"
done
for what in testpmd reflect answer; do
  awk -v w="$what" '{ s += $1; n++ } END { printf "%-8s %7.3f M/cpu-s  %6.1f ns/packet\n", w, s / n,
                                          1000 * n / s }' "$work/$what"
done
