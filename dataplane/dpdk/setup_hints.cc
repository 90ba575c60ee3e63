#include "dataplane/dpdk/setup_hints.h"

#include <cerrno>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace sextant::dataplane {

std::string EalInitHint(int err, int64_t hugepages_free) {
  constexpr const char* kHugepages =
      "reserve hugepages (dpdk-hugepages.py --setup 1G, or boot with default_hugepagesz=1G "
      "hugepagesz=1G hugepages=N) or run with --no-huge -m 512";
  switch (err) {
    case ENOMEM:
      return absl::StrCat("the EAL could not get its memory",
                          hugepages_free >= 0
                              ? absl::StrCat(" (", hugepages_free, " hugepages free)")
                              : std::string(),
                          ": ", kHugepages, "; with --no-huge, lower -m");
    case EACCES:
      return absl::StrCat(
          "the EAL may not read the hugepage mounts or the devices: run as root, or with the "
          "capabilities of /usr/share/doc/sextant/examples/sextant-dataplane-dpdk.conf; check "
          "that hugetlbfs is mounted (dpdk-hugepages.py -s), or ",
          kHugepages);
    case 0:  // DPDK 22.11 sets no rte_errno when its runtime config is locked
      return "the EAL's lines above say which step failed; \"Cannot create lock\" there means "
             "another DPDK process uses this --file-prefix: give each dataplane on this machine "
             "its own --file-prefix";
    case EAGAIN:
    case EALREADY:
      return "another DPDK process uses this --file-prefix (its runtime files are locked): give "
             "each dataplane on this machine its own --file-prefix";
    case ENODEV:
    case ENOTSUP:
      return "no usable device or bus: bind the NIC with dpdk-devbind.py --bind vfio-pci "
             "<PCI address> (with the IOMMU on: intel_iommu=on iommu=pt), or name a virtual "
             "device with --vdev";
    default:
      return "the EAL's own lines above say which step failed (docs/deploying.md has the set-up)";
  }
}

int64_t FreeHugepages() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t value = 0;
  while (in >> key >> value) {
    if (key == "HugePages_Free:") return value;
    in.ignore(256, '\n');
  }
  return -1;
}

std::string NoPortHint(uint32_t ports_available) {
  if (ports_available == 0) {
    return "the EAL found no port: bind the NIC to vfio-pci (dpdk-devbind.py --bind vfio-pci "
           "0000:03:00.0; IOMMU on: intel_iommu=on iommu=pt) and name it with -a 0000:03:00.0, "
           "or name a virtual device (--vdev net_af_xdp0,iface=eth1); dpdk-devbind.py --status "
           "shows the drivers";
  }
  return "dataplane.port (and tx_port) count the ports the EAL arguments name, from 0: name "
         "the device with -a or --vdev, or lower dataplane.port";
}

}  // namespace sextant::dataplane
