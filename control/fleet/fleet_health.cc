#include "control/fleet/fleet_health.h"

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "control/config/enum_names.h"
#include "control/fleet/quorum.h"
#include "control/util/log.h"
#include "maps/control_block.h"

namespace sextant::control::fleet {
namespace {

// Prometheus label values: backslash, quote and newline escaped.
std::string Label(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

const char* UpDown(bool up) { return up ? "up" : "down"; }

}  // namespace

void FleetHealth::SetTargets(const Config& config) {
  node_ = config.fleet.node;
  default_quorum_ = config.fleet.quorum;
  quorum_.clear();
  voting_.clear();
  for (const TargetConfig& t : config.policies.targets) {
    if (t.quorum) quorum_[t.name] = *t.quorum;
    if (t.check && t.check->type != CheckType::kNone) voting_.insert(t.name);
  }
}

std::map<std::string, bool> FleetHealth::VotesOf(const std::string& target,
                                                 const HealthTable& table) const {
  std::map<std::string, bool> votes;
  if (auto it = view_.votes.find(target); it != view_.votes.end()) votes = it->second;
  // This node's own vote as it stands now, not as etcd last saw it.
  auto t = table.targets().find(target);
  if (t != table.targets().end() && voting_.contains(target)) votes[node_] = t->second.up;
  return votes;
}

void FleetHealth::Recompute(const std::string& target, HealthTable* table, int64_t now_ms) {
  auto t = table->targets().find(target);
  if (t == table->targets().end()) return;
  if (!have_view_ || view_.fallback) {
    table->SetFleetVerdict(target, std::nullopt, now_ms);
    return;
  }
  auto q = quorum_.find(target);
  const Quorum quorum = q != quorum_.end() ? q->second : default_quorum_;
  if (quorum == Quorum::kLocal) {
    table->SetFleetVerdict(target, std::nullopt, now_ms);
    return;
  }
  const std::map<std::string, bool> votes = VotesOf(target, *table);
  const bool up = FleetUp(quorum, t->second.up, votes);
  const bool was_up = t->second.fleet_up.value_or(t->second.up);
  table->SetFleetVerdict(target, up, now_ms);
  if (up == was_up) return;
  size_t down = 0;
  for (const auto& [node, v] : votes) down += v ? 0 : 1;
  LogLine(up ? LogLevel::kNotice : LogLevel::kWarning,
          absl::StrCat("fleet: ", target, " ", UpDown(up), " (", down, " of ",
                       Plural(votes.size(), "node"), " see it down; quorum ", NameOf(quorum), ")"));
}

void FleetHealth::Apply(const FleetView& view, HealthTable* table, int64_t now_ms) {
  view_ = view;
  have_view_ = true;
  // Partitioned past the grace period: local verdicts, and no fleet override either (it can no
  // longer be released or seen to expire).
  std::map<std::string, Override> targets, datacenters;
  if (!view.fallback) {
    // A view kept through an outage may hold overrides whose time is up.
    auto live = [now_ms](const auto& o) {
      return o.second.expires_unix_ms == 0 || o.second.expires_unix_ms > now_ms;
    };
    std::copy_if(view.target_overrides.begin(), view.target_overrides.end(),
                 std::inserter(targets, targets.end()), live);
    std::copy_if(view.dc_overrides.begin(), view.dc_overrides.end(),
                 std::inserter(datacenters, datacenters.end()), live);
  }
  table->SetFleetOverrides(std::move(targets), std::move(datacenters), now_ms);
  std::vector<std::string> names;
  for (const auto& [name, t] : table->targets()) names.push_back(name);
  for (const std::string& name : names) Recompute(name, table, now_ms);
}

std::map<std::string, bool> FleetHealth::LocalVotes(const HealthTable& table) const {
  std::map<std::string, bool> votes;
  for (const auto& [name, t] : table.targets()) {
    if (voting_.contains(name)) votes[name] = t.up;
  }
  return votes;
}

nlohmann::json FleetHealth::TargetJson(const std::string& name, const TargetHealth& t,
                                       const HealthTable& table) const {
  auto q = quorum_.find(name);
  const Quorum quorum = q != quorum_.end() ? q->second : default_quorum_;
  const uint32_t w = table.Word(name);
  nlohmann::json votes = nlohmann::json::object();
  for (const auto& [node, up] : VotesOf(name, table)) votes[node] = UpDown(up);
  return {{"target", name},
          {"quorum", NameOf(quorum)},
          {"votes", votes},
          {"local", UpDown(t.up)},
          {"fleet", t.fleet_up ? UpDown(*t.fleet_up) : "-"},
          {"served", (w & maps::kHealthDrained) ? "drained" : UpDown(w & maps::kHealthUp)},
          {"forced", (w & maps::kHealthForced) != 0}};
}

std::string FleetHealth::Report(const HealthTable& table, bool json) const {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& [name, t] : table.targets()) all.push_back(TargetJson(name, t, table));
  if (json) return all.dump() + "\n";
  std::string out = absl::StrFormat("%-20s %-9s %-8s %-8s %-8s %s\n", "TARGET", "QUORUM", "LOCAL",
                                    "FLEET", "SERVED", "VOTES");
  for (const nlohmann::json& j : all) {
    std::vector<std::string> votes;
    for (const auto& [node, v] : j["votes"].items()) {
      votes.push_back(absl::StrCat(node, "=", v.get<std::string>()));
    }
    absl::StrAppendFormat(&out, "%-20s %-9s %-8s %-8s %-8s %s\n", j["target"].get<std::string>(),
                          j["quorum"].get<std::string>(), j["local"].get<std::string>(),
                          j["fleet"].get<std::string>(),
                          absl::StrCat(j["served"].get<std::string>(), j["forced"] ? "*" : ""),
                          votes.empty() ? "-" : absl::StrJoin(votes, " "));
  }
  if (!have_view_ || view_.fallback) {
    absl::StrAppend(&out, "fleet: etcd unreachable past the grace period; local verdicts serve\n");
  }
  return out;
}

std::string FleetHealth::Status(bool json, uint64_t generation) const {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& [node, m] : view_.members) {
    members.push_back({{"node", node},
                       {"site", m.site},
                       {"pid", m.pid},
                       {"generation", m.generation},
                       {"revision", m.revision},
                       {"refused_revision", m.refused_revision},
                       {"refusal", m.refusal},
                       {"started_unix_ms", m.started_unix_ms}});
  }
  const nlohmann::json j = {{"node", node_},
                            {"generation", generation},
                            {"reachable", view_.reachable},
                            {"fallback", !have_view_ || view_.fallback},
                            {"last_ok_unix_ms", view_.last_ok_unix_ms},
                            {"error", view_.error},
                            {"etcd_revision", view_.revision},
                            {"bundle_revision", view_.bundle_revision},
                            {"members", members}};
  if (json) return j.dump() + "\n";
  std::string out = absl::StrFormat(
      "node         %s, generation %d\netcd         %s%s\nbundle       %s\n"
      "members      %d (each holds a live lease)\n",
      node_, generation, view_.reachable ? "reachable" : absl::StrCat("unreachable: ", view_.error),
      (!have_view_ || view_.fallback) ? " (local verdicts: grace period over)" : "",
      view_.bundle_revision ? absl::StrCat("revision ", view_.bundle_revision) : "none published",
      view_.members.size());
  for (const auto& [node, m] : view_.members) {
    absl::StrAppendFormat(&out, "  %-12s site %-10s generation %-5d revision %-6s pid %d%s\n", node,
                          m.site.empty() ? "-" : m.site, m.generation,
                          m.revision ? absl::StrCat(m.revision) : "-", m.pid,
                          m.refusal.empty() ? ""
                                            : absl::StrCat("\n    refused revision ",
                                                           m.refused_revision, ": ", m.refusal));
  }
  return out;
}

std::string FleetHealth::Metrics() const {
  std::string o;
  absl::StrAppend(&o, "# HELP sextant_fleet_members Live fleet members seen in etcd.\n",
                  "# TYPE sextant_fleet_members gauge\nsextant_fleet_members ",
                  view_.members.size(), "\n");
  absl::StrAppend(&o, "# HELP sextant_fleet_etcd_reachable 1 while etcd answers.\n",
                  "# TYPE sextant_fleet_etcd_reachable gauge\nsextant_fleet_etcd_reachable ",
                  view_.reachable ? 1 : 0, "\n");
  absl::StrAppend(&o,
                  "# HELP sextant_fleet_fallback 1 while local verdicts serve (etcd unreachable "
                  "past the grace period).\n# TYPE sextant_fleet_fallback gauge\n"
                  "sextant_fleet_fallback ",
                  (!have_view_ || view_.fallback) ? 1 : 0, "\n");
  absl::StrAppend(&o,
                  "# HELP sextant_fleet_fallbacks_total Times the grace period ran out.\n"
                  "# TYPE sextant_fleet_fallbacks_total counter\nsextant_fleet_fallbacks_total ",
                  view_.fallbacks, "\n");
  absl::StrAppend(&o, "# HELP sextant_fleet_etcd_revision etcd's revision at the last read.\n",
                  "# TYPE sextant_fleet_etcd_revision gauge\nsextant_fleet_etcd_revision ",
                  view_.revision, "\n");
  absl::StrAppend(&o,
                  "# HELP sextant_fleet_bundle_revision The bundle revision this node serves.\n",
                  "# TYPE sextant_fleet_bundle_revision gauge\nsextant_fleet_bundle_revision ",
                  bundle_revision_, "\n");
  absl::StrAppend(&o,
                  "# HELP sextant_fleet_votes Live votes per target and state.\n"
                  "# TYPE sextant_fleet_votes gauge\n");
  for (const auto& [target, votes] : view_.votes) {
    size_t down = 0;
    for (const auto& [node, up] : votes) down += up ? 0 : 1;
    absl::StrAppend(&o, "sextant_fleet_votes{target=\"", Label(target), "\",state=\"up\"} ",
                    votes.size() - down, "\nsextant_fleet_votes{target=\"", Label(target),
                    "\",state=\"down\"} ", down, "\n");
  }
  return o;
}

}  // namespace sextant::control::fleet
