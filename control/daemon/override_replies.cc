#include "control/daemon/override_replies.h"

#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sextant::control {
namespace {

// The targets a datacenter override reaches, split into those it decides and those whose own
// override wins.
struct DatacenterTargets {
  std::vector<std::string> hit;
  std::vector<std::string> own;  // "web3 (up)": keeps its target override
};

DatacenterTargets TargetsOf(const HealthTable& table, const std::string& datacenter) {
  DatacenterTargets d;
  for (const auto& [name, t] : table.targets()) {
    if (t.datacenter != datacenter) continue;
    if (auto o = table.target_overrides().find(name); o != table.target_overrides().end()) {
      d.own.push_back(absl::StrCat(name, " (", ForcedStateName(o->second.state), ")"));
    } else {
      d.hit.push_back(name);
    }
  }
  return d;
}

std::string Count(const std::vector<std::string>& names) {
  return absl::StrCat(names.size(), names.size() == 1 ? " target" : " targets",
                      names.empty() ? "" : absl::StrCat(" (", absl::StrJoin(names, ", "), ")"));
}

std::string Keeps(const std::vector<std::string>& own) {
  if (own.empty()) return "";
  return absl::StrCat("; ", absl::StrJoin(own, ", "),
                      own.size() == 1 ? " keeps its own override" : " keep their own overrides");
}

std::string Datacenters(const HealthTable& table) {
  std::set<std::string> dcs;
  for (const auto& [name, t] : table.targets()) {
    if (!t.datacenter.empty()) dcs.insert(t.datacenter);
  }
  if (dcs.empty()) return "no target has a datacenter:";
  return absl::StrCat("the targets' datacenters are ", absl::StrJoin(dcs, ", "));
}

bool IsDatacenter(const HealthTable& table, const std::string& name) {
  for (const auto& [n, t] : table.targets()) {
    if (t.datacenter == name) return true;
  }
  return table.dc_overrides().count(name) > 0;
}

std::string For(int64_t for_ms) {
  return for_ms > 0 ? absl::StrCat(" for ", for_ms / 1000.0, "s") : "";
}

}  // namespace

absl::Status CheckForce(const HealthTable& table, const OverrideRequest& r) {
  if (r.datacenter) {
    const DatacenterTargets d = TargetsOf(table, r.name);
    if (d.hit.empty() && d.own.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "datacenter '", r.name, "' has no targets: nothing forced (", Datacenters(table), ")"));
    }
    return absl::OkStatus();
  }
  if (table.targets().count(r.name)) return absl::OkStatus();
  if (IsDatacenter(table, r.name)) {
    return absl::NotFoundError(absl::StrCat(
        "no such target '", r.name, "'; ", r.name, " is a datacenter: sextantctl force ",
        ForcedStateName(r.state), " ", r.name, " --datacenter"));
  }
  return absl::NotFoundError(absl::StrCat("no such target '", r.name, "'"));
}

absl::Status CheckRelease(const HealthTable& table, const OverrideRequest& r) {
  if (r.datacenter) {
    if (table.dc_overrides().count(r.name)) return absl::OkStatus();
    if (!IsDatacenter(table, r.name)) {
      return absl::NotFoundError(
          absl::StrCat("no such datacenter '", r.name, "' (", Datacenters(table), ")"));
    }
    return absl::NotFoundError(absl::StrCat("no override on datacenter '", r.name, "'"));
  }
  if (table.target_overrides().count(r.name)) return absl::OkStatus();
  const auto t = table.targets().find(r.name);
  if (t == table.targets().end()) {
    if (table.dc_overrides().count(r.name)) {
      return absl::NotFoundError(
          absl::StrCat("no such target '", r.name, "'; to release datacenter ", r.name,
                       "'s override: sextantctl release ", r.name, " --datacenter"));
    }
    return absl::NotFoundError(absl::StrCat("no such target '", r.name, "'"));
  }
  const std::string& dc = t->second.datacenter;
  if (auto o = table.dc_overrides().find(dc); !dc.empty() && o != table.dc_overrides().end()) {
    return absl::NotFoundError(
        absl::StrCat("no override on target '", r.name, "'; it follows datacenter ", dc,
                     "'s override (forced ", ForcedStateName(o->second.state),
                     "): release that with sextantctl release ", dc, " --datacenter"));
  }
  return absl::NotFoundError(absl::StrCat("no override on target '", r.name, "'"));
}

std::string ForceReply(const HealthTable& table, const OverrideRequest& r) {
  const char* state = ForcedStateName(r.state);
  if (!r.datacenter) {
    return absl::StrCat("forced ", state, For(r.for_ms), ": ", Count({r.name}), "\n");
  }
  const DatacenterTargets d = TargetsOf(table, r.name);
  return absl::StrCat("datacenter ", r.name, " forced ", state, For(r.for_ms), ": ", Count(d.hit),
                      Keeps(d.own), "\n");
}

std::string ReleaseReply(const HealthTable& table, const OverrideRequest& r) {
  if (r.datacenter) {
    const DatacenterTargets d = TargetsOf(table, r.name);
    return absl::StrCat("datacenter ", r.name, " released: ", Count(d.hit),
                        d.hit.empty() ? "" : "; the checks decide again", Keeps(d.own), "\n");
  }
  const std::optional<Override> o = table.EffectiveOverride(r.name);
  const auto t = table.targets().find(r.name);
  std::string then = "; the checks decide again";
  if (o && t != table.targets().end()) {
    then = absl::StrCat("; it follows datacenter ", t->second.datacenter, "'s override (forced ",
                        ForcedStateName(o->state), ")");
  } else if (t == table.targets().end()) {
    then = " (no longer configured)";
  }
  return absl::StrCat("released: ", Count({r.name}), then, "\n");
}

}  // namespace sextant::control
