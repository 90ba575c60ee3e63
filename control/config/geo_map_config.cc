#include "control/config/geo_map_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "control/config/enum_names.h"
#include "control/config/nearest_name.h"
#include "control/config/yaml_reader.h"
#include "maps/dc_lists.h"
#include "maps/snapshot_format.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

// `key` names known datacenters (`known`, in config order): one, or a non-empty list.
absl::Status ReadDcNames(const YamlReader& r, absl::string_view key,
                         const std::vector<std::string>& known, std::vector<std::string>* out) {
  SX_RETURN_IF_ERROR(r.StrList(key, "a datacenter", out));
  for (const std::string& d : *out) {
    if (std::find(known.begin(), known.end(), d) == known.end()) {
      return r.ErrorAt(key, absl::StrCat(r.KeyName(key), ": unknown datacenter '", d, "'",
                                         KnownNamesHint(d, known)));
    }
  }
  return absl::OkStatus();
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
  // Absolute, so that `sextantctl explain` (another working directory) opens the same database.
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(p, ec);
  return (ec ? p : abs).lexically_normal().string();
}

absl::StatusOr<std::vector<control::Datacenter>> ReadDatacenters(const YamlReader& top) {
  SX_ASSIGN_OR_RETURN(const std::vector<YamlReader::Entry> entries,
                      top.Entries("datacenters", "name: {latitude, longitude}"));
  std::vector<control::Datacenter> dcs;
  for (const YamlReader::Entry& entry : entries) {
    control::Datacenter dc;
    dc.name = entry.name;
    const YamlReader& r = entry.value;
    SX_RETURN_IF_ERROR(r.Keys({"latitude", "longitude"}));
    SX_RETURN_IF_ERROR(r.Require("latitude"));
    SX_RETURN_IF_ERROR(r.Require("longitude"));
    SX_RETURN_IF_ERROR(r.Number("latitude", -90, 90, &dc.latitude));
    SX_RETURN_IF_ERROR(r.Number("longitude", -180, 180, &dc.longitude));
    dcs.push_back(std::move(dc));
  }
  if (dcs.size() > static_cast<size_t>(maps::kMaxDatacenters)) {
    return top.ErrorAt("datacenters",
                       absl::StrCat("at most ", maps::kMaxDatacenters, " datacenters"));
  }
  return dcs;
}

// rules: {continent: {EU: [dc-eu]}, country: {..}, subdivision: {..}}; codes upper case.
absl::Status ReadRules(const YamlReader& map, const std::vector<std::string>& dc_names,
                       control::GeoMapConfig* m) {
  if (m->mode != control::GeoMode::kRules) {
    return map.ErrorAt("rules", absl::StrCat(map.KeyName("rules"), " need ", map.KeyName("mode"),
                                             ": rules (it is ", NameOf(m->mode), ")"));
  }
  const YamlReader rules = map.Section("rules");
  SX_RETURN_IF_ERROR(rules.Keys({"continent", "country", "subdivision"}));
  for (const auto& [key, dest] :
       {std::pair<const char*, std::map<std::string, std::vector<std::string>>*>{
            "continent", &m->continent_rules},
        {"country", &m->country_rules},
        {"subdivision", &m->subdivision_rules}}) {
    SX_ASSIGN_OR_RETURN(const std::vector<YamlReader::Entry> entries,
                        rules.Entries(key, "code: [datacenter, ...]"));
    for (const YamlReader::Entry& rule : entries) {
      SX_RETURN_IF_ERROR(
          ReadDcNames(rule.value, "", dc_names, &(*dest)[absl::AsciiStrToUpper(rule.name)]));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<control::GeoMapConfig> ReadGeoMap(const YamlReader::Entry& entry,
                                                 const std::vector<control::Datacenter>& dcs,
                                                 const std::vector<std::string>& dc_names,
                                                 const std::string& base_dir) {
  control::GeoMapConfig m;
  m.name = entry.name;
  m.line = entry.line;
  m.datacenters = dcs;
  const YamlReader& r = entry.value;
  SX_RETURN_IF_ERROR(r.Keys({"database", "mode", "max", "rules", "default", "nets", "latency"}));
  for (const auto& [key, path] :
       {std::pair<const char*, std::string*>{"database", &m.database_path},
        {"nets", &m.nets_path},
        {"latency", &m.latency_path}}) {
    if (!r.Has(key)) continue;
    SX_RETURN_IF_ERROR(r.Str(key, path));
    if (path->empty()) return r.ErrorAt(key, absl::StrCat(r.KeyName(key), " must be a file name"));
    *path = Resolve(base_dir, *path);
  }
  SX_RETURN_IF_ERROR(r.Enum("mode", &m.mode));
  SX_RETURN_IF_ERROR(r.Int("max", 0, maps::kMaxDcsPerList, &m.max_datacenters,
                           absl::StrCat("an integer in 0..", maps::kMaxDcsPerList, " (0 = all)")));
  if (r.Has("rules")) SX_RETURN_IF_ERROR(ReadRules(r, dc_names, &m));
  SX_RETURN_IF_ERROR(ReadDcNames(r, "default", dc_names, &m.default_datacenters));
  return m;
}

}  // namespace

absl::Status ParseGeoMaps(const std::string& file, const YAML::Node& root,
                          const std::string& base_dir,
                          std::vector<control::Datacenter>* datacenters,
                          std::vector<control::GeoMapConfig>* out) {
  const YamlReader top(file, root, "");
  SX_ASSIGN_OR_RETURN(*datacenters, ReadDatacenters(top));
  const std::vector<control::Datacenter>& dcs = *datacenters;
  std::vector<std::string> dc_names;
  dc_names.reserve(dcs.size());
  for (const control::Datacenter& dc : dcs) dc_names.push_back(dc.name);
  SX_ASSIGN_OR_RETURN(const std::vector<YamlReader::Entry> geo_maps,
                      top.Entries("geo_maps", "name: {database, mode, ...}"));
  if (!geo_maps.empty() && dcs.empty()) {
    return top.ErrorAt("geo_maps", "geo_maps need 'datacenters' with coordinates");
  }
  for (const YamlReader::Entry& entry : geo_maps) {
    SX_ASSIGN_OR_RETURN(control::GeoMapConfig m, ReadGeoMap(entry, dcs, dc_names, base_dir));
    out->push_back(std::move(m));
  }
  return absl::OkStatus();
}

absl::Status ResolveGeoResources(const std::string& file,
                                 const std::vector<control::GeoMapConfig>& geo_maps,
                                 PolicyConfig* policies) {
  for (auto& entry : policies->resources) {
    // Not a structured binding: clang 14 cannot capture those in the lambda below.
    ResourceConfig& r = entry.second;
    if (r.kind != PolicyKind::kGeo && r.kind != PolicyKind::kLatency) continue;
    auto err = [&](int line, const std::string& what) {
      return YamlErrorAtLine(file, line > 0 ? line : r.line, what);
    };
    std::vector<std::string> map_names;
    map_names.reserve(geo_maps.size());
    for (const control::GeoMapConfig& m : geo_maps) map_names.push_back(m.name);
    size_t mi = 0;
    while (mi < geo_maps.size() && geo_maps[mi].name != r.map) ++mi;
    if (mi == geo_maps.size()) {
      return err(r.map_line, absl::StrCat(r.path, ".map: unknown geo map '", r.map, "'",
                                          map_names.empty() ? " (there is no geo_maps: section)"
                                                            : KnownNamesHint(r.map, map_names)));
    }
    const control::GeoMapConfig& m = geo_maps[mi];
    if (r.kind == PolicyKind::kLatency && m.latency_path.empty() && m.latency.empty()) {
      return err(r.map_line, absl::StrCat(r.path,
                                          ".map: kind latency needs a map with latency "
                                          "data; geo_maps.",
                                          m.name, " has no 'latency' file"));
    }
    std::vector<std::string> dc_names;
    for (const control::Datacenter& dc : m.datacenters) dc_names.push_back(dc.name);
    for (MemberConfig& mc : r.members) {
      size_t id = 0;
      while (id < m.datacenters.size() && m.datacenters[id].name != mc.datacenter) ++id;
      if (id == m.datacenters.size()) {
        return err(mc.line, absl::StrCat(mc.path, ": unknown datacenter '", mc.datacenter, "'",
                                         KnownNamesHint(mc.datacenter, dc_names)));
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
