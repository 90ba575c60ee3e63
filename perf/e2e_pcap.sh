#!/usr/bin/env bash
# End-to-end throughput of sextant-dataplane through DPDK ports, without a traffic generator
# competing for the cores: net_pcap replays a pcap of real query frames forever (infinite_rx) into
# the data port, the answers leave through a net_null port (tx_port: 1) that frees them.
#
#   make_query_pcap.py  -> queries.pcap (broadcast destination MAC, so the port MAC does not
#                          matter) + the zone the queries ask about
#   sextant-control     -> publishes the snapshot for a fresh instance
#   sextant-dataplane   -> runs for WARMUP + SECONDS + a little, then SIGINT
#   control_block_counters.py samples the per-lcore counters in /dev/shm/<instance>.ctl twice,
#                          SECONDS apart: queries per second per worker lcore.
# The counters printed at shutdown ("stopped: rx N, tx N, queries N") are shown as well.
#
# What this measures per packet: the pcap PMD's receive (mbuf allocation and a copy of the frame
# from its in-memory ring), ProcessFrame, and the null PMD's transmit (mbuf free). No NIC, no
# DMA: a lower bound on the per-packet cost of the PMDs a real port would have.
#
# Usage: perf/e2e_pcap.sh
#   BUILD_DIR  build tree with bin/sextant-control and bin/sextant-dataplane (default:
#              <repo>/build-perf; both are brought up to date there with ninja -j1)
#   SECONDS_MEASURED  measurement interval (default 5)      WARMUP   seconds before (default 2)
#   FRAMES     frames in the pcap (default 4096)             MIX      A/AAAA/NXDOMAIN (70/20/10)
#   LCORES     EAL --lcores list (default 0-1: main lcore 0 + one worker lcore 1). The pcap port has
#              one RX queue per rx_pcap file, so the dataplane runs one worker per queue; with
#              QUEUES=2 (and e.g. LCORES='0@0,1@0,2@1': the main lcore sleeps) two rx_pcap
#              files are given, one per worker.
#   KEEP=1     keep the work directory (config, zone, pcap, logs)
#   BUILD=0    do not run ninja in BUILD_DIR (the caller built it: perf/compare.sh, ctest)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build-perf}
measure=${SECONDS_MEASURED:-5}
warmup=${WARMUP:-2}
frames=${FRAMES:-4096}
mix=${MIX:-70/20/10}
lcores=${LCORES:-0-1}
queues=${QUEUES:-1}
instance=sxperf-e2e-$$
work=$(mktemp -d /tmp/sxperf_e2e.XXXXXX)
dp_pid=

cleanup() {
  if [[ -n $dp_pid ]] && kill -0 "$dp_pid" 2>/dev/null; then
    kill -INT "$dp_pid" 2>/dev/null || true
    sleep 2
    kill -KILL "$dp_pid" 2>/dev/null || true
  fi
  # Control block, snapshots, and the instance lock and targets file sextant-control leaves.
  rm -f /dev/shm/"$instance".*
  # EAL's runtime directory for our --file-prefix (about 13 MB of tmpfs with --no-huge).
  rm -rf "/var/run/dpdk/$instance"
  if [[ ${KEEP:-0} == 1 ]]; then echo "work directory: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

if [[ ${BUILD:-1} == 1 && -f $build_dir/build.ninja ]]; then
  ninja -C "$build_dir" -j1 sextant-control sextant-dataplane >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; exit 1; }
fi
for b in sextant-control sextant-dataplane; do
  [[ -x $build_dir/bin/$b ]] || { echo "no $build_dir/bin/$b (set BUILD_DIR)" >&2; exit 1; }
done

python3 "$repo/perf/make_query_pcap.py" --count "$frames" --mix "$mix" \
  --out "$work/queries.pcap" --zone "$work/perf.test.zone"
rx_args="rx_pcap=$work/queries.pcap"
for ((q = 1; q < queues; q++)); do
  cp "$work/queries.pcap" "$work/queries$q.pcap"
  rx_args+=",rx_pcap=$work/queries$q.pcap"
done

# The pcap PMD keeps every frame of the file in an mbuf of the port's pool (infinite_rx), on top
# of the descriptors and per-lcore caches: size the pool for that.
mbufs=$(( (queues * frames + 8192) | 1 ))
cat >"$work/config.yaml" <<EOF
instance: $instance
zones:
  - origin: perf.test.
    file: perf.test.zone
dataplane:
  addresses: [198.18.0.2]
  port: 0
  tx_port: 1
  queues: $queues
  mbufs: $mbufs
  exception_path: false
EOF
# The pcap's clients sit in a few hundred /24s: rate limiting (where the build has it) off.
# shellcheck source=perf/rate_limit_off.sh
source "$repo/perf/rate_limit_off.sh"
rate_limit_off "$build_dir/bin/sextant-control" >>"$work/config.yaml"

"$build_dir/bin/sextant-control" --once --config "$work/config.yaml"

"$build_dir/bin/sextant-dataplane" --lcores "$lcores" --no-huge -m 1024 --no-pci \
  --vdev="net_pcap0,$rx_args,infinite_rx=1" --vdev=net_null0 --file-prefix="$instance" \
  -- --instance "$instance" >"$work/dataplane.log" 2>&1 &
dp_pid=$!

for _ in $(seq 300); do
  grep -q 'serving generation' "$work/dataplane.log" && break
  kill -0 "$dp_pid" 2>/dev/null || { cat "$work/dataplane.log" >&2; exit 1; }
  sleep 0.1
done
grep 'serving generation' "$work/dataplane.log" || {
  cat "$work/dataplane.log" >&2
  exit 1
}

sleep "$warmup"
python3 "$repo/perf/control_block_counters.py" --instance "$instance" --interval "$measure" \
  --pid "$dp_pid"

kill -INT "$dp_pid"
wait "$dp_pid" || true
dp_pid=
grep 'stopped:' "$work/dataplane.log" || tail -5 "$work/dataplane.log"
