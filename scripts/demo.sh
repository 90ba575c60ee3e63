#!/usr/bin/env bash
# Quick start: builds Sextant and runs the responder on the bundled demo configuration
# (examples/demo/) on a DPDK port: a veth pair whose far end sits in a network namespace
# "sxdemo" playing the client (198.18.0.1 / 2001:db8:18::1); the appliance answers on
# 198.18.0.2 / 2001:db8:18::2 through net_af_packet, TCP through the exception tap.
# sextant-control runs as the daemon: it health-checks two web backends on loopback (Python
# http.server, started here) and steers app.example.test away from a dead one; the demo kills
# one backend to show it. Runs until Ctrl-C (or DEMO_SECONDS seconds), then cleans up.
# Debian 12, as root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build sextant-control sextant-dataplane sextantctl sextant-exporter

ns=sxdemo host_if=sxdemo0 client_if=sxdemo1
cleanup() {
  [ -n "${exp_pid:-}" ] && kill -TERM "$exp_pid" 2>/dev/null && wait "$exp_pid" 2>/dev/null || true
  [ -n "${dp_pid:-}" ] && kill -TERM "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null || true
  [ -n "${ctl_pid:-}" ] && kill -TERM "$ctl_pid" 2>/dev/null && wait "$ctl_pid" 2>/dev/null || true
  for p in ${web_pids:-}; do kill "$p" 2>/dev/null || true; done
  ip netns del $ns 2>/dev/null || true
  ip link del $host_if 2>/dev/null || true
  rm -f /dev/shm/sextant-demo.* ; rm -rf /var/run/dpdk/sxdemo
}
trap cleanup EXIT
trap 'exit 0' INT TERM
cleanup

ip netns add $ns
ip link add $host_if type veth peer name $client_if
ip link set $client_if netns $ns
ip link set $host_if up
ip -n $ns link set lo up
ip -n $ns addr add 198.18.0.1/24 dev $client_if
ip -n $ns -6 addr add 2001:db8:18::1/64 dev $client_if nodad
ip -n $ns link set $client_if up
# veth leaves UDP checksums to "hardware"; make the client compute them as a real NIC would.
ip netns exec $ns ethtool -K $client_if tx off >/dev/null

# Two web backends for the health-checked pool (loopback only).
web_pids=""
for port in 18081 18082; do
  /usr/bin/python3 -m http.server --bind 127.0.0.1 --directory examples/demo $port >/dev/null 2>&1 &
  web_pids="$web_pids $!"
done
./build/bin/sextant-control --check --config examples/demo/sextant.yaml
./build/bin/sextant-control --config examples/demo/sextant.yaml &
ctl_pid=$!
for _ in $(seq 100); do
  [ -S /run/sextant/sextant-demo.sock ] && break
  sleep 0.1
done
./build/bin/sextant-dataplane -l 0-1 --no-huge -m 512 --no-pci \
  --vdev=net_af_packet0,iface=$host_if --file-prefix=sxdemo -- \
  --instance sextant-demo &
dp_pid=$!
for _ in $(seq 100); do
  ip link show sxdemoexc >/dev/null 2>&1 && break
  sleep 0.1
done
# The dataplane's counters for Prometheus, from shared memory (independent of sextant-control).
./build/bin/sextant-exporter --instance sextant-demo --listen 127.0.0.1:9154 &
exp_pid=$!
sleep 1

echo
echo "== dig from the client namespace (UDP/IPv4, UDP/IPv6, TCP via the exception path)"
ip netns exec $ns dig @198.18.0.2 www.example.test A +norec +nsid
ip netns exec $ns dig @2001:db8:18::2 www.example.test AAAA +norec +short
ip netns exec $ns dig @198.18.0.2 api.example.test A +tcp +short
sleep 2
echo
echo "== health-checked pool: both backends up"
./build/bin/sextantctl --config examples/demo/sextant.yaml health
ip netns exec $ns dig @198.18.0.2 app.example.test A +norec +noall +answer
echo
echo "== kill the backend of 198.18.20.2 (port 18082); after interval x fall + timeout it is gone"
kill ${web_pids##* }
sleep 3
./build/bin/sextantctl --config examples/demo/sextant.yaml health
ip netns exec $ns dig @198.18.0.2 app.example.test A +norec +noall +answer
echo
echo "== Prometheus metrics, a few lines: the dataplane's (sextant-exporter), control's (control.metrics)"
curl -s http://127.0.0.1:9154/metrics | grep -E '^sextant_(queries_total|responses_total|responses_by_qtype_total)' || true
curl -s http://127.0.0.1:9153/metrics | grep -E '^sextant_target_up' || true
cat <<MSG

Sextant is answering on 198.18.0.2 and 2001:db8:18::2 (DPDK port net_af_packet0 on $host_if).
Query it from the client namespace, for example:
  ip netns exec $ns dig @198.18.0.2 www.example.test
  ip netns exec $ns dig @2001:db8:18::2 _sip._udp.example.test SRV
  ip netns exec $ns dig @198.18.0.2 example.test ANY +tcp
  ip netns exec $ns dnsperf -s 198.18.0.2 -d <(echo www.example.test A) -l 5
Edit $root/examples/demo/example.test.zone: sextant-control sees the change and publishes a new
snapshot without dropping a query. Steer health by hand:
  $root/build/bin/sextantctl --config $root/examples/demo/sextant.yaml force down web1 --for 30s
  $root/build/bin/sextantctl --config $root/examples/demo/sextant.yaml status
Metrics: curl http://127.0.0.1:9154/metrics (dataplane), curl http://127.0.0.1:9153/metrics (control)
Ctrl-C stops the demo.
MSG
if [ -n "${DEMO_SECONDS:-}" ]; then
  sleep "$DEMO_SECONDS"
else
  wait "$dp_pid"
fi
