#include "control/config/datacenter_labels.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/config/nearest_name.h"
#include "control/config/yaml_reader.h"

namespace sextant::control {
namespace {

std::string Where(const std::string& file, int line, absl::string_view what) {
  return std::string(YamlErrorAtLine(file, line, what).message());
}

// Every target-carrying member under resource `name`, nested resources included (ParsePolicies
// has refused cycles and bounded the depth).
void CollectTargetMembers(const PolicyConfig& p, const std::string& name,
                          std::vector<const MemberConfig*>* out) {
  const auto it = p.resources.find(name);
  if (it == p.resources.end()) return;
  for (const MemberConfig& m : it->second.members) {
    if (!m.target.empty()) out->push_back(&m);
    if (!m.resource.empty()) CollectTargetMembers(p, m.resource, out);
  }
}

// Targets serving one site of a geo/latency resource but labelled another datacenter.
void WarnAboutSiteLabels(const std::string& file, const PolicyConfig& p,
                         std::vector<std::string>* warnings) {
  std::map<std::string, const TargetConfig*> targets;
  for (const TargetConfig& t : p.targets) targets.emplace(t.name, &t);
  std::set<std::tuple<std::string, std::string, std::string>> said;  // resource, site, target
  for (const auto& [name, r] : p.resources) {
    if (r.kind != PolicyKind::kGeo && r.kind != PolicyKind::kLatency) continue;
    for (const MemberConfig& site : r.members) {
      std::vector<const MemberConfig*> members;
      CollectTargetMembers(p, site.resource, &members);
      for (const MemberConfig* m : members) {
        const auto t = targets.find(m->target);
        if (t == targets.end() || t->second->datacenter.empty() ||
            t->second->datacenter == site.datacenter ||
            !said.emplace(name, site.datacenter, m->target).second) {
          continue;
        }
        const std::string& label = t->second->datacenter;
        warnings->push_back(Where(
            file, m->line,
            absl::StrCat(m->path, ".target: target ", m->target, " serves the ", site.datacenter,
                         " site of ", r.path, " but is labelled datacenter ", label, " (line ",
                         t->second->datacenter_line, "): `sextantctl force ", site.datacenter,
                         " --datacenter` would not move it, `force ", label,
                         " --datacenter` would")));
      }
    }
  }
}

}  // namespace

absl::Status CheckTargetDatacenters(const std::string& file, bool has_datacenters_section,
                                    const std::vector<Datacenter>& datacenters,
                                    const PolicyConfig& policies,
                                    std::vector<std::string>* warnings) {
  std::vector<std::string> known;
  known.reserve(datacenters.size());
  for (const Datacenter& dc : datacenters) known.push_back(dc.name);
  std::vector<std::string> labels;  // distinct, in order of first use
  int first_line = 0;
  for (const TargetConfig& t : policies.targets) {
    if (t.datacenter.empty()) continue;
    if (has_datacenters_section &&
        std::find(known.begin(), known.end(), t.datacenter) == known.end()) {
      return YamlErrorAtLine(
          file, t.datacenter_line,
          absl::StrCat("targets.", t.name, ".datacenter: unknown datacenter '", t.datacenter, "'",
                       KnownNamesHint(t.datacenter, known),
                       "; `sextantctl force NAME --datacenter` selects targets by this name"));
    }
    if (std::find(labels.begin(), labels.end(), t.datacenter) == labels.end()) {
      labels.push_back(t.datacenter);
    }
    if (first_line == 0) first_line = t.datacenter_line;
  }
  if (!has_datacenters_section && !labels.empty()) {
    warnings->push_back(Where(
        file, first_line,
        absl::StrCat("targets name datacenters (", absl::StrJoin(labels, ", "),
                     ") but there is no datacenters: section to check them against: a misspelt "
                     "name goes unnoticed, and `sextantctl force NAME --datacenter` then misses "
                     "that target; declare them under datacenters: (with their coordinates)")));
  }
  WarnAboutSiteLabels(file, policies, warnings);
  return absl::OkStatus();
}

}  // namespace sextant::control
