#!/usr/bin/env bash
# Instructions per geo prefix-table lookup (maps/prefix_table.h Lookup), per family, under
# callgrind. geo_compile_benchmark's counting mode runs exactly N lookups over 4096 random
# addresses of one family on a saved table, or the same loop without the lookup (--empty);
# instruction counts are deterministic under valgrind, so
#   per_lookup = (Ir(lookup, N) - Ir(empty, N)) / N
#
# Usage: perf/callgrind_geo_lookup.sh TABLE
#   TABLE      written by: geo_compile_benchmark --mmdb DB --save_table TABLE
#   BUILD_DIR  build tree holding bin/geo_compile_benchmark (default: <repo>/build-perf)
#   SX_COUNT   lookups per measurement (default 200000)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build-perf}
count=${SX_COUNT:-200000}
table=${1:?usage: $0 TABLE}
bin=$build_dir/bin/geo_compile_benchmark
out_dir=$(mktemp -d /tmp/callgrind_geo.XXXXXX)

ir() {
  local file=$out_dir/$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$file" "$bin" --load_table "$table" "$@" \
    >"$file.log" 2>&1 || { echo "valgrind failed; see $file.log" >&2; exit 1; }
  awk '/^totals:/ {print $2}' "$file"
}

for family in 4 6; do
  lookup=$(ir "v$family.out" --family "$family" --count "$count")
  empty=$(ir "v$family.empty.out" --family "$family" --count "$count" --empty)
  awk -v f="$family" -v l="$lookup" -v e="$empty" -v n="$count" \
    'BEGIN {printf "IPv%s: %.1f instructions per lookup\n", f, (l - e) / n}'
done
echo "callgrind.out files: $out_dir"
