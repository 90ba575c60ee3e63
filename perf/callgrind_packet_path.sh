#!/usr/bin/env bash
# Instructions per packet for ProcessFrame (parse + answer + in-place rewrite), per case, under
# callgrind. Instruction counts are deterministic, so unlike the timings they do not depend on
# what else runs on the machine.
#
# For each case, packet_path_benchmark --sx_case=CASE --sx_count=N runs exactly N frames (cycling
# through that case's pool of distinct frames) after the same start-up as with N=0 (snapshot
# build, frame pools, reply check), so
#   per_packet = (Ir(N) - Ir(0)) / N
# Columns:
#   loop:          the whole counting loop, i.e. what one benchmark item costs (the query copy
#                  into the working buffer, ProcessFrame, the loop's own instructions).
#   ProcessFrame:  only instructions executed inside ProcessFrame or ProcessCheckedFrame
#                  (--toggle-collect), its callees (Engine::Answer, checksums) included.
# copy and copy_burst32 are the copy-only baselines: their ProcessFrame column is 0. The _rrl
# cases go through a response rate limiter whose limits they never reach: the difference to the
# case without the suffix is what the bucket check costs.
#
# Usage: perf/callgrind_packet_path.sh [case ...]
#   BUILD_DIR   build tree holding bin/packet_path_benchmark (default: <repo>/build-perf); the
#               target is brought up to date there with ninja -j1 first.
#   SX_COUNT    frames per measurement (default 20000).
#   OUT_DIR     where callgrind.out files are kept (default: a new directory under /tmp). Look at
#               one with: callgrind_annotate --inclusive=yes OUT_DIR/CASE_pf.out
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build-perf}
count=${SX_COUNT:-20000}
out_dir=${OUT_DIR:-$(mktemp -d /tmp/callgrind_packet_path.XXXXXX)}
bin=$build_dir/bin/packet_path_benchmark
# ProcessFrame, or ProcessCheckedFrame for the offload case's frames (the NIC checked their sums).
pf_fns=(--toggle-collect='sextant::dataplane::ProcessFrame(*'
        --toggle-collect='sextant::dataplane::ProcessCheckedFrame(*')

if [[ $# -gt 0 ]]; then
  cases=("$@")
else
  cases=(copy v4_a_edns v4_a_edns_offload v6_aaaa v4_nxdomain copy_burst32 v4_a_edns_burst32
         v4_a_edns_rrl v4_nxdomain_rrl v4_a_edns_burst32_rrl)
fi

# shellcheck source=perf/callgrind_lib.sh
source "$repo/perf/callgrind_lib.sh"
ensure_benchmark packet_path_benchmark

# The start-up is the same for every case (all pools are built and checked whatever the case).
base_loop=$(ir "$out_dir/base.out" copy 0)
base_pf=$(ir "$out_dir/base_pf.out" copy 0 "${pf_fns[@]}")

printf 'N=%s frames per case; start-up Ir=%s (subtracted)\n' "$count" "$base_loop"
printf '%-20s %20s %20s\n' case 'instructions/packet' 'ProcessFrame only'
for c in "${cases[@]}"; do
  loop=$(ir "$out_dir/$c.out" "$c" "$count")
  pf=$(ir "$out_dir/${c}_pf.out" "$c" "$count" "${pf_fns[@]}")
  awk -v c="$c" -v l="$loop" -v bl="$base_loop" -v a="$pf" -v ba="$base_pf" \
    -v n="$count" 'BEGIN {printf "%-20s %20.1f %20.1f\n", c, (l - bl) / n, (a - ba) / n}'
done
echo "callgrind.out files: $out_dir"
