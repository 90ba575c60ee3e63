#include "control/config/resource_config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/config/yaml_util.h"
#include "maps/dns/wire.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

absl::Status Err(const std::string& file, const YAML::Node& n, const std::string& what) {
  return YamlError(file, n, what);
}
absl::Status Keys(const std::string& file, const YAML::Node& n, const std::string& where,
                  const std::set<std::string>& known) {
  return CheckYamlKeys(file, n, where, known);
}

absl::StatusOr<uint32_t> U32(const std::string& file, const YAML::Node& n, const std::string& what,
                             int64_t lo, int64_t hi) {
  int64_t v = 0;
  if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v) || v < lo || v > hi) {
    return Err(file, n, absl::StrCat(what, " must be an integer in ", lo, "..", hi));
  }
  return static_cast<uint32_t>(v);
}

const std::set<std::string> kResourceKeys = {"kind",          "order",    "count",    "ttl",
                                             "ttl_when_down", "all_down", "fallback", "members"};

const std::set<std::string> kGeoResourceKeys = {
    "kind", "map", "ecs", "ttl", "ttl_when_down", "all_down", "fallback", "datacenters"};

bool IsGeoKind(const YAML::Node& n) {
  if (!n["kind"] || !n["kind"].IsScalar()) return false;
  const std::string k = absl::AsciiStrToLower(n["kind"].as<std::string>());
  return k == "geo" || k == "latency";
}

// `subs` receives the inline per-datacenter sub-resources of a geo resource ("NAME@DC").
absl::StatusOr<ResourceConfig> ParseResource(const std::string& file, const std::string& name,
                                             const YAML::Node& n,
                                             const std::set<std::string>& extra_keys,
                                             std::map<std::string, ResourceConfig>* subs) {
  const bool geo = IsGeoKind(n);
  std::set<std::string> known = geo ? kGeoResourceKeys : kResourceKeys;
  known.insert(extra_keys.begin(), extra_keys.end());
  const std::string where = absl::StrCat("resource ", name);
  SX_RETURN_IF_ERROR(Keys(file, n, where, known));
  ResourceConfig r;
  r.name = name;
  r.line = n.Mark().line + 1;
  if (n["kind"]) {
    const std::string k = absl::AsciiStrToLower(n["kind"].as<std::string>());
    if (k == "static")
      r.kind = PolicyKind::kStatic;
    else if (k == "failover")
      r.kind = PolicyKind::kFailover;
    else if (k == "weighted")
      r.kind = PolicyKind::kWeighted;
    else if (k == "multivalue")
      r.kind = PolicyKind::kMultivalue;
    else if (k == "geo")
      r.kind = PolicyKind::kGeo;
    else if (k == "latency")
      r.kind = PolicyKind::kLatency;
    else
      return Err(file, n["kind"],
                 absl::StrCat(where, ": kind '", k,
                              "' is not static, failover, weighted, multivalue, geo or latency"));
  }
  if (n["order"]) {
    const std::string o = absl::AsciiStrToLower(n["order"].as<std::string>());
    if (r.kind != PolicyKind::kStatic)
      return Err(file, n["order"], where + ": order applies to kind static only");
    if (o == "cyclic")
      r.order = StaticOrder::kCyclic;
    else if (o == "random")
      r.order = StaticOrder::kRandom;
    else if (o == "fixed")
      r.order = StaticOrder::kFixed;
    else
      return Err(file, n["order"],
                 absl::StrCat(where, ": order '", o, "' is not cyclic, random or fixed"));
  }
  if (n["count"]) {
    SX_ASSIGN_OR_RETURN(r.count, U32(file, n["count"], where + ": count", 1, kMaxMembers));
  }
  if (n["ttl"]) {
    SX_ASSIGN_OR_RETURN(r.ttl, U32(file, n["ttl"], where + ": ttl", 0, 2147483647));
  }
  if (n["ttl_when_down"]) {
    SX_ASSIGN_OR_RETURN(r.ttl_when_down,
                        U32(file, n["ttl_when_down"], where + ": ttl_when_down", 0, 2147483647));
  }
  if (n["all_down"]) {
    const std::string a = absl::AsciiStrToLower(n["all_down"].as<std::string>());
    if (a == "all")
      r.all_down = AllDown::kAll;
    else if (a == "first")
      r.all_down = AllDown::kFirst;
    else if (a == "nodata")
      r.all_down = AllDown::kNoData;
    else if (a == "servfail")
      r.all_down = AllDown::kServFail;
    else if (a == "fallback")
      r.all_down = AllDown::kFallback;
    else
      return Err(file, n["all_down"],
                 absl::StrCat(where, ": all_down '", a,
                              "' is not all, first, nodata, servfail or fallback"));
  }
  if (n["fallback"]) {
    const YAML::Node f = n["fallback"];
    if (f.IsScalar()) {
      r.fallback.push_back(f.as<std::string>());
    } else if (f.IsSequence()) {
      for (const YAML::Node& x : f) r.fallback.push_back(x.as<std::string>());
    } else {
      return Err(file, f, where + ": fallback must be an address, a name or a list of addresses");
    }
  }
  if (r.all_down == AllDown::kFallback && r.fallback.empty()) {
    return Err(file, n, where + ": all_down: fallback needs a 'fallback' list");
  }
  if (r.all_down != AllDown::kFallback && !r.fallback.empty()) {
    return Err(file, n["fallback"], where + ": 'fallback' is only used with all_down: fallback");
  }
  if (geo) {
    // kind: geo | latency: a map, and a sub-resource per datacenter, either a named resource
    // ({resource: NAME}) or an inline one (any kind; named "RESOURCE@DC").
    if (!n["map"] || !n["map"].IsScalar()) return Err(file, n, where + ": needs 'map: NAME'");
    r.map = n["map"].as<std::string>();
    if (n["ecs"]) {
      const std::string e = absl::AsciiStrToLower(n["ecs"].as<std::string>());
      if (e != "use" && e != "ignore")
        return Err(file, n["ecs"], where + ": ecs must be use or ignore");
      r.ecs_ignore = e == "ignore";
    }
    const YAML::Node dcs = n["datacenters"];
    if (!dcs || !dcs.IsMap() || dcs.size() == 0) {
      return Err(file, n, where + ": 'datacenters' must map datacenter names to sub-resources");
    }
    for (const auto& kv : dcs) {
      MemberConfig mc;
      mc.line = kv.first.Mark().line + 1;
      mc.datacenter = kv.first.as<std::string>();
      const YAML::Node d = kv.second;
      if (d.IsMap() && d["resource"] && d.size() == 1) {
        mc.resource = d["resource"].as<std::string>();
      } else if (d.IsMap() && d["members"]) {
        mc.resource = absl::StrCat(name, "@", mc.datacenter);
        SX_ASSIGN_OR_RETURN(ResourceConfig sub, ParseResource(file, mc.resource, d, {}, subs));
        (*subs)[mc.resource] = std::move(sub);
      } else {
        return Err(file, d,
                   absl::StrCat(where, ": datacenter ", mc.datacenter,
                                " needs {resource: NAME} or an inline resource with members"));
      }
      r.members.push_back(std::move(mc));
    }
    return r;
  }
  const YAML::Node members = n["members"];
  if (!members || !members.IsSequence() || members.size() == 0) {
    return Err(file, n, where + ": 'members' must be a non-empty list");
  }
  if (members.size() > static_cast<size_t>(kMaxMembers)) {
    return Err(file, members, absl::StrCat(where, ": more than ", kMaxMembers, " members"));
  }
  for (const YAML::Node& m : members) {
    MemberConfig mc;
    mc.line = m.Mark().line + 1;
    if (m.IsScalar()) {
      mc.address = m.as<std::string>();
    } else {
      SX_RETURN_IF_ERROR(
          Keys(file, m, where + " member", {"address", "cname", "resource", "target", "weight"}));
      int given = (m["address"] ? 1 : 0) + (m["cname"] ? 1 : 0) + (m["resource"] ? 1 : 0);
      if (given != 1) {
        return Err(file, m, where + ": each member needs exactly one of address, cname, resource");
      }
      if (m["address"]) mc.address = m["address"].as<std::string>();
      if (m["cname"]) mc.address = m["cname"].as<std::string>();
      if (m["resource"]) mc.resource = m["resource"].as<std::string>();
      if (m["target"]) mc.target = m["target"].as<std::string>();
      if (m["weight"]) {
        int64_t w = -1;
        if (!YAML::convert<int64_t>::decode(m["weight"], w) || w < 0 || w > 65535) {
          return Err(file, m["weight"], where + ": weight must be 0..65535");
        }
        mc.weight = w;
      }
    }
    r.members.push_back(std::move(mc));
  }
  if (r.kind == PolicyKind::kWeighted) {
    r.count = r.count ? r.count : 1;
  } else if (r.kind == PolicyKind::kMultivalue) {
    r.count = r.count ? r.count : 8;
  }
  return r;
}

absl::StatusOr<uint16_t> RecordType(const std::string& file, const std::string& record,
                                    const YAML::Node& n) {
  const std::string t = absl::AsciiStrToUpper(n.as<std::string>());
  if (t == "A") return maps::dns::kTypeA;
  if (t == "AAAA") return maps::dns::kTypeAaaa;
  if (t == "CNAME") return maps::dns::kTypeCname;
  return Err(file, n,
             absl::StrCat("record ", record, ": record type ", t,
                          " cannot carry a resource (A, AAAA, CNAME)"));
}

}  // namespace

absl::Status ParsePolicies(const std::string& file, const YAML::Node& root, PolicyConfig* out) {
  if (const YAML::Node t = root["targets"]) {
    if (!t.IsMap()) return Err(file, t, "'targets' must be a mapping of name: {initial: up|down}");
    for (const auto& kv : t) {
      TargetConfig tc;
      tc.name = kv.first.as<std::string>();
      tc.line = kv.first.Mark().line + 1;
      if (kv.second.IsMap()) {
        SX_RETURN_IF_ERROR(
            Keys(file, kv.second, "target " + tc.name, {"initial", "check", "datacenter"}));
        if (kv.second["datacenter"]) {
          if (!kv.second["datacenter"].IsScalar() ||
              kv.second["datacenter"].as<std::string>().empty()) {
            return Err(file, kv.second["datacenter"], "datacenter must be a name");
          }
          tc.datacenter = kv.second["datacenter"].as<std::string>();
        }
        if (kv.second["initial"]) {
          const std::string v = absl::AsciiStrToLower(kv.second["initial"].as<std::string>());
          if (v != "up" && v != "down")
            return Err(file, kv.second["initial"], "initial must be up or down");
          tc.initial_up = v == "up";
        }
        if (kv.second["check"]) {
          tc.check.emplace();
          SX_RETURN_IF_ERROR(ParseCheck(file, kv.second["check"], tc.name, &*tc.check));
        }
      } else if (!kv.second.IsNull()) {
        return Err(file, kv.second, absl::StrCat("target ", tc.name, " must be a mapping"));
      }
      out->targets.push_back(tc);
    }
  }
  if (const YAML::Node f = root["health_feeds"]) {
    SX_RETURN_IF_ERROR(ParseHealthFeeds(file, f, &out->health_feeds));
  }
  std::set<std::string> target_names;
  for (const TargetConfig& t : out->targets) target_names.insert(t.name);

  if (const YAML::Node rs = root["resources"]) {
    if (!rs.IsMap())
      return Err(file, rs, "'resources' must be a mapping of name: {kind, members, ...}");
    for (const auto& kv : rs) {
      const std::string name = kv.first.as<std::string>();
      SX_ASSIGN_OR_RETURN(ResourceConfig r,
                          ParseResource(file, name, kv.second, {}, &out->resources));
      out->resources[name] = std::move(r);
    }
  }
  if (const YAML::Node recs = root["records"]) {
    if (!recs.IsSequence())
      return Err(file, recs, "'records' must be a list of {name, type, resource}");
    for (const YAML::Node& n : recs) {
      if (!n.IsMap() || !n["name"] || !n["type"]) {
        return Err(file, n, "each record needs 'name' and 'type'");
      }
      RecordConfig rc;
      rc.line = n.Mark().line + 1;
      rc.name = n["name"].as<std::string>();
      if (rc.name.empty() || rc.name.back() != '.') rc.name += '.';
      SX_ASSIGN_OR_RETURN(rc.type, RecordType(file, rc.name, n["type"]));
      if (n["resource"]) {
        SX_RETURN_IF_ERROR(Keys(file, n, "record " + rc.name, {"name", "type", "resource"}));
        rc.resource = n["resource"].as<std::string>();
      } else {
        // Inline resource, named after its record.
        rc.resource = absl::StrCat(rc.name, "/", n["type"].as<std::string>());
        SX_ASSIGN_OR_RETURN(ResourceConfig r,
                            ParseResource(file, rc.resource, n, {"name", "type"}, &out->resources));
        out->resources[rc.resource] = std::move(r);
      }
      out->records.push_back(rc);
    }
  }

  // References, cycles and depth.
  for (const auto& [name, r] : out->resources) {
    for (const MemberConfig& m : r.members) {
      if (!m.resource.empty() && !out->resources.count(m.resource)) {
        return absl::InvalidArgumentError(absl::StrCat(file, " line ", m.line, ": resource ", name,
                                                       ": unknown member resource '", m.resource,
                                                       "'"));
      }
      if (!m.target.empty() && !target_names.count(m.target)) {
        return absl::InvalidArgumentError(absl::StrCat(file, " line ", m.line, ": resource ", name,
                                                       ": unknown target '", m.target,
                                                       "' (declare it under targets:)"));
      }
    }
  }
  std::function<absl::Status(const std::string&, std::vector<std::string>&)> walk =
      [&](const std::string& name, std::vector<std::string>& path) -> absl::Status {
    for (const std::string& p : path) {
      if (p == name) {
        path.push_back(name);
        return absl::InvalidArgumentError(absl::StrCat(
            file, ": resource ", path.front(), ": nesting cycle ", absl::StrJoin(path, " -> ")));
      }
    }
    path.push_back(name);
    if (static_cast<int>(path.size()) > kMaxResourceDepth) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": resource ", path.front(),
                                                     ": nesting deeper than ", kMaxResourceDepth,
                                                     " (", absl::StrJoin(path, " -> "), ")"));
    }
    for (const MemberConfig& m : out->resources.at(name).members) {
      if (!m.resource.empty()) SX_RETURN_IF_ERROR(walk(m.resource, path));
    }
    path.pop_back();
    return absl::OkStatus();
  };
  for (const auto& [name, r] : out->resources) {
    std::vector<std::string> path;
    SX_RETURN_IF_ERROR(walk(name, path));
  }
  for (const RecordConfig& rc : out->records) {
    if (!out->resources.count(rc.resource)) {
      return absl::InvalidArgumentError(absl::StrCat(file, " line ", rc.line, ": record ", rc.name,
                                                     ": unknown resource '", rc.resource, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace sextant::control
