// Fleet-wide overrides as sextantctl sets them (`force|release ... --fleet`): straight into
// etcd, from the fleet section of the node's config, so they need no particular node to be up.
// An override with `--for` is put under a lease of that length: the store drops it when it
// ends, whoever set it and whatever became of that node. Every node's agent (fleet_agent.h)
// reads it within one `fleet.poll`.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "control/config/config.h"
#include "control/health/health_state.h"

namespace sextant::control::fleet {

// The key of a target's (or a datacenter's) fleet override.
std::string OverrideKey(const FleetConfig& fleet, const std::string& name, bool datacenter);

// Sets it; `for_ms` 0 = until released. The reply says what was set, for people.
absl::StatusOr<std::string> ForceFleet(const Config& config, const std::string& name,
                                       bool datacenter, ForcedState state, uint64_t for_ms);
absl::StatusOr<std::string> ReleaseFleet(const Config& config, const std::string& name,
                                         bool datacenter);

}  // namespace sextant::control::fleet
