// What the DPDK dataplane is told besides its EAL arguments: the `dataplane:` section of the
// config, as sextant-control published it in the snapshot (maps/snapshot_format.h sections
// kDataplane and kDataplaneAddresses). The dataplane reads no config file: control validated
// the section, and shared memory is the one source of truth for both processes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "maps/snapshot_reader.h"

namespace sextant::dataplane {

struct PortAddress {
  int family = 4;  // 4 or 6
  uint8_t addr[16] = {};
  int prefix = 24;    // for the exception tap's kernel side
  uint16_t vlan = 0;  // 0 = untagged

  std::string Text() const;  // "198.18.0.2", "2001:db8::2"
  bool operator==(const PortAddress& o) const;
};

struct PortSettings {
  uint16_t port = 0;
  int tx_port = -1;  // -1 = the data port
  int queues = 0;    // 0 = one per worker lcore
  uint32_t mbufs = 8191;
  uint16_t mtu = 1500;
  uint16_t dns_port = 53;
  bool exception_path = true;
  std::string exception_interface;
  std::vector<PortAddress> addresses;

  bool operator==(const PortSettings& o) const = default;
};

// The settings in `snap` (validated by its reader); NotFound when the config had no
// `dataplane:` section.
absl::StatusOr<PortSettings> PortSettingsOf(const maps::SnapshotReader& snap);

}  // namespace sextant::dataplane
