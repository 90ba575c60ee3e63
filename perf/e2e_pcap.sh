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
# The counters printed at shutdown ("stopped: rx N, tx N, queries N") are shown as well, and lines
# for perf/large_zone.sh: "control: compile ..." (wall time and peak RSS of sextant-control --once,
# which loads, compiles and publishes the snapshot; /usr/bin/time), "snapshot: N bytes" and
# "dataplane: VmRSS ..." (/proc/PID/status and smaps_rollup while serving).
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
#   HOSTS      hosts in the generated zone (default 1000; make_query_pcap.py --hosts): each has an
#              A and an AAAA, the queries pick hosts uniformly. For a large zone (perf/large_zone.sh)
#              give FRAMES about as large, so that the queries spread over the names.
#   MEM        EAL -m in MiB (default 1024 plus 3 KiB per mbuf: FRAMES and 8192 more)
#   KEEP=1     keep the work directory (config, zone, pcap, logs)
#   GEO=1      geo answers with ECS: every query asks A geo.perf.test. with an EDNS Client Subnet
#              option, the clients taken in turn from the networks of the City test database
#              (make_query_pcap.py --geo), answered by a geo resource (nearest of three
#              datacenters). GEO=city: a generated City DB instead (make_city_mmdb, GEO_NETWORKS
#              networks, default 3100000), ECS from its ~10,000 sampled networks.
#   CHECK=1    (default with GEO) first replay the pcap once with the answers written to tx_pcap
#              files and check every one (check_answers.py); a wrong answer fails the run
#   GEO_WRONG=1  the geo resource answers the wrong datacenters' addresses (the check must fail)
#   HUGE=1     2 MiB hugepages instead of --no-huge: EAL -m 512, or the mbuf pool's 3 KiB per
#              mbuf plus 256 MiB when that is more (a large FRAMES); at least 512 pages, or that
#              and 128 MiB more, reserved (nr_hugepages, restored after), a private hugetlbfs mount. Run it under
#              flock /tmp/sextant-integration.lock: the integration tests reserve hugepages too.
#   REFLECT=1  sextant-dataplane --perf-reflect: every frame goes back out unanswered (the burst
#              loop without ProcessFrame); Mq/cpu-s then counts the frames sent
#   OFFLOAD=1  sextant-dataplane --perf-checksum-offload: the packet path as on a port with IPv4
#              and UDP checksum offload both ways (every 10/25GbE NIC's PMD has it; the vdevs here
#              have none): received checksums taken as good, the answers' left for the NIC (the
#              pseudo-header sum in the UDP field, 0 in the IPv4 one; CHECK=1 checks exactly that)
#   MEASURE_FLAG=FILE  created when the measured interval starts (after WARMUP): another
#              measurement waits for it to time the same seconds (perf/e2e_fraction.sh PAIRED=1)
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
geo=${GEO:-0}
check=${CHECK:-$([[ $geo == 0 ]] && echo 0 || echo 1)}
hosts=${HOSTS:-1000}
instance=sxperf-e2e-$$
work=$(mktemp -d /tmp/sxperf_e2e.XXXXXX)
dp_pid=
# shellcheck source=perf/hugepages.sh
source "$repo/perf/hugepages.sh"

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
  umount "$work/huge" 2>/dev/null || true
  hugepages_restore
  if [[ ${KEEP:-0} == 1 ]]; then echo "work directory: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

if [[ ${BUILD:-1} == 1 && -f $build_dir/build.ninja ]]; then
  targets=(sextant-control sextant-dataplane)
  [[ $geo == city ]] && targets+=(make_city_mmdb)
  ninja -C "$build_dir" -j1 "${targets[@]}" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; exit 1; }
fi
for b in sextant-control sextant-dataplane; do
  [[ -x $build_dir/bin/$b ]] || { echo "no $build_dir/bin/$b (set BUILD_DIR)" >&2; exit 1; }
done

pcap_args=(--expect "$work/expected.txt")
case $geo in
  0) ;;
  1) pcap_args+=(--geo "$work/geo.yaml") ;;
  city)
    "$build_dir/bin/make_city_mmdb" --out "$work/city.mmdb" --networks "${GEO_NETWORKS:-3100000}" \
      --points "$work/points.txt" >"$work/city.log" 2>&1 || { cat "$work/city.log" >&2; exit 1; }
    pcap_args+=(--geo "$work/geo.yaml" --geo-db "$work/city.mmdb" --geo-points "$work/points.txt")
    ;;
  *) echo "GEO must be 0, 1 or city" >&2; exit 1 ;;
esac
[[ ${GEO_WRONG:-0} == 1 ]] && pcap_args+=(--geo-wrong)
python3 "$repo/perf/make_query_pcap.py" --count "$frames" --mix "$mix" --hosts "$hosts" \
  --out "$work/queries.pcap" --zone "$work/perf.test.zone" "${pcap_args[@]}"
rx_args="rx_pcap=$work/queries.pcap"
for ((q = 1; q < queues; q++)); do
  cp "$work/queries.pcap" "$work/queries$q.pcap"
  rx_args+=",rx_pcap=$work/queries$q.pcap"
done

# The pcap PMD keeps every frame of the file in an mbuf of the port's pool (infinite_rx), on top
# of the descriptors and per-lcore caches: size the pool for that.
mbufs=$(( (queues * frames + 8192) | 1 ))
# Each mbuf takes about 2.4 KiB of EAL memory (RTE_MBUF_DEFAULT_BUF_SIZE plus headers); the pool
# needs it in one piece, so leave room: 3 KiB each, plus 1 GiB for the rest.
mem=${MEM:-$(( mbufs * 3 / 1024 + 1024 ))}
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
if [[ $geo != 0 ]]; then cat "$work/geo.yaml" >>"$work/config.yaml"; fi

/usr/bin/time -v -o "$work/control.time" \
  "$build_dir/bin/sextant-control" --once --config "$work/config.yaml"
awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0
                                          for (i = 1; i <= n; ++i) s = s * 60 + t[i]; wall = s }
            /Maximum resident set size/ { rss = $2 }
            END { printf "control: compile and publish %.2f s, peak RSS %.1f MiB\n", wall,
                  rss / 1024 }' "$work/control.time"
# The published snapshot: /dev/shm/<instance>.snap.<generation>.
for f in /dev/shm/"$instance".snap.*; do
  if [[ -f $f ]]; then echo "snapshot: $(stat -c %s "$f") bytes ($(basename "$f"))"; fi
done

# Waits for the dataplane's "serving generation" line in LOG (printed), or shows LOG and exits.
wait_serving() {
  for _ in $(seq 300); do
    grep -q 'serving generation' "$1" && break
    kill -0 "$dp_pid" 2>/dev/null || { cat "$1" >&2; exit 1; }
    sleep 0.1
  done
  grep 'serving generation' "$1" || {
    cat "$1" >&2
    exit 1
  }
}

reflect_args=() count_args=()
if [[ ${REFLECT:-0} == 1 ]]; then reflect_args=(--perf-reflect) count_args=(--per-cpu-of tx); fi
offload_args=()
if [[ ${OFFLOAD:-0} == 1 ]]; then offload_args=(--perf-checksum-offload); fi

eal_mem=(--no-huge -m "$mem")
if [[ ${HUGE:-0} == 1 ]]; then
  huge_mb=$(( mbufs * 3 / 1024 + 256 ))
  ((huge_mb >= 512)) || huge_mb=512
  huge_pages=$(( huge_mb / 2 + 64 ))
  ((huge_pages >= 512)) || huge_pages=512
  hugepages_reserve "$huge_pages"
  hugepages_mount "$work/huge"
  grep -E '^HugePages_(Total|Free)' /proc/meminfo | tr '\n' ' ' && echo
  eal_mem=(--huge-dir "$work/huge" -m "$huge_mb")
fi

if [[ $check == 1 ]]; then
  # The same frames once (no infinite_rx), the answers to tx_pcap files on port 1, then checked.
  tx_args=
  for ((q = 0; q < queues; q++)); do tx_args+="${tx_args:+,}tx_pcap=$work/answers$q.pcap"; done
  "$build_dir/bin/sextant-dataplane" --lcores "$lcores" "${eal_mem[@]}" --no-pci \
    --vdev="net_pcap0,$rx_args" --vdev="net_pcap1,$tx_args" --file-prefix="$instance" \
    -- --instance "$instance" "${offload_args[@]}" >"$work/check.log" 2>&1 &
  dp_pid=$!
  wait_serving "$work/check.log"
  python3 "$repo/perf/control_block_counters.py" --instance "$instance" \
    --wait-tx $((queues * frames)) || true
  kill -INT "$dp_pid"
  wait "$dp_pid" || true
  dp_pid=
  check_args=(--expect "$work/expected.txt" --copies "$queues")
  [[ $geo != 0 ]] && check_args+=(--ecs)
  [[ ${#offload_args[@]} != 0 ]] && check_args+=(--offloaded)
  python3 "$repo/perf/check_answers.py" "${check_args[@]}" "$work"/answers*.pcap ||
    { echo "e2e_pcap: wrong answers (KEEP=1 keeps the pcap, answers and config)" >&2; exit 1; }
fi

"$build_dir/bin/sextant-dataplane" --lcores "$lcores" "${eal_mem[@]}" --no-pci \
  --vdev="net_pcap0,$rx_args,infinite_rx=1" --vdev=net_null0 --file-prefix="$instance" \
  -- --instance "$instance" "${reflect_args[@]}" "${offload_args[@]}" >"$work/dataplane.log" 2>&1 &
dp_pid=$!

wait_serving "$work/dataplane.log"

sleep "$warmup"
[[ -z ${MEASURE_FLAG:-} ]] || touch "$MEASURE_FLAG"
python3 "$repo/perf/control_block_counters.py" --instance "$instance" --interval "$measure" \
  --pid "$dp_pid" "${count_args[@]}"
# Resident memory while serving: RssShmem is the snapshot's pages touched (mapped from
# /dev/shm), RssAnon mostly the EAL memory (mbufs) and the engine's section images, and a large
# snapshot's hugepage-backed copy (maps/huge_page_copy.h), whose 2 MiB pages AnonHugePages counts.
awk 'BEGIN { printf "dataplane:" }
     /^(VmRSS|RssAnon|RssShmem|AnonHugePages):/ {
       printf "%s %s %.1f MiB", sep, $1, $2 / 1024; sep = "," }
     END { print "" }' /proc/"$dp_pid"/status /proc/"$dp_pid"/smaps_rollup

kill -INT "$dp_pid"
wait "$dp_pid" || true
dp_pid=
grep -E 'hugepage-backed|answer lines|stopped:' "$work/dataplane.log" || tail -5 "$work/dataplane.log"
