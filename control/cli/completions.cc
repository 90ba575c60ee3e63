#include "control/cli/completions.h"

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "control/cli/dump_report.h"
#include "control/cli/instance_files.h"
#include "control/daemon/control_socket.h"
#include "maps/status_macros.h"

namespace sextant::control {

namespace {

// A completion waits on nobody for long: a daemon busy compiling gets half a second.
constexpr int kCompletionTimeoutMs = 500;

std::set<std::string> Datacenters(const maps::SnapshotReader& s, const std::string& socket_path) {
  std::set<std::string> out;
  for (const maps::GeoMap& g : s.section<maps::GeoMap>(maps::kGeoMaps)) {
    const std::vector<std::string> names =
        absl::StrSplit(SnapshotString(s, g.dc_names), ',', absl::SkipEmpty());
    out.insert(names.begin(), names.end());
  }
  const absl::StatusOr<std::string> health =
      ControlRequest(socket_path, "health json", kCompletionTimeoutMs);
  if (!health.ok()) return out;
  const nlohmann::json targets = nlohmann::json::parse(*health, nullptr, false);
  if (!targets.is_array()) return out;
  for (const nlohmann::json& t : targets) {
    if (t.is_object() && t.contains("datacenter") && t["datacenter"].is_string() &&
        !t["datacenter"].get<std::string>().empty()) {
      out.insert(t["datacenter"].get<std::string>());
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> Completions(const std::string& instance, const std::string& socket_path,
                                        const std::string& kind) {
  SX_ASSIGN_OR_RETURN(InstanceFiles f, OpenInstanceFiles(instance));
  const maps::SnapshotReader& s = *f.snapshot;
  std::set<std::string> out;
  if (kind == "targets") {
    for (const maps::Target& t : s.section<maps::Target>(maps::kTargets)) {
      out.insert(SnapshotString(s, t.name));
    }
  } else if (kind == "datacenters") {
    out = Datacenters(s, socket_path);
  } else if (kind == "resources") {
    for (const maps::Resource& r : s.section<maps::Resource>(maps::kResources)) {
      out.insert(SnapshotString(s, r.name));
    }
  } else if (kind == "names") {
    for (const std::string& origin : ZoneOrigins(s)) out.insert(origin);
    for (const auto& [resource, owners] : ResourceOwners(s))
      out.insert(owners.begin(), owners.end());
  } else {
    return absl::InvalidArgumentError("complete: targets, datacenters, resources or names");
  }
  return out.empty() ? std::string() : absl::StrJoin(out, "\n") + "\n";
}

}  // namespace sextant::control
