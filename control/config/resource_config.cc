#include "control/config/resource_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/config/enum_names.h"
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
    return r.ErrorAt("order", "order applies to kind static only");
  }
  SX_RETURN_IF_ERROR(r.Enum("order", &rc->order));
  SX_RETURN_IF_ERROR(r.Int("count", 1, kMaxMembers, &rc->count));
  SX_RETURN_IF_ERROR(r.Int("ttl", 0, kMaxTtl, &rc->ttl));
  SX_RETURN_IF_ERROR(r.Int("ttl_when_down", 0, kMaxTtl, &rc->ttl_when_down));
  SX_RETURN_IF_ERROR(r.Enum("all_down", &rc->all_down));
  SX_RETURN_IF_ERROR(r.StrList("fallback", "an address, a name", &rc->fallback));
  if (rc->all_down == AllDown::kFallback && rc->fallback.empty()) {
    return r.Error("all_down: fallback needs a 'fallback' list");
  }
  if (rc->all_down != AllDown::kFallback && !rc->fallback.empty()) {
    return r.ErrorAt("fallback", "'fallback' is only used with all_down: fallback");
  }
  return absl::OkStatus();
}

// kind: geo | latency: a map, and a sub-resource per datacenter, either a named resource
// ({resource: NAME}) or an inline one (any kind; named "RESOURCE@DC", added to `subs`).
absl::Status ReadGeoFields(const YamlReader& r, const std::string& name, ResourceConfig* rc,
                           Resources* subs) {
  if (!r.Has("map")) return r.Error("needs 'map: NAME'");
  SX_RETURN_IF_ERROR(r.Str("map", &rc->map));
  bool ecs_use = true;
  SX_RETURN_IF_ERROR(r.Flag("ecs", "use", "ignore", &ecs_use));
  rc->ecs_ignore = !ecs_use;
  SX_ASSIGN_OR_RETURN(const std::vector<YamlReader::Entry> dcs,
                      r.Entries("datacenters", "datacenter: {resource: NAME} or a resource"));
  if (dcs.empty()) return r.Error("'datacenters' must map datacenter names to sub-resources");
  for (const YamlReader::Entry& dc : dcs) {
    MemberConfig mc;
    mc.line = dc.line;
    mc.datacenter = dc.name;
    const YAML::Node& d = dc.value.node();
    if (d.IsMap() && d["resource"] && d.size() == 1) {
      SX_RETURN_IF_ERROR(dc.value.Str("resource", &mc.resource));
    } else if (d.IsMap() && d["members"]) {
      mc.resource = absl::StrCat(name, "@", mc.datacenter);
      SX_ASSIGN_OR_RETURN((*subs)[mc.resource], ReadResource(dc.value, mc.resource, {}, subs));
    } else {
      return dc.value.Error(
          absl::StrCat("datacenter ", mc.datacenter,
                       " needs {resource: NAME} or an inline resource with members"));
    }
    rc->members.push_back(std::move(mc));
  }
  return absl::OkStatus();
}

absl::StatusOr<MemberConfig> ReadMember(const YamlReader& m) {
  MemberConfig mc;
  mc.line = m.line();
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
  // The snapshot stores weights in 16 bits. "weight must be 0..65535" is what operators (and
  // the integration tests) know.
  SX_RETURN_IF_ERROR(m.Int("weight", 0, 65535, &mc.weight, "0..65535"));
  return mc;
}

absl::Status ReadMembers(const YamlReader& r, ResourceConfig* rc) {
  SX_ASSIGN_OR_RETURN(const std::vector<YamlReader> members, r.Items("members", true));
  if (members.size() > static_cast<size_t>(kMaxMembers)) {
    return r.ErrorAt("members", absl::StrCat("more than ", kMaxMembers, " members"));
  }
  for (const YamlReader& m : members) {
    // Members speak for their resource: "resource www: weight must be ...".
    SX_ASSIGN_OR_RETURN(MemberConfig mc, ReadMember(m.WithSubject(m.subject())));
    rc->members.push_back(std::move(mc));
  }
  if (rc->kind == PolicyKind::kWeighted) {
    rc->count = rc->count ? rc->count : 1;
  } else if (rc->kind == PolicyKind::kMultivalue) {
    rc->count = rc->count ? rc->count : 8;
  }
  return absl::OkStatus();
}

absl::StatusOr<ResourceConfig> ReadResource(const YamlReader& node, const std::string& name,
                                            const std::set<std::string>& extra_keys,
                                            Resources* subs) {
  const YamlReader r = node.WithSubject(absl::StrCat("resource ", name));
  ResourceConfig rc;
  rc.name = name;
  rc.line = r.line();
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
    const YamlReader t = entry.value.WithSubject(absl::StrCat("target ", tc.name));
    if (!t.node().IsNull()) {
      SX_RETURN_IF_ERROR(t.Keys({"initial", "check", "datacenter"}));
      SX_RETURN_IF_ERROR(t.Str("datacenter", &tc.datacenter));
      if (t.Has("datacenter") && tc.datacenter.empty()) {
        return t.ErrorAt("datacenter", "datacenter must be a name");
      }
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
  std::vector<const char*> names;
  for (const maps::dns::Type t : kResourceTypes) names.push_back(NameOf(t));
  return r.ErrorAt("type",
                   absl::StrCat("record type ", absl::AsciiStrToUpper(text),
                                " cannot carry a resource (", absl::StrJoin(names, ", "), ")"));
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
    SX_RETURN_IF_ERROR(item.Str("name", &rc.name));
    if (rc.name.empty() || rc.name.back() != '.') rc.name += '.';
    const YamlReader r = item.WithSubject(absl::StrCat("record ", rc.name));
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

// Member resources and targets that are not declared.
absl::Status CheckMemberReferences(const std::string& file, const PolicyConfig& p) {
  std::set<std::string> target_names;
  for (const TargetConfig& t : p.targets) target_names.insert(t.name);
  for (const auto& [name, r] : p.resources) {
    for (const MemberConfig& m : r.members) {
      if (!m.resource.empty() && !p.resources.count(m.resource)) {
        return RefusedAt(
            file, m.line,
            absl::StrCat("resource ", name, ": unknown member resource '", m.resource, "'"));
      }
      if (!m.target.empty() && !target_names.count(m.target)) {
        return RefusedAt(file, m.line,
                         absl::StrCat("resource ", name, ": unknown target '", m.target,
                                      "' (declare it under targets:)"));
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
  if (cycle) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": resource ", path->front(), ": nesting cycle ", absl::StrJoin(*path, " -> ")));
  }
  if (static_cast<int>(path->size()) > kMaxResourceDepth) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": resource ", path->front(),
                                                   ": nesting deeper than ", kMaxResourceDepth,
                                                   " (", absl::StrJoin(*path, " -> "), ")"));
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
      return RefusedAt(file, rc.line,
                       absl::StrCat("record ", rc.name, ": unknown resource '", rc.resource, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace sextant::control
