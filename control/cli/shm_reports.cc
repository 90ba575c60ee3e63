#include "control/cli/shm_reports.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/cli/instance_files.h"
#include "maps/control_block.h"
#include "maps/status_macros.h"

namespace sextant::control {

absl::StatusOr<std::string> StatsReport(const std::string& instance, bool json) {
  SX_ASSIGN_OR_RETURN(auto block, maps::ControlBlockMapping::Open(instance, false));
  const maps::ControlBlock* b = block->get();
  const maps::LcoreCounters total = maps::SumLcores(*b);
  std::string lines, jl;
  for (uint32_t i = 0; i < maps::kMaxLcores; ++i) {
    const maps::LcoreCounters& c = b->lcores[i];
    if (c.rx_packets == 0 && c.queries == 0 && c.tx_packets == 0) continue;
    absl::StrAppendFormat(&lines, "  lcore %-3u rx %-12llu tx %-12llu queries %-12llu gen %llu\n",
                          i, (unsigned long long)c.rx_packets, (unsigned long long)c.tx_packets,
                          (unsigned long long)c.queries, (unsigned long long)c.generation);
    absl::StrAppendFormat(&jl, "%s{\"lcore\":%u,\"rx\":%llu,\"tx\":%llu,\"queries\":%llu}",
                          jl.empty() ? "" : ",", i, (unsigned long long)c.rx_packets,
                          (unsigned long long)c.tx_packets, (unsigned long long)c.queries);
  }
  const uint64_t gen = b->hdr.active_generation.load();
  if (json) {
    return absl::StrFormat(
        "{\"generation\":%llu,\"rx\":%llu,\"tx\":%llu,\"queries\":%llu,\"noerror\":%llu,"
        "\"nxdomain\":%llu,\"refused\":%llu,\"formerr\":%llu,\"servfail\":%llu,\"truncated\":%llu,"
        "\"exception\":%llu,\"dropped_malformed\":%llu,\"dropped_not_ours\":%llu,\"lcores\":[%s]}"
        "\n",
        (unsigned long long)gen, (unsigned long long)total.rx_packets,
        (unsigned long long)total.tx_packets, (unsigned long long)total.queries,
        (unsigned long long)total.rcode[0], (unsigned long long)total.rcode[3],
        (unsigned long long)total.rcode[5], (unsigned long long)total.rcode[1],
        (unsigned long long)total.rcode[2], (unsigned long long)total.truncated,
        (unsigned long long)total.exception_packets,
        (unsigned long long)total.dropped[maps::kDropMalformed],
        (unsigned long long)total.dropped[maps::kDropNotOurs], jl);
  }
  return absl::StrFormat(
      "generation %llu\nrx %llu  tx %llu  queries %llu  (NOERROR %llu, NXDOMAIN %llu, REFUSED "
      "%llu, FORMERR %llu, SERVFAIL %llu)  truncated %llu  exception-path %llu\ndropped: "
      "malformed %llu, not ours %llu, no snapshot %llu, tx full %llu\n%s",
      (unsigned long long)gen, (unsigned long long)total.rx_packets,
      (unsigned long long)total.tx_packets, (unsigned long long)total.queries,
      (unsigned long long)total.rcode[0], (unsigned long long)total.rcode[3],
      (unsigned long long)total.rcode[5], (unsigned long long)total.rcode[1],
      (unsigned long long)total.rcode[2], (unsigned long long)total.truncated,
      (unsigned long long)total.exception_packets,
      (unsigned long long)total.dropped[maps::kDropMalformed],
      (unsigned long long)total.dropped[maps::kDropNotOurs],
      (unsigned long long)total.dropped[maps::kDropNoSnapshot],
      (unsigned long long)total.dropped[maps::kDropTxFull], lines);
}

absl::StatusOr<std::string> HealthReport(const std::string& instance, bool json) {
  SX_ASSIGN_OR_RETURN(InstanceFiles a, OpenInstanceFiles(instance));
  std::string out = json ? "[" : "";
  bool first = true;
  for (const maps::Target& t : a.snapshot->section<maps::Target>(maps::kTargets)) {
    const uint32_t w = (*a.block)->health[t.health].load();
    const std::string name = SnapshotString(*a.snapshot, t.name);
    if (json) {
      absl::StrAppendFormat(&out,
                            "%s{\"target\":\"%s\",\"state\":\"%s\",\"forced\":%s,\"word\":%u}",
                            first ? "" : ",", name,
                            (w & maps::kHealthDrained) ? "drained"
                            : (w & maps::kHealthUp)    ? "up"
                                                       : "down",
                            (w & maps::kHealthForced) ? "true" : "false", t.health);
    } else {
      absl::StrAppendFormat(&out, "%-24s %s\n", name, HealthWordText(w));
    }
    first = false;
  }
  if (json) out += "]\n";
  return out;
}

}  // namespace sextant::control
