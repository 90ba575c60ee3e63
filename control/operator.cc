#include "control/operator.h"

#include <arpa/inet.h>
#include <xxhash.h>

#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/dns_name.h"
#include "dataplane/dns_wire.h"
#include "dataplane/engine.h"
#include "dataplane/policy.h"
#include "maps/control_block.h"
#include "maps/snapshot_reader.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

using maps::kNone;

struct Attached {
  std::unique_ptr<maps::ControlBlockMapping> block;
  std::unique_ptr<maps::SnapshotReader> snap;
};

absl::StatusOr<Attached> Attach(const std::string& instance) {
  Attached a;
  SX_ASSIGN_OR_RETURN(a.block, maps::ControlBlockMapping::Open(instance, false));
  const uint64_t gen = (*a.block)->hdr.active_generation.load(std::memory_order_acquire);
  if (gen == 0) return absl::NotFoundError("nothing published yet");
  SX_ASSIGN_OR_RETURN(a.snap, maps::SnapshotReader::OpenFile(maps::SnapshotPath(instance, gen)));
  return a;
}

std::string Str(const maps::SnapshotReader& s, const maps::StringRef& r) {
  if (r.offset == kNone) return "";
  auto strings = s.bytes(maps::kStrings);
  return std::string(reinterpret_cast<const char*>(strings.data()) + r.offset, r.length);
}

std::string HealthText(uint32_t w) {
  std::string s = (w & maps::kHealthDrained) ? "drained" : (w & maps::kHealthUp) ? "up" : "down";
  if (w & maps::kHealthForced) s += " (forced)";
  return s;
}

std::string RdataText(uint16_t type, const uint8_t* rd) {
  uint16_t len;
  std::memcpy(&len, rd, 2);
  char buf[INET6_ADDRSTRLEN];
  if (type == 1 && len == 4) return inet_ntop(AF_INET, rd + 2, buf, sizeof(buf));
  if (type == 28 && len == 16) return inet_ntop(AF_INET6, rd + 2, buf, sizeof(buf));
  return WireToText(std::string_view(reinterpret_cast<const char*>(rd + 2), len));
}

}  // namespace

absl::StatusOr<std::string> StatsReport(const std::string& instance, bool json) {
  SX_ASSIGN_OR_RETURN(auto block, maps::ControlBlockMapping::Open(instance, false));
  const maps::ControlBlock* b = block->get();
  maps::LcoreCounters total{};
  std::string lines, jl;
  for (uint32_t i = 0; i < maps::kMaxLcores; ++i) {
    const maps::LcoreCounters& c = b->lcores[i];
    if (c.rx_packets == 0 && c.queries == 0 && c.tx_packets == 0) continue;
    total.rx_packets += c.rx_packets;
    total.tx_packets += c.tx_packets;
    total.queries += c.queries;
    total.exception_packets += c.exception_packets;
    total.truncated += c.truncated;
    for (int k = 0; k < 16; ++k) total.rcode[k] += c.rcode[k];
    for (int k = 0; k < maps::kDropReasonCount; ++k) total.dropped[k] += c.dropped[k];
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
  SX_ASSIGN_OR_RETURN(Attached a, Attach(instance));
  std::string out = json ? "[" : "";
  bool first = true;
  for (const maps::Target& t : a.snap->section<maps::Target>(maps::kTargets)) {
    const uint32_t w = (*a.block)->health[t.health].load();
    const std::string name = Str(*a.snap, t.name);
    if (json) {
      absl::StrAppendFormat(&out,
                            "%s{\"target\":\"%s\",\"state\":\"%s\",\"forced\":%s,\"word\":%u}",
                            first ? "" : ",", name,
                            (w & maps::kHealthDrained) ? "drained"
                            : (w & maps::kHealthUp)    ? "up"
                                                       : "down",
                            (w & maps::kHealthForced) ? "true" : "false", t.health);
    } else {
      absl::StrAppendFormat(&out, "%-24s %s\n", name, HealthText(w));
    }
    first = false;
  }
  if (json) out += "]\n";
  return out;
}

absl::Status SetHealth(const std::string& instance, const std::string& target,
                       const std::string& state) {
  SX_ASSIGN_OR_RETURN(Attached a, Attach(instance));
  for (const maps::Target& t : a.snap->section<maps::Target>(maps::kTargets)) {
    if (Str(*a.snap, t.name) != target) continue;
    uint32_t w;
    if (state == "up")
      w = maps::kHealthUp;
    else if (state == "down")
      w = 0;
    else if (state == "drain")
      w = maps::kHealthUp | maps::kHealthDrained;
    else
      return absl::InvalidArgumentError("state must be up, down or drain");
    (*a.block)->health[t.health].store(w | maps::kHealthForced, std::memory_order_relaxed);
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no target named '", target, "' in the active snapshot"));
}

absl::StatusOr<std::string> Explain(const std::string& instance, const std::string& name,
                                    const std::string& type_text, const std::string& client) {
  SX_ASSIGN_OR_RETURN(Attached a, Attach(instance));
  SX_ASSIGN_OR_RETURN(std::string wire, TextToWire(name.back() == '.' ? name : name + "."));
  const std::string t = absl::AsciiStrToUpper(type_text);
  const uint16_t type = t == "A"       ? 1
                        : t == "AAAA"  ? 28
                        : t == "CNAME" ? 5
                        : t == "TXT"   ? 16
                        : t == "MX"    ? 15
                        : t == "NS"    ? 2
                        : t == "SOA"   ? 6
                        : t == "SRV"   ? 33
                                       : 0;
  if (type == 0)
    return absl::InvalidArgumentError(
        absl::StrCat("type ", type_text, " is not one explain knows"));
  dataplane::SnapshotView v = dataplane::SnapshotView::Of(*a.snap);
  v.health = (*a.block)->health;
  std::string out = absl::StrCat("snapshot generation ", a.snap->generation(), "\n");

  // The resource behind NAME/TYPE, if any: find the node like the engine does.
  const uint64_t h = XXH3_64bits(wire.data(), wire.size());
  uint32_t node = kNone;
  if (v.buckets != nullptr) {
    for (uint32_t b = static_cast<uint32_t>(h) & v.bucket_mask;; b = (b + 1) & v.bucket_mask) {
      if (v.buckets[b].node == kNone) break;
      const maps::Node& n = v.nodes[v.buckets[b].node];
      if (n.name_length == wire.size() &&
          std::memcmp(v.names + n.name_offset, wire.data(), wire.size()) == 0) {
        node = v.buckets[b].node;
        break;
      }
    }
  }
  uint32_t resource = kNone;
  if (node != kNone) {
    const maps::Node& n = v.nodes[node];
    for (uint32_t k = n.rrset_first; k < n.rrset_first + n.rrset_count; ++k) {
      if (v.rrsets[k].type == type || v.rrsets[k].type == 5) resource = v.rrsets[k].resource;
    }
  }
  if (resource == kNone) {
    absl::StrAppend(&out, name, " ", t, ": static zone data (no resource)\n");
  } else {
    dataplane::Selection sel;
    dataplane::PolicyTrace trace;
    dataplane::EvaluateResource(v, v.health, resource, &sel, &trace);
    static const char* kKind[] = {"static", "failover", "weighted", "multivalue"};
    static const char* kAllDown[] = {"all", "first", "nodata", "servfail", "fallback"};
    for (int i = 0; i < trace.n; ++i) {
      const auto& e = trace.entries[i];
      const maps::Resource& r = v.resources[e.resource];
      const std::string rname = Str(*a.snap, r.name);
      if (e.event == dataplane::PolicyTrace::kAllDownRule) {
        absl::StrAppend(&out, "  resource ", rname, ": no member up, all_down rule '",
                        kAllDown[r.all_down], "' applies\n");
        continue;
      }
      const maps::Member& m = v.members[r.member_first + e.member];
      std::string what = m.kind == maps::kMemberRdata
                             ? RdataText(r.type, v.rdata + m.ref)
                             : absl::StrCat("resource ", Str(*a.snap, v.resources[m.ref].name));
      static const char* kEv[] = {"up", "down: skipped", "drained: skipped", "picked",
                                  "nested resource has nothing up"};
      absl::StrAppend(&out, "  resource ", rname, " (", kKind[r.kind], ") member ", e.member, " ",
                      what, ": ", kEv[e.event], "\n");
    }
    std::string picked;
    for (uint16_t i = 0; i < sel.n; ++i)
      absl::StrAppend(&picked, i ? ", " : "", RdataText(v.resources[resource].type, sel.rd[i]));
    absl::StrAppend(&out, "  outcome: ",
                    sel.outcome == dataplane::PolicyOutcome::kServFail ? "SERVFAIL"
                    : sel.outcome == dataplane::PolicyOutcome::kNoData ? "NODATA"
                                                                       : "answer",
                    " [", picked, "] ttl ", sel.ttl, sel.any_down ? " (a member is down)" : "",
                    "\n");
  }
  // What the engine answers right now for this query (rotation may differ per query).
  std::vector<uint8_t> q(12, 0);
  q[5] = 1;
  q.insert(q.end(), wire.begin(), wire.end());
  q.push_back(type >> 8);
  q.push_back(type & 0xff);
  q.push_back(0);
  q.push_back(1);
  dataplane::ClientInfo ci;
  if (!client.empty()) {
    if (inet_pton(AF_INET, client.c_str(), ci.addr) == 1) {
      ci.family = 4;
    } else if (inet_pton(AF_INET6, client.c_str(), ci.addr) == 1) {
      ci.family = 6;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--client ", client, " is not an address"));
    }
  }
  std::vector<uint8_t> resp(65535);
  dataplane::Engine engine(v);
  dataplane::AnswerInfo info;
  const size_t len = engine.Answer(q.data(), q.size(), ci, resp.data(), resp.size(), &info);
  absl::StrAppend(&out, "answer: rcode ", info.rcode, ", ",
                  len >= 12 ? dataplane::wire::Get16(resp.data() + 6) : 0, " answer records, ", len,
                  " bytes\n");
  return out;
}

}  // namespace sextant::control
