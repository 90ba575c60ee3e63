#!/usr/bin/env bash
# Installs everything the build, the demo and the tests need on Debian 12 (run as root).
# Idempotent: re-running only re-checks the packages.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential cmake ninja-build pkg-config clang clang-format clang-tidy libclang-rt-14-dev
  dpdk dpdk-dev libdpdk-dev libmaxminddb-dev libldns-dev libabsl-dev libgtest-dev libgmock-dev
  libbenchmark-dev libyaml-cpp-dev libcli11-dev libxxhash-dev libcurl4-openssl-dev libssl-dev
  libcpp-httplib-dev libsystemd-dev libmnl-dev nlohmann-json3-dev valgrind
  libfstrm-dev libprotobuf-c-dev protobuf-c-compiler
  lintian fakeroot dpkg-dev systemd util-linux
  knot knot-dnsutils dnsutils ldnsutils dnsperf python3 python3-dnspython python3-jsonschema gdnsd unbound
  knot-module-geoip nsd pdns-server pdns-backend-bind pdns-backend-geoip gnuplot-nox
  dnstap-ldns fstrm-bin
  iproute2 iputils-ping tcpdump ethtool procps curl openssl etcd-server prometheus
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
  # perf/compare.sh starts the peers itself, on loopback ports of its own; where systemd runs,
  # the units that installing them just enabled and started (on port 53) are stopped again.
  if [[ -d /run/systemd/system ]]; then
    for unit in nsd pdns; do
      [[ " ${missing[*]} " == *" ${unit/pdns/pdns-server} "* ]] &&
        { systemctl disable --now "$unit" >/dev/null 2>&1 || true; }
    done
  fi
fi
