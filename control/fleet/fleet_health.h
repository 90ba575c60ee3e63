// Where the fleet meets this node's health table: per target, its quorum and the fleet verdict
// from the latest FleetView (fleet_agent.h) and this node's own verdict; the fleet-wide
// overrides; and the reports (`sextantctl health --fleet`, `fleet status`, /metrics). Every
// call is made with the daemon's health lock held, so it is plain data.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>

#include "control/config/config.h"
#include "control/fleet/fleet_agent.h"
#include "control/health/health_state.h"

namespace sextant::control::fleet {

class FleetHealth {
 public:
  // The targets of a (re)loaded config: their quorum, and which of them this node checks (those
  // vote). `node` is this node's name in the fleet.
  void SetTargets(const Config& config);
  // A new view: every target's fleet verdict and the fleet overrides, into `table`.
  void Apply(const FleetView& view, HealthTable* table, int64_t now_ms);
  // This node's own verdict on `target` changed: its fleet verdict again.
  void Recompute(const std::string& target, HealthTable* table, int64_t now_ms);

  // This node's votes (target -> up) for the agent to publish.
  std::map<std::string, bool> LocalVotes(const HealthTable& table) const;
  bool Votes(const std::string& target) const { return voting_.contains(target); }

  // `health --fleet`: per target, each node's vote, the quorum and the verdict served here.
  std::string Report(const HealthTable& table, bool json) const;
  // `fleet status`: this node's link to etcd and every live member.
  std::string Status(bool json, uint64_t generation) const;
  // The fleet families of /metrics.
  std::string Metrics() const;
  void SetBundleRevision(int64_t revision) { bundle_revision_ = revision; }

 private:
  std::map<std::string, bool> VotesOf(const std::string& target, const HealthTable& table) const;
  nlohmann::json TargetJson(const std::string& name, const TargetHealth& t,
                            const HealthTable& table) const;

  std::string node_;
  Quorum default_quorum_ = Quorum::kMajority;
  std::map<std::string, Quorum> quorum_;  // per target that sets its own
  std::set<std::string> voting_;          // targets this node checks
  FleetView view_;
  bool have_view_ = false;
  int64_t bundle_revision_ = 0;  // served by this node
};

}  // namespace sextant::control::fleet
