#!/usr/bin/env bash
# Two builds of the dataplane measured at the same time, for an A/B comparison on a shared,
# noisy machine: each round runs perf/e2e_pcap.sh for build A with its worker on CPU 1 and for
# build B with its worker on CPU 0, both at once, then again with the CPUs swapped. Whatever the
# host does to the machine during a round it does to both builds, and the swap cancels a
# difference between the two CPUs; one build after the other, the drift between runs (5-10% here
# within minutes) was as large as the changes being measured. The two dataplanes share the L3
# cache and memory bandwidth, so the rates are lower than one run alone: compare the ratio, not
# the absolute figures.
#
# Usage: perf/e2e_ab.sh A_BUILD_DIR B_BUILD_DIR [ROUNDS]
#   A_BUILD_DIR, B_BUILD_DIR  trees (or copies) with bin/sextant-control and bin/sextant-dataplane
#   ROUNDS                    rounds of two pairs each (default 3)
#   MIX, FRAMES, HOSTS, SECONDS_MEASURED, WARMUP, GEO   as for perf/e2e_pcap.sh (MIX default
#                                                       100/0/0: A hits)
# Prints each pair (Mq per CPU-second of each worker), then per build the sum over all runs, the
# ratio B/A of the sums and how many pairs B won. Needs two CPUs.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
if [[ $# -lt 2 ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
a=$1 b=$2 rounds=${3:-3}
for d in "$a" "$b"; do
  [[ -x $d/bin/sextant-dataplane && -x $d/bin/sextant-control ]] ||
    { echo "e2e_ab: $d has no bin/sextant-dataplane and bin/sextant-control" >&2; exit 2; }
done
(($(nproc) >= 2)) || { echo "e2e_ab: needs two CPUs, this machine has $(nproc)" >&2; exit 2; }
export MIX=${MIX:-100/0/0}
work=$(mktemp -d /tmp/sxperf_ab.XXXXXX)
trap 'rm -rf "$work"' EXIT

# One run of build $1 whose worker lcore sits on CPU $2 (the main lcore on the other one; it
# sleeps), writing the worker's Mq/cpu-s to $3.
one() {
  local dir=$1 cpu=$2 out=$3
  BUILD=0 BUILD_DIR=$dir LCORES="0@$((1 - cpu)),1@$cpu" bash "$repo/perf/e2e_pcap.sh" \
    >"$out.log" 2>&1 || { echo "e2e_ab: the run of $dir failed:" >&2; tail -5 "$out.log" >&2; exit 1; }
  awk '$1 == "1" { print $6 }' "$out.log" >"$out"
  [[ -s $out ]] || { echo "e2e_ab: no worker line from $dir:" >&2; tail -5 "$out.log" >&2; exit 1; }
}

pair=0
printf '%-6s %-10s %-10s\n' pair "A Mq/cpu-s" "B Mq/cpu-s"
for ((r = 0; r < rounds; r++)); do
  for a_cpu in 1 0; do
    pair=$((pair + 1))
    one "$a" "$a_cpu" "$work/a$pair" &
    pid_a=$!
    one "$b" "$((1 - a_cpu))" "$work/b$pair" &
    pid_b=$!
    wait "$pid_a"
    wait "$pid_b"
    echo "$(cat "$work/a$pair") $(cat "$work/b$pair")" >>"$work/pairs"
    printf '%-6s %-10s %-10s\n' "$pair" "$(cat "$work/a$pair")" "$(cat "$work/b$pair")"
  done
done
awk -v n="$pair" '
  { sa += $1; sb += $2; if ($2 > $1) won++ }
  END { printf "sum A %.3f, B %.3f: B/A = %.3f, B faster in %d of %d pairs\n", sa, sb, sb / sa, won, n }
' "$work/pairs"
