#include "control/config/geo_map_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "control/config/yaml_util.h"
#include "maps/dc_lists.h"
#include "maps/snapshot_format.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

absl::Status Err(const std::string& file, const YAML::Node& n, const std::string& what) {
  return YamlError(file, n, what);
}

absl::StatusOr<double> Degrees(const std::string& file, const YAML::Node& n,
                               const std::string& what, double limit) {
  double v = 0;
  if (!n || !n.IsScalar() || !YAML::convert<double>::decode(n, v) || v < -limit || v > limit) {
    return Err(file, n, absl::StrCat(what, " must be a number in -", limit, "..", limit));
  }
  return v;
}

absl::StatusOr<std::vector<std::string>> DcNames(const std::string& file, const YAML::Node& n,
                                                 const std::string& what,
                                                 const std::set<std::string>& known) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.as<std::string>());
  } else if (n.IsSequence() && n.size() > 0) {
    for (const YAML::Node& x : n) out.push_back(x.as<std::string>());
  } else {
    return Err(file, n, what + " must be a datacenter or a list of datacenters");
  }
  for (const std::string& d : out) {
    if (!known.count(d)) return Err(file, n, absl::StrCat(what, ": unknown datacenter '", d, "'"));
  }
  return out;
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
  // Absolute, so that `sextantctl explain` (another working directory) opens the same database.
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(p, ec);
  return (ec ? p : abs).lexically_normal().string();
}

}  // namespace

absl::Status ParseGeoMaps(const std::string& file, const YAML::Node& root,
                          const std::string& base_dir, std::vector<control::GeoMapConfig>* out) {
  std::vector<control::Datacenter> dcs;
  std::set<std::string> dc_names;
  if (const YAML::Node d = root["datacenters"]) {
    if (!d.IsMap()) {
      return Err(file, d, "'datacenters' must map names to {latitude, longitude}");
    }
    for (const auto& kv : d) {
      control::Datacenter dc;
      dc.name = kv.first.as<std::string>();
      const std::string where = "datacenter " + dc.name;
      if (!kv.second.IsMap()) return Err(file, kv.second, where + " must be {latitude, longitude}");
      SX_RETURN_IF_ERROR(CheckYamlKeys(file, kv.second, where, {"latitude", "longitude"}));
      SX_ASSIGN_OR_RETURN(dc.latitude,
                          Degrees(file, kv.second["latitude"], where + ": latitude", 90));
      SX_ASSIGN_OR_RETURN(dc.longitude,
                          Degrees(file, kv.second["longitude"], where + ": longitude", 180));
      dc_names.insert(dc.name);
      dcs.push_back(std::move(dc));
    }
    if (dcs.size() > static_cast<size_t>(maps::kMaxDatacenters)) {
      return Err(file, d, absl::StrCat("at most ", maps::kMaxDatacenters, " datacenters"));
    }
  }
  const YAML::Node gm = root["geo_maps"];
  if (!gm) return absl::OkStatus();
  if (!gm.IsMap()) return Err(file, gm, "'geo_maps' must map names to {database, mode, ...}");
  if (dcs.empty()) return Err(file, gm, "geo_maps need 'datacenters' with coordinates");
  for (const auto& kv : gm) {
    control::GeoMapConfig m;
    m.name = kv.first.as<std::string>();
    m.datacenters = dcs;
    const std::string where = "geo map " + m.name;
    const YAML::Node n = kv.second;
    if (!n.IsMap()) return Err(file, n, where + " must be a mapping");
    SX_RETURN_IF_ERROR(CheckYamlKeys(
        file, n, where, {"database", "mode", "max", "rules", "default", "nets", "latency"}));
    for (const auto& [key, path] :
         {std::pair<const char*, std::string*>{"database", &m.database_path},
          {"nets", &m.nets_path},
          {"latency", &m.latency_path}}) {
      if (!n[key]) continue;
      if (!n[key].IsScalar() || n[key].as<std::string>().empty()) {
        return Err(file, n[key], absl::StrCat(where, ": ", key, " must be a file name"));
      }
      *path = Resolve(base_dir, n[key].as<std::string>());
    }
    if (n["mode"]) {
      const std::string mode = absl::AsciiStrToLower(n["mode"].as<std::string>());
      if (mode == "nearest") {
        m.mode = control::GeoMode::kNearest;
      } else if (mode == "rules") {
        m.mode = control::GeoMode::kRules;
      } else {
        return Err(file, n["mode"], where + ": mode must be nearest or rules");
      }
    }
    if (n["max"]) {
      int v = -1;
      if (!YAML::convert<int>::decode(n["max"], v) || v < 0 || v > maps::kMaxDcsPerList) {
        return Err(file, n["max"],
                   absl::StrCat(where, ": max must be 0..", maps::kMaxDcsPerList, " (0 = all)"));
      }
      m.max_datacenters = v;
    }
    if (const YAML::Node r = n["rules"]) {
      if (m.mode != control::GeoMode::kRules) {
        return Err(file, r, where + ": rules need mode: rules");
      }
      SX_RETURN_IF_ERROR(
          CheckYamlKeys(file, r, where + " rules", {"continent", "country", "subdivision"}));
      for (const auto& [key, dest] :
           {std::pair<const char*, std::map<std::string, std::vector<std::string>>*>{
                "continent", &m.continent_rules},
            {"country", &m.country_rules},
            {"subdivision", &m.subdivision_rules}}) {
        if (!r[key]) continue;
        if (!r[key].IsMap()) {
          return Err(file, r[key],
                     absl::StrCat(where, ": rules.", key, " must map codes to lists"));
        }
        for (const auto& rule : r[key]) {
          const std::string code = absl::AsciiStrToUpper(rule.first.as<std::string>());
          SX_ASSIGN_OR_RETURN((*dest)[code],
                              DcNames(file, rule.second,
                                      absl::StrCat(where, ": rules.", key, ".", code), dc_names));
        }
      }
    }
    if (n["default"]) {
      SX_ASSIGN_OR_RETURN(m.default_datacenters,
                          DcNames(file, n["default"], where + ": default", dc_names));
    }
    out->push_back(std::move(m));
  }
  return absl::OkStatus();
}

absl::Status ResolveGeoResources(const std::string& file,
                                 const std::vector<control::GeoMapConfig>& geo_maps,
                                 PolicyConfig* policies) {
  for (auto& entry : policies->resources) {
    // Not a structured binding: clang 14 cannot capture those in the lambda below.
    const std::string& name = entry.first;
    ResourceConfig& r = entry.second;
    if (r.kind != PolicyKind::kGeo && r.kind != PolicyKind::kLatency) continue;
    auto err = [&](const std::string& what) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, " line ", r.line, ": resource ", name, ": ", what));
    };
    size_t mi = 0;
    while (mi < geo_maps.size() && geo_maps[mi].name != r.map) ++mi;
    if (mi == geo_maps.size()) return err(absl::StrCat("unknown geo map '", r.map, "'"));
    const control::GeoMapConfig& m = geo_maps[mi];
    if (r.kind == PolicyKind::kLatency && m.latency_path.empty() && m.latency.empty()) {
      return err(absl::StrCat("kind latency needs a map with latency data; geo map '", m.name,
                              "' has no 'latency' file"));
    }
    for (MemberConfig& mc : r.members) {
      size_t id = 0;
      while (id < m.datacenters.size() && m.datacenters[id].name != mc.datacenter) ++id;
      if (id == m.datacenters.size()) {
        return err(absl::StrCat("unknown datacenter '", mc.datacenter, "'"));
      }
      mc.weight = static_cast<int64_t>(id);
    }
    std::sort(r.members.begin(), r.members.end(),
              [](const MemberConfig& a, const MemberConfig& b) { return a.weight < b.weight; });
    r.count = static_cast<uint32_t>(mi);
    // Geo resources keep the ECS mode in Resource.order (maps/snapshot_format.h).
    r.order = static_cast<StaticOrder>(r.ecs_ignore ? maps::kGeoEcsIgnore : maps::kGeoEcsUse);
  }
  return absl::OkStatus();
}

}  // namespace sextant::control
