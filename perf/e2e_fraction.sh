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

reference() {
  local mem=()
  if [[ $huge != 0 ]]; then
    # A fresh mount each run: unmounting frees the pages testpmd's files held.
    hugepages_reserve 512
    hugepages_mount "$work/huge"
    mem=(--huge-dir "$work/huge" --mem 512)
  fi
  python3 "$repo/perf/testpmd_reference.py" --pcap "$work/queries.pcap" --frames "$frames" \
    --seconds "$measure" --warmup "$warmup" "${mem[@]}" | tee -a "$work/ref.txt"
  [[ $huge == 0 ]] || umount "$work/huge"
}

reference
SECONDS_MEASURED=$measure WARMUP=$warmup FRAMES=$frames MIX=$mix HUGE=$huge \
  bash "$repo/perf/e2e_pcap.sh" | tee "$work/e2e.txt"
reference

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
