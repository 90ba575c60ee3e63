#include "dataplane/dpdk/port_settings.h"

#include <arpa/inet.h>

#include <cstring>

#include "maps/snapshot_format.h"

namespace sextant::dataplane {

std::string PortAddress::Text() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof(buf));
  return buf;
}

bool PortAddress::operator==(const PortAddress& o) const {
  return family == o.family && prefix == o.prefix && vlan == o.vlan &&
         std::memcmp(addr, o.addr, sizeof(addr)) == 0;
}

absl::StatusOr<PortSettings> PortSettingsOf(const maps::SnapshotReader& snap) {
  const auto settings = snap.section<maps::DataplaneSettings>(maps::kDataplane);
  if (settings.empty()) {
    return absl::NotFoundError(
        "the published configuration has no dataplane: section (DPDK mode needs one, e.g. "
        "dataplane: {addresses: [198.18.0.2]})");
  }
  const maps::DataplaneSettings& d = settings[0];
  PortSettings p;
  p.port = d.port;
  p.tx_port = d.tx_port;
  p.queues = d.queues;
  p.mbufs = d.mbufs;
  p.mtu = d.mtu;
  p.dns_port = d.dns_port;
  p.exception_path = d.exception_path != 0;
  const auto strings = snap.bytes(maps::kStrings);
  p.exception_interface.assign(
      reinterpret_cast<const char*>(strings.data()) + d.exception_interface.offset,
      d.exception_interface.length);
  for (const maps::DataplaneAddress& a :
       snap.section<maps::DataplaneAddress>(maps::kDataplaneAddresses)) {
    PortAddress pa;
    pa.family = a.family;
    std::memcpy(pa.addr, a.addr, sizeof(pa.addr));
    pa.prefix = a.prefix;
    pa.vlan = a.vlan;
    p.addresses.push_back(pa);
  }
  return p;
}

}  // namespace sextant::dataplane
