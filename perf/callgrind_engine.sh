#!/usr/bin/env bash
# Instructions per query for Engine::Answer, per query kind, under callgrind.
#
# For each case, engine_benchmark --sx_case=CASE --sx_count=N runs exactly N answers (cycling
# through that case's pool of distinct queries) after the same start-up as with N=0 (snapshot
# build, query pools, answer check). Instruction counts are deterministic under valgrind, so
#   per_query = (Ir(N) - Ir(0)) / N
# Two columns:
#   loop:   the whole counting loop, i.e. what one benchmark iteration costs (Answer, the
#           caller's few loop instructions and, for *_inplace, the query copy into the packet).
#   Answer: only instructions executed inside Engine::Answer (--toggle-collect), its callees
#           included.
# Policy cases come in pairs: pol_X (a policy-driven A RRset) or geo_X (a geo resource, asked with
# ECS) and base_X (a plain zone RRset with as many A records, asked the same way). When both of a
# pair are measured, a second table gives pol_X - base_X (geo_X - base_X): what the policy costs
# over a static answer of the same size.
#
# Usage: perf/callgrind_engine.sh [case ...]
#   BUILD_DIR   build tree holding bin/engine_benchmark (default: <repo>/build-perf); the target
#               is brought up to date there with ninja -j1 first.
#   SX_COUNT    answers per measurement (default 20000).
#   OUT_DIR     where callgrind.out files are kept (default: a new directory under /tmp). Look at
#               one with: callgrind_annotate --auto=yes --inclusive=yes OUT_DIR/CASE.out
#               (line numbers need debug info: configure with -DCMAKE_CXX_FLAGS=-g).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build-perf}
count=${SX_COUNT:-20000}
out_dir=${OUT_DIR:-$(mktemp -d /tmp/callgrind_engine.XXXXXX)}
bin=$build_dir/bin/engine_benchmark
answer_fn='sextant::dataplane::Engine::Answer(*'

if [[ $# -gt 0 ]]; then
  cases=("$@")
else
  cases=(a_noedns a_edns a_edns_inplace aaaa nxdomain cname wildcard referral mix)
  for p in cyclic4 cyclic16 failover16 weighted16 multivalue16; do
    cases+=("base_$p" "pol_$p")
  done
fi

# shellcheck source=perf/callgrind_lib.sh
source "$repo/perf/callgrind_lib.sh"
ensure_benchmark engine_benchmark

# The start-up is the same for every case (all pools are built and checked whatever the case).
base_loop=$(ir "$out_dir/base.out" a_edns 0)
base_answer=$(ir "$out_dir/base_answer.out" a_edns 0 --toggle-collect="$answer_fn")

printf 'N=%s answers per case; start-up Ir=%s (subtracted)\n' "$count" "$base_loop"
printf '%-18s %22s %22s\n' case 'instructions/query' 'Answer only'
declare -A per_loop per_answer
for c in "${cases[@]}"; do
  loop=$(ir "$out_dir/$c.out" "$c" "$count")
  answer=$(ir "$out_dir/${c}_answer.out" "$c" "$count" --toggle-collect="$answer_fn")
  per_loop[$c]=$(awk -v l="$loop" -v b="$base_loop" -v n="$count" \
    'BEGIN {printf "%.1f", (l - b) / n}')
  per_answer[$c]=$(awk -v a="$answer" -v b="$base_answer" -v n="$count" \
    'BEGIN {printf "%.1f", (a - b) / n}')
  printf '%-18s %22s %22s\n' "$c" "${per_loop[$c]}" "${per_answer[$c]}"
done

header=0
for c in "${cases[@]}"; do
  # pol_X and geo_X are each measured against base_X.
  [[ ($c == pol_* || $c == geo_*) && -n ${per_loop[base_${c#*_}]:-} ]] || continue
  b=base_${c#*_}
  if [[ $header -eq 0 ]]; then
    printf '\n%-18s %12s %12s %12s   (Answer only)\n' policy baseline policy difference
    header=1
  fi
  awk -v c="${c#*_}" -v b="${per_answer[$b]}" -v p="${per_answer[$c]}" \
    'BEGIN {printf "%-18s %12.1f %12.1f %+12.1f\n", c, b, p, p - b}'
done
echo "callgrind.out files: $out_dir"
