# Shared by perf/callgrind_engine.sh and perf/callgrind_packet_path.sh (sourced, not run): bring
# a counting-mode benchmark up to date and count the instructions of its runs. Expects $repo,
# $build_dir, $out_dir and $bin (the benchmark binary) to be set.

# ensure_benchmark TARGET: builds TARGET in $build_dir when it is a ninja tree, or says how.
ensure_benchmark() {
  local target=$1
  if [[ -f $build_dir/build.ninja ]]; then
    ninja -C "$build_dir" -j1 "$target" >/dev/null
  fi
  if [[ ! -x $bin ]]; then
    echo "no $bin; build it with:" >&2
    echo "  cmake -S $repo -B $build_dir -G Ninja -DCMAKE_BUILD_TYPE=Release &&" \
      "ninja -C $build_dir -j1 $target" >&2
    exit 1
  fi
  mkdir -p "$out_dir"
}

# ir OUTFILE CASE N [valgrind options...]: total instructions of one counting-mode run.
ir() {
  local file=$1 case=$2 n=$3
  shift 3
  valgrind --tool=callgrind --callgrind-out-file="$file" "$@" \
    "$bin" --sx_case="$case" --sx_count="$n" >"$file.log" 2>&1 || {
    echo "valgrind run failed ($case, N=$n); see $file.log" >&2
    exit 1
  }
  awk '/^totals:/ {print $2; found=1} END {if (!found) exit 1}' "$file"
}
