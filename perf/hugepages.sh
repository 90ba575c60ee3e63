#!/usr/bin/env bash
# Sourced by the perf scripts that run DPDK on 2 MiB hugepages (e2e_pcap.sh, e2e_fraction.sh
# with HUGE=1). Run those under flock /tmp/sextant-integration.lock: the integration tests
# reserve hugepages too.
#   hugepages_reserve PAGES  raise /proc/sys/vm/nr_hugepages to PAGES if it is lower; the value
#                            found first is remembered for hugepages_restore
#   hugepages_mount DIR      a private hugetlbfs mount of 2 MiB pages at DIR (made if missing);
#                            unmounting it frees the pages the files in it hold
#   hugepages_restore        nr_hugepages back to the value found first (for an EXIT trap; a
#                            no-op when nothing was reserved)
hugepages_before=

hugepages_reserve() {
  local now
  now=$(cat /proc/sys/vm/nr_hugepages)
  [[ -n $hugepages_before ]] || hugepages_before=$now
  ((now >= $1)) || echo "$1" >/proc/sys/vm/nr_hugepages
}

hugepages_mount() {
  mkdir -p "$1"
  mount -t hugetlbfs -o pagesize=2M nodev "$1"
}

hugepages_restore() {
  [[ -z $hugepages_before ]] || echo "$hugepages_before" >/proc/sys/vm/nr_hugepages
}
