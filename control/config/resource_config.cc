#include "control/config/resource_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/config/enum_names.h"
#include "control/config/nearest_name.h"
#include "control/config/yaml_reader.h"
#include "maps/dns/wire.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

constexpr int64_t kMaxTtl = 2147483647;  // RFC 2181 section 8

const std::set<std::string> kResourceKeys = {"kind",          "order",    "count",    "ttl",
                                             "ttl_when_down", "all_down", "fallback", "members"};

const std::set<std::string> kGeoResourceKeys = {
    "kind", "map", "ecs", "ttl", "ttl_when_down", "all_down", "fallback", "datacenters"};

// The record types whose data a resource can give.
constexpr maps::dns::Type kResourceTypes[] = {maps::dns::kTypeA, maps::dns::kTypeAaaa,
                                              maps::dns::kTypeCname};

using Resources = std::map<std::string, ResourceConfig>;

absl::StatusOr<ResourceConfig> ReadResource(const YamlReader& r, const std::string& name,
                                            const std::set<std::string>& extra_keys,
                                            Resources* subs);

// What every kind takes: TTLs and what to answer when nothing is up.
absl::Status ReadCommonFields(const YamlReader& r, ResourceConfig* rc) {
  if (r.Has("order") && rc->kind != PolicyKind::kStatic) {
    return r.ErrorAt("order", absl::StrCat(r.KeyName("order"), " applies to kind static only, not ",
                                           NameOf(rc->kind)));
  }
  SX_RETURN_IF_ERROR(r.Enum("order", &rc->order));
  SX_RETURN_IF_ERROR(r.Int("count", 1, kMaxMembers, &rc->count));
  SX_RETURN_IF_ERROR(r.Int("ttl", 0, kMaxTtl, &rc->ttl));
  SX_RETURN_IF_ERROR(r.Int("ttl_when_down", 0, kMaxTtl, &rc->ttl_when_down));
  SX_RETURN_IF_ERROR(r.Enum("all_down", &rc->all_down));
  SX_RETURN_IF_ERROR(r.StrList("fallback", "an address, a name", &rc->fallback));
  if (rc->all_down == AllDown::kFallback && rc->fallback.empty()) {
    return r.ErrorAt("all_down", absl::StrCat(r.KeyName("all_down"), " is fallback, which needs a ",
                                              r.KeyName("fallback"), " list"));
  }
  if (rc->all_down != AllDown::kFallback && !rc->fallback.empty()) {
    return r.ErrorAt("fallback",
                     absl::StrCat(r.KeyName("fallback"), " is only used with all_down: fallback"));
  }
  return absl::OkStatus();
}

// kind: geo | latency: a map, and a sub-resource per datacenter, either a named resource
// ({resource: NAME}) or an inline one (any kind; named "RESOURCE@DC", added to `subs`).
absl::Status ReadGeoFields(const YamlReader& r, const std::string& name, ResourceConfig* rc,
                           Resources* subs) {
  SX_RETURN_IF_ERROR(r.Require("map"));
  SX_RETURN_IF_ERROR(r.Str("map", &rc->map));
  rc->map_line = r.LineOf("map");
  bool ecs_use = true;
  SX_RETURN_IF_ERROR(r.Flag("ecs", "use", "ignore", &ecs_use));
  rc->ecs_ignore = !ecs_use;
  SX_ASSIGN_OR_RETURN(const std::vector<YamlReader::Entry> dcs,
                      r.Entries("datacenters", "datacenter: {resource: NAME} or a resource"));
  if (dcs.empty()) {
    return r.ErrorAt("datacenters", absl::StrCat(r.KeyName("datacenters"),
                                                 " must map datacenter names to sub-resources"));
  }
  for (const YamlReader::Entry& dc : dcs) {
    MemberConfig mc;
    mc.line = dc.line;
    mc.path = dc.value.path();
    mc.datacenter = dc.name;
    const YAML::Node& d = dc.value.node();
    if (d.IsMap() && d["resource"] && d.size() == 1) {
      SX_RETURN_IF_ERROR(dc.value.Str("resource", &mc.resource));
    } else if (d.IsMap() && d["members"]) {
      mc.resource = absl::StrCat(name, "@", mc.datacenter);
      SX_ASSIGN_OR_RETURN((*subs)[mc.resource], ReadResource(dc.value, mc.resource, {}, subs));
    } else {
      return dc.value.Error("needs {resource: NAME} or an inline resource with members");
    }
    rc->members.push_back(std::move(mc));
  }
  return absl::OkStatus();
}

absl::StatusOr<MemberConfig> ReadMember(const YamlReader& m) {
  MemberConfig mc;
  mc.line = m.line();
  mc.path = m.path();
  if (m.node().IsScalar()) {
    mc.address = m.node().as<std::string>();
    return mc;
  }
  if (!m.node().IsMap()) {
    return m.Error("each member is an address or {address|cname|resource, target, weight}");
  }
  SX_RETURN_IF_ERROR(m.Keys({"address", "cname", "resource", "target", "weight"}));
  if (m.Has("address") + m.Has("cname") + m.Has("resource") != 1) {
    return m.Error("each member needs exactly one of address, cname, resource");
  }
  SX_RETURN_IF_ERROR(m.Str("address", &mc.address));
  SX_RETURN_IF_ERROR(m.Str("cname", &mc.address));
  SX_RETURN_IF_ERROR(m.Str("resource", &mc.resource));
  SX_RETURN_IF_ERROR(m.Str("target", &mc.target));
  SX_RETURN_IF_ERROR(m.Int("weight", 0, 65535, &mc.weight));  // 16 bits in the snapshot
  return mc;
}

absl::Status ReadMembers(const YamlReader& r, ResourceConfig* rc) {
  SX_ASSIGN_OR_RETURN(const std::vector<YamlReader> members, r.Items("members", true));
  if (members.size() > static_cast<size_t>(kMaxMembers)) {
    return r.ErrorAt("members", absl::StrCat("more than ", kMaxMembers, " members"));
  }
  for (const YamlReader& m : members) {
    SX_ASSIGN_OR_RETURN(MemberConfig mc, ReadMember(m));
    rc->members.push_back(std::move(mc));
  }
  if (rc->kind == PolicyKind::kWeighted) {
    rc->count = rc->count ? rc->count : 1;
  } else if (rc->kind == PolicyKind::kMultivalue) {
    rc->count = rc->count ? rc->count : 8;
  }
  return absl::OkStatus();
}

absl::StatusOr<ResourceConfig> ReadResource(const YamlReader& r, const std::string& name,
                                            const std::set<std::string>& extra_keys,
                                            Resources* subs) {
  ResourceConfig rc;
  rc.name = name;
  rc.line = r.line();
  rc.path = r.path();
  SX_RETURN_IF_ERROR(r.Enum("kind", &rc.kind));
  const bool geo = rc.kind == PolicyKind::kGeo || rc.kind == PolicyKind::kLatency;
  std::set<std::string> known = geo ? kGeoResourceKeys : kResourceKeys;
  known.insert(extra_keys.begin(), extra_keys.end());
  SX_RETURN_IF_ERROR(r.Keys(known));
  SX_RETURN_IF_ERROR(ReadCommonFields(r, &rc));
  if (geo) {
    SX_RETURN_IF_ERROR(ReadGeoFields(r, name, &rc, subs));
  } else {
    SX_RETURN_IF_ERROR(ReadMembers(r, &rc));
  }
  return rc;
}

absl::Status ReadTargets(const YamlReader& top, PolicyConfig* out) {
  SX_ASSIGN_OR_RETURN(const std::vector<YamlReader::Entry> targets,
                      top.Entries("targets", "name: {initial: up|down}"));
  for (const YamlReader::Entry& entry : targets) {
    TargetConfig tc;
    tc.name = entry.name;
    tc.line = entry.line;
    const YamlReader& t = entry.value;
    if (!t.node().IsNull()) {
      SX_RETURN_IF_ERROR(t.Keys({"initial", "check", "datacenter", "quorum"}));
      if (t.Has("quorum")) {
        tc.quorum.emplace();
        SX_RETURN_IF_ERROR(t.Enum("quorum", &*tc.quorum));
      }
      SX_RETURN_IF_ERROR(t.Str("datacenter", &tc.datacenter));
      if (t.Has("datacenter") && tc.datacenter.empty()) {
        return t.ErrorAt("datacenter", absl::StrCat(t.KeyName("datacenter"), " must be a name"));
      }
      tc.datacenter_line = t.LineOf("datacenter");
      SX_RETURN_IF_ERROR(t.Flag("initial", "up", "down", &tc.initial_up));
      if (t.Has("check")) {
        tc.check.emplace();
        SX_RETURN_IF_ERROR(ParseCheck(top.file(), t.node()["check"], tc.name, &*tc.check));
      }
    }
    out->targets.push_back(tc);
  }
  return absl::OkStatus();
}

absl::Status ReadResources(const YamlReader& top, PolicyConfig* out) {
  SX_ASSIGN_OR_RETURN(const std::vector<YamlReader::Entry> resources,
                      top.Entries("resources", "name: {kind, members, ...}"));
  for (const YamlReader::Entry& entry : resources) {
    SX_ASSIGN_OR_RETURN(ResourceConfig r,
                        ReadResource(entry.value, entry.name, {}, &out->resources));
    out->resources[entry.name] = std::move(r);
  }
  return absl::OkStatus();
}

absl::StatusOr<uint16_t> ReadRecordType(const YamlReader& r) {
  std::string text;
  SX_RETURN_IF_ERROR(r.Str("type", &text));
  const std::optional<maps::dns::Type> type = EnumFromName<maps::dns::Type>(text);
  for (const maps::dns::Type t : kResourceTypes) {
    if (type == t) return t;
  }
  std::vector<std::string> names;
  for (const maps::dns::Type t : kResourceTypes) names.emplace_back(NameOf(t));
  if (!type) {
    const std::optional<std::string> near = NearestName(text, names);
    return r.ErrorAt(
        "type",
        absl::StrCat(r.KeyName("type"), " '", text, "' is not one of ", absl::StrJoin(names, ", "),
                     near ? absl::StrCat(" (did you mean ", *near, "?)") : ""));
  }
  return r.ErrorAt(
      "type", absl::StrCat(r.KeyName("type"), " ", absl::AsciiStrToUpper(text),
                           " cannot carry a resource (one of ", absl::StrJoin(names, ", "), ")"));
}

absl::Status ReadRecords(const YamlReader& top, PolicyConfig* out) {
  SX_ASSIGN_OR_RETURN(const std::vector<YamlReader> records,
                      top.Items("records", false, "of {name, type, resource}"));
  for (const YamlReader& item : records) {
    if (!item.node().IsMap() || !item.Has("name") || !item.Has("type")) {
      return item.Error("each record needs 'name' and 'type'");
    }
    RecordConfig rc;
    rc.line = item.line();
    rc.path = item.path();
    rc.resource_line = item.LineOf("resource");
    SX_RETURN_IF_ERROR(item.Str("name", &rc.name));
    if (rc.name.empty() || rc.name.back() != '.') rc.name += '.';
    const YamlReader& r = item;
    SX_ASSIGN_OR_RETURN(rc.type, ReadRecordType(r));
    if (r.Has("resource")) {
      SX_RETURN_IF_ERROR(r.Keys({"name", "type", "resource"}));
      SX_RETURN_IF_ERROR(r.Str("resource", &rc.resource));
    } else {
      // Inline resource, named after its record.
      rc.resource = absl::StrCat(rc.name, "/", item.node()["type"].as<std::string>());
      SX_ASSIGN_OR_RETURN(out->resources[rc.resource],
                          ReadResource(item, rc.resource, {"name", "type"}, &out->resources));
    }
    out->records.push_back(rc);
  }
  return absl::OkStatus();
}

absl::Status RefusedAt(const std::string& file, int line, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(file, " line ", line, ": ", what));
}

// The resources a person named under resources: (not the inline ones named for them).
std::vector<std::string> DeclaredResources(const Resources& resources) {
  std::vector<std::string> names;
  for (const auto& [name, r] : resources) {
    if (r.path == "resources." + name) names.push_back(name);
  }
  return names;
}

// Member resources and targets that are not declared.
absl::Status CheckMemberReferences(const std::string& file, const PolicyConfig& p) {
  std::set<std::string> target_set;
  std::vector<std::string> target_names;
  for (const TargetConfig& t : p.targets) {
    if (target_set.insert(t.name).second) target_names.push_back(t.name);
  }
  for (const auto& [name, r] : p.resources) {
    for (const MemberConfig& m : r.members) {
      if (!m.resource.empty() && !p.resources.count(m.resource)) {
        return RefusedAt(file, m.line,
                         absl::StrCat(m.path, ".resource: unknown resource '", m.resource, "'",
                                      KnownNamesHint(m.resource, DeclaredResources(p.resources))));
      }
      if (!m.target.empty() && !target_set.count(m.target)) {
        return RefusedAt(file, m.line,
                         absl::StrCat(m.path, ".target: unknown target '", m.target, "'",
                                      KnownNamesHint(m.target, target_names),
                                      "; targets are declared under targets:"));
      }
    }
  }
  return absl::OkStatus();
}

// Depth-first from `name` along member resources; `path` is the chain that led here.
absl::Status CheckNesting(const std::string& file, const Resources& resources,
                          const std::string& name, std::vector<std::string>* path) {
  const bool cycle = std::find(path->begin(), path->end(), name) != path->end();
  path->push_back(name);
  const ResourceConfig& top = resources.at(path->front());
  if (cycle) {
    return RefusedAt(file, top.line,
                     absl::StrCat(top.path, ": nesting cycle ", absl::StrJoin(*path, " -> ")));
  }
  if (static_cast<int>(path->size()) > kMaxResourceDepth) {
    return RefusedAt(file, top.line,
                     absl::StrCat(top.path, ": nesting deeper than ", kMaxResourceDepth, " (",
                                  absl::StrJoin(*path, " -> "), ")"));
  }
  for (const MemberConfig& m : resources.at(name).members) {
    if (!m.resource.empty()) SX_RETURN_IF_ERROR(CheckNesting(file, resources, m.resource, path));
  }
  path->pop_back();
  return absl::OkStatus();
}

}  // namespace

absl::Status ParsePolicies(const std::string& file, const YAML::Node& root, PolicyConfig* out) {
  const YamlReader top(file, root, "");
  SX_RETURN_IF_ERROR(ReadTargets(top, out));
  if (top.Has("health_feeds")) {
    SX_RETURN_IF_ERROR(ParseHealthFeeds(file, root["health_feeds"], &out->health_feeds));
  }
  SX_RETURN_IF_ERROR(ReadResources(top, out));
  SX_RETURN_IF_ERROR(ReadRecords(top, out));
  SX_RETURN_IF_ERROR(CheckMemberReferences(file, *out));
  for (const auto& [name, r] : out->resources) {
    std::vector<std::string> path;
    SX_RETURN_IF_ERROR(CheckNesting(file, out->resources, name, &path));
  }
  for (const RecordConfig& rc : out->records) {
    if (!out->resources.count(rc.resource)) {
      return RefusedAt(
          file, rc.resource_line,
          absl::StrCat(rc.path, ".resource: unknown resource '", rc.resource, "'",
                       KnownNamesHint(rc.resource, DeclaredResources(out->resources))));
    }
  }
  return absl::OkStatus();
}

}  // namespace sextant::control
