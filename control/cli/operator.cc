#include "control/cli/operator.h"

#include <arpa/inet.h>
#include <maxminddb.h>

#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "control/geo/geo_config.h"
#include "control/zones/dns_name.h"
#include "dataplane/engine/engine.h"
#include "dataplane/engine/geo.h"
#include "dataplane/engine/policy.h"
#include "maps/control_block.h"
#include "maps/dns/wire.h"
#include "maps/name_table.h"
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

// For each geo/latency resource under `top` (depth-first): the client's location record as the
// map's database has it (read now with libmaxminddb), the matched map prefix, the datacenter
// preference list and which of those sites the resource serves.
void ExplainGeo(const maps::SnapshotReader& snap, const dataplane::SnapshotView& v, uint32_t top,
                const dataplane::GeoClient& geo, const std::string& client, std::string* out) {
  std::vector<uint32_t> stack = {top};
  while (!stack.empty()) {
    const uint32_t ri = stack.back();
    stack.pop_back();
    const maps::Resource& r = v.resources[ri];
    for (uint16_t k = 0; k < r.member_count; ++k) {
      const maps::Member& m = v.members[r.member_first + k];
      if (m.kind == maps::kMemberResource) stack.push_back(m.ref);
    }
    if (r.kind != maps::kPolicyGeo && r.kind != maps::kPolicyLatency) continue;
    const maps::GeoMap& g = v.geo_maps[r.count];
    std::vector<std::string> dcs = absl::StrSplit(Str(snap, g.dc_names), ',');
    const std::string db = Str(snap, g.database);
    absl::StrAppend(
        out, "  resource ", Str(snap, r.name), ": geo map ", Str(snap, g.name),
        r.order == maps::kGeoEcsIgnore ? " (ecs: ignore, steered by packet source)" : "", "\n");
    if (!client.empty() && !db.empty()) {
      MMDB_s mmdb;
      if (MMDB_open(db.c_str(), MMDB_MODE_MMAP, &mmdb) != MMDB_SUCCESS) {
        absl::StrAppend(out, "    database ", db, ": cannot open\n");
      } else {
        const std::string addr = client.substr(0, client.find('/'));
        int gai = 0, err = 0;
        MMDB_lookup_result_s res = MMDB_lookup_string(&mmdb, addr.c_str(), &gai, &err);
        std::string rec;
        if (gai == 0 && err == MMDB_SUCCESS && res.found_entry) {
          auto get = [&](std::initializer_list<const char*> path) -> std::string {
            MMDB_entry_data_s d;
            std::vector<const char*> p(path);
            p.push_back(nullptr);
            if (MMDB_aget_value(&res.entry, &d, p.data()) != MMDB_SUCCESS || !d.has_data) return "";
            if (d.type == MMDB_DATA_TYPE_UTF8_STRING)
              return std::string(d.utf8_string, d.data_size);
            if (d.type == MMDB_DATA_TYPE_DOUBLE) return absl::StrCat(d.double_value);
            return "";
          };
          rec = absl::StrCat(
              "city '", get({"city", "names", "en"}), "', subdivision '",
              get({"subdivisions", "0", "iso_code"}), "', country ", get({"country", "iso_code"}),
              ", continent ", get({"continent", "code"}), ", coordinates ",
              get({"location", "latitude"}), ",", get({"location", "longitude"}),
              " (database network /",
              // IPv4 in an IPv6 tree: libmaxminddb counts from ::/96
              geo.ecs_family == maps::kFamilyIpv4 && res.netmask >= 96 ? res.netmask - 96
                                                                       : res.netmask,
              ")");
        } else {
          rec = "no record";
        }
        absl::StrAppend(out, "    client ", client, " in ", db, ": ", rec, "\n");
        MMDB_close(&mmdb);
      }
    }
    const dataplane::GeoChoice c = dataplane::GeoLookup(v, r, geo);
    std::string list;
    for (uint8_t i = 0; i < c.list->count; ++i) {
      const uint8_t dc = c.list->dcs[i];
      const bool served =
          dataplane::GeoMemberOf(v.members + r.member_first, r, dc) < r.member_count;
      absl::StrAppend(&list, i ? ", " : "", dc < dcs.size() ? dcs[dc] : "?",
                      served ? "" : " (not served)");
    }
    std::string matched = "none: no client given, the packet source (unknown) is used";
    if (geo.ecs_family != 0 && r.order == maps::kGeoEcsUse) {
      control::IpPrefix p;  // the client's address cut to the matched map network
      p.family = geo.ecs_family;
      p.length = c.scope;
      for (int bit = 0; bit < c.scope && bit < 128; ++bit) {
        p.addr[bit / 8] |= geo.ecs[bit / 8] & (0x80 >> (bit % 8));
      }
      matched = control::FormatIpPrefix(p);
    }
    absl::StrAppend(out, "    matched map network ", matched, " (ECS scope ",
                    r.order == maps::kGeoEcsUse ? c.scope : 0, "); preference list: ", list, "\n");
  }
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
  v.SetHealth((*a.block)->health);
  std::string out = absl::StrCat("snapshot generation ", a.snap->generation(), "\n");

  // The resource behind NAME/TYPE, if any.
  const uint32_t node =
      v.buckets == nullptr
          ? kNone
          : maps::NameTableFind(v.buckets, v.bucket_mask, v.nodes, v.names,
                                reinterpret_cast<const uint8_t*>(wire.data()), wire.size());
  uint32_t resource = kNone;
  if (node != kNone) {
    const maps::Node& n = v.nodes[node];
    for (uint32_t k = n.rrset_first; k < n.rrset_first + n.rrset_count; ++k) {
      if (v.rrsets[k].type == type || v.rrsets[k].type == 5) resource = v.rrsets[k].resource;
    }
  }
  // --client: an address or a prefix, used as the query's ECS option (a bare address is a
  // full-length source prefix), so geo resources steer by it as they would for a resolver.
  dataplane::GeoClient geo;
  control::IpPrefix client_prefix;
  if (!client.empty()) {
    SX_ASSIGN_OR_RETURN(client_prefix, control::ParseIpPrefix(client));
    geo.ecs_family = static_cast<uint8_t>(client_prefix.family);
    geo.ecs_source = static_cast<uint8_t>(client_prefix.length);
    geo.ecs = client_prefix.addr;
    if (client_prefix.length == 0) geo.ecs_family = 0;
  }
  if (resource == kNone) {
    absl::StrAppend(&out, name, " ", t, ": static zone data (no resource)\n");
  } else {
    dataplane::Selection sel;
    dataplane::PolicyTrace trace;
    sel.client = &geo;
    dataplane::EvaluateResource(v, v.health, resource, &sel, &trace);
    ExplainGeo(*a.snap, v, resource, geo, client, &out);
    static const char* kKind[] = {"static", "failover", "weighted", "multivalue", "geo", "latency"};
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
      if (r.kind == maps::kPolicyGeo || r.kind == maps::kPolicyLatency) {
        const std::vector<std::string> dcs =
            absl::StrSplit(Str(*a.snap, v.geo_maps[r.count].dc_names), ',');
        if (m.weight < dcs.size()) absl::StrAppend(&what, " (datacenter ", dcs[m.weight], ")");
      }
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
                    ", ECS scope ", sel.scope, "\n");
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
    // The client as an ECS option (RFC 7871 section 6: the address truncated to whole bytes).
    const int alen = (client_prefix.length + 7) / 8;
    const uint8_t fam = static_cast<uint8_t>(client_prefix.family);
    const uint8_t src = static_cast<uint8_t>(client_prefix.length);
    // OPT: root owner, type 41, UDP size 1232, no flags, RDLEN; then option 8 (ECS).
    const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, static_cast<uint8_t>(8 + alen)};
    const uint8_t ecs[] = {0, 8, 0, static_cast<uint8_t>(4 + alen), 0, fam, src, 0};
    q.insert(q.end(), opt, opt + sizeof(opt));
    q.insert(q.end(), ecs, ecs + sizeof(ecs));
    q.insert(q.end(), client_prefix.addr, client_prefix.addr + alen);
    q[11] = 1;  // ARCOUNT
  }
  std::vector<uint8_t> resp(65535);
  dataplane::Engine engine(v);
  dataplane::AnswerInfo info;
  const size_t len = engine.Answer(q.data(), q.size(), ci, resp.data(), resp.size(), &info);
  absl::StrAppend(&out, "answer: rcode ", info.rcode, ", ",
                  len >= 12 ? maps::dns::Get16(resp.data() + 6) : 0, " answer records, ", len,
                  " bytes");
  if (!client.empty() && len >= 8) {
    // The ECS option is the last thing in the response: its scope byte is 1 + alen from the end.
    const int alen = (client_prefix.length + 7) / 8;
    absl::StrAppend(&out, ", ECS scope /", resp[len - 1 - alen]);
  }
  out += "\n";
  return out;
}

}  // namespace sextant::control
