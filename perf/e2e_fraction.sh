#!/usr/bin/env bash
# The dataplane's end-to-end rate as a fraction of what the same PMD pair forwards with no work,
# measured in one run: dpdk-testpmd in io mode on the vdevs perf/e2e_pcap.sh uses (net_pcap ->
# net_null, perf/testpmd_reference.py), then perf/e2e_pcap.sh, then testpmd again. Both sides are
# counted per CPU-second of their one forwarding/worker thread, so a core shared with other work
# still gives a capacity; the two references bracket the dataplane run and their mean is the
# reference (their spread says how much the machine moved during the run).
#
# Usage: perf/e2e_fraction.sh            (environment as for perf/e2e_pcap.sh: BUILD_DIR, MIX,
#                                         FRAMES, SECONDS_MEASURED, WARMUP, BUILD, OFFLOAD)
#   HUGE=1   both sides on 2 MiB hugepages (e2e_pcap.sh's HUGE=1; testpmd gets a private
#            hugetlbfs mount of its own for each run, pages reserved as e2e_pcap.sh reserves
#            them and put back after). Run it under flock /tmp/sextant-integration.lock.
#   PAIRED=1 both at once instead of one after the other, over the same seconds, ROUNDS times
#            (default 2) two pairs: the dataplane's worker on CPU 1 and testpmd's forwarder on
#            CPU 0, then the other way round (each process's main lcore sleeps on the other CPU).
#            Whatever the host does to the machine during a pair it does to both, and the swap
#            cancels a difference between the CPUs; one after the other, two testpmd runs a
#            minute apart differed by up to 35% here. They share the L3 cache and the memory
#            bus, so both rates are lower than alone: the fraction is the figure. Prints each
#            pair, then the fraction of the summed rates, the median and the range. Needs two
#            CPUs.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
measure=${SECONDS_MEASURED:-5}
warmup=${WARMUP:-2}
frames=${FRAMES:-4096}
mix=${MIX:-70/20/10}
huge=$([[ ${HUGE:-0} == 1 ]] && echo 1 || echo 0)  # as e2e_pcap.sh reads it
work=$(mktemp -d /tmp/sxperf_frac.XXXXXX)
# shellcheck source=perf/hugepages.sh
source "$repo/perf/hugepages.sh"
cleanup() {
  umount "$work/huge" 2>/dev/null || true
  hugepages_restore
  rm -rf "$work"
}
trap cleanup EXIT

python3 "$repo/perf/make_query_pcap.py" --count "$frames" --mix "$mix" \
  --out "$work/queries.pcap" --zone "$work/perf.test.zone" 2>/dev/null

# testpmd once; any arguments go to testpmd_reference.py.
reference() {
  local mem=()
  if [[ $huge != 0 ]]; then
    # A fresh mount each run: unmounting frees the pages testpmd's files held.
    hugepages_reserve 512
    hugepages_mount "$work/huge"
    mem=(--huge-dir "$work/huge" --mem 512)
  fi
  python3 "$repo/perf/testpmd_reference.py" --pcap "$work/queries.pcap" --frames "$frames" \
    --seconds "$measure" --warmup "$warmup" "${mem[@]}" "$@"
  [[ $huge == 0 ]] || umount "$work/huge"
}

if [[ ${PAIRED:-0} == 1 ]]; then
  (($(nproc) >= 2)) || { echo "e2e_fraction: PAIRED=1 needs two CPUs" >&2; exit 2; }
  # Both sides' pages at once: e2e_pcap.sh's 512 and testpmd's 512 MiB.
  [[ $huge == 0 ]] || hugepages_reserve 1024
  printf '%-5s %-12s %-12s %s\n' pair "testpmd" "dataplane" "fraction"
  pair=0
  for ((r = 0; r < ${ROUNDS:-2}; r++)); do
    for dp_cpu in 1 0; do
      pair=$((pair + 1))
      flag=$work/measure.$pair
      # testpmd's forwarder on the other CPU, timing the interval the dataplane's run starts.
      reference --lcores 0-1 --main-lcore "$dp_cpu" --start-flag "$flag" \
        >"$work/ref.$pair" 2>&1 &
      ref_pid=$!
      if ! SECONDS_MEASURED=$measure WARMUP=$warmup FRAMES=$frames MIX=$mix HUGE=$huge \
        LCORES="0@$((1 - dp_cpu)),1@$dp_cpu" MEASURE_FLAG=$flag \
        bash "$repo/perf/e2e_pcap.sh" >"$work/e2e.$pair" 2>&1; then
        kill "$ref_pid" 2>/dev/null || true
        wait "$ref_pid" || true
        echo "e2e_fraction: the dataplane run failed:" >&2
        tail -5 "$work/e2e.$pair" >&2
        exit 1
      fi
      wait "$ref_pid" || {
        echo "e2e_fraction: testpmd failed:" >&2
        cat "$work/ref.$pair" >&2
        exit 1
      }
      ref=$(sed -n 's/.* \([0-9.]*\) Mp\/cpu-s.*/\1/p' "$work/ref.$pair")
      dp=$(awk '$1 == "1" { print $6 }' "$work/e2e.$pair")
      [[ -n $ref && -n $dp ]] || {
        echo "e2e_fraction: could not read pair $pair" >&2
        cat "$work/ref.$pair" "$work/e2e.$pair" >&2
        exit 1
      }
      echo "$ref $dp" >>"$work/pairs"
      awk -v p="$pair" -v r="$ref" -v d="$dp" \
        'BEGIN { printf "%-5s %-12s %-12s %.1f%%\n", p, r " Mp/cpu-s", d " Mq/cpu-s", 100 * d / r }'
    done
  done
  python3 - "$work/pairs" "$huge" <<'EOF'
import statistics, sys
pairs = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
fr = [100 * d / r for r, d in pairs]
refs, dps = sum(r for r, _ in pairs), sum(d for _, d in pairs)
mem = "hugepages" if sys.argv[2] == "1" else "--no-huge"
print(f"paired, {mem}, {len(pairs)} pairs: testpmd io {refs / len(pairs):.3f} Mp/cpu-s, "
      f"dataplane {dps / len(pairs):.3f} Mq/cpu-s per worker (means)")
print(f"dataplane = {100 * dps / refs:.1f}% of the PMD pair with no work (summed rates); "
      f"median {statistics.median(fr):.1f}%, range {min(fr):.1f}-{max(fr):.1f}%")
EOF
  exit 0
fi

reference | tee -a "$work/ref.txt"
SECONDS_MEASURED=$measure WARMUP=$warmup FRAMES=$frames MIX=$mix HUGE=$huge \
  bash "$repo/perf/e2e_pcap.sh" | tee "$work/e2e.txt"
reference | tee -a "$work/ref.txt"

python3 - "$work/ref.txt" "$work/e2e.txt" <<'EOF'
import re, sys
refs = [float(m) for m in re.findall(r"([\d.]+) Mp/cpu-s", open(sys.argv[1]).read())]
rows = [l.split() for l in open(sys.argv[2]) if re.match(r"\s*\d+\s", l)]
# control_block_counters.py: lcore rx tx queries share Mq/cpu-s drops ...; the workers' Mq/cpu-s.
e2e = [float(r[5]) for r in rows if len(r) > 5 and r[5] != "-"]
if len(refs) != 2 or not e2e:
    sys.exit(f"could not read the runs: references {refs}, e2e rows {rows}")
ref = sum(refs) / 2
per_worker = sum(e2e) / len(e2e)
print(f"reference (testpmd io, mean of {refs[0]:.3f} and {refs[1]:.3f}): {ref:.3f} Mp/cpu-s")
print(f"dataplane: {per_worker:.3f} Mq/cpu-s per worker = {100 * per_worker / ref:.1f}% "
      f"of the PMD pair with no work")
EOF
