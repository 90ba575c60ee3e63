#include "control/cli/shm_reports.h"

#include <map>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/cli/instance_files.h"
#include "maps/control_block.h"
#include "maps/status_macros.h"

namespace sextant::control {

namespace {

// The summed counters `stats` reports, by the names its JSON uses, in its order.
std::vector<std::pair<const char*, uint64_t>> Totals(const maps::LcoreCounters& t, uint64_t gen) {
  return {{"generation", gen},
          {"rx", t.rx_packets},
          {"tx", t.tx_packets},
          {"queries", t.queries},
          {"noerror", t.rcode[0]},
          {"nxdomain", t.rcode[3]},
          {"refused", t.rcode[5]},
          {"formerr", t.rcode[1]},
          {"servfail", t.rcode[2]},
          {"truncated", t.truncated},
          {"exception", t.exception_packets},
          {"dropped_malformed", t.dropped[maps::kDropMalformed]},
          {"dropped_not_ours", t.dropped[maps::kDropNotOurs]},
          {"dropped_no_snapshot", t.dropped[maps::kDropNoSnapshot]},
          {"dropped_tx_full", t.dropped[maps::kDropTxFull]}};
}

}  // namespace

absl::StatusOr<std::string> StatsReport(const std::string& instance, bool json) {
  SX_ASSIGN_OR_RETURN(auto block, maps::ControlBlockMapping::Open(instance, false));
  const maps::ControlBlock* b = block->get();
  std::string lines;
  nlohmann::json per_lcore = nlohmann::json::array();
  for (uint32_t i = 0; i < maps::kMaxLcores; ++i) {
    const maps::LcoreCounters& c = b->lcores[i];
    if (c.rx_packets == 0 && c.queries == 0 && c.tx_packets == 0) continue;
    const unsigned long long rx = c.rx_packets, tx = c.tx_packets, q = c.queries;
    absl::StrAppendFormat(&lines, "  lcore %-3u rx %-12llu tx %-12llu queries %-12llu gen %llu\n",
                          i, rx, tx, q, static_cast<unsigned long long>(c.generation));
    per_lcore.push_back({{"lcore", i}, {"rx", rx}, {"tx", tx}, {"queries", q}});
  }
  const auto totals = Totals(maps::SumLcores(*b), b->hdr.active_generation.load());
  if (json) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, value] : totals) out[name] = value;
    out["lcores"] = std::move(per_lcore);
    return out.dump() + "\n";
  }
  std::map<std::string, uint64_t> v(totals.begin(), totals.end());
  return absl::StrCat(
      "generation ", v["generation"], "\nrx ", v["rx"], "  tx ", v["tx"], "  queries ",
      v["queries"], "  (NOERROR ", v["noerror"], ", NXDOMAIN ", v["nxdomain"], ", REFUSED ",
      v["refused"], ", FORMERR ", v["formerr"], ", SERVFAIL ", v["servfail"], ")  truncated ",
      v["truncated"], "  exception-path ", v["exception"], "\ndropped: malformed ",
      v["dropped_malformed"], ", not ours ", v["dropped_not_ours"], ", no snapshot ",
      v["dropped_no_snapshot"], ", tx full ", v["dropped_tx_full"], "\n", lines);
}

absl::StatusOr<std::string> HealthReport(const std::string& instance, bool json) {
  SX_ASSIGN_OR_RETURN(InstanceFiles a, OpenInstanceFiles(instance));
  std::string out;
  nlohmann::json all = nlohmann::json::array();
  for (const maps::Target& t : a.snapshot->section<maps::Target>(maps::kTargets)) {
    const uint32_t w = (*a.block)->health[t.health].load();
    const std::string name = SnapshotString(*a.snapshot, t.name);
    if (json) {
      // The fields of the daemon's `health --json` that shared memory holds.
      all.push_back({{"target", name},
                     {"state", (w & maps::kHealthDrained) ? "drained"
                               : (w & maps::kHealthUp)    ? "up"
                                                          : "down"},
                     {"forced", (w & maps::kHealthForced) != 0},
                     {"word", t.health}});
    } else {
      absl::StrAppendFormat(&out, "%-24s %s\n", name, HealthWordText(w));
    }
  }
  return json ? all.dump() + "\n" : out;
}

}  // namespace sextant::control
