// What `sextantctl force` and `release` are told: which targets an override hits (a datacenter
// override hits every target of that datacenter except those holding an override of their own,
// which wins), and refusals that name the mistake and the fix ("no such target 'nosuch'",
// "datacenter 'sng' has no targets", "nyc1 follows datacenter nyc's override: release nyc
// --datacenter"). The daemon checks with these before it changes the table, and replies with
// them after.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "control/health/health_state.h"

namespace sextant::control {

// An operator's request: `name` is a target, or with `datacenter` a datacenter.
struct OverrideRequest {
  std::string name;
  bool datacenter = false;
  ForcedState state = ForcedState::kDown;  // force only
  int64_t for_ms = 0;                      // force only; 0 = until released

  bool operator==(const OverrideRequest&) const = default;
};

// NotFound naming the mistake when a force cannot apply: an unknown target, or a datacenter no
// target is in.
absl::Status CheckForce(const HealthTable& table, const OverrideRequest& r);
// NotFound when there is nothing to release: no such target or datacenter, or no override on
// it (pointing at the datacenter's override when that is what holds a target).
absl::Status CheckRelease(const HealthTable& table, const OverrideRequest& r);

// The replies, from the table after the change: "datacenter sgp forced down: 2 targets (sgp1,
// sgp2)", "released: 1 target (nyc1); the checks decide again".
std::string ForceReply(const HealthTable& table, const OverrideRequest& r);
std::string ReleaseReply(const HealthTable& table, const OverrideRequest& r);

}  // namespace sextant::control
