#include "control/fleet/fleet_overrides.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "control/fleet/etcd_client.h"
#include "control/fleet/fleet_agent.h"

namespace sextant::control::fleet {
namespace {

absl::Status CheckName(const Config& config, const std::string& name, bool datacenter) {
  if (!config.fleet.present) {
    return absl::FailedPreconditionError(absl::StrCat("--fleet: the config of instance ",
                                                      config.instance, " (", config.path,
                                                      ") has no fleet: section"));
  }
  for (const TargetConfig& t : config.policies.targets) {
    if (datacenter ? t.datacenter == name : t.name == name) return absl::OkStatus();
  }
  return absl::NotFoundError(
      absl::StrCat("no ", datacenter ? "datacenter" : "target", " '", name, "' in ", config.path));
}

std::string Who() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat("sextantctl@", host);
}

}  // namespace

std::string OverrideKey(const FleetConfig& fleet, const std::string& name, bool datacenter) {
  return absl::StrCat(fleet.prefix, "overrides/", datacenter ? "datacenter/" : "target/", name);
}

absl::StatusOr<std::string> ForceFleet(const Config& config, const std::string& name,
                                       bool datacenter, ForcedState state, uint64_t for_ms) {
  if (absl::Status s = CheckName(config, name, datacenter); !s.ok()) return s;
  EtcdClient etcd(config.fleet);
  const int64_t now = NowUnixMs();
  Override o{state, now, for_ms > 0 ? now + static_cast<int64_t>(for_ms) : 0};
  int64_t lease = 0;
  if (for_ms > 0) {
    // The store enforces the expiry: the key goes with its lease (whole seconds, rounded up;
    // every node also drops it at expires_unix_ms, to the millisecond).
    absl::StatusOr<int64_t> l = etcd.Grant(static_cast<int64_t>((for_ms + 999) / 1000));
    if (!l.ok()) return l.status();
    lease = *l;
  }
  if (absl::Status s =
          etcd.Put(OverrideKey(config.fleet, name, datacenter), OverrideValue(o, Who()), lease);
      !s.ok()) {
    return s;
  }
  return absl::StrCat("fleet: ", datacenter ? "datacenter " : "target ", name, " forced ",
                      ForcedStateName(state),
                      for_ms > 0 ? absl::StrCat(" for ", for_ms / 1000.0, "s") : "",
                      " on every node (a node's own override wins there)\n");
}

absl::StatusOr<std::string> ReleaseFleet(const Config& config, const std::string& name,
                                         bool datacenter) {
  if (absl::Status s = CheckName(config, name, datacenter); !s.ok()) return s;
  EtcdClient etcd(config.fleet);
  absl::StatusOr<nlohmann::json> j = etcd.Call(
      "/v3/kv/deleterange", {{"key", Base64(OverrideKey(config.fleet, name, datacenter))}});
  if (!j.ok()) return j.status();
  int64_t deleted = 0;
  if (j->contains("deleted")) {
    const nlohmann::json& d = (*j)["deleted"];
    if (d.is_string()) (void)absl::SimpleAtoi(d.get<std::string>(), &deleted);
    if (d.is_number_integer()) deleted = d.get<int64_t>();
  }
  if (deleted == 0) {
    return absl::NotFoundError(
        absl::StrCat("no fleet override on ", datacenter ? "datacenter '" : "'", name, "'"));
  }
  return absl::StrCat("fleet: ", datacenter ? "datacenter " : "target ", name,
                      " released on every node\n");
}

}  // namespace sextant::control::fleet
