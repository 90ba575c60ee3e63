#!/usr/bin/env bash
# Large zones: perf/e2e_pcap.sh on generated zones of growing size, all with the same pcap length,
# so that the rates differ only by the zone. The first size is the reference (default 1000 hosts,
# the harness's usual zone); each row shows its e2e rate as a ratio to it, measured in this run.
#
# Per size: sextant-control --once's wall time and peak RSS (load the zone, compile and publish the
# snapshot), the snapshot's size, the dataplane's resident memory while serving, and the worker
# lcore's queries per second (70/20/10 A/AAAA/NXDOMAIN by default, hosts picked uniformly).
# With FRAMES about the number of hosts, the queries spread over the names: in the 1M-name zone
# nearly every lookup misses the caches (the 1000-name zone stays in L2).
#
# The pcap PMD replays FRAMES frames from mbufs of its own (about 2.3 KiB each): at 1M frames the
# receive copies from 2.3 GiB that no cache holds, for every size alike. The default 4096-frame run
# of perf/e2e_pcap.sh is faster for that reason; compare rows of one run only.
#
# Usage: perf/large_zone.sh
#   SIZES      host counts (default "1000 1000000"; the first one is the reference)
#   FRAMES     frames in each pcap (default 524288: with 1M frames the pool of 1M mbufs, about
#              4 GiB of --no-huge memory, could not be created here)
#   ROUNDS     times the sizes are run in turn (default 1); each round's ratios use its own
#              reference, so drift between rounds on a shared machine does not enter a ratio;
#              with more than one, a last line per size gives the ratio of the rates summed over
#              the rounds, the median round's ratio and their range
#   and what perf/e2e_pcap.sh reads (BUILD_DIR, BUILD, SECONDS_MEASURED, WARMUP, MIX, LCORES).
# Prints one markdown row per size and round:
#   | names | compile s | peak control MiB | snapshot MiB | dataplane RSS MiB | e2e Mqps |
#   Mq/cpu-s | ratio |   (the ratio: Mq per CPU-second, to the reference's of the same round)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
read -r -a sizes <<<"${SIZES:-1000 1000000}"
frames=${FRAMES:-524288}
rounds=${ROUNDS:-1}
out=$(mktemp /tmp/sxperf_large.XXXXXX)
trap 'rm -f "$out"' EXIT

# The values of one e2e_pcap.sh output, space-separated: compile s, control MiB, snapshot MiB,
# dataplane VmRSS MiB, worker Mqps and Mq per CPU-second (the first worker lcore's queries and
# Mq/cpu-s columns: on a shared machine the worker does not always get its whole CPU).
summarize() {
  awk '/^control: compile/ { c = $5; m = $9 }
       /^snapshot: / { s = $2 / 1048576 }
       /^dataplane:/ { r = $3 }
       /^ +[1-9][0-9]* +[0-9.]+ +[0-9.]+ +[0-9.]+ / && q == "" { q = $4; p = $6 }
       END { if (q == "" || c == "") exit 1; printf "%s %s %.1f %s %s %s\n", c, m, s, r, q, p }' "$1"
}

echo "| names | compile s | peak control MiB | snapshot MiB | dataplane RSS MiB | e2e Mqps |" \
  "Mq/cpu-s | ratio |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
# Per size (by index): the Mq/cpu-s of every round, summed, and each round's ratio.
sums=()
ratios=()
for ((round = 1; round <= rounds; round++)); do
  ref=
  for i in "${!sizes[@]}"; do
    hosts=${sizes[$i]}
    if ! HOSTS=$hosts FRAMES=$frames bash "$repo/perf/e2e_pcap.sh" >"$out" 2>&1; then
      cat "$out" >&2
      echo "perf/large_zone.sh: the run with $hosts hosts failed" >&2
      exit 1
    fi
    BUILD=0  # built once, by the first run
    export BUILD
    read -r compile ctl snap rss mqps per_cpu < <(summarize "$out") || {
      cat "$out" >&2
      echo "perf/large_zone.sh: no figures in the output of the run with $hosts hosts" >&2
      exit 1
    }
    # Beside the table: the dataplane's memory (AnonHugePages: a large snapshot's 2 MiB pages) and
    # the time it took to copy the snapshot into them.
    grep -E '^dataplane:|hugepage-backed|answer lines' "$out" | sed "s/^/$hosts names: /" >&2 || true
    ref=${ref:-$per_cpu}
    ratio=$(awk -v a="$per_cpu" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')
    echo "| $hosts | $compile | $ctl | $snap | $rss | $mqps | $per_cpu | $ratio |"
    sums[i]=$(awk -v a="${sums[i]:-0}" -v b="$per_cpu" 'BEGIN { print a + b }')
    ratios[i]="${ratios[i]:-} $ratio"
  done
done
# One run after the other, the host's load moves a single ratio by 10-20% here: over several
# rounds, the ratio of the summed rates and the median round say more than any one row.
if ((rounds > 1)); then
  for i in "${!sizes[@]}"; do
    ((i > 0)) || continue
    read -r -a rs <<<"${ratios[i]}"
    summary=$(printf '%s\n' "${rs[@]}" | sort -n | awk -v a="${sums[i]}" -v b="${sums[0]}" \
      '{ r[NR] = $1 } END { m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
        printf "ratio of the summed rates %.2f, median %.2f, range %.2f-%.2f", a / b, m, r[1], r[NR] }')
    echo "${sizes[i]} names over $rounds rounds: $summary"
  done
fi
