#!/usr/bin/env bash
# Sextant beside Knot DNS, NSD, gdnsd and PowerDNS: the same zone (make_query_pcap.py's, N
# hosts) and query mix, the same offered load from dnsperf on the other core, one table of
# answered qps, latency, loss and the main column, server CPU time per answered query.
# perf/compare.py does the work and documents each row; perf/README.md says how to read it.
#
# Usage: perf/compare.sh            (as root on Debian 12: installs missing peers with apt-get)
#   SERVERS   rows, default all: "sextant sextant-dpdk knot nsd gdnsd pdns sextant-geo knot-geo
#             gdnsd-geo pdns-geo"
#   DURATION  seconds of load per row (default 10)     QPS   offered load, dnsperf -Q (20000)
#   CLIENTS   dnsperf -c (4)                            HOSTS hosts in the zone (1000)
#   OUTSTANDING  dnsperf -q, queries in flight at most (100, dnsperf's default)
#   MIX       A/AAAA/NXDOMAIN percent (70/20/10)        QUERIES distinct queries (10000)
#   VERIFY    answers checked per server before its load (200)
#   SERVER_CPU / CLIENT_CPU  taskset CPUs (default 1 and 0 when there are two or more CPUs)
#   OUT       also write the table to this file
#   BUILD_DIR build tree with bin/sextant-control and bin/sextant-dataplane (default
#             <repo>/build-perf; brought up to date with ninja -j1 unless BUILD=0)
#   WRONG     a row fed wrong answers on purpose (its check must fail the run: the smoke test)
#   IDLE      seconds each server's CPU is sampled with no load first (1)
#   DPDK_WARMUP  seconds before the e2e harness samples (2)
#   KEEP=1    keep the work directory (configs, logs, dnsperf outputs)
# Exit status: 0 when every row was measured and every checked answer was right.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build-perf}
servers=${SERVERS:-sextant sextant-dpdk knot nsd gdnsd pdns sextant-geo knot-geo gdnsd-geo pdns-geo}

if [[ ${BUILD:-1} == 1 && -f $build_dir/build.ninja ]]; then
  ninja -C "$build_dir" -j1 sextant-control sextant-dataplane >/dev/null
fi
for b in sextant-control sextant-dataplane; do
  [[ -x $build_dir/bin/$b ]] || { echo "no $build_dir/bin/$b (set BUILD_DIR)" >&2; exit 1; }
done

# The peers' Debian packages, when a row needs one that is missing (scripts/install-deps.sh
# installs them all).
declare -A pkg_of=([knot]="knot" [knot-geo]="knot knot-module-geoip" [nsd]="nsd"
  [gdnsd]="gdnsd" [gdnsd-geo]="gdnsd" [pdns]="pdns-server pdns-backend-bind"
  [pdns-geo]="pdns-server pdns-backend-bind pdns-backend-geoip")
need=(dnsperf python3-dnspython util-linux)
for s in $servers; do
  read -ra pkgs <<<"${pkg_of[$s]:-}"
  need+=("${pkgs[@]}")
done
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "compare: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi

cpus=$(nproc)
server_cpu=${SERVER_CPU:-$((cpus > 1 ? 1 : 0))}
client_cpu=${CLIENT_CPU:-0}

# Sextant's rate limiting (when this build has it) is turned off, as it is for every peer.
# shellcheck source=perf/rate_limit_off.sh
source "$repo/perf/rate_limit_off.sh"
rate_limit=()
[[ -n $(rate_limit_off "$build_dir/bin/sextant-control") ]] && rate_limit=(--rate-limit-key)

args=(--servers "$servers" --duration "${DURATION:-10}" --qps "${QPS:-20000}"
  --clients "${CLIENTS:-4}" --outstanding "${OUTSTANDING:-100}" --hosts "${HOSTS:-1000}" --mix "${MIX:-70/20/10}"
  --queries "${QUERIES:-10000}" --verify "${VERIFY:-200}"
  --server-cpu "$server_cpu" --client-cpu "$client_cpu"
  --sextant-control "$build_dir/bin/sextant-control"
  --sextant-dataplane "$build_dir/bin/sextant-dataplane" --build-dir "$build_dir"
  "${rate_limit[@]}")
[[ -n ${OUT:-} ]] && args+=(--out "$OUT")
[[ -n ${WRONG:-} ]] && args+=(--wrong "$WRONG")
[[ -n ${DPDK_WARMUP:-} ]] && args+=(--dpdk-warmup "$DPDK_WARMUP")
[[ -n ${IDLE:-} ]] && args+=(--idle "$IDLE")
[[ ${KEEP:-0} == 1 ]] && args+=(--keep)
# Debian's interpreter: it has python3-dnspython (a python3 earlier on PATH may not).
exec /usr/bin/python3 "$repo/perf/compare.py" "${args[@]}"
