// The `fleet:` section: several Sextant nodes sharing health votes and overrides through etcd
// (control/fleet/). Minimal form:
//
//   fleet:
//     endpoints: [http://10.0.0.1:2379, http://10.0.0.2:2379, http://10.0.0.3:2379]
//     node: fra-1
//
// Absent: the node decides alone, as before.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sextant::control {

// How many of the live nodes that check a target must see it down for it to be down everywhere.
enum class Quorum : uint8_t { kLocal, kAny, kMajority, kAll };

struct FleetConfig {
  bool present = false;
  std::vector<std::string> endpoints;  // etcd client URLs, http:// or https://
  std::string prefix = "/sextant/";    // every key lives under it; ends with '/'
  std::string node;                    // this node's name: unique in the fleet
  std::string site;                    // where it stands (shown in `fleet status`)
  uint32_t lease_ttl_ms = 10000;       // a dead node's votes vanish this long after it stops
  uint32_t timeout_ms = 2000;          // one etcd request
  uint32_t poll_ms = 500;              // how often the fleet's keys are read
  uint32_t grace_ms = 15000;           // etcd unreachable this long: fall back to local verdicts
  Quorum quorum = Quorum::kMajority;   // targets without their own `quorum`
  std::string ca_file, cert_file, key_file;  // TLS to etcd, optional
  // Configuration distribution (control/fleet/bundle.h): follow the bundles `sextantctl fleet
  // publish` puts in etcd, unpacked under bundle_dir (default /var/lib/sextant/<instance>.bundle).
  bool distribute = false;
  std::string bundle_dir;
};

}  // namespace sextant::control
